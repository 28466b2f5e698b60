package wandb

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// TestMaxInFlight: a client and a client derived from it send at most
// Config.MaxInFlight requests at once between them, however many
// goroutines call them; and they do send that many. The server holds each
// request for a second of the bubble's clock: once every call has started,
// exactly the bound are on the server, and the calls go through in rounds
// of that many.
func TestMaxInFlight(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const bound, calls, latency = 3, 24, time.Second
		srv, viaPipe := bubbleServer(t, wandbtest.WithLatency(latency))
		c := testClient(t, srv, viaPipe, func(cfg *Config) { cfg.MaxInFlight = bound })
		d := c.WithReadOnly()
		start := time.Now()
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
		synctest.Wait() // every call has sent its request or waits for a place
		if n := srv.InFlight(); n != bound {
			t.Errorf("%d requests on the server once every call has started, want %d", n, bound)
		}
		wg.Wait()
		if n := srv.MaxInFlight(); n != bound {
			t.Errorf("at most %d requests in flight, want %d", n, bound)
		}
		if n := srv.Requests("SearchUsers"); n != calls {
			t.Errorf("%d requests, want %d", n, calls)
		}
		if took, want := time.Since(start), calls/bound*latency; took != want {
			t.Errorf("the calls took %v, want %v: %d rounds of %d requests", took, want, calls/bound, bound)
		}
	})
}

// TestMaxInFlightWait: a call waiting for a place among the requests in
// flight gives up when its context ends, having sent nothing.
func TestMaxInFlightWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, viaPipe := bubbleServer(t)
		c := testClient(t, srv, viaPipe, func(cfg *Config) { cfg.MaxInFlight = 1 })
		srv.FailNext("SearchUsers", wandbtest.Fault{Stall: true})
		hold, release := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := c.Users(hold, "held")
			done <- err
		}()
		synctest.Wait()
		if n := srv.Stalled(); n != 1 {
			t.Fatalf("%d requests held by the server, want 1", n)
		}
		const wait = 20 * time.Millisecond
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		start := time.Now()
		_, err := c.WithReadOnly().Viewer(ctx)
		asError(t, err, "viewer", CodeTimeout)
		if took := time.Since(start); took != wait {
			t.Errorf("the waiting call gave up after %v, want its context's %v", took, wait)
		}
		if n := srv.Requests("GetViewer"); n != 0 {
			t.Errorf("%d requests sent while waiting for a place", n)
		}
		release()
		asError(t, <-done, "users", CodeCanceled)
		if _, err := c.Viewer(context.Background()); err != nil {
			t.Errorf("Viewer once the place is free: %v", err)
		}
	})
}

// TestMaxInFlightPerServer: a client for another server has a bound of
// its own; one for the same server, named again, shares it.
func TestMaxInFlightPerServer(t *testing.T) {
	t.Parallel()
	srv, other := wandbtest.Start(t), wandbtest.Start(t)
	c := testClient(t, srv, func(cfg *Config) { cfg.MaxInFlight = 1 })
	srv.FailNext("SearchUsers", wandbtest.Fault{Stall: true})
	hold, release := context.WithCancel(context.Background())
	defer release()
	go func() { _, _ = c.Users(hold, "held") }()
	waitFor(t, "the held request to stall on the server", func() bool { return srv.Stalled() > 0 })
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
	if sc.fam != c.fam || oc.fam == c.fam {
		t.Error("a client for the same server is not of c's family, or one for another server is")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = sc.Viewer(ctx)
	asError(t, err, "viewer", CodeTimeout)
	if n := srv.Requests("GetViewer"); n != 0 {
		t.Errorf("%d requests sent past the bound by a client for the same server", n)
	}
}
