package wandbtest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// publicUA is a User-Agent the server treats as the public client's.
const publicUA = "W&B Public Client wandb-lua-test/0"

// result is a decoded answer of the server.
type result struct {
	Status int
	Header http.Header
	Body   []byte
	Data   json.RawMessage
	Errors []gqlError
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// call is one request to send; the zero value is anonymous and has no
// variables.
type call struct {
	key       string // "" sends no Authorization
	query     string
	vars      map[string]any
	opName    string            // the body's operationName ("" as the SDK sends)
	userAgent string            // "" = publicUA
	header    map[string]string // extra request headers
}

// endpoint is where the request helpers send: a base URL, the HTTP client
// that reaches it, and the server's admin key.
type endpoint struct {
	url, adminKey string
	client        *http.Client
}

// loopback is the endpoint of srv, reached over loopback.
func loopback(srv *wandbtest.Server) endpoint {
	return endpoint{url: srv.URL, adminKey: srv.AdminKey(), client: srv.Client()}
}

// newHandler returns a handler with opts, failing the test if it cannot be
// made.
func newHandler(t *testing.T, opts ...wandbtest.Option) *wandbtest.Handler {
	t.Helper()
	h, err := wandbtest.NewHandler(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// inProcess is an endpoint that serves each request by calling h on the
// caller's goroutine, with a recorder: no socket, so that a test inside a
// testing/synctest bubble can use it (a goroutine blocked on a socket
// would keep the bubble's clock from moving), and h reads the bubble's
// clock.
func inProcess(h *wandbtest.Handler) endpoint {
	return endpoint{url: "http://in-process", adminKey: h.AdminKey(), client: &http.Client{Transport: handlerTransport{h}}}
}

// handlerTransport serves requests with a handler, in-process.
type handlerTransport struct{ h http.Handler }

func (ht handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	// The request as a server receives it: with a body, even an empty one,
	// and the URI it was sent to.
	sr := r.Clone(r.Context())
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	sr.RequestURI, sr.RemoteAddr = r.URL.RequestURI(), "192.0.2.1:1234"
	rec := httptest.NewRecorder()
	ht.h.ServeHTTP(rec, sr)
	return rec.Result(), nil
}

// post sends c to srv over loopback and decodes the answer. It fails the test
// on a transport error; use postErr where one is expected.
func post(t *testing.T, srv *wandbtest.Server, c call) result {
	t.Helper()
	return postTo(t, loopback(srv), c)
}

// postTo is post to the endpoint e.
func postTo(t *testing.T, e endpoint, c call) result {
	t.Helper()
	res, err := postErrTo(context.Background(), e, c)
	if err != nil {
		t.Fatalf("post %s: %v", opOf(c), err)
	}
	return res
}

func postErr(ctx context.Context, srv *wandbtest.Server, c call) (result, error) {
	return postErrTo(ctx, loopback(srv), c)
}

func postErrTo(ctx context.Context, e endpoint, c call) (result, error) {
	body, err := json.Marshal(map[string]any{"query": c.query, "variables": c.vars, "operationName": c.opName})
	if err != nil {
		return result{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return result{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.key != "" {
		req.SetBasicAuth("api", c.key)
	}
	ua := c.userAgent
	if ua == "" {
		ua = publicUA
	}
	req.Header.Set("User-Agent", ua)
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{}, err
	}
	res := result{Status: resp.StatusCode, Header: resp.Header, Body: b}
	var env struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	if json.Unmarshal(b, &env) == nil {
		res.Data, res.Errors = env.Data, env.Errors
	}
	return res, nil
}

func opOf(c call) string {
	if len(c.query) > 40 {
		return c.query[:40]
	}
	return c.query
}

// shown is the body for a failure message: a generateApiKey answer holds a
// secret, and a secret never goes into a test's output.
func (r result) shown() string {
	return wandbtest.MaskSecrets(string(r.Body))
}

// decode unmarshals the answer's data into v.
func (r result) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode data: %v; body %s", err, r.shown())
	}
}

// wantOK fails unless the answer is a 200 without GraphQL errors.
func (r result) wantOK(t *testing.T) result {
	t.Helper()
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("got HTTP %d, errors %v; want 200 without errors; body %s", r.Status, r.Errors, r.shown())
	}
	return r
}

// waitFor polls cond until it holds; it fails the test after a generous bound
// (the bound only catches a hang, it asserts nothing about speed).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func decodeID(t *testing.T, id string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(id)
	if err != nil {
		t.Fatalf("id %q is not base64: %v", id, err)
	}
	return string(b)
}

func ptr[T any](v T) *T { return &v }

// addUser adds a user with a key and returns the key's secret.
func addUser(t *testing.T, srv *wandbtest.Server, email string, admin bool) string {
	t.Helper()
	if _, err := srv.AddUser(wandbtest.SeedUser{Email: email, Admin: admin}); err != nil {
		t.Fatal(err)
	}
	key, err := srv.AddAPIKey(email, "test")
	if err != nil {
		t.Fatal(err)
	}
	return key
}
