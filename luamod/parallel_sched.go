package luamod

import (
	"context"
	"slices"

	lua "github.com/yuin/gopher-lua"
)

// A scheduler runs one wandb.parallel call. Everything but the ops runs on
// the goroutine that runs Lua: gopher-lua does no locking, and an LState and
// its threads share globals, registry and the current-thread pointer.
type scheduler struct {
	st     *asyncState
	L      *lua.LState // the state that called parallel; it resumes every coroutine
	fn     *lua.LFunction
	out    *lua.LTable // results
	bad    *lua.LTable // failure records, in the order of items
	failed []int       // indexes of the failed items ("collect" mode)

	opts parallelOptions

	// ctx is given to the ops; cancel stops them when parallel returns or
	// raises.
	ctx    context.Context
	cancel context.CancelFunc

	// done receives one completion per op. Each task has at most one op in
	// flight and at most opts.concurrency tasks run, so a buffer of that size
	// lets every op goroutine deliver and exit even after the scheduler has
	// given up; close drains it.
	done     chan completion
	inflight int

	tasks []*task // every task, for close
	idle  []*task // item coroutines parked in their trampoline, ready for another item
}

// A completion is the outcome of one op, for one task.
type completion struct {
	t   *task
	res result
}

// A task is one item's coroutine and, above it, the coroutines of the
// yieldable pcall/xpcall calls in progress in it. Only the innermost
// (top) coroutine runs or waits for an op; the others wait for the one above.
type task struct {
	sched  *scheduler
	index  int // the item being run, 1-based
	levels []*level
}

func (t *task) top() *level { return t.levels[len(t.levels)-1] }

// levelKind says what a coroutine of a task runs.
type levelKind int

const (
	itemLevel    levelKind = iota // fn(item, i), in the item trampoline
	pcallLevel                    // the function of a pcall
	xpcallLevel                   // the function of an xpcall
	handlerLevel                  // the message handler of an xpcall whose function failed
)

// A level is one coroutine of a task.
type level struct {
	th      *lua.LState
	cancel  context.CancelFunc // from NewThread; nil when the state has no context
	kind    levelKind
	nret    int        // how many values th expects when resumed (lua.MultRet: all)
	handler lua.LValue // xpcallLevel: the message handler
}

// outcome is where unwind stopped.
type outcome int

const (
	outPending outcome = iota // the innermost coroutine waits for an op
	outReturn                 // the protected call of level stop has its results
	outDone                   // the item's fn returned; vals[0] is its first result
	outFailed                 // the item's fn raised; vals[0] is the error value
	outStray                  // a coroutine yielded something else; vals are the values
)

func newScheduler(st *asyncState, L *lua.LState, fn *lua.LFunction, out, bad *lua.LTable, opts parallelOptions) *scheduler {
	parent := L.Context()
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	return &scheduler{
		st: st, L: L, fn: fn, out: out, bad: bad, opts: opts,
		ctx: ctx, cancel: cancel,
		done: make(chan completion, opts.concurrency),
	}
}

// run runs items 1..n and returns when all are done. It raises (panics) on a
// failure in "raise" mode and on cancellation; close cleans up either way.
func (s *scheduler) run(items *lua.LTable, n int) {
	running, next := 0, 1
	for {
		s.checkContext()
		for running < s.opts.concurrency && next <= n {
			if s.start(next, items.RawGetInt(next)) {
				running++
			}
			next++
		}
		if running == 0 {
			slices.Sort(s.failed)
			for _, i := range s.failed {
				s.bad.Append(s.out.RawGetInt(i))
			}
			return
		}
		select {
		case c := <-s.done:
			s.inflight--
			s.checkContext()
			a, b := c.res(s.L)
			if !s.resume(c.t, []lua.LValue{a, b}) {
				running--
			}
		case <-s.ctx.Done():
			s.checkContext()
		}
	}
}

// checkContext raises if the LState's context is done.
func (s *scheduler) checkContext() {
	if err := s.ctx.Err(); err != nil {
		s.L.Error(lua.LString("wandb.parallel: "+err.Error()), 0)
	}
}

// start runs item i until it waits for an op (true) or is finished (false).
func (s *scheduler) start(i int, item lua.LValue) bool {
	var t *task
	var fn *lua.LFunction // Resume uses fn only for a new thread
	if k := len(s.idle); k > 0 {
		t = s.idle[k-1]
		s.idle = s.idle[:k-1]
	} else {
		t = &task{sched: s}
		s.tasks = append(s.tasks, t)
		s.push(t, s.L, itemLevel, nil)
		fn = s.st.itemTrampoline
	}
	t.index = i
	state, err, out := s.L.Resume(t.levels[0].th, fn, s.fn, item, lua.LNumber(i))
	return s.settle(t, state, err, out)
}

// resume resumes t's innermost coroutine with the values it waits for.
func (s *scheduler) resume(t *task, vals []lua.LValue) bool {
	th := t.top()
	state, err, out := s.L.Resume(th.th, nil, fitResults(vals, th.nret)...)
	return s.settle(t, state, err, out)
}

// settle handles a Resume of t: true if t waits for an op, false if its item
// is finished (stored, or its failure recorded or raised).
func (s *scheduler) settle(t *task, state lua.ResumeState, err error, out []lua.LValue) bool {
	s.checkContext() // a cancelled context also makes the coroutine fail
	o, vals := s.unwind(t, nil, s.L, state, err, out)
	switch o {
	case outPending:
		return true
	case outDone:
		s.out.RawSetInt(t.index, vals[0])
		s.idle = append(s.idle, t)
		return false
	case outStray:
		s.discard(t)
		s.fail(t.index, lua.LString("coroutine.yield called inside wandb.parallel: the coroutine that runs fn belongs to the scheduler (use a coroutine of your own to yield)"))
		return false
	default: // outFailed
		s.discard(t)
		s.fail(t.index, vals[0])
		return false
	}
}

// fail raises item i's error, or records it in "collect" mode.
func (s *scheduler) fail(i int, errValue lua.LValue) {
	if !s.opts.collect {
		if msg, ok := errValue.(lua.LString); ok {
			s.L.Error(lua.LString(failureMessage(s.L, lua.LNumber(i), msg)), 0)
		}
		s.L.Error(failureRecord(s.L, i, errValue), 0)
	}
	rec := failureRecord(s.L, i, errValue)
	s.out.RawSetInt(i, rec)
	s.failed = append(s.failed, i)
}

// unwind follows a Resume (by resumer) of t's innermost coroutine. While that
// coroutine is a pcall/xpcall level that has finished, it pops it, and hands
// the protected call's results to the level below (running an xpcall's
// handler first if needed). It stops when a coroutine waits for an op, when
// the level below is stop (whose Go frame is the protected call in progress:
// it gets the results), or at the item level.
func (s *scheduler) unwind(t *task, stop *level, resumer *lua.LState, state lua.ResumeState, err error, out []lua.LValue) (outcome, []lua.LValue) {
	for {
		if state == lua.ResumeYield {
			switch {
			case len(out) == 1 && out[0] == s.st.marker:
				return outPending, nil
			case len(t.levels) == 1 && len(out) == 2 && out[0] == s.st.done:
				return outDone, out[1:]
			default:
				return outStray, out
			}
		}
		if len(t.levels) == 1 {
			if state == lua.ResumeError {
				return outFailed, []lua.LValue{errorObject(err)}
			}
			// The item trampoline loops forever; only a bug gets here.
			return outFailed, []lua.LValue{lua.LString("wandb.parallel: internal error: item coroutine returned")}
		}

		lv := s.pop(t)
		var vals []lua.LValue
		switch {
		case state == lua.ResumeOK && lv.kind == handlerLevel:
			// out is (count, results...): xpcall returns false and the
			// handler's first result.
			first := lua.LValue(lua.LNil)
			if len(out) > 1 && out[0] != lua.LNumber(0) {
				first = out[1]
			}
			vals = []lua.LValue{lua.LFalse, first}
		case state == lua.ResumeOK:
			n := 0
			if c, ok := out[0].(lua.LNumber); ok {
				n = int(c)
			}
			vals = make([]lua.LValue, 0, n+1)
			vals = append(vals, lua.LTrue)
			vals = append(vals, out[1:1+n]...)
		case lv.kind == xpcallLevel:
			h := s.push(t, t.top().th, handlerLevel, nil)
			state, err, out = resumer.Resume(h.th, s.st.callTrampoline, lv.handler, errorObject(err))
			continue
		default:
			vals = []lua.LValue{lua.LFalse, errorObject(err)}
		}

		below := t.top()
		if below == stop {
			return outReturn, vals
		}
		state, err, out = resumer.Resume(below.th, nil, fitResults(vals, below.nret)...)
	}
}

// push adds a new coroutine, made from the thread from, on top of t.
func (s *scheduler) push(t *task, from *lua.LState, kind levelKind, handler lua.LValue) *level {
	th, cancel := from.NewThread()
	lv := &level{th: th, cancel: cancel, kind: kind, handler: handler}
	t.levels = append(t.levels, lv)
	s.st.threads[th] = t
	return lv
}

// pop removes t's innermost coroutine, which has finished.
func (s *scheduler) pop(t *task) *level {
	lv := t.top()
	t.levels = t.levels[:len(t.levels)-1]
	s.forget(lv)
	return lv
}

// discard drops all of t's coroutines, after its item failed.
func (s *scheduler) discard(t *task) {
	for _, lv := range t.levels {
		s.forget(lv)
	}
	t.levels = nil
}

// forget unregisters a coroutine and cancels its context. A script may
// still hold it (coroutine.running() saved inside fn) and resume it after
// parallel is over: with its context done, that resume fails with "context
// canceled" instead of running fn's code or a trampoline with whatever
// values the script passed. A coroutine made without a context (the state
// that called parallel has none) gets the scheduler's cancelled one.
func (s *scheduler) forget(lv *level) {
	delete(s.st.threads, lv.th)
	if lv.cancel != nil {
		lv.cancel()
	} else {
		lv.th.SetContext(s.st.stopped)
	}
}

// suspend starts op for t's innermost coroutine L on a goroutine and yields
// L; run resumes L with op's values.
func (s *scheduler) suspend(L *lua.LState, t *task, op func(ctx context.Context) result) int {
	nret, ok := callerNRet(L)
	if !ok {
		nret = 2 // netcall's fixed arity
	}
	t.top().nret = nret
	s.inflight++
	s.st.suspended++
	ctx, done := s.ctx, s.done
	go func() { done <- completion{t: t, res: runOp(ctx, op)} }()
	return L.Yield(s.st.marker)
}

// runOp runs op; a panic is re-raised on the Lua goroutine when the result
// is converted, as it would be had op run there.
func runOp(ctx context.Context, op func(ctx context.Context) result) (res result) {
	defer func() {
		if r := recover(); r != nil {
			res = func(*lua.LState) (lua.LValue, lua.LValue) { panic(r) }
		}
	}()
	return op(ctx)
}

// close cancels the ops still in flight, waits for them, and forgets every
// coroutine of this call. It runs when parallel returns or raises.
func (s *scheduler) close() {
	s.cancel()
	for ; s.inflight > 0; s.inflight-- {
		<-s.done
	}
	for _, t := range s.tasks {
		s.discard(t)
	}
}
