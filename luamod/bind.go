package luamod

import (
	"context"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
)

// How the module's network functions and methods are bound. Each is
// written as a call: the Lua part, which reads its arguments and returns a
// request, the network part. The binding (moduleFunc, selfType.bind) runs
// the call and passes its request to netcall, so no network function sends
// anything itself, and none can forget the lock handoff.

// request is the network part of a call: netcall runs it, with the
// family's lock released inside wandb.parallel. It must not touch L or any
// Lua value, and must return soon after ctx is done; the result it returns
// makes the Lua values, with the lock held.
type request func(ctx context.Context) result

// call is the Lua part of the module function or method op, whose Go
// receiver is self (the client of wandb.<op> or of an api object, a User,
// a Team, ...): it reads its arguments from stack index 1, raising an
// argument error on a mistake, and returns the request that does the work.
type call[T any] func(L *lua.LState, op wandb.Op, self T) request

// selfType is a userdata type of the module as the receiver (self) of its
// methods and __index.
type selfType[T any] struct {
	typeName  string                     // e.g. "wandb.User"
	kind      string                     // how usage hints name a value: "u" in u:delete()
	tableHint string                     // where to get one, for a plain table given instead
	to        func(lua.LValue) (T, bool) // the Go value behind a Lua value of the type
}

// check returns argument 1, the receiver of method op, or raises an
// argument error (see badSelf).
func (r selfType[T]) check(L *lua.LState, op string) T {
	self, ok := r.to(L.Get(1))
	if !ok {
		badSelf(L, r.typeName, r.kind, op, r.tableHint)
	}
	return self
}

// indexed returns argument 1 of an __index metamethod of r's type, the
// value whose field is read, or raises "<type> expected, got <type>".
func (r selfType[T]) indexed(L *lua.LState) T {
	self, ok := r.to(L.Get(1))
	if !ok {
		raise(L, r.typeName+" expected, got "+typeName(L, 1))
	}
	return self
}

// bind returns the Lua functions of the methods calls, by name. Each
// checks and removes its receiver, so that its arguments start at index 1
// as Lua numbers them in a call with ":", and passes its call's request to
// netcall.
func (r selfType[T]) bind(calls map[string]call[T]) map[string]lua.LGFunction {
	fns := make(map[string]lua.LGFunction, len(calls))
	for op, c := range calls {
		fns[op] = func(L *lua.LState) int {
			self := r.check(L, op)
			L.Remove(1)
			return netcall(L, c(L, wandb.Op(op), self))
		}
	}
	return fns
}

// okRequest is the request of a call whose outcome is an error alone:
// true, or false, err.
func okRequest(op wandb.Op, send func(ctx context.Context) error) request {
	return func(ctx context.Context) result {
		err := send(ctx)
		return func(L *lua.LState) (lua.LValue, lua.LValue) {
			if err != nil {
				return lua.LFalse, newError(L, op, err)
			}
			return lua.LTrue, lua.LNil
		}
	}
}

// valueResult converts the outcome of a call that returns one value v: its
// Lua value (made by toLua) and, if the server gave an error beside it
// (partial data), the error; or nil, err when there is no v (a
// "bad_response" error when there is no err either: see toWandbError).
func valueResult[T any](op wandb.Op, v *T, err error, toLua func(*lua.LState, *T) lua.LValue) result {
	return func(L *lua.LState) (lua.LValue, lua.LValue) {
		if v == nil {
			return lua.LNil, newError(L, op, err)
		}
		return toLua(L, v), optError(L, op, err)
	}
}

// listResult converts the outcome of a call that returns a list: its Lua
// array (made by toLua) and, if the server gave an error beside it (a
// partial list), the error; or nil, err when there is no list (an empty
// one is a success).
func listResult[T any](op wandb.Op, list []T, err error, toLua func(*lua.LState, []T) *lua.LTable) result {
	return func(L *lua.LState) (lua.LValue, lua.LValue) {
		if list == nil {
			return lua.LNil, newError(L, op, err)
		}
		return toLua(L, list), optError(L, op, err)
	}
}

// optError returns err as a Lua error value, or nil for no error.
func optError(L *lua.LState, op wandb.Op, err error) lua.LValue {
	if err == nil {
		return lua.LNil
	}
	return newError(L, op, err)
}
