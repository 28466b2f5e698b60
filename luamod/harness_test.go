package luamod

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// The Lua-level tests: each testdata/lua/*.lua script checks one behaviour
// with assertions written in Lua, against a fresh wandbtest server seeded
// with testdata/seed.json. Files whose name starts with "_" are helpers,
// not tests. A failing script fails its subtest with the script's error
// message and traceback, which name the file and line.

const luaTestDir = "../testdata/lua"

// seedFile is the seed most tests start their server with.
const seedFile = "../testdata/seed.json"

// newClient returns a client for the server at url authenticating with
// key. It does not retry, so that faults injected by a test reach the
// script at once.
func newClient(tb testing.TB, url, key string) *wandb.Client {
	tb.Helper()
	// A short check of changes cancelled in flight: some tests cancel
	// requests a server holds for an hour, and its checks would wait too.
	c, err := wandb.NewClient(wandb.Config{BaseURL: url, APIKey: wandb.NewSecret(key), Retry: wandb.RetryPolicy{MaxAttempts: 1}, OutcomeCheckTimeout: 200 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// newState returns an LState with the module preloaded for c and loaded as
// the global wandb, whose print writes to the returned buffer; opts are the
// LState's options. Every test of this package builds its state here.
func newState(tb testing.TB, c *wandb.Client, opts ...lua.Options) (*lua.LState, *bytes.Buffer) {
	tb.Helper()
	L := lua.NewState(opts...)
	tb.Cleanup(L.Close)
	L.PreloadModule("wandb", Loader(c))
	if err := L.DoString(`wandb = require("wandb")`); err != nil {
		tb.Fatal(err)
	}
	out := new(bytes.Buffer)
	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int {
		for i := 1; i <= L.GetTop(); i++ {
			if i > 1 {
				out.WriteByte('\t')
			}
			out.WriteString(L.ToStringMeta(L.Get(i)).String())
		}
		out.WriteByte('\n')
		return 0
	}))
	return L, out
}

// seededState starts a server seeded with seedFile, with any other
// options, and returns it and an LState for its admin (see newState).
func seededState(t *testing.T, opts ...wandbtest.Option) (*wandbtest.Server, *lua.LState) {
	t.Helper()
	srv := wandbtest.Start(t, append([]wandbtest.Option{wandbtest.WithSeedFile(seedFile)}, opts...)...)
	L, _ := newState(t, newClient(t, srv.URL, srv.AdminKey()))
	return srv, L
}

// installTestLib gives scripts the global table "test": a window on the
// server for setting up and checking state.
//
//	test.base_url                 the server's URL
//	test.key_for(email)           mints a key for a user and returns its secret
//	test.requests([op])           requests the server received (for op, or all)
//	test.server_user(email)       the server's record of a user, or nil:
//	                              {id, email, username, name, admin, inactive, viewer, keys = {names}, teams}
//	test.server_team(name)        the server's record of a team, or nil:
//	                              {id, name, members = {{id, name, username, email, admin, role, pending, account_type}}}
//	test.accept_invite(team, email)  the invited user accepts
//	test.fail_next(op, status, body)  answers the next request of op with status and body
//	test.temp_dir                 a directory for the script's files
//	test.testdata                 the repository's testdata directory
//	test.file_mode(path)          a file's mode, e.g. "-rw-------"
func installTestLib(t *testing.T, L *lua.LState, srv *wandbtest.Server) {
	lib := L.NewTable()
	lib.RawSetString("base_url", lua.LString(srv.URL))
	lib.RawSetString("temp_dir", lua.LString(t.TempDir()))
	lib.RawSetString("testdata", lua.LString(filepath.Dir(luaTestDir)))
	L.SetFuncs(lib, map[string]lua.LGFunction{
		"key_for": func(L *lua.LState) int {
			secret, err := srv.AddAPIKey(L.CheckString(1), "lua test")
			if err != nil {
				L.RaiseError("key_for: %v", err)
			}
			L.Push(lua.LString(secret))
			return 1
		},
		"requests": func(L *lua.LState) int {
			L.Push(lua.LNumber(srv.Requests(L.OptString(1, ""))))
			return 1
		},
		"server_user": func(L *lua.LState) int {
			info, ok := srv.UserByEmail(L.CheckString(1))
			if !ok {
				L.Push(lua.LNil)
				return 1
			}
			u := L.NewTable()
			u.RawSetString("id", lua.LString(info.ID))
			u.RawSetString("email", lua.LString(info.Email))
			u.RawSetString("username", lua.LString(info.Username))
			u.RawSetString("name", lua.LString(info.Name))
			u.RawSetString("admin", lua.LBool(info.Admin))
			u.RawSetString("inactive", lua.LBool(info.Inactive))
			u.RawSetString("viewer", lua.LBool(info.Viewer))
			keys := L.NewTable()
			for _, k := range info.Keys {
				keys.Append(lua.LString(k.Name))
			}
			u.RawSetString("keys", keys)
			u.RawSetString("teams", stringArray(L, info.Teams))
			L.Push(u)
			return 1
		},
		"file_mode": func(L *lua.LState) int {
			fi, err := os.Stat(L.CheckString(1))
			if err != nil {
				L.RaiseError("file_mode: %v", err)
			}
			L.Push(lua.LString(fi.Mode().String()))
			return 1
		},
		"server_team": func(L *lua.LState) int {
			info, ok := srv.Team(L.CheckString(1))
			if !ok {
				L.Push(lua.LNil)
				return 1
			}
			t := L.NewTable()
			t.RawSetString("id", lua.LString(info.ID))
			t.RawSetString("name", lua.LString(info.Name))
			ms := L.NewTable()
			for _, m := range info.Members {
				mt := L.NewTable()
				mt.RawSetString("id", lua.LString(m.ID))
				mt.RawSetString("name", lua.LString(m.Name))
				mt.RawSetString("username", lua.LString(m.Username))
				mt.RawSetString("email", lua.LString(m.Email))
				mt.RawSetString("admin", lua.LBool(m.Admin))
				mt.RawSetString("role", lua.LString(m.Role))
				mt.RawSetString("pending", lua.LBool(m.Pending))
				mt.RawSetString("account_type", lua.LString(m.AccountType))
				ms.Append(mt)
			}
			t.RawSetString("members", ms)
			L.Push(t)
			return 1
		},
		"accept_invite": func(L *lua.LState) int {
			if err := srv.AcceptInvite(L.CheckString(1), L.CheckString(2)); err != nil {
				L.RaiseError("accept_invite: %v", err)
			}
			return 0
		},
		"fail_next": func(L *lua.LState) int {
			srv.FailNext(L.CheckString(1), wandbtest.Fault{Status: L.CheckInt(2), Body: L.OptString(3, "")})
			return 0
		},
	})
	L.SetGlobal("test", lib)
}

// runLuaFile runs the helpers and then script in a fresh state against
// srv as the admin, and returns the script's error and printed output.
func runLuaFile(t *testing.T, srv *wandbtest.Server, script string) (string, error) {
	t.Helper()
	L, out := newState(t, newClient(t, srv.URL, srv.AdminKey()))
	installTestLib(t, L, srv)
	if err := L.DoFile(filepath.Join(luaTestDir, "_helpers.lua")); err != nil {
		t.Fatalf("helpers: %v", err)
	}
	err := L.DoFile(script)
	if err != nil {
		if ae, ok := err.(*lua.ApiError); ok {
			// Format error values the way the script would see them.
			ae.Object = L.ToStringMeta(ae.Object)
		}
	}
	return out.String(), err
}

func TestLuaScripts(t *testing.T) {
	t.Parallel()
	scripts, err := filepath.Glob(filepath.Join(luaTestDir, "*.lua"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, script := range scripts {
		name := filepath.Base(script)
		if strings.HasPrefix(name, "_") {
			continue
		}
		n++
		t.Run(strings.TrimSuffix(name, ".lua"), func(t *testing.T) {
			srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
			out, err := runLuaFile(t, srv, script)
			if err != nil {
				// The scripts handle secrets: mask anything shaped like one.
				t.Errorf("%s failed:\n%s\noutput:\n%s", script,
					wandbtest.MaskSecrets(fmt.Sprint(err)), wandbtest.MaskSecrets(out))
			}
		})
	}
	if n < 10 {
		t.Errorf("found only %d Lua test scripts in %s", n, luaTestDir)
	}
}

// TestLuaTeamsWithDistinctMemberIDs runs teams.lua against a server whose
// team members have ids of their own, not their users' IDs (whether W&B's
// do is not public): t:create_service_account and m:delete work either way.
func TestLuaTeamsWithDistinctMemberIDs(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile), wandbtest.WithDistinctMemberIDs())
	script := filepath.Join(luaTestDir, "teams.lua")
	if out, err := runLuaFile(t, srv, script); err != nil {
		t.Errorf("%s failed:\n%s\noutput:\n%s", script, wandbtest.MaskSecrets(fmt.Sprint(err)), wandbtest.MaskSecrets(out))
	}
}

// TestLuaServiceAccountWithoutMemberKeys: against a server that gives no
// service account key in GetTeamEntity (whether W&B's still do is not
// public), t:create_service_account still succeeds, with api_key nil.
func TestLuaServiceAccountWithoutMemberKeys(t *testing.T) {
	t.Parallel()
	srv, L := seededState(t, wandbtest.WithoutMemberKeys())
	err := L.DoString(`
		local t = assert(wandb.team("ml-research"))
		local sa, err = t:create_service_account("CI bot")
		assert(sa and err == nil, tostring(err))
		assert(sa.account_type == "SERVICE" and sa.name == "CI bot" and sa.dry_run == false, "the account")
		assert(sa.api_key == nil, "a key the server did not give")
		for _, m in ipairs(t.members) do assert(m.api_key == nil, "a listed member's key") end`)
	if err != nil {
		t.Error(wandbtest.MaskSecrets(err.Error()))
	}
	info, _ := srv.Team("ml-research")
	if !slices.ContainsFunc(info.Members, func(m wandbtest.MemberInfo) bool { return m.Name == "CI bot" && m.AccountType == "SERVICE" }) {
		t.Errorf("the server's team = %+v", info.Members)
	}
}

// TestLuaUsersWhenEmptyQueryListsNobody: against a server that lists
// nobody for an empty query (whether W&B does is not public), wandb.users()
// is nil, err, not an empty array; a query still works.
func TestLuaUsersWhenEmptyQueryListsNobody(t *testing.T) {
	t.Parallel()
	_, L := seededState(t, wandbtest.WithEmptyUserQueryListsNobody())
	err := L.DoString(`
		for _, list_and_err in ipairs({ { wandb.users() }, { wandb.users("") } }) do
			local list, err = list_and_err[1], list_and_err[2]
			assert(list == nil, "a list for an empty query")
			assert(err.code == "bad_response" and err.op == "users", tostring(err))
			assert(err.message:find("listed nobody for an empty query", 1, true), err.message)
		end
		assert(#assert(wandb.users("bob")) == 1, "a query")`)
	if err != nil {
		t.Error(err)
	}
}

// TestLuaUsersStatusWhenSCIMDoesNotPage: against a server whose SCIM
// list answers its first 9,999 users whatever is asked (whether W&B pages
// past them is not public), wandb.users(q, {status = true}) gives every
// user and an "incomplete" error beside them; the users past the first
// answer have no standing (nil), never an inactive or never-active one.
func TestLuaUsersStatusWhenSCIMDoesNotPage(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("lists 10,000 users")
	}
	seed := wandbtest.ManyUsers(10_000)
	seed.Users = append(seed.Users, wandbtest.SeedUser{Email: "late@example.com", Active: ptr(false), LastActiveAt: "2020-01-01T00:00:00Z"})
	srv := wandbtest.Start(t, wandbtest.WithSeed(seed), wandbtest.WithSCIMPagingIgnored())
	L, _ := newState(t, newClient(t, srv.URL, srv.AdminKey()))
	err := L.DoString(`
		local list, err = wandb.users("", { status = true })
		assert(#list == 10002, "every user: " .. #list)
		assert(err and err.code == "incomplete" and err.op == "users", tostring(err))
		assert(err.message:find("listed 9999 of its 10002 users", 1, true), err.message)
		local known = 0
		for _, u in ipairs(list) do
			if u.active ~= nil then known = known + 1 end
		end
		assert(known == 9999, "users with a standing: " .. known)
		local late = list[#list]
		assert(late.email == "late@example.com", late.email)
		assert(late.active == nil and late.last_active_at == nil and late.days_active == nil and late.created_at == nil,
			"a user past the first answer has no standing")`)
	if err != nil {
		t.Error(err)
	}
}

// TestStandingTimesAreUTC: times a server gives with an offset are shown
// in UTC, by u:status() as by the standing fields of wandb.users(q,
// {status = true}), so a script compares and sorts them as strings. The
// test server gives UTC: its answers are rewritten with offsets.
func TestStandingTimesAreUTC(t *testing.T) {
	t.Parallel()
	h, err := wandbtest.NewHandler(wandbtest.WithSeed(wandbtest.Seed{Users: []wandbtest.SeedUser{{Email: "far@example.com", Username: "far",
		CreatedAt: "2024-01-15T09:00:00Z", LastActiveAt: "2025-03-01T12:00:00Z", DaysActive: 3}}}))
	if err != nil {
		t.Fatal(err)
	}
	offsets := strings.NewReplacer(`"2024-01-15T09:00:00Z"`, `"2024-01-15T10:00:00+01:00"`, `"2025-03-01T12:00:00Z"`, `"2025-03-01T07:00:00-05:00"`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = offsets.WriteString(w, rec.Body.String())
	}))
	t.Cleanup(srv.Close)
	L, _ := newState(t, newClient(t, srv.URL, h.AdminKey()))
	err = L.DoString(`
		local u = assert(wandb.users("far", { status = true }))[1]
		assert(u.created_at == "2024-01-15T09:00:00Z", "created_at " .. tostring(u.created_at))
		assert(u.last_active_at == "2025-03-01T12:00:00Z", "last_active_at " .. tostring(u.last_active_at))
		local st = assert(u:status())
		assert(st.last_active_at == "2025-03-01T12:00:00Z", "u:status().last_active_at " .. tostring(st.last_active_at))`)
	if err != nil {
		t.Error(err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestBadInputLeavesServerUnchanged runs the bad-input script and checks
// that the server received only the one viewer request the script needs
// for a User value, and that its users and keys are as seeded.
func TestBadInputLeavesServerUnchanged(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	before := srv.Users()
	if _, err := runLuaFile(t, srv, filepath.Join(luaTestDir, "bad_arguments.lua")); err != nil {
		t.Fatalf("bad_arguments.lua: %v", err)
	}
	if all, viewer := srv.Requests(""), srv.Requests("GetViewer"); all != 1 || viewer != 1 {
		t.Errorf("the server received %d requests (%d GetViewer), want only 1 GetViewer", all, viewer)
	}
	after := srv.Users()
	if len(before) != len(after) {
		t.Fatalf("users: %d before, %d after", len(before), len(after))
	}
	for i := range before {
		if before[i].Email != after[i].Email || len(before[i].Keys) != len(after[i].Keys) {
			t.Errorf("user %d changed: %s with %d keys, now %s with %d keys",
				i, before[i].Email, len(before[i].Keys), after[i].Email, len(after[i].Keys))
		}
	}
}

// TestLuaTestFailureNamesScriptAndLine checks the harness itself: a failing
// assertion is reported with the script's file and line.
func TestLuaTestFailureNamesScriptAndLine(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	script := filepath.Join(t.TempDir(), "failing.lua")
	if err := os.WriteFile(script, []byte("local x = 1\neq(x, 2, \"x\")\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := runLuaFile(t, srv, script)
	if err == nil {
		t.Fatal("a failing script passed")
	}
	if want := script + ":2: x: got 1, want 2"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
}

// TestTwoStatesDoNotMix runs two LStates with two clients of two servers
// side by side: each sees its own identity and server.
func TestTwoStatesDoNotMix(t *testing.T) {
	t.Parallel()
	srvA := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	srvB := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	bobKey, err := srvB.AddAPIKey("bob@example.com", "two states")
	if err != nil {
		t.Fatal(err)
	}
	LA, outA := newState(t, newClient(t, srvA.URL, srvA.AdminKey()))
	LB, outB := newState(t, newClient(t, srvB.URL, bobKey))
	const script = `local wandb = require("wandb") print(assert(wandb.viewer()).email)`
	for i := 0; i < 2; i++ {
		if err := LA.DoString(script); err != nil {
			t.Fatal(err)
		}
		if err := LB.DoString(script); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := outA.String(), "admin@example.com\nadmin@example.com\n"; got != want {
		t.Errorf("state A printed %q, want %q", got, want)
	}
	if got, want := outB.String(), "bob@example.com\nbob@example.com\n"; got != want {
		t.Errorf("state B printed %q, want %q", got, want)
	}
	// The viewer is cached per client: one request to each server.
	if a, b := srvA.Requests("GetViewer"), srvB.Requests("GetViewer"); a != 1 || b != 1 {
		t.Errorf("GetViewer requests: A %d, B %d, want 1 each", a, b)
	}
	if LA.GetTypeMetatable(userTypeName) == LB.GetTypeMetatable(userTypeName) {
		t.Error("two states share the User metatable")
	}
}

// TestSetupOncePerState loads the module twice into one LState (two
// clients under two names): the metatables are registered once and each
// module uses its own client.
func TestSetupOncePerState(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	bobKey, err := srv.AddAPIKey("bob@example.com", "setup once")
	if err != nil {
		t.Fatal(err)
	}
	L, out := newState(t, newClient(t, srv.URL, srv.AdminKey()))
	L.PreloadModule("wandb_bob", Loader(newClient(t, srv.URL, bobKey)))
	if err := L.DoString(`a = require("wandb")`); err != nil {
		t.Fatal(err)
	}
	// getmetatable returns the type name to scripts, so compare in Go: the
	// second load must reuse the metatables, not rebuild their handlers.
	handlers := func() []lua.LValue {
		var hs []lua.LValue
		for _, typ := range []string{userTypeName, apiTypeName, errorTypeName} {
			mt, ok := L.GetTypeMetatable(typ).(*lua.LTable)
			if !ok {
				t.Fatalf("no metatable %s", typ)
			}
			hs = append(hs, mt, mt.RawGetString("__index"), mt.RawGetString("__tostring"))
		}
		return hs
	}
	before := handlers()
	if err := L.DoString(`
		local b = require("wandb_bob")
		print(assert(a.viewer()).email, assert(b.viewer()).email, assert(a.user("bob")) == assert(b.viewer()))
	`); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "admin@example.com\tbob@example.com\ttrue\n"; got != want {
		t.Errorf("printed %q, want %q", got, want)
	}
	for i, h := range handlers() {
		if h != before[i] {
			t.Errorf("loading the module a second time replaced metatable entry %d (%v)", i, h)
		}
	}
}

// TestNilClient: with no default client the module functions raise, and
// api objects still work.
func TestNilClient(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	L, out := newState(t, nil)
	L.SetGlobal("KEY", lua.LString(srv.AdminKey()))
	L.SetGlobal("URL", lua.LString(srv.URL))
	if err := L.DoString(`
		local wandb = require("wandb")
		local ok, err = pcall(wandb.viewer)
		print(ok, err)
		local api = assert(wandb.api{api_key = KEY, base_url = URL})
		print(assert(api:viewer()).email)
	`); err != nil {
		t.Fatal(err)
	}
	want := "false\t<string>:3: wandb.viewer: the module has no default client; use wandb.api{api_key = ..., base_url = ...}:viewer(...)\nadmin@example.com\n"
	if got := out.String(); got != want {
		t.Errorf("printed %q, want %q", got, want)
	}
}

// TestContextCancelStopsRequest cancels the LState's context while a
// request is in flight: the request stops and the script ends with the
// cancellation.
func TestContextCancelStopsRequest(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	srv.FailNext("GetViewer", wandbtest.Fault{Delay: 1 << 62}) // until cancelled
	L, _ := newState(t, newClient(t, srv.URL, srv.AdminKey()))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	L.SetContext(ctx)
	go func() {
		for srv.InFlight() == 0 {
			runtime.Gosched()
		}
		cancel()
	}()
	// The VM raises the cancellation at the instruction after the call.
	err := L.DoString(`local wandb = require("wandb") local u, err = wandb.viewer() error("not reached")`)
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("script error = %v, want context canceled", err)
	}
}

// TestErrorValueIsGoError checks what an embedder sees: an error value
// raised by a script is the *wandb.Error in the ApiError's object.
func TestErrorValueIsGoError(t *testing.T) {
	t.Parallel()
	_, L := seededState(t)
	err := L.DoString(`local wandb = require("wandb") assert(wandb.user("nobody@example.com"))`)
	ae, ok := err.(*lua.ApiError)
	if !ok {
		t.Fatalf("error %v is not an *lua.ApiError", err)
	}
	ud, ok := ae.Object.(*lua.LUserData)
	if !ok {
		t.Fatalf("error object %v is not a userdata", ae.Object)
	}
	we, ok := ud.Value.(*wandb.Error)
	if !ok || we.Code != wandb.CodeNotFound || we.Op != "user" {
		t.Errorf("error value = %#v, want a not_found *wandb.Error of op user", ud.Value)
	}
}
