package wandb

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

func TestCreateUser(t *testing.T) {
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
	srv := wandbtest.Start(t)
	c := testClient(t, srv)
	for _, email := range []string{"", "bob", "bob@", "@example.com", "Bob <bob@example.com>", " bob@example.com",
		"bob@example.com\n", "a b@example.com", "bob@.com", "bob@example.", "<bob@example.com>"} {
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

// TestCreateUserNullResult: a 200 without the user leaves unsure whether
// it was created: the email is looked up, and as it is not there the
// creation is sent again. An answer whose user has no id, after the
// server created it, is settled by the lookup: the call succeeds once.
func TestCreateUserNullResult(t *testing.T) {
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

	srv.FailNext("CreateUserFromAdmin", wandbtest.Fault{AfterApply: true, Body: `{"data":{"result":{"user":{"id":"","name":"x"}}}}`})
	u, err = c.CreateUser(ctx, "erin@example.com", true)
	if err != nil || deref(u.Email) != "erin@example.com" || u.ID == "" || !deref(u.Admin) {
		t.Fatalf("CreateUser = %v, %v", u, err)
	}
	if n := srv.Requests("CreateUserFromAdmin"); n != 3 {
		t.Errorf("%d creations sent, want 3 (the applied one not resent)", n)
	}
}
