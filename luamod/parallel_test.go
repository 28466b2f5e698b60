package luamod

import (
	"context"
	"fmt"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// items returns Lua source for the array {1, 2, ..., n}.
func items(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprint(i + 1)
	}
	return "{" + strings.Join(s, ", ") + "}"
}

func TestParallelResultsInOrderOfItemsNotOfCompletion(t *testing.T) {
	h := newAsyncHarness(t)
	// __after(i, n): item i's op returns only once item i+1's op has returned,
	// so the ops complete in reverse order.
	const n = 6
	finished := make([]chan struct{}, n+2)
	for i := range finished {
		finished[i] = make(chan struct{})
	}
	close(finished[n+1])
	h.L.SetGlobal("__after", h.L.NewFunction(func(L *lua.LState) int {
		i := L.CheckInt(1)
		return netcall(L, func(ctx context.Context) result {
			defer close(finished[i])
			select {
			case <-finished[i+1]:
			case <-ctx.Done():
			}
			return func(*lua.LState) (lua.LValue, lua.LValue) { return lua.LNumber(i * 10), lua.LNil }
		})
	}))
	h.mustRun(`
		local r = wandb.parallel(` + items(n) + `, function(x, i)
			assert(x == i)
			local v = __after(i)
			return "item" .. i .. "=" .. v
		end, { concurrency = ` + fmt.Sprint(n) + ` })
		out = table.concat(r, " ")
	`)
	want := "item1=10 item2=20 item3=30 item4=40 item5=50 item6=60"
	if got := h.global("out"); got != want {
		t.Errorf("results = %q, want %q", got, want)
	}
	h.assertClean()
}

func TestParallelRunsUpToConcurrencyRequestsAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       int
		opts    string
		wantMax int
	}{
		{"default is 8", 20, "nil", 8},
		{"concurrency 1", 5, "{ concurrency = 1 }", 1},
		{"concurrency 4", 20, "{ concurrency = 4 }", 4},
		{"fewer items than concurrency", 3, "{ concurrency = 16 }", 3},
		{"maximum", 300, "{ concurrency = 256 }", 256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newAsyncHarness(t)
			// Ops wait until wantMax run at once: this finishes only if the
			// scheduler really overlaps them, and max shows it never
			// overlaps more.
			h.setBarrier(tc.wantMax)
			// active counts, on the Lua side, the items between the start
			// of fn and the end of its request. All of it runs on the one
			// Lua goroutine, so peak is exact, whereas the ops' own count
			// (h.max) may miss an extra op that starts as others finish.
			h.mustRun(`
				local active = 0
				peak = 0
				local r = wandb.parallel(` + items(tc.n) + `, function(x)
					active = active + 1
					peak = math.max(peak, active)
					local v = fetch(x)
					active = active - 1
					return v * 2
				end, ` + tc.opts + `)
				assert(#r == ` + fmt.Sprint(tc.n) + `)
				for i = 1, #r do assert(r[i] == 2 * i, "result " .. i) end
			`)
			if got := h.global("peak"); got != fmt.Sprint(tc.wantMax) {
				t.Errorf("items running at once = %s, want %d", got, tc.wantMax)
			}
			if got := h.max.Load(); got != int64(tc.wantMax) {
				t.Errorf("max ops in flight = %d, want %d", got, tc.wantMax)
			}
			if got := h.started.Load(); got != int64(tc.n) {
				t.Errorf("ops started = %d, want %d", got, tc.n)
			}
			h.assertClean()
		})
	}
}

func TestParallelBadArguments(t *testing.T) {
	for _, tc := range []struct {
		call string
		want string
	}{
		{`wandb.parallel()`, "bad argument #1 to 'parallel' (table expected, got no value)"},
		{`wandb.parallel(nil, print)`, "bad argument #1 to 'parallel' (table expected, got nil)"},
		{`wandb.parallel("x", print)`, "bad argument #1 to 'parallel' (table expected, got string)"},
		{`wandb.parallel({})`, "bad argument #2 to 'parallel' (function expected, got no value)"},
		{`wandb.parallel({}, {})`, "bad argument #2 to 'parallel' (function expected, got table)"},
		{`wandb.parallel({1, 2}, "fetch")`, "bad argument #2 to 'parallel' (function expected, got string)"},
		{`wandb.parallel({1, nil, 3}, fetch)`, "bad argument #1 to 'parallel' (array expected, got a table with a hole: item 2 is nil but item 3 is not)"},
		{`wandb.parallel({nil, nil, 3}, fetch)`, "bad argument #1 to 'parallel' (array expected, got a table with a hole: item 1 is nil but item 3 is not)"},
		{`local t = {1, 2, 3, 4} t[2] = nil wandb.parallel(t, fetch)`, "bad argument #1 to 'parallel' (array expected, got a table with a hole: item 2 is nil but item 4 is not)"},
		{`local t = {} t[1] = 1 t[3] = 3 wandb.parallel(t, fetch)`, "bad argument #1 to 'parallel' (array expected, got a table with a hole: item 2 is nil but item 3 is not)"},
		{`wandb.parallel({ alice = "a@x.io" }, fetch)`, `bad argument #1 to 'parallel' (array expected, got a table with the key "alice")`},
		{`wandb.parallel({ 1, 2, n = 2 }, fetch)`, `bad argument #1 to 'parallel' (array expected, got a table with the key "n")`},
		{`wandb.parallel({ 1, [2.5] = 2 }, fetch)`, `bad argument #1 to 'parallel' (array expected, got a table with the key 2.5)`},
		{`wandb.parallel({ [0] = 0, 1 }, fetch)`, `bad argument #1 to 'parallel' (array expected, got a table with the key 0)`},
		{`wandb.parallel({}, print, 8)`, "bad argument #3 to 'parallel' (table expected, got number)"},
		{`wandb.parallel({}, print, { concurrency = 0 })`, "bad argument #3 to 'parallel' (concurrency must be an integer from 1 to 256, got 0)"},
		{`wandb.parallel({}, print, { concurrency = -3 })`, "bad argument #3 to 'parallel' (concurrency must be an integer from 1 to 256, got -3)"},
		{`wandb.parallel({}, print, { concurrency = 2.5 })`, "bad argument #3 to 'parallel' (concurrency must be an integer from 1 to 256, got 2.5)"},
		{`wandb.parallel({}, print, { concurrency = 257 })`, "bad argument #3 to 'parallel' (concurrency must be an integer from 1 to 256, got 257)"},
		{`wandb.parallel({}, print, { concurrency = 1/0 })`, "bad argument #3 to 'parallel' (concurrency must be an integer from 1 to 256, got +Inf)"},
		{`wandb.parallel({}, print, { concurrency = "8" })`, "bad argument #3 to 'parallel' (concurrency must be a number, got string)"},
		{`wandb.parallel({}, print, { concurrency = true })`, "bad argument #3 to 'parallel' (concurrency must be a number, got boolean)"},
		{`wandb.parallel({}, print, { on_error = "ignore" })`, `bad argument #3 to 'parallel' (on_error must be "raise" or "collect", got "ignore")`},
		{`wandb.parallel({}, print, { concurency = 8 })`, `bad argument #3 to 'parallel' (unknown option "concurency" (known: "concurrency", "on_error"))`},
		{`local p = wandb.parallel; p({}, print, { concurrency = 0 })`, "bad argument #3 to 'parallel' (concurrency must be an integer from 1 to 256, got 0)"},
	} {
		t.Run(tc.call, func(t *testing.T) {
			h := newAsyncHarness(t)
			h.mustRun(`ok, err = pcall(function() ` + tc.call + ` end)`)
			if h.global("ok") != "false" {
				t.Fatalf("%s did not raise", tc.call)
			}
			// The message is prefixed with the caller's position, as for
			// every argument error.
			if got := h.global("err"); !strings.HasPrefix(got, "<string>:1: ") || strings.TrimPrefix(got, "<string>:1: ") != tc.want {
				t.Errorf("error = %q, want %q after the position", got, tc.want)
			}
			if h.started.Load() != 0 {
				t.Errorf("ops started despite the bad argument")
			}
		})
	}
}

func TestParallelEmptyItemsAndMissingResults(t *testing.T) {
	h := newAsyncHarness(t)
	h.mustRun(`
		local r, f = wandb.parallel({}, error)
		assert(type(r) == "table" and next(r) == nil, "empty results")
		assert(type(f) == "table" and next(f) == nil, "empty failures")
		-- an array whose items were stored in any order is fine
		local t = {} t[3] = 3 t[2] = 2 t[1] = 1
		local r = wandb.parallel(t, function(x, i) return fetch(x) + i end, { on_error = "raise" })
		assert(#r == 3 and r[1] == 2 and r[2] == 4 and r[3] == 6, "out-of-order array")
		local r = wandb.parallel({1, 2, 3}, function(x)
			fetch(x)
			if x == 2 then return end
			if x == 3 then return nil, "ignored" end
			return x, "only the first result is kept"
		end)
		out = tostring(r[1]) .. " " .. tostring(r[2]) .. " " .. tostring(r[3])
	`)
	if got, want := h.global("out"), "1 nil nil"; got != want {
		t.Errorf("results = %q, want %q", got, want)
	}
	h.assertClean()
}

func TestParallelErrorStopsEverything(t *testing.T) {
	h := newAsyncHarness(t)
	release := h.setHold() // ops never finish unless cancelled
	defer release()
	err := h.run(`
		wandb.parallel(` + items(10) + `, function(x)
			if x == 3 then error("boom on " .. x) end
			return fetch(x)
		end, { concurrency = 4 })
		reached = true
	`)
	want := "wandb.parallel: item 3: <string>:3: boom on 3"
	if err == nil || !strings.HasPrefix(err.Error(), want+"\n") {
		t.Fatalf("error = %v, want %q", err, want)
	}
	if h.L.GetGlobal("reached") != lua.LNil {
		t.Error("the script went on after the error")
	}
	// Items 1 and 2 were waiting for their ops: cancelled and waited for.
	if got := h.started.Load(); got != 2 {
		t.Errorf("ops started = %d, want 2 (item 3 fails before more start)", got)
	}
	h.assertClean()
}

func TestParallelErrorAfterARequest(t *testing.T) {
	h := newAsyncHarness(t)
	err := h.run(`
		wandb.parallel(` + items(6) + `, function(x)
			local v = must(x == 5 and "fail:server said no" or x)
			return v
		end, { concurrency = 2 })
	`)
	want := "wandb.parallel: item 5: <string>:3: server said no"
	if err == nil || !strings.HasPrefix(err.Error(), want+"\n") {
		t.Fatalf("error = %v, want %q", err, want)
	}
	h.assertClean()
}

func TestParallelErrorValueStaysReachable(t *testing.T) {
	h := newAsyncHarness(t)
	h.mustRun(`
		local E = setmetatable({ code = "not_found" }, { __tostring = function(e) return "E(" .. e.code .. ")" end })
		local ok, err = pcall(wandb.parallel, {1, 2, 3}, function(x)
			fetch(x)
			if x == 2 then error(E) end
			return x
		end)
		assert(not ok)
		assert(type(err) == "table", "a non-string error is wrapped in a table")
		assert(err.index == 2, "index")
		assert(err.error == E, "the original value, unchanged")
		msg = tostring(err)
	`)
	if got, want := h.global("msg"), "wandb.parallel: item 2: E(not_found)"; got != want {
		t.Errorf("tostring(err) = %q, want %q", got, want)
	}
	h.assertClean()
}

func TestParallelCollectErrors(t *testing.T) {
	h := newAsyncHarness(t)
	h.mustRun(`
		local E = {}
		local r, failures = wandb.parallel(` + items(7) + `, function(x)
			local v = must(x)
			if x == 2 then error("two", 0) end
			if x == 5 then error(E) end
			if x == 6 then coroutine.yield() end
			return v * 10
		end, { concurrency = 3, on_error = "collect" })
		assert(#failures == 3, "failures: " .. #failures)
		assert(failures[1].index == 2 and failures[1].error == "two")
		assert(failures[2].index == 5 and failures[2].error == E)
		assert(failures[3].index == 6)
		assert(r[2] == failures[1] and r[5] == failures[2] and r[6] == failures[3], "records in the slots")
		out = r[1] .. " " .. tostring(r[2]) .. " " .. r[3] .. " " .. r[4] .. " " .. r[7]
		stray = tostring(r[6])
	`)
	if got, want := h.global("out"), "10 wandb.parallel: item 2: two 30 40 70"; got != want {
		t.Errorf("results = %q, want %q", got, want)
	}
	if got := h.global("stray"); !strings.Contains(got, "item 6: coroutine.yield called inside wandb.parallel") {
		t.Errorf("stray yield record = %q", got)
	}
	h.assertClean()
}

func TestParallelContextCancelsEverything(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(cancel context.CancelFunc)
		want string
	}{
		{"cancel", func(cancel context.CancelFunc) { cancel() }, "wandb.parallel: context canceled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newAsyncHarness(t)
			release := h.setHold()
			defer release()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			h.L.SetContext(ctx)
			go func() {
				for range 4 {
					<-h.startc
				}
				tc.stop(cancel)
			}()
			err := h.L.DoString(`wandb.parallel(` + items(10) + `, function(x) return fetch(x) end, { concurrency = 4 })`)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
			if got := h.started.Load(); got != 4 {
				t.Errorf("ops started = %d, want 4", got)
			}
			h.assertClean()
		})
	}
}

func TestParallelContextCancelWhileLuaRuns(t *testing.T) {
	// Cancelled while an item runs Lua code (not waiting): the item's
	// coroutine fails with the context error, reported as a cancellation.
	h := newAsyncHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.L.SetContext(ctx)
	h.L.SetGlobal("cancel", h.L.NewFunction(func(*lua.LState) int { cancel(); return 0 }))
	err := h.L.DoString(`wandb.parallel({1}, function(x) fetch(x) cancel() while true do end end)`)
	if err == nil || !strings.HasPrefix(err.Error(), "wandb.parallel: context canceled") {
		t.Fatalf("error = %v", err)
	}
	h.assertClean()
}

func TestParallelStrayYieldFailsTheItem(t *testing.T) {
	for name, body := range map[string]string{
		"in fn":                  `fetch(x) coroutine.yield("hi")`,
		"fn is coroutine.yield":  ``,
		"in pcall":               `local ok, e = pcall(function() fetch(x) coroutine.yield() end) return "caught: " .. tostring(e)`,
		"in pcall before fetch":  `local ok, e = pcall(coroutine.yield) return "caught: " .. tostring(e)`,
		"in nested pcall":        `pcall(pcall, function() fetch(x) coroutine.yield() end)`,
		"in xpcall handler":      `xpcall(function() fetch(x) error("e") end, function(m) coroutine.yield() end)`,
		"in pcall, not waiting ": `pcall(function() coroutine.yield() end)`,
	} {
		t.Run(name, func(t *testing.T) {
			h := newAsyncHarness(t)
			fn := `function(x) ` + body + ` end`
			if body == "" {
				fn = `coroutine.yield`
			}
			err := h.run(`wandb.parallel({1}, ` + fn + `)`)
			want := "wandb.parallel: item 1: coroutine.yield called inside wandb.parallel"
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("error = %v, want %q", err, want)
			}
			h.assertClean()
		})
	}
}

func TestParallelScriptCoroutinesInsideFnStillWork(t *testing.T) {
	h := newAsyncHarness(t)
	h.mustRun(`
		local r = wandb.parallel({1, 2, 3}, function(x)
			local gen = coroutine.wrap(function()
				for i = 1, 3 do coroutine.yield(fetch(x * i)) end
			end)
			return gen() + gen() + gen()
		end)
		out = table.concat(r, ",")
	`)
	if got, want := h.global("out"), "6,12,18"; got != want {
		t.Errorf("results = %q, want %q", got, want)
	}
	// fetch inside the script's own coroutine blocks: it is not the
	// scheduler's to suspend.
	if s, b := h.counters(); s != 0 || b != 0 {
		t.Errorf("suspended %d, blocked %d; want 0, 0 (calls in unmanaged coroutines are not counted)", s, b)
	}
	h.assertClean()
}

func TestParallelNested(t *testing.T) {
	h := newAsyncHarness(t)
	h.mustRun(`
		local r = wandb.parallel({1, 2, 3}, function(x)
			local inner = wandb.parallel({x, x * 10}, function(y) return fetch(y) + 1 end, { concurrency = 2 })
			return inner[1] + inner[2]
		end, { concurrency = 3 })
		out = table.concat(r, ",")
	`)
	if got, want := h.global("out"), "13,24,35"; got != want {
		t.Errorf("results = %q, want %q", got, want)
	}
	h.assertClean()
}

func TestParallelReusesCoroutines(t *testing.T) {
	h := newAsyncHarness(t)
	h.mustRun(`
		local seen, distinct = {}, 0
		wandb.parallel(` + items(50) + `, function(x)
			fetch(x)
			local co = tostring(coroutine.running())
			if not seen[co] then seen[co], distinct = true, distinct + 1 end
		end, { concurrency = 4 })
		n = distinct
	`)
	if got := h.global("n"); got != "4" {
		t.Errorf("50 items at concurrency 4 ran in %s coroutines, want 4", got)
	}
}

func TestParallelOpPanicIsRaisedOnTheLuaSide(t *testing.T) {
	h := newAsyncHarness(t)
	h.L.SetGlobal("__panic", h.L.NewFunction(func(L *lua.LState) int {
		return netcall(L, func(context.Context) result { panic("op exploded") })
	}))
	err := h.run(`wandb.parallel({1}, function() local a, b = __panic() return a end)`)
	if err == nil || !strings.Contains(err.Error(), "op exploded") {
		t.Fatalf("error = %v, want the op's panic", err)
	}
	h.assertClean()
}

func TestNetcallBlocksOutsideParallel(t *testing.T) {
	h := newAsyncHarness(t)
	h.mustRun(`
		local a, b = fetch(7)
		local co = coroutine.create(function(x) local v = fetch(x) return v + 1 end)
		local ok, v = coroutine.resume(co, 41)
		out = tostring(a) .. " " .. tostring(b) .. " " .. tostring(ok) .. " " .. tostring(v) .. " " .. coroutine.status(co)
	`)
	if got, want := h.global("out"), "7 nil true 42 dead"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParallelCoroutinesCannotBeResumedAfterwards(t *testing.T) {
	// A script can save an item's coroutine (coroutine.running()) and resume
	// it once parallel is over. That must neither run the item trampoline
	// with the script's values nor go on with fn after a failure: the
	// coroutines' contexts are cancelled, so the resume fails.
	for _, withContext := range []bool{true, false} {
		t.Run(fmt.Sprintf("state has a context: %v", withContext), func(t *testing.T) {
			h := newAsyncHarness(t)
			run := h.run
			if !withContext {
				run = h.L.DoString
			}
			err := run(`
				cos, ran = {}, 0
				-- parked after its item returned
				wandb.parallel({1, 2}, function(x) fetch(x) cos[#cos + 1] = coroutine.running() end)
				-- waiting for a request when another item failed
				pcall(wandb.parallel, {1, 2}, function(x)
					if x == 2 then error("boom") end
					cos[#cos + 1] = coroutine.running()
					fetch(x)
					ran = ran + 1
				end, { concurrency = 2 })
				assert(#cos == 3, "coroutines saved: " .. #cos)
				for i, co in ipairs(cos) do
					local ok, err = coroutine.resume(co, function() ran = ran + 100 end, 1, 1)
					assert(not ok, "coroutine " .. i .. " resumed")
					assert(tostring(err):find("context canceled", 1, true), "coroutine " .. i .. ": " .. tostring(err))
				end
				assert(ran == 0, "code ran after parallel: " .. ran)
			`)
			if err != nil {
				t.Fatal(err)
			}
			cos := h.L.GetGlobal("cos").(*lua.LTable)
			for i := 1; i <= cos.Len(); i++ {
				if th, ok := cos.RawGetInt(i).(*lua.LState); !ok || th.Context() == nil || th.Context().Err() == nil {
					t.Errorf("coroutine %d: its context is not done", i)
				}
			}
			h.assertClean()
		})
	}
}
