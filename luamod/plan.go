package luamod

import (
	"context"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
)

// Desired-state plans as Lua sees them: wandb.plan(desired) reads the
// server and returns a Plan; tostring(p) is its diff, p.changes its
// changes, p:apply([{concurrency = n}]) makes them.

// planTypeName is the type name of Plan values.
const planTypeName = "wandb.Plan"

// planFields lists a Plan's fields, for error messages; desiredFields
// the fields of a desired state.
const (
	planFields    = "changes, apply"
	desiredFields = "users, memberships, teams, withdraw, prune"
)

// plan is plan(desired): the Plan, or nil, err. desired is a table:
//
//	{users = {{email = ..., admin = true|false, active = false}, ...},
//	 memberships = {{email = ..., team = ..., role = "admin"|"member"}, ...},
//	 teams = {"name", ...}, withdraw = {{team = ..., email = ...}, ...},
//	 prune = true}
func plan(L *lua.LState, op wandb.Op, c *wandb.Client) request {
	want := checkDesired(L, 1, string(op))
	return func(ctx context.Context) result {
		p, err := c.Plan(ctx, want)
		return func(L *lua.LState) (lua.LValue, lua.LValue) {
			if err != nil {
				return lua.LNil, newError(L, op, err)
			}
			return newValue(L, planTypeName, p), lua.LNil
		}
	}
}

// checkDesired reads argument n of fname as a desired state; a mistake
// in it raises, naming the field.
func checkDesired(L *lua.LState, n int, fname string) wandb.Desired {
	t, ok := L.Get(n).(*lua.LTable)
	if !ok {
		argError(L, n, fname, "table expected, got "+typeName(L, n))
	}
	var want wandb.Desired
	bad := func(format string, args ...any) { argError(L, n, fname, fmt.Sprintf(format, args...)) }
	rows := func(name string, read func(path string, row *lua.LTable)) {
		v := t.RawGetString(name)
		if v == lua.LNil {
			return
		}
		list, ok := v.(*lua.LTable)
		if !ok {
			bad("%s must be an array, got %s", name, valueTypeName(L, v))
		}
		for i := 1; i <= list.Len(); i++ {
			path := fmt.Sprintf("%s[%d]", name, i)
			row, ok := list.RawGetInt(i).(*lua.LTable)
			if !ok {
				bad("%s must be a table, got %s", path, valueTypeName(L, list.RawGetInt(i)))
			}
			read(path, row)
		}
	}
	field := func(path string, row *lua.LTable, known ...string) {
		row.ForEach(func(k, _ lua.LValue) {
			s, _ := k.(lua.LString)
			for _, name := range known {
				if string(s) == name {
					return
				}
			}
			bad("%s has an unknown field %s (known: %s)", path, quoteLua(k), strings.Join(known, ", "))
		})
	}
	str := func(path, name string, row *lua.LTable, required bool) string {
		switch v := row.RawGetString(name).(type) {
		case lua.LString:
			return string(v)
		case *lua.LNilType:
			if required {
				bad("%s.%s must be a string, got nil", path, name)
			}
			return ""
		default:
			bad("%s.%s must be a string, got %s", path, name, valueTypeName(L, v))
		}
		return ""
	}
	optBoolField := func(path, name string, row *lua.LTable) *bool {
		switch v := row.RawGetString(name).(type) {
		case lua.LBool:
			b := bool(v)
			return &b
		case *lua.LNilType:
			return nil
		default:
			bad("%s.%s must be a boolean or nil, got %s", path, name, valueTypeName(L, v))
		}
		return nil
	}
	rows("users", func(path string, row *lua.LTable) {
		field(path, row, "email", "admin", "active")
		want.Users = append(want.Users, wandb.DesiredUser{Email: str(path, "email", row, true),
			Admin: optBoolField(path, "admin", row), Active: optBoolField(path, "active", row)})
	})
	rows("memberships", func(path string, row *lua.LTable) {
		field(path, row, "email", "team", "role")
		want.Memberships = append(want.Memberships, wandb.DesiredMembership{Email: str(path, "email", row, true),
			Team: str(path, "team", row, true), Role: str(path, "role", row, false)})
	})
	rows("withdraw", func(path string, row *lua.LTable) {
		field(path, row, "email", "team")
		want.Withdraw = append(want.Withdraw, wandb.Invitation{Email: str(path, "email", row, true), Team: str(path, "team", row, true)})
	})
	if v := t.RawGetString("teams"); v != lua.LNil {
		want.Teams = checkStringArray(L, n, fname, "teams", v)
	}
	switch v := t.RawGetString("prune").(type) {
	case lua.LBool:
		want.Prune = bool(v)
	case *lua.LNilType:
	default:
		bad("prune must be a boolean, got %s", valueTypeName(L, v))
	}
	field("the desired state", t, strings.Split(desiredFields, ", ")...)
	return want
}

// planSelf is a Plan as the receiver of its method.
var planSelf = selfType[*wandb.Plan]{planTypeName, "p", "get one from wandb.plan", toValue[wandb.Plan]}

// planMethods returns the Plan methods, by name.
func planMethods() map[string]lua.LGFunction {
	return planSelf.bind(map[string]call[*wandb.Plan]{"apply": planApply})
}

// registerPlanType creates the metatable of Plan values.
func registerPlanType(L *lua.LState) {
	methods := L.NewTable()
	L.SetFuncs(methods, planMethods())
	registerType(L, planTypeName, planIndex, methods, identity(toValue[wandb.Plan], "<wandb.Plan ???>",
		func(a, b *wandb.Plan) bool { return a == b }))
}

// planIndex reads a field of a Plan: changes is a fresh array of
// {op, target, team, details, why} on each read.
func planIndex(L *lua.LState) int {
	p := planSelf.indexed(L)
	switch k := key(L); k {
	case "changes":
		t := L.CreateTable(len(p.Changes), 0)
		for _, c := range p.Changes {
			t.Append(changeTable(L, c))
		}
		L.Push(t)
	default:
		L.Push(method(L, k, planTypeName, planFields))
	}
	return 1
}

// changeTable returns c as {op, target, team, details, why}; team is nil
// for a change that concerns no team.
func changeTable(L *lua.LState, c wandb.PlannedChange) *lua.LTable {
	t := L.CreateTable(0, 5)
	t.RawSetString("op", lua.LString(c.Op))
	t.RawSetString("target", lua.LString(c.Target))
	if c.Team != "" {
		t.RawSetString("team", lua.LString(c.Team))
	}
	t.RawSetString("details", lua.LString(c.Details))
	t.RawSetString("why", lua.LString(c.Why))
	return t
}

// planApply is p:apply([{concurrency = n}]): an array with a result per
// change, in the plan's order: the change's fields and ok = true, or ok
// = false and err. Its changes go out concurrently under one netcall, so
// the embedder's MaxConcurrency (family.maxConcurrency), which bounds the
// requests wandb.parallel has in flight, lowers concurrency as it lowers
// wandb.parallel's: without it a sandboxed script could send up to 256 at
// once.
func planApply(L *lua.LState, op wandb.Op, p *wandb.Plan) request {
	concurrency := defaultConcurrency
	forOptions(L, 1, string(op), func(k string, v lua.LValue) bool {
		if k != "concurrency" {
			return false
		}
		concurrency = checkConcurrency(L, 1, string(op), v)
		return true
	}, `"concurrency"`)
	if f := familyOf(L); f != nil && f.maxConcurrency > 0 {
		concurrency = min(concurrency, f.maxConcurrency) // the embedder's limit
	}
	return func(ctx context.Context) result {
		results := p.Apply(ctx, concurrency)
		return func(L *lua.LState) (lua.LValue, lua.LValue) {
			t := L.CreateTable(len(results), 0)
			for _, r := range results {
				rt := changeTable(L, r.Change)
				rt.RawSetString("ok", lua.LBool(r.Err == nil))
				if r.Err != nil {
					rt.RawSetString("err", newError(L, r.Change.Op, r.Err))
				}
				t.Append(rt)
			}
			return t, lua.LNil
		}
	}
}
