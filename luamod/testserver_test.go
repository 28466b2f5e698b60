package luamod

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// gatedServer is a wandbtest handler on loopback behind a gate that holds
// each request until n requests are held at once, then lets all through
// (and every later one, until rearm). A call that blocked the other items
// instead of overlapping with them would never let n requests gather, so a
// test over it fails at its context's timeout instead of passing slowly.
// The server also counts the TCP connections clients open, and around, when
// set, wraps the serving of each request that passed the gate.
type gatedServer struct {
	*wandbtest.Handler
	URL   string
	conns atomic.Int64

	mu     sync.Mutex
	around func(body []byte, serve func()) // see setAround
	inside int                             // requests in serve now
	maxIn  int                             // most requests in serve at once
	n      int
	open   chan struct{}
}

func newGatedServer(t *testing.T, n int, opts ...wandbtest.Option) *gatedServer {
	t.Helper()
	h, err := wandbtest.NewHandler(opts...)
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedServer{Handler: h, n: n, open: make(chan struct{})}
	if n <= 1 {
		close(g.open)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(g.serve))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			g.conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(func() {
		g.rearm(0) // let held requests through, so Close does not wait for them
		srv.CloseClientConnections()
		srv.Close()
	})
	g.URL = srv.URL
	return g
}

func (g *gatedServer) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.inside++
	g.maxIn = max(g.maxIn, g.inside)
	open, around := g.open, g.around
	if g.inside >= g.n {
		g.openGate()
	}
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inside--
		g.mu.Unlock()
	}()
	select {
	case <-open:
	case <-r.Context().Done():
		return
	}
	if around == nil {
		g.Handler.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	around(body, func() { g.Handler.ServeHTTP(w, r) })
}

// setAround makes each request that passes the gate call around with the
// request's body and a function that serves it.
func (g *gatedServer) setAround(around func(body []byte, serve func())) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.around = around
}

// openGate lets the requests held at the gate through. g.mu is held.
func (g *gatedServer) openGate() {
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// rearm lets the requests held now through and closes the gate again: from
// now on, requests wait until n are held at once (n <= 1: no wait).
func (g *gatedServer) rearm(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.openGate()
	g.n, g.maxIn, g.open = n, 0, make(chan struct{})
	if n <= 1 {
		g.openGate()
	}
}

// maxInside returns the most requests the server held at once.
func (g *gatedServer) maxInside() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.maxIn
}

// gateTimeout bounds a test whose requests wait at a gate: reaching it
// means the calls did not overlap.
const gateTimeout = 20 * time.Second

// waitFor polls cond until it holds. After gateTimeout, which only
// catches a hang and asserts nothing about speed, it fails the test naming
// what it waited for, and returns. It may run on any goroutine (a parallel
// item's, or one a test starts), so it fails with Errorf, and its caller
// goes on as if cond held, so that the run under test ends.
func waitFor(t *testing.T, what string, cond func() bool) {
	deadline := time.Now().Add(gateTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("timed out waiting for %s", what)
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// gatedState returns an LState with the module for the admin of g, whose
// context ends after gateTimeout, and that context.
func gatedState(t *testing.T, g *gatedServer) (*lua.LState, context.Context) {
	t.Helper()
	L, _ := newState(t, newClient(t, g.URL, g.AdminKey()))
	ctx, cancel := context.WithTimeout(context.Background(), gateTimeout)
	t.Cleanup(cancel)
	L.SetContext(ctx)
	return L, ctx
}

// addUsers adds users u1@example.com ... un@example.com to g.
func addUsers(t *testing.T, g *gatedServer, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		if _, err := g.AddUser(wandbtest.SeedUser{Email: "u" + itoa(i) + "@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
}

func itoa(i int) string { return lua.LNumber(i).String() }
