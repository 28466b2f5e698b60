package luamod

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// FuzzModuleCalls calls the module's functions and methods, and the
// sandbox's string library, with arguments made from the fuzzer's bytes
// (strings, long strings, numbers, big numbers, booleans, nil, tables,
// module values): whatever a script passes, the call answers with a
// result, nil and an error, or a Lua error, never a Go panic, and it
// stops within fuzzStop of its deadline (fuzzDeadline): a pattern that
// backtracks without end, a string.rep of terabytes or a gsub that copies
// its subject for every match must not run on. Its seeds run as ordinary
// tests; run it for longer with
//
//	go test ./luamod -run '^$' -fuzz FuzzModuleCalls -fuzztime 10m -parallel 1
func FuzzModuleCalls(f *testing.F) {
	f.Add([]byte{0, 1, 'a', '@', 'b'})
	f.Add([]byte{3, 2, 4, 1, 0})
	f.Add([]byte("\x10\x05{\"a\":[1,null]}"))
	f.Add([]byte("\x11\x03x,y\n1,2\n"))
	f.Add([]byte("\x08\x06\x07\x01"))
	f.Add([]byte("\x14\x02\x00\x02"))
	// The string library: a pattern that backtracks over a long subject
	// (find, match, gmatch, gsub), huge counts and widths, and long
	// strings joined.
	backtrack := "\x06\x0ca\x00\x00" + strings.Repeat("a*", 20) + "c\x00"
	for _, target := range []byte{stringFind, stringFind + 1, stringFind + 2} { // find, match, gmatch
		f.Add([]byte(string(target) + backtrack))
	}
	f.Add([]byte(string(rune(stringFind+3)) + backtrack + "\x00x\x00")) // gsub
	f.Add([]byte("\x1a\x06\x10ab\x00\x00(a)(b)\x00\x00%2%1\x00"))       // gsub over 128 KiB
	f.Add([]byte("\x1a\x06\x10a\x00\x00\x00\x00x\x00"))                 // gsub of the empty pattern
	f.Add([]byte("\x1b\x00ab\x00\x07\x28"))                             // rep("ab", 2^40)
	f.Add([]byte("\x1c\x00%99999999d\x00\x01\x01"))                     // format with a huge width
	f.Add([]byte("\x1e\x06\x10x\x00\x06\x10y\x00"))                     // ..
	f.Add([]byte("\x1f\x06\x10x\x00"))                                  // table.concat of long strings
	f.Add([]byte("\x17\x00aaa\x00\x00[%\x00"))                          // a malformed pattern
	f.Add([]byte("\x18\x00the fox\x00\x00%f[%a]%a+\x00"))               // a frontier
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
			-- The string library (stringFind is the index of find).
			string.find, string.match,
			function(s, p) local n = 0 for _ in string.gmatch(s, p) do n = n + 1 end return n end,
			string.gsub, string.rep, string.format, string.sub,
			function(a, b) return a .. b end,
			function(s, sep) local t = {} for i = 1, 64 do t[i] = s end return table.concat(t, sep) end,
			string.byte, string.upper,
		}
	`); err != nil {
		f.Fatal(err)
	}
	targets := L.GetGlobal("targets").(*lua.LTable)
	values := []lua.LValue{lua.LNil, lua.LTrue, lua.LFalse, L.GetGlobal("me"), L.GetGlobal("team"), L.GetGlobal("member"),
		L.GetGlobal("api"), L.GetGlobal("err_value"), L.NewFunction(func(L *lua.LState) int { return 0 })}
	if got := L.GetTable(targets, lua.LNumber(stringFind+1)); got != L.GetField(L.GetGlobal("string"), "find") {
		f.Fatalf("target %d is not string.find", stringFind)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		fn := targets.RawGetInt(1 + int(data[0])%targets.Len())
		var args []lua.LValue
		for rest := data[1:]; len(rest) > 0 && len(args) < 4; {
			kind := rest[0] % 8
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
			case 6: // a string up to the next NUL, repeated up to 2^16 times, at most 64 KiB
				if len(rest) > 0 {
					n := 1 << (rest[0] % 17)
					s, after, _ := strings.Cut(string(rest[1:]), "\x00")
					if len(s) > 0 {
						n = min(n, (64<<10)/len(s))
					}
					args, rest = append(args, lua.LString(strings.Repeat(s, n))), []byte(after)
				}
			case 7: // a power of two, up to 2^63
				if len(rest) > 0 {
					args, rest = append(args, lua.LNumber(math.Ldexp(1, int(rest[0]%64)))), rest[1:]
				}
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), fuzzDeadline)
		defer cancel()
		SetContext(L, ctx)
		defer L.RemoveContext()
		top := L.GetTop()
		done := make(chan error, 1)
		go func() { done <- L.CallByParam(lua.P{Fn: fn, NRet: lua.MultRet, Protect: true}, args...) }()
		var err error
		select {
		case err = <-done:
		case <-time.After(fuzzDeadline + fuzzStop):
			t.Fatalf("the call did not stop within %v of its deadline", fuzzStop) // it runs on: L is lost
		}
		L.SetTop(top)
		var ae *lua.ApiError
		if errors.As(err, &ae) && ae.Type == lua.ApiErrorPanic {
			t.Fatalf("a Go panic: %v", ae.Object)
		}
	})
}

// The index of string.find among FuzzModuleCalls's targets (0-based, as
// the first byte of an input picks it), and the deadline of each call and
// how long after it the call must have stopped: the checked functions
// look at the context at least every few milliseconds, a request stops at
// once, and -race makes everything slower. The deadline is short because
// the fuzzer runs an input that finds new code many times over to
// minimize it, and inputs that run to the deadline are common.
const (
	stringFind   = 23
	fuzzDeadline = 5 * time.Millisecond
	fuzzStop     = 3 * time.Second
)
