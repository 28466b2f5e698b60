package wandb

import (
	"context"
	"fmt"
	"strings"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
)

// Methods of Client that find users.
//
// When the server answers with GraphQL errors alongside data (a field it
// could not resolve, say), Viewer, Users and User return what they could
// read together with the error, as the server's partial data is useful
// and the error says what is missing.

// Viewer returns the user the client's key belongs to. The result is
// cached after the first complete success, so later calls send nothing
// and return the same *User.
func (c *Client) Viewer(ctx context.Context) (*User, error) {
	if v := c.cachedViewer(); v != nil {
		return v, nil
	}
	data, err := gql.GetViewer(ctx, c.gql("viewer"))
	if data == nil || data.Viewer == nil {
		if err != nil {
			return nil, err
		}
		return nil, c.newError(Error{Op: "viewer", Code: CodeUnauthorized,
			Message: "the server did not recognize an account for the configured credentials"})
	}
	if data.Viewer.Id == "" {
		if err != nil {
			return nil, err
		}
		return nil, c.newError(Error{Op: "viewer", Code: CodeBadResponse, Message: "the server returned the viewer without an id"})
	}
	u := newUser(c, &data.Viewer.UserFragment)
	if err != nil {
		return u, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.viewer == nil { // a concurrent call may have won; keep one shared *User
		c.viewer = u
	}
	return c.viewer, nil
}

func (c *Client) cachedViewer() *User {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.viewer
}

// Users returns the users whose username or email contains query
// (case-insensitively; "" means all users), de-duplicated by ID, in the
// server's order. No match is an empty slice and no error, except for "":
// whether W&B lists every user for an empty query is not public, and a
// server that lists nobody for it has not listed everyone (the caller, at
// least, is a user), so that is an error with CodeBadResponse. It needs
// an admin key.
func (c *Client) Users(ctx context.Context, query string) ([]*User, error) {
	const op = "users"
	users, err := c.searchUsers(ctx, op, query)
	if query == "" && err == nil && len(users) == 0 {
		return nil, c.newError(Error{Op: op, Code: CodeBadResponse, Message: "the server listed nobody for an empty query, " +
			"though the caller is a user: it does not list every user this way; search by part of a username or email instead"})
	}
	return users, err
}

// LookupOption changes how Client.User matches.
type LookupOption func(*lookup)

type lookup struct {
	exact bool
}

// Exact makes Client.User accept only a user whose username or email is
// exactly the one given (case-insensitively): no substring match, however
// alone. Scripts that change or delete something should use it.
func Exact() LookupOption { return func(l *lookup) { l.exact = true } }

// maxListedCandidates bounds how many candidates an ambiguous lookup's
// message names (Error.Candidates holds them all).
const maxListedCandidates = 10

// User returns the one user whose username or email is usernameOrEmail
// (compared case-insensitively), or else, unless the option Exact is
// given, the only user the server's substring search returns. Several
// candidates give an error with code CodeAmbiguous whose Candidates list
// them (the SDK would silently pick the first); none gives an error
// matching ErrNotFound, never a nil user with a nil error. Leading or
// trailing white space is CodeInvalidArgument, before anything is sent. It
// needs an admin key.
func (c *Client) User(ctx context.Context, usernameOrEmail string, opts ...LookupOption) (*User, error) {
	const op = "user"
	var l lookup
	for _, o := range opts {
		o(&l)
	}
	switch {
	case strings.TrimSpace(usernameOrEmail) == "":
		return nil, c.newError(Error{Op: op, Code: CodeInvalidArgument, Message: "a username or email is required"})
	case strings.TrimSpace(usernameOrEmail) != usernameOrEmail:
		return nil, c.newError(Error{Op: op, Code: CodeInvalidArgument, Message: fmt.Sprintf("invalid username or email %q: leading or trailing white space", usernameOrEmail)})
	}
	users, err := c.searchUsers(ctx, op, usernameOrEmail)
	if len(users) == 0 && err != nil {
		return nil, err
	}
	var exact []*User
	for _, u := range users {
		if eqFold(u.Email, usernameOrEmail) || eqFold(u.Username, usernameOrEmail) {
			exact = append(exact, u)
		}
	}
	candidates := users
	if len(exact) > 0 || l.exact {
		candidates = exact
	}
	switch {
	case len(candidates) == 1:
		return candidates[0], err
	case err != nil:
		return nil, err // the server's error explains more than our verdict on partial data
	case len(candidates) == 0 && len(users) > 0: // Exact, and only partial matches
		partly := make([]string, 0, 3)
		for _, u := range users[:min(3, len(users))] {
			partly = append(partly, u.String())
		}
		verb := "partly match"
		if len(users) == 1 {
			verb = "partly matches"
		}
		return nil, c.newError(Error{Op: op, Code: CodeNotFound, Message: fmt.Sprintf(
			"no user's username or email is exactly %q; %d %s: %s", usernameOrEmail, len(users), verb, strings.Join(partly, ", "))})
	case len(candidates) == 0:
		return nil, c.newError(Error{Op: op, Code: CodeNotFound,
			Message: fmt.Sprintf("no user matches %q", usernameOrEmail)})
	}
	names := make([]string, len(candidates))
	for i, u := range candidates {
		names[i] = u.String()
	}
	listed := names
	more := ""
	if len(listed) > maxListedCandidates {
		listed = listed[:maxListedCandidates]
		more = fmt.Sprintf(" and %d more", len(names)-maxListedCandidates)
	}
	return nil, c.newError(Error{Op: op, Code: CodeAmbiguous, Candidates: names, Message: fmt.Sprintf(
		"%d users match %q: %s%s; give an exact username or email", len(names), usernameOrEmail,
		strings.Join(listed, ", "), more)})
}

func eqFold(p *string, s string) bool { return p != nil && strings.EqualFold(*p, s) }
