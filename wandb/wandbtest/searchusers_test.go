package wandbtest_test

import (
	"bytes"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// inlineSearchUsers selects what the SDK's SearchUsers selects, in the same
// order, without fragments: a document the handler leaves to gqlgen.
const inlineSearchUsers = `query SearchUsers($query: String) {
  users(query: $query) { edges { node {
    id name username email admin flags entity deletedAt
    apiKeys { edges { node { id name description } } }
    teams { edges { node { name } } }
  } } }
}`

// oddNames are names whose JSON needs escapes, gqlgen's and
// encoding/json's, and one that is not UTF-8 (both pass it through).
var oddNames = []string{"quote\" back\\slash", "<tag> & amp", "tab\tnew\nline\rcr", "ctl \x01\x1f\x7f",
	"line\u2028para\u2029", "é 😀 中文", "", "not utf-8 \xff\xc3"}

// TestSearchUsersAnswer checks that the handler's own answer to the SDK's
// SearchUsers is byte for byte gqlgen's, for every field it writes: users
// with and without email (a service account), admin or not, deactivated,
// with keys (a description, an empty one, none), with teams or only their
// own entity, and names, usernames, emails and descriptions that need
// escapes.
func TestSearchUsersAnswer(t *testing.T) {
	t.Parallel()
	seed := wandbtest.Seed{Teams: []wandbtest.SeedTeam{{Name: "ml", ServiceAccounts: []wandbtest.SeedServiceAccount{{Description: "ci <bot>"}}}}}
	inactive := false
	for i, name := range oddNames {
		letter := string(rune('a' + i))
		u := wandbtest.SeedUser{Email: "odd" + letter + "@example.com", Name: name, Admin: i%2 == 0}
		switch i % 3 {
		case 0:
			u.Keys = []wandbtest.SeedKey{{Description: name}, {}}
		case 1:
			u.Teams = []string{"ml", "ops-" + letter}
		case 2:
			u.Username = "odd " + letter + name
			u.Email = `odd"<&>\` + letter + "@example.com"
		}
		if i == 3 {
			u.Active = &inactive
		}
		seed.Users = append(seed.Users, u)
	}
	srv := wandbtest.Start(t, wandbtest.WithSeed(seed))
	if _, err := srv.AddAPIKey("odda@example.com", "another"); err != nil {
		t.Fatal(err)
	}
	generateKey(t, srv, srv.AdminKey(), nil) // a key without a description
	sdkDoc, err := os.ReadFile("../../testdata/sdk/SearchUsers.graphql")
	if err != nil {
		t.Fatal(err)
	}
	for _, vars := range []map[string]any{nil, {"query": nil}, {"query": ""}, {"query": "ODD"}, {"query": "service"}, {"query": "none"}} {
		want := post(t, srv, call{key: srv.AdminKey(), query: inlineSearchUsers, vars: vars}).wantOK(t)
		for _, doc := range []string{string(sdkDoc), gql.SearchUsers_Operation} {
			got := post(t, srv, call{key: srv.AdminKey(), query: doc, vars: vars})
			if got.Status != http.StatusOK || got.Header.Get("Content-Type") != want.Header.Get("Content-Type") ||
				!bytes.Equal(got.Body, want.Body) {
				t.Errorf("variables %v: HTTP %d %q:\n%s\nwant gqlgen's:\n%s", vars, got.Status, got.Header.Get("Content-Type"),
					got.shown(), want.shown())
			}
		}
	}
}

// TestSearchUsersLeftToGqlgen sends SearchUsers where gqlgen must answer:
// a caller who is not an admin, a client that is not the public one, a
// variable of another type, another operation name.
func TestSearchUsersLeftToGqlgen(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	bob := addUser(t, srv, "bob@example.com", false)
	doc := gql.SearchUsers_Operation
	if r := post(t, srv, call{key: bob, query: doc}); r.Status != http.StatusForbidden || len(r.Errors) != 1 {
		t.Errorf("not an admin: HTTP %d, %s", r.Status, r.shown())
	}
	if r := post(t, srv, call{key: srv.AdminKey(), query: doc, userAgent: "wandb-core"}); len(r.Errors) == 0 || r.Errors[0].Message != "relogin required" {
		t.Errorf("not the public client: HTTP %d, %s", r.Status, r.shown())
	}
	odd := map[string]any{"query": 7} // gqlgen takes it as "7"
	want := post(t, srv, call{key: srv.AdminKey(), query: inlineSearchUsers, vars: odd})
	if r := post(t, srv, call{key: srv.AdminKey(), query: doc, vars: odd}); !bytes.Equal(r.Body, want.Body) {
		t.Errorf("a number for $query: HTTP %d, %s; want %s", r.Status, r.shown(), want.shown())
	}
	if r := post(t, srv, call{key: srv.AdminKey(), query: doc, opName: "Other"}); len(r.Errors) == 0 {
		t.Errorf("another operation name: HTTP %d, %s", r.Status, r.shown())
	}
}

// TestSearchUsersFaults checks that faults still apply to the SDK's
// SearchUsers: one after the operation replaces its answer, a delay only
// delays it.
func TestSearchUsersFaults(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	srv.FailNext("SearchUsers", wandbtest.Fault{AfterApply: true, Status: http.StatusBadGateway, Body: "gateway"},
		wandbtest.Fault{Delay: time.Millisecond})
	if r := post(t, srv, call{key: srv.AdminKey(), query: gql.SearchUsers_Operation}); r.Status != http.StatusBadGateway || string(r.Body) != "gateway" {
		t.Errorf("a fault after the operation: HTTP %d %s", r.Status, r.shown())
	}
	if r := post(t, srv, call{key: srv.AdminKey(), query: gql.SearchUsers_Operation}).wantOK(t); !bytes.Contains(r.Body, []byte(wandbtest.AdminEmail)) {
		t.Errorf("after a delay: %s", r.shown())
	}
}

// TestEmptyUserQueryListsNobody: with the option, an empty or null query
// lists nobody, in the handler's own answer to the SDK's document and in
// gqlgen's; other queries still match.
func TestEmptyUserQueryListsNobody(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithEmptyUserQueryListsNobody())
	addUser(t, srv, "bob@example.com", false)
	for _, vars := range []map[string]any{nil, {"query": nil}, {"query": ""}, {"query": "bob"}} {
		want := []string{}
		if vars["query"] == "bob" {
			want = []string{"bob@example.com"}
		}
		for _, doc := range []string{gql.SearchUsers_Operation, inlineSearchUsers} {
			r := post(t, srv, call{key: srv.AdminKey(), query: doc, vars: vars}).wantOK(t)
			if got := emailsOf(t, r); !slices.Equal(got, want) {
				t.Errorf("variables %v: listed %v, want %v", vars, got, want)
			}
		}
	}
}
