package luamod

import (
	"context"
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
)

// Teams and their members as Lua sees them: wandb.team(name) and
// wandb.create_team(name[, admin_username]) (and the same api methods)
// return a Team; t.members is an array of Members.

// Type names of Team and Member values in messages, and the registry keys of
// their metatables.
const (
	teamTypeName   = "wandb.Team"
	memberTypeName = "wandb.Member"
)

// Fields of Teams and Members, for error messages.
const (
	teamFields = "name, id, members, dry_run, read_only, read_only_admin, private_only, default_access, storage_bytes, entity_type, is_paid, code_saving_enabled, " +
		"reload, invite, create_service_account, add_member, remove_member, set_role"
	memberFields = "id, name, username, email, role, team_admin, admin, pending, account_type, api_key, team, dry_run, delete"
)

// team is team(name): the Team, or nil, err.
func team(L *lua.LState, op wandb.Op, c *wandb.Client) request {
	name := checkString(L, 1, string(op))
	return func(ctx context.Context) result {
		t, err := c.Team(ctx, name)
		return valueResult(op, t, err, newTeam)
	}
}

// teams is teams(): every team of the instance, an array of Teams, or
// nil, err; a server that does not page gives the teams it listed with an
// error beside them (wandb.Client.Teams).
func teams(_ *lua.LState, op wandb.Op, c *wandb.Client) request {
	return func(ctx context.Context) result {
		list, err := c.Teams(ctx)
		return listResult(op, list, err, newTeamArray)
	}
}

// newTeamArray returns the Lua array of the values for list.
func newTeamArray(L *lua.LState, list []*wandb.Team) *lua.LTable {
	t := L.CreateTable(len(list), 0)
	for _, tm := range list {
		t.Append(newTeam(L, tm))
	}
	return t
}

// createTeam is create_team(name[, admin_username]): the new Team, or nil,
// err.
func createTeam(L *lua.LState, op wandb.Op, c *wandb.Client) request {
	name := checkString(L, 1, string(op))
	admin := optString(L, 2, string(op), "")
	return func(ctx context.Context) result {
		t, err := c.CreateTeam(ctx, name, admin)
		return valueResult(op, t, err, newTeam)
	}
}

// newTeam returns the Lua value for t.
func newTeam(L *lua.LState, t *wandb.Team) lua.LValue {
	return newValue(L, teamTypeName, t)
}

// newMember returns the Lua value for m.
func newMember(L *lua.LState, m *wandb.Member) lua.LValue {
	return newValue(L, memberTypeName, m)
}

// Teams and Members as the receivers of their methods.
var (
	teamSelf   = selfType[*wandb.Team]{teamTypeName, "t", "get one from wandb.team or wandb.create_team", toValue[wandb.Team]}
	memberSelf = selfType[*wandb.Member]{memberTypeName, "m", "get one from t.members, t:invite or t:create_service_account", toValue[wandb.Member]}
)

// teamMethods returns the Team methods, by name.
func teamMethods() map[string]lua.LGFunction {
	return teamSelf.bind(map[string]call[*wandb.Team]{
		"reload":                 teamReload,
		"invite":                 teamInvite,
		"create_service_account": teamCreateServiceAccount,
		"add_member":             teamAddMember,
		"remove_member":          teamRemoveMember,
		"set_role":               teamSetRole,
	})
}

// memberMethods returns the Member methods, by name.
func memberMethods() map[string]lua.LGFunction {
	return memberSelf.bind(map[string]call[*wandb.Member]{"delete": memberDelete})
}

// registerTeamTypes creates the metatables of Teams and Members.
func registerTeamTypes(L *lua.LState) {
	teamM := L.NewTable()
	L.SetFuncs(teamM, teamMethods())
	// Two values for the same team are equal, whichever call fetched them.
	registerType(L, teamTypeName, teamIndex, teamM, identity(toValue[wandb.Team], "<Team ???>",
		func(a, b *wandb.Team) bool { return a.ID == b.ID }))
	memberM := L.NewTable()
	L.SetFuncs(memberM, memberMethods())
	// Two values for the same member of the same team are equal.
	registerType(L, memberTypeName, memberIndex, memberM, identity(toValue[wandb.Member], "<Member ???>",
		func(a, b *wandb.Member) bool { return a.ID != "" && a.ID == b.ID && a.Team().ID == b.Team().ID }))
}

// teamIndex reads a field of a Team. Each read of members returns a fresh
// array of the members the last load saw.
func teamIndex(L *lua.LState) int {
	t := teamSelf.indexed(L)
	switch k := key(L); k {
	case "name":
		L.Push(lua.LString(t.Name))
	case "id":
		L.Push(lua.LString(t.ID))
	case "dry_run":
		L.Push(lua.LBool(t.DryRun))
	case "members":
		ms := t.Members()
		arr := L.CreateTable(len(ms), 0)
		for _, m := range ms {
			arr.Append(newMember(L, m))
		}
		L.Push(arr)
	case "read_only", "read_only_admin", "private_only", "default_access", "storage_bytes", "entity_type", "is_paid", "code_saving_enabled":
		L.Push(teamInfoField(t.Info(), k))
	default:
		L.Push(method(L, k, teamTypeName, teamFields))
	}
	return 1
}

// teamInfoField returns field k of info, nil where the server gave null.
func teamInfoField(info wandb.TeamInfo, k string) lua.LValue {
	switch k {
	case "read_only":
		return optBoolValue(info.ReadOnly)
	case "read_only_admin":
		return lua.LBool(info.ReadOnlyAdmin)
	case "private_only":
		return lua.LBool(info.PrivateOnly)
	case "default_access":
		return lua.LString(info.DefaultAccess)
	case "storage_bytes":
		return lua.LNumber(info.StorageBytes)
	case "entity_type":
		return optStringValue(info.EntityType)
	case "is_paid":
		return optBoolValue(info.IsPaid)
	default: // code_saving_enabled
		return lua.LBool(info.CodeSavingEnabled)
	}
}

// memberIndex reads a field of a Member.
func memberIndex(L *lua.LState) int {
	m := memberSelf.indexed(L)
	switch k := key(L); k {
	case "id":
		L.Push(lua.LString(m.ID))
	case "name":
		L.Push(lua.LString(m.Name))
	case "username":
		L.Push(optStringValue(m.Username))
	case "email":
		L.Push(optStringValue(m.Email))
	case "team_admin", "admin": // admin: the older name
		L.Push(optBoolValue(m.Admin))
	case "role":
		L.Push(roleValue(m.Role()))
	case "pending":
		L.Push(optBoolValue(m.Pending))
	case "account_type":
		L.Push(optStringValue(m.AccountType))
	case "api_key":
		// Only the Member t:create_service_account returned has one.
		if key, ok := m.APIKey(); ok {
			L.Push(lua.LString(key))
		} else {
			L.Push(lua.LNil)
		}
	case "team":
		L.Push(newTeam(L, m.Team()))
	case "dry_run":
		L.Push(lua.LBool(m.DryRun))
	default:
		L.Push(method(L, k, memberTypeName, memberFields))
	}
	return 1
}

// teamReload is t:reload(): true, or false, err.
func teamReload(_ *lua.LState, op wandb.Op, t *wandb.Team) request {
	return okRequest(op, t.Reload)
}

// teamInvite is t:invite(who[, role]): the invitation as a pending
// Member, or nil, err. who is a person (see checkPerson): an email is
// invited by address, a username, User or Member by username (else
// email). An invitation can make a team admin or a member: another role
// is an error before anything is sent.
func teamInvite(L *lua.LState, op wandb.Op, t *wandb.Team) request {
	who := checkPerson(L, 1, string(op))
	role := checkRole(L, 2, string(op), false)
	return func(ctx context.Context) result {
		var admin bool
		switch role {
		case "", wandb.RoleMember:
		case wandb.RoleAdmin:
			admin = true
		default:
			return valueResult(op, nil, &wandb.Error{Code: wandb.CodeInvalidArgument, Message: fmt.Sprintf(
				"an invitation makes a team admin or a member, not %q: invite them as a member, then give them the role with t:set_role once they have joined", role)}, newMember)
		}
		invitee, err := who.invitee(op)
		if err != nil {
			return valueResult(op, nil, err, newMember)
		}
		m, err := t.Invite(ctx, invitee, admin)
		return valueResult(op, m, err, newMember)
	}
}

// teamCreateServiceAccount is t:create_service_account(description): the
// new service account as a Member, or nil, err. Its api_key is the
// account's API key when the server gave one (see
// wandb.Member.APIKey), nil otherwise.
func teamCreateServiceAccount(L *lua.LState, op wandb.Op, t *wandb.Team) request {
	desc := checkString(L, 1, string(op))
	return func(ctx context.Context) result {
		m, err := t.CreateServiceAccount(ctx, desc)
		return valueResult(op, m, err, newMember)
	}
}

// memberDelete is m:delete(): true, or false, err.
func memberDelete(_ *lua.LState, op wandb.Op, m *wandb.Member) request {
	return okRequest(op, m.Delete)
}

// optBoolValue converts a nullable boolean field: nil gives Lua nil.
func optBoolValue(b *bool) lua.LValue {
	if b == nil {
		return lua.LNil
	}
	return lua.LBool(*b)
}

// teamAddMember is t:add_member(who[, role]): true, or false, err. who is
// a person, looked up as a User unless it is one.
func teamAddMember(L *lua.LState, op wandb.Op, t *wandb.Team) request {
	who := checkPerson(L, 1, string(op))
	role := checkRole(L, 2, string(op), false)
	return okRequest(op, func(ctx context.Context) error {
		u, err := who.lookup(ctx, t.Client())
		if err != nil {
			return err
		}
		return t.AddMember(ctx, u, role)
	})
}

// teamRemoveMember is t:remove_member(who): true, or false, err.
func teamRemoveMember(L *lua.LState, op wandb.Op, t *wandb.Team) request {
	who := checkPerson(L, 1, string(op))
	return okRequest(op, func(ctx context.Context) error {
		u, err := who.lookup(ctx, t.Client())
		if err != nil {
			return err
		}
		return t.RemoveMember(ctx, u)
	})
}

// teamSetRole is t:set_role(who, role): true, or false, err.
func teamSetRole(L *lua.LState, op wandb.Op, t *wandb.Team) request {
	who := checkPerson(L, 1, string(op))
	role := checkRole(L, 2, string(op), true)
	return okRequest(op, func(ctx context.Context) error {
		u, err := who.lookup(ctx, t.Client())
		if err != nil {
			return err
		}
		return t.SetRole(ctx, u, role)
	})
}
