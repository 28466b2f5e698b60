package wandb

import (
	"context"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// countingListener counts the connections a server accepts.
type countingListener struct {
	net.Listener
	n atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// startCounting starts an httptest server (with TLS if tls) whose
// connections are counted; every request gets a 200.
func startCounting(t *testing.T, tls bool) (*httptest.Server, *countingListener) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"data":{"viewer":null}}`)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes are expected
	l := &countingListener{Listener: srv.Listener}
	srv.Listener = l
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, l
}

// TestFailFast: before the server has answered anything, a refused
// connection and a URL of the wrong scheme fail at the first attempt (no
// retry, however many the policy allows), naming the URL and the likely
// cause; the count of attempts, not a clock, shows it. A mutation is
// reported as not applied.
func TestFailFast(t *testing.T) {
	retry := RetryPolicy{MaxAttempts: 6, MinWait: time.Millisecond, MaxWait: time.Millisecond}
	attempts := func(logs *logBuffer) int { return logs.count(`msg="wandb request"`) }
	newClient := func(t *testing.T, base string, hc *http.Client) (*Client, *logBuffer) {
		t.Helper()
		logs := &logBuffer{}
		c, err := NewClient(Config{BaseURL: base, APIKey: NewSecret(strings.Repeat("a", 40)), Retry: retry, HTTPClient: hc,
			Logger: newDebugLogger(logs)})
		if err != nil {
			t.Fatal(err)
		}
		return c, logs
	}

	t.Run("connection refused", func(t *testing.T) {
		addr := closedAddr(t)
		c, logs := newClient(t, "http://"+addr, nil)
		_, err := c.CreateUser(context.Background(), "x@example.com", false)
		e := asError(t, err, "create_user", CodeTransport)
		want := "cannot reach the server at http://" + addr + ": nothing accepts connections at " + addr +
			" (connection refused): check that the server is running and that the URL's host and port are right"
		if e.Message != want {
			t.Errorf("message %q\nwant %q", e.Message, want)
		}
		if n := attempts(logs); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
		if e.unsure {
			t.Error("a refused creation is reported as maybe applied")
		}
	})

	t.Run("https to a plain HTTP server", func(t *testing.T) {
		srv, conns := startCounting(t, false)
		base := "https://" + srv.Listener.Addr().String()
		c, logs := newClient(t, base, nil)
		_, err := c.Viewer(context.Background())
		e := asError(t, err, "viewer", CodeTransport)
		if want := "the server at " + base + " speaks plain HTTP, not HTTPS: use " + srv.URL; e.Message != want {
			t.Errorf("message %q\nwant %q", e.Message, want)
		}
		if n, m := attempts(logs), conns.n.Load(); n != 1 || m != 1 {
			t.Errorf("%d attempts, %d connections, want 1", n, m)
		}
	})

	t.Run("http to an HTTPS server", func(t *testing.T) {
		srv, conns := startCounting(t, true)
		base := "http://" + srv.Listener.Addr().String()
		c, logs := newClient(t, base, nil)
		_, err := c.CreateUser(context.Background(), "x@example.com", false)
		e := asError(t, err, "create_user", CodeTransport)
		if want := "the server at " + base + " speaks HTTPS, not plain HTTP: use " + srv.URL; e.Message != want {
			t.Errorf("message %q\nwant %q", e.Message, want)
		}
		if n, m := attempts(logs), conns.n.Load(); n != 1 || m != 1 {
			t.Errorf("%d attempts, %d connections, want 1", n, m)
		}
		if e.unsure {
			t.Error("a creation the server could not read is reported as maybe applied")
		}
	})

	t.Run("a proxy that refuses", func(t *testing.T) {
		// Not the server's URL that is wrong: retried, as before.
		logs := &logBuffer{}
		c, err := NewClient(Config{BaseURL: "https://wandb.example.com", APIKey: NewSecret(strings.Repeat("a", 40)), Retry: retry,
			httpsProxy: NewSecret("http://" + closedAddr(t)), Logger: newDebugLogger(logs)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Viewer(context.Background())
		if e := asError(t, err, "viewer", CodeTransport); strings.Contains(e.Message, "nothing accepts connections") {
			t.Errorf("message %q blames the server", e.Message)
		}
		if n := attempts(logs); n < 2 {
			t.Errorf("%d attempts, want the refusals retried", n)
		}
	})

	t.Run("the breaker counts them", func(t *testing.T) {
		// Each call fails at once; nothing listening still opens the
		// breaker after as many attempts as an outage would.
		c, logs := newClient(t, "http://"+closedAddr(t), nil)
		for range breakerThreshold {
			_, err := c.Viewer(context.Background())
			asError(t, err, "viewer", CodeTransport)
		}
		_, err := c.Viewer(context.Background())
		if e := asError(t, err, "viewer", CodeUnavailable); !strings.Contains(e.Message, "looks down") {
			t.Errorf("message %q, want the breaker open", e.Message)
		}
		if n := attempts(logs); n != breakerThreshold {
			t.Errorf("%d attempts, want %d", n, breakerThreshold)
		}
	})
}

// TestNoFailFastOnceAnswered: a client derived from one whose server has
// answered (the same run) retries a refused connection as an outage.
func TestNoFailFastOnceAnswered(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	var down atomic.Bool
	logs := &logBuffer{}
	c := testClient(t, srv, func(cfg *Config) {
		cfg.HTTPClient = &http.Client{Transport: deadTransport(t, &down)}
		cfg.Logger = newDebugLogger(logs)
	})
	if _, err := c.Viewer(context.Background()); err != nil {
		t.Fatal(err)
	}
	other, err := c.WithAPIKey(strings.Repeat("b", 40))
	if err != nil {
		t.Fatal(err)
	}
	down.Store(true)
	before := logs.count(`msg="wandb request"`)
	_, err = other.Viewer(context.Background())
	if e := asError(t, err, "viewer", CodeTransport); !strings.Contains(e.Message, "gave up after 4 attempts") {
		t.Errorf("message %q", e.Message)
	}
	if n := logs.count(`msg="wandb request"`) - before; n != fastRetry.MaxAttempts {
		t.Errorf("%d attempts, want %d", n, fastRetry.MaxAttempts)
	}
}

// TestOnRetry: Config.OnRetry hears of each wait before it starts, with
// the server's reason and the header the wait came from.
func TestOnRetry(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []RetryEvent
	c := testClient(t, srv, func(cfg *Config) {
		cfg.Retry = RetryPolicy{MaxAttempts: 3, MinWait: time.Millisecond, MaxWait: time.Millisecond, MaxRetryAfter: time.Hour}
		cfg.OnRetry = func(e RetryEvent) {
			got = append(got, e)
			if e.Wait > time.Second {
				cancel() // no need to sit the wait out
			}
		}
	})
	srv.FailNext("GetViewer", wandbtest.Fault{Status: 500}, wandbtest.Fault{Status: 503, Header: http.Header{"Retry-After": {"30"}}})
	_, err := c.Viewer(ctx)
	asError(t, err, "viewer", CodeCanceled)
	if len(got) != 2 {
		t.Fatalf("OnRetry called %d times, want 2: %+v", len(got), got)
	}
	if e := got[0]; e.Op != "viewer" || e.Server != srv.URL || e.Attempt != 1 || e.MaxAttempts != 3 || e.Reason != "HTTP 500" || e.Header != "" || e.Wait > 2*time.Millisecond {
		t.Errorf("first retry: %+v", e)
	}
	if e := got[1]; e.Attempt != 2 || e.Reason != "HTTP 503 with Retry-After" || e.Header != "Retry-After" || e.Wait != 30*time.Second {
		t.Errorf("second retry: %+v", e)
	}
}

// newDebugLogger returns a logger of every line, the attempts' included,
// to w.
func newDebugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestFailFastTokenExchange: the exchange of an identity token, the first
// request of a run that uses one, fails at once on a refused connection
// too, naming the URL; once the endpoint has answered, it is retried.
func TestFailFastTokenExchange(t *testing.T) {
	t.Parallel()
	f := newFederation(t, 0)
	f.tokenFile(t, "ci", false)
	addr := closedAddr(t)
	logs := &logBuffer{}
	c := f.client(t, func(cfg *Config) { cfg.BaseURL = "http://" + addr; cfg.Logger = newDebugLogger(logs) })
	_, err := c.Viewer(context.Background())
	e := asError(t, err, "viewer", CodeTransport)
	if want := "failed to retrieve access token: cannot reach the server at http://" + addr + ": nothing accepts connections at " + addr; !strings.HasPrefix(e.Message, want) {
		t.Errorf("message %q\nwant it to start with %q", e.Message, want)
	}
	if n := logs.count("wandb token exchange retry"); n != 0 {
		t.Errorf("%d retries, want none", n)
	}

	// Answered once (a rejection), then gone: retried.
	var down atomic.Bool
	logs = &logBuffer{}
	c = f.client(t, func(cfg *Config) {
		cfg.HTTPClient = &http.Client{Transport: deadTransport(t, &down)}
		cfg.Logger = newDebugLogger(logs)
	})
	f.srv.FailNext("OIDCToken", wandbtest.Fault{Status: 400, Body: `{"error":"invalid_grant"}`})
	if _, err := c.Viewer(context.Background()); err == nil {
		t.Fatal("a rejected exchange succeeded")
	}
	down.Store(true)
	_, err = c.Viewer(context.Background())
	asError(t, err, "viewer", CodeTransport)
	if n := logs.count("wandb token exchange retry"); n != 3 { // 4 attempts, the exchange's default
		t.Errorf("%d retries, want 3", n)
	}
}
