package wandb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// TestBreakerStates walks the breaker through its states on synctest's
// clock: the pauses pass without waiting.
func TestBreakerStates(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var b breaker
		closed := func(when string) {
			t.Helper()
			if _, ok, _ := b.allow(); !ok {
				t.Fatalf("%s: open, want closed", when)
			}
		}
		// Refused connections: five in a row open it at once.
		for i := range breakerThreshold - 1 {
			b.record(permit{}, noConnection)
			closed(fmt.Sprintf("after %d refused connections", i+1))
		}
		b.record(permit{}, answered) // an answer in between starts the count again
		for range breakerThreshold {
			closed("before the threshold")
			b.record(permit{}, noConnection)
		}
		if _, ok, wait := b.allow(); ok || wait != breakerMinPause {
			t.Fatalf("allow = %v, %v; want open for %v", ok, wait, breakerMinPause)
		}
		time.Sleep(breakerMinPause) // the pause is over: one probe
		p, ok, _ := b.allow()
		if !ok || !p.probe {
			t.Fatal("no probe after the pause")
		}
		if _, ok, _ := b.allow(); ok {
			t.Fatal("a second attempt while the probe is out")
		}
		b.record(p, noConnection) // the probe failed: a longer pause
		if _, ok, wait := b.allow(); ok || wait != 2*breakerMinPause {
			t.Errorf("allow after a failed probe = %v, %v; want open for %v", ok, wait, 2*breakerMinPause)
		}
		time.Sleep(2 * breakerMinPause)
		p, ok, _ = b.allow()
		if !ok || !p.probe {
			t.Fatal("no probe after the second pause")
		}
		b.record(p, answered) // the probe reached the server: closed
		for range breakerThreshold - 1 {
			closed("after a successful probe")
			b.record(permit{}, noConnection)
		}
		closed("before the threshold, again")

		// The pause doubles up to breakerMaxPause.
		b.record(permit{}, noConnection)
		for range 10 {
			time.Sleep(breakerMaxPause)
			p, ok, _ := b.allow()
			if !ok || !p.probe {
				t.Fatal("no probe after the pause")
			}
			b.record(p, noAnswer)
		}
		if _, _, wait := b.allow(); wait != breakerMaxPause {
			t.Errorf("pause = %v, want at most %v", wait, breakerMaxPause)
		}
	})
}

// TestBreakerWantsEvidence: failures that a flaky server also shows (lost
// connections, timeouts, a gateway's 502) open the breaker only when no
// answer has come for breakerWindow, or when a connection was refused
// among them; any answer, from any caller, starts the count again.
func TestBreakerWantsEvidence(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var b breaker
		for range 100 {
			b.record(permit{}, noAnswer)
		}
		if _, ok, _ := b.allow(); !ok {
			t.Fatal("open after failures within an instant")
		}
		time.Sleep(breakerWindow - time.Millisecond)
		b.record(permit{}, answered)
		time.Sleep(time.Millisecond)
		for range breakerThreshold - 1 {
			b.record(permit{}, noAnswer)
		}
		b.record(permit{}, noConnection) // the fifth in a row since the answer
		if _, ok, _ := b.allow(); ok {
			t.Fatal("closed after five failures in a row, one of them a refused connection")
		}

		b = breaker{}
		b.record(permit{}, noConnection)
		b.record(permit{}, answered)
		for range breakerThreshold {
			b.record(permit{}, noAnswer)
		}
		if _, ok, _ := b.allow(); !ok {
			t.Fatal("open on a refused connection from before the server's last answer")
		}
		time.Sleep(breakerWindow)
		b.record(permit{}, noAnswer)
		if _, ok, _ := b.allow(); ok {
			t.Fatalf("closed after %v without an answer", breakerWindow)
		}
	})
}

// TestBreakerProbeWithoutAnswer: a probe that ends saying nothing about
// the server (its caller cancelled it) gives its place to the next
// attempt instead of keeping the breaker open for good.
func TestBreakerProbeWithoutAnswer(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var b breaker
		for range breakerThreshold {
			b.record(permit{}, noConnection)
		}
		time.Sleep(breakerMinPause)
		p, ok, _ := b.allow()
		if !ok || !p.probe {
			t.Fatal("no probe after the pause")
		}
		b.record(p, noEvidence)
		p, ok, _ = b.allow()
		if !ok || !p.probe {
			t.Fatal("no probe after the first ended without an answer")
		}
		b.record(p, answered)
		if _, ok, _ := b.allow(); !ok {
			t.Fatal("open after the server answered a probe")
		}
	})
}

// TestBreakerCheck: an outcome check is let through while the breaker is
// open: it probes the server, pause or not, or waits for the probe out
// and takes its result; once it has probed, it is refused like any other
// attempt.
func TestBreakerCheck(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var b breaker
		if p, ok, err := b.allowCheck(ctx, false); !ok || p.probe || err != nil {
			t.Fatalf("closed: allowCheck = %v, %v, %v", p, ok, err)
		}
		for range breakerThreshold {
			b.record(permit{}, noConnection)
		}
		// During the pause: the check probes at once.
		p, ok, err := b.allowCheck(ctx, false)
		if !ok || !p.probe || err != nil {
			t.Fatalf("open: allowCheck = %v, %v, %v; want a probe", p, ok, err)
		}
		if _, ok, err := b.allowCheck(ctx, true); ok || err != nil {
			t.Fatalf("a check that probed: allowCheck = %v, %v; want refused", ok, err)
		}
		// Other checks wait for the probe out, and take its result.
		waiting := func() <-chan bool {
			got := make(chan bool, 1)
			go func() {
				p, ok, err := b.allowCheck(ctx, false)
				if err != nil || p.probe {
					t.Errorf("waiting check: allowCheck = %v, %v, %v", p, ok, err)
				}
				got <- ok
			}()
			synctest.Wait()
			select {
			case <-got:
				t.Fatal("a check went ahead while the probe was out")
			default:
			}
			return got
		}
		got := waiting()
		b.record(p, noConnection) // no answer: refused, the server was just tried
		if <-got {
			t.Error("a check went ahead after the probe it waited for got no answer")
		}
		p, _, _ = b.allowCheck(ctx, false) // no probe out: this one probes
		got = waiting()
		b.record(p, answered)
		if !<-got {
			t.Error("a check was refused after the probe it waited for got an answer")
		}
		// A probe that ends saying nothing leaves a waiting check to probe.
		for range breakerThreshold {
			b.record(permit{}, noConnection)
		}
		p, _, _ = b.allowCheck(ctx, false)
		probes := make(chan permit, 1)
		go func() {
			p, _, _ := b.allowCheck(ctx, false)
			probes <- p
		}()
		synctest.Wait()
		b.record(p, noEvidence)
		if p := <-probes; !p.probe {
			t.Error("the waiting check did not probe after the probe ended without an answer")
		}
		// A check whose context ends while it waits gives up.
		cctx, cancel := context.WithCancel(ctx)
		errc := make(chan error, 1)
		go func() {
			_, _, err := b.allowCheck(cctx, false)
			errc <- err
		}()
		synctest.Wait()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("allowCheck = %v, want context.Canceled", err)
		}
	})
}

// deadTransport returns a transport that, while down is set, connects to
// an address where nothing listens, so that its attempts fail as those to
// a dead server do; each attempt opens a connection of its own.
func deadTransport(t *testing.T, down *atomic.Bool) *http.Transport {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if down.Load() {
			addr = dead
		}
		return dial(ctx, network, addr)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// TestBreakerFlakyServer: a server that answers after dropping
// connections and sending a gateway's 502 and 504, six times in a row, is
// still tried: such failures open the breaker only when no answer has
// come for breakerWindow.
func TestBreakerFlakyServer(t *testing.T) {
	srv := wandbtest.Start(t)
	c := testClient(t, srv, func(cfg *Config) {
		cfg.Retry = RetryPolicy{MaxAttempts: 7, MinWait: time.Millisecond, MaxWait: time.Millisecond}
	})
	srv.FailNext("GetViewer", wandbtest.Fault{Status: 502}, wandbtest.Fault{Drop: true}, wandbtest.Fault{Status: 504},
		wandbtest.Fault{Status: 503}, wandbtest.Fault{Drop: true}, wandbtest.Fault{Status: 502})
	if _, err := c.Viewer(context.Background()); err != nil {
		t.Fatalf("Viewer: %v", err)
	}
	if n := srv.Requests("GetViewer"); n != 7 {
		t.Errorf("%d attempts, want 7", n)
	}
}

// TestBreakerCancelledProbe: the probe after the pause is cancelled while
// the server holds it; the next call probes again and reaches the server,
// which has come back, instead of the breaker staying open for good.
func TestBreakerCancelledProbe(t *testing.T) {
	srv := wandbtest.Start(t)
	var down atomic.Bool
	c := testClient(t, srv, func(cfg *Config) {
		cfg.HTTPClient = &http.Client{Transport: deadTransport(t, &down)}
		cfg.Retry = RetryPolicy{MaxAttempts: breakerThreshold, MinWait: time.Millisecond, MaxWait: time.Millisecond}
	})
	ctx := context.Background()
	if _, err := c.Viewer(ctx); err != nil { // it answered: refusals are an outage now
		t.Fatal(err)
	}
	down.Store(true)
	_, err := c.Users(ctx, "a")
	asError(t, err, "users", CodeTransport)
	_, err = c.Users(ctx, "b")
	if e := asError(t, err, "users", CodeUnavailable); !strings.Contains(e.Message, "looks down") {
		t.Fatalf("message = %q, want the breaker open", e.Message)
	}

	down.Store(false) // the server is back; the pause ends
	c.brk.mu.Lock()
	c.brk.openUntil = time.Now()
	c.brk.mu.Unlock()
	srv.FailNext("SearchUsers", wandbtest.Fault{Stall: true})
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := c.Users(pctx, "c")
		done <- err
	}()
	waitFor(t, "the probe to stall on the server", func() bool { return srv.Stalled() > 0 })
	cancel()
	asError(t, <-done, "users", CodeCanceled)

	before := srv.Requests("SearchUsers")
	if _, err := c.Users(ctx, "d"); err != nil {
		t.Fatalf("Users after the probe was cancelled: %v", err)
	}
	if n := srv.Requests("SearchUsers") - before; n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// TestOutcomeCheckThroughOpenBreaker: the server drops the answer to a
// creation it applied, just as the breaker opens (other calls found the
// server unreachable meanwhile). The check of the creation's outcome is
// not refused: it probes the server, which answers, and the call
// succeeds instead of ending with an unknown outcome.
func TestOutcomeCheckThroughOpenBreaker(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	var held atomic.Bool
	pick := func(op string) (wandbtest.Fault, bool) {
		if op != "CreateUserFromAdmin" || !held.CompareAndSwap(false, true) {
			return wandbtest.Fault{}, false
		}
		close(arrived)
		<-release
		return wandbtest.Fault{Drop: true, AfterApply: true}, true
	}
	srv := wandbtest.Start(t, wandbtest.WithFaults(pick))
	var down atomic.Bool
	c := testClient(t, srv, func(cfg *Config) {
		cfg.HTTPClient = &http.Client{Transport: deadTransport(t, &down)}
		cfg.Retry = RetryPolicy{MaxAttempts: breakerThreshold, MinWait: time.Millisecond, MaxWait: time.Millisecond}
	})
	ctx := context.Background()
	if _, err := c.Viewer(ctx); err != nil { // it answered: refusals are an outage now
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.CreateUser(ctx, "late@example.com", false)
		done <- err
	}()
	<-arrived
	down.Store(true)
	_, err := c.Users(ctx, "a")
	asError(t, err, "users", CodeTransport)
	_, err = c.Users(ctx, "b")
	if e := asError(t, err, "users", CodeUnavailable); !strings.Contains(e.Message, "looks down") {
		t.Fatalf("message = %q, want the breaker open", e.Message)
	}
	down.Store(false)
	close(release)
	// The check got through and found the user (which, after a lost
	// answer, cannot be told from another program's: unknown, but seen).
	if e := asError(t, <-done, "create_user", CodeUnknownOutcome); !strings.Contains(e.Message, "late@example.com exists now") {
		t.Fatalf("CreateUser: %v", e)
	}
	if _, ok := srv.UserByEmail("late@example.com"); !ok {
		t.Error("the user is not on the server")
	}
	if n := srv.Requests("CreateUserFromAdmin"); n != 1 {
		t.Errorf("the creation was sent %d times, want once", n)
	}
}
