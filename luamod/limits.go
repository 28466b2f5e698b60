package luamod

import (
	"context"
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// What a deadline can stop. gopher-lua looks at an LState's context before
// each instruction of its VM, and nowhere else: a function written in Go
// runs to its end whatever the context says. Its string library is such
// code, and some of it runs for as long as a script wants (a pattern that
// backtracks without end, string.rep of gigabytes); tail calls, which the
// VM runs without growing its call stack, make the traceback of the error
// that ends them as long as their number (hundreds of megabytes after a
// few seconds). SetLimits and SetContext bound these from inside the
// state; a run that must end whatever its script does still needs a
// process of its own (see NewSandbox).

// Limits bound what a script can make its state do beyond what a deadline
// stops. The zero value bounds nothing (and SetLimits with it still makes
// the string functions stop at the deadline).
type Limits struct {
	// MaxString is the length in bytes of the longest string a script may
	// have: string.rep, gsub, format and table.concat refuse to build a
	// longer one ("resulting string too large"), as do wandb.json.encode
	// and wandb.csv.format, and a longer string made otherwise (by the ..
	// operator) raises "string too large" at the next instruction, once
	// SetContext is used. One .. of n operands can make up to n times
	// MaxString before that. 0: no limit.
	MaxString int64
	// MaxCallLevels bounds the levels of Lua calls in progress, tail calls
	// included (the VM replaces the caller's frame in a tail call, so
	// Options.CallStackSize does not count them): more raise "stack
	// overflow". Looked at every 64 instructions, once SetContext is
	// used. 0: no limit.
	MaxCallLevels int
}

// limitsKey is the registry key of a state's checked functions.
const limitsKey = "wandb.limits"

// callCheckEvery is how many instructions apart MaxCallLevels is looked
// at: a tail call takes at least two.
const callCheckEvery = 64

// SetLimits bounds what a script run in L can do, with lim (see Limits),
// and makes the functions of L's standard libraries that can run long in
// Go stop when L's context is done: it replaces string.find, match,
// gmatch (and gfind), gsub, rep and format and table.concat with checked
// versions that behave as Lua 5.1's (gsub and gmatch take time in
// proportion to the subject, where gopher-lua's are quadratic), and
// coroutine.create and wrap with versions whose coroutines SetContext's
// checks follow. Call it after opening the libraries and before running
// the script; calling it again changes the limits. NewSandbox calls it.
func SetLimits(L *lua.LState, lim Limits) {
	if lib := strlibOf(L); lib != nil {
		lib.lim = lim
		return
	}
	lib := &strlib{lim: lim}
	ud := L.NewUserData()
	ud.Value = lib
	L.G.Registry.RawSetString(limitsKey, ud)
	if str, ok := L.GetMetatable(lua.LString("")).(*lua.LTable); ok { // the string library
		if f, ok := str.RawGetString("format").(*lua.LFunction); ok && f.IsG {
			lib.origFormat = f.GFunction
			str.RawSetString("format", L.NewFunction(lib.checkedFormat))
		}
		for name, fn := range map[string]lua.LGFunction{"find": lib.find, "match": lib.match, "gmatch": lib.gmatch,
			"gsub": lib.gsub, "rep": lib.rep} {
			str.RawSetString(name, L.NewFunction(fn))
		}
		str.RawSetString("gfind", str.RawGetString("gmatch")) // one function, as in Lua 5.1
	}
	if tab, ok := L.GetGlobal(lua.TabLibName).(*lua.LTable); ok {
		tab.RawSetString("concat", L.NewFunction(lib.concat))
	}
	if co, ok := L.GetGlobal(lua.CoroutineLibName).(*lua.LTable); ok {
		for _, name := range []string{"create", "wrap"} {
			if orig, ok := co.RawGetString(name).(*lua.LFunction); ok {
				co.RawSetString(name, L.NewFunction(followCoroutine(orig)))
			}
		}
	}
}

// strlibOf returns the checked functions SetLimits gave L's family, or nil.
func strlibOf(L *lua.LState) *strlib {
	if ud, ok := L.G.Registry.RawGetString(limitsKey).(*lua.LUserData); ok {
		lib, _ := ud.Value.(*strlib)
		return lib
	}
	return nil
}

// SetContext sets L's context to ctx, as L.SetContext does, and, when
// SetLimits set limits in L, checks them between the VM's instructions:
// gopher-lua asks the context whether it is done before each instruction,
// and the context SetContext gives L also looks at L's registers (for a
// string longer than Limits.MaxString) and its call levels (more than
// Limits.MaxCallLevels) then. L.Context() returns that context: a Go
// function that hands L's context to another goroutine (a request, say)
// should derive one first (context.WithCancel), since only the goroutine
// running L may ask it whether it is done. luamod's own functions do.
func SetContext(L *lua.LState, ctx context.Context) {
	if old, ok := L.Context().(*watchdog); ok && old.L == L && old.cancel != nil {
		old.cancel()
	}
	lib := strlibOf(L)
	if lib == nil || lib.lim.MaxString <= 0 && lib.lim.MaxCallLevels <= 0 {
		L.SetContext(ctx)
		return
	}
	// A context of the standard library's below the watchdog, so that one
	// derived from the watchdog (context.WithCancel) hangs on it directly,
	// with no goroutine of the context package asking the watchdog.
	inner, cancel := context.WithCancel(ctx)
	L.SetContext(&watchdog{Context: inner, done: inner.Done(), cancel: cancel, L: L, lib: lib})
}

// runContext returns the context of L's run as it was given: without the
// watchdog SetContext puts around it, so that it may be handed to other
// goroutines (a request's), or context.Background() when L has none. It
// is the module's one way to L's context for its own use: requests,
// wandb.parallel's workers and the checked string functions.
func runContext(L *lua.LState) context.Context {
	switch ctx := L.Context().(type) {
	case nil:
		return context.Background()
	case *watchdog:
		return ctx.Context
	default:
		return ctx
	}
}

// followCoroutine returns coroutine.create or wrap (orig) for a state with
// limits: the new coroutine's thread gets a watchdog of its own over the
// creating thread's context.
func followCoroutine(orig *lua.LFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		top := L.GetTop()
		L.Push(orig)
		for i := 1; i <= top; i++ {
			L.Push(L.Get(i))
		}
		L.Call(top, 1)
		th, ok := L.Get(-1).(*lua.LState)
		if f, isFn := L.Get(-1).(*lua.LFunction); isFn && len(f.Upvalues) > 0 { // wrap's function holds its thread
			th, ok = f.Upvalues[0].Value().(*lua.LState)
		}
		if w, watched := L.Context().(*watchdog); watched && ok {
			th.SetContext(&watchdog{Context: w.Context, done: w.done, L: th, lib: w.lib})
		}
		return 1
	}
}

// watchdog is the context SetContext gives a thread. Only the goroutine
// running the thread calls its Done (the VM, before each instruction).
type watchdog struct {
	context.Context                    // the run's context
	done            <-chan struct{}    // its Done
	cancel          context.CancelFunc // releases it; nil for a coroutine's, which shares its creator's
	L               *lua.LState        // the thread it watches
	lib             *strlib            // the limits
	n               int                // instructions, for callCheckEvery
	fault           error              // the limit Done last found exceeded
}

// closedChan is a closed channel: a Done that says "stop now".
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Done checks the limits and returns a closed channel when one is
// exceeded (the VM then raises Err), else the run's Done.
func (w *watchdog) Done() <-chan struct{} {
	if w.fault != nil {
		w.fault = nil // raised: the script may have caught it
	}
	lim := w.lib.lim
	if lim.MaxString > 0 {
		for i, top := 1, w.L.GetTop(); i <= top; i++ {
			if s, ok := w.L.Get(i).(lua.LString); ok && int64(len(s)) > lim.MaxString {
				w.fault = fmt.Errorf("string too large (%s; the limit is %s)", showSize(float64(len(s))), showSize(float64(lim.MaxString)))
				return closedChan
			}
		}
	}
	if lim.MaxCallLevels > 0 {
		if w.n++; w.n%callCheckEvery == 0 {
			// GetStack counts a frame's tail calls as levels: it finds
			// level MaxCallLevels only when there are that many.
			if _, deep := w.L.GetStack(lim.MaxCallLevels); deep {
				w.fault = fmt.Errorf("stack overflow (more than %d levels of calls, tail calls included)", lim.MaxCallLevels)
				return closedChan
			}
		}
	}
	return w.done
}

// Err returns the exceeded limit Done just found, else the run's error.
func (w *watchdog) Err() error {
	if w.fault != nil {
		return w.fault
	}
	return w.Context.Err()
}
