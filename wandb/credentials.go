package wandb

import (
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// The credential layer: an http.RoundTripper that adds the key, as HTTP
// Basic auth, to requests for the configured server and to no others.

// basicCredentials returns the Basic credentials W&B expects: user "api",
// password the key.
func basicCredentials(key string) string {
	return base64.StdEncoding.EncodeToString([]byte("api:" + key))
}

// withCredentials returns a copy of hc whose transport adds the key, as
// HTTP Basic auth, to requests for base's scheme, host:port and path, and
// to no others (a redirect elsewhere gets no credentials).
func withCredentials(hc *http.Client, base *url.URL, key string) *http.Client {
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	copied := *hc
	copied.Transport = &credentialTransport{
		next:   next,
		scheme: base.Scheme,
		host:   hostPort(base),
		path:   strings.TrimRight(base.Path, "/"),
		auth:   "Basic " + basicCredentials(key),
	}
	return &copied
}

// credentialTransport is the credential layer (cf. the SDK's
// httplayers.LimitTo around its credential provider).
type credentialTransport struct {
	next   http.RoundTripper
	scheme string
	host   string // host:port, port made explicit, host lower-case
	path   string // base path without trailing "/", "" for the root
	auth   string // "Basic ..."
}

// RoundTrip adds the credentials when req goes to the base URL.
func (t *credentialTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Del("Authorization")
	if t.allowed(req.URL) {
		r.Header.Set("Authorization", t.auth)
	}
	return t.next.RoundTrip(r)
}

func (t *credentialTransport) allowed(u *url.URL) bool {
	if u.Scheme != t.scheme || hostPort(u) != t.host {
		return false
	}
	return t.path == "" || u.Path == t.path || strings.HasPrefix(u.Path, t.path+"/")
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
