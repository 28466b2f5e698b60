package luamod

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// wandb.parallel over real HTTP: the module's network functions against a
// wandbtest server on loopback, through the client's default HTTP client.

// gatedServer is a wandbtest handler behind a gate that holds each request
// until n requests are held at once (then lets all through), and that
// counts the TCP connections clients open.
type gatedServer struct {
	*wandbtest.Handler
	URL   string
	conns atomic.Int64

	mu     sync.Mutex
	inside int // requests in serve now
	maxIn  int // most requests in serve at once
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
	srv := httptest.NewUnstartedServer(http.HandlerFunc(g.serve))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			g.conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(func() {
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
	if g.inside >= g.n {
		select {
		case <-g.open:
		default:
			close(g.open)
		}
	}
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inside--
		g.mu.Unlock()
	}()
	select {
	case <-g.open:
	case <-r.Context().Done():
		return
	}
	g.Handler.ServeHTTP(w, r)
}

// maxInside returns the most requests the server held at once.
func (g *gatedServer) maxInside() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.maxIn
}

// newModuleState returns an LState with the module loaded as global wandb,
// for a client of url authenticated with key (the client's default HTTP
// client). It sets no context: see withTimeout.
func newModuleState(tb testing.TB, url, key string) *lua.LState {
	tb.Helper()
	c, err := wandb.NewClient(wandb.Config{BaseURL: url, APIKey: key})
	if err != nil {
		tb.Fatal(err)
	}
	L := lua.NewState()
	tb.Cleanup(L.Close)
	L.PreloadModule("wandb", Loader(c))
	if err := L.DoString(`wandb = require("wandb")`); err != nil {
		tb.Fatal(err)
	}
	return L
}

// withTimeout gives L a context that bounds the test.
func withTimeout(t *testing.T, L *lua.LState) *lua.LState {
	ctx, cancel := context.WithTimeout(context.Background(), harnessTimeout)
	t.Cleanup(cancel)
	L.SetContext(ctx)
	return L
}

func TestParallelCreatesUsersConcurrentlyOverHTTP(t *testing.T) {
	const n, conc = 40, 8
	g := newGatedServer(t, conc) // the first conc requests wait for each other
	L := withTimeout(t, newModuleState(t, g.URL, g.AdminKey()))
	err := L.DoString(`
		local emails = {}
		for i = 1, ` + itoa(n) + ` do emails[i] = "user" .. i .. "@example.com" end
		local r = wandb.parallel(emails, function(email, i)
			local u = assert(wandb.create_user(email))
			local ok, again = pcall(function() return assert(wandb.user(u.email)) end)
			assert(ok and again == u, "lookup after create")
			return u.email
		end, { concurrency = ` + itoa(conc) + ` })
		for i = 1, #emails do assert(r[i] == emails[i], "result " .. i) end
	`)
	if err != nil {
		t.Fatal(err)
	}
	// The gate opened, so conc requests were in flight at once; never more.
	if got := g.maxInside(); got != conc {
		t.Errorf("server held at most %d requests at once, want %d", got, conc)
	}
	if got := g.MaxInFlight(); got > conc {
		t.Errorf("wandbtest saw %d requests at once, more than the concurrency %d", got, conc)
	}
	if got := g.Requests(""); got != 2*n {
		t.Errorf("server got %d requests, want %d", got, 2*n)
	}
	// Connections are kept alive and reused: at most one per coroutine.
	if got := g.conns.Load(); got > conc {
		t.Errorf("%d TCP connections for %d requests at concurrency %d: connections are not reused", got, 2*n, conc)
	}
	for i := 1; i <= n; i++ {
		if _, ok := g.UserByEmail("user" + itoa(i) + "@example.com"); !ok {
			t.Errorf("user%d was not created", i)
		}
	}
}

func TestParallelWandbErrorOverHTTP(t *testing.T) {
	g := newGatedServer(t, 1)
	if _, err := g.AddUser(wandbtest.SeedUser{Email: "taken@example.com"}); err != nil {
		t.Fatal(err)
	}
	L := withTimeout(t, newModuleState(t, g.URL, g.AdminKey()))
	err := L.DoString(`
		local emails = { "a@example.com", "taken@example.com", "b@example.com" }
		-- collect: the slot holds the record; the wandb error is reachable
		local r, failures = wandb.parallel(emails, function(email)
			return assert(wandb.create_user(email)).email
		end, { on_error = "collect" })
		assert(#failures == 1 and failures[1].index == 2, "one failure, item 2")
		assert(r[2] == failures[1])
		assert(r[2].error.code == "conflict", "code " .. tostring(r[2].error.code))
		assert(r[2].error.status == 409)
		assert(r[1] == "a@example.com" and r[3] == "b@example.com")
		collected = tostring(r[2])
		-- raise: the same record is raised
		local ok, e = pcall(wandb.parallel, { "c@example.com", "taken@example.com" }, function(email)
			return assert(wandb.create_user(email)).email
		end)
		assert(not ok and e.index == 2 and e.error.code == "conflict")
	`)
	if err != nil {
		t.Fatal(err)
	}
	got := L.GetGlobal("collected").String()
	if !strings.HasPrefix(got, "wandb.parallel: item 2: wandb: create_user: ") || !strings.Contains(got, "taken@example.com") {
		t.Errorf("tostring(record) = %q", got)
	}
}

func TestParallelCancelStopsRequestsInFlight(t *testing.T) {
	g := newGatedServer(t, 1, wandbtest.WithLatency(time.Hour))
	L := withTimeout(t, newModuleState(t, g.URL, g.AdminKey()))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	L.SetContext(ctx)
	go func() {
		// Cancel once four requests wait in the server.
		for g.InFlight() < 4 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	err := L.DoString(`wandb.parallel({ "a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io" }, function(e) return wandb.create_user(e) end, { concurrency = 4 })`)
	if err == nil || !strings.HasPrefix(err.Error(), "wandb.parallel: context canceled") {
		t.Fatalf("error = %v, want the cancellation", err)
	}
	if got := g.Requests(""); got != 4 {
		t.Errorf("server got %d requests, want 4 (the fifth item never started)", got)
	}
}

func TestNetworkFunctionsBlockOutsideParallel(t *testing.T) {
	g := newGatedServer(t, 1)
	L := withTimeout(t, newModuleState(t, g.URL, g.AdminKey()))
	err := L.DoString(`
		local me = assert(wandb.viewer())
		local co = coroutine.create(function() return assert(wandb.user(me.email)) end)
		local ok, u = coroutine.resume(co)
		assert(ok and u == me and coroutine.status(co) == "dead")
		local ok2, u2 = pcall(wandb.user, me.email)
		assert(ok2 and u2 == me)
	`)
	if err != nil {
		t.Fatal(err)
	}
}

func itoa(i int) string { return lua.LNumber(i).String() }
