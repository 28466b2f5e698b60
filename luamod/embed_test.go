package luamod

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wandb-lua/wandb-lua/wandb"
	lua "github.com/yuin/gopher-lua"
)

// TestImports checks the dependency rule of the embedding contract: the
// module's own (non-test) files import package wandb and never the test
// server. (wandb importing luamod would be an import cycle Go rejects.)
func TestImports(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	importsWandb := false
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.Contains(path, "wandbtest") {
				t.Errorf("%s imports %s: luamod must not depend on the test server", name, path)
			}
			if path == "github.com/wandb-lua/wandb-lua/wandb" {
				importsWandb = true
			}
			// wandb.parallel depends only on what gopher-lua documents:
			// no reflection on its internals, no look at the Go stack.
			if path == "reflect" || path == "runtime" || path == "unsafe" {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
	if !importsWandb {
		t.Error("no file of luamod imports package wandb")
	}
}

// TestBuiltinsLeftAlone: loading the module replaces assert and pairs
// (see the package doc) and no other global; pcall, xpcall and the
// coroutine library stay gopher-lua's own.
func TestBuiltinsLeftAlone(t *testing.T) {
	t.Parallel()
	L := lua.NewState()
	defer L.Close()
	before := map[string]lua.LValue{}
	L.G.Global.ForEach(func(k, v lua.LValue) { before[k.String()] = v })
	coroutine := L.GetGlobal("coroutine").(*lua.LTable)
	coFuncs := map[string]lua.LValue{}
	coroutine.ForEach(func(k, v lua.LValue) { coFuncs[k.String()] = v })
	L.PreloadModule("wandb", Loader(nil))
	if err := L.DoString(`require("wandb")`); err != nil {
		t.Fatal(err)
	}
	L.G.Global.ForEach(func(k, v lua.LValue) {
		name := k.String()
		switch {
		case name == "assert" || name == "pairs":
			if v == before[name] {
				t.Errorf("%s was not replaced", name)
			}
		case name == "package" || name == "_G" || name == "_LOADED":
		case before[name] == nil:
			t.Errorf("the module added the global %s", name)
		case v != before[name]:
			t.Errorf("the module replaced the global %s", name)
		}
	})
	coroutine.ForEach(func(k, v lua.LValue) {
		if coFuncs[k.String()] != v {
			t.Errorf("the module replaced coroutine.%s", k)
		}
	})
}

// TestUserTostringFallback checks tostring(u) for users without an email,
// which wandbtest cannot produce: it falls back as the SDK does (see
// wandb.User.String), username, then id, then the quoted name.
func TestUserTostringFallback(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	tests := []struct {
		u    *wandb.User
		want string
	}{
		{&wandb.User{ID: "VXNlcjox", Name: "Al", Username: str("al"), Email: str("al@example.com")}, "<User al@example.com>"},
		{&wandb.User{ID: "VXNlcjox", Name: "Al", Username: str("al")}, "<User al>"},
		{&wandb.User{ID: "VXNlcjox", Name: "Al"}, "<User VXNlcjox>"},
		{&wandb.User{Name: "Al Example"}, `<User "Al Example">`},
		{&wandb.User{}, "<User ???>"},
	}
	L, _ := newState(t, nil)
	for _, tt := range tests {
		if got := L.ToStringMeta(newUser(L, tt.u)).String(); got != tt.want {
			t.Errorf("tostring = %s, want %s", got, tt.want)
		}
	}
}
