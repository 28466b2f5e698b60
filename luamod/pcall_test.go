package luamod

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// showSrc defines show(...), which renders any values, their count and
// types included, so results can be compared as strings.
const showSrc = `
function show(...)
	local t = {}
	for i = 1, select('#', ...) do
		local v = select(i, ...)
		t[i] = type(v) .. ":" .. tostring(v)
	end
	return select('#', ...) .. "[" .. table.concat(t, " ") .. "]"
end
`

// tableAddr hides table/function addresses, which differ between states.
var tableAddr = regexp.MustCompile(`0x[0-9a-f]+`)

// protectedCases are expressions whose value is compared between the builtin
// pcall/xpcall and ours.
var protectedCases = []string{
	`show(pcall(nil))`,
	`show(pcall(42))`,
	`show(pcall({}))`,
	`show(pcall(error, "x"))`,
	`show(pcall(error, "x", 2))`,
	`show(pcall(error))`,
	`show(pcall(error, { code = 1 }))`,
	`show(pcall(type))`, `show(pcall(tostring, 1))`,
	`show(pcall(function() error("x") end))`,
	`show(pcall(function() error("x", 0) end))`,
	`show(pcall(function() local t = nil; return t.x end))`,
	`show(pcall(function() return 1, nil, 3 end))`,
	`show(pcall(function() return nil end))`,
	`show(pcall(function() end))`,
	`show(pcall(function(...) return select('#', ...), ... end, nil, 2, nil))`,
	`show(pcall(setmetatable({}, { __call = function(_, a) return a end }), 5))`,
	`show(pcall(pcall, error, "e"))`,
	`show(pcall(pcall, function() error("e") end))`,
	`show(pcall(function() return pcall(function() error({}) end) end))`,
	`show(pcall(string.rep))`,
	`show(pcall(function() return debug.traceback("tb") end))`,
	`show(xpcall(function() error("x") end, function(m) return "h:" .. m end))`,
	`show(xpcall(function() error("x") end, function(m) return "h", "dropped" end))`,
	`show(xpcall(function() error("x") end, function(m) end))`,
	`show(xpcall(function() return 1, 2 end, print))`,
	`show(xpcall(function() end, print))`,
	`show(xpcall(function() error("x") end, function(m) error("in handler", 0) end))`,
	`show(xpcall(function(...) return select('#', ...) end, print))`,
	`show(select('#', pcall(function() end)))`,
	`show((pcall(function() return 1, 2 end)))`,
}

// raisingCases raise from pcall/xpcall itself.
var raisingCases = []string{
	`pcall()`,
	`xpcall()`,
	`xpcall(print)`,
	`xpcall(print, 1)`,
	`xpcall(1, print)`,
	`local p = pcall; p()`,
}

// runBoth runs src in a state with gopher-lua's builtins and in one with
// ours installed, outside parallel, and returns the global res (or the
// error) from each.
func runBoth(t *testing.T, src string) (builtin, ours string) {
	t.Helper()
	run := func(install bool) string {
		L := lua.NewState()
		defer L.Close()
		if install {
			installParallel(L, L.NewTable())
		}
		if err := L.DoString(showSrc); err != nil {
			t.Fatal(err)
		}
		if err := L.DoString(src); err != nil {
			return "error: " + tableAddr.ReplaceAllString(err.Error(), "0x")
		}
		return tableAddr.ReplaceAllString(L.GetGlobal("res").String(), "0x")
	}
	return run(false), run(true)
}

func TestPCallOutsideParallelIsTheBuiltin(t *testing.T) {
	for _, expr := range protectedCases {
		t.Run(expr, func(t *testing.T) {
			builtin, ours := runBoth(t, "res = "+expr)
			if builtin != ours {
				t.Errorf("builtin: %s\nours:    %s", builtin, ours)
			}
		})
	}
	for _, stmt := range raisingCases {
		t.Run(stmt, func(t *testing.T) {
			builtin, ours := runBoth(t, stmt)
			if !strings.HasPrefix(builtin, "error: ") || builtin != ours {
				t.Errorf("builtin: %s\nours:    %s", builtin, ours)
			}
		})
	}
	t.Run("traceback inside the protected function", func(t *testing.T) {
		src := `
			local function f() return debug.traceback("here") end
			local function g() local ok, tb = pcall(f) return tb end
			res = g()`
		builtin, ours := runBoth(t, src)
		if builtin != ours {
			t.Errorf("builtin:\n%s\nours:\n%s", builtin, ours)
		}
	})
	t.Run("in a script's own coroutine", func(t *testing.T) {
		src := `
			local co = coroutine.wrap(function() return show(pcall(function() error("in co") end)) end)
			res = co()`
		builtin, ours := runBoth(t, src)
		if builtin != ours {
			t.Errorf("builtin: %s\nours:    %s", builtin, ours)
		}
	})
}

func TestPCallInsideParallelReturnsWhatTheBuiltinReturns(t *testing.T) {
	// Every case runs first in the main chunk (the builtin semantics, since
	// ours delegates there) and then inside a parallel item, where ours
	// runs the protected function in a coroutine of its own.
	var cases []string
	for _, c := range protectedCases {
		if !strings.Contains(c, "traceback") { // see TestPCallInsideParallelDifferences
			cases = append(cases, c)
		}
	}
	cases = append(cases,
		// with network calls inside the protected function
		`show(pcall(fetch, 5))`,
		`show(pcall(must, "fail:nope"))`,
		`show(pcall(function() local v = must(5) error("after " .. v, 0) end))`,
		`show(pcall(function() local v = must(5) error({ v = v }) end))`,
		`show(pcall(function() return fetch(1), fetch(2) end))`,
		`show(pcall(pcall, fetch, 5))`,
		`show(pcall(function() return pcall(fetch, 6) end))`,
		`show(pcall(function() local ok, e = pcall(must, "fail:inner") return must(7), e end))`,
		`show(xpcall(function() return fetch(3) end, print))`,
		`show(xpcall(function() must("fail:x") end, function(m) return "h:" .. m end))`,
		`show(xpcall(function() must("fail:x") end, function(m) return "h:" .. must(9) end))`,
		`show(xpcall(function() must("fail:x") end, function(m) must("fail:handler") end))`,
		`show(select('#', pcall(fetch, 1)))`,
		`(function() local ok, a, b, c = pcall(fetch, 1) return show(ok, a, b, c) end)()`,
		`(function() local t = { pcall(fetch, 1) } return show(unpack(t)) end)()`,
		`(function() local function g() return pcall(fetch, 8) end local ok, v = g() return show(ok, v) end)()`,
	)
	for _, expr := range cases {
		t.Run(expr, func(t *testing.T) {
			h := newAsyncHarness(t)
			if err := h.L.DoString(showSrc); err != nil {
				t.Fatal(err)
			}
			h.mustRun("res = " + expr)
			outside := h.global("res")
			s, b := h.counters()
			if s != 0 || b != 0 {
				t.Fatalf("outside parallel: suspended %d, blocked %d", s, b)
			}
			h.mustRun(`res = wandb.parallel({1}, function() return ` + expr + ` end)[1]`)
			inside := h.global("res")
			// Messages carry the position of the error; inside, the item's
			// function is on another line of another chunk.
			if norm(inside) != norm(outside) {
				t.Errorf("outside: %s\ninside:  %s", outside, inside)
			}
			if s, b := h.counters(); b != 0 || (strings.Contains(expr, "fetch") || strings.Contains(expr, "must")) && s == 0 {
				t.Errorf("inside: suspended %d, blocked %d; want no blocking", s, b)
			}
			h.assertClean()
		})
	}
}

// norm strips chunk positions and addresses.
func norm(s string) string {
	s = regexp.MustCompile(`(<string>|\[wandb\.parallel\]):\d+: `).ReplaceAllString(s, "")
	return tableAddr.ReplaceAllString(s, "0x")
}

func TestPCallInsideParallelStaysConcurrent(t *testing.T) {
	h := newAsyncHarness(t)
	h.setBarrier(4) // finishes only if four protected calls wait at once
	h.mustRun(`
		local r = wandb.parallel(` + items(12) + `, function(x)
			local ok, v = pcall(function()
				local ok2, w = xpcall(function() return must(x) end, debug.traceback)
				return w * 10
			end)
			assert(ok, v)
			return v
		end, { concurrency = 4 })
		out = table.concat(r, ",")
	`)
	if got, want := h.global("out"), "10,20,30,40,50,60,70,80,90,100,110,120"; got != want {
		t.Errorf("results = %q, want %q", got, want)
	}
	if got := h.max.Load(); got != 4 {
		t.Errorf("max in flight = %d, want 4", got)
	}
	h.assertClean()
}

func TestPCallInsideParallelDifferences(t *testing.T) {
	// The documented differences of the protected call inside parallel.
	h := newAsyncHarness(t)
	h.mustRun(`
		local r = wandb.parallel({1}, function()
			local outer = coroutine.running()
			local _, inner = pcall(function() fetch(1) return coroutine.running() end)
			local _, tb = pcall(function() fetch(1) return debug.traceback("tb") end)
			return tostring(outer ~= inner) .. "\n" .. tb
		end)
		res = r[1]
	`)
	// The protected function runs in a coroutine of its own, whose root is
	// the trampoline: the traceback stops there.
	want := "true\ntb\nstack traceback:\n\t<string>:5: in function 'f'\n\t[wandb.parallel]:3: in corountine\n\t[G]: ?"
	if got := h.global("res"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPCallInstalledOncePerState(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	installParallel(L, L.NewTable())
	first := L.GetGlobal("pcall")
	installParallel(L, L.NewTable())
	if L.GetGlobal("pcall") != first {
		t.Error("a second installation replaced pcall again")
	}
	// A pcall that is not gopher-lua's Go builtin is left alone.
	L2 := lua.NewState()
	defer L2.Close()
	if err := L2.DoString(`function pcall(...) return "mine" end`); err != nil {
		t.Fatal(err)
	}
	mine := L2.GetGlobal("pcall")
	installParallel(L2, L2.NewTable())
	if L2.GetGlobal("pcall") != mine {
		t.Error("a script's own pcall was replaced")
	}
	if got := fmt.Sprint(L2.GetGlobal("xpcall").(*lua.LFunction).IsG); got != "true" {
		t.Error("xpcall is not a Go function")
	}
}
