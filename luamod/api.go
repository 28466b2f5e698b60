package luamod

import (
	"fmt"
	"math"
	"slices"
	"sort"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
	"github.com/wandb-lua/wandb-lua/wandb/bytesize"
)

// apiTypeName is the type name of api objects (one client, one identity)
// in messages and the registry key of their metatable.
const apiTypeName = "wandb.api"

// apiFields lists the fields of api objects, for messages.
const apiFields = "base_url, viewer, user, users, create_user, team, teams, create_team, plan"

// newAPI returns the Lua value for c: a userdata whose Value is c.
func newAPI(L *lua.LState, c *wandb.Client) lua.LValue {
	return newValue(L, apiTypeName, c)
}

// registerAPIType creates the metatable of api objects with their methods.
func registerAPIType(L *lua.LState, methods *lua.LTable) {
	// Two values for the same client (e.g. two reads of u.user_api) are equal.
	registerType(L, apiTypeName, apiIndex, methods, identity(toValue[wandb.Client], "<wandb.api ???>",
		func(a, b *wandb.Client) bool { return a == b }))
}

// apiIndex reads a field of an api object: base_url or a method.
func apiIndex(L *lua.LState) int {
	c := apiSelf.indexed(L)
	k := key(L)
	if k == "base_url" {
		L.Push(lua.LString(c.BaseURL()))
		return 1
	}
	L.Push(method(L, k, apiTypeName, apiFields))
	return 1
}

// apiSelf is an api object as the receiver of its methods, the module's
// network functions (clientFuncs) with the object's client.
var apiSelf = selfType[*wandb.Client]{apiTypeName, "api", "create one with wandb.api{api_key = ..., base_url = ...}", toValue[wandb.Client]}

// apiOptions are the fields of wandb.api's table.
var apiOptions = []string{"api_key", "base_url", "max_response"}

// newAPIFunc returns wandb.api{api_key = ..., base_url = ..., max_response
// = ...}: an api object for another identity, or nil, err when the key or
// URL is rejected. Without base_url it talks to the module client's
// server; max_response is the largest answer it reads, a number of bytes
// or a size such as "1GiB" (Config.MaxResponseBytes; without it, the
// module client's limit, or the default), at most maxResponse when that is
// positive. It sends nothing.
func newAPIFunc(def *wandb.Client, policy APIPolicy, maxResponse int64) lua.LGFunction {
	return func(L *lua.LState) int {
		const op = "api"
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			argError(L, 1, op, "table expected, got "+typeName(L, 1))
		}
		var unknown []string
		t.ForEach(func(k, _ lua.LValue) {
			if s, ok := k.(lua.LString); !ok || !slices.Contains(apiOptions, string(s)) {
				unknown = append(unknown, fmt.Sprintf("%q", k.String()))
			}
		})
		if len(unknown) > 0 {
			sort.Strings(unknown)
			argError(L, 1, op, fmt.Sprintf("unknown field %s; the fields are api_key, base_url and max_response", unknown[0]))
		}
		want := checkSizeField(L, t, op, "max_response")
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
		if err == nil && policy == APISameServer && !c.SameServer(def) {
			server := "none"
			if def != nil {
				server = def.BaseURL()
			}
			c, err = nil, &wandb.Error{Op: op, Code: wandb.CodeForbidden,
				Message: fmt.Sprintf("this state allows wandb.api only for its own server (%s), not %s", server, c.BaseURL())}
		}
		if err != nil {
			// The error is about this call's arguments, whatever step of
			// client set-up found it: newError names this call.
			L.Push(lua.LNil)
			L.Push(newError(L, op, err))
			return 2
		}
		if maxResponse > 0 && (want > maxResponse || want == 0 && c.MaxResponseBytes() > maxResponse) {
			want = maxResponse // the embedder's limit, which the script cannot raise
		}
		if want > 0 {
			c = c.WithMaxResponseBytes(want)
		}
		L.Push(newAPI(L, c))
		return 1
	}
}

// checkSizeField returns the size in field name of t (0 when it is nil): a
// positive whole number of bytes, or a string such as "64MiB" or "1GiB"
// (see bytesize.Parse). Anything else raises an argument error.
func checkSizeField(L *lua.LState, t *lua.LTable, op, name string) int64 {
	const hint = "use a number of bytes or a size such as \"64MiB\" or \"1GiB\""
	switch v := t.RawGetString(name).(type) {
	case *lua.LNilType:
		return 0
	case lua.LNumber:
		if f := float64(v); f >= 1 && f <= math.MaxInt64/2 && f == math.Trunc(f) {
			return int64(f)
		}
		argError(L, 1, op, fmt.Sprintf("field %s: %v is not a size; %s", name, v, hint))
	case lua.LString:
		if n, ok := bytesize.Parse(string(v)); ok {
			return n
		}
		argError(L, 1, op, fmt.Sprintf("field %s: %q is not a size; %s", name, string(v), hint))
	default:
		argError(L, 1, op, fmt.Sprintf("field %s: number or string expected, got %s", name, v.Type().String()))
	}
	return 0
}

// clientFor returns a client for key on base ("" = def's server). With a
// module client def, the new client is derived from it, so it keeps def's
// settings (HTTP client and pool, retries, logger) on either server.
func clientFor(def *wandb.Client, base, key string) (*wandb.Client, error) {
	switch {
	case def == nil:
		return wandb.NewClient(wandb.Config{BaseURL: base, APIKey: wandb.NewSecret(key)})
	case base == "":
		return def.WithAPIKey(key)
	default:
		return def.WithServer(base, key)
	}
}
