package luamod

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wandb-lua/wandb-lua/wandb"
)

// TestImports checks the dependency rule of the embedding contract: the
// module's own (non-test) files import package wandb and never the test
// server. (wandb importing luamod would be an import cycle Go rejects.)
func TestImports(t *testing.T) {
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
		}
	}
	if !importsWandb {
		t.Error("no file of luamod imports package wandb")
	}
}

// TestUserTostringFallback checks tostring(u) for users without an email,
// which wandbtest cannot produce: it falls back as the SDK does (see
// wandb.User.String), username, then id, then the quoted name.
func TestUserTostringFallback(t *testing.T) {
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
