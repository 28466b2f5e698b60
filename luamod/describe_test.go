package luamod

import (
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// TestCatalogueReadsTheDefinitions: the catalogue help and pairs use has
// every class, field and function the definitions test reads in the file.
func TestCatalogueReadsTheDefinitions(t *testing.T) {
	t.Parallel()
	defined, _ := definedNames(t)
	cat := definitionsCatalogue()
	for class, names := range defined {
		c := cat.classes[class]
		if c == nil {
			t.Errorf("the catalogue has no class %s", class)
			continue
		}
		var got []string
		for _, e := range c.entries {
			got = append(got, e.name)
		}
		sort.Strings(got)
		if diff := cmp.Diff(names, got); diff != "" {
			t.Errorf("%s (-definitions +catalogue):\n%s", class, diff)
		}
	}
	if len(cat.classes) != len(defined) {
		t.Errorf("the catalogue has %d classes, the definitions %d", len(cat.classes), len(defined))
	}
	e := cat.classes["wandb"].entry("parallel")
	want := defEntry{name: "parallel", fn: true, params: []defParam{{"items", "T[]", false}, {"fn", "fun(item: T, index: integer): R", false},
		{"opts", "wandb.ParallelOptions", true}}, returns: []string{"R[]", "wandb.ParallelFailure[]"}}
	if e == nil || !cmp.Equal(want.params, e.params, cmp.AllowUnexported(defParam{})) || !slices.Equal(want.returns, e.returns) || !e.fn || e.method {
		t.Errorf("wandb.parallel = %+v", e)
	}
	if f := cat.classes["wandb.Desired"].entry("users"); f == nil || f.typ != "{email: string, admin: boolean?, active: boolean?}[]?" ||
		!strings.HasPrefix(f.doc, "users that must exist") {
		t.Errorf("wandb.Desired.users = %+v", f)
	}
}

// TestCatalogueReadsInheritance: "---@class A: B" names the class A,
// whose entries are B's (but for those A declares again), then its own.
func TestCatalogueReadsInheritance(t *testing.T) {
	t.Parallel()
	cat := parseDefinitions(`---@class B
---@field x string
---@field y string? B's y

---A B with more.
---@class A: B
---@field y integer A's y
---@field z boolean
`)
	a := cat.classes["A"]
	if a == nil || a.parent != "B" || a.doc != "A B with more." || len(cat.classes) != 2 {
		t.Fatalf("classes %v, A = %+v", slices.Collect(maps.Keys(cat.classes)), a)
	}
	if got := a.fields(); !slices.Equal(got, []string{"x", "y", "z"}) {
		t.Errorf("A's fields %v, want x, y, z", got)
	}
	if y := a.entry("y"); y == nil || y.typ != "integer" || y.doc != "A's y" {
		t.Errorf("A.y = %+v, want A's own", y)
	}
	if got := cat.classes["B"].fields(); !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("B's fields %v", got)
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	_, L := seededState(t)
	get := func(expr string) lua.LValue {
		t.Helper()
		if err := L.DoString("_v = " + expr); err != nil {
			t.Fatal(err)
		}
		return L.GetGlobal("_v")
	}
	describe := func(v lua.LValue) string {
		t.Helper()
		s, ok := Describe(L, v)
		if !ok {
			t.Fatalf("Describe(%v): not described", v)
		}
		return s
	}
	u := describe(get("wandb.viewer()"))
	for _, want := range []string{
		"wandb.User: A W&B user. Read-only: reading an unknown field or writing any raises.\n",
		"\n  id              string?       the GraphQL ID; nil for a user found through SCIM only\n",
		"\n  teams           string[]      the names of the user's teams",
		"\n  :delete_api_key(name) -> boolean, wandb.Error?  Deletes the key with this name (one of `u.api_keys`).\n",
		"\n  :set_role(role) -> boolean, wandb.Error?  Sets the organisation role.\n",
	} {
		if !strings.Contains(u, want) {
			t.Errorf("help of a User lacks %q:\n%s", want, u)
		}
	}
	// One line per field and function of the class, and the title.
	if n, want := strings.Count(u, "\n"), len(definitionsCatalogue().classes["wandb.User"].entries)+1; n != want {
		t.Errorf("%d lines, want %d:\n%s", n, want, u)
	}
	for _, name := range []string{"wandb.User", "User", "user"} {
		if got := describe(lua.LString(name)); got != u {
			t.Errorf("help(%q) differs from help(u):\n%s", name, got)
		}
	}
	for expr, want := range map[string]string{
		`wandb.users`:                          "wandb.users(query?, opts?) -> wandb.User[]?, wandb.Error?\n  Every user whose username or email contains query; all without one. With {status = true}",
		`"wandb.users"`:                        "wandb.users(query?, opts?) -> wandb.User[]?, wandb.Error?\n",
		`"users"`:                              "wandb.users(query?, opts?)",
		`wandb.viewer().delete_api_key`:        "wandb.User:delete_api_key(name) -> boolean, wandb.Error?\n  Deletes the key with this name (one of `u.api_keys`).\n  name: string\n",
		`"User:delete_api_key"`:                "wandb.User:delete_api_key(name)",
		`"wandb.User.email"`:                   "wandb.User.email  string?\n",
		`wandb.csv.read`:                       "wandb.csv.read(path, opts?) -> table<string, string>[]?, string[]|string, integer[]?\n",
		`wandb.json.write`:                     "wandb.json.write(path, value, opts?) -> true?, string?\n",
		`wandb.viewer().user_api`:              "wandb.api: Another identity (or server): the module's functions as methods.\n  base_url  string  the server\n  :viewer() -> wandb.User?, wandb.Error?  The user the API key belongs to.\n",
		`wandb.viewer().user_api.users`:        "wandb.api:users(query?, opts?) -> wandb.User[]?, wandb.Error?\n  Every user whose username",
		`wandb`:                                "wandb: The module. Unknown names raise, listing the names there are.\n  version  string      this project's version\n",
		`wandb.json`:                           "wandb.json: JSON.",
		`wandb.team("ml-research")`:            "wandb.Team: A W&B team.",
		`wandb.team("ml-research").members[1]`: "wandb.Member: A member of a team, or a pending invitation.\n",
		`select(2, wandb.user("nobody"))`:      "wandb.Error: A failure a script should handle",
		`wandb.plan{}`:                         "wandb.Plan: A plan: tostring(p) is its diff",
		`select(2, wandb.parallel({1}, function() error("x") end, {on_error = "collect"}))[1]`: "wandb.ParallelFailure: The record wandb.parallel raises",
	} {
		if got := describe(get(expr)); !strings.HasPrefix(got, want) {
			t.Errorf("help(%s) =\n%s\nwant it to start with\n%s", expr, got, want)
		}
	}
	for _, expr := range []string{`{}`, `print`, `42`, `"no such thing"`, `"User:no_such"`, `"Nope.x"`, `wandb.json.null`, `setmetatable({}, {__metatable = "wandb"})`} {
		if s, ok := Describe(L, get(expr)); ok {
			t.Errorf("help(%s) described it:\n%s", expr, s)
		}
	}
}

func TestMembers(t *testing.T) {
	t.Parallel()
	_, L := seededState(t)
	if err := L.DoString(`_u = wandb.viewer()`); err != nil {
		t.Fatal(err)
	}
	fields, methods, ok := Members(L, L.GetGlobal("_u"))
	all := append(slices.Clone(fields), methods...)
	sort.Strings(all)
	want := strings.Split(userFields, ", ")
	sort.Strings(want)
	if !ok || !slices.Equal(all, want) || !slices.Contains(methods, "generate_api_key") || slices.Contains(fields, "generate_api_key") {
		t.Errorf("Members(u) = %v, %v, %v", fields, methods, ok)
	}
	if _, _, ok := Members(L, L.NewTable()); ok {
		t.Error("Members of a plain table")
	}
}

func TestInspect(t *testing.T) {
	t.Parallel()
	srv, L := seededState(t)
	inspect := func(expr string) string {
		t.Helper()
		if err := L.DoString("_v = " + expr); err != nil {
			t.Fatal(err)
		}
		return strings.ReplaceAll(Inspect(L, L.GetGlobal("_v")), srv.URL, "URL")
	}
	for _, tc := range []struct{ expr, want string }{
		{`"a string\27[2K"`, "a string\x1b[2K"}, // as it is: the terminal's writer escapes it
		{`nil`, "nil"},
		{`42`, "42"},
		{`{}`, "{}"},
		{`{1, 2, "x\27[2K\n"}`, `{ 1, 2, "x\x1b[2K\n" }`},
		{`{a = {b = {c = {d = 1}}}}`, `{ a = { b = { c = {…} } } }`},
		{`{["a b"] = 1, [true] = 2, [2.5] = 3, ["end"] = 4, z = 5, 10}`, `{ 10, [2.5] = 3, ["a b"] = 1, ["end"] = 4, z = 5, [true] = 2 }`},
		{`(function() local t = {1} t.self = t return t end)()`, `{ 1, self = <cycle> }`},
		{`wandb.users`, "<function wandb.users>"},
		{`wandb.viewer().delete_api_key`, "<function wandb.User:delete_api_key>"},
		{`print`, "<function>"},
		{`{ wandb.json.null }`, "{ wandb.json.null }"},
		{`select(2, wandb.user("nobody"))`, `wandb: user: no user matches "nobody"`},
		{`wandb.plan{ users = { { email = "x@example.com" }, { email = "y@example.com" } } }`,
			"+ create_user x@example.com admin=false (no such user)\n+ create_user y@example.com admin=false (no such user)"},
		{`{ wandb.plan{ users = { { email = "x@example.com" }, { email = "y@example.com" } } } }`,
			"{ + create_user x@example.com admin=false (no such user) … }"},
		{`wandb.csv`, "{\n  format = <function wandb.csv.format>,\n  parse = <function wandb.csv.parse>,\n  read = <function wandb.csv.read>,\n  write = <function wandb.csv.write>,\n}"},
		{`{ csv = wandb.csv }`, "{ csv = <wandb.csv> }"},
		{`wandb.team("platform").members`, "{\n  <Member Alice Smith (USER)>,\n  <Member Bob Builder (USER)>,\n  <Member Carol Ops (USER)>,\n}"},
		{`wandb.team("platform")`, `<Team platform> {
  name = "platform",
  id = "RW50aXR5OjI=",
  members = {
    <Member Alice Smith (USER)>,
    <Member Bob Builder (USER)>,
    <Member Carol Ops (USER)>,
  },
  dry_run = false,
  read_only_admin = false,
  private_only = false,
  default_access = "MEMBERS",
  storage_bytes = 0,
  entity_type = "team",
  code_saving_enabled = true,
}`},
		{`wandb.user("dave@example.com")`, `<User dave@example.com> {
  id = "VXNlcjo2",
  name = "Dave NoKeys",
  username = "dave",
  email = "dave@example.com",
  instance_admin = false,
  admin = false,
  entity = "dave",
  api_keys = {},
  keys = {},
  teams = {},
  user_api = <wandb.Client URL>,
  dry_run = false,
}`},
		{`assert(wandb.user("dave@example.com"):status())`, `{ active = true, days_active = 0 }`},
	} {
		if got := inspect(tc.expr); got != tc.want {
			t.Errorf("Inspect(%s) =\n%s\nwant\n%s", tc.expr, got, tc.want)
		}
	}
	// At most 50 entries of a table, one per line when they do not fit.
	got := inspect(`(function() local t = {} for i = 1, 60 do t[i] = "item number " .. i end return t end)()`)
	if lines := strings.Split(got, "\n"); len(lines) != 53 || lines[50] != `  "item number 50",` || lines[51] != "  … 10 more," || lines[52] != "}" {
		t.Errorf("a long array:\n%s", got)
	}
	// A User's keys, two levels down.
	if got := inspect(`wandb.user("alice@example.com")`); !regexp.MustCompile(`\n  keys = \{\n    \{ description = "laptop", name = "\w+" \},\n    \{ description = "ci runner", name = "\w+" \},\n  \},\n`).MatchString(got) {
		t.Errorf("alice's keys:\n%s", got)
	}
	// A service account's key is never shown, in its Member or a table.
	if err := L.DoString(`_bot = assert(assert(wandb.team("ml-research")):create_service_account("bot"))`); err != nil {
		t.Fatal(err)
	}
	key := L.GetField(L.GetGlobal("_bot"), "api_key").String()
	for _, expr := range []string{`_bot`, `{ _bot }`, `{ bots = { _bot } }`, `wandb.team("ml-research")`} {
		if got := inspect(expr); len(key) < 20 || strings.Contains(got, key) || strings.Contains(got, "api_key") {
			t.Errorf("Inspect(%s) shows the key:\n%s", expr, wandbtest.MaskSecrets(got))
		}
	}
	// A __tostring that raises, raises: the caller protects the call.
	if err := L.DoString(`_bad = setmetatable({}, { __tostring = function() error("no") end })`); err != nil {
		t.Fatal(err)
	}
	err := L.CallByParam(lua.P{Fn: L.NewFunction(func(L *lua.LState) int { Inspect(L, L.GetGlobal("_bad")); return 0 }), Protect: true})
	if err == nil || !strings.Contains(err.Error(), "no") {
		t.Errorf("a raising __tostring: %v", err)
	}
}

// statusRecorder is a StatusLine that records what the progress drew.
type statusRecorder struct {
	mu     sync.Mutex
	events []string
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, "write "+string(p))
	return len(p), nil
}

func (r *statusRecorder) SetStatus(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, "status "+line)
}

// TestProgressStatusLine: a Progress writer that is a StatusLine draws
// the line itself: no escape sequence reaches it, and the last line is
// written as a line of output once the status is removed.
func TestProgressStatusLine(t *testing.T) {
	srv := wandbtest.Start(t, wandbtest.WithLatency(150*time.Millisecond))
	rec := &statusRecorder{}
	L := lua.NewState()
	t.Cleanup(L.Close)
	L.PreloadModule("wandb", LoaderWith(Options{Client: newClient(t, srv.URL, srv.AdminKey()), Progress: rec}))
	if err := L.DoString(`wandb = require("wandb")
		wandb.parallel({1, 2, 3, 4, 5, 6, 7, 8}, function(x) assert(wandb.users("x" .. x)) end, { concurrency = 2 })`); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := len(rec.events)
	if n < 3 || !strings.HasPrefix(rec.events[0], "status wandb.parallel: ") || rec.events[n-2] != "status " ||
		!strings.HasPrefix(rec.events[n-1], "write wandb.parallel: 8/8 done, ") || !strings.HasSuffix(rec.events[n-1], "/s\n") {
		t.Errorf("events: %q", rec.events)
	}
	for _, e := range rec.events {
		if strings.ContainsAny(e, "\r\x1b") {
			t.Errorf("an escape sequence reached the status line: %q", e)
		}
	}
}
