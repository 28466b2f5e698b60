package luamod

import (
	"context"
	"fmt"
	"sort"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
)

// apiTypeName is the type name of api objects (one client, one identity)
// in messages and the registry key of their metatable.
const apiTypeName = "wandb.api"

// clientFunc is the body of a function that both the module (for its
// default client) and api objects (as a method) offer. first is the stack
// index of the first argument after the receiver.
type clientFunc func(L *lua.LState, c *wandb.Client, first int) int

// clientFuncs returns the network functions of the module and of api
// objects, by name.
func clientFuncs() map[string]clientFunc {
	return map[string]clientFunc{
		"viewer":      viewer,
		"user":        user,
		"users":       users,
		"create_user": createUser,
	}
}

// newAPI returns the Lua value for c: a userdata whose Value is c.
func newAPI(L *lua.LState, c *wandb.Client) lua.LValue {
	ud := L.NewUserData()
	ud.Value = c
	L.SetMetatable(ud, L.GetTypeMetatable(apiTypeName))
	return ud
}

// registerAPIType creates the metatable of api objects; methods holds the
// shims of their methods.
func registerAPIType(L *lua.LState, methods *lua.LTable) {
	registerType(L, apiTypeName, apiIndex, methods, map[string]lua.LGFunction{
		"__tostring": func(L *lua.LState) int {
			if c, ok := toClient(L.Get(1)); ok {
				L.Push(lua.LString(c.String()))
			} else {
				L.Push(lua.LString("<wandb.api ???>"))
			}
			return 1
		},
		// Two values for the same client (e.g. two reads of u.user_api) are equal.
		"__eq": func(L *lua.LState) int {
			a, okA := toClient(L.Get(1))
			b, okB := toClient(L.Get(2))
			L.Push(lua.LBool(okA && okB && a == b))
			return 1
		},
	})
}

// toClient returns the *wandb.Client in v, if v is an api object.
func toClient(v lua.LValue) (*wandb.Client, bool) {
	if ud, ok := v.(*lua.LUserData); ok {
		c, ok := ud.Value.(*wandb.Client)
		return c, ok && c != nil
	}
	return nil, false
}

// apiIndex reads a field of an api object: base_url or a method.
func apiIndex(L *lua.LState) int {
	c, ok := toClient(L.Get(1))
	if !ok {
		raise(L, apiTypeName+" expected, got "+typeName(L, 1))
	}
	k := key(L)
	if k == "base_url" {
		L.Push(lua.LString(c.BaseURL()))
		return 1
	}
	m := L.CheckTable(lua.UpvalueIndex(1)).RawGetString(k)
	if m == lua.LNil {
		noField(L, apiTypeName, "base_url, viewer, user, users, create_user")
	}
	L.Push(m)
	return 1
}

// apiMethod returns the primitive of api method name.
func apiMethod(name string, f clientFunc) lua.LGFunction {
	return func(L *lua.LState) int {
		c, ok := toClient(L.Get(1))
		if !ok {
			badSelf(L, apiTypeName, "api", name, "create one with wandb.api{api_key = ..., base_url = ...}")
		}
		return f(L, c, 2)
	}
}

// moduleFunc returns the primitive of module function name, bound to the
// module's client c.
func moduleFunc(name string, c *wandb.Client, f clientFunc) lua.LGFunction {
	return func(L *lua.LState) int {
		if c == nil {
			raise(L, fmt.Sprintf("wandb.%s: the module has no default client; use wandb.api{api_key = ..., base_url = ...}:%s(...)", name, name))
		}
		return f(L, c, 1)
	}
}

// viewer is viewer(): the User the key belongs to, or nil, err.
func viewer(L *lua.LState, c *wandb.Client, first int) int {
	return netcall(L, func(ctx context.Context) result {
		u, err := c.Viewer(ctx)
		return userResult("viewer", u, err)
	})
}

// user is user(username_or_email): one User, or nil, err.
func user(L *lua.LState, c *wandb.Client, first int) int {
	const op = "user"
	x := checkString(L, first, 1, op)
	return netcall(L, func(ctx context.Context) result {
		u, err := c.User(ctx, x)
		return userResult(op, u, err)
	})
}

// users is users([query]): an array of Users (all users when query is nil
// or ""), or nil, err.
func users(L *lua.LState, c *wandb.Client, first int) int {
	const op = "users"
	q := optString(L, first, 1, op, "")
	return netcall(L, func(ctx context.Context) result {
		list, err := c.Users(ctx, q)
		return func(L *lua.LState) (lua.LValue, lua.LValue) {
			if err != nil {
				return lua.LNil, newError(L, op, err)
			}
			t := L.CreateTable(len(list), 0)
			for _, u := range list {
				t.Append(newUser(L, u))
			}
			return t, lua.LNil
		}
	})
}

// createUser is create_user(email[, admin]): the new User, or nil, err.
func createUser(L *lua.LState, c *wandb.Client, first int) int {
	const op = "create_user"
	email := checkString(L, first, 1, op)
	admin := optBool(L, first+1, 2, op, false)
	return netcall(L, func(ctx context.Context) result {
		u, err := c.CreateUser(ctx, email, admin)
		return userResult(op, u, err)
	})
}

// userResult converts the outcome of a call that returns one User.
func userResult(op string, u *wandb.User, err error) result {
	return func(L *lua.LState) (lua.LValue, lua.LValue) {
		if err == nil && u == nil {
			err = &wandb.Error{Op: op, Code: wandb.CodeBadResponse, Message: "the server returned no user"}
		}
		if err != nil {
			return lua.LNil, newError(L, op, err)
		}
		return newUser(L, u), lua.LNil
	}
}

// newAPIFunc returns wandb.api{api_key = ..., base_url = ...}: an api
// object for another identity, or nil, err when the key or URL is
// rejected. Without base_url it talks to the module client's server. It
// sends nothing.
func newAPIFunc(def *wandb.Client) lua.LGFunction {
	return func(L *lua.LState) int {
		const op = "api"
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			argError(L, 1, op, "table expected, got "+typeName(L, 1))
		}
		var unknown []string
		t.ForEach(func(k, _ lua.LValue) {
			if k != lua.LString("api_key") && k != lua.LString("base_url") {
				unknown = append(unknown, fmt.Sprintf("%q", k.String()))
			}
		})
		if len(unknown) > 0 {
			sort.Strings(unknown)
			argError(L, 1, op, fmt.Sprintf("unknown field %s; the fields are api_key and base_url", unknown[0]))
		}
		keyV, ok := t.RawGetString("api_key").(lua.LString)
		if !ok {
			argError(L, 1, op, "field api_key: string expected, got "+t.RawGetString("api_key").Type().String())
		}
		base := ""
		switch v := t.RawGetString("base_url").(type) {
		case lua.LString:
			base = string(v)
		case *lua.LNilType:
		default:
			argError(L, 1, op, "field base_url: string expected, got "+v.Type().String())
		}
		c, err := clientFor(def, base, string(keyV))
		if err != nil {
			// The error is about this call's arguments, whatever step of
			// client set-up found it.
			we := *toWandbError(op, err)
			we.Op = op
			L.Push(lua.LNil)
			L.Push(newError(L, op, &we))
			return 2
		}
		L.Push(newAPI(L, c))
		return 1
	}
}

// clientFor returns a client for key on base ("" = def's server). With a
// module client def, the new client is derived from it, so it keeps def's
// settings (HTTP client and pool, retries, logger) on either server.
func clientFor(def *wandb.Client, base, key string) (*wandb.Client, error) {
	switch {
	case def == nil:
		return wandb.NewClient(wandb.Config{BaseURL: base, APIKey: key})
	case base == "":
		return def.WithAPIKey(key)
	default:
		return def.WithServer(base, key)
	}
}
