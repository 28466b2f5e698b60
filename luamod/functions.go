package luamod

import (
	"context"
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
	"github.com/wandb-lua/wandb-lua/wandb/atomicfile"
)

// The module's network functions. viewer, user, users, create_user, team,
// teams, create_team and plan exist twice: as wandb.<name>, for the client
// given to Loader (see moduleFunc), and as api:<name>, for an api object's
// client (see apiSelf).

// clientFuncs returns the network functions of the module and of api
// objects, by name.
func clientFuncs() map[string]call[*wandb.Client] {
	return map[string]call[*wandb.Client]{
		"viewer":      viewer,
		"user":        user,
		"users":       users,
		"create_user": createUser,
		"team":        team,
		"teams":       teams,
		"create_team": createTeam,
		"plan":        plan,
	}
}

// moduleFunc returns module function name, bound to the module's client c:
// it passes f's request to netcall.
func moduleFunc(name string, c *wandb.Client, f call[*wandb.Client]) lua.LGFunction {
	return func(L *lua.LState) int {
		if c == nil {
			raise(L, fmt.Sprintf("wandb.%s: the module has no default client; use wandb.api{api_key = ..., base_url = ...}:%s(...)", name, name))
		}
		return netcall(L, f(L, wandb.Op(name), c))
	}
}

// viewer is viewer(): the User the key belongs to, or nil, err.
func viewer(_ *lua.LState, op wandb.Op, c *wandb.Client) request {
	return func(ctx context.Context) result {
		u, err := c.Viewer(ctx)
		return userResult(op, u, err)
	}
}

// user is user(username_or_email[, {exact = true}]): one User, or nil, err.
func user(L *lua.LState, op wandb.Op, c *wandb.Client) request {
	x := checkString(L, 1, string(op))
	var opts []wandb.LookupOption
	forOptions(L, 2, string(op), func(k string, v lua.LValue) bool {
		if k != "exact" {
			return false
		}
		if checkBoolOption(L, 2, string(op), k, v) {
			opts = append(opts, wandb.Exact())
		}
		return true
	}, `"exact"`)
	return func(ctx context.Context) result {
		u, err := c.User(ctx, x, opts...)
		return userResult(op, u, err)
	}
}

// users is users([query[, {status = true}]]): an array of Users (all
// users when query is nil or ""), or nil, err. With status, each User
// carries its standing (active, created_at, days_active, last_active_at)
// where SCIM gives it (wandb.Client.UsersWithStatus); a server that does
// not page gives the users with an error beside them.
func users(L *lua.LState, op wandb.Op, c *wandb.Client) request {
	q := optString(L, 1, string(op), "")
	status := false
	forOptions(L, 2, string(op), func(k string, v lua.LValue) bool {
		if k != "status" {
			return false
		}
		status = checkBoolOption(L, 2, string(op), k, v)
		return true
	}, `"status"`)
	fetch := c.Users
	if status {
		fetch = c.UsersWithStatus
	}
	return func(ctx context.Context) result {
		list, err := fetch(ctx, q)
		return listResult(op, list, err, newUserArray)
	}
}

// createUser is create_user(email[, role]): the new User, or nil, err.
// role is the organisation role, "admin", "member" (the default) or
// "viewer", or a boolean as older scripts give it (true for an instance
// admin). A viewer is created as a member and then given the role: when
// that fails, the User comes with the error.
func createUser(L *lua.LState, op wandb.Op, c *wandb.Client) request {
	email := checkString(L, 1, string(op))
	role := checkRole(L, 2, string(op), false)
	return func(ctx context.Context) result {
		switch role {
		case "", wandb.RoleMember, wandb.RoleAdmin, wandb.RoleViewer:
		default:
			return userResult(op, nil, &wandb.Error{Code: wandb.CodeInvalidArgument, Message: fmt.Sprintf(
				"unknown organisation role %q: want %q, %q or %q", role, wandb.RoleAdmin, wandb.RoleMember, wandb.RoleViewer)})
		}
		u, err := c.CreateUser(ctx, email, role == wandb.RoleAdmin)
		if err == nil && role == wandb.RoleViewer {
			if err = u.SetRole(ctx, role); err != nil {
				we := *toWandbError(op, err)
				we.Message = fmt.Sprintf("%s was created as a member, but giving them the role viewer failed: %s", u, we.Message)
				err = &we
			}
		}
		return userResult(op, u, err)
	}
}

// userResult converts the outcome of a call that returns one User: the
// user, or nil and the error; a user the server returned together with an
// error (partial data: GraphQL errors beside it) comes with the error, so
// the script has both.
func userResult(op wandb.Op, u *wandb.User, err error) result {
	return valueResult(op, u, err, newUser)
}

// writePrivate returns wandb.write_private(path, text): it writes text to
// the file at path, readable by its owner only (mode 0600) and replaced
// atomically (see atomicfile.WritePrivate), and returns true, or nil and a
// message as Lua's io functions do. It is for secrets: scripts use it for
// new API keys, which io.open would create readable by everyone the umask
// allows.
//
// The rule for files in a dry run: reports (wandb.csv.write,
// wandb.json.write) are written, since they describe what the run read
// and planned; secrets are not, since a dry run has none (a generated key
// is a placeholder). So in a dry run (the client's wandb.Config.DryRun)
// write_private writes nothing and returns false and "dry run: <path> not
// written", which a script can tell from success (true) and from failure
// (nil). A file written on this machine is no change to W&B: it is not
// recorded as a change (Config.OnChange, the audit log), nor refused in
// read-only mode.
func writePrivate(c *wandb.Client) lua.LGFunction {
	return func(L *lua.LState) int {
		const op = "write_private"
		path := checkString(L, 1, op)
		text := checkString(L, 2, op)
		if c != nil && c.DryRun() {
			L.Push(lua.LFalse)
			L.Push(lua.LString("dry run: " + path + " not written"))
			return 2
		}
		if err := atomicfile.WritePrivate(path, []byte(text)); err != nil {
			return fail(L, fmt.Sprintf("%s: %s", path, pathErrorText(err)))
		}
		L.Push(lua.LTrue)
		return 1
	}
}
