package luamod

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
)

// Loader returns the loader of the module "wandb" for client c, for
// L.PreloadModule("wandb", Loader(c)). With a nil c the module functions
// raise an error, and only wandb.api{...} objects can make requests.
func Loader(c *wandb.Client) lua.LGFunction {
	return func(L *lua.LState) int {
		f := setup(L)
		mod := L.NewTable()
		for name, fn := range clientFuncs() {
			mod.RawSetString(name, L.NewFunction(moduleFunc(name, c, fn)))
		}
		mod.RawSetString("api", L.NewFunction(newAPIFunc(c)))
		mod.RawSetString("parallel", L.NewFunction(f.parallel))
		mod.RawSetString("write_private", L.NewFunction(writePrivate))
		mod.RawSetString("version", lua.LString(wandb.Version))
		L.Push(mod)
		return 1
	}
}

// familyKey is the registry key of the module's per-family data. An LState
// and the threads made from it share one registry.
const familyKey = "wandb.module"

// setup registers the module's metatables and its per-family data in L the
// first time, replaces the global assert, and returns the family's data.
// Loading the module a second time (say with another client under another
// name) reuses them.
func setup(L *lua.LState) *family {
	if f := familyOf(L); f != nil {
		return f
	}
	userM := L.NewTable()
	for name, fn := range userMethods() {
		userM.RawSetString(name, L.NewFunction(fn))
	}
	registerUserType(L, userM)

	apiM := L.NewTable()
	for name, fn := range clientFuncs() {
		apiM.RawSetString(name, L.NewFunction(apiMethod(name, fn)))
	}
	registerAPIType(L, apiM)
	registerTeamTypes(L)
	registerErrorType(L)
	registerFailureType(L)
	installAssert(L)

	f := &family{}
	ud := L.NewUserData()
	ud.Value = f
	L.G.Registry.RawSetString(familyKey, ud)
	return f
}

// familyOf returns L's family data, or nil before the module is loaded.
func familyOf(L *lua.LState) *family {
	ud, ok := L.G.Registry.RawGetString(familyKey).(*lua.LUserData)
	if !ok {
		return nil
	}
	f, _ := ud.Value.(*family)
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
