package luamod

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// The contract of wandb.parallel, over real HTTP: the module's network
// functions against a wandbtest handler on loopback (see gatedServer).

// items returns Lua source for the array {1, 2, ..., n}.
func items(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = strconv.Itoa(i + 1)
	}
	return "{" + strings.Join(s, ", ") + "}"
}

func TestParallelResultsInOrderOfItemsNotOfCompletion(t *testing.T) {
	t.Parallel()
	// Item i's request is answered only once item i+1's has been: the
	// requests complete in reverse order.
	const n = 6
	g := newGatedServer(t, n)
	addUsers(t, g, n)
	done := make([]chan struct{}, n+2)
	for i := range done {
		done[i] = make(chan struct{})
	}
	close(done[n+1])
	var completed []int
	email := regexp.MustCompile(`u(\d+)@example\.com`)
	g.setAround(func(body []byte, serve func()) {
		i, _ := strconv.Atoi(string(email.FindSubmatch(body)[1]))
		<-done[i+1]
		serve()
		completed = append(completed, i) // serialised by the done chain
		close(done[i])
	})
	L, _ := gatedState(t, g)
	if err := L.DoString(`
		local r = wandb.parallel(` + items(n) + `, function(x, i)
			assert(x == i)
			return assert(wandb.user("u" .. i .. "@example.com")).email
		end, { concurrency = ` + itoa(n) + ` })
		out = table.concat(r, " ")
	`); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(completed), "[6 5 4 3 2 1]"; got != want {
		t.Fatalf("requests completed in the order %s, want %s", got, want)
	}
	want := "u1@example.com u2@example.com u3@example.com u4@example.com u5@example.com u6@example.com"
	if got := L.GetGlobal("out").String(); got != want {
		t.Errorf("results = %q, want %q", got, want)
	}
}

func TestParallelRunsUpToConcurrencyRequestsAtOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		n        int
		opts     string
		inFlight int // the client's MaxInFlight; 0 for the default, 64
		wantMax  int
	}{
		{"default is 8", 20, "nil", 0, 8},
		{"concurrency 1", 5, "{ concurrency = 1 }", 0, 1},
		{"concurrency 4", 20, "{ concurrency = 4 }", 0, 4},
		{"fewer items than concurrency", 3, "{ concurrency = 16 }", 0, 3},
		{"maximum", 300, "{ concurrency = 256 }", 256, 256}, // past the client's default bound
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The first wantMax requests wait for each other, so this
			// finishes only if they overlap; maxInside shows that no more
			// ever did.
			g := newGatedServer(t, tc.wantMax)
			c, err := wandb.NewClient(wandb.Config{BaseURL: g.URL, APIKey: wandb.NewSecret(g.AdminKey()), Retry: wandb.RetryPolicy{MaxAttempts: 1}, MaxInFlight: tc.inFlight})
			if err != nil {
				t.Fatal(err)
			}
			L, _ := newState(t, c)
			ctx, cancel := context.WithTimeout(context.Background(), gateTimeout)
			defer cancel()
			L.SetContext(ctx)
			// active counts, on the Lua side, the items between the start
			// of fn and the end of its request; started records the order
			// in which items start.
			if err := L.DoString(`
				local active = 0
				peak = 0
				local started = {}
				local r = wandb.parallel(` + items(tc.n) + `, function(x)
					started[#started + 1] = x
					active = active + 1
					peak = math.max(peak, active)
					local list = assert(wandb.users("nobody" .. x))
					active = active - 1
					return #list + x
				end, ` + tc.opts + `)
				assert(#r == ` + itoa(tc.n) + `)
				for i = 1, #r do assert(r[i] == i, "result " .. i) end
				for i = 1, #started do assert(started[i] == i, "item " .. started[i] .. " started " .. i .. "th") end
			`); err != nil {
				t.Fatal(err)
			}
			if got := L.GetGlobal("peak").String(); got != itoa(tc.wantMax) {
				t.Errorf("items running at once = %s, want %d", got, tc.wantMax)
			}
			if got := g.maxInside(); got != tc.wantMax {
				t.Errorf("requests in flight at once = %d, want %d", got, tc.wantMax)
			}
			if got := g.Requests("SearchUsers"); got != tc.n {
				t.Errorf("requests = %d, want %d", got, tc.n)
			}
		})
	}
}

// TestParallelNestedBoundedInFlight: nested parallel calls multiply their
// concurrency (4 x 4 x 4 items here could have 64 requests in flight),
// but the client's MaxInFlight bounds the requests of the whole family:
// the server never holds more than that, and does hold that many (the
// first ones wait at the gate until they have gathered).
func TestParallelNestedBoundedInFlight(t *testing.T) {
	t.Parallel()
	const bound = 5
	g := newGatedServer(t, bound)
	c, err := wandb.NewClient(wandb.Config{BaseURL: g.URL, APIKey: wandb.NewSecret(g.AdminKey()), Retry: wandb.RetryPolicy{MaxAttempts: 1}, MaxInFlight: bound})
	if err != nil {
		t.Fatal(err)
	}
	L, _ := newState(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), gateTimeout)
	defer cancel()
	L.SetContext(ctx)
	if err := L.DoString(`
		local four = {1, 2, 3, 4}
		local r = wandb.parallel(four, function(i)
			local n = 0
			for _, m in ipairs(wandb.parallel(four, function(j)
				local found = 0
				for _, list in ipairs(wandb.parallel(four, function(k)
					return assert(wandb.users("nobody" .. i .. j .. k))
				end, { concurrency = 4 })) do found = found + #list end
				return found + 1
			end, { concurrency = 4 })) do n = n + m end
			return n
		end, { concurrency = 4 })
		for i = 1, 4 do assert(r[i] == 4, "result " .. i) end
	`); err != nil {
		t.Fatal(err)
	}
	if got := g.maxInside(); got != bound {
		t.Errorf("the server held at most %d requests at once, want %d (the bound)", got, bound)
	}
	if got := g.MaxInFlight(); got > bound {
		t.Errorf("the handler served %d requests at once, more than the bound %d", got, bound)
	}
	if got := g.Requests("SearchUsers"); got != 64 {
		t.Errorf("%d requests, want 64", got)
	}
}

func TestParallelCreatesUsersConcurrentlyOverHTTP(t *testing.T) {
	t.Parallel()
	const n, conc = 40, 8
	g := newGatedServer(t, conc) // the first conc requests wait for each other
	L, _ := gatedState(t, g)
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
	if got := g.maxInside(); got != conc {
		t.Errorf("server held at most %d requests at once, want %d", got, conc)
	}
	if got := g.Requests(""); got != 2*n {
		t.Errorf("server got %d requests, want %d", got, 2*n)
	}
	// Connections are kept alive and reused: at most one per worker.
	if got := g.conns.Load(); got > conc {
		t.Errorf("%d TCP connections for %d requests at concurrency %d: connections are not reused", got, 2*n, conc)
	}
	for i := 1; i <= n; i++ {
		if _, ok := g.UserByEmail("user" + itoa(i) + "@example.com"); !ok {
			t.Errorf("user%d was not created", i)
		}
	}
}

func TestParallelBadArguments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		call string
		want string
	}{
		{`wandb.parallel()`, "bad argument #1 to 'parallel' (table expected, got no value)"},
		{`wandb.parallel(nil, print)`, "bad argument #1 to 'parallel' (table expected, got nil)"},
		{`wandb.parallel("x", print)`, "bad argument #1 to 'parallel' (table expected, got string)"},
		{`wandb.parallel({})`, "bad argument #2 to 'parallel' (function expected, got no value)"},
		{`wandb.parallel({}, {})`, "bad argument #2 to 'parallel' (function expected, got table)"},
		{`wandb.parallel({1, 2}, "f")`, "bad argument #2 to 'parallel' (function expected, got string)"},
		{`wandb.parallel({1, nil, 3}, f)`, "bad argument #1 to 'parallel' (array expected, got a table with a hole: item 2 is nil but item 3 is not)"},
		{`wandb.parallel({nil, nil, 3}, f)`, "bad argument #1 to 'parallel' (array expected, got a table with a hole: item 1 is nil but item 3 is not)"},
		{`local t = {1, 2, 3, 4} t[2] = nil wandb.parallel(t, f)`, "bad argument #1 to 'parallel' (array expected, got a table with a hole: item 2 is nil but item 4 is not)"},
		{`local t = {} t[1] = 1 t[3] = 3 wandb.parallel(t, f)`, "bad argument #1 to 'parallel' (array expected, got a table with a hole: item 2 is nil but item 3 is not)"},
		{`wandb.parallel({ alice = "a@x.io" }, f)`, `bad argument #1 to 'parallel' (array expected, got a table with the key "alice")`},
		{`wandb.parallel({ 1, 2, n = 2 }, f)`, `bad argument #1 to 'parallel' (array expected, got a table with the key "n")`},
		{`wandb.parallel({ 1, [2.5] = 2 }, f)`, `bad argument #1 to 'parallel' (array expected, got a table with the key 2.5)`},
		{`wandb.parallel({ [0] = 0, 1 }, f)`, `bad argument #1 to 'parallel' (array expected, got a table with the key 0)`},
		{`wandb.parallel({}, print, 8)`, "bad argument #3 to 'parallel' (table expected, got number)"},
		{`wandb.parallel({}, print, { concurrency = 0 })`, "bad argument #3 to 'parallel' (concurrency must be an integer from 1 to 256, got 0)"},
		{`wandb.parallel({}, print, { concurrency = -3 })`, "bad argument #3 to 'parallel' (concurrency must be an integer from 1 to 256, got -3)"},
		{`wandb.parallel({}, print, { concurrency = 2.5 })`, "bad argument #3 to 'parallel' (concurrency must be an integer from 1 to 256, got 2.5)"},
		{`wandb.parallel({}, print, { concurrency = 257 })`, "bad argument #3 to 'parallel' (concurrency must be an integer from 1 to 256, got 257)"},
		{`wandb.parallel({}, print, { concurrency = 1/0 })`, "bad argument #3 to 'parallel' (concurrency must be an integer from 1 to 256, got +Inf)"},
		{`wandb.parallel({}, print, { concurrency = "8" })`, "bad argument #3 to 'parallel' (concurrency must be a number, got string)"},
		{`wandb.parallel({}, print, { concurrency = true })`, "bad argument #3 to 'parallel' (concurrency must be a number, got boolean)"},
		{`wandb.parallel({}, print, { on_error = "ignore" })`, `bad argument #3 to 'parallel' (on_error must be "raise" or "collect", got "ignore")`},
		{`wandb.parallel({}, print, { concurency = 8 })`, `bad argument #3 to 'parallel' (unknown option "concurency" (known: "concurrency", "on_error", "progress"))`},
		{`wandb.parallel({}, print, { progress = "no" })`, "bad argument #3 to 'parallel' (progress must be a boolean, got string)"},
		{`local p = wandb.parallel; p({}, print, { concurrency = 0 })`, "bad argument #3 to 'parallel' (concurrency must be an integer from 1 to 256, got 0)"},
	} {
		t.Run(tc.call, func(t *testing.T) {
			L, _ := newState(t, nil)
			if err := L.DoString(`
				called = 0
				function f() called = called + 1 end
				ok, err = pcall(function() ` + tc.call + ` end)`); err != nil {
				t.Fatal(err)
			}
			if L.GetGlobal("ok") != lua.LFalse {
				t.Fatalf("%s did not raise", tc.call)
			}
			// The message is prefixed with the caller's position, as for
			// every argument error.
			if got := L.GetGlobal("err").String(); got != "<string>:4: "+tc.want {
				t.Errorf("error = %q, want %q after the position", got, tc.want)
			}
			if L.GetGlobal("called").String() != "0" {
				t.Error("fn was called despite the bad argument")
			}
		})
	}
}

func TestParallelEmptyItemsAndMissingResults(t *testing.T) {
	t.Parallel()
	g := newGatedServer(t, 1)
	L, _ := gatedState(t, g)
	if err := L.DoString(`
		local r, f = wandb.parallel({}, error)
		assert(type(r) == "table" and next(r) == nil, "empty results")
		assert(type(f) == "table" and next(f) == nil, "empty failures")
		-- an array whose items were stored in any order is fine
		local t = {} t[3] = 3 t[2] = 2 t[1] = 1
		local r = wandb.parallel(t, function(x, i) return #assert(wandb.users("nobody")) + x + i end, { on_error = "raise" })
		assert(#r == 3 and r[1] == 2 and r[2] == 4 and r[3] == 6, "out-of-order array")
		local r, f = wandb.parallel({1, 2, 3}, function(x)
			assert(wandb.user("admin@example.com"))
			if x == 2 then return end
			if x == 3 then return nil, "ignored" end
			return x, "only the first result is kept"
		end)
		assert(next(f) == nil, "no failures")
		out = tostring(r[1]) .. " " .. tostring(r[2]) .. " " .. tostring(r[3])
	`); err != nil {
		t.Fatal(err)
	}
	if got, want := L.GetGlobal("out").String(), "1 nil nil"; got != want {
		t.Errorf("results = %q, want %q", got, want)
	}
	if got := g.Requests(""); got != 6 {
		t.Errorf("requests = %d, want 6", got)
	}
}

func TestParallelErrorCancelsRequestsInFlight(t *testing.T) {
	t.Parallel()
	// Item 4 fails while the requests of items 1 to 3 wait in the server
	// (for an hour): parallel must cancel them, wait for them and raise at
	// once, and start no further item. The gate's timeout only bounds a
	// broken run.
	g := newGatedServer(t, 1, wandbtest.WithLatency(time.Hour))
	L, ctx := gatedState(t, g)
	L.SetGlobal("wait_in_server", L.NewFunction(func(L *lua.LState) int {
		n := L.CheckInt(1)
		waitFor(t, itoa(n)+" requests on the server", func() bool { return g.InFlight() >= n || ctx.Err() != nil })
		return 0
	}))
	err := L.DoString(`
		started = 0
		wandb.parallel({ 1, 2, 3, 4, 5, 6 }, function(x)
			started = started + 1
			if x == 4 then
				wait_in_server(3)
				error("boom")
			end
			return assert(wandb.create_user("u" .. x .. "@example.com"))
		end, { concurrency = 4 })
	`)
	if ctx.Err() != nil {
		t.Fatalf("the test's timeout ended the run: parallel did not cancel the requests in flight (err = %v)", err)
	}
	if err == nil {
		t.Fatal("parallel did not raise")
	}
	if got, want := WrapError(L, err).Error(), "wandb.parallel: item 4: <string>:7: boom\n"; !strings.HasPrefix(got, want) {
		t.Fatalf("error = %q, want item 4's (%q)", got, want)
	}
	if got := g.Requests("CreateUserFromAdmin"); got != 3 {
		t.Errorf("server got %d creations, want 3", got)
	}
	if got := L.GetGlobal("started").String(); got != "4" {
		t.Errorf("%s items started, want 4 (none after the failure)", got)
	}
	for i := 1; i <= 3; i++ {
		if _, ok := g.UserByEmail("u" + itoa(i) + "@example.com"); ok {
			t.Errorf("u%d was created: its request was not cancelled", i)
		}
	}
	// The module is usable again: the failure left no lock held.
	g.SetLatency(0)
	if err := L.DoString(`assert(#wandb.parallel({1, 2}, function(x) return assert(wandb.user("admin@example.com")) end) == 2)`); err != nil {
		t.Fatalf("parallel after a failed parallel: %v", err)
	}
}

func TestParallelFailureRecords(t *testing.T) {
	t.Parallel()
	g := newGatedServer(t, 1)
	if _, err := g.AddUser(wandbtest.SeedUser{Email: "taken@example.com"}); err != nil {
		t.Fatal(err)
	}
	L, _ := gatedState(t, g)
	if err := L.DoString(`
		local E = setmetatable({}, { __tostring = function() return "E!" end })
		local r, failures = wandb.parallel({ "a@example.com", "taken@example.com", "b@example.com", "boom", "E" }, function(email)
			if email == "boom" then error("boom", 0) end
			if email == "E" then error(E) end
			return assert(wandb.create_user(email)).email
		end, { on_error = "collect", concurrency = 2 })
		assert(#failures == 3, "failures: " .. #failures)
		assert(r[1] == "a@example.com" and r[3] == "b@example.com", "results")
		assert(r[2] == failures[1] and r[4] == failures[2] and r[5] == failures[3], "records in the slots")
		-- one obvious way to read the code
		codes = failures[1].code .. "," .. failures[2].code .. "," .. failures[3].code
		local f = failures[1]
		assert(f.index == 2)
		assert(f.error.code == "conflict" and f.error.status == 409, "the wandb error, unchanged")
		assert(failures[2].error == "boom" and failures[3].error == E, "raised values, unchanged")
		assert(f.traceback:find("stack traceback", 1, true), "traceback: " .. f.traceback)
		shown = tostring(f)
		concatenated = "failed: " .. failures[2]
		shownE = tostring(failures[3])

		-- raise: the first failure's record is raised
		local ok, e = pcall(wandb.parallel, { "c@example.com", "taken@example.com" }, function(email)
			return assert(wandb.create_user(email)).email
		end, { concurrency = 1 })
		assert(not ok and e.index == 2 and e.code == "conflict" and e.error.code == "conflict", "raised record")
		assert(getmetatable(e) == "wandb.parallel.failure", "records' metatable is protected")
	`); err != nil {
		t.Fatal(err)
	}
	if got, want := L.GetGlobal("codes").String(), "conflict,script,script"; got != want {
		t.Errorf("codes = %q, want %q", got, want)
	}
	if got, want := L.GetGlobal("shown").String(), "wandb.parallel: item 2: wandb: create_user: user with email taken@example.com already exists (HTTP 409)"; got != want {
		t.Errorf("tostring(record) = %q, want %q", got, want)
	}
	if got, want := L.GetGlobal("concatenated").String(), "failed: wandb.parallel: item 4: boom"; got != want {
		t.Errorf("concatenation = %q, want %q", got, want)
	}
	if got, want := L.GetGlobal("shownE").String(), "wandb.parallel: item 5: E!"; got != want {
		t.Errorf("tostring(record of a table) = %q, want %q", got, want)
	}
}

func TestParallelContextCancel(t *testing.T) {
	t.Parallel()
	t.Run("requests in flight", func(t *testing.T) {
		g := newGatedServer(t, 1, wandbtest.WithLatency(time.Hour))
		L, _ := gatedState(t, g)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		L.SetContext(ctx)
		go func() {
			waitFor(t, "four requests on the server", func() bool { return g.InFlight() >= 4 })
			cancel()
		}()
		done := make(chan error, 1)
		go func() {
			done <- L.DoString(`wandb.parallel({ "a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io" }, function(e) return wandb.create_user(e) end, { concurrency = 4, on_error = "collect" })`)
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(gateTimeout):
			t.Fatal("the cancellation did not stop parallel")
		}
		if err == nil || !strings.HasPrefix(err.Error(), "<string>:1: wandb.parallel: context canceled") {
			t.Fatalf("error = %v, want the cancellation", err)
		}
		if got := g.Requests("CreateUserFromAdmin"); got != 4 {
			t.Errorf("server got %d creations, want 4 (the fifth item never started)", got)
		}
	})
	t.Run("Lua running", func(t *testing.T) {
		// Cancelled while items run Lua code, not waiting for a request:
		// their threads stop at the next instruction. (Item 2 runs while
		// item 1 waits for its request; item 1 loops once it has its answer.)
		g := newGatedServer(t, 1)
		L, _ := gatedState(t, g)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		L.SetContext(ctx)
		L.SetGlobal("cancel", L.NewFunction(func(*lua.LState) int { cancel(); return 0 }))
		err := L.DoString(`wandb.parallel({1, 2}, function(x) if x == 1 then assert(wandb.user("admin@example.com")) else cancel() end while true do end end)`)
		if err == nil || !strings.Contains(err.Error(), "context canceled") {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		g := newGatedServer(t, 1, wandbtest.WithLatency(time.Hour))
		L, _ := gatedState(t, g)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		L.SetContext(ctx)
		err := L.DoString(`wandb.parallel({1, 2}, function(x) return wandb.user("admin@example.com") end)`)
		if err == nil || !strings.Contains(err.Error(), "wandb.parallel: context deadline exceeded") {
			t.Fatalf("error = %v, want the deadline", err)
		}
	})
}

func TestParallelThreadsAreNotCoroutines(t *testing.T) {
	t.Parallel()
	g := newGatedServer(t, 1)
	L, _ := gatedState(t, g)
	if err := L.DoString(`
		-- a stray yield fails its item with Lua's own message
		local ok, e = pcall(wandb.parallel, {1}, function(x) assert(wandb.user("admin@example.com")) coroutine.yield("hi") end)
		assert(not ok and e.code == "script", "stray yield raised")
		stray = tostring(e.error)
		local r = wandb.parallel({1}, function() return select(2, pcall(coroutine.yield)) end)
		caught = r[1]
		-- the coroutines of the script's own still yield
		local r = wandb.parallel({1, 2}, function(x)
			local gen = coroutine.wrap(function() for i = 1, 2 do coroutine.yield(assert(wandb.users("u")) and i * x) end end)
			return gen() + gen()
		end)
		assert(r[1] == 3 and r[2] == 6, "script coroutines")
	`); err != nil {
		t.Fatal(WrapError(L, err))
	}
	// A worker's thread cannot be resumed, during parallel or after. Both
	// items save their threads before either request is answered.
	g.rearm(2)
	if err := L.DoString(`
		saved = {}
		local r = wandb.parallel({1, 2}, function(x)
			saved[x] = coroutine.running()
			assert(wandb.user("admin@example.com"))
			local ok, e = coroutine.resume(saved[3 - x])
			return tostring(ok) .. " " .. e
		end, { concurrency = 2 })
		during = r[1]
		local ok, e = coroutine.resume(saved[1])
		after = tostring(ok) .. " " .. e
	`); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"stray":  "can not yield from outside of a coroutine",
		"caught": "can not yield from outside of a coroutine",
		"during": "false can not resume a dead thread",
		"after":  "false can not resume a dead thread",
	} {
		if got := L.GetGlobal(name).String(); !strings.HasSuffix(got, want) {
			t.Errorf("%s = %q, want it to end with %q", name, got, want)
		}
	}
}

func TestParallelUsesConcurrencyThreads(t *testing.T) {
	t.Parallel()
	g := newGatedServer(t, 1)
	L, _ := gatedState(t, g)
	if err := L.DoString(`
		local seen, distinct = {}, 0
		wandb.parallel(` + items(50) + `, function(x)
			assert(wandb.user("admin@example.com"))
			local th = tostring(coroutine.running())
			if not seen[th] then seen[th], distinct = true, distinct + 1 end
		end, { concurrency = 4 })
		n = distinct
	`); err != nil {
		t.Fatal(err)
	}
	if got := L.GetGlobal("n").String(); got != "4" {
		t.Errorf("50 items at concurrency 4 ran in %s threads, want 4", got)
	}
}

func TestParallelKeepsTheRunningCoroutine(t *testing.T) {
	t.Parallel()
	// Four items, each in a coroutine of its own, wait for their requests
	// at once: while one waits the others run, and coroutine.running() and
	// coroutine.status must still tell each its own after the request.
	g := newGatedServer(t, 4)
	L, _ := gatedState(t, g)
	if err := L.DoString(`
		local r = wandb.parallel({1, 2, 3, 4}, function(x)
			local me = coroutine.running()
			local co
			co = coroutine.create(function()
				assert(wandb.user("admin@example.com"))
				return coroutine.running() == co and coroutine.status(co) == "running"
			end)
			local ok, same = coroutine.resume(co)
			assert(ok, same)
			return same and coroutine.running() == me and coroutine.status(co) == "dead"
		end, { concurrency = 4 })
		out = tostring(r[1] and r[2] and r[3] and r[4])
		main = tostring(coroutine.running())
	`); err != nil {
		t.Fatal(err)
	}
	if got := L.GetGlobal("out").String(); got != "true" {
		t.Errorf("coroutine.running() or status was wrong after a request inside parallel")
	}
	if got := L.GetGlobal("main").String(); got != "nil" {
		t.Errorf("coroutine.running() in the main chunk after parallel = %s, want nil", got)
	}
	if got := g.maxInside(); got != 4 {
		t.Errorf("requests in flight at once = %d, want 4", got)
	}
}

func TestParallelOpPanicIsRaisedWithTheLockHeld(t *testing.T) {
	t.Parallel()
	// An op that panics while the lock is released must not unwind past
	// netcall: the panic is raised in Lua, in the item, and the next
	// parallel call still works.
	L, _ := newState(t, nil)
	L.SetGlobal("explode", L.NewFunction(func(L *lua.LState) int {
		return netcall(L, func(context.Context) result { panic("op exploded") })
	}))
	err := L.DoString(`wandb.parallel({1, 2}, function() local a, b = explode() return a end)`)
	if err == nil || !strings.Contains(WrapError(L, err).Error(), "op exploded") {
		t.Fatalf("error = %v, want the op's panic", err)
	}
	if err := L.DoString(`local ok = pcall(wandb.parallel, {1}, explode) assert(not ok) assert(wandb.parallel({1}, tostring)[1] == "1")`); err != nil {
		t.Fatalf("parallel after a panic: %v", err)
	}
}

func TestNetworkFunctionsBlockOutsideParallel(t *testing.T) {
	t.Parallel()
	g := newGatedServer(t, 1)
	L, _ := gatedState(t, g)
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
	if f := familyOf(L); f.active != 0 {
		t.Errorf("active = %d after the script, want 0", f.active)
	}
}

// TestParallelCancelledChangesHaveOutcomes: when parallel stops on one
// item's failure, the changes other items had in flight may already have
// been applied. Each is checked and recorded with what the check shows,
// never as a plain cancellation: the third never reached the point of
// applying (failed); the first two were applied, and the users found there
// cannot be told from ones another program created (unknown).
func TestParallelCancelledChangesHaveOutcomes(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	var mu sync.Mutex
	outcomes := map[string]string{}
	c, err := wandb.NewClient(wandb.Config{BaseURL: srv.URL, APIKey: wandb.NewSecret(srv.AdminKey()), OnChange: func(r wandb.ChangeRecord) {
		mu.Lock()
		defer mu.Unlock()
		outcomes[r.Target] = string(r.Outcome) + " " + string(r.Code)
	}})
	if err != nil {
		t.Fatal(err)
	}
	L, _ := newState(t, c)
	srv.FailNext("CreateUserFromAdmin",
		wandbtest.Fault{AfterApply: true, Stall: true}, wandbtest.Fault{AfterApply: true, Stall: true}, wandbtest.Fault{Stall: true})
	L.SetGlobal("wait_in_server", L.NewFunction(func(L *lua.LState) int {
		waitFor(t, "three requests to stall on the server", func() bool { return srv.Stalled() >= 3 })
		return 0
	}))
	err = L.DoString(`
		wandb.parallel({ 1, 2, 3, 4 }, function(x)
			if x == 4 then
				wait_in_server()
				error("boom", 0)
			end
			return assert(wandb.create_user("u" .. x .. "@example.com"))
		end, { concurrency = 4 })
	`)
	if err == nil || !strings.HasPrefix(WrapError(L, err).Error(), "wandb.parallel: item 4: boom") {
		t.Fatalf("error = %v, want item 4's", err)
	}
	// Which item's request met which fault depends on the order they
	// arrived in: two were applied, one was not, and the records say which.
	mu.Lock()
	defer mu.Unlock()
	count := map[string]int{}
	for _, e := range []string{"u1@example.com", "u2@example.com", "u3@example.com"} {
		count[outcomes[e]]++
		if _, created := srv.UserByEmail(e); created != (outcomes[e] == "unknown unknown_outcome") {
			t.Errorf("%s: recorded %q, but on the server: %v", e, outcomes[e], created)
		}
	}
	if diff := cmp.Diff(map[string]int{"unknown unknown_outcome": 2, "failed canceled": 1}, count); diff != "" {
		t.Errorf("outcomes %v (-want +got):\n%s", outcomes, diff)
	}
	if n := srv.Requests("CreateUserFromAdmin"); n != 3 {
		t.Errorf("%d creations sent, want 3 (none sent again after the stop)", n)
	}
}

// TestParallelServerDies: the server dies while a 500-item run is going
// on. The run ends soon after (the client stops trying a server that is
// clearly down, rather than each item retrying), every item with a
// result or a failure record whose code tells the truth: done, not done
// ("unavailable", "transport") or maybe ("unknown_outcome", for the
// changes in flight when it died).
func TestParallelServerDies(t *testing.T) {
	srv := wandbtest.Start(t, wandbtest.WithLatency(2*time.Millisecond))
	var dials, afterDeath atomic.Int32
	var dead atomic.Bool
	tr := http.DefaultTransport.(*http.Transport).Clone()
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		if dead.Load() {
			afterDeath.Add(1)
		}
		return dial(ctx, network, addr)
	}
	c, err := wandb.NewClient(wandb.Config{BaseURL: srv.URL, APIKey: wandb.NewSecret(srv.AdminKey()), HTTPClient: &http.Client{Transport: tr},
		Retry:               wandb.RetryPolicy{MaxAttempts: 6, MinWait: time.Millisecond, MaxWait: 10 * time.Millisecond},
		OutcomeCheckTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	L, _ := newState(t, c)
	go func() {
		waitFor(t, "50 creations on the server", func() bool { return srv.Requests("CreateUserFromAdmin") >= 50 })
		dead.Store(true)
		srv.Close()
	}()
	if err := L.DoString(`
		local emails = {}
		for i = 1, 500 do emails[i] = "u" .. i .. "@example.com" end
		results, failures = wandb.parallel(emails, function(e)
			return assert(wandb.create_user(e)).email
		end, { concurrency = 8, on_error = "collect" })
		done, codes = {}, {}
		for i, r in ipairs(results) do
			if type(r) == "string" then done[#done + 1] = r end
		end
		for _, f in ipairs(failures) do
			codes[f.code] = (codes[f.code] or 0) + 1
			failed_emails = (failed_emails or "") .. emails[f.index] .. "=" .. f.code .. " "
		end
		n_results, n_done, n_failed = #results, #done, #failures
	`); err != nil {
		t.Fatal(WrapError(L, err))
	}
	if !dead.Load() {
		t.Fatal("the run ended before the server died")
	}
	nDone, nFailed := int(L.GetGlobal("n_done").(lua.LNumber)), int(L.GetGlobal("n_failed").(lua.LNumber))
	if n := int(L.GetGlobal("n_results").(lua.LNumber)); n != 500 || nDone+nFailed != 500 {
		t.Fatalf("%d results, %d done and %d failed; want 500 in all", n, nDone, nFailed)
	}
	L.GetGlobal("codes").(*lua.LTable).ForEach(func(k, v lua.LValue) {
		switch k.String() {
		case "unavailable", "transport", "unknown_outcome":
		default:
			t.Errorf("%v items failed with code %v", v, k)
		}
	})
	// What was reported done is on the server; what definitely failed is not.
	for _, e := range strings.Fields(L.GetGlobal("failed_emails").String()) {
		email, code, _ := strings.Cut(e, "=")
		if _, ok := srv.UserByEmail(email); ok && code != "unknown_outcome" {
			t.Errorf("%s is on the server, but its item failed with %s", email, code)
		}
	}
	L.GetGlobal("done").(*lua.LTable).ForEach(func(_, v lua.LValue) {
		if _, ok := srv.UserByEmail(v.String()); !ok {
			t.Errorf("%s was reported created but is not on the server", v)
		}
	})
	// A few waves of the 8 items in flight found the server down (their
	// attempts and quick retries race the breaker's count), then the
	// breaker held the rest back. Without it: about 2,700.
	if n := afterDeath.Load(); n > 3*8 {
		t.Errorf("%d connection attempts after the server died, want a few dozen at most", n)
	}
}

// TestWritePrivateIsNoChange: a file written on this machine is no
// change to W&B: write_private, inside wandb.parallel or not, writes
// without a change record (and so without a request for the actor).
func TestWritePrivateIsNoChange(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	var mu sync.Mutex
	var records []wandb.ChangeRecord
	c, err := wandb.NewClient(wandb.Config{BaseURL: srv.URL, APIKey: wandb.NewSecret(srv.AdminKey()), OnChange: func(r wandb.ChangeRecord) {
		mu.Lock()
		defer mu.Unlock()
		records = append(records, r)
	}})
	if err != nil {
		t.Fatal(err)
	}
	L, _ := newState(t, c)
	dir := t.TempDir()
	L.SetGlobal("DIR", lua.LString(dir))
	if err := L.DoString(`
		wandb.parallel({1, 2, 3, 4}, function(x)
			assert(wandb.write_private(DIR .. "/k" .. x, "s" .. x))
		end, { concurrency = 4 })
	`); err != nil {
		t.Fatal(WrapError(L, err))
	}
	for x := 1; x <= 4; x++ {
		if b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("k%d", x))); err != nil || string(b) != fmt.Sprintf("s%d", x) {
			t.Errorf("k%d: %q, %v", x, b, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(records) != 0 || srv.Requests("") != 0 {
		t.Errorf("write_private made %d change records and %d requests", len(records), srv.Requests(""))
	}
}

// TestReleaseAfterTheLimitChanges: a request inside wandb.parallel gives
// its slot back to the channel it took it from, though a module loaded
// meanwhile with a lower MaxConcurrency (a parallel item's require of
// another LoaderWith) replaced the family's channel: released into the
// new, empty one, it would wait for ever.
func TestReleaseAfterTheLimitChanges(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		L := lua.NewState()
		defer L.Close()
		L.Push(L.NewFunction(LoaderWith(Options{MaxConcurrency: 2})))
		L.Call(0, 1)
		L.Pop(1)
		f := familyOf(L)
		f.active = 1 // as inside wandb.parallel, where netcall hands the lock over
		started, finish, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
		f.mu.Lock()
		go func() {
			defer close(done)
			defer f.mu.Unlock()
			netcall(L, func(context.Context) result {
				close(started)
				<-finish
				return func(*lua.LState) (lua.LValue, lua.LValue) { return lua.LTrue, lua.LNil }
			})
		}()
		<-started
		f.mu.Lock()
		f.limitConcurrency(1)
		slots := f.slots
		f.mu.Unlock()
		close(finish)
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Error("the request's release waits on the channel the new limit made")
			slots <- struct{}{} // let it end
			<-done
		}
	})
}
