package wandb

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
)

// CreateUser creates a user with the given email, an instance admin when
// admin is true. The email is normalised and checked before anything is
// sent (see NormalizeEmail; an invalid one gives CodeInvalidArgument). An existing email gives an error with
// code CodeConflict carrying the server's text. It needs an admin key. The
// returned User has no keys (KeysListed is true) and no team list (the
// server's answer does not include one). When the answer is lost after the request reached the
// server, the email is looked up: none, and the creation is sent once
// more; a user there now is returned with an error with
// CodeUnknownOutcome, since it may be this call's creation, another
// program's at the same time, or there already. Concurrent calls for the
// same email in this program (and the clients derived from this one for
// the same server) are one flight: the first sends, the others wait, and
// when it succeeds they fail with CodeConflict, so one creation is
// reported created once. Under Config.DryRun it sends nothing and returns a
// User with DryRun set, the email and admin given and the ID
// "dry-run:<email>".
func (c *Client) CreateUser(ctx context.Context, email string, admin bool) (*User, error) {
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
		return &User{ID: "dry-run:" + email, Name: local, Email: &email, Admin: &admin, DryRun: true, client: c, loaded: true}, nil
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

// The longest address (RFC 5321, section 4.5.3.1: a path is at most 256
// octets, two of them the angle brackets) and local part an email can
// have.
const (
	maxEmailLen = 254
	maxLocalLen = 64
)

// NormalizeEmail returns email as this package sends it: without the
// white space around it and with its domain in lower case, so that an
// address pasted from a spreadsheet or an HR export (" Sam.Wu@Acme.COM ")
// is the one W&B knows ("Sam.Wu@acme.com"). The local part (before the
// "@") is kept as written: RFC 5321 lets a mail server treat it
// case-sensitively, and W&B compares emails case-insensitively anyway, so
// lower-casing it would gain nothing and could change where an invitation
// is delivered. It returns an error, whose message names the address and
// what is wrong with it, for anything but a bare address such as
// "name@example.com": a display name, angle brackets, white space inside,
// an empty part, or a domain without a dot ("sam.wu@acme-ml"), which no
// address W&B can mail has.
func NormalizeEmail(email string) (string, error) {
	s := strings.TrimSpace(email)
	if local, domain, ok := strings.Cut(s, "@"); ok {
		s = local + "@" + strings.ToLower(domain)
	}
	if err := checkEmail(s); err != nil {
		return "", err
	}
	return s, nil
}

// normalizeEmail is NormalizeEmail with its error as an *Error for op.
func (r redactor) normalizeEmail(op Op, email string) (string, error) {
	s, err := NormalizeEmail(email)
	if err != nil {
		return "", r.newError(Error{Op: op, Code: CodeInvalidArgument, Message: err.Error()})
	}
	return s, nil
}

// lookupForm returns x, a username or email to look up, as User looks it
// up: an email (with an "@") as NormalizeEmail would send it, but without
// its check, since a lookup may give part of one; a username unchanged.
func lookupForm(x string) string {
	if !strings.Contains(x, "@") {
		return x
	}
	s := strings.TrimSpace(x)
	local, domain, _ := strings.Cut(s, "@")
	return local + "@" + strings.ToLower(domain)
}

// checkEmail accepts a bare address such as "bob@example.com" whose domain
// has a dot, of at most maxEmailLen bytes, maxLocalLen of them before the
// "@".
func checkEmail(email string) error {
	if len(email) > maxEmailLen {
		return fmt.Errorf("invalid email address %s: %d characters, more than the %d an address can have (RFC 5321)",
			quoteStart(email), len(email), maxEmailLen)
	}
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
	if len(local) > maxLocalLen {
		return bad(fmt.Sprintf("the part before the @ has %d characters, more than the %d it can have (RFC 5321)", len(local), maxLocalLen))
	}
	if !strings.Contains(domain, ".") {
		return bad(fmt.Sprintf("the domain %q has no dot; want a full domain such as %q", domain, domain+".com"))
	}
	return nil
}

// quoteStart quotes the start of s, a value too long to show whole.
func quoteStart(s string) string {
	const shown = 40
	if utf8.RuneCountInString(s) <= shown {
		return strconv.Quote(s)
	}
	return strconv.Quote(string([]rune(s)[:shown])) + "…"
}
