package wandb

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// TestBreakerStates walks the breaker through its states without waiting:
// the pause is ended by moving openUntil.
func TestBreakerStates(t *testing.T) {
	var b breaker
	for i := 0; i < breakerThreshold-1; i++ {
		b.record(false)
		if ok, _ := b.allow(); !ok {
			t.Fatalf("open after %d failures, want %d", i+1, breakerThreshold)
		}
	}
	b.record(true) // a success in between starts the count again
	for range breakerThreshold {
		if ok, _ := b.allow(); !ok {
			t.Fatal("open before the threshold")
		}
		b.record(false)
	}
	if ok, wait := b.allow(); ok || wait <= 0 || wait > breakerMinPause {
		t.Fatalf("allow = %v, %v; want closed for up to %v", ok, wait, breakerMinPause)
	}
	b.openUntil = time.Now() // the pause is over: one probe
	if ok, _ := b.allow(); !ok {
		t.Fatal("no probe after the pause")
	}
	if ok, _ := b.allow(); ok {
		t.Fatal("a second attempt while the probe is out")
	}
	b.record(false) // the probe failed: a longer pause
	if b.pause != 2*breakerMinPause {
		t.Errorf("pause after a failed probe = %v, want %v", b.pause, 2*breakerMinPause)
	}
	b.openUntil = time.Now()
	if ok, _ := b.allow(); !ok {
		t.Fatal("no probe after the second pause")
	}
	b.record(true) // the probe reached the server: closed
	for range breakerThreshold - 1 {
		if ok, _ := b.allow(); !ok {
			t.Fatal("still open after a successful probe")
		}
		b.record(false)
	}
	if ok, _ := b.allow(); !ok {
		t.Error("open again before the threshold")
	}
	b.pause = breakerMaxPause
	b.probing, b.failures = true, breakerThreshold
	b.record(false)
	if b.pause != breakerMaxPause {
		t.Errorf("pause = %v, want at most %v", b.pause, breakerMaxPause)
	}
}

// TestServerDown: once a server is clearly down, calls fail at once with
// CodeUnavailable instead of each retrying; clients derived for the same
// server share that knowledge, a client for another server does not.
func TestServerDown(t *testing.T) {
	srv := wandbtest.Start(t)
	var dials atomic.Int32
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true // every attempt dials: attempts are counted by dials
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dial(ctx, network, addr)
	}
	c := testClient(t, srv, func(cfg *Config) {
		cfg.HTTPClient = &http.Client{Transport: tr}
		cfg.Retry = RetryPolicy{MaxAttempts: 3, MinWait: time.Millisecond, MaxWait: time.Millisecond}
	})
	ctx := context.Background()
	if _, err := c.Viewer(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	base := dials.Load()

	// The first call makes 3 attempts, the second 2 before the breaker
	// opens (5 in a row): it ends with its own failure, noting the rest.
	_, err := c.Users(ctx, "a")
	asError(t, err, "users", CodeTransport)
	_, err = c.Users(ctx, "b")
	if e := asError(t, err, "users", CodeTransport); !strings.HasSuffix(e.Message, "(the server looks down: no further attempts)") {
		t.Errorf("message = %q", e.Message)
	}
	if n := dials.Load() - base; n != breakerThreshold {
		t.Errorf("%d connection attempts, want %d", n, breakerThreshold)
	}
	// Now nothing is sent: every call fails at once, mutations included.
	before := dials.Load()
	for range 20 {
		_, err = c.CreateUser(ctx, "x@example.com", false)
		e := asError(t, err, "create_user", CodeUnavailable)
		if !strings.HasPrefix(e.Message, "the server at "+srv.URL+" looks down: 5 attempts in a row could not reach it; nothing is sent to it for the next ") {
			t.Fatalf("message = %q", e.Message)
		}
	}
	ro := c.WithReadOnly()
	if _, err := ro.Users(ctx, "c"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("a derived client tried the server: %v", err)
	}
	if n := dials.Load() - before; n != 0 {
		t.Errorf("%d connection attempts while the server is known to be down", n)
	}
	other := wandbtest.Start(t)
	oc, err := c.WithServer(other.URL, other.AdminKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oc.Viewer(ctx); err != nil {
		t.Errorf("another server's client is held back: %v", err)
	}
}
