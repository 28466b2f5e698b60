package luamod

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// The tests in this file pin each gopher-lua v1.1.2 trap recorded in
// shared/notes/gopher-lua-async.md: where netcall must block rather than
// yield (and stays correct), and where it suspends (and gets its values right).
// If one fails after a gopher-lua upgrade, re-check yieldSafe, callerNRet and
// the trampolines in luamod before anything else.

// mode is how the network calls of a case must behave inside parallel.
type mode int

const (
	suspends  mode = iota // every call suspends its coroutine
	blocks                // every call blocks: a yield there would corrupt the coroutine
	unmanaged             // the calls run in a coroutine of the script's own, which blocks and is not counted
)

func TestTrapsInsideParallel(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   string // the function given to parallel, over items {1, 2, 3, 4}
		want string // its results, joined with ","
		mode mode
	}{
		// §3.3: a yield from the coroutine's root frame "finishes" it. The
		// item trampoline makes fn a non-root frame.
		{"fn tail-calls the Lua shim", `function(x) return fetch(x) end`, "1,2,3,4", suspends},
		{"fn tail-calls the Go primitive", `function(x) return __fetch(x) end`, "1,2,3,4", suspends},
		{"fn is the Go primitive", `__fetch`, "1,2,3,4", suspends},
		{"fn is the Lua shim", `fetch`, "1,2,3,4", suspends},
		{"tail call below the root", `function(x) local function h(y) return fetch(y) end return h(x) * 2 end`, "2,4,6,8", suspends},

		// §3.2: resumed values are not fitted to the call site.
		{"fixed site wanting more", `function(x) local a, b, c = fetch(x) return tostring(a) .. tostring(b) .. tostring(c) end`, "1nilnil,2nilnil,3nilnil,4nilnil", suspends},
		{"select('#')", `function(x) return select('#', fetch(x)) end`, "2,2,2,2", suspends},
		{"t[#t+1] = f()", `function(x) local t = {} t[#t + 1] = fetch(x) t[#t + 1] = fetch(x) return #t .. ":" .. t[2] end`, "2:1,2:2,2:3,2:4", suspends},
		{"table.insert(t, (f()))", `function(x) local t = {} table.insert(t, (fetch(x))) return #t end`, "1,1,1,1", suspends},
		{"table constructor", `function(x) local t = { fetch(x) } return #t end`, "1,1,1,1", suspends},
		{"statement", `function(x) fetch(x) return "done" end`, "done,done,done,done", suspends},
		{"primitive at a fixed site wanting more", `function(x) local a, b, c = __fetch(x) return tostring(a) .. tostring(b) .. tostring(c) end`, "1nilnil,2nilnil,3nilnil,4nilnil", suspends},
		{"primitive at a site wanting one", `function(x) local a = __fetch(x) return a end`, "1,2,3,4", suspends},
		{"primitive under select('#')", `function(x) return select('#', __fetch(x)) end`, "2,2,2,2", suspends},
		{"primitive in a table constructor", `function(x) local t = { __fetch(x) } return select('#', unpack(t)) end`, "1,1,1,1", suspends},
		{"primitive as a statement", `function(x) __fetch(x) return "done" end`, "done,done,done,done", suspends},
		{"primitive in parentheses", `function(x) return (__fetch(x)) end`, "1,2,3,4", suspends},

		// Lua-to-Lua calls add no Go frame: safe anywhere.
		{"closure, upvalue, several calls", `function(x) local n = 0 local function add() n = n + fetch(x) end add() add() return n end`, "2,4,6,8", suspends},
		{"loop body", `function(x) local s = 0 for i = 1, 3 do s = s + fetch(i) end return s * x end`, "6,12,18,24", suspends},
		{"for-in body", `function(x) local s = 0 for _, v in ipairs({x, x}) do s = s + fetch(v) end return s end`, "2,4,6,8", suspends},
		{"__call (resolved inline by the VM)", `function(x) local o = setmetatable({}, { __call = function(_, y) return fetch(y) end }) return o(x) end`, "1,2,3,4", suspends},
		{"loadstring chunk called from Lua", `function(x) return loadstring("return fetch(...)")(x) end`, "1,2,3,4", suspends},
		{"pcall (ours)", `function(x) local ok, v = pcall(fetch, x) return tostring(ok) .. v end`, "true1,true2,true3,true4", suspends},
		{"xpcall (ours)", `function(x) local ok, v = xpcall(function() return fetch(x) end, debug.traceback) return tostring(ok) .. v end`, "true1,true2,true3,true4", suspends},
		{"method call on a table", `function(x) local o = { f = function(self, y) return fetch(y) end } return o:f(x) end`, "1,2,3,4", suspends},

		// §3.1: a yield across a nested VM loop corrupts the coroutine
		// silently: netcall must see it and block.
		{"builtin pcall", `function(x) local ok, v = builtin_pcall(fetch, x) return tostring(ok) .. v end`, "true1,true2,true3,true4", blocks},
		{"builtin xpcall", `function(x) local ok, v = builtin_xpcall(function() return fetch(x) end, debug.traceback) return tostring(ok) .. v end`, "true1,true2,true3,true4", blocks},
		{"pcall(pcall, ...) (ours, via the builtin)", `function(x) local ok, ok2, v = pcall(builtin_pcall, fetch, x) return v end`, "1,2,3,4", blocks},
		{"__index", `function(x) local t = setmetatable({}, { __index = function(_, k) return fetch(k) end }) return t[x] end`, "1,2,3,4", blocks},
		{"__newindex", `function(x) local got local t = setmetatable({}, { __newindex = function(_, k, v) got = fetch(v) end }) t.a = x return got end`, "1,2,3,4", blocks},
		{"__add", `function(x) local m = { __add = function(a, b) return fetch(b) end } return setmetatable({}, m) + x end`, "1,2,3,4", blocks},
		{"__unm", `function(x) local o = setmetatable({}, { __unm = function() return fetch(x) end }) return -o end`, "1,2,3,4", blocks},
		{"__concat", `function(x) local o = setmetatable({}, { __concat = function(a, b) return fetch(b) end }) return o .. x end`, "1,2,3,4", blocks},
		{"__eq", `function(x) local m = { __eq = function() return fetch(x) == 2 end } return tostring(setmetatable({}, m) == setmetatable({}, m)) end`, "false,true,false,false", blocks},
		{"__lt", `function(x) local m = { __lt = function() return fetch(x) == 2 end } return tostring(setmetatable({}, m) < setmetatable({}, m)) end`, "false,true,false,false", blocks},
		{"__le", `function(x) local m = { __le = function() return fetch(x) == 2 end } return tostring(setmetatable({}, m) <= setmetatable({}, m)) end`, "false,true,false,false", blocks},
		{"__tostring via tostring", `function(x) local o = setmetatable({}, { __tostring = function() return "o" .. fetch(x) end }) return tostring(o) end`, "o1,o2,o3,o4", blocks},
		{"for-in iterator function", `function(x) local function it(_, c) if c then return nil end return fetch(x) end for v in it do return v end end`, "1,2,3,4", blocks},
		{"table.sort comparator", `function(x) local t = { 3, 1, 2 } table.sort(t, function(a, b) return fetch(a) < fetch(b) end) return t[1] .. t[2] .. t[3] end`, "123,123,123,123", blocks},
		{"string.gsub callback", `function(x) return (string.gsub("a-a", "a", function() return fetch(x) end)) end`, "1-1,2-2,3-3,4-4", blocks},
		{"require'd chunk", `function(x) package.preload["m" .. x] = function() return fetch(x) end return require("m" .. x) end`, "1,2,3,4", blocks},
		{"pcall (ours) inside __index", `function(x) local t = setmetatable({}, { __index = function(_, k) local ok, v = pcall(fetch, k) return v end }) return t[x] end`, "1,2,3,4", blocks},

		// A coroutine of the script's own is not the scheduler's: its calls
		// block, and its own yields work.
		{"script's coroutine.wrap", `function(x) return coroutine.wrap(function() return fetch(x) end)() end`, "1,2,3,4", unmanaged},
		{"script's coroutine yielding", `function(x) local co = coroutine.create(function() coroutine.yield(fetch(x)) end) local _, v = coroutine.resume(co) return v end`, "1,2,3,4", unmanaged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newAsyncHarness(t)
			if tc.mode == suspends {
				h.setBarrier(4) // finishes only if the four calls overlap
			}
			h.mustRun(`
				local r = wandb.parallel({1, 2, 3, 4}, ` + tc.fn + `, { concurrency = 4 })
				for i = 1, 4 do r[i] = tostring(r[i]) end
				out = table.concat(r, ",")
			`)
			if got := h.global("out"); got != tc.want {
				t.Errorf("results = %q, want %q", got, tc.want)
			}
			s, b := h.counters()
			switch tc.mode {
			case suspends:
				if s < 4 || b != 0 {
					t.Errorf("suspended %d, blocked %d: want every call to suspend", s, b)
				}
			case blocks:
				if s != 0 || b < 4 {
					t.Errorf("suspended %d, blocked %d: want every call to block", s, b)
				}
			case unmanaged:
				if s != 0 || b != 0 {
					t.Errorf("suspended %d, blocked %d: want calls outside the scheduler's coroutines", s, b)
				}
			}
			h.assertClean()
		})
	}
}

func TestCallerNRetIsReadable(t *testing.T) {
	// callerNRet reads gopher-lua's unexported callFrame.NRet. Without it,
	// pcall inside parallel falls back to the builtin (blocking).
	if nretPath == nil {
		t.Fatal("LState.currentFrame.NRet not found by reflection: gopher-lua's internals changed")
	}
	L := lua.NewState()
	defer L.Close()
	var got []int
	L.SetGlobal("nret", L.NewFunction(func(L *lua.LState) int {
		n, ok := callerNRet(L)
		if !ok {
			t.Error("callerNRet not ok")
		}
		got = append(got, n)
		return 0
	}))
	if err := L.DoString(`nret() local a = nret() local a, b, c = nret() print(nret()) local t = { nret() }`); err != nil {
		t.Fatal(err)
	}
	want := []int{0, 1, 3, lua.MultRet, lua.MultRet}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("call %d: NRet = %d, want %d", i+1, got[i], want[i])
		}
	}
}

// TestGopherLuaTrapsStillPresent runs the raw traps without this package's
// workarounds. It fails when an upgrade of gopher-lua changes one: the
// workaround may then be unnecessary or, worse, wrong. Update the note and
// the code together.
func TestGopherLuaTrapsStillPresent(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{
			// §3.1: after a yield across pcall, the coroutine goes on
			// running the code after the pcall before resume returns.
			"yield across pcall runs on",
			`after = false
			 co = coroutine.create(function() pcall(coroutine.yield, 1); after = true end)
			 coroutine.resume(co)
			 res = tostring(after)`,
			"true",
		},
		{
			// §3.2: resume values are not padded to the call site's count.
			"resume values are not padded",
			`co = coroutine.create(function() local a, b = coroutine.yield() return tostring(a) .. tostring(b) end)
			 coroutine.resume(co)
			 local ok, err = coroutine.resume(co, 1)
			 res = tostring(ok) .. " " .. tostring(err)`,
			"false runtime error: invalid memory address or nil pointer dereference",
		},
		{
			// §3.3: a yield from the root frame (a tail call of the
			// yielding Go function) loses the coroutine.
			"root tail-call yield",
			`co = coroutine.create(function() return coroutine.yield(1) end)
			 coroutine.resume(co)
			 res = tostring(builtin_pcall(coroutine.resume, co, 2))`,
			"false",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			L := lua.NewState()
			defer L.Close()
			L.SetGlobal("builtin_pcall", L.GetGlobal("pcall"))
			err := L.DoString(tc.src)
			if err != nil && !strings.Contains(err.Error(), "nil pointer") {
				t.Fatal(err)
			}
			if got := L.GetGlobal("res").String(); err == nil && got != tc.want {
				t.Errorf("gopher-lua behaviour changed: got %q, want %q; revisit luamod/async.go and shared/notes/gopher-lua-async.md", got, tc.want)
			}
		})
	}
}
