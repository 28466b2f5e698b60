package luamod

import (
	"context"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
)

// userTypeName is the type name of User values in messages and the
// registry key of their metatable.
const userTypeName = "wandb.User"

// userFields lists the readable fields of a User for error messages.
const userFields = "id, name, username, email, admin, entity, deleted_at, api_keys, teams, user_api, generate_api_key, delete_api_key"

// newUser returns the Lua value for u: a userdata whose Value is u.
func newUser(L *lua.LState, u *wandb.User) lua.LValue {
	ud := L.NewUserData()
	ud.Value = u
	L.SetMetatable(ud, L.GetTypeMetatable(userTypeName))
	return ud
}

// toUser returns the *wandb.User in v, if v is a User value.
func toUser(v lua.LValue) (*wandb.User, bool) {
	if ud, ok := v.(*lua.LUserData); ok {
		u, ok := ud.Value.(*wandb.User)
		return u, ok && u != nil
	}
	return nil, false
}

// checkSelfUser returns argument 1 of User method fname.
func checkSelfUser(L *lua.LState, fname string) *wandb.User {
	u, ok := toUser(L.Get(1))
	if !ok {
		badSelf(L, userTypeName, "u", fname, "get one from wandb.user, wandb.users, wandb.viewer or wandb.create_user")
	}
	return u
}

// registerUserType creates the metatable of User values; methods holds
// the shims of the User methods.
func registerUserType(L *lua.LState, methods *lua.LTable) {
	registerType(L, userTypeName, userIndex, methods, map[string]lua.LGFunction{
		"__tostring": func(L *lua.LState) int {
			u, _ := toUser(L.Get(1))
			if u == nil {
				L.Push(lua.LString("<User ???>"))
				return 1
			}
			L.Push(lua.LString(u.String()))
			return 1
		},
		// Two values for the same user are equal, whichever call fetched them.
		"__eq": func(L *lua.LState) int {
			a, okA := toUser(L.Get(1))
			b, okB := toUser(L.Get(2))
			L.Push(lua.LBool(okA && okB && a.ID == b.ID))
			return 1
		},
	})
}

// userIndex reads a field of a User. Each read of api_keys or teams
// returns a fresh table, so a script may modify it freely.
func userIndex(L *lua.LState) int {
	u, ok := toUser(L.Get(1))
	if !ok {
		raise(L, userTypeName+" expected, got "+typeName(L, 1))
	}
	switch k := key(L); k {
	case "id":
		L.Push(lua.LString(u.ID))
	case "name":
		L.Push(lua.LString(u.Name))
	case "username":
		L.Push(optStringValue(u.Username))
	case "email":
		L.Push(optStringValue(u.Email))
	case "admin":
		if u.Admin == nil {
			L.Push(lua.LNil)
		} else {
			L.Push(lua.LBool(*u.Admin))
		}
	case "entity":
		L.Push(optStringValue(u.Entity))
	case "deleted_at":
		L.Push(optStringValue(u.DeletedAt))
	case "api_keys":
		keys := u.APIKeys()
		t := L.CreateTable(len(keys), 0)
		for _, k := range keys {
			t.Append(lua.LString(k.Name))
		}
		L.Push(t)
	case "teams":
		L.Push(stringArray(L, u.Teams()))
	case "user_api":
		if u.Client() == nil {
			L.Push(lua.LNil)
		} else {
			L.Push(newAPI(L, u.Client()))
		}
	default:
		m := L.CheckTable(lua.UpvalueIndex(1)).RawGetString(k)
		if m == lua.LNil {
			noField(L, userTypeName, userFields)
		}
		L.Push(m)
	}
	return 1
}

// userMethods returns the network primitives of User methods; each is
// exposed through a method shim.
func userMethods() map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"generate_api_key": userGenerateAPIKey,
		"delete_api_key":   userDeleteAPIKey,
	}
}

// userGenerateAPIKey is u:generate_api_key([description]): the new key's
// secret, or nil, err.
func userGenerateAPIKey(L *lua.LState) int {
	const op = "generate_api_key"
	u := checkSelfUser(L, op)
	desc := optString(L, 2, 1, op, "")
	return netcall(L, func(ctx context.Context) result {
		secret, err := u.GenerateAPIKey(ctx, desc)
		return func(L *lua.LState) (lua.LValue, lua.LValue) {
			if err != nil {
				return lua.LNil, newError(L, op, err)
			}
			return lua.LString(secret), lua.LNil
		}
	})
}

// userDeleteAPIKey is u:delete_api_key(name): true, or false, err.
func userDeleteAPIKey(L *lua.LState) int {
	const op = "delete_api_key"
	u := checkSelfUser(L, op)
	name := checkString(L, 2, 1, op)
	return netcall(L, func(ctx context.Context) result {
		err := u.DeleteAPIKey(ctx, name)
		return func(L *lua.LState) (lua.LValue, lua.LValue) {
			if err != nil {
				return lua.LFalse, newError(L, op, err)
			}
			return lua.LTrue, lua.LNil
		}
	})
}

// optStringValue converts a nullable string field: nil gives Lua nil.
func optStringValue(s *string) lua.LValue {
	if s == nil {
		return lua.LNil
	}
	return lua.LString(*s)
}
