package wandb

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

func TestQueryRetries(t *testing.T) {
	ra := func(v string) http.Header { return http.Header{"Retry-After": {v}} }
	for _, tc := range []struct {
		name     string
		faults   []wandbtest.Fault
		attempts int
		code     Code // "" = success
	}{
		{"500 then ok", []wandbtest.Fault{{Status: 500}}, 2, ""},
		{"502 503 504 then ok", []wandbtest.Fault{{Status: 502}, {Status: 503}, {Status: 504}}, 4, ""},
		{"408 then ok", []wandbtest.Fault{{Status: 408}}, 2, ""},
		{"429 with Retry-After then ok", []wandbtest.Fault{{Status: 429, Header: ra("0.001")}}, 2, ""},
		{"429 with a Retry-After date then ok", []wandbtest.Fault{{Status: 429, Header: ra(time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat))}}, 2, ""},
		{"dropped connection then ok", []wandbtest.Fault{{Drop: true}}, 2, ""},
		{"dropped after apply then ok", []wandbtest.Fault{{Drop: true, AfterApply: true}}, 2, ""},
		{"501 not retried", []wandbtest.Fault{{Status: 501}}, 1, CodeInternal},
		{"400 not retried", []wandbtest.Fault{{Status: 400}}, 1, CodeInvalidArgument},
		{"405 not retried", []wandbtest.Fault{{Status: 405}}, 1, CodeInvalidArgument},
		{"bounded attempts", []wandbtest.Fault{{Status: 500}, {Status: 500}, {Status: 500}, {Status: 500}, {Status: 500}}, 4, CodeInternal},
		{"Retry-After over the cap ends the retries", []wandbtest.Fault{{Status: 429, Header: ra("3600")}}, 1, CodeRateLimited},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t)
			c := testClient(t, srv)
			srv.FailNext("GetViewer", tc.faults...)
			_, err := c.Viewer(context.Background())
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Viewer: %v", err)
				}
			} else {
				asError(t, err, "viewer", tc.code)
			}
			if n := srv.Requests("GetViewer"); n != tc.attempts {
				t.Errorf("%d attempts, want %d", n, tc.attempts)
			}
		})
	}
}

func TestRetryMessages(t *testing.T) {
	srv := newServer(t)
	c := testClient(t, srv)
	srv.FailNext("GetViewer", wandbtest.Fault{Status: 500}, wandbtest.Fault{Status: 500}, wandbtest.Fault{Status: 500},
		wandbtest.Fault{Status: 500, Body: `{"error":"still broken"}`})
	_, err := c.Viewer(context.Background())
	if e := asError(t, err, "viewer", CodeInternal); e.Message != "still broken (gave up after 4 attempts)" {
		t.Errorf("message = %q", e.Message)
	}
	srv.FailNext("GetViewer", wandbtest.Fault{Status: 429, Header: http.Header{"Retry-After": {"3600"}}})
	_, err = c.Viewer(context.Background())
	if e := asError(t, err, "viewer", CodeRateLimited); !strings.Contains(e.Message, "retry after 1h0m0s, longer than the 1s allowed") {
		t.Errorf("message = %q", e.Message)
	}
}

// TestCancelDuringRetryWait cancels while the client waits out a long
// Retry-After: the call returns at once with context.Canceled.
func TestCancelDuringRetryWait(t *testing.T) {
	srv := newServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := testClient(t, srv, func(cfg *Config) {
		cfg.Retry.MaxRetryAfter = 2 * time.Hour
		cfg.Logger = slog.New(hookHandler{msg: "wandb retry", fn: cancel})
	})
	srv.FailNext("GetViewer", wandbtest.Fault{Status: 503, Header: http.Header{"Retry-After": {"3600"}}, Body: `{"error":"maintenance"}`})
	_, err := c.Viewer(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	e := asError(t, err, "viewer", CodeCanceled)
	if !strings.Contains(e.Message, "maintenance") || e.Status != 503 {
		t.Errorf("error = %v, want it to keep the server's last answer", e)
	}
	if n := srv.Requests("GetViewer"); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

// TestCancelInFlight cancels while the server holds the request.
func TestCancelInFlight(t *testing.T) {
	srv := newServer(t)
	c := testClient(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	srv.FailNext("GetViewer", wandbtest.Fault{Delay: time.Hour})
	done := make(chan error, 1)
	go func() {
		_, err := c.Viewer(ctx)
		done <- err
	}()
	for srv.Requests("GetViewer") == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	asError(t, err, "viewer", CodeCanceled)

	// An already cancelled context sends nothing.
	before := srv.Requests("")
	_, err = c.Users(ctx, "")
	asError(t, err, "users", CodeCanceled)
	if srv.Requests("") != before {
		t.Error("a cancelled context sent a request")
	}
}

func TestDeadline(t *testing.T) {
	srv := newServer(t)
	c := testClient(t, srv, func(cfg *Config) { cfg.Retry.MaxRetryAfter = 3 * time.Hour })
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	srv.FailNext("GetViewer", wandbtest.Fault{Status: 503, Header: http.Header{"Retry-After": {"7200"}}})
	_, err := c.Viewer(ctx)
	if e := asError(t, err, "viewer", CodeUnavailable); !strings.Contains(e.Message, "deadline leaves no time") {
		t.Errorf("message = %q", e.Message)
	}
	if n := srv.Requests("GetViewer"); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}

	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	_, err = c.Viewer(expired)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want context.DeadlineExceeded", err)
	}
	asError(t, err, "viewer", CodeTimeout)
}

// TestAttemptTimeout: a query is retried after its attempt timed out; a
// mutation is not (the server may have applied it).
func TestAttemptTimeout(t *testing.T) {
	srv := newServer(t)
	c := testClient(t, srv, func(cfg *Config) { cfg.AttemptTimeout = 500 * time.Millisecond })
	ctx := context.Background()
	srv.FailNext("GetViewer", wandbtest.Fault{Delay: time.Hour})
	if _, err := c.Viewer(ctx); err != nil {
		t.Fatalf("Viewer after a timed-out attempt: %v", err)
	}
	if n := srv.Requests("GetViewer"); n != 2 {
		t.Errorf("%d GetViewer attempts, want 2", n)
	}
	srv.FailNext("CreateUserFromAdmin", wandbtest.Fault{Delay: time.Hour})
	_, err := c.CreateUser(ctx, "slow@example.com", false)
	if e := asError(t, err, "create_user", CodeTimeout); !strings.Contains(e.Message, "AttemptTimeout") {
		t.Errorf("message = %q", e.Message)
	}
	if n := srv.Requests("CreateUserFromAdmin"); n != 1 {
		t.Errorf("%d CreateUserFromAdmin attempts, want 1", n)
	}
}

// TestConnectionRefused: nothing listens, so even a mutation is retried,
// up to the bound.
func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var logs logBuffer
	c, err := NewClient(Config{BaseURL: "http://" + addr, APIKey: strings.Repeat("a", 40), Retry: fastRetry,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateUser(context.Background(), "x@example.com", false)
	e := asError(t, err, "create_user", CodeTransport)
	if !strings.Contains(e.Message, "cannot reach the server") || !strings.Contains(e.Message, "gave up after 4 attempts") {
		t.Errorf("message = %q", e.Message)
	}
	if n := logs.count("msg=\"wandb request\""); n != 4 {
		t.Errorf("%d attempts logged, want 4", n)
	}
	if n := logs.count("reason=\"could not connect\""); n != 3 {
		t.Errorf("%d retries logged, want 3", n)
	}
}

// TestUnknownHostNotRetried: a host name that does not resolve (a typo in
// the base URL) fails at once instead of after the whole backoff schedule.
// The dialer stands in for a resolver, so the test needs no DNS.
func TestUnknownHostNotRetried(t *testing.T) {
	var dials atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "wandb.exmaple.com", IsNotFound: true}}
	}}
	c, err := NewClient(Config{BaseURL: "https://wandb.exmaple.com", APIKey: strings.Repeat("a", 40), Retry: fastRetry,
		HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Viewer(context.Background())
	asError(t, err, "viewer", CodeTransport)
	if n := dials.Load(); n != 1 {
		t.Errorf("%d attempts, want 1: an unknown host is not retried", n)
	}
}

func TestUnsupportedRedirectNotRetried(t *testing.T) {
	front := newServer(t) // any server; the redirect target is what matters
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return errors.New("stopped after 10 redirects") }}
	redirector := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, front.URL+"/graphql", http.StatusTemporaryRedirect)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: redirector}
	go hs.Serve(ln)
	defer hs.Close()
	var logs logBuffer
	c, err := NewClient(Config{BaseURL: "http://" + ln.Addr().String(), APIKey: strings.Repeat("a", 40), Retry: fastRetry,
		HTTPClient: hc, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Viewer(context.Background())
	asError(t, err, "viewer", CodeTransport)
	if n := logs.count("msg=\"wandb request\""); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

// TestLogging: one debug line per attempt, one info line per retry, and
// never the key.
func TestLogging(t *testing.T) {
	srv := newServer(t)
	var logs logBuffer
	c := testClient(t, srv, func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	srv.FailNext("GetViewer", wandbtest.Fault{Status: 502, Body: "key " + srv.AdminKey})
	srv.FailNext("GetViewer", wandbtest.Fault{Drop: true})
	if _, err := c.Viewer(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if strings.Contains(out, srv.AdminKey) || strings.Contains(out, basicCredentials(srv.AdminKey)) {
		t.Error("the log shows the key")
	}
	if n := logs.count(`"msg":"wandb request"`); n != 3 {
		t.Errorf("%d attempt lines, want 3:\n%s", n, out)
	}
	if n := logs.count(`"msg":"wandb retry"`); n != 2 {
		t.Errorf("%d retry lines, want 2:\n%s", n, out)
	}
	for _, want := range []string{`"op":"viewer"`, `"operation":"GetViewer"`, `"status":502`, `"reason":"HTTP 502"`, `"reason":"transport error"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestBackoff(t *testing.T) {
	c := &Client{retry: RetryPolicy{MaxAttempts: 10, MinWait: 100 * time.Millisecond, MaxWait: time.Second, MaxRetryAfter: time.Minute}}
	for attempt, base := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond,
		4: 800 * time.Millisecond, 5: time.Second, 40: time.Second} {
		seen := map[time.Duration]bool{}
		for range 20 {
			got, ok := c.backoff(attempt, attemptResult{})
			if !ok || got < base || got > base+base/4 {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", attempt, got, base, base+base/4)
			}
			seen[got] = true
		}
		// Jitter spreads the waits (over 25ms or more of nanoseconds), so
		// clients that failed together do not retry together.
		if len(seen) < 2 {
			t.Errorf("backoff(%d): 20 waits all equal, want jitter", attempt)
		}
	}
	if got, ok := c.backoff(1, attemptResult{header: http.Header{"Retry-After": {"30"}}}); !ok || got != 30*time.Second {
		t.Errorf("Retry-After 30 = %v, %v", got, ok)
	}
	if _, ok := c.backoff(1, attemptResult{header: http.Header{"Retry-After": {"61"}}}); ok {
		t.Error("a Retry-After over MaxRetryAfter was accepted")
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		vals []string
		want time.Duration
		ok   bool
	}{
		{[]string{"5"}, 5 * time.Second, true},
		{[]string{" 0.5 "}, 500 * time.Millisecond, true},
		{[]string{now.Add(90 * time.Second).Format(http.TimeFormat)}, 90 * time.Second, true},
		{[]string{now.Add(-time.Minute).Format(http.TimeFormat)}, 0, true},
		{[]string{"-1"}, 0, false},
		{[]string{"1e12"}, 0, false},
		{[]string{"soon"}, 0, false},
		{[]string{"1", "2"}, 0, false},
		{nil, 0, false},
	} {
		got, ok := retryAfter(http.Header{"Retry-After": tc.vals}, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tc.vals, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRetryPolicyDefaults(t *testing.T) {
	d := DefaultRetryPolicy()
	if got := (RetryPolicy{}).withDefaults(); got != d {
		t.Errorf("zero policy = %+v, want %+v", got, d)
	}
	got := RetryPolicy{MaxAttempts: 1, MinWait: time.Minute}.withDefaults()
	if got.MaxAttempts != 1 || got.MinWait != time.Minute || got.MaxWait != time.Minute || got.MaxRetryAfter != d.MaxRetryAfter {
		t.Errorf("partial policy = %+v", got)
	}
}
