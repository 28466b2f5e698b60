package luamod

import (
	"context"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
)

// userTypeName is the type name of User values in messages and the
// registry key of their metatable.
const userTypeName = "wandb.User"

// userFields lists the readable fields of a User for error messages.
const userFields = "id, name, username, email, instance_admin, admin, entity, deleted_at, api_keys, keys, teams, user_api, dry_run, " +
	"active, created_at, days_active, last_active_at, generate_api_key, delete_api_key, deactivate, reactivate, delete, set_role, status"

// userValue is the Value of a User userdata: the user and the Lua values
// of its string fields, boxed on first read and kept, so reading a field
// again allocates nothing here.
type userValue struct {
	u     *wandb.User
	boxed [numBoxed]lua.LValue
}

// Indexes into userValue.boxed.
const (
	boxedID = iota
	boxedName
	boxedUsername
	boxedEmail
	boxedEntity
	boxedDeletedAt
	numBoxed
)

// field returns the boxed Lua value of string field i, s its value.
func (v *userValue) field(i int, s *string) lua.LValue {
	if b := v.boxed[i]; b != nil {
		return b
	}
	b := optStringValue(s)
	v.boxed[i] = b
	return b
}

// newUser returns the Lua value for u.
func newUser(L *lua.LState, u *wandb.User) lua.LValue {
	return newValue(L, userTypeName, &userValue{u: u})
}

// userBox is a User's userdata with its Value: one allocation.
type userBox struct {
	ud lua.LUserData
	uv userValue
}

// newUserArray returns the Lua array of the values for list, made as
// newUser makes each (the same environment and metatable) at a fraction
// of the cost: users() may list 200,000 users.
func newUserArray(L *lua.LState, list []*wandb.User) *lua.LTable {
	t := L.CreateTable(len(list), 0)
	if len(list) == 0 {
		return t
	}
	proto := newValue(L, userTypeName, &userValue{u: list[0]})
	t.Append(proto)
	for _, u := range list[1:] {
		b := &userBox{uv: userValue{u: u}}
		b.ud = lua.LUserData{Value: &b.uv, Env: proto.Env, Metatable: proto.Metatable}
		t.Append(&b.ud)
	}
	return t
}

// toUser returns the *wandb.User in v, if v is a User value.
func toUser(v lua.LValue) (*wandb.User, bool) {
	if uv, ok := toValue[userValue](v); ok && uv.u != nil {
		return uv.u, true
	}
	return nil, false
}

// userSelf is a User as the receiver of its methods.
var userSelf = selfType[*wandb.User]{userTypeName, "u", "get one from wandb.user, wandb.users, wandb.viewer or wandb.create_user", toUser}

// registerUserType creates the metatable of User values with their
// methods.
func registerUserType(L *lua.LState, methods *lua.LTable) {
	// Two values for the same user are equal, whichever call fetched them.
	registerType(L, userTypeName, userIndex, methods, identity(toUser, "<User ???>",
		(*wandb.User).Same))
}

// userIndex reads a field of a User. Each read of api_keys, keys or teams
// returns a fresh table, so a script may modify it freely. api_keys is the
// keys' names, as the SDK's User.api_keys; keys has each key's name and
// description; both are nil when the keys are not known (a user found
// through SCIM only, or a server that gave null), and id is nil for a
// user found through SCIM only.
func userIndex(L *lua.LState) int {
	uv, ok := toValue[userValue](L.Get(1))
	if !ok || uv.u == nil {
		raise(L, userTypeName+" expected, got "+typeName(L, 1))
	}
	u := uv.u
	switch k := key(L); k {
	case "id":
		if u.ID == "" { // found through SCIM only
			L.Push(lua.LNil)
		} else {
			L.Push(uv.field(boxedID, &u.ID))
		}
	case "name":
		L.Push(uv.field(boxedName, &u.Name))
	case "username":
		L.Push(uv.field(boxedUsername, u.Username))
	case "email":
		L.Push(uv.field(boxedEmail, u.Email))
	case "instance_admin", "admin": // admin: the older name
		L.Push(optBoolValue(u.Admin))
	case "entity":
		L.Push(uv.field(boxedEntity, u.Entity))
	case "deleted_at":
		L.Push(uv.field(boxedDeletedAt, u.DeletedAt))
	case "api_keys", "keys":
		if !u.KeysListed() { // nil, not an empty list: none is not known
			L.Push(lua.LNil)
			return 1
		}
		if k == "keys" {
			L.Push(keyTable(L, u.APIKeys()))
			return 1
		}
		keys := u.APIKeys()
		t := L.CreateTable(len(keys), 0)
		for _, k := range keys {
			t.Append(lua.LString(k.Name))
		}
		L.Push(t)
	case "teams":
		L.Push(stringArray(L, u.Teams()))
	case "dry_run":
		L.Push(lua.LBool(u.DryRun))
	case "active", "created_at", "days_active", "last_active_at":
		L.Push(standingField(u.OrgStatus, k))
	case "user_api":
		if u.Client() == nil {
			L.Push(lua.LNil)
		} else {
			L.Push(newAPI(L, u.Client()))
		}
	default:
		L.Push(method(L, k, userTypeName, userFields))
	}
	return 1
}

// standingField is field k of a User's standing (see
// wandb.User.OrgStatus): nil when the standing was not asked for or is
// not known, and for a field the server did not give; times as RFC 3339
// strings. So u.active ~= nil says the standing is known, and then a nil
// last_active_at means never active.
func standingField(st *wandb.UserStatus, k string) lua.LValue {
	if st == nil {
		return lua.LNil
	}
	var at *time.Time
	switch k {
	case "active":
		return lua.LBool(st.Active)
	case "days_active":
		if st.DaysActive == nil {
			return lua.LNil
		}
		return lua.LNumber(*st.DaysActive)
	case "created_at":
		at = st.Created
	case "last_active_at":
		at = st.LastActiveAt
	}
	return timeValue(at)
}

// timeValue converts a time the server gave: an RFC 3339 string in UTC,
// whatever offset the server wrote (so scripts can compare and sort times
// as strings, from any call), or nil for nil.
func timeValue(at *time.Time) lua.LValue {
	if at == nil {
		return lua.LNil
	}
	return lua.LString(at.UTC().Format(time.RFC3339))
}

// keyTable returns keys as u.keys shows them: {name, description} each.
func keyTable(L *lua.LState, keys []wandb.APIKey) *lua.LTable {
	t := L.CreateTable(len(keys), 0)
	for _, k := range keys {
		kt := L.CreateTable(0, 2)
		kt.RawSetString("name", lua.LString(k.Name))
		kt.RawSetString("description", optStringValue(k.Description))
		t.Append(kt)
	}
	return t
}

// userMethods returns the User methods, by name.
func userMethods() map[string]lua.LGFunction {
	return userSelf.bind(map[string]call[*wandb.User]{
		"generate_api_key": userGenerateAPIKey,
		"delete_api_key":   userDeleteAPIKey,
		"deactivate":       userChange((*wandb.User).Deactivate),
		"reactivate":       userChange((*wandb.User).Reactivate),
		"delete":           userChange((*wandb.User).Delete),
		"set_role":         userSetRole,
		"status":           userStatus,
	})
}

// userGenerateAPIKey is u:generate_api_key([description]): the new key's
// secret, or nil, err.
func userGenerateAPIKey(L *lua.LState, op wandb.Op, u *wandb.User) request {
	desc := optString(L, 1, string(op), "")
	return func(ctx context.Context) result {
		secret, err := u.GenerateAPIKey(ctx, desc)
		return func(L *lua.LState) (lua.LValue, lua.LValue) {
			if secret == "" {
				return lua.LNil, newError(L, op, err)
			}
			// With the server's error beside it, the secret still comes
			// first: the server shows it only this once.
			return lua.LString(secret), optError(L, op, err)
		}
	}
}

// userDeleteAPIKey is u:delete_api_key(name): true, or false, err.
func userDeleteAPIKey(L *lua.LState, op wandb.Op, u *wandb.User) request {
	name := checkString(L, 1, string(op))
	return okRequest(op, func(ctx context.Context) error { return u.DeleteAPIKey(ctx, name) })
}

// optStringValue converts a nullable string field: nil gives Lua nil.
func optStringValue(s *string) lua.LValue {
	if s == nil {
		return lua.LNil
	}
	return lua.LString(*s)
}

// userChange returns a User method without arguments (u:deactivate(),
// ...), which calls change: true, or false, err.
func userChange(change func(*wandb.User, context.Context) error) call[*wandb.User] {
	return func(_ *lua.LState, op wandb.Op, u *wandb.User) request {
		return okRequest(op, func(ctx context.Context) error { return change(u, ctx) })
	}
}

// userSetRole is u:set_role(role): true, or false, err. role is a string,
// or a boolean as older scripts give it (true "admin", false "member").
func userSetRole(L *lua.LState, op wandb.Op, u *wandb.User) request {
	role := checkRole(L, 1, string(op), true)
	return okRequest(op, func(ctx context.Context) error { return u.SetRole(ctx, role) })
}

// userStatus is u:status(): {active, role, days_active, last_active_at},
// or nil, err. A field the server did not report is nil.
func userStatus(_ *lua.LState, op wandb.Op, u *wandb.User) request {
	return func(ctx context.Context) result {
		st, err := u.Status(ctx)
		return func(L *lua.LState) (lua.LValue, lua.LValue) {
			if err != nil {
				return lua.LNil, newError(L, op, err)
			}
			t := L.CreateTable(0, 4)
			t.RawSetString("active", lua.LBool(st.Active))
			if st.Role != "" {
				t.RawSetString("role", lua.LString(st.Role))
			}
			if st.DaysActive != nil {
				t.RawSetString("days_active", lua.LNumber(*st.DaysActive))
			}
			t.RawSetString("last_active_at", timeValue(st.LastActiveAt))
			return t, lua.LNil
		}
	}
}
