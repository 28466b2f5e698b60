package wandb

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

func TestQueryRetries(t *testing.T) {
	t.Parallel()
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
		{"429 with only RateLimit-Reset then ok", []wandbtest.Fault{wandbtest.RateLimited(0)}, 2, ""},
		{"RateLimit-Reset over the cap ends the retries", []wandbtest.Fault{wandbtest.RateLimited(time.Hour)}, 1, CodeRateLimited},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := wandbtest.Start(t)
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
	t.Parallel()
	srv := wandbtest.Start(t)
	c := testClient(t, srv)
	srv.FailNext("GetViewer", wandbtest.Fault{Status: 500}, wandbtest.Fault{Status: 500}, wandbtest.Fault{Status: 500},
		wandbtest.Fault{Status: 500, Body: `{"error":"still broken"}`})
	_, err := c.Viewer(context.Background())
	if e := asError(t, err, "viewer", CodeInternal); e.Message != "still broken (gave up after 4 attempts)" {
		t.Errorf("message = %q", e.Message)
	}
	srv.FailNext("GetViewer", wandbtest.Fault{Status: 429, Header: http.Header{"Retry-After": {"3600"}}})
	_, err = c.Viewer(context.Background())
	if e := asError(t, err, "viewer", CodeRateLimited); !strings.HasSuffix(e.Message, "(the server's Retry-After asks for a wait of 1h0m0s, longer than the 1s this client waits)") {
		t.Errorf("message = %q", e.Message)
	}
	srv.FailNext("GetViewer", wandbtest.RateLimited(time.Hour))
	_, err = c.Viewer(context.Background())
	if e := asError(t, err, "viewer", CodeRateLimited); e.Message != "rate limit exceeded (the server's RateLimit-Reset asks for a wait of 1h0m0s, longer than the 1s this client waits)" {
		t.Errorf("message = %q", e.Message)
	}
}

// TestRetryAfterSummed: the waits a server asks for are summed over a
// call's retries, so a server that keeps answering 503 with Retry-After
// fails the call, with its wait in the message, once the sum would pass
// MaxRetryAfter, instead of having each retry sit its wait out. On the
// bubble's clock the call takes exactly the two waits it sat out.
func TestRetryAfterSummed(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, viaPipe := bubbleServer(t)
		c := testClient(t, srv, viaPipe, func(cfg *Config) {
			cfg.Retry = RetryPolicy{MaxAttempts: 6, MinWait: time.Millisecond, MaxWait: time.Millisecond, MaxRetryAfter: 100 * time.Millisecond}
		})
		maintenance := wandbtest.Fault{Status: 503, Header: http.Header{"Retry-After": {"0.04"}}, Body: `{"error":"maintenance"}`}
		srv.FailNext("GetViewer", maintenance, maintenance, maintenance)
		start := time.Now()
		_, err := c.Viewer(context.Background())
		if took := time.Since(start); took != 80*time.Millisecond {
			t.Errorf("the call took %v, want the two waits of 40ms it sat out", took)
		}
		want := "maintenance (the server's Retry-After asks for a wait of 40ms; after the 80ms it asked for before, that is more than the 100ms this client waits in all)"
		if e := asError(t, err, "viewer", CodeUnavailable); e.Message != want {
			t.Errorf("message = %q\nwant      %q", e.Message, want)
		}
		if n := srv.Requests("GetViewer"); n != 3 {
			t.Errorf("%d attempts, want 3: two waits of 40ms, the third would pass 100ms", n)
		}
		// A wait the client computes itself is not the server's: it does not count.
		srv.FailNext("", wandbtest.Fault{Status: 500}, wandbtest.Fault{Status: 500}, wandbtest.Fault{Status: 500}, maintenance, maintenance)
		if _, err := c.Viewer(context.Background()); err != nil {
			t.Errorf("Viewer after three 500s and two 503s of 40ms: %v", err)
		}
	})
}

// TestRetryLogNamesTheHeader: the -v line of a retry says which header,
// if any, set its wait. RateLimited answers as W&B documents (no
// Retry-After), so its wait is RateLimit-Reset's 0s, not a computed one.
func TestRetryLogNamesTheHeader(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	var logs logBuffer
	c := testClient(t, srv, func(cfg *Config) {
		cfg.Retry.MinWait, cfg.Retry.MaxWait = 2*time.Millisecond, 2*time.Millisecond
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	srv.FailNext("GetViewer", wandbtest.RateLimited(0),
		wandbtest.Fault{Status: 429, Header: http.Header{"Retry-After": {"0"}}},
		wandbtest.Fault{Status: 500})
	if _, err := c.Viewer(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		_, rest, _ := strings.Cut(line, "attempt=")
		got = append(got, "attempt="+rest)
	}
	// The computed wait is 2ms plus up to 25% jitter: the line ends there.
	computed := regexp.MustCompile(`^attempt=3 reason="HTTP 500" wait=2(\.\d+)?ms$`)
	if len(got) != 3 || got[0] != `attempt=1 reason="HTTP 429" wait=0s header=RateLimit-Reset` ||
		got[1] != `attempt=2 reason="HTTP 429" wait=0s header=Retry-After` || !computed.MatchString(got[2]) {
		t.Errorf("retries logged:\n%s", strings.Join(got, "\n"))
	}
}

// TestConnectionRefused: once the server has answered, nothing listening
// there is an outage: even a mutation is retried, up to the bound. (Before
// it has answered, see TestFailFast.)
func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	var down atomic.Bool
	var logs logBuffer
	c := testClient(t, srv, func(cfg *Config) {
		cfg.HTTPClient = &http.Client{Transport: deadTransport(t, &down)}
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	if _, err := c.Viewer(context.Background()); err != nil {
		t.Fatal(err)
	}
	down.Store(true)
	before := logs.count("msg=\"wandb request\"")
	_, err := c.CreateUser(context.Background(), "x@example.com", false)
	e := asError(t, err, "create_user", CodeTransport)
	if !strings.Contains(e.Message, "cannot reach the server") || !strings.Contains(e.Message, "gave up after 4 attempts") {
		t.Errorf("message = %q", e.Message)
	}
	if n := logs.count("msg=\"wandb request\"") - before; n != 4 {
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
	t.Parallel()
	var dials atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "wandb.exmaple.com", IsNotFound: true}}
	}}
	c, err := NewClient(Config{BaseURL: "https://wandb.exmaple.com", APIKey: NewSecret(strings.Repeat("a", 40)), Retry: fastRetry,
		HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Viewer(context.Background())
	e := asError(t, err, "viewer", CodeTransport)
	if n := dials.Load(); n != 1 {
		t.Errorf("%d attempts, want 1: an unknown host is not retried", n)
	}
	if want := "cannot reach the server at https://wandb.exmaple.com: no host is named wandb.exmaple.com (the DNS lookup found none): check the host name in the URL"; e.Message != want {
		t.Errorf("message %q, want %q", e.Message, want)
	}
}

func TestUnsupportedRedirectNotRetried(t *testing.T) {
	t.Parallel()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return errors.New("stopped after 10 redirects") }}
	// A 307 on the same server (which the client follows) that the
	// caller's own CheckRedirect stops: a transport error, not retried.
	redirector := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/graphql2", http.StatusTemporaryRedirect)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: redirector}
	go hs.Serve(ln)
	defer hs.Close()
	var logs logBuffer
	c, err := NewClient(Config{BaseURL: "http://" + ln.Addr().String(), APIKey: NewSecret(strings.Repeat("a", 40)), Retry: fastRetry,
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

func TestBackoff(t *testing.T) {
	t.Parallel()
	c := &Client{retry: RetryPolicy{MaxAttempts: 10, MinWait: 100 * time.Millisecond, MaxWait: time.Second, MaxRetryAfter: time.Minute}}
	for attempt, base := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond,
		4: 800 * time.Millisecond, 5: time.Second, 40: time.Second} {
		seen := map[time.Duration]bool{}
		for range 20 {
			got, from, ok := c.backoff(attempt, attemptResult{})
			if !ok || from != "" || got < base || got > base+base/4 {
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
	for _, tc := range []struct {
		name   string
		status int
		header http.Header
		want   time.Duration // 0: computed
		from   string
		ok     bool
	}{
		{"Retry-After", 503, http.Header{"Retry-After": {"30"}}, 30 * time.Second, "Retry-After", true},
		{"Retry-After over the cap", 429, http.Header{"Retry-After": {"61"}}, 61 * time.Second, "Retry-After", false},
		{"RateLimit-Reset on a 429", 429, wandbtest.RateLimited(30 * time.Second).Header, 30 * time.Second, "RateLimit-Reset", true},
		{"RateLimit-Reset over the cap", 429, wandbtest.RateLimited(61 * time.Second).Header, 61 * time.Second, "RateLimit-Reset", false},
		{"fractional RateLimit-Reset", 429, http.Header{"Ratelimit-Reset": {"1.5"}}, 1500 * time.Millisecond, "RateLimit-Reset", true},
		{"Retry-After before RateLimit-Reset", 429, http.Header{"Retry-After": {"2"}, "Ratelimit-Reset": {"9"}}, 2 * time.Second, "Retry-After", true},
		{"RateLimit-Reset when Retry-After is unreadable", 429, http.Header{"Retry-After": {"soon"}, "Ratelimit-Reset": {"9"}}, 9 * time.Second, "RateLimit-Reset", true},
		{"RateLimit-Remaining 0 on a 503", 503, http.Header{"Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {"7"}}, 7 * time.Second, "RateLimit-Reset", true},
		{"quota left: RateLimit-Reset is no wait", 503, http.Header{"Ratelimit-Remaining": {"40"}, "Ratelimit-Reset": {"7"}}, 0, "", true},
		{"RateLimit-Reset alone on a 503", 503, http.Header{"Ratelimit-Reset": {"7"}}, 0, "", true},
		{"negative RateLimit-Reset", 429, http.Header{"Ratelimit-Reset": {"-1"}}, 0, "", true},
		{"RateLimit-Reset twice", 429, http.Header{"Ratelimit-Reset": {"1", "2"}}, 0, "", true},
		{"RateLimit-Reset NaN", 429, http.Header{"Ratelimit-Reset": {"NaN"}}, 0, "", true},
	} {
		got, from, ok := c.backoff(1, attemptResult{status: tc.status, header: tc.header})
		if tc.want == 0 && (got < 100*time.Millisecond || got > 125*time.Millisecond) || tc.want != 0 && got != tc.want ||
			from != tc.from || ok != tc.ok {
			t.Errorf("%s: backoff = %v, %q, %v; want %v (0: computed), %q, %v", tc.name, got, from, ok, tc.want, tc.from, tc.ok)
		}
	}
}

func TestRetryAfterParsing(t *testing.T) {
	t.Parallel()
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
		{[]string{"NaN"}, 0, false},
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
	t.Parallel()
	d := defaultRetryPolicy()
	if got := (RetryPolicy{}).withDefaults(); got != d {
		t.Errorf("zero policy = %+v, want %+v", got, d)
	}
	got := RetryPolicy{MaxAttempts: 1, MinWait: time.Minute}.withDefaults()
	if got.MaxAttempts != 1 || got.MinWait != time.Minute || got.MaxWait != time.Minute || got.MaxRetryAfter != d.MaxRetryAfter {
		t.Errorf("partial policy = %+v", got)
	}
}
