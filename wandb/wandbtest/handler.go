package wandbtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// maxBodyBytes bounds a request body; W&B's documents are a few KiB.
const maxBodyBytes = 4 << 20

// maxCachedOpNames bounds the cache of operation names by document.
const maxCachedOpNames = 256

// Handler is a W&B-compatible GraphQL server as an http.Handler: it serves
// POST /graphql and answers 404 elsewhere. Create it with NewHandler; use
// NewServer for one already listening on loopback. Its methods are safe for
// concurrent use, also while it serves requests.
type Handler struct {
	store     *store
	gql       *handler.Server
	stateFile string
	adminKey  string // set by NewHandler, never changed

	latency     atomic.Int64 // time.Duration
	inFlight    atomic.Int64
	maxInFlight atomic.Int64

	saveMu   sync.Mutex // serializes state-file writes
	savedGen uint64     // guarded by saveMu

	mu       sync.Mutex // guards the fields below
	faults   map[string][]Fault
	counts   map[string]int
	total    int
	last     map[string]Request
	opNames  map[string]string // operation name by query text
	lastAny  Request
	received bool
}

// Request is what the handler recorded of a request, for assertions.
type Request struct {
	Op        string         // operation name read from the query text ("" if none)
	Header    http.Header    // request headers; Authorization's credentials are redacted
	Variables map[string]any // the decoded "variables" object (nil if absent); do not modify
	Query     string         // the GraphQL document as sent
	Method    string         // HTTP method
	Path      string         // URL path
	Caller    string         // email of the user the credentials named, "" if none
}

// NewHandler returns a handler holding the built-in admin (AdminEmail, with a
// freshly minted key, see AdminKey) and whatever the options add. It fails
// only when a seed is invalid or a state file cannot be read or written.
func NewHandler(opts ...Option) (*Handler, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	h := &Handler{
		store:     newStore(),
		stateFile: o.stateFile,
		faults:    map[string][]Fault{},
		counts:    map[string]int{},
		last:      map[string]Request{},
		opNames:   map[string]string{},
	}
	h.latency.Store(int64(o.latency))
	loaded := false
	if o.stateFile != "" {
		var err error
		if loaded, err = h.loadState(o.stateFile); err != nil {
			return nil, err
		}
	}
	if err := h.ensureAdmin(); err != nil {
		return nil, err
	}
	if !loaded {
		for _, s := range o.seeds {
			for _, u := range s.Users {
				if _, err := h.addUser(u); err != nil {
					return nil, fmt.Errorf("wandbtest: seed: %w", err)
				}
			}
		}
	}
	h.gql = newGraphQL(h)
	if err := h.persist(); err != nil {
		return nil, err
	}
	return h, nil
}

// ensureAdmin adds the admin when missing and mints its key when it has none
// (a fresh start, or a state file whose admin lost every key).
func (h *Handler) ensureAdmin() error {
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	admin := s.byEmail[AdminEmail]
	if admin == nil {
		var err error
		if admin, err = s.addUser(AdminEmail, AdminUsername, AdminUsername, true); err != nil {
			return fmt.Errorf("wandbtest: add admin: %w", err)
		}
	}
	if len(admin.keys) == 0 {
		desc := "wandbtest admin"
		_, h.adminKey = s.addKey(admin, &desc)
	}
	return nil
}

// AdminKey returns the secret of the admin key that NewHandler minted: on a
// fresh start, and when the state file it restored left the admin without a
// key. It is "" when the handler restored a state file in which the admin
// still has a key: the file holds only the key's hash, so that secret exists
// only where it was shown when it was minted (the admin's old key keeps
// working). Call AddAPIKey(AdminEmail, ...) to mint another.
func (h *Handler) AdminKey() string { return h.adminKey }

// SetLatency changes the latency added to every request (see WithLatency).
func (h *Handler) SetLatency(d time.Duration) { h.latency.Store(int64(d)) }

// AddUser adds a user, mints its Keys and joins it to its Teams (creating
// them). It fails when the email is not local@domain or when the email or the
// username is taken (case-insensitively).
func (h *Handler) AddUser(u SeedUser) (UserInfo, error) {
	info, err := h.addUser(u)
	if err != nil {
		return UserInfo{}, fmt.Errorf("wandbtest: add user: %w", err)
	}
	return info, h.persist()
}

func (h *Handler) addUser(su SeedUser) (UserInfo, error) {
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range su.Teams {
		if strings.TrimSpace(t) == "" {
			return UserInfo{}, fmt.Errorf("user %s: empty team name", su.Email)
		}
	}
	u, err := s.addUser(su.Email, su.Username, su.Name, su.Admin)
	if err != nil {
		return UserInfo{}, err
	}
	for _, k := range su.Keys {
		desc := k.Description
		s.addKey(u, &desc)
	}
	for _, t := range su.Teams {
		if err := s.joinTeam(t, u); err != nil {
			return UserInfo{}, err
		}
	}
	return u.info(), nil
}

// AddAPIKey mints a key for the user with the given email (case-insensitive)
// and returns its secret, which the handler does not keep.
func (h *Handler) AddAPIKey(email, description string) (secret string, err error) {
	s := h.store
	s.mu.Lock()
	u, err := s.userByEmail(email)
	if err == nil {
		_, secret = s.addKey(u, &description)
	}
	s.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("wandbtest: add api key: %w", err)
	}
	return secret, h.persist()
}

// AddTeam creates the team if it does not exist and adds the users with the
// given emails to it. Nothing changes when one of the emails names no user.
func (h *Handler) AddTeam(team string, memberEmails ...string) error {
	s := h.store
	s.mu.Lock()
	err := func() error {
		members := make([]*user, 0, len(memberEmails))
		for _, e := range memberEmails {
			u, err := s.userByEmail(e)
			if err != nil {
				return err
			}
			members = append(members, u)
		}
		if err := s.joinTeam(team, nil); err != nil {
			return err
		}
		for _, u := range members {
			_ = s.joinTeam(team, u) // the name was checked above
		}
		return nil
	}()
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("wandbtest: add team %q: %w", team, err)
	}
	return h.persist()
}

// UserByEmail returns a snapshot of the user with that email
// (case-insensitive), or false.
func (h *Handler) UserByEmail(email string) (UserInfo, bool) {
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userByEmail(email)
	if err != nil {
		return UserInfo{}, false
	}
	return u.info(), true
}

// Users returns a snapshot of every user, in creation order.
func (h *Handler) Users() []UserInfo {
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]UserInfo, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u.info())
	}
	return out
}

// Requests returns how many requests the handler received for operation op,
// faulted ones included; op "" counts every request, whatever its path.
func (h *Handler) Requests(op string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if op == "" {
		return h.total
	}
	return h.counts[op]
}

// LastRequest returns the most recent request for operation op ("" = any
// request), or false if there was none.
func (h *Handler) LastRequest(op string) (Request, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if op == "" {
		return h.lastAny, h.received
	}
	r, ok := h.last[op]
	return r, ok
}

// InFlight returns how many requests the handler is serving now, counting
// from the moment ServeHTTP is entered (latency and fault delays included).
func (h *Handler) InFlight() int { return int(h.inFlight.Load()) }

// MaxInFlight returns the highest InFlight seen since the handler was created
// or ResetMaxInFlight was last called.
func (h *Handler) MaxInFlight() int { return int(h.maxInFlight.Load()) }

// ResetMaxInFlight sets MaxInFlight to the current InFlight.
func (h *Handler) ResetMaxInFlight() { h.maxInFlight.Store(h.inFlight.Load()) }

func (h *Handler) enter() {
	n := h.inFlight.Add(1)
	for {
		m := h.maxInFlight.Load()
		if n <= m || h.maxInFlight.CompareAndSwap(m, n) {
			return
		}
	}
}

// ServeHTTP serves POST /graphql. In order, it: reads the request (path,
// method, body, operation name) and records it; waits the latency; answers
// 404 for another path, 405 for another method, 400 for a body that is not
// a JSON GraphQL request; applies a queued fault for the operation;
// authenticates (401); runs the operation.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.enter()
	defer h.inFlight.Add(-1)
	rec, body, caller, reject := h.read(w, r)
	h.record(rec)
	if !sleep(r.Context(), time.Duration(h.latency.Load())) {
		return
	}
	if reject != nil {
		reject()
		return
	}

	fault, faulted := h.takeFault(rec.Op)
	if faulted {
		if !sleep(r.Context(), fault.Delay) {
			return
		}
		if !fault.AfterApply && !fault.delayOnly() {
			fault.write(w)
			return
		}
	}
	if caller == nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="wandb"`)
		writeJSON(w, http.StatusUnauthorized, gqlErrors(
			`unauthorized: send HTTP Basic auth with user "api" and a valid API key as the password`))
		return
	}

	st := &reqState{caller: caller, publicClient: strings.HasPrefix(r.UserAgent(), "W&B Public Client")}
	buf := &bufferedResponse{header: http.Header{}}
	r2 := r.WithContext(context.WithValue(r.Context(), reqStateKey{}, st))
	r2.Body = io.NopCloser(bytes.NewReader(body))
	h.gql.ServeHTTP(buf, r2)

	if faulted && fault.AfterApply && !fault.delayOnly() {
		fault.write(w)
		return
	}
	st.mu.Lock()
	status, plain := st.status, st.plainError
	st.mu.Unlock()
	if plain != "" {
		writeJSON(w, status, map[string]string{"error": plain})
		return
	}
	if status != 0 && buf.status() == http.StatusOK {
		buf.code = status
	}
	buf.copyTo(w)
}

// read reads what ServeHTTP records of r, its body and the user its
// credentials name (nil if none). A non-nil reject writes the answer to a
// request that cannot be served.
func (h *Handler) read(w http.ResponseWriter, r *http.Request) (rec Request, body []byte, caller *user, reject func()) {
	rec = Request{Method: r.Method, Path: r.URL.Path, Header: redact(r.Header)}
	if r.URL.Path != "/graphql" {
		return rec, nil, nil, func() {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found: " + r.URL.Path})
		}
	}
	if r.Method != http.MethodPost {
		return rec, nil, nil, func() {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, gqlErrors("method not allowed: use POST"))
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return rec, nil, nil, func() {
			writeJSON(w, http.StatusBadRequest, gqlErrors("could not read request body: "+err.Error()))
		}
	}
	var params struct {
		Query         string         `json:"query"`
		OperationName string         `json:"operationName"`
		Variables     map[string]any `json:"variables"`
	}
	if err := json.Unmarshal(body, &params); err != nil {
		return rec, nil, nil, func() {
			writeJSON(w, http.StatusBadRequest, gqlErrors("request body is not a JSON GraphQL request: "+err.Error()))
		}
	}
	rec.Op = h.operationName(params.Query, params.OperationName)
	rec.Query = params.Query
	rec.Variables = params.Variables
	if caller = h.authenticate(r); caller != nil {
		rec.Caller = caller.email // immutable once stored
	}
	return rec, body, caller, nil
}

// authenticate returns the user whose key the request's Basic auth carries,
// or nil.
func (h *Handler) authenticate(r *http.Request) *user {
	name, secret, ok := r.BasicAuth()
	if !ok || name != "api" || secret == "" {
		return nil
	}
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	return h.store.userBySecret(secret)
}

func (h *Handler) record(r Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.total++
	h.lastAny, h.received = r, true
	if r.Op != "" {
		h.counts[r.Op]++
		h.last[r.Op] = r
	}
}

// operationName returns the name of the operation the document runs: the
// given name if any, else the first operation's name in the query text.
// Names are cached by document, as clients send the same few documents.
func (h *Handler) operationName(query, given string) string {
	if given != "" {
		return given
	}
	h.mu.Lock()
	name, ok := h.opNames[query]
	h.mu.Unlock()
	if ok {
		return name
	}
	if doc, err := parser.ParseQuery(&ast.Source{Input: query}); err == nil && len(doc.Operations) > 0 {
		name = doc.Operations[0].Name
	}
	h.mu.Lock()
	if len(h.opNames) >= maxCachedOpNames {
		clear(h.opNames)
	}
	h.opNames[query] = name
	h.mu.Unlock()
	return name
}

// redact copies header, keeping only the scheme of Authorization.
func redact(header http.Header) http.Header {
	out := header.Clone()
	if out == nil {
		out = http.Header{}
	}
	if vs := out.Values("Authorization"); len(vs) > 0 {
		for i, v := range vs {
			scheme, _, _ := strings.Cut(v, " ")
			vs[i] = scheme + " [redacted]"
		}
	}
	return out
}

// sleep waits d, or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func gqlErrors(msg string) map[string]any {
	return map[string]any{"errors": []map[string]string{{"message": msg}}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only maps of strings are written here; this cannot happen.
		panic(fmt.Sprintf("wandbtest: encode response: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// bufferedResponse holds gqlgen's answer so that the handler can change its
// status (403, 409) or replace it by a fault after the operation ran.
type bufferedResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.code == 0 {
		b.code = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedResponse) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}

func (b *bufferedResponse) status() int {
	if b.code == 0 {
		return http.StatusOK
	}
	return b.code
}

func (b *bufferedResponse) copyTo(w http.ResponseWriter) {
	for k, vs := range b.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(b.status())
	_, _ = w.Write(b.body.Bytes())
}

// reqState carries the caller to the resolvers and the HTTP status they ask
// for back to ServeHTTP.
type reqState struct {
	caller       *user
	publicClient bool // the User-Agent starts with "W&B Public Client"

	mu         sync.Mutex
	status     int    // 0, or the status the answer must have
	plainError string // non-empty: answer {"error": plainError} instead of GraphQL
}

type reqStateKey struct{}

func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(reqStateKey{}).(*reqState)
	if st == nil {
		// ServeHTTP always sets it; a resolver run otherwise is a bug here.
		panic(errors.New("wandbtest: resolver called without request state"))
	}
	return st
}

// fail makes the answer's status code status (the first call wins).
func (st *reqState) fail(status int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.status == 0 {
		st.status = status
	}
}

// failPlain replaces the GraphQL answer with {"error": msg} and status.
func (st *reqState) failPlain(status int, msg string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.status, st.plainError = status, msg
}
