package luamod

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// asyncHarness is an LState with wandb.parallel installed (as global table
// wandb) and test-only network primitives that go through netcall. Their ops
// only wait on channels, so the scheduler's mechanics can be tested
// deterministically; the tests over real HTTP are in parallel_wandb_test.go.
//
// Lua globals:
//
//	__fetch(v)  primitive: (v, nil) after the op; (nil, msg) if v is "fail:msg"
//	fetch(v)    the Lua shim over __fetch, as the module's functions are
//	builtin_pcall, builtin_xpcall: gopher-lua's, saved before installation
type asyncHarness struct {
	t  testing.TB
	L  *lua.LState
	st *asyncState

	live     atomic.Int64 // ops running
	inflight atomic.Int64 // ops running and counted for maxInflight
	max      atomic.Int64
	started  atomic.Int64

	mu      sync.Mutex
	barrier chan struct{} // ops wait until it is closed (nil: no wait)
	target  int64         // barrier closes when this many ops run at once
	hold    chan struct{} // ops wait until it is closed or their context ends (nil: no wait)
	startc  chan struct{} // one send per op started (buffered; dropped when full)
}

// harnessTimeout bounds every harness run, so a scheduler that fails to run
// ops concurrently makes a barrier test fail rather than hang.
const harnessTimeout = 30 * time.Second

func newAsyncHarness(t testing.TB, opts ...lua.Options) *asyncHarness {
	t.Helper()
	L := lua.NewState(opts...)
	t.Cleanup(L.Close)
	h := &asyncHarness{t: t, L: L, startc: make(chan struct{}, 1024)}
	L.SetGlobal("builtin_pcall", L.GetGlobal("pcall"))
	L.SetGlobal("builtin_xpcall", L.GetGlobal("xpcall"))
	mod := L.NewTable()
	installParallel(L, mod)
	L.SetGlobal("wandb", mod)
	h.st = asyncStateOf(L)
	L.SetGlobal("__fetch", L.NewFunction(h.fetchPrim))
	if err := L.DoString(`
		function fetch(v) local a, b = __fetch(v) return a, b end
		function must(v) local a, b = __fetch(v) if a == nil then error(b) end return a end
	`); err != nil {
		t.Fatal(err)
	}
	return h
}

// fetchPrim is the test primitive: fixed arity 2, argument checked before
// netcall, op off the VM goroutine touching no Lua value.
func (h *asyncHarness) fetchPrim(L *lua.LState) int {
	v := L.CheckAny(1)
	var s string
	var num lua.LNumber
	isNum := false
	switch x := v.(type) {
	case lua.LNumber:
		num, isNum = x, true
	case lua.LString:
		s = string(x)
	default:
		L.ArgError(1, "number or string expected")
	}
	return netcall(L, func(ctx context.Context) result {
		if err := h.wait(ctx); err != nil {
			msg := err.Error()
			return func(*lua.LState) (lua.LValue, lua.LValue) { return lua.LNil, lua.LString(msg) }
		}
		return func(*lua.LState) (lua.LValue, lua.LValue) {
			if isNum {
				return num, lua.LNil
			}
			if msg, ok := strings.CutPrefix(s, "fail:"); ok {
				return lua.LNil, lua.LString(msg)
			}
			return lua.LString(s), lua.LNil
		}
	})
}

// wait is the body of every op: it counts, then waits as configured.
func (h *asyncHarness) wait(ctx context.Context) error {
	h.live.Add(1)
	defer h.live.Add(-1)
	n := h.inflight.Add(1)
	defer h.inflight.Add(-1)
	for {
		m := h.max.Load()
		if n <= m || h.max.CompareAndSwap(m, n) {
			break
		}
	}
	h.started.Add(1)
	select {
	case h.startc <- struct{}{}:
	default:
	}
	h.mu.Lock()
	barrier, target, hold := h.barrier, h.target, h.hold
	if barrier != nil && n >= target {
		select {
		case <-barrier:
		default:
			close(barrier)
		}
	}
	h.mu.Unlock()
	if barrier != nil {
		select {
		case <-barrier:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return ctx.Err()
}

// setBarrier makes ops wait until n of them run at once.
func (h *asyncHarness) setBarrier(n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.barrier, h.target = make(chan struct{}), int64(n)
}

// setHold makes ops wait until release is called or their context ends.
func (h *asyncHarness) setHold() (release func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := make(chan struct{})
	h.hold = c
	return sync.OnceFunc(func() { close(c) })
}

// run runs chunk under a context with harnessTimeout and returns its error.
// Reaching the timeout fails the test: something waited that the
// scheduler should have cancelled or run, and the timeout alone ended it.
func (h *asyncHarness) run(chunk string) error {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), harnessTimeout)
	defer cancel()
	h.L.SetContext(ctx)
	defer h.L.RemoveContext()
	err := h.L.DoString(chunk)
	if ctx.Err() != nil {
		h.t.Errorf("the script ran into the harness timeout (%v): an op or the scheduler waited for nothing", harnessTimeout)
	}
	return err
}

// mustRun runs chunk and fails the test on error.
func (h *asyncHarness) mustRun(chunk string) {
	h.t.Helper()
	if err := h.run(chunk); err != nil {
		h.t.Fatalf("script failed: %v", err)
	}
}

// global returns a global as a string, as Lua's tostring shows it.
func (h *asyncHarness) global(name string) string {
	return h.L.ToStringMeta(h.L.GetGlobal(name)).String()
}

// counters returns how many network calls in scheduled coroutines suspended
// and how many had to block, and resets them.
func (h *asyncHarness) counters() (suspended, blocked int) {
	suspended, blocked = h.st.suspended, h.st.blocked
	h.st.suspended, h.st.blocked = 0, 0
	return suspended, blocked
}

// assertClean checks that no op is running and no coroutine is registered:
// nothing is left behind once parallel has returned or raised.
func (h *asyncHarness) assertClean() {
	h.t.Helper()
	if n := h.live.Load(); n != 0 {
		h.t.Errorf("%d ops still running after parallel returned", n)
	}
	if n := len(h.st.threads); n != 0 {
		h.t.Errorf("%d coroutines still registered after parallel returned", n)
	}
}
