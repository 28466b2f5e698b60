package wandb

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The default HTTP transport: a connection pool sized for concurrent use,
// the W&B proxies (as the SDK's core/internal/clients/proxy.go) and, when
// asked, no TLS certificate verification.

// defaultHTTPClient returns cfg.HTTPClient, or when it is nil a client
// with a pool sized for concurrent use and cfg's proxy and TLS settings
// (checked by Config.check).
func defaultHTTPClient(cfg Config) *http.Client {
	if cfg.HTTPClient != nil {
		return cfg.HTTPClient
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 4 * defaultIdleConnsPerHost
	t.MaxIdleConnsPerHost = defaultIdleConnsPerHost
	t.IdleConnTimeout = 90 * time.Second
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.Proxy = proxyFunc(mustProxyURL(cfg.httpProxy.Reveal()), mustProxyURL(cfg.httpsProxy.Reveal()))
	if auth := proxyAuthorization(cfg.extraHeaders); auth != "" {
		t.ProxyConnectHeader = http.Header{"Proxy-Authorization": {auth}}
	}
	if cfg.InsecureSkipVerify {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for: WANDB_INSECURE_DISABLE_SSL
	}
	return &http.Client{Transport: t}
}

// wrapTransport returns a copy of hc whose transport is wrap of hc's (of
// http.DefaultTransport when hc has none): a layer around it.
func wrapTransport(hc *http.Client, wrap func(next http.RoundTripper) http.RoundTripper) *http.Client {
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	copied := *hc
	copied.Transport = wrap(next)
	return &copied
}

// proxyFunc returns the transport's Proxy function: httpProxy for http://
// requests and httpsProxy for https:// ones when set, else the standard
// HTTP_PROXY, HTTPS_PROXY and NO_PROXY variables. Only the client's own
// traffic, the W&B server's, goes through the W&B proxies.
func proxyFunc(httpProxy, httpsProxy *url.URL) func(*http.Request) (*url.URL, error) {
	return func(req *http.Request) (*url.URL, error) {
		switch {
		case req.URL.Scheme == "http" && httpProxy != nil:
			return httpProxy, nil
		case req.URL.Scheme == "https" && httpsProxy != nil:
			return httpsProxy, nil
		}
		return http.ProxyFromEnvironment(req)
	}
}

// parseProxyURL parses a proxy URL as the SDK validates it: http or https
// with a host; a trailing "/" is dropped. "" is no proxy (nil).
func parseProxyURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, nil
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	switch {
	case err != nil:
		return nil, errors.New("not a url")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("must start with http:// or https://")
	case u.Hostname() == "":
		return nil, errors.New("has no host")
	}
	return u, nil
}

// mustProxyURL is parseProxyURL for a URL Config.check accepted.
func mustProxyURL(raw string) *url.URL {
	u, _ := parseProxyURL(raw)
	return u
}

// proxySecret returns the password in a proxy URL, "" if none: the
// redactor removes it from errors.
func proxySecret(raw string) string {
	u, err := parseProxyURL(raw)
	if err != nil || u == nil || u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}
