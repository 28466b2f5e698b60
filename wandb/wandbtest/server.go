package wandbtest

import (
	"net/http"
	"net/http/httptest"
)

// Server is a Handler listening on a loopback address, like an
// httptest.Server: point a client at URL with AdminKey.
type Server struct {
	*Handler

	// URL is the base URL of the server, http://127.0.0.1:<port>, without a
	// trailing slash; GraphQL is served at URL + "/graphql".
	URL string
	// AdminKey is the secret of the built-in admin's key (Handler.AdminKey).
	AdminKey string

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
	return &Server{Handler: h, URL: srv.URL, AdminKey: h.AdminKey(), srv: srv}
}

// Close closes the server's connections, including those of requests that
// are waiting (latency, fault delays: their contexts end), and blocks until
// every request has returned.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Client returns an HTTP client configured for the server; Close closes its
// idle connections.
func (s *Server) Client() *http.Client { return s.srv.Client() }
