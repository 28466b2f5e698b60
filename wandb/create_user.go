package wandb

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
)

// CreateUser creates a user with the given email, an instance admin when
// admin is true. The email is checked before anything is sent (an invalid
// one gives CodeInvalidArgument). An existing email gives an error with
// code CodeConflict carrying the server's text. It needs an admin key. The
// returned User has no keys (KeysListed is true) and no team list (the
// server's answer does not include one). When the answer is lost after the request reached the
// server, the email is looked up: a user there now was created by this
// call, which succeeds; none, and the creation is sent once more. Under Config.DryRun it sends nothing and returns a
// User with DryRun set, the email and admin given and the ID
// "dry-run:<email>".
func (c *Client) CreateUser(ctx context.Context, email string, admin bool) (*User, error) {
	const op = "create_user"
	if err := checkEmail(email); err != nil {
		return nil, c.newError(Error{Op: op, Code: CodeInvalidArgument, Message: err.Error()})
	}
	var u *User
	var partial error // the server's error beside the user it created
	err := c.change(ctx, op, email, fmt.Sprintf("admin=%v", admin), func() error {
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
			u = &User{ID: f.Id, Name: f.Name, Username: f.Username, Email: f.Email, Admin: f.Admin, client: c, loaded: true}
			partial = err
			return nil
		}, func(ctx context.Context) (bool, error) {
			// The user did not exist before (the server would have said
			// conflict): if it exists now, this call created it.
			found, err := c.User(ctx, email, Exact())
			switch {
			case isNotFound(err):
				return false, nil
			case err != nil:
				return false, err
			}
			u = found
			return true, nil
		})
	})
	if errors.Is(err, errDryRun) {
		local, _, _ := strings.Cut(email, "@")
		return &User{ID: "dry-run:" + email, Name: local, Email: &email, Admin: &admin, DryRun: true, client: c, loaded: true}, nil
	}
	if err != nil {
		return nil, err
	}
	return u, partial
}

// checkEmail accepts a bare address such as "bob@example.com".
func checkEmail(email string) error {
	bad := func(why string) error { return fmt.Errorf("invalid email address %q: %s", email, why) }
	if email == "" {
		return fmt.Errorf("an email address is required")
	}
	if strings.TrimSpace(email) != email {
		return bad("leading or trailing white space")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Name != "" || a.Address != email {
		return bad(`want a bare address such as "name@example.com"`)
	}
	local, domain, _ := strings.Cut(email, "@")
	if local == "" || domain == "" || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return bad(`want a bare address such as "name@example.com"`)
	}
	return nil
}
