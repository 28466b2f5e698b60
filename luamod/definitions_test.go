package luamod

import (
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	lua "github.com/yuin/gopher-lua"
)

// The LuaLS definitions (types/wandb.lua) describe exactly what the
// module has: a name the module has and the file lacks, or the other way
// round, fails here.

var (
	classRE = regexp.MustCompile(`^---@class ([\w.]+)(?:\s*:\s*([\w.]+))?`)
	fieldRE = regexp.MustCompile(`^---@field ([\w]+)`)
	localRE = regexp.MustCompile(`^local (\w+) = \{\}`)
	funcRE  = regexp.MustCompile(`^function (\w+)[.:](\w+)\(`)
	aliasRE = regexp.MustCompile(`^---\| "(\w+)"`)
)

// definedNames returns the names the definitions give each class (fields
// and functions; a class "A: B" has B's too), and the values of the
// wandb.ErrorCode alias.
func definedNames(t *testing.T) (map[string][]string, []string) {
	t.Helper()
	names := map[string][]string{}
	var codes []string
	class, alias := "", false
	locals := map[string]string{}  // local table name -> its class
	parents := map[string]string{} // class -> the class it extends
	for _, line := range strings.Split(Definitions(), "\n") {
		switch m := (struct{ c, f, l, fn, a []string }{classRE.FindStringSubmatch(line), fieldRE.FindStringSubmatch(line),
			localRE.FindStringSubmatch(line), funcRE.FindStringSubmatch(line), aliasRE.FindStringSubmatch(line)}); {
		case strings.HasPrefix(line, "---@alias wandb.ErrorCode"):
			alias = true
		case alias && m.a != nil:
			codes = append(codes, m.a[1])
		case m.c != nil:
			class, alias = m.c[1], false
			names[class] = names[class] // a class with no names is listed too
			if m.c[2] != "" {
				parents[class] = m.c[2]
			}
		case m.f != nil:
			names[class] = append(names[class], m.f[1])
		case m.l != nil:
			locals[m.l[1]] = class
		case m.fn != nil:
			owner, ok := locals[m.fn[1]]
			if !ok {
				t.Fatalf("definitions: %q defines a function on %s, which is no class's table", line, m.fn[1])
			}
			names[owner] = append(names[owner], m.fn[2])
		default:
			if !strings.HasPrefix(line, "---") {
				alias = false
			}
		}
	}
	var inherit func(c string, depth int) []string
	inherit = func(c string, depth int) []string {
		p, ok := parents[c]
		if !ok || depth > len(parents) {
			return names[c]
		}
		return append(slices.Clone(inherit(p, depth+1)), names[c]...)
	}
	all := map[string][]string{}
	for c := range names {
		all[c] = inherit(c, 0)
		sort.Strings(all[c])
	}
	sort.Strings(codes)
	return all, codes
}

// moduleNames returns the names the module really has, class by class,
// reading each listed field of a real value to check the lists.
func moduleNames(t *testing.T) map[string][]string {
	t.Helper()
	_, L := seededState(t)
	split := func(s string) []string { return strings.Split(s, ", ") }
	keys := func(expr string) []string {
		t.Helper()
		if err := L.DoString("_t = " + expr); err != nil {
			t.Fatal(err)
		}
		var ks []string
		L.GetGlobal("_t").(*lua.LTable).ForEach(func(k, _ lua.LValue) { ks = append(ks, k.String()) })
		return ks
	}
	got := map[string][]string{
		"wandb":         keys("wandb"),
		"wandb.csv":     keys("wandb.csv"),
		"wandb.json":    keys("wandb.json"),
		"wandb.User":    split(userFields),
		"wandb.Team":    split(teamFields),
		"wandb.Member":  split(memberFields),
		"wandb.api":     split(apiFields),
		"wandb.Plan":    split(planFields),
		"wandb.Desired": split(desiredFields),
		// The fields of a user's change and of a team's, together.
		"wandb.PlannedChange": keys(`(function() local u = {}
			for _, c in ipairs(assert(wandb.plan{ users = { { email = "new@example.com" } }, teams = { "new-team" } }).changes) do
				for k in pairs(c) do u[k] = true end
			end
			return u end)()`),
		// A user's change that fails (err) and a team's (team).
		"wandb.PlanResult": keys(`(function() local u = {}
			local p = assert(wandb.plan{ users = { { email = "applied@example.com" } }, teams = { "applied-team" } })
			assert(wandb.create_user("applied@example.com"))
			for _, r in ipairs(p:apply()) do
				for k in pairs(r) do u[k] = true end
			end
			return u end)()`),
		"wandb.Error":           split(errorFields),
		"wandb.Key":             keys("wandb.viewer().keys[1]"),
		"wandb.ParallelFailure": keys(`select(2, wandb.parallel({1}, function() error("x") end, {on_error = "collect"}))[1]`),
		"wandb.APIOptions":      slices.Clone(apiOptions),
		"wandb.ParallelOptions": {"concurrency", "on_error", "progress"},
		"wandb.CSVReadOptions":  {"separator", "required", "exact_headers", "name"},
		"wandb.CSVWriteOptions": {"separator"},
	}
	// Every listed field reads without an error on a real value.
	if err := L.DoString(`
		local me = wandb.viewer()
		local t = assert(wandb.team("ml-research"))
		local _, err = wandb.user("nobody-at-all")
		values = { ["wandb.User"] = me, ["wandb.Team"] = t, ["wandb.Member"] = t.members[1],
			["wandb.api"] = me.user_api, ["wandb.Error"] = err, ["wandb.Plan"] = assert(wandb.plan{}) }
	`); err != nil {
		t.Fatal(err)
	}
	values := L.GetGlobal("values").(*lua.LTable)
	for class, fields := range got {
		v := values.RawGetString(class)
		if v == lua.LNil {
			continue
		}
		L.SetGlobal("_v", v)
		for _, f := range fields {
			if err := L.DoString("local _ = _v." + f); err != nil {
				t.Errorf("%s.%s is listed but cannot be read: %v", class, f, err)
			}
		}
	}
	for c := range got {
		sort.Strings(got[c])
	}
	return got
}

// codeConstants returns the values of package wandb's Code constants.
func codeConstants(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../wandb/errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
				continue
			}
			for _, v := range vs.Values {
				if lit, ok := v.(*ast.BasicLit); ok {
					codes = append(codes, strings.Trim(lit.Value, `"`))
				}
			}
		}
	}
	sort.Strings(codes)
	return codes
}

func TestDefinitionsDescribeTheModule(t *testing.T) {
	t.Parallel()
	defined, codes := definedNames(t)
	got := moduleNames(t)
	for class, names := range got {
		if diff := cmp.Diff(names, defined[class]); diff != "" {
			t.Errorf("the definitions of %s differ from the module (-module +definitions):\n%s", class, diff)
		}
	}
	for class := range defined {
		if _, ok := got[class]; !ok {
			t.Errorf("the definitions have a class %s the test does not know", class)
		}
	}
	want := codeConstants(t)
	if len(want) < 10 {
		t.Fatalf("found only %d error codes in ../wandb/errors.go", len(want))
	}
	if diff := cmp.Diff(want, codes); diff != "" {
		t.Errorf("wandb.ErrorCode differs from package wandb's codes (-wandb +definitions):\n%s", diff)
	}
	if !slices.Contains(strings.Split(Definitions(), "\n"), "---@meta wandb") {
		t.Error("the definitions do not start a LuaLS meta file")
	}
	if _, err := lua.NewState().LoadString(Definitions()); err != nil {
		t.Errorf("the definitions are not valid Lua: %v", err)
	}
}
