package luamod

import (
	"context"
	"errors"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
	"github.com/wandb-lua/wandb-lua/wandb/emailaddr"
)

// One vocabulary for people and roles. Wherever a Team method means a
// person (t:invite, t:add_member, t:remove_member, t:set_role), it takes
// a User, a Member (of any team), an email address (a string with an
// "@") or a username; and wherever it means a role, a string ("admin",
// "member", "viewer" or a custom role's name), with the booleans of older
// scripts still read as "admin" (true) and "member" (false).

// person is an argument that names someone, read before the request (a
// Lua value never reaches the goroutine that sends it).
type person struct {
	user   *wandb.User
	member *wandb.Member
	text   string // an email (with an "@") or a username
}

// personExpected is what a person argument may be, for messages.
const personExpected = "wandb.User, wandb.Member, email or username expected"

// checkPerson returns argument n of fname, which must name a person.
func checkPerson(L *lua.LState, n int, fname string) person {
	v := L.Get(n)
	if s, ok := v.(lua.LString); ok {
		return person{text: string(s)}
	}
	if u, ok := toUser(v); ok {
		return person{user: u}
	}
	if m, ok := toValue[wandb.Member](v); ok {
		return person{member: m}
	}
	argError(L, n, fname, personExpected+", got "+typeName(L, n))
	return person{}
}

// invitee returns whom p names, for an invitation, which needs no user:
// a User or Member by its username (else its email), a string as it is.
func (p person) invitee(op wandb.Op) (wandb.Invitee, error) {
	var username, email *string
	var what fmt.Stringer
	switch {
	case p.user != nil:
		username, email, what = p.user.Username, p.user.Email, p.user
	case p.member != nil:
		username, email, what = p.member.Username, p.member.Email, p.member
	case strings.Contains(p.text, "@"):
		return wandb.ByEmail(p.text), nil
	default:
		return wandb.ByUsername(p.text), nil
	}
	switch {
	case deref(username) != "":
		return wandb.ByUsername(*username), nil
	case deref(email) != "":
		return wandb.ByEmail(*email), nil
	}
	return wandb.Invitee{}, &wandb.Error{Op: op, Code: wandb.CodeInvalidArgument,
		Message: fmt.Sprintf("%s has neither a username nor an email to invite it by", what)}
}

// lookup returns the User p names, looked up exactly (by username or
// email) with c unless p is one. A Member is looked up by its username,
// else its email: a pending invitation to an address that no user has
// yet names nobody who can be acted on, and says so.
func (p person) lookup(ctx context.Context, c *wandb.Client) (*wandb.User, error) {
	if p.user != nil {
		return p.user, nil
	}
	if p.member == nil {
		return c.User(ctx, p.text, wandb.Exact())
	}
	m := p.member
	key := deref(m.Username)
	if key == "" {
		key = deref(m.Email)
	}
	if key == "" {
		return nil, &wandb.Error{Code: wandb.CodeInvalidArgument,
			Message: fmt.Sprintf("%s has neither a username nor an email to find its user by", m)}
	}
	u, err := c.User(ctx, key, wandb.Exact())
	if errors.Is(err, wandb.ErrNotFound) && m.Username == nil && m.Pending != nil && *m.Pending {
		return nil, &wandb.Error{Code: wandb.CodeNotFound, Err: err, Message: fmt.Sprintf(
			"%s is a pending invitation to %s, and no user has that address yet: this needs a user "+
				"(accepting the invitation makes one; or create one with wandb.create_user)", m, key)}
	}
	return u, err
}

// checkRole returns role argument n of fname: a string as it is (a
// predefined role in lower case), true as "admin", false as "member".
// nil or absent gives "" unless required.
func checkRole(L *lua.LState, n int, fname string, required bool) string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		if s := strings.ToLower(string(v)); s == wandb.RoleAdmin || s == wandb.RoleMember || s == wandb.RoleViewer {
			return s
		}
		return string(v)
	case lua.LBool:
		if v {
			return wandb.RoleAdmin
		}
		return wandb.RoleMember
	case *lua.LNilType:
		if !required {
			return ""
		}
	}
	argError(L, n, fname, "string expected (a role such as \"admin\" or \"member\"), got "+typeName(L, n))
	return ""
}

// deref returns *s, or "" for nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// roleValue is a Lua string for role, or nil for "".
func roleValue(role string) lua.LValue {
	if role == "" {
		return lua.LNil
	}
	return lua.LString(role)
}

// checkEmail is wandb.check_email(email): the address as the module sends
// it (emailaddr.Normalize: trimmed, its domain in lower case), or nil,
// err with the code "invalid_argument" saying what is wrong with it. A
// script checks a file's addresses with it before anything is sent, to
// name the line of a bad one.
func checkEmail(L *lua.LState) int {
	const op = "check_email"
	email := checkString(L, 1, op)
	s, err := emailaddr.Normalize(email)
	if err != nil {
		L.Push(lua.LNil)
		L.Push(newError(L, op, &wandb.Error{Code: wandb.CodeInvalidArgument, Message: err.Error()}))
		return 2
	}
	L.Push(lua.LString(s))
	return 1
}
