package wandb

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// recordingProxy is a forward proxy on loopback that records what it is
// asked: absolute URLs for http://, CONNECT host:port for https://.
type recordingProxy struct {
	*httptest.Server
	mu        sync.Mutex
	targets   []string
	proxyAuth []string
}

func newRecordingProxy(t *testing.T) *recordingProxy {
	t.Helper()
	p := &recordingProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

func (p *recordingProxy) seen() (targets, proxyAuth []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.targets...), append([]string(nil), p.proxyAuth...)
}

func (p *recordingProxy) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	target := r.URL.String()
	if r.Method == http.MethodConnect {
		target = "CONNECT " + r.Host
	}
	p.targets = append(p.targets, target)
	p.proxyAuth = append(p.proxyAuth, r.Header.Get("Proxy-Authorization"))
	p.mu.Unlock()
	if r.Method == http.MethodConnect {
		upstream, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer upstream.Close()
		w.WriteHeader(http.StatusOK)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		done := make(chan struct{})
		go func() { _, _ = io.Copy(upstream, buf); close(done) }()
		_, _ = io.Copy(conn, upstream)
		<-done
		return
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.Header.Del("Proxy-Authorization")
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// TestProxy: WANDB_HTTP_PROXY carries http:// requests, WANDB_HTTPS_PROXY
// https:// ones (through CONNECT, with the extra Proxy-Authorization);
// neither carries the other's.
func TestProxy(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	proxy := newRecordingProxy(t)

	c := testClient(t, srv, func(cfg *Config) { cfg.httpsProxy = NewSecret(proxy.URL) })
	if _, err := c.Viewer(context.Background()); err != nil {
		t.Fatal(err)
	}
	if targets, _ := proxy.seen(); len(targets) != 0 {
		t.Errorf("the https proxy carried an http request: %v", targets)
	}

	c = testClient(t, srv, func(cfg *Config) { cfg.httpProxy = NewSecret(proxy.URL + "/") })
	if _, err := c.Viewer(context.Background()); err != nil {
		t.Fatal(err)
	}
	if targets, _ := proxy.seen(); len(targets) != 1 || targets[0] != srv.URL+"/graphql" {
		t.Errorf("proxy saw %v, want the GraphQL request", targets)
	}

	h, err := wandbtest.NewHandler()
	if err != nil {
		t.Fatal(err)
	}
	tlsSrv := httptest.NewTLSServer(h)
	defer tlsSrv.Close()
	c, err = NewClient(Config{BaseURL: tlsSrv.URL, APIKey: NewSecret(h.AdminKey()), Retry: fastRetry,
		httpsProxy: NewSecret(proxy.URL), InsecureSkipVerify: true, extraHeaders: secretHeaders(map[string]string{"Proxy-Authorization": "Basic cHJveHk6cHc="})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Viewer(context.Background()); err != nil {
		t.Fatalf("Viewer over https through the proxy: %v", err)
	}
	targets, auth := proxy.seen()
	if u, _ := url.Parse(tlsSrv.URL); targets[len(targets)-1] != "CONNECT "+u.Host || auth[len(auth)-1] != "Basic cHJveHk6cHc=" {
		t.Errorf("proxy saw %q with Proxy-Authorization %q, want CONNECT with the extra header", targets[len(targets)-1], auth[len(auth)-1])
	}
}

// TestInsecureSkipVerify: a server with a certificate the client does not
// trust is refused, at once, unless verification is off.
func TestInsecureSkipVerify(t *testing.T) {
	t.Parallel()
	h, err := wandbtest.NewHandler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	cfg := Config{BaseURL: srv.URL, APIKey: NewSecret(h.AdminKey()), Retry: fastRetry}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Viewer(context.Background())
	e := asError(t, err, "viewer", CodeTransport)
	if !strings.Contains(e.Message, "certificate") || strings.Contains(e.Message, "gave up") {
		t.Errorf("message = %q, want a certificate error, not retried", e.Message)
	}
	cfg.InsecureSkipVerify = true
	if c, err = NewClient(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Viewer(context.Background()); err != nil {
		t.Errorf("Viewer without verification: %v", err)
	}
	if !strings.Contains(cfg.String(), "InsecureSkipVerify: true") {
		t.Errorf("Config.String = %s", cfg)
	}
}

func TestTransportConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"own client and proxy", Config{HTTPClient: &http.Client{}, httpProxy: NewSecret("http://proxy:3128")}, "set them on the transport of Config.HTTPClient"},
		{"own client and insecure", Config{HTTPClient: &http.Client{}, InsecureSkipVerify: true}, "leave HTTPClient nil"},
		{"socks proxy", Config{httpsProxy: NewSecret("socks5://proxy:1080")}, `WANDB_HTTPS_PROXY "socks5://proxy:1080": must start with http:// or https://`},
		{"no host", Config{httpProxy: NewSecret("http://")}, "has no host"},
		{"not a url", Config{httpProxy: NewSecret("http://a b")}, "not a url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.APIKey = NewSecret(envKey)
			if _, err := NewClient(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewClient error = %v, want %q", err, tc.want)
			}
		})
	}

	// A proxy password is neither shown nor logged.
	cfg := Config{APIKey: NewSecret(envKey), httpProxy: NewSecret("http://user:proxy-secret-pw@127.0.0.1:1"), Retry: RetryPolicy{MaxAttempts: 1}, BaseURL: "http://127.0.0.1:2"}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Viewer(context.Background())
	if err == nil || strings.Contains(err.Error(), "proxy-secret-pw") || strings.Contains(cfg.String(), "proxy-secret-pw") {
		t.Errorf("a proxy password is shown, or no error: %v", err)
	}
	if !strings.Contains(cfg.String(), `HTTPProxy: "http://xxxxx@127.0.0.1:1"`) {
		t.Errorf("Config.String = %s", cfg)
	}

	// Without W&B proxies, the standard variables decide (loopback is never proxied).
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/graphql", nil)
	if u, err := proxyFunc(nil, nil)(req); u != nil || err != nil {
		t.Errorf("proxyFunc without proxies = %v, %v", u, err)
	}
}
