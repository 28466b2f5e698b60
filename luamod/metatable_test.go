package luamod

import (
	"errors"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
)

// typeNameOf names the module's values by the metatable they were made
// with, and nothing else: not a userdata of the host's whose metatable has
// a __metatable of its own, nor a table a script dressed up with a
// module type's name.
func TestTypeNameOf(t *testing.T) {
	t.Parallel()
	L, _ := newState(t, nil)
	foreign := func(name string) lua.LValue {
		ud := L.NewUserData()
		mt := L.NewTable()
		mt.RawSetString("__metatable", lua.LString(name))
		L.SetMetatable(ud, mt)
		return ud
	}
	if err := L.DoString(`fake = setmetatable({}, { __metatable = "wandb.User" })`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		v    lua.LValue
		want string
	}{
		{"User", newUser(L, &wandb.User{ID: "u1"}), userTypeName},
		{"api", newAPI(L, newClient(t, "http://127.0.0.1:1", strings.Repeat("k", 40))), apiTypeName},
		{"Team", newTeam(L, &wandb.Team{ID: "t1"}), teamTypeName},
		{"Member", newMember(L, &wandb.Member{ID: "m1"}), memberTypeName},
		{"Plan", newValue(L, planTypeName, &wandb.Plan{}), planTypeName},
		{"Error", newError(L, "op", errors.New("boom")), errorTypeName},
		{"json.null", jsonNullValue(L), jsonNullTypeName},
		{"failure record", newFailureRecord(L, 1, errors.New("boom")), failureTypeName},
		{"host userdata with a __metatable", foreign("protected"), ""},
		{"host userdata named like a module type", foreign(userTypeName), ""},
		{"plain userdata", L.NewUserData(), ""},
		{"table named like a module type", L.GetGlobal("fake"), ""},
		{"plain table", L.NewTable(), ""},
		{"string", lua.LString(userTypeName), ""},
	} {
		if got := typeNameOf(L, tc.v); got != tc.want {
			t.Errorf("%s: typeNameOf = %q, want %q", tc.name, got, tc.want)
		}
	}

	// Messages name a host's userdata by its Lua type.
	L.SetGlobal("host", foreign("protected"))
	err := L.DoString(`wandb.check_email(host)`)
	if want := "bad argument #1 to 'check_email' (string expected, got userdata)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error = %v, want %q", err, want)
	}
}
