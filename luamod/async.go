package luamod

import (
	"context"
	"reflect"
	"runtime"

	lua "github.com/yuin/gopher-lua"
)

// result turns the outcome of a network operation into the two values a
// network primitive returns to Lua: (value, nil) on success, (nil or false,
// err) on failure. It runs on the goroutine that runs Lua.
type result func(L *lua.LState) (lua.LValue, lua.LValue)

// netcall runs op, the network part of the Lua function being called, and
// returns its two results to Lua. op must not touch L or any Lua value: it may
// run on another goroutine. It must return soon after ctx is done: when
// wandb.parallel stops early it cancels ctx and waits for every op it started.
// Every Lua API function that sends a request goes through netcall, and
// nothing else suspends a coroutine on I/O.
//
// Inside a coroutine run by wandb.parallel, at a point where gopher-lua can
// yield safely, netcall starts op on a goroutine with the scheduler's context
// and yields; the scheduler resumes the coroutine with op's two values.
// Everywhere else (the main chunk, a script's own coroutines, metamethods,
// iterators, callbacks of Go builtins, the builtin pcall) it blocks, running op
// with L.Context(), exactly as a plain Go function would.
func netcall(L *lua.LState, op func(ctx context.Context) result) int {
	if st := asyncStateOf(L); st != nil {
		if t := st.innermost(L); t != nil {
			if st.yieldSafe() {
				return t.sched.suspend(L, t, op)
			}
			st.blocked++
		}
	}
	ctx := L.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	a, b := op(ctx)(L)
	L.Push(a)
	L.Push(b)
	return 2
}

// asyncStateKey is the registry key of an LState family's *asyncState.
const asyncStateKey = "wandb.parallel.state"

// asyncState is what netcall, pcall and wandb.parallel share in one LState
// family (an LState and the threads made from it share one registry).
type asyncState struct {
	// marker is yielded by a coroutine that waits for an op; done is yielded
	// by an item's trampoline when fn has returned. Scripts cannot reach
	// either, so any other yielded value is a stray coroutine.yield.
	marker *lua.LUserData
	done   *lua.LUserData

	// threads maps every coroutine run by a scheduler (an item's coroutine,
	// and the coroutines of the yieldable pcall/xpcall) to its task.
	threads map[*lua.LState]*task

	itemTrampoline *lua.LFunction // fn(item, i) in a loop, yielding done between items
	callTrampoline *lua.LFunction // f(...), returning (select('#', ...), ...)

	builtinPCall  lua.LGFunction // nil when pcall was not a Go builtin at install time
	builtinXPCall lua.LGFunction
	// suspendable holds the Go functions a protected call runs in a
	// coroutine of its own: our pcall and xpcall, and coroutine.yield.
	suspendable map[*lua.LFunction]bool

	// stopped is a context that is already done, for the coroutines
	// forget drops that have no context of their own.
	stopped context.Context

	// frames caches yieldSafe's classification of return addresses.
	frames map[uintptr]frameKind

	// suspended and blocked count network calls made inside scheduled
	// coroutines that suspended, or had to block because a yield was not
	// safe at their call site. Tests read them to pin each gopher-lua trap.
	suspended, blocked int
}

// asyncStateOf returns L's asyncState, or nil before wandb.parallel is
// installed.
func asyncStateOf(L *lua.LState) *asyncState {
	ud, ok := L.G.Registry.RawGetString(asyncStateKey).(*lua.LUserData)
	if !ok {
		return nil
	}
	st, _ := ud.Value.(*asyncState)
	return st
}

// innermost returns the task of L if L is a scheduled coroutine and the
// innermost one of its task (the only one that may suspend), else nil.
func (st *asyncState) innermost(L *lua.LState) *task {
	t := st.threads[L]
	if t == nil || t.top().th != L {
		return nil
	}
	return t
}

// gopher-lua functions whose frames on the Go stack tell whether a yield is
// safe. See yieldSafe.
const (
	glMainLoop        = "github.com/yuin/gopher-lua.mainLoop"
	glMainLoopWithCtx = "github.com/yuin/gopher-lua.mainLoopWithContext"
	glThreadRun       = "github.com/yuin/gopher-lua.threadRun"
)

// frameKind classifies a program counter for yieldSafe.
type frameKind uint8

const (
	otherFrame frameKind = iota + 1
	vmLoopFrame
	threadRunFrame
)

// yieldWindows are how many Go frames above its caller yieldSafe inspects:
// the first is enough in the common case (netcall, the primitive,
// callGFunction, the opcode function, mainLoop, threadRun), and unwinding
// the stack is what the check costs; the second is tried when threadRun is
// not within the first. A yield is refused if it is not within either.
var yieldWindows = [...]int{8, 32}

// yieldSafe reports whether the Go function that calls it may yield its
// coroutine. gopher-lua raises nothing when a Go function yields from a VM
// loop nested inside another (pcall, xpcall, metamethods, generic-for
// iterators, table.sort and string.gsub callbacks): the nested loop returns,
// the outer one keeps running the "suspended" coroutine, and the state is
// corrupted. A yield is safe only when exactly one VM loop (mainLoop or
// mainLoopWithContext) lies between the caller and the nearest threadRun,
// which is where Resume entered the coroutine. This depends on gopher-lua's
// internal function names (v1.1.2); the trap tests fail if they change, and
// until they are fixed every call blocks, which is slow but correct.
//
// Those functions are never inlined (mainLoop is called through a function
// value, threadRun recovers panics), so each return address maps to one
// function, and the classification is cached per program counter.
func (st *asyncState) yieldSafe() bool {
	var buf [32]uintptr
	for _, w := range yieldWindows {
		n := runtime.Callers(3, buf[:w])
		if safe, found := st.scanFrames(buf[:n]); found || n < w {
			return safe
		}
	}
	return false
}

// scanFrames looks for threadRun in pcs, innermost first, and reports
// whether exactly one VM loop came before it.
func (st *asyncState) scanFrames(pcs []uintptr) (safe, found bool) {
	loops := 0
	for _, pc := range pcs {
		kind := st.frames[pc]
		if kind == 0 {
			kind = otherFrame
			if f := runtime.FuncForPC(pc - 1); f != nil {
				switch f.Name() {
				case glMainLoop, glMainLoopWithCtx:
					kind = vmLoopFrame
				case glThreadRun:
					kind = threadRunFrame
				}
			}
			st.frames[pc] = kind
		}
		switch kind {
		case vmLoopFrame:
			loops++
		case threadRunFrame:
			return loops == 1, true
		}
	}
	return false, false
}

// nretPath is the reflect field path of LState.currentFrame.NRet, or nil if
// gopher-lua's internals changed shape.
var nretPath = func() []int {
	ls, ok := reflect.TypeFor[lua.LState]().FieldByName("currentFrame")
	if !ok || ls.Type.Kind() != reflect.Pointer || ls.Type.Elem().Kind() != reflect.Struct {
		return nil
	}
	nret, ok := ls.Type.Elem().FieldByName("NRet")
	if !ok || nret.Type.Kind() != reflect.Int {
		return nil
	}
	return []int{ls.Index[0], nret.Index[0]}
}()

// callerNRet returns how many results the call site of the running Go
// function expects (lua.MultRet for all). gopher-lua pushes the values given
// to Resume into the caller's registers as they are, without trimming or
// padding them to the call site's count, and a fixed call site that gets too
// few reads Go nil registers (a nil-pointer panic later). So a coroutine must
// be resumed with exactly this many values. It reads an unexported field by
// reflection; ok is false if that is not possible.
func callerNRet(L *lua.LState) (n int, ok bool) {
	if nretPath == nil {
		return 0, false
	}
	frame := reflect.ValueOf(L).Elem().Field(nretPath[0])
	if frame.IsNil() {
		return 0, false
	}
	return int(frame.Elem().Field(nretPath[1]).Int()), true
}

// fitResults returns vals padded with nil or cut to n values; n ==
// lua.MultRet keeps them all.
func fitResults(vals []lua.LValue, n int) []lua.LValue {
	if n == lua.MultRet || n == len(vals) {
		return vals
	}
	if n < len(vals) {
		return vals[:n]
	}
	out := make([]lua.LValue, n)
	copy(out, vals)
	for i := len(vals); i < n; i++ {
		out[i] = lua.LNil
	}
	return out
}
