package wandb

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/wandb-lua/wandb-lua/wandb/emailaddr"
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
	data, err := gql.GetViewer(ctx, c.gql(OpViewer))
	if data == nil || data.Viewer == nil {
		if err != nil {
			return nil, err
		}
		return nil, c.newError(Error{Op: OpViewer, Code: CodeUnauthorized,
			Message: "the server did not recognize an account for the configured credentials"})
	}
	if data.Viewer.Id == "" {
		if err != nil {
			return nil, err
		}
		return nil, c.newError(Error{Op: OpViewer, Code: CodeBadResponse, Message: "the server returned the viewer without an id"})
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
// server's order. No match is an empty slice and no error, except for "",
// where it is an error with CodeBadResponse. It needs an admin key.
func (c *Client) Users(ctx context.Context, query string) ([]*User, error) {
	// Whether W&B lists every user for an empty query is not public, and a
	// server that lists nobody for it has not listed everyone (the caller,
	// at least, is a user).
	const op = OpUsers
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
// them; none gives an error matching ErrNotFound. An email (with an "@")
// is looked up as CreateUser sends one; a username with leading or
// trailing white space is CodeInvalidArgument. It needs an admin key.
//
// When the server refuses to search users for this key, the user is
// looked up through SCIM instead, by exact email or username. Such a User
// has no ID and no key list (KeysListed is false); its Teams are the SCIM
// groups it is a member of, and Admin is nil. The lifecycle calls
// (Deactivate, Delete, SetRole, team membership) work on it.
func (c *Client) User(ctx context.Context, usernameOrEmail string, opts ...LookupOption) (*User, error) {
	// The SDK would silently pick the first of several candidates. It
	// documents user search as for local administrators only: an
	// organisation admin on Multi-tenant Cloud may be refused it.
	const op = OpUser
	var l lookup
	for _, o := range opts {
		o(&l)
	}
	usernameOrEmail = lookupForm(usernameOrEmail)
	switch {
	case strings.TrimSpace(usernameOrEmail) == "":
		return nil, c.newError(Error{Op: op, Code: CodeInvalidArgument, Message: "a username or email is required"})
	case strings.TrimSpace(usernameOrEmail) != usernameOrEmail:
		return nil, c.newError(Error{Op: op, Code: CodeInvalidArgument, Message: fmt.Sprintf("invalid username or email %q: leading or trailing white space", usernameOrEmail)})
	case len(usernameOrEmail) > emailaddr.MaxLen && strings.Contains(usernameOrEmail, "@"):
		return nil, c.newError(Error{Op: op, Code: CodeInvalidArgument, Message: emailaddr.Check(usernameOrEmail).Error()})
	}
	users, err := c.searchUsers(ctx, op, usernameOrEmail)
	if len(users) == 0 && errors.Is(err, ErrForbidden) {
		return c.userBySCIM(ctx, op, usernameOrEmail, err)
	}
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
		partly := make([]string, len(users))
		for i, u := range users {
			partly[i] = u.String()
		}
		verb := "partly match"
		if len(users) == 1 {
			verb = "partly matches"
		}
		return nil, c.newError(Error{Op: op, Code: CodeNotFound, Candidates: partly, Message: fmt.Sprintf(
			"no user's username or email is exactly %q; %d %s: %s", usernameOrEmail, len(users), verb, strings.Join(partly[:min(3, len(partly))], ", "))})
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

// userBySCIM finds the user whose email (for who with an "@") or else
// username is exactly who, through SCIM, with its teams (the groups that
// list it): for a caller the server refuses user search. denied is that
// refusal, returned when SCIM refuses the caller too.
func (c *Client) userBySCIM(ctx context.Context, op Op, who string, denied error) (*User, error) {
	u := &User{client: c}
	if strings.Contains(who, "@") {
		u.Email = &who
	} else {
		u.Username = &who
	}
	su, err := u.scimRecord(ctx, op)
	switch {
	case errors.Is(err, ErrForbidden), errors.Is(err, ErrUnauthorized):
		return nil, denied
	case isNotFound(err):
		return nil, c.newError(Error{Op: op, Code: CodeNotFound, Message: fmt.Sprintf(
			"no user's %s is exactly %q (looked up through SCIM: the server refuses this key user search)", map[bool]string{true: "email", false: "username"}[u.Email != nil], who)})
	case err != nil:
		return nil, err
	}
	c.logger.InfoContext(ctx, "wandb user found through SCIM", "op", op, "reason", "user search refused")
	var groups scimList[scimGroup]
	if err := c.scimDo(ctx, op, http.MethodGet, "/Groups", nil, nil, &groups); err != nil {
		return nil, c.renamed(err, op, fmt.Sprintf("found %s through SCIM, but cannot list the teams to find theirs: ", who))
	}
	found := &User{Name: su.DisplayName, Username: &su.UserName, client: c, scimID: su.ID}
	for i, e := range su.Emails {
		if i == 0 || (u.Email != nil && strings.EqualFold(e, who)) {
			found.Email = &su.Emails[i]
		}
	}
	for i := range groups.Resources {
		if g := &groups.Resources[i]; g.has(su) {
			found.teams = append(found.teams, g.DisplayName)
		}
	}
	return found, nil
}
