package wandb

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// The default-headers layer (cf. the SDK's httplayers.DefaultHeaders in
// core/internal/api/gql_client.go): headers every request carries unless
// it already has them. They are X-WANDB-USERNAME and X-WANDB-USER-EMAIL
// (WANDB_USERNAME, WANDB_USER_EMAIL; unlike the SDK, not sent when empty)
// and the extra headers (WANDB__EXTRA_HTTP_HEADERS), which replace those
// two. The request's own
// User-Agent, Use-Admin-Privileges, Content-Type and Accept are set before
// this layer, so extra headers cannot change them (as the SDK's public API
// overwrites them), and the credential layer after it replaces any
// Authorization.

// headerTransport adds the default headers a request lacks.
type headerTransport struct {
	next    http.RoundTripper
	headers http.Header
}

// RoundTrip adds to a copy of req each default header it does not have.
func (t *headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req
	for name, values := range t.headers {
		if _, set := req.Header[name]; set {
			continue
		}
		if r == req {
			r = req.Clone(req.Context())
		}
		r.Header[name] = slices.Clone(values) // a layer further on may change them
	}
	return t.next.RoundTrip(r)
}

// withHeaders returns a copy of hc whose requests get the default headers
// of cfg; hc itself when there are none.
func withHeaders(hc *http.Client, cfg Config) *http.Client {
	h := defaultHeaders(cfg)
	if len(h) == 0 {
		return hc
	}
	return wrapTransport(hc, func(next http.RoundTripper) http.RoundTripper {
		return &headerTransport{next: next, headers: h}
	})
}

// defaultHeaders returns the default headers of cfg. An Authorization
// among the extra headers is left out: the credentials replace it on the
// requests for the server and no other request may carry it.
func defaultHeaders(cfg Config) http.Header {
	h := http.Header{}
	if cfg.username != "" {
		h.Set("X-WANDB-USERNAME", cfg.username)
	}
	if cfg.userEmail != "" {
		h.Set("X-WANDB-USER-EMAIL", cfg.userEmail)
	}
	for name, value := range cfg.extraHeaders {
		h.Set(name, value.Reveal())
	}
	h.Del("Authorization")
	return h
}

// badHeaderValue reports whether v has a control character (a tab
// aside), which no header value may have.
func badHeaderValue(v string) bool {
	return strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f })
}

// validHeaderName reports whether name is an HTTP token (RFC 9110).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r >= 0x80 || r <= ' ' || strings.ContainsRune("\"(),/:;<=>?@[\\]{}\x7f", r) {
			return false
		}
	}
	return true
}

// parseExtraHeaders parses WANDB__EXTRA_HTTP_HEADERS as the SDK does: a
// JSON object of strings, or null for none.
func parseExtraHeaders(raw string) (map[string]Secret, error) {
	var headers map[string]string
	if err := json.Unmarshal([]byte(raw), &headers); err != nil {
		return nil, configError(`WANDB__EXTRA_HTTP_HEADERS: not a JSON object of strings, e.g. {"X-Name": "value"}`)
	}
	if headers == nil {
		return nil, nil
	}
	out := make(map[string]Secret, len(headers))
	for name, value := range headers {
		out[name] = NewSecret(value)
	}
	return out, nil
}

// proxyAuthorization returns the Proxy-Authorization among the extra
// headers, which the SDK also sends on proxy CONNECT requests; "" if none.
func proxyAuthorization(headers map[string]Secret) string {
	for name, value := range headers {
		if http.CanonicalHeaderKey(name) == "Proxy-Authorization" && value.IsSet() {
			return value.Reveal()
		}
	}
	return ""
}
