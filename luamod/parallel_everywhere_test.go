package luamod

import (
	"slices"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// Requests overlap wherever an item makes them. Each case runs four items
// at concurrency 4 against a gated server that answers no request until
// four wait in it at once: a call that blocked the other items would hold
// the run until the test's timeout.

func TestEveryNetworkFunctionOverlapsInsideParallel(t *testing.T) {
	t.Parallel()
	const conc = 4
	cases := []struct{ name, fn, want string }{
		{"wandb.viewer", `return assert(wandb.viewer()).email`, "admin@example.com"},
		{"wandb.user", `return assert(wandb.user("u" .. x .. "@example.com")).email`, "u?@example.com"},
		{"wandb.users", `return #assert(wandb.users("u" .. x .. "@"))`, "1"},
		{"wandb.create_user", `return assert(wandb.create_user("new" .. x .. "@example.com")).email`, "new?@example.com"},
		{"api:viewer", `return assert(api():viewer()).email`, "admin@example.com"},
		{"api:user", `return assert(api():user("u" .. x .. "@example.com")).email`, "u?@example.com"},
		{"api:users", `return #assert(api():users("u" .. x .. "@"))`, "1"},
		{"api:create_user", `return assert(api():create_user("new" .. x .. "@example.com")).email`, "new?@example.com"},
		{"u:generate_api_key", `return #assert(me:generate_api_key("k" .. x))`, "40"},
		{"u:delete_api_key", `return assert(me:delete_api_key(names[x]))`, "true"},
		{"wandb.users with status", `return tostring(assert(wandb.users("u" .. x .. "@", { status = true }))[1].active)`, "true"},
		{"api:users with status", `return tostring(assert(api():users("u" .. x .. "@", { status = true }))[1].active)`, "true"},
		{"wandb.team", `return assert(wandb.team("t" .. x)).name`, "t?"},
		{"wandb.teams", `return #assert(wandb.teams())`, "4"},
		{"api:teams", `return #assert(api():teams())`, "4"},
		{"wandb.create_team", `return assert(wandb.create_team("new" .. x)).name`, "new?"},
		{"api:team", `return assert(api():team("t" .. x)).name`, "t?"},
		{"api:create_team", `return assert(api():create_team("new" .. x)).name`, "new?"},
		{"wandb.plan", `return #assert(wandb.plan{ users = { { email = "u" .. x .. "@example.com" } } }).changes`, "0"},
		{"api:plan", `return #assert(api():plan{ users = { { email = "p" .. x .. "@example.com" } } }).changes`, "1"},
		{"t:reload", `return assert(teams[x]:reload())`, "true"},
		{"t:invite", `return assert(teams[x]:invite("y" .. x .. "@example.org")).email`, "y?@example.org"},
		{"t:create_service_account", `return assert(teams[x]:create_service_account("bot" .. x)).name`, "bot?"},
		{"m:delete", `return assert(invites[x]:delete())`, "true"},
		{"u:deactivate", `return assert(users[x]:deactivate())`, "true"},
		{"u:reactivate", `return assert(users[x]:reactivate())`, "true"},
		{"u:delete", `return assert(users[x]:delete())`, "true"},
		{"u:set_role", `return assert(users[x]:set_role("member"))`, "true"},
		{"u:status", `return tostring(assert(users[x]:status()).active)`, "true"},
		{"t:add_member", `return assert(teams[x]:add_member(users[x]))`, "true"},
		{"t:remove_member", `return assert(teams[x]:remove_member(users[x]))`, "true"},
		{"t:set_role", `return assert(teams[x]:set_role(users[x], "admin"))`, "true"},
		{"p:apply", `local r = plans[x]:apply() return r[1].op .. " " .. r[1].target .. " " .. tostring(r[1].ok)`, "create_user q?@example.com true"},
	}
	// These calls make requests of their own at once (teams loads teams
	// concurrently; users with status lists SCIM while it searches), so
	// more than conc may be held.
	fanOut := map[string]bool{"wandb.users with status": true, "api:users with status": true, "wandb.teams": true, "api:teams": true}
	// Every network function of the module is in the table above.
	var names []string
	for _, c := range cases {
		names = append(names, c.name)
	}
	for name := range clientFuncs() {
		for _, want := range []string{"wandb." + name, "api:" + name} {
			if !slices.Contains(names, want) {
				t.Errorf("%s is not tested here", want)
			}
		}
	}
	for prefix, methods := range map[string]map[string]lua.LGFunction{"u:": userMethods(), "t:": teamMethods(), "m:": memberMethods(), "p:": planMethods()} {
		for name := range methods {
			if !slices.Contains(names, prefix+name) {
				t.Errorf("%s%s is not tested here", prefix, name)
			}
		}
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newGatedServer(t, 1) // open for the set-up
			addUsers(t, g, conc)
			L, _ := gatedState(t, g)
			L.SetGlobal("key", lua.LString(g.AdminKey()))
			// A client caches its viewer: the set-up leaves the module's
			// client alone, and api() makes a fresh one for each call.
			if err := L.DoString(`
				function api() return assert(wandb.api{ api_key = key }) end
				me = assert(api():viewer())
				names, teams, invites, users, plans = {}, {}, {}, {}, {}
				for i = 1, ` + itoa(conc) + ` do
					local secret = assert(me:generate_api_key("old" .. i))
					names[i] = secret:sub(1, #secret - 20)
					teams[i] = assert(wandb.create_team("t" .. i))
					invites[i] = assert(teams[i]:invite("x" .. i .. "@example.org"))
					-- through another client: the module's must not cache its viewer
					users[i] = assert(api():user("u" .. i .. "@example.com"))
					assert(api():team("t" .. i):add_member(users[i]))
					plans[i] = assert(api():plan{ users = { { email = "q" .. i .. "@example.com" } } })
				end
			`); err != nil {
				t.Fatal(err)
			}
			g.rearm(conc)
			if err := L.DoString(`
				local r = wandb.parallel({1, 2, 3, 4}, function(x) ` + tc.fn + ` end, { concurrency = ` + itoa(conc) + ` })
				for i = 1, 4 do r[i] = tostring(r[i]) end
				out = table.concat(r, ",")
			`); err != nil {
				t.Fatal(WrapError(L, err))
			}
			var want []string
			for i := 1; i <= conc; i++ {
				want = append(want, strings.ReplaceAll(tc.want, "?", itoa(i)))
			}
			if got := L.GetGlobal("out").String(); got != strings.Join(want, ",") {
				t.Errorf("results = %q, want %q", got, strings.Join(want, ","))
			}
			if got := g.maxInside(); got != conc && !(fanOut[tc.name] && got > conc) {
				t.Errorf("server held at most %d requests at once, want %d", got, conc)
			}
		})
	}
}

func TestRequestsOverlapEverywhereInsideParallel(t *testing.T) {
	t.Parallel()
	// fetch(x) is a request (wandb.user) that returns x; each case makes
	// one such request per item from inside the construct it names.
	const fetch = `local function fetch(v) assert(wandb.user("u" .. v .. "@example.com")) return v end `
	for _, tc := range []struct {
		name string
		fn   string // the body of fn(x), after fetch's definition
		want string // the results, joined with ","
	}{
		{"plain call", `return fetch(x)`, "1,2,3,4"},
		{"builtin pcall", `local ok, v = pcall(fetch, x) return tostring(ok) .. v`, "true1,true2,true3,true4"},
		{"builtin xpcall", `local ok, v = xpcall(function() return fetch(x) end, debug.traceback) return tostring(ok) .. v`, "true1,true2,true3,true4"},
		{"pcall of the module function", `local ok, u = pcall(wandb.user, "u" .. x .. "@example.com") return ok and u.email`, "u1@example.com,u2@example.com,u3@example.com,u4@example.com"},
		{"pcall inside pcall", `local ok, ok2, v = pcall(pcall, fetch, x) return v`, "1,2,3,4"},
		{"error caught by pcall after a request", `local ok, e = pcall(function() fetch(x) error("e" .. x, 0) end) return e`, "e1,e2,e3,e4"},
		{"__index", `local t = setmetatable({}, { __index = function(_, k) return fetch(k) end }) return t[x]`, "1,2,3,4"},
		{"__newindex", `local got local t = setmetatable({}, { __newindex = function(_, k, v) got = fetch(v) end }) t.a = x return got`, "1,2,3,4"},
		{"__call", `local o = setmetatable({}, { __call = function(_, y) return fetch(y) end }) return o(x)`, "1,2,3,4"},
		{"__add", `local m = { __add = function(a, b) return fetch(b) end } return setmetatable({}, m) + x`, "1,2,3,4"},
		{"__sub", `local m = { __sub = function(a, b) return fetch(b) end } return setmetatable({}, m) - x`, "1,2,3,4"},
		{"__mul", `local m = { __mul = function(a, b) return fetch(b) end } return setmetatable({}, m) * x`, "1,2,3,4"},
		{"__div", `local m = { __div = function(a, b) return fetch(b) end } return setmetatable({}, m) / x`, "1,2,3,4"},
		{"__mod", `local m = { __mod = function(a, b) return fetch(b) end } return setmetatable({}, m) % x`, "1,2,3,4"},
		{"__pow", `local m = { __pow = function(a, b) return fetch(b) end } return setmetatable({}, m) ^ x`, "1,2,3,4"},
		{"__unm", `local o = setmetatable({}, { __unm = function() return fetch(x) end }) return -o`, "1,2,3,4"},
		{"__len", `local o = setmetatable({}, { __len = function() return fetch(x) end }) return #o`, "1,2,3,4"},
		{"__concat", `local o = setmetatable({}, { __concat = function(a, b) return fetch(b) end }) return o .. x`, "1,2,3,4"},
		{"__eq", `local m = { __eq = function() return fetch(x) == 2 end } return tostring(setmetatable({}, m) == setmetatable({}, m))`, "false,true,false,false"},
		{"__lt", `local m = { __lt = function() return fetch(x) == 2 end } return tostring(setmetatable({}, m) < setmetatable({}, m))`, "false,true,false,false"},
		{"__le", `local m = { __le = function() return fetch(x) == 2 end } return tostring(setmetatable({}, m) <= setmetatable({}, m))`, "false,true,false,false"},
		{"__tostring", `local o = setmetatable({}, { __tostring = function() return "o" .. fetch(x) end }) return tostring(o)`, "o1,o2,o3,o4"},
		{"for-in iterator", `local function it(_, c) if c then return nil end return fetch(x) end for v in it do return v end`, "1,2,3,4"},
		{"ipairs body", `local s = 0 for _, v in ipairs({x}) do s = s + fetch(v) end return s`, "1,2,3,4"},
		{"table.sort comparator", `local t = { 3, 1, 2 } local first = true table.sort(t, function(a, b) if first then first = false fetch(x) end return a < b end) return t[1] .. t[2] .. t[3] .. x`, "1231,1232,1233,1234"},
		{"string.gsub callback", `return (string.gsub("a-b", "a", function() return fetch(x) end))`, "1-b,2-b,3-b,4-b"},
		{"require'd module", `package.preload["m" .. x] = function() return fetch(x) end return require("m" .. x)`, "1,2,3,4"},
		{"loadstring chunk", `return loadstring("local fetch, x = ... return fetch(x)")(fetch, x)`, "1,2,3,4"},
		{"coroutine of the script", `local co = coroutine.create(function() coroutine.yield(fetch(x)) end) local _, v = coroutine.resume(co) return v`, "1,2,3,4"},
		{"coroutine.wrap", `return coroutine.wrap(function() return fetch(x) end)()`, "1,2,3,4"},
		{"nested parallel", `return wandb.parallel({x}, function(y) return fetch(y) end)[1]`, "1,2,3,4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGatedServer(t, 1)
			addUsers(t, g, 4)
			L, _ := gatedState(t, g)
			g.rearm(4)
			if err := L.DoString(`
				local r = wandb.parallel({1, 2, 3, 4}, function(x) ` + fetch + tc.fn + ` end, { concurrency = 4 })
				for i = 1, 4 do r[i] = tostring(r[i]) end
				out = table.concat(r, ",")
			`); err != nil {
				t.Fatal(WrapError(L, err))
			}
			if got := L.GetGlobal("out").String(); got != tc.want {
				t.Errorf("results = %q, want %q", got, tc.want)
			}
			if got := g.maxInside(); got != 4 {
				t.Errorf("requests in flight at once = %d, want 4", got)
			}
			if got := g.Requests("SearchUsers"); got != 4 {
				t.Errorf("requests = %d, want 4", got)
			}
		})
	}
}

func TestNestedParallelOverlaps(t *testing.T) {
	t.Parallel()
	// Two outer items, each running an inner parallel of two items at
	// concurrency 2: four requests in flight at once.
	g := newGatedServer(t, 1)
	addUsers(t, g, 4)
	L, _ := gatedState(t, g)
	g.rearm(4)
	if err := L.DoString(`
		local r = wandb.parallel({1, 2}, function(x)
			local inner = wandb.parallel({2 * x - 1, 2 * x}, function(y)
				return assert(wandb.user("u" .. y .. "@example.com")).email
			end, { concurrency = 2 })
			return inner[1] .. "+" .. inner[2]
		end, { concurrency = 2 })
		out = table.concat(r, ",")
	`); err != nil {
		t.Fatal(WrapError(L, err))
	}
	if got, want := L.GetGlobal("out").String(), "u1@example.com+u2@example.com,u3@example.com+u4@example.com"; got != want {
		t.Errorf("results = %q, want %q", got, want)
	}
	if got := g.maxInside(); got != 4 {
		t.Errorf("requests in flight at once = %d, want 4", got)
	}
	// An inner failure is raised in its outer item, which "raise" passes on.
	g.rearm(1)
	err := L.DoString(`
		wandb.parallel({1, 2}, function(x)
			return wandb.parallel({x}, function(y)
				return assert(wandb.user("nobody" .. y .. "@example.com"))
			end)
		end, { concurrency = 1 })
	`)
	se, ok := WrapError(L, err).(*ScriptError)
	if !ok || se.Item != 1 || se.Err == nil || se.Err.Code != "not_found" {
		t.Fatalf("error = %v, want item 1's not_found", err)
	}
	if want := "wandb.parallel: item 1: wandb.parallel: item 1: wandb: user: "; !strings.HasPrefix(se.Value, want) {
		t.Errorf("message %q does not start with %q", se.Value, want)
	}
}
