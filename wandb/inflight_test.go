package wandb

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// TestMaxInFlight: a client and a client derived from it send at most
// Config.MaxInFlight requests at once between them, however many
// goroutines call them; and they do send that many. The first requests
// are held at the server until that many have arrived.
func TestMaxInFlight(t *testing.T) {
	const bound, calls = 3, 24
	var arrived atomic.Int32
	full := make(chan struct{})
	pick := func(string) (wandbtest.Fault, bool) {
		if arrived.Add(1) == bound {
			close(full)
		}
		select {
		case <-full:
		case <-time.After(10 * time.Second): // fewer in flight than the bound: reported below
		}
		return wandbtest.Fault{}, false
	}
	srv := wandbtest.Start(t, wandbtest.WithFaults(pick))
	c := testClient(t, srv, func(cfg *Config) { cfg.MaxInFlight = bound })
	d := c.WithReadOnly()
	var wg sync.WaitGroup
	for i := range calls {
		cl := c
		if i%2 == 1 {
			cl = d
		}
		wg.Go(func() {
			if _, err := cl.Users(context.Background(), "x"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := srv.MaxInFlight(); n != bound {
		t.Errorf("at most %d requests in flight, want %d", n, bound)
	}
	if n := srv.Requests("SearchUsers"); n != calls {
		t.Errorf("%d requests, want %d", n, calls)
	}
}

// TestMaxInFlightWait: a call waiting for a place among the requests in
// flight gives up when its context ends, having sent nothing.
func TestMaxInFlightWait(t *testing.T) {
	srv := wandbtest.Start(t)
	c := testClient(t, srv, func(cfg *Config) { cfg.MaxInFlight = 1 })
	srv.FailNext("SearchUsers", wandbtest.Fault{Stall: true})
	hold, release := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Users(hold, "held")
		done <- err
	}()
	for srv.Stalled() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.WithReadOnly().Viewer(ctx)
	asError(t, err, "viewer", CodeTimeout)
	if n := srv.Requests("GetViewer"); n != 0 {
		t.Errorf("%d requests sent while waiting for a place", n)
	}
	release()
	asError(t, <-done, "users", CodeCanceled)
	if _, err := c.Viewer(context.Background()); err != nil {
		t.Errorf("Viewer once the place is free: %v", err)
	}
}

// TestMaxInFlightPerServer: a client for another server has a bound of
// its own; one for the same server, named again, shares it.
func TestMaxInFlightPerServer(t *testing.T) {
	srv, other := wandbtest.Start(t), wandbtest.Start(t)
	c := testClient(t, srv, func(cfg *Config) { cfg.MaxInFlight = 1 })
	srv.FailNext("SearchUsers", wandbtest.Fault{Stall: true})
	hold, release := context.WithCancel(context.Background())
	defer release()
	go func() { _, _ = c.Users(hold, "held") }()
	for srv.Stalled() == 0 {
		time.Sleep(time.Millisecond)
	}
	oc, err := c.WithServer(other.URL, other.AdminKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oc.Viewer(context.Background()); err != nil {
		t.Errorf("another server's client waits for this one's: %v", err)
	}
	sc, err := c.WithServer(srv.URL+"/", srv.AdminKey())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = sc.Viewer(ctx)
	asError(t, err, "viewer", CodeTimeout)
	if n := srv.Requests("GetViewer"); n != 0 {
		t.Errorf("%d requests sent past the bound by a client for the same server", n)
	}
}
