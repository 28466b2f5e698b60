package luamod

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// The checked string functions and the limits of SetLimits and SetContext.

// limitedState returns a state with the standard libraries, lim and ctx.
func limitedState(t *testing.T, ctx context.Context, lim Limits) *lua.LState {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	L.SetGlobal("print", L.NewFunction(func(*lua.LState) int { return 0 }))
	SetLimits(L, lim)
	SetContext(L, ctx)
	return L
}

// TestLua51StringSuite runs the pattern-matching and string tests of Lua
// 5.1's own test suite against the checked functions.
func TestLua51StringSuite(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"pm.lua", "strings.lua"} {
		src, err := os.ReadFile(filepath.Join("testdata", "lua5.1", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, lim := range []Limits{{}, {MaxString: 1 << 20, MaxCallLevels: 1000}} {
			L := limitedState(t, context.Background(), lim)
			if err := L.DoString(string(src)); err != nil {
				t.Errorf("%s with %+v: %v", name, lim, err)
			}
		}
	}
}

func TestCheckedStringFunctions(t *testing.T) {
	t.Parallel()
	L := limitedState(t, context.Background(), Limits{})
	for _, tc := range []struct{ script, want string }{
		{`return string.find("hello world", "o w")`, "5 7"},
		{`return string.find("a+b", "+", 1, true)`, "2 2"},
		{`return string.find("abc", "b", -1)`, "nil"},
		{`return string.find("key=val", "(%w+)=(%w+)")`, "1 7 key val"},
		{`return ("x"):rep(3, "ignored")`, "xxx"},
		{`return string.rep("ab", 0), string.rep("", 5)`, " "},
		{`return string.match("  trim  ", "^%s*(.-)%s*$")`, "trim"},
		{`return string.match("2024-01-31", "(%d+)-(%d+)-(%d+)")`, "2024 01 31"},
		{`return string.match("x", "()")`, "1"},
		{`return string.gsub("hello world", "o", "0")`, "hell0 w0rld 2"},
		{`return string.gsub("abc", "%w", "%0%0")`, "aabbcc 3"},
		{`return string.gsub("abc", "", "-")`, "-a-b-c- 4"},
		{`return string.gsub("hello", "l+", function(s) return #s end)`, "he2o 1"},
		{`return string.gsub("$name is $age", "%$(%w+)", {name = "bob", age = 42})`, "bob is 42 2"},
		{`return string.gsub("abc", "b", false)`, "ERR"},
		{`return string.gsub("a,b,,c", ",", ";", 2)`, "a;b;,c 2"},
		{`return string.gsub("THE (quick) fox", "%f[%a]%a+", "W")`, "W (W) W 3"},
		{`return string.gsub("f(a(b)c)d", "%b()", "")`, "fd 1"},
		{`local t = {} for k, v in string.gmatch("a=1, b=2", "(%w+)=(%w+)") do t[#t+1] = k .. v end return table.concat(t, ",")`, "a1,b2"},
		{`return string.format("%5.2f|%-3s|%q", 3.14159, "x", "a\"b")`, ` 3.14|x  |"a\"b"`},
		{`return string.format("%100d", 1)`, "ERR"},
		{`return table.concat({1, "two", 3}, "-")`, "1-two-3"},
		{`return table.concat({1, 2, 3}, "", 2)`, "23"},
		{`return table.concat({1, {}, 3})`, "ERR"},
		{`return string.find("a", "[a")`, "ERR"},
		{`return string.find("a", "%")`, "ERR"},
		{`return string.find("a", "(a")`, "ERR"},
		{`return string.match("a", "a)")`, "ERR"},
		{`return string.find("a)", "a)")`, "1 2"}, // no special character: a plain search, as in Lua 5.1
		{`return string.gsub("abc", "(b)", "%2")`, "ERR"},
		{`return string.find(string.rep("a", 300), string.rep("a?", 300))`, "ERR"}, // pattern too complex
	} {
		got, err := values(L, tc.script)
		if err != nil {
			got = "ERR"
		}
		if got != tc.want {
			t.Errorf("%s = %q (%v), want %q", tc.script, got, err, tc.want)
		}
	}
}

// values runs script and returns its values joined by spaces.
func values(L *lua.LState, script string) (string, error) {
	top := L.GetTop()
	defer L.SetTop(top)
	if err := L.DoString(script); err != nil {
		return "", err
	}
	var parts []string
	for i := top + 1; i <= L.GetTop(); i++ {
		parts = append(parts, L.Get(i).String())
	}
	return strings.Join(parts, " "), nil
}

// TestRunawaysStopAtTheDeadline: what runs in Go for as long as the script
// wants stops when the state's context ends, with the context's error.
// The bound on how long each took only keeps a regression from hanging
// the test: it is the deadline plus a wide margin.
func TestRunawaysStopAtTheDeadline(t *testing.T) {
	t.Parallel()
	for name, script := range map[string]string{
		"find that backtracks": `return string.find(("a"):rep(5000) .. "b", ("a*"):rep(20) .. "c")`,
		"match":                `return ("a"):rep(5000):match(("a*"):rep(20) .. "c")`,
		"gmatch":               `for x in ("a"):rep(5000):gmatch(("a*"):rep(20) .. "c") do end`,
		"gsub":                 `return (("a"):rep(200000)):gsub(("a*"):rep(10) .. "b", "")`,
		"rep without a limit":  `return #string.rep("ab", 2^40)`,
		"concat":               `local t = {} for i = 1, 1000 do t[i] = ("x"):rep(2^20) end for i = 1, 100 do table.concat(t) end`,
		"tail calls":           `local function f(n) return f(n + 1) end return f(1)`,
		"a loop":               `while true do end`,
		"in a coroutine":       `return coroutine.wrap(function() return string.find(("a"):rep(5000) .. "b", ("a*"):rep(20) .. "c") end)()`,
		"inside pcall":         `while true do pcall(string.find, ("a"):rep(5000) .. "b", ("a*"):rep(20) .. "c") end`,
		"json.encode":          `local t = {1} for i = 1, 40 do t = {t, t} end return require("wandb").json.encode(t)`,
		"csv.format":           `local r = {a = ("x"):rep(1000)} local rows = {} for i = 1, 2^16 do rows[i] = r end while true do require("wandb").csv.format(rows, {"a", "a", "a"}) end`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			L := limitedState(t, ctx, Limits{MaxCallLevels: 1 << 30})
			L.PreloadModule("wandb", LoaderWith(Options{}))
			start := time.Now()
			err := L.DoString(script)
			if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
				t.Errorf("err = %v, want the deadline's", err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("stopped after %v", d)
			}
		})
	}
}

// TestMaxString: no string longer than Limits.MaxString comes out of the
// checked functions, the .. operator or the module's encoders; the
// script can catch the error and go on.
func TestMaxString(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20
	for _, tc := range []struct{ name, script, want string }{
		{"rep", `return string.rep("ab", 2^31)`, "rep: resulting string too large (a string of 4 GiB; the limit is 1 MiB)"},
		{"rep just over", `return ("x"):rep(2^20 + 1)`, "resulting string too large"},
		{"gsub", `return (("x"):rep(2^19)):gsub("x", "xxx")`, "gsub: resulting string too large"},
		{"format", `return string.format("%s%s%s", ("x"):rep(2^19), "", ("y"):rep(2^19))`, "format: resulting string too large"},
		{"table.concat", `local t = {} for i = 1, 2^11 do t[i] = ("x"):rep(1024) end return table.concat(t)`, "concat: resulting string too large"},
		{"doubling with ..", `local s = "x" for i = 1, 40 do s = s .. s end`, "string too large (2 MiB; the limit is 1 MiB)"},
		{"many operands", `local s = ("x"):rep(2^19) local t = s .. s .. s`, "string too large"},
		{"in a coroutine", `coroutine.wrap(function() local s = "x" for i = 1, 40 do s = s .. s end end)()`, "string too large"},
		{"in a created coroutine", `local co = coroutine.create(function() local s = "x" for i = 1, 40 do s = s .. s end end)
			local ok, err = coroutine.resume(co) error(err, 0)`, "string too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			L := limitedState(t, context.Background(), Limits{MaxString: limit})
			err := L.DoString(tc.script)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			// Caught, and the state goes on.
			got, err := values(L, `local ok, err = pcall(function() `+tc.script+` end) return ok, #("x"):rep(2^20)`)
			if err != nil || got != "false 1048576" {
				t.Errorf("after pcall: %q, %v", got, err)
			}
		})
	}
}

// TestMaxStringInModule: the module's encoders respect the limit too, and
// so do the items of wandb.parallel.
func TestMaxStringInModule(t *testing.T) {
	t.Parallel()
	L := limitedState(t, context.Background(), Limits{MaxString: 1 << 20})
	L.PreloadModule("wandb", LoaderWith(Options{}))
	for _, tc := range []struct{ name, script, want string }{
		{"json.encode", `local w = require("wandb") local t = {} for i = 1, 2^11 do t[i] = ("x"):rep(1024) end return assert(w.json.encode(t))`, "resulting string too large"},
		{"json.encode of a shared table", `local w = require("wandb") local t = {("x"):rep(1000)} for i = 1, 30 do t = {t, t} end return assert(w.json.encode(t))`, "resulting string too large"},
		{"csv.format", `local w = require("wandb") local rows = {} for i = 1, 2^11 do rows[i] = {a = ("x"):rep(1024)} end return w.csv.format(rows, {"a"})`, "resulting string too large"},
		{"parallel item", `local w = require("wandb") w.parallel({1, 2}, function() local s = "x" for i = 1, 40 do s = s .. s end end)`, "string too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			SetContext(L, context.Background())
			err := L.DoString(tc.script)
			if err == nil || !strings.Contains(WrapError(L, err).Error(), tc.want) {
				t.Errorf("err = %v, want %q", WrapError(L, err), tc.want)
			}
		})
	}
}

// TestMaxCallLevels: tail calls without end raise "stack overflow" instead
// of growing the traceback of their error to hundreds of megabytes.
func TestMaxCallLevels(t *testing.T) {
	t.Parallel()
	L := limitedState(t, context.Background(), Limits{MaxCallLevels: 10000})
	for name, script := range map[string]string{
		"tail calls":      `local function f(n) return f(n + 1) end return f(1)`,
		"mutual":          `local g local function f(n) return g(n) end g = function(n) return f(n + 1) end return f(1)`,
		"in a coroutine":  `return coroutine.wrap(function() local function f(n) return f(n + 1) end return f(1) end)()`,
		"deep and tailed": `local function f(n) if n > 0 then return 1 + f(n - 1) end local function g(k) return g(k + 1) end return g(0) end return f(100)`,
	} {
		err := L.DoString(script)
		if err == nil || !strings.Contains(err.Error(), "stack overflow (more than 10000 levels of calls, tail calls included)") {
			t.Errorf("%s: %v", name, err)
		}
		if len(err.Error()) > 10000 {
			t.Errorf("%s: the error is %d bytes long", name, len(err.Error()))
		}
	}
	// A loop of tail calls that ends is fine.
	if got, err := values(L, `local function f(n) if n == 0 then return "done" end return f(n - 1) end return f(5000)`); got != "done" {
		t.Errorf("5000 tail calls: %q, %v", got, err)
	}
}

// TestSetContextWithoutLimits: without limits SetContext is
// L.SetContext, and the checked functions still stop at the deadline.
func TestSetContextWithoutLimits(t *testing.T) {
	t.Parallel()
	L := lua.NewState()
	defer L.Close()
	ctx, cancel := context.WithCancel(context.Background())
	SetContext(L, ctx)
	if L.Context() != ctx {
		t.Error("SetContext without limits wrapped the context")
	}
	SetLimits(L, Limits{})
	SetContext(L, ctx)
	if L.Context() != ctx || runContext(L) != ctx {
		t.Error("SetContext with zero limits wrapped the context")
	}
	cancel()
	err := L.DoString(`return string.find(("a"):rep(5000) .. "b", ("a*"):rep(20) .. "c")`)
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("err = %v", err)
	}
	// The watchdog unwraps for a request; a second SetLimits changes the
	// limits in place.
	SetLimits(L, Limits{MaxString: 10})
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Hour)
	defer cancel2()
	SetContext(L, ctx2)
	if _, ok := runContext(L).Deadline(); !ok || L.Context() == ctx2 {
		t.Error("the watchdog does not carry the deadline, or is missing")
	}
	if err := L.DoString(`local s = ("x"):rep(11)`); err == nil {
		t.Error("the second SetLimits did not apply")
	}
}
