package luamod

import (
	"context"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
)

// The invariant behind wandb.parallel (parallel.go), which every change to
// this file, to parallel.go and to the module's network functions must
// keep:
//
//   - Lua runs only while holding its family's mutex (family.mu) whenever
//     more than one goroutine may run it, that is while a wandb.parallel call
//     is in progress (family.active > 0).
//   - netcall is the only place that releases it around I/O, and
//     wandb.parallel the only other place (while it waits for its workers).
//     Both take it back before they touch a Lua value again, and restore
//     L.G.CurrentThread, which the goroutine that ran meanwhile changed.
//   - An op passed to netcall never touches L or any Lua value: it runs
//     while another goroutine runs Lua.
//   - Every function of the module that can send a request sends it from
//     an op passed to netcall, never while holding the mutex. The bindings
//     in bind.go see to it for the network functions and methods; a test
//     (TestEveryNetworkFunctionOverlapsInsideParallel) runs each of them
//     inside wandb.parallel and fails if one holds the others up.
//
// gopher-lua documents an LState as unsafe for concurrent use. The mutex
// makes sure it never is used concurrently, only by several goroutines in
// turn, with the mutex giving the happens-before edges between them. No Lua
// value crosses to a goroutine that does not hold the mutex.

// family is what the module keeps per LState family (an LState and the
// threads made from it share one registry; see setup).
type family struct {
	mu sync.Mutex
	// slots, when Options.MaxConcurrency is set, holds a token for each
	// request in flight inside wandb.parallel calls; maxConcurrency is its
	// capacity, which also lowers p:apply's concurrency (planApply).
	slots          chan struct{}
	maxConcurrency int
	// active counts the wandb.parallel calls in progress. It is read and
	// written only by the goroutine running Lua: while it is 0 that
	// goroutine is the only one and does not take mu; from the start of
	// the outermost parallel call to its end, every goroutine that runs Lua
	// holds mu.
	active int
	// wordHint is Options.WordHint, set once when the module is loaded.
	wordHint func(*wandb.Error) string
}

// result turns the outcome of a network operation into the two values a
// network function returns to Lua: value on success, (nil or false, err)
// on failure. It runs with the lock held, on the goroutine that called
// netcall.
type result func(L *lua.LState) (lua.LValue, lua.LValue)

// netcall runs op, the network part of the Lua function being called, with
// L's context, and returns op's values to Lua (see result). Inside wandb.parallel it
// releases the family's mutex while op runs, so that the other items' Lua
// code and requests go on meanwhile; outside it simply runs op. op must not
// touch L or any Lua value, and must return soon after ctx is done. Every
// Lua function of the module that sends a request goes through netcall.
func netcall(L *lua.LState, op request) int {
	ctx := runContext(L) // op's goroutines may ask it whether it is done; the VM's watchdog is not for them
	var res result
	if f := familyOf(L); f != nil && f.active > 0 {
		current := L.G.CurrentThread
		// Read with the lock held: a module loaded meanwhile, by another
		// item, may replace the channel (limitConcurrency).
		slots := f.slots
		f.mu.Unlock()
		release := acquire(ctx, slots)
		res = runOp(ctx, op)
		release()
		f.mu.Lock()
		L.G.CurrentThread = current
	} else {
		res = op(ctx)
	}
	a, b := res(L)
	L.Push(a)
	if b == lua.LNil {
		// A success is one value, so print(wandb.viewer()) prints the
		// user alone; local u, err = ... still gets err == nil.
		return 1
	}
	L.Push(b)
	return 2
}

// runOp runs op with the lock released. A panic in op must not unwind
// through netcall without the lock: it is caught here and raised again
// when the result is converted, with the lock held, as it would have been
// had op run there.
func runOp(ctx context.Context, op request) (res result) {
	defer func() {
		if r := recover(); r != nil {
			res = func(*lua.LState) (lua.LValue, lua.LValue) { panic(r) }
		}
	}()
	return op(ctx)
}

// limitConcurrency makes n (if positive and lower than the limit so far)
// the most requests f's parallel calls have in flight at once. Loading the
// module is the only time it is called, by the goroutine running Lua; a
// parallel item may load it (another LoaderWith) while other items'
// requests are in flight, holding slots of the channel it replaces.
func (f *family) limitConcurrency(n int) {
	if n <= 0 || f.maxConcurrency > 0 && n >= f.maxConcurrency {
		return
	}
	f.maxConcurrency, f.slots = n, make(chan struct{}, n)
}

// acquire waits for a slot in slots, the family's channel as netcall read
// it, for a request (none when slots is nil, no limit, or once ctx is
// done: the request then ends at once) and returns what releases it. It
// runs without the lock. The slot goes back to the channel it came from:
// released into a channel limitConcurrency made since, empty, it would
// wait for ever.
func acquire(ctx context.Context, slots chan struct{}) (release func()) {
	if slots == nil {
		return func() {}
	}
	select {
	case slots <- struct{}{}:
		return func() { <-slots }
	case <-ctx.Done():
		return func() {}
	}
}
