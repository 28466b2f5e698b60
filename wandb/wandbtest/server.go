package wandbtest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Server is a Handler listening on a loopback address, like an
// httptest.Server: point a client at URL with AdminKey().
type Server struct {
	*Handler

	// URL is the base URL of the server, http://127.0.0.1:<port>, without a
	// trailing slash; GraphQL is served at URL + "/graphql".
	URL string

	srv *httptest.Server
}

// NewServer starts a server on 127.0.0.1 with a new Handler. Like
// httptest.NewServer it panics when it cannot be set up (a bad seed, an
// unreadable state file, no loopback listener); the caller must Close it.
func NewServer(opts ...Option) *Server {
	h, err := NewHandler(opts...)
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	return &Server{Handler: h, URL: srv.URL, srv: srv}
}

// Close closes the server's connections, including those of requests that
// are waiting (latency, fault delays: their contexts end), blocks until
// every request has returned, and then saves the activity the state file
// does not hold yet (see Flush; a test that must know it was saved calls
// Flush itself, which reports an error).
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
	_ = s.Flush() // best effort: Close reports nothing, as httptest's does not
}

// Client returns an HTTP client configured for the server; Close closes its
// idle connections.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Start is NewServer for a test or benchmark: it fails tb, rather than
// panicking, when the server cannot be set up, and closes the server when
// tb's test ends.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	h, err := NewHandler(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(h)
	s := &Server{Handler: h, URL: srv.URL, srv: srv}
	tb.Cleanup(s.Close)
	return s
}
