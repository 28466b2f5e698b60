package wandbtest

import (
	"bytes"
	"cmp"
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
	store       *store
	gql         *handler.Server
	stateFile   string
	adminKey    string // set by NewHandler, never changed
	multiTenant bool   // WithMultiTenant
	assumed     assumptions
	oidc        *OIDC // WithOIDC; nil serves no token exchange
	tokens      accessTokens
	pickFault   func(op string) (Fault, bool) // WithFaults; nil picks none

	latency     atomic.Int64 // time.Duration
	inFlight    atomic.Int64
	maxInFlight atomic.Int64
	stalled     atomic.Int64 // requests a Stall fault holds now

	// The state file's writer (journal.go); guarded by saveMu, which
	// serializes state-file writes.
	saveMu        sync.Mutex
	savedGen      uint64 // the store's gen when it was last saved
	fullNext      bool   // the next save writes a snapshot, not a journal line
	snapshotBytes int64  // the size of the file's snapshot
	journalBytes  int64  // the size of the journal after it

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
	Body      string         // a SCIM request's body ("" for GraphQL: see Query and Variables)
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
		store:       newStore(),
		stateFile:   o.stateFile,
		pickFault:   o.pickFault,
		multiTenant: o.multiTenant,
		assumed:     o.assumed,
		oidc:        o.oidc,
		tokens:      accessTokens{byHash: map[string]accessToken{}},
		faults:      map[string][]Fault{},
		counts:      map[string]int{},
		last:        map[string]Request{},
		opNames:     map[string]string{},
	}
	h.latency.Store(int64(o.latency))
	h.store.memberIDs, h.store.noEmptyList = o.assumed.memberIDs, o.assumed.noEmptyList
	h.assumed.deniedStatus = cmp.Or(h.assumed.deniedStatus, http.StatusForbidden)
	if s := h.assumed.deniedStatus; s < 200 || s > 599 {
		return nil, fmt.Errorf("wandbtest: WithPermissionErrorStatus(%d): not an HTTP status from 200 to 599", s)
	}
	if o.oidc != nil {
		if err := checkOIDCKey(o.oidc); err != nil {
			return nil, err
		}
	}
	loaded := false
	h.fullNext = true // until a state file says otherwise
	if o.stateFile != "" {
		var err error
		if loaded, err = h.loadState(o.stateFile); err != nil {
			return nil, err
		}
	}
	if err := h.ensureAdmin(); err != nil {
		return nil, err
	}
	var kept *stateNames // a restored state: the seeds are merged into it
	if loaded {
		h.store.mu.Lock()
		kept = h.store.names()
		h.store.mu.Unlock()
	}
	for _, load := range o.seeds {
		s, err := load()
		if err != nil {
			return nil, err
		}
		if err := h.applySeed(s, kept); err != nil {
			return nil, fmt.Errorf("wandbtest: seed: %w", err)
		}
	}
	h.gql = newGraphQL(h)
	first := saveChanges
	if h.fullNext { // a new file, or one with a journal to compact
		first = saveSnapshot
	}
	if err := h.save(first); err != nil {
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
		if admin, err = s.insertUser(AdminEmail, AdminUsername, AdminUsername, true); err != nil {
			return fmt.Errorf("wandbtest: add admin: %w", err)
		}
	}
	if len(admin.keys) == 0 {
		desc := "wandbtest admin"
		_, h.adminKey = s.addKey(admin, &desc)
	}
	return nil
}

// faultBefore takes the fault queued for op, if any, and plays what comes
// before the operation: the fault's delay, then the fault itself unless it
// comes after applying the operation. answered reports that the request
// needs nothing more (the fault answered it, or the client gave up during
// the delay); after is the fault to answer with once the operation has
// run, or nil.
func (h *Handler) faultBefore(w http.ResponseWriter, r *http.Request, op string) (after *Fault, answered bool) {
	fault, faulted := h.takeFault(op)
	if !faulted {
		return nil, false
	}
	if !sleep(r.Context(), fault.Delay) {
		return nil, true
	}
	if fault.delayOnly() {
		return nil, false
	}
	if fault.AfterApply {
		return &fault, false
	}
	h.writeFault(w, r, fault)
	return nil, true
}

// writeFault answers r with the fault, counting the time a Stall fault
// holds it in Stalled.
func (h *Handler) writeFault(w http.ResponseWriter, r *http.Request, f Fault) {
	if f.Stall {
		h.stalled.Add(1)
		defer h.stalled.Add(-1)
	}
	f.write(w, r)
}

func (h *Handler) enter() {
	n := h.inFlight.Add(1)
	for {
		m := h.maxInFlight.Load()
		if n <= m || h.maxInFlight.CompareAndSwap(m, n) {
			return
		}
	}
}

// ServeHTTP serves POST /graphql and the SCIM API under /scim/ (see
// serveSCIMRequest). For GraphQL, in order, it: reads the request (path,
// method, body, operation name) and records it; waits the latency; answers
// 404 for another path, 405 for another method, 400 for a body that is not
// a JSON GraphQL request; applies a queued fault for the operation;
// authenticates (401); runs the operation.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.enter()
	defer h.inFlight.Add(-1)
	if r.URL.Path == "/oidc/token" {
		h.serveOIDCToken(w, r)
		return
	}
	if op, resource, id := scimOp(r.Method, r.URL.Path); op != "" {
		h.serveSCIMRequest(w, r, op, resource, id)
		return
	}
	rec, body, caller, reject := h.read(w, r)
	h.record(rec)
	if !sleep(r.Context(), time.Duration(h.latency.Load())) {
		return
	}
	if reject != nil {
		reject()
		return
	}

	after, answered := h.faultBefore(w, r, rec.Op)
	if answered {
		return
	}
	if caller == nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="wandb"`)
		writeJSON(w, http.StatusUnauthorized, gqlErrors(
			`unauthorized: send HTTP Basic auth with user "api" and a valid API key as the password, or Bearer with a valid access token`))
		return
	}

	ex := &exchange{caller: caller, publicClient: strings.HasPrefix(r.UserAgent(), "W&B Public Client"), deniedStatus: h.assumed.deniedStatus}
	buf := &bufferedResponse{header: http.Header{}}
	r2 := r.WithContext(context.WithValue(r.Context(), exchangeKey{}, ex))
	r2.Body = io.NopCloser(bytes.NewReader(body))
	if !h.searchUsersAnswer(buf, rec, ex) {
		h.gql.ServeHTTP(buf, r2)
	}
	// A mutation saved its change; a read may have begun the caller's
	// active day (see store.seen).
	if err := h.persist(); err != nil {
		writeJSON(w, http.StatusInternalServerError, gqlErrors(err.Error()))
		return
	}

	if after != nil {
		h.writeFault(w, r, *after)
		return
	}
	ex.mu.Lock()
	status, plain := ex.status, ex.plainError
	ex.mu.Unlock()
	if plain != "" {
		writeJSON(w, status, map[string]string{"error": plain})
		return
	}
	if status != 0 && buf.status() == http.StatusOK {
		buf.code = status
	}
	buf.copyTo(w)
}

// serveSCIMRequest serves a SCIM request as ServeHTTP serves GraphQL:
// record, latency, fault, then authentication (401 unless Basic with the
// caller's username and key, or Bearer with the key; 403 unless an
// instance admin) and the operation.
func (h *Handler) serveSCIMRequest(w http.ResponseWriter, r *http.Request, op, resource, id string) {
	body, berr := readSCIMBody(w, r)
	caller := h.scimCaller(r)
	rec := Request{Op: op, Method: r.Method, Path: r.URL.Path, Header: redact(r.Header), Body: string(body)}
	if caller != nil {
		rec.Caller = caller.email
	}
	h.record(rec)
	if !sleep(r.Context(), time.Duration(h.latency.Load())) {
		return
	}
	if berr != nil {
		h.writeSCIMError(w, berr)
		return
	}
	after, answered := h.faultBefore(w, r, op)
	if answered {
		return
	}
	switch {
	case caller == nil:
		w.Header().Set("WWW-Authenticate", `Basic realm="wandb"`)
		h.writeSCIMError(w, scimErr(http.StatusUnauthorized, "unauthorized: send Basic auth with your username and API key, or Bearer with the key or an access token"))
		return
	case !caller.admin:
		h.writeSCIMError(w, scimErr(http.StatusForbidden, "permission denied: the SCIM API needs an instance admin"))
		return
	}
	buf := &bufferedResponse{header: http.Header{}}
	h.serveSCIM(buf, r, body, resource, id)
	if after != nil {
		h.writeFault(w, r, *after)
		return
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

// authenticate returns the user whose key the request's Basic auth
// carries, or whose access token its Bearer auth carries (see WithOIDC),
// or nil.
func (h *Handler) authenticate(r *http.Request) *user {
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && token != "" {
		h.store.mu.Lock()
		defer h.store.mu.Unlock()
		return h.userByAccessToken(token)
	}
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
	return byDocument(h, h.opNames, query, func(query string) string {
		if doc, err := parser.ParseQuery(&ast.Source{Input: query}); err == nil && len(doc.Operations) > 0 {
			return doc.Operations[0].Name
		}
		return ""
	})
}

// byDocument returns what f says of the GraphQL document query, cached in
// m (guarded by h.mu, cleared when it holds maxCachedOpNames documents).
func byDocument[V any](h *Handler, m map[string]V, query string, f func(query string) V) V {
	h.mu.Lock()
	v, ok := m[query]
	h.mu.Unlock()
	if ok {
		return v
	}
	v = f(query)
	h.mu.Lock()
	if len(m) >= maxCachedOpNames {
		clear(m)
	}
	m[query] = v
	h.mu.Unlock()
	return v
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

// exchange is what ServeHTTP and the resolvers of one request share: the
// caller, passed to the resolvers, and the HTTP status they ask for, passed
// back.
type exchange struct {
	caller       *user
	publicClient bool // the User-Agent starts with "W&B Public Client"
	deniedStatus int  // the status of a permission failure (see deny)

	mu         sync.Mutex
	status     int    // 0, or the status the answer must have
	plainError string // non-empty: answer {"error": plainError} instead of GraphQL
}

type exchangeKey struct{}

func exchangeFrom(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	if ex == nil {
		// ServeHTTP always sets it; a resolver run otherwise is a bug here.
		panic(errors.New("wandbtest: resolver called outside ServeHTTP"))
	}
	return ex
}

// fail makes the answer's status code status (the first call wins).
func (ex *exchange) fail(status int) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.status == 0 {
		ex.status = status
	}
}

// deny makes the answer that of a permission failure, err (an errDenied):
// HTTP 403, or the status WithPermissionErrorStatus chose. It returns err.
func (ex *exchange) deny(err error) error {
	ex.fail(ex.deniedStatus)
	return err
}

// failPlain replaces the GraphQL answer with {"error": msg} and status.
func (ex *exchange) failPlain(status int, msg string) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.status, ex.plainError = status, msg
}
