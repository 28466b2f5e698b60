package luamod

import (
	"context"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Limits of opts.concurrency.
const (
	defaultConcurrency = 8
	maxConcurrency     = 256
)

// parallelName is the name argument errors use.
const parallelName = "parallel"

// failureTypeName names the metatable of failure records in the registry.
const failureTypeName = "wandb.parallel.failure"

// installParallel adds wandb.parallel to the module table mod and, the first
// time in an LState family, installs the yieldable pcall and xpcall (see
// installPCall).
func installParallel(L *lua.LState, mod *lua.LTable) {
	st := asyncStateOf(L)
	if st == nil {
		st = newAsyncState(L)
		ud := L.NewUserData()
		ud.Value = st
		L.G.Registry.RawSetString(asyncStateKey, ud)
		mt := L.NewTypeMetatable(failureTypeName)
		mt.RawSetString("__tostring", L.NewFunction(failureToString))
		installPCall(L, st)
	}
	mod.RawSetString("parallel", L.NewFunction(st.parallel))
}

// Lua sources of the trampolines. A coroutine's root frame must be a Lua
// function that calls the user's function with a non-tail call: when a Go
// function yields from the root frame, Resume reports the coroutine finished.
const (
	// itemTrampolineSrc runs one item after another in the same coroutine,
	// so a scheduler creates about `concurrency` threads, not one per item.
	// The scheduler always resumes the yield with exactly three values.
	itemTrampolineSrc = `local yield, done = ...
return function(fn, item, i)
	while true do
		local r = fn(item, i)
		fn, item, i = yield(done, r)
	end
end`
	// callTrampolineSrc runs the function of a yieldable pcall/xpcall and
	// returns the count of its results first, since Resume turns "no
	// results" into a single nil.
	callTrampolineSrc = `local count = ...
return function(f, ...)
	return count(f(...))
end`
)

func newAsyncState(L *lua.LState) *asyncState {
	st := &asyncState{
		marker:  L.NewUserData(),
		done:    L.NewUserData(),
		threads: make(map[*lua.LState]*task),
		frames:  make(map[uintptr]frameKind),
	}
	stopped, stop := context.WithCancel(context.Background())
	stop()
	st.stopped = stopped
	st.itemTrampoline = compileTrampoline(L, itemTrampolineSrc, L.NewFunction(yieldAll), st.done)
	st.callTrampoline = compileTrampoline(L, callTrampolineSrc, L.NewFunction(countResults))
	return st
}

// compileTrampoline compiles one of the constant sources above and calls it
// with args to get the trampoline. A failure is a bug in this package.
func compileTrampoline(L *lua.LState, src string, args ...lua.LValue) *lua.LFunction {
	chunk, err := L.Load(strings.NewReader(src), "[wandb.parallel]")
	if err != nil {
		panic(fmt.Sprintf("luamod: compile trampoline: %v", err))
	}
	L.Push(chunk)
	for _, a := range args {
		L.Push(a)
	}
	L.Call(len(args), 1)
	fn := L.CheckFunction(-1)
	L.Pop(1)
	return fn
}

// yieldAll yields all its arguments, as coroutine.yield does.
func yieldAll(L *lua.LState) int { return -1 }

// countResults returns its argument count followed by its arguments.
func countResults(L *lua.LState) int {
	n := L.GetTop()
	L.Insert(lua.LNumber(n), 1)
	return n + 1
}

// parallelOptions are the checked options of one wandb.parallel call.
type parallelOptions struct {
	concurrency int
	collect     bool
}

// parallel is wandb.parallel(items, fn [, opts]). It runs fn(items[i], i)
// for i = 1..#items, each call in a coroutine, at most opts.concurrency at a
// time. When a call makes a network request (netcall), its coroutine is
// suspended while the request runs on a goroutine, so up to
// opts.concurrency requests are in flight at once. It returns two arrays:
// the first result of each call, in the order of items (nil where fn
// returned nothing or nil), and the failure records in the order of items
// (empty unless opts.on_error is "collect").
//
// Network calls inside the global pcall and xpcall stay concurrent (see
// installPCall). Inside metamethods, generic-for iterator functions,
// table.sort and string.gsub callbacks, require'd chunks and a script's own
// coroutines they block (see yieldSafe): correct, but the other items wait.
// A coroutine is reused for the next item once its call has returned.
//
// items must be an array: keys 1..n and no others (no holes, no named
// keys), or parallel raises an argument error; {} returns two empty arrays.
//
// Options:
//   - concurrency: an integer from 1 to maxConcurrency, default 8.
//   - on_error: "raise" (default) or "collect".
//
// Errors. With "raise", the first error raised by a call stops everything:
// in-flight requests are cancelled and waited for, and parallel raises
// "wandb.parallel: item <i>: <message>" if the error was a string, or else a
// failure record (below) so that the original value (such as a wandb error)
// stays reachable. With "collect", a failing item's slot holds its failure
// record, the record is also appended to the second result, and the other
// items go on. A failure record is a table { index = i, error = <the value
// raised, unchanged> } whose tostring is "wandb.parallel: item <i>: <error>".
// A coroutine.yield inside fn (outside a coroutine of the script's own) fails
// its item. Cancelling the LState's context stops everything at once and
// raises "wandb.parallel: <context error>".
//
// Calling parallel inside fn works, but the inner call runs to completion
// before the outer item can go on: the outer items wait meanwhile.
func (st *asyncState) parallel(L *lua.LState) int {
	items, ok := L.Get(1).(*lua.LTable)
	if !ok {
		argError(L, 1, parallelName, "table expected, got "+typeName(L, 1))
	}
	fn, ok := L.Get(2).(*lua.LFunction)
	if !ok {
		argError(L, 2, parallelName, "function expected, got "+typeName(L, 2))
	}
	n := checkItems(L, items)
	opts := checkParallelOptions(L, 3)

	results := L.CreateTable(n, 0)
	failures := L.NewTable()
	if n > 0 {
		s := newScheduler(st, L, fn, results, failures, opts)
		defer s.close()
		s.run(items, n)
	}
	L.Push(results)
	L.Push(failures)
	return 2
}

// checkItems returns the length of items and raises an argument error
// unless its keys are exactly 1..n. The length operator alone would let a
// hole ({"a", nil, "c"}, or a row deleted with items[i] = nil) or a table
// keyed by name ({alice = ...}) pass: fn would be called with nil, or not
// at all, and the script would never know.
func checkItems(L *lua.LState, items *lua.LTable) int {
	count, last := 0, 0
	var bad lua.LValue
	items.ForEach(func(k, _ lua.LValue) {
		count++
		num, ok := k.(lua.LNumber)
		i := int(num)
		switch {
		case bad != nil:
		case !ok || lua.LNumber(i) != num || i < 1:
			bad = k
		default:
			last = max(last, i)
		}
	})
	if bad != nil {
		argError(L, 1, parallelName, "array expected, got a table with the key "+quoteLua(bad))
	}
	if last > count {
		hole := 1
		for items.RawGetInt(hole) != lua.LNil {
			hole++
		}
		argError(L, 1, parallelName, fmt.Sprintf("array expected, got a table with a hole: item %d is nil but item %d is not", hole, last))
	}
	return count
}

// checkParallelOptions reads the options table at stack index n.
func checkParallelOptions(L *lua.LState, n int) parallelOptions {
	opts := parallelOptions{concurrency: defaultConcurrency}
	switch v := L.Get(n).(type) {
	case *lua.LNilType:
		return opts
	case *lua.LTable:
		v.ForEach(func(k, val lua.LValue) {
			switch k.String() {
			case "concurrency":
				num, ok := val.(lua.LNumber)
				if !ok {
					argError(L, n, parallelName, "concurrency must be a number, got "+val.Type().String())
				}
				c := int(num)
				if lua.LNumber(c) != num || c < 1 || c > maxConcurrency {
					argError(L, n, parallelName, fmt.Sprintf("concurrency must be an integer from 1 to %d, got %v", maxConcurrency, num))
				}
				opts.concurrency = c
			case "on_error":
				switch val {
				case lua.LString("raise"):
					opts.collect = false
				case lua.LString("collect"):
					opts.collect = true
				default:
					argError(L, n, parallelName, fmt.Sprintf(`on_error must be "raise" or "collect", got %s`, quoteLua(val)))
				}
			default:
				argError(L, n, parallelName, "unknown option "+quoteLua(k)+` (known: "concurrency", "on_error")`)
			}
		})
		return opts
	default:
		argError(L, n, parallelName, "table expected, got "+typeName(L, n))
		return opts
	}
}

// quoteLua shows a Lua value in an error message: strings quoted, other
// values by type.
func quoteLua(v lua.LValue) string {
	if s, ok := v.(lua.LString); ok {
		return fmt.Sprintf("%q", string(s))
	}
	if n, ok := v.(lua.LNumber); ok {
		return n.String()
	}
	return v.Type().String()
}

// failureRecord builds the failure record of item i.
func failureRecord(L *lua.LState, i int, errValue lua.LValue) *lua.LTable {
	rec := L.CreateTable(0, 2)
	rec.RawSetString("index", lua.LNumber(i))
	rec.RawSetString("error", errValue)
	L.SetMetatable(rec, L.GetTypeMetatable(failureTypeName))
	return rec
}

// failureToString is the __tostring of failure records.
func failureToString(L *lua.LState) int {
	rec := L.CheckTable(1)
	L.Push(lua.LString(failureMessage(L, rec.RawGetString("index"), rec.RawGetString("error"))))
	return 1
}

func failureMessage(L *lua.LState, index, errValue lua.LValue) string {
	return fmt.Sprintf("wandb.parallel: item %s: %s", index, L.ToStringMeta(errValue))
}

// errorObject returns the Lua value raised in a failed coroutine.
func errorObject(err error) lua.LValue {
	if ae, ok := err.(*lua.ApiError); ok {
		return ae.Object
	}
	return lua.LString(err.Error())
}
