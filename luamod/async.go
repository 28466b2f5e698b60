package luamod

import (
	"context"

	lua "github.com/yuin/gopher-lua"
)

// result turns the outcome of a network operation into the two values a
// network primitive returns to Lua: (value, nil) on success, (nil or false,
// err) on failure. It runs on the goroutine that runs Lua.
type result func(L *lua.LState) (lua.LValue, lua.LValue)

// netcall runs op, the network part of the Lua function being called, and
// returns its two results to Lua. op must not touch L or any Lua value: it may
// run on another goroutine. Every Lua API function that sends a request goes
// through netcall, and nothing else yields.
//
// This version always blocks, using the LState's context.
func netcall(L *lua.LState, op func(ctx context.Context) result) int {
	ctx := L.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	a, b := op(ctx)(L)
	L.Push(a)
	L.Push(b)
	return 2
}
