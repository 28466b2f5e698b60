package luamod

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"
)

// wandb.parallel by lock handoff. Each item runs on a goroutine of its own,
// in a thread of its own, and one mutex per state family (family.mu) is
// handed between them: Lua runs only while holding it. The invariant that
// makes this sound: every function of the module that can send a request
// goes through netcall, which releases the mutex for the request alone, and
// nothing sends while holding it. netcall.go states the invariant in full
// (who may release the mutex, what a request may touch); bind.go is how
// the module's functions and methods reach netcall.

// Limits of opts.concurrency.
const (
	defaultConcurrency = 8
	maxConcurrency     = 256
)

// parallelName is the name argument errors use.
const parallelName = "parallel"

// parallelOptions are the checked options of one wandb.parallel call.
type parallelOptions struct {
	concurrency int
	collect     bool
	progress    bool
}

// parallel is wandb.parallel(items, fn [, opts]). It calls fn(items[i], i)
// for i = 1..#items on up to opts.concurrency workers, each a goroutine with
// a thread of its own, and returns two arrays: the first result of each
// call, in the order of items (nil where fn returned nothing or nil), and
// the failure records in the order of items (empty unless opts.on_error is
// "collect").
//
// Items start in order: a worker takes the next item when its previous one
// is done. A worker runs Lua only while holding the family's mutex and
// releases it during its requests (netcall), so up to opts.concurrency
// requests are in flight at once, wherever in fn's code they are made:
// inside pcall, metamethods, iterators, callbacks, require'd modules, the
// script's own coroutines or a nested parallel call (whose own workers add
// up to its own concurrency while the outer item waits for it). Nested
// calls multiply their concurrency, but the client bounds the requests
// its family has in flight (wandb.Config.MaxInFlight): a request waits for
// a place inside the client's send, so with the mutex released, as while
// it is in flight.
//
// items must be an array: keys 1..n and no others (no holes, no named
// keys), or parallel raises an argument error; {} returns two empty arrays.
//
// Options:
//   - concurrency: an integer from 1 to maxConcurrency, default 8.
//   - on_error: "raise" (default) or "collect".
//
// Errors. With "raise", the first error raised by a call stops everything:
// requests in flight are cancelled and waited for, no further item starts,
// and parallel raises that item's failure record (see newFailureRecord). With
// "collect", a failing item's slot holds its failure record, the record is
// also appended to the second result, and the other items go on. When the
// state's context is cancelled or its deadline passes, every item stops and
// parallel raises "wandb.parallel: <context error>".
//
// A thread that runs fn is not a coroutine: coroutine.yield in fn (outside
// a coroutine of the script's own) raises "can not yield from outside of a
// coroutine" in that item, and coroutine.resume of coroutine.running() from
// fn fails with "can not resume a dead thread".
func (f *family) parallelFunc(progress io.Writer) lua.LGFunction {
	return func(L *lua.LState) int { return f.parallel(L, progress) }
}

func (f *family) parallel(L *lua.LState, progress io.Writer) int {
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

	parent := runContext(L)
	if err := parent.Err(); err != nil {
		raise(L, "wandb.parallel: "+err.Error())
	}
	r := &run{f: f, fn: fn, items: items, n: n, collect: opts.collect, next: 1,
		results: L.CreateTable(n, 0)}
	if n > 0 {
		r.ctx, r.cancel = context.WithCancel(parent)
		defer r.cancel()
		if progress != nil && opts.progress && f.active == 0 {
			stop := startProgress(progress, n, &r.done, &r.failures)
			defer stop()
		}
		workers := min(opts.concurrency, n)
		if f.maxConcurrency > 0 {
			workers = min(workers, f.maxConcurrency) // the embedder's limit
		}
		f.runWorkers(L, r, workers)
		if err := parent.Err(); err != nil {
			raise(L, "wandb.parallel: "+err.Error())
		}
		if r.first != nil {
			L.Error(r.first, 0)
		}
	}
	failures := L.CreateTable(len(r.failed), 0)
	slices.Sort(r.failed)
	for _, i := range r.failed {
		failures.Append(r.results.RawGetInt(i))
	}
	L.Push(r.results)
	L.Push(failures)
	return 2
}

// run is the state of one wandb.parallel call. Its fields are read and
// written only with the family's mutex held.
type run struct {
	f       *family
	fn      *lua.LFunction
	items   *lua.LTable
	n       int
	collect bool

	// ctx is the context of the workers' threads, so of their requests;
	// cancel stops them after the first error ("raise") and when parallel
	// returns.
	ctx    context.Context
	cancel context.CancelFunc

	next    int         // the next item to start, 1-based
	results *lua.LTable // the first result of each item, or its failure record
	first   *lua.LTable // "raise": the first failure record
	failed  []int       // "collect": the items that failed

	// done and failures count finished and failed items for the progress
	// line, which reads them without the lock.
	done, failures atomic.Int64
}

// runWorkers runs the items of r on workers goroutines and returns when all
// are done. L is the thread that called parallel; it holds the mutex on
// return, as on entry, unless no parallel call was in progress before.
func (f *family) runWorkers(L *lua.LState, r *run, workers int) {
	threads := make([]*lua.LState, workers)
	for i := range threads {
		th, cancel := L.NewThread()
		if cancel != nil {
			cancel() // the context NewThread derived from L's; r.ctx replaces it
		}
		SetContext(th, r.ctx) // with the limits' checks, if L has limits
		// Nothing may resume a worker's thread as a coroutine (a script
		// could get it from coroutine.running()): it runs on its own
		// goroutine. gopher-lua refuses to resume a dead thread and does
		// not look at Dead otherwise.
		th.Dead = true
		threads[i] = th
	}
	outermost := f.active == 0
	if outermost {
		f.mu.Lock()
	}
	f.active++
	current := L.G.CurrentThread
	var wg sync.WaitGroup
	for _, th := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(th)
		}()
	}
	f.mu.Unlock()
	wg.Wait()
	f.mu.Lock()
	L.G.CurrentThread = current
	f.active--
	if outermost {
		f.mu.Unlock()
	}
}

// work is one worker: it takes the next item until there is none left or
// the run is stopped.
func (r *run) work(th *lua.LState) {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	for r.next <= r.n && r.first == nil && r.ctx.Err() == nil {
		i := r.next
		r.next++
		th.G.CurrentThread = th
		err := th.CallByParam(lua.P{Fn: r.fn, NRet: 1, Protect: true}, r.items.RawGetInt(i), lua.LNumber(i))
		r.done.Add(1)
		if err != nil {
			r.failures.Add(1)
			r.fail(th, i, err)
			continue
		}
		r.results.RawSetInt(i, th.Get(-1))
		th.Pop(1)
	}
}

// fail records the failure of item i: the first one stops the run
// ("raise"), or each one takes the item's slot ("collect"). Failures after
// the first in "raise" mode are the cancellation's doing and are dropped.
func (r *run) fail(th *lua.LState, i int, err error) {
	if r.first != nil {
		return
	}
	rec := newFailureRecord(th, i, err)
	if !r.collect {
		r.first = rec
		r.cancel()
		return
	}
	r.results.RawSetInt(i, rec)
	r.failed = append(r.failed, i)
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
	opts := parallelOptions{concurrency: defaultConcurrency, progress: true}
	forOptions(L, n, parallelName, func(k string, val lua.LValue) bool {
		switch k {
		case "concurrency":
			opts.concurrency = checkConcurrency(L, n, parallelName, val)
		case "on_error":
			switch val {
			case lua.LString("raise"):
				opts.collect = false
			case lua.LString("collect"):
				opts.collect = true
			default:
				argError(L, n, parallelName, fmt.Sprintf(`on_error must be "raise" or "collect", got %s`, quoteLua(val)))
			}
		case "progress":
			opts.progress = checkBoolOption(L, n, parallelName, k, val)
		default:
			return false
		}
		return true
	}, `"concurrency", "on_error", "progress"`)
	return opts
}

// checkConcurrency returns v, the concurrency option of the options at
// argument n of fname (wandb.parallel's, p:apply's), which must be an
// integer from 1 to maxConcurrency.
func checkConcurrency(L *lua.LState, n int, fname string, v lua.LValue) int {
	num, ok := v.(lua.LNumber)
	if !ok {
		argError(L, n, fname, "concurrency must be a number, got "+v.Type().String())
	}
	c := int(num)
	if lua.LNumber(c) != num || c < 1 || c > maxConcurrency {
		argError(L, n, fname, fmt.Sprintf("concurrency must be an integer from 1 to %d, got %v", maxConcurrency, num))
	}
	return c
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
