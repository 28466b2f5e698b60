package luamod

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// FuzzModuleCalls calls the module's functions and methods with arguments
// made from the fuzzer's bytes (strings, numbers, booleans, nil, tables,
// module values): whatever a script passes, the module answers with a
// result, nil and an error, or a Lua error, never a Go panic and never a
// hang. Its seeds run as ordinary tests; run it for longer with
//
//	go test ./luamod -run '^$' -fuzz FuzzModuleCalls -fuzztime 10m
func FuzzModuleCalls(f *testing.F) {
	f.Add([]byte{0, 1, 'a', '@', 'b'})
	f.Add([]byte{3, 2, 4, 1, 0})
	f.Add([]byte("\x10\x05{\"a\":[1,null]}"))
	f.Add([]byte("\x11\x03x,y\n1,2\n"))
	f.Add([]byte("\x08\x06\x07\x01"))
	f.Add([]byte("\x14\x02\x00\x02"))
	srv := wandbtest.Start(f, wandbtest.WithSeedFile(seedFile))
	c := newClient(f, srv.URL, srv.AdminKey())
	L := NewSandbox(context.Background(), SandboxOptions{Client: c, AllowAPI: true})
	f.Cleanup(L.Close)
	// The targets: module functions, and methods on values of each type.
	if err := L.DoString(`
		me = assert(wandb.viewer())
		team = assert(wandb.team("ml-research"))
		member = team.members[1]
		api = me.user_api
		_, err_value = wandb.user("nobody-at-all")
		targets = {
			wandb.user, wandb.users, wandb.create_user, wandb.team, wandb.create_team, wandb.api, wandb.parallel,
			wandb.csv.parse, wandb.csv.format, wandb.json.encode, wandb.json.decode, wandb.json.array, wandb.json.object,
			function(...) return me:generate_api_key(...) end,
			function(...) return me:delete_api_key(...) end,
			function(...) return me:status(...) end,
			function(...) return me:set_role(...) end,
			function(...) return team:invite(...) end,
			function(...) return team:add_member(...) end,
			function(...) return team:set_role(...) end,
			function(...) return api:users(...) end,
			function(...) return tostring(...) end,
			function(x, k) return x[k] end,
		}
	`); err != nil {
		f.Fatal(err)
	}
	targets := L.GetGlobal("targets").(*lua.LTable)
	values := []lua.LValue{lua.LNil, lua.LTrue, lua.LFalse, L.GetGlobal("me"), L.GetGlobal("team"), L.GetGlobal("member"),
		L.GetGlobal("api"), L.GetGlobal("err_value"), L.NewFunction(func(L *lua.LState) int { return 0 })}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		fn := targets.RawGetInt(1 + int(data[0])%targets.Len())
		var args []lua.LValue
		for rest := data[1:]; len(rest) > 0 && len(args) < 4; {
			kind := rest[0] % 6
			rest = rest[1:]
			switch kind {
			case 0: // a string up to the next NUL
				s, after, _ := strings.Cut(string(rest), "\x00")
				args, rest = append(args, lua.LString(s)), []byte(after)
			case 1:
				if len(rest) > 0 {
					args, rest = append(args, lua.LNumber(int8(rest[0]))), rest[1:]
				}
			case 2:
				if len(rest) > 0 {
					args, rest = append(args, values[int(rest[0])%len(values)]), rest[1:]
				}
			case 3: // a table of the next value, as an array and by a key
				t := L.NewTable()
				if len(rest) > 0 {
					t.Append(values[int(rest[0])%len(values)])
					t.RawSetString("exact", lua.LBool(rest[0]%2 == 0))
					rest = rest[1:]
				}
				args = append(args, t)
			case 4:
				args = append(args, L.NewTable())
			case 5:
				args = append(args, lua.LString(string(rest)))
				rest = nil
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		L.SetContext(ctx)
		defer L.RemoveContext()
		top := L.GetTop()
		err := L.CallByParam(lua.P{Fn: fn, NRet: lua.MultRet, Protect: true}, args...)
		L.SetTop(top)
		var ae *lua.ApiError
		if errors.As(err, &ae) && ae.Type == lua.ApiErrorPanic {
			t.Fatalf("a Go panic: %v", ae.Object)
		}
		if ctx.Err() != nil {
			t.Fatal("the call did not end within 10s")
		}
	})
}
