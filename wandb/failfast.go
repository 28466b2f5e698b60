package wandb

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"syscall"
)

// Failing fast where waiting cannot help. Before the server has answered
// anything in this run (of the client family: the breaker is shared),
// a refused connection or a URL of the wrong scheme (https to a plain
// HTTP server, or http to an HTTPS one) is almost always a mistake in the
// configuration, not an outage: the call fails at its first attempt,
// naming the URL and the likely cause, instead of retrying for half a
// minute. Once the server has answered, the same failures are an outage
// or a restart, and are retried as any other. A host name that does not
// resolve is never retried (see retryable); its message says so too. The
// exchange of an identity token (oidc.go), which is the first request of
// a run that uses one, follows the same rule.

// misconfiguration returns the message for the failed attempt r of req
// when it points at a mistake in the URL rather than at the server's
// state, and whether it does. answered says whether the server has
// answered in this run: a refused connection, or a TLS error, is then an
// outage, and the message is left as it is.
func (c *Client) misconfiguration(req request, r attemptResult, answered bool) (string, bool) {
	if r.token != nil || r.redirect { // said by their own messages
		return "", false
	}
	origin := c.BaseURL()
	if !strings.HasPrefix(req.url, c.cfg.BaseURL+"/") { // a SCIM API elsewhere
		origin = c.redact(shownURL(originOf(req.url)))
	}
	return misconfigured(origin, req.url, r, answered)
}

// misconfigured is misconfiguration for an attempt to rawURL, a URL under
// origin (the server as messages show it).
func misconfigured(origin, rawURL string, r attemptResult, answered bool) (string, bool) {
	host := ""
	if u, err := url.Parse(rawURL); err == nil {
		host = u.Host
	}
	https := fmt.Sprintf("the server at %s speaks HTTPS, not plain HTTP: use %s", origin, withScheme(origin, "https"))
	switch {
	case r.err != nil && hostNotFound(r.err):
		return fmt.Sprintf("cannot reach the server at %s: no host is named %s (the DNS lookup found none): check the host name in the URL",
			origin, strings.Split(host, ":")[0]), true
	case r.mismatch == mismatchHTTPS && r.err == nil: // an answer, never retried
		return https, true
	case answered:
		return "", false
	case r.mismatch == mismatchHTTPS:
		return https, true
	case r.mismatch == mismatchHTTP:
		return fmt.Sprintf("the server at %s speaks plain HTTP, not HTTPS: use %s", origin, withScheme(origin, "http")), true
	case r.err != nil && errors.Is(r.err, syscall.ECONNREFUSED) && !strings.Contains(r.err.Error(), "proxyconnect"):
		// Not a proxy's refusal (proxyconnect), which is left as it is:
		// the URL's host was never tried.
		return fmt.Sprintf("cannot reach the server at %s: nothing accepts connections at %s (connection refused): "+
			"check that the server is running and that the URL's host and port are right", origin, host), true
	}
	return "", false
}

// The ways an attempt can find that the URL's scheme is not the server's.
const (
	mismatchNone  = iota
	mismatchHTTP  // https to a server that answers plain HTTP
	mismatchHTTPS // http to a server that speaks TLS
)

// schemeMismatch reports whether an attempt's transport error err, or its
// answer (status and the start of body), says that the request went out
// with the other scheme than the server's, and which way.
func schemeMismatch(err error, status int, body []byte) int {
	if err != nil {
		msg := err.Error()
		switch {
		case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
			return mismatchHTTP
		case strings.Contains(msg, `malformed HTTP response "\x15\x03`):
			// A TLS alert record where an HTTP status line should be.
			return mismatchHTTPS
		}
		return mismatchNone
	}
	if status == http.StatusBadRequest {
		// Go's HTTPS servers and nginx answer a plain HTTP request so.
		for _, s := range []string{"Client sent an HTTP request to an HTTPS server", "plain HTTP request was sent to HTTPS port"} {
			if bytes.Contains(body, []byte(s)) {
				return mismatchHTTPS
			}
		}
	}
	return mismatchNone
}

// originOf returns the scheme and host of raw, a request URL.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Scheme + "://" + u.Host
}

// withScheme returns origin with its scheme replaced by scheme.
func withScheme(origin, scheme string) string {
	_, rest, ok := strings.Cut(origin, "://")
	if !ok {
		return origin
	}
	return scheme + "://" + rest
}
