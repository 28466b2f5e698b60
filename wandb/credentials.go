package wandb

import (
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// The credential layer: an http.RoundTripper that adds the credentials to
// requests for the configured server and to no others: the key as HTTP
// Basic auth with the user "api" for GraphQL and as W&B documents it for
// SCIM (see scim.go), or the access token of an identity token (oidc.go) as
// "Bearer <token>" for both.

// basicCredentials returns the Basic credentials W&B expects: user "api",
// password the key.
func basicCredentials(key string) string {
	return base64.StdEncoding.EncodeToString([]byte("api:" + key))
}

// withCredentials returns a copy of hc whose transport adds credentials to
// requests for the scopes (the first that matches) and to no others: a
// redirect elsewhere gets no credentials.
func withCredentials(hc *http.Client, scopes ...scope) *http.Client {
	return wrapTransport(hc, func(next http.RoundTripper) http.RoundTripper {
		return &credentialTransport{next: next, scopes: scopes}
	})
}

// A scope is a URL prefix (scheme, host:port, path) and the Authorization
// header for requests under it.
type scope struct {
	scheme string
	host   string // host:port, port made explicit, host lower-case
	path   string // without trailing "/", "" for the root
	// auth returns the header value, or "" to send none (the SCIM
	// credentials before the viewer's username is known); an error stops
	// the request (no access token could be had).
	auth func(context.Context) (string, error)
}

// newScope returns the scope of the URL prefix u.
func newScope(u *url.URL, auth func(context.Context) (string, error)) scope {
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
// scope req falls in, if any. When they cannot be had, it sends nothing
// and returns a *credentialsError.
func (t *credentialTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Del("Authorization")
	for _, s := range t.scopes {
		if s.contains(req.URL) {
			auth, err := s.auth(req.Context())
			if err != nil {
				if req.Body != nil {
					req.Body.Close() // a RoundTripper closes the body, even on error
				}
				return nil, &credentialsError{err: err}
			}
			if auth != "" {
				r.Header.Set("Authorization", auth)
			}
			break
		}
	}
	return t.next.RoundTrip(r)
}

// credentialsError stops a request that could not get its credentials
// (see tokenError): it was not sent.
type credentialsError struct{ err error }

func (e *credentialsError) Error() string { return "no credentials: " + e.err.Error() }
func (e *credentialsError) Unwrap() error { return e.err }

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
