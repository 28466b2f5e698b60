package wandb

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

func emails(users []*User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = deref(u.Email)
	}
	return out
}

func TestUserLookup(t *testing.T) {
	t.Parallel()
	srv := seeded(t)
	c := testClient(t, srv)
	ctx := context.Background()
	for _, tc := range []struct {
		query string
		want  string // email of the user found
	}{
		{"alice@example.com", "alice@example.com"},
		{"ALICE@EXAMPLE.COM", "alice@example.com"},
		{"alice", "alice@example.com"},
		{"Alicia", "alicia@example.org"},
		{"alici", "alicia@example.org"}, // no exact match, one result
		{"bob", "bob@example.com"},
	} {
		u, err := c.User(ctx, tc.query)
		if err != nil {
			t.Errorf("User(%q): %v", tc.query, err)
			continue
		}
		if deref(u.Email) != tc.want {
			t.Errorf("User(%q) = %v, want %s", tc.query, u, tc.want)
		}
	}

	u, err := c.User(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := srv.UserByEmail("alice@example.com")
	if u.ID != info.ID || u.Name != "Alice" || deref(u.Username) != "alice" || deref(u.Admin) {
		t.Errorf("alice = %+v, server has %+v", u, info)
	}
	var names []string
	for _, k := range info.Keys {
		names = append(names, k.Name)
	}
	var got []string
	for _, k := range u.APIKeys() {
		got = append(got, k.Name)
	}
	if diff := cmp.Diff(names, got); diff != "" {
		t.Errorf("api key names (-server +client):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ml"}, u.Teams()); diff != "" {
		t.Errorf("teams (-want +got):\n%s", diff)
	}
	if v := srv.Requests("SearchUsers"); v == 0 {
		t.Error("no SearchUsers request seen")
	}
	req, _ := srv.LastRequest("SearchUsers")
	if req.Variables["query"] != "alice" {
		t.Errorf("query variable = %v, want the string searched for", req.Variables["query"])
	}
}

// TestUserExactMatchWins: among several substring matches, the user whose
// username or email equals the query, ignoring case, is the answer.
func TestUserExactMatchWins(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeed(wandbtest.Seed{Users: []wandbtest.SeedUser{
		{Email: "ann@example.com", Username: "ann"},
		{Email: "joann@example.com", Username: "joann"},
		{Email: "dan@corp.example", Username: "Danny"},
		{Email: "danny.b@corp.example", Username: "dannyb"},
	}}))
	c := testClient(t, srv)
	for _, tc := range []struct {
		query string
		want  string // email of the user found
	}{
		{"ANN", "ann@example.com"},             // username, other case; joann matches too
		{"Ann@Example.COM", "ann@example.com"}, // email, other case; joann@example.com contains it
		{"danny", "dan@corp.example"},          // username "Danny"; danny.b@ and dannyb match too
		{"DANNY.B@corp.example", "danny.b@corp.example"},
	} {
		u, err := c.User(context.Background(), tc.query)
		if err != nil {
			t.Errorf("User(%q): %v", tc.query, err)
			continue
		}
		if deref(u.Email) != tc.want {
			t.Errorf("User(%q) = %v, want %s", tc.query, u, tc.want)
		}
	}
}

func TestUserAmbiguous(t *testing.T) {
	t.Parallel()
	srv := seeded(t)
	c := testClient(t, srv)
	_, err := c.User(context.Background(), "example.com")
	e := asError(t, err, "user", CodeAmbiguous)
	if !errors.Is(err, ErrAmbiguous) {
		t.Error("not errors.Is(err, ErrAmbiguous)")
	}
	want := []string{"<User admin@example.com>", "<User alice@example.com>", "<User bob@example.com>"}
	if diff := cmp.Diff(want, e.Candidates); diff != "" {
		t.Errorf("candidates (-want +got):\n%s", diff)
	}
	for _, w := range want {
		if !strings.Contains(e.Message, w) {
			t.Errorf("message %q does not name %s", e.Message, w)
		}
	}
}

func TestUserAmbiguousManyCandidates(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	for i := range 12 {
		if _, err := srv.AddUser(wandbtest.SeedUser{Email: fmt.Sprintf("user%02d@corp.example", i)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := testClient(t, srv).User(context.Background(), "corp.example")
	e := asError(t, err, "user", CodeAmbiguous)
	if len(e.Candidates) != 12 || !strings.Contains(e.Message, "and 2 more") {
		t.Errorf("candidates %d, message %q: want 12 and a shortened list", len(e.Candidates), e.Message)
	}
}

func TestUserNotFoundAndInvalid(t *testing.T) {
	t.Parallel()
	srv := seeded(t)
	c := testClient(t, srv)
	ctx := context.Background()
	u, err := c.User(ctx, "nobody")
	if u != nil || !errors.Is(err, ErrNotFound) {
		t.Errorf("User(nobody) = %v, %v; want nil, ErrNotFound", u, err)
	}
	asError(t, err, "user", CodeNotFound)

	before := srv.Requests("")
	for _, x := range []string{"", "  "} {
		_, err := c.User(ctx, x)
		asError(t, err, "user", CodeInvalidArgument)
	}
	if srv.Requests("") != before {
		t.Error("an empty lookup sent a request")
	}
}

// userNode is a UserFragment node as W&B returns it.
func userNode(id, email string, apiKeys string) string {
	return fmt.Sprintf(`{"node":{"id":%q,"name":"n","username":%q,"email":%q,"admin":false,"flags":null,
		"entity":null,"deletedAt":null,"apiKeys":%s,"teams":{"edges":[{"node":null}]}}}`,
		id, strings.Split(email, "@")[0], email, apiKeys)
}

func TestUsersDeduplicatedAndNullNodes(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	c := testClient(t, srv)
	keys := `{"edges":[{"node":{"id":"k1","name":"n1","description":null}},{"node":null}]}`
	body := `{"data":{"users":{"edges":[` + userNode("VXNlcjox", "a@x.com", keys) + `,{"node":null},` +
		userNode("VXNlcjox", "a@x.com", keys) + `,` + userNode("VXNlcjoy", "b@x.com", "null") + `]}}}`
	dup := `{"data":{"users":{"edges":[` + userNode("VXNlcjox", "a@x.com", keys) + `,` + userNode("VXNlcjox", "a@x.com", keys) + `]}}}`
	srv.FailNext("SearchUsers", wandbtest.Fault{Body: body}, wandbtest.Fault{Body: dup})
	users, err := c.Users(context.Background(), "x.com")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a@x.com", "b@x.com"}, emails(users)); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]APIKey{{ID: "k1", Name: "n1"}}, users[0].APIKeys()); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	if len(users[0].Teams()) != 0 {
		t.Errorf("null team node not skipped")
	}
	// Two results that are one user are not ambiguous.
	u, err := c.User(context.Background(), "a@")
	if err != nil || u == nil {
		t.Fatalf("User(a@) = %v, %v", u, err)
	}
	// b's keys were null, so none can be deleted, and the message says why.
	err = users[1].DeleteAPIKey(context.Background(), "n1")
	if e := asError(t, err, "delete_api_key", CodeNotFound); !strings.HasSuffix(e.Message, "were not loaded; fetch the user again (user or viewer) to see them") {
		t.Errorf("message = %q, want it to say the keys were not loaded", e.Message)
	}
}

func TestUsers(t *testing.T) {
	t.Parallel()
	srv := seeded(t)
	c := testClient(t, srv)
	ctx := context.Background()
	all, err := c.Users(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"admin@example.com", "alice@example.com", "alicia@example.org", "bob@example.com"}, emails(all)); diff != "" {
		t.Errorf("all users (-want +got):\n%s", diff)
	}
	none, err := c.Users(ctx, "no-such-user")
	if err != nil || none == nil || len(none) != 0 {
		t.Errorf("Users(no match) = %#v, %v; want an empty slice", none, err)
	}
	srv.FailNext("SearchUsers", wandbtest.Fault{Body: `{"data":{"users":null}}`})
	none, err = c.Users(ctx, "x")
	if err != nil || none == nil || len(none) != 0 {
		t.Errorf("Users(null users) = %#v, %v; want an empty slice", none, err)
	}
}

// TestUsersEmptyQuery: whether W&B lists every user for an empty query is
// not public. Against a server that does, Users("") lists them; against
// one that lists nobody (the caller, at least, is a user), it is an error,
// never "there are no users", and so is what relies on it.
func TestUsersEmptyQuery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		opts  []wandbtest.Option
		lists bool
	}{
		{"lists everyone", nil, true},
		{"lists nobody", []wandbtest.Option{wandbtest.WithEmptyUserQueryListsNobody()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// root: a second active instance admin.
			srv := seeded(t, append(tc.opts, wandbtest.WithSeed(wandbtest.Seed{Users: []wandbtest.SeedUser{{Email: "root@example.com", Admin: true}}}))...)
			c := testClient(t, srv)
			all, err := c.Users(ctx, "")
			if tc.lists {
				if diff := cmp.Diff([]string{"admin@example.com", "alice@example.com", "alicia@example.org", "bob@example.com", "root@example.com"}, emails(all)); err != nil || diff != "" {
					t.Errorf("Users(\"\") = %v (-want +got):\n%s", err, diff)
				}
			} else {
				e := asError(t, err, "users", CodeBadResponse)
				if all != nil || !strings.Contains(e.Message, "listed nobody for an empty query") {
					t.Errorf("Users(\"\") = %v, %v", all, e)
				}
			}
			if bob, err := c.Users(ctx, "bob"); err != nil || len(bob) != 1 {
				t.Errorf("Users(bob) = %v, %v", bob, err)
			}
			// The last-admin guard lists users this way: it may refuse for
			// want of a list, never claim that root is no admin.
			me, err := c.Viewer(ctx)
			if err != nil {
				t.Fatal(err)
			}
			err = me.Deactivate(ctx)
			if errors.Is(err, ErrLastAdmin) || (tc.lists && err != nil) {
				t.Errorf("deactivating one of two admins: %v", err)
			}
		})
	}
	// A server that answers "" with an empty list or null, whatever it does
	// otherwise.
	srv := seeded(t)
	c := testClient(t, srv)
	for _, body := range []string{`{"data":{"users":{"edges":[]}}}`, `{"data":{"users":null}}`} {
		srv.FailNext("SearchUsers", wandbtest.Fault{Body: body})
		all, err := c.Users(ctx, "")
		if e := asError(t, err, "users", CodeBadResponse); all != nil {
			t.Errorf("%s: Users(\"\") = %v, %v", body, all, e)
		}
	}
}

func TestUsersNeedsAdmin(t *testing.T) {
	t.Parallel()
	srv := seeded(t)
	bob := clientFor(t, srv, testClient(t, srv), "bob@example.com")
	_, err := bob.Users(context.Background(), "")
	e := asError(t, err, "users", CodeForbidden)
	if e.Status != http.StatusForbidden || !strings.Contains(e.Message, "permission denied") {
		t.Errorf("error = %v, want the server's 403 text", e)
	}
	_, err = bob.User(context.Background(), "alice")
	asError(t, err, "user", CodeForbidden)
	_, err = bob.CreateUser(context.Background(), "carol@example.com", false)
	asError(t, err, "create_user", CodeForbidden)
}

// TestUsersPartialData: a field error in a 200 keeps the users that came back.
func TestUsersPartialData(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	c := testClient(t, srv)
	body := `{"data":{"users":{"edges":[` + userNode("VXNlcjox", "a@x.com", "null") + `,` +
		userNode("VXNlcjoy", "b@x.com", `{"edges":[]}`) + `]}},
		"errors":[{"message":"relogin required","path":["users","edges",0,"node","apiKeys"]}]}`
	srv.FailNext("SearchUsers", wandbtest.Fault{Body: body}, wandbtest.Fault{Body: body}, wandbtest.Fault{Body: body})
	ctx := context.Background()
	users, err := c.Users(ctx, "x.com")
	e := asError(t, err, "users", CodeUnauthorized)
	if e.Message != "relogin required" { // the path of the field in the query means nothing to a person
		t.Errorf("message = %q", e.Message)
	}
	if diff := cmp.Diff([]string{"a@x.com", "b@x.com"}, emails(users)); diff != "" {
		t.Errorf("partial users (-want +got):\n%s", diff)
	}
	// User resolves on the partial data and still reports the error.
	u, err := c.User(ctx, "b@x.com")
	if u == nil || deref(u.Email) != "b@x.com" || err == nil {
		t.Errorf("User on partial data = %v, %v; want b and the error", u, err)
	}
	// When the partial data does not settle the lookup, the server's error wins.
	u, err = c.User(ctx, "x.com")
	if u != nil {
		t.Errorf("ambiguous partial lookup returned %v", u)
	}
	asError(t, err, "user", CodeUnauthorized)
	// The viewer with a field error: returned, with the error, and not cached.
	srv.FailNext("GetViewer", wandbtest.Fault{Body: `{"data":{"viewer":` + strings.TrimPrefix(strings.TrimSuffix(userNode("VXNlcjox", "a@x.com", "null"), "}"), `{"node":`) +
		`},"errors":[{"message":"relogin required","path":["viewer","apiKeys"]}]}`})
	v, err := c.Viewer(ctx)
	if v == nil || err == nil {
		t.Fatalf("Viewer with a field error = %v, %v; want both", v, err)
	}
	if v2, err := c.Viewer(ctx); err != nil || v2 == v {
		t.Errorf("a partial viewer was cached")
	}
}

// TestConcurrentUse exercises one client and one User from many goroutines
// (run with -race).
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	srv := seeded(t)
	c := testClient(t, srv)
	ctx := context.Background()
	me := mustViewer(t, c)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Go(func() {
			if _, err := c.User(ctx, "alice"); err != nil {
				errs <- err
			}
			if _, err := c.Viewer(ctx); err != nil {
				errs <- err
			}
			if _, err := me.GenerateAPIKey(ctx, fmt.Sprintf("k%d", i)); err != nil {
				errs <- err
			}
			_ = me.APIKeys()
			_ = me.Teams()
			_ = me.String()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	info, _ := srv.UserByEmail(wandbtest.AdminEmail)
	if len(me.APIKeys()) != len(info.Keys) {
		t.Errorf("viewer lists %d keys, server has %d", len(me.APIKeys()), len(info.Keys))
	}
}

// TestUserLookupThroughSCIM: a key the server refuses user search (an
// organisation admin on Multi-tenant Cloud, as the SDK documents) finds
// users by exact email or username through SCIM, with their teams, and
// can run their lifecycle; their keys are not known, and say so.
func TestUserLookupThroughSCIM(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := teamServer(t, wandbtest.WithUserSearchDenied(), wandbtest.WithMultiTenant())
	c := testClient(t, srv)
	_, err := c.Users(ctx, "")
	asError(t, err, "users", CodeForbidden)

	bob, err := c.User(ctx, "bob@example.com", Exact())
	if err != nil {
		t.Fatal(err)
	}
	if bob.ID != "" || deref(bob.Username) != "bob" || deref(bob.Email) != "bob@example.com" || bob.Admin != nil ||
		bob.KeysListed() || !cmp.Equal(bob.Teams(), []string{"ml"}) {
		t.Errorf("bob = %+v, keys listed %v, teams %v", bob, bob.KeysListed(), bob.Teams())
	}
	byName, err := c.User(ctx, "bob")
	if err != nil || !byName.Same(bob) {
		t.Errorf("by username: %v, %v", byName, err)
	}
	if me, err := c.Viewer(ctx); err != nil || me.Same(bob) {
		t.Errorf("the viewer is bob: %v, %v", me, err)
	}
	_, err = c.User(ctx, "bo")
	if e := asError(t, err, "user", CodeNotFound); !strings.Contains(e.Message, `no user's username is exactly "bo" (looked up through SCIM`) {
		t.Errorf("error = %v", e)
	}
	asError(t, bob.DeleteAPIKey(ctx, "x"), "delete_api_key", CodeNotFound)

	// The lifecycle: leave the team, then the organisation.
	team, err := c.Team(ctx, "ml")
	if err != nil {
		t.Fatal(err)
	}
	if err := team.RemoveMember(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if err := bob.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.UserByEmail("bob@example.com"); ok {
		t.Error("bob is still in the organisation")
	}
	if n := srv.Requests("SearchUsers"); n != 4 {
		t.Errorf("SearchUsers sent %d times, want 4 (each refused)", n)
	}

	// A key SCIM refuses too gets the search's refusal.
	asAlice := clientFor(t, srv, c, "alice@example.com")
	_, err = asAlice.User(ctx, "carol@example.com")
	if e := asError(t, err, "user", CodeForbidden); e.Status != 403 {
		t.Errorf("error = %v", e)
	}
}
