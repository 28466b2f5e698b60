package wandb

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

func TestCreateUser(t *testing.T) {
	t.Parallel()
	srv := seeded(t)
	c := testClient(t, srv)
	ctx := context.Background()
	u, err := c.CreateUser(ctx, "carol@example.com", false)
	if err != nil {
		t.Fatal(err)
	}
	info, ok := srv.UserByEmail("carol@example.com")
	if !ok || u.ID != info.ID || deref(u.Email) != "carol@example.com" || deref(u.Admin) {
		t.Errorf("created %+v, server has %+v", u, info)
	}
	req, _ := srv.LastRequest("CreateUserFromAdmin")
	if req.Variables["admin"] != false {
		t.Errorf("admin variable = %v, want false (not null), as the SDK sends", req.Variables["admin"])
	}
	if len(u.APIKeys()) != 0 || len(u.Teams()) != 0 || u.Client() != c {
		t.Errorf("created user has keys %v, teams %v", u.APIKeys(), u.Teams())
	}
	root, err := c.CreateUser(ctx, "root@example.com", true)
	if err != nil || !deref(root.Admin) {
		t.Errorf("CreateUser(admin) = %v (admin %v), %v", root, deref(root.Admin), err)
	}

	_, err = c.CreateUser(ctx, "alice@example.com", false)
	e := asError(t, err, "create_user", CodeConflict)
	if !errors.Is(err, ErrConflict) || e.Status != http.StatusConflict || !strings.Contains(e.Message, "already exists") {
		t.Errorf("duplicate: %v; want HTTP 409 with the server's text", err)
	}
	if n := srv.Requests("CreateUserFromAdmin"); n != 3 {
		t.Errorf("%d CreateUserFromAdmin requests, want 3 (409 is not retried)", n)
	}
}

func TestCreateUserChecksEmail(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	c := testClient(t, srv)
	for _, email := range []string{"", "bob", "bob@", "@example.com", "Bob <bob@example.com>", " ",
		"a b@example.com", "bob@.com", "bob@example.", "<bob@example.com>", "sam.wu@acme-ml"} {
		_, err := c.CreateUser(context.Background(), email, false)
		e := asError(t, err, "create_user", CodeInvalidArgument)
		if !strings.Contains(e.Message, "email") {
			t.Errorf("CreateUser(%q): message %q does not say what is wrong", email, e.Message)
		}
	}
	if n := srv.Requests(""); n != 0 {
		t.Errorf("invalid emails sent %d requests", n)
	}
}

// TestLongEmailsRefused: an address longer than RFC 5321 allows (254
// characters, 64 before the @) is refused before anything is sent,
// wherever the client takes one, and the message does not repeat it.
func TestLongEmailsRefused(t *testing.T) {
	t.Parallel()
	srv := seeded(t)
	c := testClient(t, srv)
	ctx := context.Background()
	team, err := c.CreateTeam(ctx, "long-emails", "")
	if err != nil {
		t.Fatal(err)
	}
	sent := srv.Requests("")
	huge := strings.Repeat("a", 1_000_000) + "@x.com"
	justOver := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com" // 255
	longLocal := strings.Repeat("a", 65) + "@x.com"
	for _, email := range []string{huge, justOver, longLocal} {
		for name, call := range map[string]func() error{
			"create_user": func() error { _, err := c.CreateUser(ctx, email, false); return err },
			"invite":      func() error { _, err := team.Invite(ctx, ByEmail(email), false); return err },
			"user":        func() error { _, err := c.User(ctx, email); return err },
			"plan":        func() error { _, err := c.Plan(ctx, Desired{Users: []DesiredUser{{Email: email}}}); return err },
		} {
			err := call()
			if email == longLocal && name == "user" {
				continue // a lookup of that length is sent: it may be a username
			}
			if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "RFC 5321") || len(err.Error()) > 300 {
				t.Errorf("%s with a %d-character email: %.300v", name, len(email), err)
			}
		}
	}
	if n := srv.Requests("") - sent; n > 1 {
		t.Errorf("%d requests sent for emails too long", n)
	}
	limit := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com" // 254
	if _, err := c.CreateUser(ctx, limit, false); err != nil {
		t.Errorf("a 254-character email: %v", err)
	}
}

// TestEmailsNormalisedBeforeSending: CreateUser, Invite, User and Plan
// send an address as emailaddr.Normalize gives it, so an address as an HR
// export writes it finds and makes the user W&B knows.
func TestEmailsNormalisedBeforeSending(t *testing.T) {
	t.Parallel()
	srv := seeded(t)
	c := testClient(t, srv)
	ctx := context.Background()
	u, err := c.CreateUser(ctx, " Carol@EXAMPLE.com ", false)
	if err != nil || deref(u.Email) != "Carol@example.com" {
		t.Fatalf("CreateUser = %v, %v", u, err)
	}
	if req, _ := srv.LastRequest("CreateUserFromAdmin"); req.Variables["email"] != "Carol@example.com" {
		t.Errorf("sent email %v", req.Variables["email"])
	}
	if u, err := c.User(ctx, "\tbob@EXAMPLE.com ", Exact()); err != nil || deref(u.Username) != "bob" {
		t.Errorf("User(email with white space) = %v, %v", u, err)
	}
	tm, err := c.CreateTeam(ctx, "vision", "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := tm.Invite(ctx, ByEmail(" Dana@Example.ORG"), false)
	if err != nil || deref(m.Email) != "Dana@example.org" {
		t.Errorf("Invite = %v, %v", m, err)
	}
	p, err := c.Plan(ctx, Desired{Users: []DesiredUser{{Email: "  erin@Example.com"}}, Memberships: []DesiredMembership{{Email: "BOB@example.COM ", Team: "vision"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.String(); got != "+ create_user erin@example.com admin=false (no such user)\n+ invite BOB@example.com to team vision admin=false (not a member or invited)" {
		t.Errorf("plan:\n%s", got)
	}
	before := srv.Requests("")
	_, err = c.CreateUser(ctx, "sam.wu@acme-ml", false)
	asError(t, err, "create_user", CodeInvalidArgument)
	_, err = tm.Invite(ctx, ByEmail("sam.wu@acme-ml"), false)
	asError(t, err, "invite", CodeInvalidArgument)
	_, err = c.Plan(ctx, Desired{Users: []DesiredUser{{Email: "sam.wu@acme-ml"}}})
	asError(t, err, "plan", CodeInvalidArgument)
	if n := srv.Requests(""); n != before {
		t.Errorf("malformed addresses sent %d requests", n-before)
	}
}

// TestCreateUserNullResult: a 200 without the user leaves unsure whether
// it was created: the email is looked up, and as it is not there the
// creation is sent again. An answer whose user has no id, after the
// server created it, is settled by the lookup: the call succeeds once.
func TestCreateUserNullResult(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	c := testClient(t, srv)
	ctx := context.Background()
	srv.FailNext("CreateUserFromAdmin", wandbtest.Fault{Body: `{"data":{"result":{"user":null}}}`})
	u, err := c.CreateUser(ctx, "dave@example.com", false)
	if err != nil || deref(u.Email) != "dave@example.com" || u.ID == "" {
		t.Fatalf("CreateUser = %v, %v", u, err)
	}
	if n := srv.Requests("CreateUserFromAdmin"); n != 2 {
		t.Errorf("%d creations sent, want 2 (the first was not applied)", n)
	}

	// Applied, answered without an id: looked up, found, and returned with
	// an unknown outcome (nothing tells this call's user from another's).
	srv.FailNext("CreateUserFromAdmin", wandbtest.Fault{AfterApply: true, Body: `{"data":{"result":{"user":{"id":"","name":"x"}}}}`})
	u, err = c.CreateUser(ctx, "erin@example.com", true)
	asError(t, err, "create_user", CodeUnknownOutcome)
	if u == nil || deref(u.Email) != "erin@example.com" || u.ID == "" || !deref(u.Admin) {
		t.Fatalf("CreateUser = %v, %v", u, err)
	}
	if n := srv.Requests("CreateUserFromAdmin"); n != 3 {
		t.Errorf("%d creations sent, want 3 (the applied one not resent)", n)
	}
}

// TestConcurrentCreationsOfOneEmail: calls of one program creating the
// same email at once are one flight: one is reported created, the others
// conflict; when the flight's answer is lost, none claims the creation.
// On the bubble's clock the first creation stays on the server until
// every other call has joined it, however slowly they start.
func TestConcurrentCreationsOfOneEmail(t *testing.T) {
	t.Parallel()
	for _, lost := range []bool{false, true} {
		t.Run(fmt.Sprintf("lost %v", lost), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { testConcurrentCreationsOfOneEmail(t, lost) })
		})
	}
}

func testConcurrentCreationsOfOneEmail(t *testing.T, lost bool) {
	srv, viaPipe := bubbleServer(t, wandbtest.WithLatency(500*time.Millisecond))
	c := testClient(t, srv, viaPipe)
	if lost {
		srv.FailNext("CreateUserFromAdmin", wandbtest.Fault{Drop: true, AfterApply: true})
	}
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	create := func(i int) { _, errs[i] = c.CreateUser(context.Background(), "Same@Example.com", false) }
	wg.Go(func() { create(0) })
	synctest.Wait() // the first creation is on the server, for its latency
	if got := srv.InFlight(); got != 1 {
		t.Fatalf("%d requests on the server, want the first creation", got)
	}
	for i := 1; i < n; i++ {
		wg.Go(func() { create(i) })
	}
	wg.Wait()
	if got := srv.Requests("CreateUserFromAdmin"); got != 1 {
		t.Errorf("%d creations sent, want 1: the others waited for it", got)
	}
	count := map[Code]int{}
	for _, err := range errs {
		var e *Error
		switch {
		case err == nil:
			count["ok"]++
		case errors.As(err, &e):
			count[e.Code]++
		default:
			t.Errorf("error %v", err)
		}
	}
	claims := count["ok"]
	if lost {
		if claims != 0 || count[CodeUnknownOutcome] != n {
			t.Errorf("outcomes %v: want the flight's unknown outcome for all, no claim", count)
		}
	} else if claims != 1 || count[CodeConflict] != n-1 {
		t.Errorf("outcomes %v: want one created, the others conflict", count)
	}
	if _, ok := srv.UserByEmail("same@example.com"); !ok {
		t.Error("the user was not created")
	}
}
