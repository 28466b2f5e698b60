package luamod

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// An untrusted script in NewSandbox tries every way out it can think of.

func sandboxFor(t *testing.T, srv *wandbtest.Server, opts SandboxOptions) *lua.LState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	t.Cleanup(cancel)
	if opts.Client == nil {
		opts.Client = newClient(t, srv.URL, srv.AdminKey())
	}
	L := NewSandbox(ctx, opts)
	t.Cleanup(L.Close)
	return L
}

func TestSandboxEscapesFail(t *testing.T) {
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	t.Setenv("WANDB_API_KEY", srv.AdminKey())
	for name, script := range map[string]string{
		"read the environment":        `return os.getenv("WANDB_API_KEY")`,
		"run a command":               `return os.execute("id")`,
		"open a file":                 `return io.open("/etc/passwd")`,
		"read a file with dofile":     `return dofile("/etc/passwd")`,
		"load a file":                 `return loadfile("/etc/passwd")`,
		"load code from a string":     `return loadstring("return 1")()`,
		"load code with load":         `return load(function() return nil end)`,
		"require os":                  `return require("os").getenv("HOME")`,
		"require io":                  `return require("io")`,
		"require a file":              `return require("scripts.examples.quickstart")`,
		"the package library":         `return package.loaded`,
		"the debug library":           `return debug.getinfo(1)`,
		"write a file via the module": `return wandb.write_private("/tmp/x", "secret")`,
		"another identity":            `return wandb.api{ api_key = string.rep("0", 40) }`,
		"gopher-lua's registers":      `return _printregs()`,
		"string.dump":                 `return string.dump(print)`,
		"os through _G":               `return _G.os.getenv("HOME")`,
		"io through the string lib":   `return ("x").io.open("/etc/passwd")`,
	} {
		t.Run(name, func(t *testing.T) {
			L := sandboxFor(t, srv, SandboxOptions{})
			err := L.DoString(script)
			if err == nil {
				t.Fatalf("the script ran: %v", L.Get(-1))
			}
			if strings.Contains(err.Error(), srv.AdminKey()) {
				t.Error("the error shows the key")
			}
		})
	}
}

// TestSandboxReachesNoUnsafeFunction walks every value reachable from the
// globals (tables, and the string metatable) and checks that none of the
// functions a sandbox leaves out is among them.
func TestSandboxReachesNoUnsafeFunction(t *testing.T) {
	t.Parallel()
	full := lua.NewState()
	defer full.Close()
	unsafe := map[uintptr]string{}
	for _, lib := range []string{"os", "io", "debug", "package"} {
		full.GetGlobal(lib).(*lua.LTable).ForEach(func(k, v lua.LValue) {
			if f, ok := v.(*lua.LFunction); ok && f.IsG {
				unsafe[reflect.ValueOf(f.GFunction).Pointer()] = lib + "." + k.String()
			}
		})
	}
	for _, name := range []string{"dofile", "loadfile", "load", "loadstring", "module", "require", "_printregs", "collectgarbage"} {
		if f, ok := full.GetGlobal(name).(*lua.LFunction); ok {
			unsafe[reflect.ValueOf(f.GFunction).Pointer()] = name
		}
	}
	if len(unsafe) < 40 {
		t.Fatalf("only %d unsafe functions found: the check would check little", len(unsafe))
	}

	srv := wandbtest.Start(t)
	L := sandboxFor(t, srv, SandboxOptions{AllowAPI: true})
	seen := map[lua.LValue]bool{}
	var walk func(v lua.LValue, path string)
	walk = func(v lua.LValue, path string) {
		if seen[v] {
			return
		}
		seen[v] = true
		switch x := v.(type) {
		case *lua.LFunction:
			if x.IsG {
				if name, bad := unsafe[reflect.ValueOf(x.GFunction).Pointer()]; bad {
					t.Errorf("%s is %s", path, name)
				}
			}
		case *lua.LTable:
			x.ForEach(func(k, val lua.LValue) { walk(val, path+"."+k.String()) })
			if mt, ok := x.Metatable.(*lua.LTable); ok {
				walk(mt, path+"<metatable>")
			}
		}
	}
	walk(L.G.Global, "_G")
	walk(L.GetMetatable(lua.LString("")), "<string metatable>")
	if !seen[L.GetGlobal("wandb")] {
		t.Error("the walk did not reach the module")
	}
}

func TestSandboxModule(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	L := sandboxFor(t, srv, SandboxOptions{})
	if err := L.DoString(`
		local w = require("wandb")
		assert(w == wandb, "require returns the module")
		me = assert(wandb.viewer()).email
		has_api = rawget(wandb, "api") ~= nil
		has_write = rawget(wandb, "write_private") ~= nil
		has_csv_files = rawget(wandb.csv, "read") ~= nil or rawget(wandb.csv, "write") ~= nil or rawget(wandb.json, "write") ~= nil
		assert(wandb.csv.parse("a\n1\n")[1].a == "1", "csv.parse is there")
	`); err != nil {
		t.Fatal(err)
	}
	if got := L.GetGlobal("me").String(); got != wandbtest.AdminEmail {
		t.Errorf("viewer = %s", got)
	}
	if L.GetGlobal("has_api") != lua.LFalse || L.GetGlobal("has_write") != lua.LFalse || L.GetGlobal("has_csv_files") != lua.LFalse {
		t.Error("wandb.api, wandb.write_private, wandb.csv.read, wandb.csv.write or wandb.json.write is there")
	}

	// AllowAPI: another identity, on this server only.
	key, err := srv.AddAPIKey("bob@example.com", "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	L = sandboxFor(t, srv, SandboxOptions{AllowAPI: true})
	L.SetGlobal("KEY", lua.LString(key))
	L.SetGlobal("URL", lua.LString(srv.URL))
	if err := L.DoString(`
		bob = assert(wandb.api{ api_key = KEY }):viewer().email
		same = assert(wandb.api{ api_key = KEY, base_url = URL .. "/" }):viewer().email
		local evil, err = wandb.api{ api_key = KEY, base_url = "https://evil.example.com" }
		assert(evil == nil, "another server")
		code, msg = err.code, err.message
	`); err != nil {
		t.Fatal(err)
	}
	if L.GetGlobal("bob").String() != "bob@example.com" || L.GetGlobal("same").String() != "bob@example.com" {
		t.Error("wandb.api on the same server did not work")
	}
	if L.GetGlobal("code").String() != "forbidden" || !strings.Contains(L.GetGlobal("msg").String(), "only for its own server") {
		t.Errorf("another server: %s %s", L.GetGlobal("code"), L.GetGlobal("msg"))
	}
	// The viewer, and bob twice; nothing went to the other server's name.
	if n := srv.Requests(""); n != 3 {
		t.Errorf("%d requests reached the server, want 3", n)
	}
}

func TestSandboxReadOnly(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	L := sandboxFor(t, srv, SandboxOptions{ReadOnly: true})
	if err := L.DoString(`
		local u, err = wandb.create_user("new@example.com")
		assert(u == nil and err.code == "read_only", tostring(err))
		local bob = assert(wandb.user("bob@example.com", { exact = true }))
		local ok, err2 = bob:delete_api_key(bob.api_keys[1])
		assert(not ok and err2.code == "read_only", tostring(err2))
		local ok3, err3 = bob:deactivate()
		assert(not ok3 and err3.code == "read_only", tostring(err3))
	`); err != nil {
		t.Fatal(WrapError(L, err))
	}
	for _, op := range []string{"CreateUserFromAdmin", "DeleteApiKey", "SCIMPatchUser"} {
		if n := srv.Requests(op); n != 0 {
			t.Errorf("%s sent %d times", op, n)
		}
	}
}

func TestSandboxLimits(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	L := sandboxFor(t, srv, SandboxOptions{CallStackSize: 50})
	err := L.DoString(`local function f(n) return 1 + f(n + 1) end return f(1)`)
	if err == nil || !strings.Contains(err.Error(), "stack overflow") {
		t.Errorf("runaway recursion: %v", err)
	}
	// The state still works after it.
	if err := L.DoString(`return 1 + 1`); err != nil {
		t.Errorf("after the overflow: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	L2 := NewSandbox(ctx, SandboxOptions{Client: newClient(t, srv.URL, srv.AdminKey())})
	defer L2.Close()
	err = L2.DoString(`while true do end`)
	if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
		t.Errorf("an endless loop: %v", err)
	}
}

// TestSandboxCapsWhatTheScriptAsksFor: a script cannot raise the response
// limit of its wandb.api objects, nor the concurrency of wandb.parallel,
// beyond what the embedder set; print goes where the embedder says.
func TestSandboxCapsWhatTheScriptAsksFor(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile), wandbtest.WithLatency(20*time.Millisecond))
	key, err := srv.AddAPIKey("bob@example.com", "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	L := sandboxFor(t, srv, SandboxOptions{AllowAPI: true, MaxResponseBytes: 64 << 10, MaxConcurrency: 2, Output: &out})
	L.SetGlobal("KEY", lua.LString(key))
	if err := L.DoString(`
		huge = wandb.api{ api_key = KEY, max_response = 2^62 }
		small = wandb.api{ api_key = KEY, max_response = "1KiB" }
		plain = wandb.api{ api_key = KEY }
		print("printed", 1, nil, huge ~= nil)
		-- Nested calls, 4 x 4 requests: never more than 2 in flight.
		local r = wandb.parallel({1, 2, 3, 4}, function()
			return #wandb.parallel({1, 2, 3, 4}, function() return #assert(wandb.users("a")) end, { concurrency = 16 })
		end, { concurrency = 100 })
		assert(#r == 4 and r[1] == 4)
	`); err != nil {
		t.Fatal(WrapError(L, err))
	}
	for name, want := range map[string]int64{"huge": 64 << 10, "small": 1 << 10, "plain": 64 << 10} {
		c, ok := toValue[wandb.Client](L.GetGlobal(name))
		if !ok || c.MaxResponseBytes() != want {
			t.Errorf("%s: max response %d, want %d", name, c.MaxResponseBytes(), want)
		}
	}
	if n := srv.MaxInFlight(); n > 2 {
		t.Errorf("%d requests in flight at once, want 2 at most", n)
	}
	if out.String() != "printed\t1\tnil\ttrue\n" {
		t.Errorf("print wrote %q", out.String())
	}

	// The defaults: the client's response limit; print goes nowhere; a
	// string of more than 64 MiB is refused.
	L = sandboxFor(t, srv, SandboxOptions{AllowAPI: true})
	L.SetGlobal("KEY", lua.LString(key))
	if err := L.DoString(`huge = wandb.api{ api_key = KEY, max_response = 2^62 } print("nowhere")`); err != nil {
		t.Fatal(err)
	}
	if c, _ := toValue[wandb.Client](L.GetGlobal("huge")); c.MaxResponseBytes() != wandb.DefaultMaxResponseBytes {
		t.Errorf("default: max response %d", c.MaxResponseBytes())
	}
	err = L.DoString(`local s = ("x"):rep(2^26 + 1)`)
	if err == nil || !strings.Contains(err.Error(), "resulting string too large (a string of 64 MiB; the limit is 64 MiB)") {
		t.Errorf("a string over 64 MiB: %v", err)
	}
}

// TestSandboxBoundsPlanApply: p:apply runs its changes concurrently
// inside one module call, so the embedder's MaxConcurrency must bound its
// concurrency as it bounds wandb.parallel's.
func TestSandboxBoundsPlanApply(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile), wandbtest.WithLatency(10*time.Millisecond))
	L := sandboxFor(t, srv, SandboxOptions{MaxConcurrency: 2})
	if err := L.DoString(`
		local users = {}
		for i = 1, 24 do users[i] = { email = "apply" .. i .. "@example.org" } end
		p = assert(wandb.plan{ users = users })
		assert(#p.changes == 24, #p.changes)
	`); err != nil {
		t.Fatal(WrapError(L, err))
	}
	srv.ResetMaxInFlight()
	if err := L.DoString(`
		for i, r in ipairs(p:apply{ concurrency = 64 }) do assert(r.ok, i .. ": " .. tostring(r.err)) end
	`); err != nil {
		t.Fatal(WrapError(L, err))
	}
	if n := srv.MaxInFlight(); n > 2 {
		t.Errorf("p:apply had %d requests in flight at once, want 2 at most", n)
	}
}

// TestSandboxStopsRunaways: the string functions and tail calls that
// once ran past any deadline stop at the sandbox's.
func TestSandboxStopsRunaways(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	for name, script := range map[string]string{
		"find": `return string.find(("a"):rep(5000) .. "b", ("a*"):rep(20) .. "c")`,
		"gsub": `return (("a"):rep(200000)):gsub(("a*"):rep(10) .. "b", "")`,
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		L := NewSandbox(ctx, SandboxOptions{Client: newClient(t, srv.URL, srv.AdminKey())})
		err := L.DoString(script)
		if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
			t.Errorf("%s: %v", name, err)
		}
		L.Close()
		cancel()
	}
	// A million tail calls take seconds under -race: a deadline that
	// leaves the limit to be met first.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	L := NewSandbox(ctx, SandboxOptions{Client: newClient(t, srv.URL, srv.AdminKey())})
	defer L.Close()
	err := L.DoString(`local function f(n) return f(n + 1) end return f(1)`)
	if err == nil || !strings.Contains(err.Error(), "stack overflow (more than 1000000 levels of calls, tail calls included)") {
		t.Errorf("tail calls: %v", err)
	}
	// 200,000 characters through gsub: done in one pass.
	if err := L.DoString(`local s, n = (("ab"):rep(100000)):gsub("(a)(b)", "%2%1") assert(n == 100000 and s:sub(1, 4) == "baba")`); err != nil {
		t.Error(err)
	}
}

// TestToStringRedactsServerData: a server that puts the client's key in
// its data does not get it shown by tostring of a user, team or member,
// nor by an error naming it.
func TestToStringRedactsServerData(t *testing.T) {
	t.Parallel()
	key := strings.Repeat("5ec7e7", 7)
	srv := wandbtest.Start(t, wandbtest.WithSeed(wandbtest.Seed{
		Users: []wandbtest.SeedUser{
			{Email: "root@example.com", Admin: true, Keys: []wandbtest.SeedKey{{Description: "own", Secret: key}}},
			{Email: key + "@x.com", Teams: []string{"t" + key}},
		},
	}))
	L := sandboxFor(t, srv, SandboxOptions{Client: newClient(t, srv.URL, key)})
	L.SetGlobal("KEY", lua.LString(key))
	if err := L.DoString(`
		local u = assert(wandb.user(KEY .. "@x.com"))
		local team = assert(wandb.team("t" .. KEY))
		local _, err = wandb.user("zz" .. KEY)
		shown = table.concat({tostring(u), "user " .. u, tostring(team), tostring(team.members[1]), tostring(err)}, "\n")
		email = u.email
	`); err != nil {
		t.Fatal(WrapError(L, err))
	}
	shown := L.GetGlobal("shown").String()
	if strings.Contains(shown, key[:20]) || !strings.Contains(shown, "<User [redacted]@x.com>") || !strings.Contains(shown, "<Team t[redacted]>") {
		t.Errorf("shown:\n%s", wandbtest.MaskSecrets(shown))
	}
	if L.GetGlobal("email").String() != key+"@x.com" {
		t.Error("the data itself changed")
	}
}
