// Package luamod is the Lua module "wandb" for gopher-lua: W&B user and
// API-key administration from Lua scripts, on top of package wandb.
//
// Register it in an LState with the gopher-lua idiom:
//
//	L.PreloadModule("wandb", luamod.Loader(client))
//
// and a script uses it as
//
//	local wandb = require("wandb")
//	local me = assert(wandb.viewer())
//	print(me.email, #me.api_keys)
//
// The module's functions viewer(), user(x), users([query]),
// create_user(email[, admin]) use the client given to Loader;
// wandb.api{api_key = ..., base_url = ...} returns an api object for
// another identity, with the same functions as methods. Users are userdata
// with the fields id, name, username, email, admin, entity, deleted_at
// (nil where the server gave null), api_keys and teams (a fresh array on
// each read), user_api, and the methods generate_api_key([description])
// and delete_api_key(name). wandb.parallel(items, fn, opts) runs fn over
// items with requests in flight at once (see parallel.go), and
// wandb.write_private(path, text) writes a file only its owner can read,
// for secrets. README.md has the whole reference.
//
// A failure a script should handle (the network, the server, a user not
// found) returns nil, err (false, err for delete_api_key). err is a
// userdata with the fields code, message, status, op and candidates;
// tostring(err) gives one line and error(err) raises it unchanged. A
// programming mistake (a wrong argument type, a method called with "."
// instead of ":") raises at once, in Lua's standard wording.
//
// Loading the module also makes the LState's global assert pass a
// message that is not a string through unchanged, as Lua 5.2 does, so
// that assert(wandb.user(x)) raises err itself rather than complaining
// about its type. It takes effect when require("wandb") runs: a host that
// wants it from a script's first expression on (as in
// assert(require("wandb").viewer())) requires the module before running
// the script, as wandb-lua does.
//
// Loading the module also replaces the global pcall and xpcall with
// versions that behave exactly like the builtins outside wandb.parallel
// and, inside it, let a protected network call suspend its coroutine
// instead of blocking the other items (see pcall.go).
//
// Every request uses the LState's context (L.Context()), so a deadline or
// a cancellation set with L.SetContext stops a request in flight. The
// module keeps no global state: metatables live in each LState's registry,
// and two LStates with two clients share nothing.
package luamod

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
)

// Loader returns the loader of the module "wandb" for client c, for
// L.PreloadModule("wandb", Loader(c)). With a nil c the module functions
// raise an error, and only wandb.api{...} objects can make requests.
func Loader(c *wandb.Client) lua.LGFunction {
	return func(L *lua.LState) int {
		rt := setup(L)
		mod := L.NewTable()
		for name, f := range clientFuncs() {
			mod.RawSetString(name, rt.wrap(L, L.NewFunction(moduleFunc(name, c, f))))
		}
		mod.RawSetString("api", L.NewFunction(newAPIFunc(c)))
		mod.RawSetString("write_private", L.NewFunction(writePrivate))
		mod.RawSetString("version", lua.LString(wandb.Version))
		installParallel(L, mod)
		L.Push(mod)
		return 1
	}
}

// stateKey is the registry key of the module's per-LState data.
const stateKey = "wandb.module"

// modState is what the module sets up once per LState.
type modState struct {
	fnShim     *lua.LFunction // function(prim) return function(...) ... end end
	methodShim *lua.LFunction // function(prim) return function(self, ...) ... end end
}

// shimSource is the chunk name of the shims, which argument errors skip
// when they report the script's position.
const shimSource = "<wandb>"

// shimCode makes the Lua wrappers through which scripts reach the network
// primitives. The fixed call site "local a, b = prim(...)" is what lets
// the parallel scheduler resume a suspended primitive with exactly two
// values (see async.go).
const shimCode = `
local function fn(prim)
  return function(...) local a, b = prim(...) return a, b end
end
local function method(prim)
  return function(self, ...) local a, b = prim(self, ...) return a, b end
end
return fn, method
`

// setup registers the metatables and shims in L once and returns them.
func setup(L *lua.LState) *modState {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if ud, ok := reg.RawGetString(stateKey).(*lua.LUserData); ok {
		if rt, ok := ud.Value.(*modState); ok {
			return rt
		}
	}
	chunk, err := L.Load(strings.NewReader(shimCode), shimSource)
	if err != nil {
		panic(fmt.Sprintf("luamod: shim code does not compile: %v", err)) // a bug in this file
	}
	L.Push(chunk)
	L.Call(0, 2)
	rt := &modState{fnShim: L.Get(-2).(*lua.LFunction), methodShim: L.Get(-1).(*lua.LFunction)}
	L.Pop(2)

	userM := L.NewTable()
	for name, f := range userMethods() {
		userM.RawSetString(name, rt.wrapMethod(L, L.NewFunction(f)))
	}
	registerUserType(L, userM)

	apiM := L.NewTable()
	for name, f := range clientFuncs() {
		apiM.RawSetString(name, rt.wrapMethod(L, L.NewFunction(apiMethod(name, f))))
	}
	registerAPIType(L, apiM)
	registerErrorType(L)
	installAssert(L)

	ud := L.NewUserData()
	ud.Value = rt
	reg.RawSetString(stateKey, ud)
	return rt
}

// wrap returns the shim of a module-level network primitive.
func (rt *modState) wrap(L *lua.LState, prim *lua.LFunction) lua.LValue {
	return callShim(L, rt.fnShim, prim)
}

// wrapMethod returns the shim of a network method primitive.
func (rt *modState) wrapMethod(L *lua.LState, prim *lua.LFunction) lua.LValue {
	return callShim(L, rt.methodShim, prim)
}

func callShim(L *lua.LState, maker, prim *lua.LFunction) lua.LValue {
	L.Push(maker)
	L.Push(prim)
	L.Call(1, 1)
	f := L.Get(-1)
	L.Pop(1)
	return f
}

// installAssert replaces the global assert, if there is one, by one that
// raises a non-string message unchanged (Lua 5.2 semantics), so that
// assert(wandb.user(x)) raises the error value. String and number
// messages and the default message behave as before.
func installAssert(L *lua.LState) {
	if L.GetGlobal("assert") == lua.LNil {
		return
	}
	L.SetGlobal("assert", L.NewFunction(func(L *lua.LState) int {
		if L.ToBool(1) {
			return L.GetTop()
		}
		switch msg := L.Get(2).(type) {
		case *lua.LNilType:
			L.RaiseError("assertion failed!")
		case lua.LString, lua.LNumber:
			L.RaiseError("%s", msg.String())
		default:
			L.Error(msg, 0)
		}
		return 0
	}))
}

// registerType creates the metatable of the module's userdata type name:
// index reads fields (with methods, the table of method shims, as its
// upvalue), writes are refused, .. concatenates as tostring would, and
// getmetatable returns name, so scripts cannot change the shared
// metatable. meta adds the type's other metamethods.
func registerType(L *lua.LState, name string, index lua.LGFunction, methods *lua.LTable, meta map[string]lua.LGFunction) {
	mt := L.NewTypeMetatable(name)
	mt.RawSetString("__index", L.NewClosure(index, methods))
	mt.RawSetString("__newindex", L.NewFunction(readOnly(name)))
	mt.RawSetString("__concat", L.NewFunction(concat))
	L.SetFuncs(mt, meta)
	mt.RawSetString("__metatable", lua.LString(name))
}

// key returns argument 2 of an __index metamethod when it is a string, or
// "" (which names no field).
func key(L *lua.LState) string {
	s, _ := L.Get(2).(lua.LString)
	return string(s)
}

// noField raises the error for reading a field a value does not have. A
// typo such as u.emial must not silently read nil in an admin script.
func noField(L *lua.LState, typ, fields string) {
	raise(L, fmt.Sprintf("%s has no field %s (it has %s)", typ, quoteKey(L.Get(2)), fields))
}

func quoteKey(k lua.LValue) string {
	if s, ok := k.(lua.LString); ok {
		return "'" + string(s) + "'"
	}
	return k.String()
}

// readOnly returns a __newindex metamethod that refuses every write.
func readOnly(typ string) lua.LGFunction {
	return func(L *lua.LState) int {
		raise(L, fmt.Sprintf("%s is read-only (cannot set field %s)", typ, quoteKey(L.Get(2))))
		return 0
	}
}

// concat is the __concat metamethod of the module's values: both operands
// are converted as tostring would, so "user " .. u and "failed: " .. err
// work.
func concat(L *lua.LState) int {
	a, b := L.Get(1), L.Get(2)
	L.Push(lua.LString(concatPart(L, a) + concatPart(L, b)))
	return 1
}

func concatPart(L *lua.LState, v lua.LValue) string {
	switch v.(type) {
	case lua.LString, lua.LNumber:
		return v.String()
	case *lua.LUserData:
		if typeNameOf(v) != "" {
			return L.ToStringMeta(v).String()
		}
	}
	raise(L, "attempt to concatenate a "+v.Type().String()+" value")
	return ""
}

// typeNameOf returns the module type name of v, or "" if v is not one of
// the module's values.
func typeNameOf(v lua.LValue) string {
	if ud, ok := v.(*lua.LUserData); ok {
		switch ud.Value.(type) {
		case *userValue:
			return userTypeName
		case *wandb.Client:
			return apiTypeName
		case *wandb.Error:
			return errorTypeName
		}
	}
	return ""
}

// stringArray returns a new Lua array of ss.
func stringArray(L *lua.LState, ss []string) *lua.LTable {
	t := L.CreateTable(len(ss), 0)
	for _, s := range ss {
		t.Append(lua.LString(s))
	}
	return t
}
