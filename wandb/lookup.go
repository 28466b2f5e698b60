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
// server's order. No match is an empty slice and no error. It needs an
// admin key.
func (c *Client) Users(ctx context.Context, query string) ([]*User, error) {
	return c.searchUsers(ctx, "users", query)
}

func (c *Client) searchUsers(ctx context.Context, op, query string) ([]*User, error) {
	data, err := gql.SearchUsers(ctx, c.gql(op), &query)
	var users []*User
	if data != nil && data.Users != nil {
		seen := make(map[string]bool, len(data.Users.Edges))
		for _, e := range data.Users.Edges {
			if e.Node == nil || seen[e.Node.Id] {
				continue
			}
			seen[e.Node.Id] = true
			users = append(users, newUser(c, &e.Node.UserFragment))
		}
	}
	if err != nil && len(users) == 0 {
		return nil, err
	}
	if users == nil {
		users = []*User{}
	}
	return users, err
}

// maxListedCandidates bounds how many candidates an ambiguous lookup's
// message names (Error.Candidates holds them all).
const maxListedCandidates = 10

// User returns the one user whose username or email is usernameOrEmail
// (compared case-insensitively), or else the only user the server's
// substring search returns. Several candidates give an error with code
// CodeAmbiguous whose Candidates list them (the SDK would silently pick
// the first); none gives an error matching ErrNotFound, never a nil user
// with a nil error. It needs an admin key.
func (c *Client) User(ctx context.Context, usernameOrEmail string) (*User, error) {
	const op = "user"
	if strings.TrimSpace(usernameOrEmail) == "" {
		return nil, c.newError(Error{Op: op, Code: CodeInvalidArgument, Message: "a username or email is required"})
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
	if len(exact) > 0 {
		candidates = exact
	}
	switch {
	case len(candidates) == 1:
		return candidates[0], err
	case err != nil:
		return nil, err // the server's error explains more than our verdict on partial data
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
