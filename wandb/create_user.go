package wandb

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wandb-lua/wandb-lua/wandb/emailaddr"
	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
)

// CreateUser creates a user with the given email, an instance admin when
// admin is true. Before anything is sent the email is normalised (trimmed,
// its domain lower-cased, the rest kept as written) and checked: anything
// but a bare address such as "name@example.com" with a dot in its domain
// gives CodeInvalidArgument. An existing email gives CodeConflict with the
// server's text. It needs an admin key. The returned User has no keys
// (KeysListed is true) and no team list. When the answer is lost after
// the request reached the server, the email is looked up: none, and the
// creation is sent once more; a user there now is returned with an error
// with CodeUnknownOutcome. Concurrent calls for one email (from this
// client and those derived from it) are one flight: when the first
// succeeds, the others fail with CodeConflict. Under Config.DryRun it
// sends nothing and returns a User with DryRun set and the ID
// "dry-run:<email>".
func (c *Client) CreateUser(ctx context.Context, email string, admin bool) (*User, error) {
	// A user there after a lost answer may be this call's creation,
	// another program's at the same time, or there already. One flight per
	// email means one creation is reported created once.
	const op = OpCreateUser
	email, err := c.normalizeEmail(op, email)
	if err != nil {
		return nil, err
	}
	var u *User
	var partial error // the server's error beside the user it created
	err = c.change(ctx, op, email, fmt.Sprintf("admin=%v", admin), func() error {
		err := c.fam.createOnce(ctx, email, func() error { return c.createUser(ctx, op, email, admin, &u, &partial) })
		if errors.Is(err, errCreatedMeanwhile) {
			return c.newError(Error{Op: op, Code: CodeConflict, Message: fmt.Sprintf(
				"user with email %s was created by a concurrent call of this program", email)})
		}
		return err
	})
	if errors.Is(err, errDryRun) {
		local, _, _ := strings.Cut(email, "@")
		u := &User{ID: "dry-run:" + email, Name: local, Email: &email, Admin: &admin, DryRun: true, client: c, loaded: true}
		if admin { // an admin the last-admin guard counts for the rest of the dry run
			c.fam.pretend(u, &admin, nil)
		}
		return u, nil
	}
	if err != nil {
		return u, err // u is the user found after a lost answer, if any
	}
	return u, partial
}

// createUser sends the creation, settled: *u is the user created, or the
// one found after a lost answer, and *partial the server's error beside
// it.
func (c *Client) createUser(ctx context.Context, op Op, email string, admin bool, u **User, partial *error) error {
	return c.settle(ctx, op, func() error {
		data, err := gql.CreateUserFromAdmin(ctx, c.gql(op), email, &admin)
		if data == nil || data.Result == nil || data.Result.User == nil {
			if err != nil {
				return err
			}
			return c.newError(Error{Op: op, Code: CodeBadResponse, Message: fmt.Sprintf("the server returned no user for %q", email), unsure: true})
		}
		f := data.Result.User.UserInfoFragment
		if f.Id == "" {
			// Created, but not usable as answered: look it up.
			return c.newError(Error{Op: op, Code: CodeBadResponse, Message: fmt.Sprintf("the server returned a user without an id for %q", email), unsure: true})
		}
		// A user just created has no key yet: its (empty) list is known.
		*u = &User{ID: f.Id, Name: f.Name, Username: f.Username, Email: f.Email, Admin: f.Admin, client: c, loaded: true}
		*partial = err
		return nil
	}, func(ctx context.Context) (bool, error) {
		found, err := c.User(ctx, email, Exact())
		switch {
		case isNotFound(err):
			return false, nil
		case err != nil:
			return false, err
		}
		// There now: created by this call, or by another program at the
		// same time, or there before (the answer lost may have been a
		// conflict). Concurrent calls of this program are one flight
		// (createOnce), but nothing tells the others apart.
		*u = found
		return false, notShown{fmt.Sprintf("%s exists now, but a user this call created, one another program created meanwhile "+
			"and one that was there already (its answer, a conflict, lost) look the same", email)}
	})
}

// normalizeEmail is emailaddr.Normalize with its error as an *Error for
// op.
func (r redactor) normalizeEmail(op Op, email string) (string, error) {
	s, err := emailaddr.Normalize(email)
	if err != nil {
		return "", r.newError(Error{Op: op, Code: CodeInvalidArgument, Message: err.Error()})
	}
	return s, nil
}

// lookupForm returns x, a username or email to look up, as User looks it
// up: an email (with an "@") as emailaddr.Normalize would send it, but without
// its check, since a lookup may give part of one; a username unchanged.
func lookupForm(x string) string {
	if !strings.Contains(x, "@") {
		return x
	}
	s := strings.TrimSpace(x)
	local, domain, _ := strings.Cut(s, "@")
	return local + "@" + strings.ToLower(domain)
}
