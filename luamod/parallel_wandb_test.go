package luamod

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
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
	open := g.open
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
	g.Handler.ServeHTTP(w, r)
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
	if n <= 0 {
		g.openGate()
	}
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

func TestEveryNetworkFunctionSuspendsInsideParallel(t *testing.T) {
	// Each function and method of the Lua API that sends a request, called
	// by four items at concurrency 4: the server's gate lets the requests
	// through only once all four wait in it, so a call that blocked instead
	// of suspending would never get an answer (the test would end at its
	// timeout), and the counters say how each call went.
	const conc = 4
	cases := []struct{ name, fn, want string }{
		{"wandb.viewer", `return assert(wandb.viewer()).email`, "admin@example.com"},
		{"wandb.user", `return assert(wandb.user("u" .. x .. "@example.com")).email`, "u?@example.com"},
		{"wandb.users", `return #assert(wandb.users("u" .. x .. "@"))`, "1"},
		{"wandb.create_user", `return assert(wandb.create_user("new" .. x .. "@example.com")).email`, "new?@example.com"},
		{"api:viewer", `return assert(api():viewer()).email`, "admin@example.com"},
		{"api:user", `return assert(api():user("u" .. x .. "@example.com")).email`, "u?@example.com"},
		{"api:users", `return #assert(api():users("u" .. x .. "@"))`, "1"},
		{"api:create_user", `return assert(api():create_user("new" .. x .. "@example.com")).email`, "new?@example.com"},
		{"u:generate_api_key", `return #assert(me:generate_api_key("k" .. x))`, "40"},
		{"u:delete_api_key", `return assert(me:delete_api_key(names[x]))`, "true"},
	}
	// Every network function of the module is in the table above.
	var names []string
	for _, c := range cases {
		names = append(names, c.name)
	}
	for name := range clientFuncs() {
		for _, want := range []string{"wandb." + name, "api:" + name} {
			if !slices.Contains(names, want) {
				t.Errorf("%s is not tested here", want)
			}
		}
	}
	for name := range userMethods() {
		if !slices.Contains(names, "u:"+name) {
			t.Errorf("u:%s is not tested here", name)
		}
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newGatedServer(t, 1) // open for the set-up
			for i := 1; i <= conc; i++ {
				if _, err := g.AddUser(wandbtest.SeedUser{Email: fmt.Sprintf("u%d@example.com", i)}); err != nil {
					t.Fatal(err)
				}
			}
			L := newModuleState(t, g.URL, g.AdminKey())
			// A call that blocks waits at the gate until this ends it.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			L.SetContext(ctx)
			L.SetGlobal("key", lua.LString(g.AdminKey()))
			// A client caches its viewer: the set-up leaves the module's
			// client alone, and api() makes a fresh one for each call.
			if err := L.DoString(`
				function api() return assert(wandb.api{ api_key = key }) end
				me = assert(api():viewer())
				names = {}
				for i = 1, ` + itoa(conc) + ` do
					local secret = assert(me:generate_api_key("old" .. i))
					names[i] = secret:sub(1, #secret - 20)
				end
			`); err != nil {
				t.Fatal(err)
			}
			st := asyncStateOf(L)
			st.suspended, st.blocked = 0, 0
			g.rearm(conc)
			err := L.DoString(`
				local r = wandb.parallel({1, 2, 3, 4}, function(x) ` + tc.fn + ` end, { concurrency = ` + itoa(conc) + ` })
				for i = 1, 4 do r[i] = tostring(r[i]) end
				out = table.concat(r, ",")
			`)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for i := 1; i <= conc; i++ {
				want = append(want, strings.ReplaceAll(tc.want, "?", itoa(i)))
			}
			if got := L.GetGlobal("out").String(); got != strings.Join(want, ",") {
				t.Errorf("results = %q, want %q", got, strings.Join(want, ","))
			}
			if st.suspended != conc || st.blocked != 0 {
				t.Errorf("suspended %d, blocked %d: want all %d calls to suspend", st.suspended, st.blocked, conc)
			}
			if got := g.maxInside(); got != conc {
				t.Errorf("server held at most %d requests at once, want %d", got, conc)
			}
		})
	}
}

func TestParallelErrorCancelsRequestsInFlight(t *testing.T) {
	// Item 4 fails while the requests of items 1 to 3 wait in the server
	// (for an hour): parallel must cancel them, wait for them and raise at
	// once. The watchdog only bounds a broken run.
	g := newGatedServer(t, 1, wandbtest.WithLatency(time.Hour))
	L := newModuleState(t, g.URL, g.AdminKey())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watchdog := time.AfterFunc(harnessTimeout, cancel)
	defer watchdog.Stop()
	L.SetContext(ctx)
	L.SetGlobal("wait_in_server", L.NewFunction(func(L *lua.LState) int {
		for g.InFlight() < L.CheckInt(1) && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		return 0
	}))
	err := L.DoString(`
		wandb.parallel({ 1, 2, 3, 4 }, function(x)
			if x == 4 then
				wait_in_server(3)
				error("boom")
			end
			return assert(wandb.create_user("u" .. x .. "@example.com"))
		end, { concurrency = 4 })
	`)
	if ctx.Err() != nil {
		t.Fatalf("the watchdog fired: parallel did not cancel the requests in flight (err = %v)", err)
	}
	if err == nil || !strings.HasPrefix(err.Error(), "wandb.parallel: item 4: <string>:5: boom") {
		t.Fatalf("error = %v, want item 4's", err)
	}
	if got := g.Requests(""); got != 3 {
		t.Errorf("server got %d requests, want 3", got)
	}
}
