package wandb

import (
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// The credential layer: an http.RoundTripper that adds the key to requests
// for the configured server, as HTTP Basic auth with the user "api" for
// GraphQL and as W&B documents it for SCIM (see scim.go), and to no others.

// basicCredentials returns the Basic credentials W&B expects: user "api",
// password the key.
func basicCredentials(key string) string {
	return base64.StdEncoding.EncodeToString([]byte("api:" + key))
}

// withCredentials returns a copy of hc whose transport adds credentials to
// requests for the scopes (the first that matches) and to no others: a
// redirect elsewhere gets no credentials.
func withCredentials(hc *http.Client, scopes ...scope) *http.Client {
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	copied := *hc
	copied.Transport = &credentialTransport{next: next, scopes: scopes}
	return &copied
}

// A scope is a URL prefix (scheme, host:port, path) and the Authorization
// header for requests under it.
type scope struct {
	scheme string
	host   string // host:port, port made explicit, host lower-case
	path   string // without trailing "/", "" for the root
	// auth returns the header value, or "" to send none (the SCIM
	// credentials before the viewer's username is known).
	auth func() string
}

// newScope returns the scope of the URL prefix u.
func newScope(u *url.URL, auth func() string) scope {
	return scope{scheme: u.Scheme, host: hostPort(u), path: strings.TrimRight(u.Path, "/"), auth: auth}
}

func (s scope) contains(u *url.URL) bool {
	if u.Scheme != s.scheme || hostPort(u) != s.host {
		return false
	}
	return s.path == "" || u.Path == s.path || strings.HasPrefix(u.Path, s.path+"/")
}

// credentialTransport is the credential layer (cf. the SDK's
// httplayers.LimitTo around its credential provider).
type credentialTransport struct {
	next   http.RoundTripper
	scopes []scope // the most specific first
}

// RoundTrip replaces any Authorization header by the credentials of the
// scope req falls in, if any.
func (t *credentialTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Del("Authorization")
	for _, s := range t.scopes {
		if s.contains(req.URL) {
			if auth := s.auth(); auth != "" {
				r.Header.Set("Authorization", auth)
			}
			break
		}
	}
	return t.next.RoundTrip(r)
}

// hostPort returns u's lower-case host with an explicit port.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
