package luamod

import lua "github.com/yuin/gopher-lua"

// installPCall replaces the global pcall and xpcall with versions under
// which a network call inside wandb.parallel still suspends its coroutine
// instead of blocking every item.
//
// gopher-lua's builtin pcall runs its function in a nested VM loop, across
// which a coroutine cannot yield, so netcall would have to block there, and
// scripts wrap network calls in pcall all the time. The replacements:
//   - Outside a coroutine run by wandb.parallel, or where a yield is not safe,
//     or when the function is neither a Lua function nor one of the Go
//     functions that may yield (pcall, xpcall, coroutine.yield; network
//     functions are Lua shims) — a callable table, nil, print... —, they run
//     the builtin in the same call frame: the behaviour, error messages and
//     tracebacks are exactly the builtin's.
//   - Inside one, they run the function in a coroutine of its own that
//     belongs to the same item; the scheduler passes suspensions through it,
//     and the results (true, ... or false, err) are handed back exactly as
//     the builtin returns them. Differences there: coroutine.running() inside
//     the protected function returns that coroutine; a traceback taken in it
//     ends at the trampoline, not at the caller of pcall; xpcall's handler
//     runs after the failing function has unwound, so debug.traceback in it
//     does not show the failing frames.
//
// A script that saved the builtin before require("wandb") (local pcall =
// pcall) keeps it, and its network calls under it simply block. Nothing is
// replaced if the globals are not gopher-lua's Go builtins.
func installPCall(L *lua.LState, st *asyncState) {
	st.suspendable = make(map[*lua.LFunction]bool)
	if f, ok := L.GetGlobal("pcall").(*lua.LFunction); ok && f.IsG {
		st.builtinPCall = f.GFunction
		ours := L.NewFunction(st.pcall)
		L.SetGlobal("pcall", ours)
		st.suspendable[ours] = true
	}
	if f, ok := L.GetGlobal("xpcall").(*lua.LFunction); ok && f.IsG {
		st.builtinXPCall = f.GFunction
		ours := L.NewFunction(st.xpcall)
		L.SetGlobal("xpcall", ours)
		st.suspendable[ours] = true
	}
	// pcall(coroutine.yield) must become a stray yield that fails the item,
	// not a yield across the builtin's nested VM loop.
	if f, ok := L.GetField(L.GetGlobal("coroutine"), "yield").(*lua.LFunction); ok {
		st.suspendable[f] = true
	}
}

// runsInCoroutine reports whether a protected call of v may take the
// coroutine path: Lua functions, and the few Go functions that can yield.
func (st *asyncState) runsInCoroutine(v lua.LValue) bool {
	f, ok := v.(*lua.LFunction)
	return ok && (!f.IsG || st.suspendable[f])
}

// pcall is the global pcall(f, ...) once the module is loaded.
func (st *asyncState) pcall(L *lua.LState) int {
	if st.runsInCoroutine(L.Get(1)) {
		if t, nret, ok := st.protectable(L); ok {
			args := make([]lua.LValue, L.GetTop())
			for i := range args {
				args[i] = L.Get(i + 1)
			}
			return t.sched.protectedCall(L, t, nret, pcallLevel, nil, args)
		}
	}
	return st.builtinPCall(L)
}

// xpcall is the global xpcall(f, handler) once the module is loaded.
func (st *asyncState) xpcall(L *lua.LState) int {
	if st.runsInCoroutine(L.Get(1)) && L.Get(2).Type() == lua.LTFunction {
		if t, nret, ok := st.protectable(L); ok {
			return t.sched.protectedCall(L, t, nret, xpcallLevel, L.Get(2), []lua.LValue{L.Get(1)})
		}
	}
	return st.builtinXPCall(L)
}

// protectable reports whether the protected call being made in L can run in
// a coroutine of its own: L is the innermost coroutine of a task, a yield is
// safe here, and the call site's result count is known.
func (st *asyncState) protectable(L *lua.LState) (*task, int, bool) {
	t := st.innermost(L)
	if t == nil || !st.yieldSafe() {
		return nil, 0, false
	}
	nret, ok := callerNRet(L)
	if !ok {
		return nil, 0, false
	}
	return t, nret, true
}

// protectedCall runs args[0](args[1:]...) in a new coroutine on top of L's
// task. If it finishes without waiting, its results are returned at once;
// otherwise L yields, and the scheduler resumes L with them (nret values)
// once the protected call is over.
func (s *scheduler) protectedCall(L *lua.LState, t *task, nret int, kind levelKind, handler lua.LValue, args []lua.LValue) int {
	stop := t.top()
	stop.nret = nret
	lv := s.push(t, L, kind, handler)
	state, err, out := L.Resume(lv.th, s.st.callTrampoline, args...)
	o, vals := s.unwind(t, stop, L, state, err, out)
	switch o {
	case outReturn:
		for _, v := range vals {
			L.Push(v)
		}
		return len(vals)
	case outPending:
		return L.Yield(s.st.marker)
	default: // outStray: pass the yield on; the scheduler fails the item
		return L.Yield(vals...)
	}
}
