package wandb

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// TestCancelDuringRetryWait cancels while the client waits out a long
// Retry-After: the call returns at once with context.Canceled. On the
// bubble's clock "at once" is exact: a wait that ignored the cancellation
// would show as the hour it lasted.
func TestCancelDuringRetryWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, viaPipe := bubbleServer(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := testClient(t, srv, viaPipe, func(cfg *Config) {
			cfg.Retry.MaxRetryAfter = 2 * time.Hour
			cfg.Logger = slog.New(hookHandler{msg: "wandb retry", fn: cancel})
		})
		srv.FailNext("GetViewer", wandbtest.Fault{Status: 503, Header: http.Header{"Retry-After": {"3600"}}, Body: `{"error":"maintenance"}`})
		start := time.Now()
		_, err := c.Viewer(ctx)
		if took := time.Since(start); took != 0 {
			t.Errorf("the call returned after %v, want at once", took)
		}
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
	})
}

// TestCancelInFlight cancels while the server holds the request: the call
// returns at once.
func TestCancelInFlight(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, viaPipe := bubbleServer(t)
		c := testClient(t, srv, viaPipe)
		ctx, cancel := context.WithCancel(context.Background())
		srv.FailNext("GetViewer", wandbtest.Fault{Delay: time.Hour})
		done := make(chan error, 1)
		go func() {
			_, err := c.Viewer(ctx)
			done <- err
		}()
		synctest.Wait() // the request waits out its delay on the server
		if n := srv.Requests("GetViewer"); n != 1 {
			t.Fatalf("%d requests on the server, want the one held", n)
		}
		start := time.Now()
		cancel()
		err := <-done
		if took := time.Since(start); took != 0 {
			t.Errorf("the call returned %v after the cancellation, want at once", took)
		}
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
	})
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
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
// mutation is not (the server may have applied it). On the bubble's clock
// the timeout bites exactly when it should, and only on the requests the
// server holds, however busy the machine.
func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const timeout = 500 * time.Millisecond
		srv, viaPipe := bubbleServer(t)
		c := testClient(t, srv, viaPipe, func(cfg *Config) { cfg.attemptTimeout = timeout })
		ctx := context.Background()
		srv.FailNext("GetViewer", wandbtest.Fault{Delay: time.Hour})
		start := time.Now()
		if _, err := c.Viewer(ctx); err != nil {
			t.Fatalf("Viewer after a timed-out attempt: %v", err)
		}
		// The attempt's timeout, then fastRetry's first wait (MinWait plus
		// up to 25% jitter), then an attempt the server answers at once.
		if took, least := time.Since(start), timeout+fastRetry.MinWait; took < least || took > least+fastRetry.MinWait/4 {
			t.Errorf("Viewer took %v, want %v plus up to %v", took, least, fastRetry.MinWait/4)
		}
		if n := srv.Requests("GetViewer"); n != 2 {
			t.Errorf("%d GetViewer attempts, want 2", n)
		}
		// A mutation whose attempt timed out is not retried blindly: the email
		// is looked up first (not there: the delay came before the server
		// applied it), and only then sent again.
		srv.FailNext("CreateUserFromAdmin", wandbtest.Fault{Delay: time.Hour})
		if _, err := c.CreateUser(ctx, "slow@example.com", false); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		if n := srv.Requests("CreateUserFromAdmin"); n != 2 {
			t.Errorf("%d CreateUserFromAdmin attempts, want 2", n)
		}
		// When the lookup cannot be made either, the error says the change may
		// have been applied, with what the attempt hit.
		srv.FailNext("CreateUserFromAdmin", wandbtest.Fault{Delay: time.Hour})
		srv.FailNext("SearchUsers", wandbtest.Fault{Status: 400, Body: `{"errors":[{"message":"no"}]}`})
		_, err := c.CreateUser(ctx, "slower@example.com", false)
		want := "the change may have been applied: no complete response within 500ms, the time each attempt has; give it more with WANDB__GRAPHQL_TIMEOUT_SECONDS, or WANDB_HTTP_TIMEOUT when that is not set (seconds) (checking failed: no); look the user up by email before creating it again"
		if e := asError(t, err, "create_user", CodeUnknownOutcome); e.Message != want {
			t.Errorf("message = %q, want %q", e.Message, want)
		}
		if !errors.Is(err, &Error{Code: CodeTimeout}) {
			t.Error("the unknown outcome does not wrap the timeout")
		}
	})
}

// TestLogging: one debug line per attempt, one info line per retry, and
// never the key.
func TestLogging(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	var logs logBuffer
	c := testClient(t, srv, func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	srv.FailNext("GetViewer", wandbtest.Fault{Status: 502, Body: "key " + srv.AdminKey()})
	srv.FailNext("GetViewer", wandbtest.Fault{Drop: true})
	if _, err := c.Viewer(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if strings.Contains(out, srv.AdminKey()) || strings.Contains(out, basicCredentials(srv.AdminKey())) {
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

// TestSlowBody: a body that trickles in cannot hold a call beyond the
// attempt timeout, which covers reading the answer: the call ends exactly
// at the timeout.
func TestSlowBody(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const timeout = 200 * time.Millisecond
		srv, viaPipe := bubbleServer(t)
		c := testClient(t, srv, viaPipe, func(cfg *Config) {
			cfg.attemptTimeout = timeout
			cfg.Retry.MaxAttempts = 1
		})
		body := `{"data":{"viewer":{"id":"VXNlcjox","name":"A","username":"a","email":"a@example.com"}}}`
		srv.FailNext("GetViewer", wandbtest.Fault{Body: body, Trickle: 50 * time.Millisecond}) // 4 s in all
		start := time.Now()
		_, err := c.Viewer(context.Background())
		if took := time.Since(start); took != timeout {
			t.Errorf("Viewer took %v, want the attempt timeout, %v", took, timeout)
		}
		// The message names the variable that wins first: WANDB_HTTP_TIMEOUT
		// alone would send a user who has the other set to one that
		// changes nothing.
		want := "no complete response within 200ms, the time each attempt has; give it more with WANDB__GRAPHQL_TIMEOUT_SECONDS, or WANDB_HTTP_TIMEOUT when that is not set (seconds)"
		if e := asError(t, err, "viewer", CodeTimeout); e.Message != want {
			t.Errorf("message = %q, want %q", e.Message, want)
		}
	})
}

// TestCancelWhileWaitingAfterABlindResend: a team creation the server
// applied and answered 429 is sent again (a 429 reads as refused); when
// the caller's context ends while the client waits out the resend's
// Retry-After, the first send may have been applied, so the outcome is
// checked, not reported as a cancellation of a change that did not
// happen.
func TestCancelWhileWaitingAfterABlindResend(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, viaPipe := bubbleServer(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		retries := 0
		c := testClient(t, srv, viaPipe, func(cfg *Config) {
			cfg.Retry.MaxRetryAfter = time.Hour
			cfg.Logger = slog.New(hookHandler{msg: "wandb retry", fn: func() {
				if retries++; retries == 2 { // the wait after the resend
					cancel()
				}
			}})
		})
		srv.FailNext("CreateTeam",
			wandbtest.Fault{Status: 429, AfterApply: true},
			wandbtest.Fault{Status: 429, Header: http.Header{"Retry-After": {"60"}}})
		team, err := c.CreateTeam(ctx, "late", "")
		if n := srv.Requests("CreateTeam"); n != 2 {
			t.Fatalf("%d creations sent, want 2", n)
		}
		// The check finds the team, with the caller as its admin: created.
		if err != nil || team == nil {
			t.Errorf("a creation the server applied ends %v, %v", team, err)
		}
	})
}
