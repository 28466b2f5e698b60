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
	srv := newServer(t, wandbtest.WithSeed(wandbtest.Seed{Users: []wandbtest.SeedUser{
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
	srv := newServer(t)
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
	srv := newServer(t)
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
	if e := asError(t, err, "delete_api_key", CodeNotFound); !strings.Contains(e.Message, "not loaded") {
		t.Errorf("message = %q, want it to say the keys were not loaded", e.Message)
	}
}

func TestUsers(t *testing.T) {
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

func TestUsersNeedsAdmin(t *testing.T) {
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
	srv := newServer(t)
	c := testClient(t, srv)
	body := `{"data":{"users":{"edges":[` + userNode("VXNlcjox", "a@x.com", "null") + `,` +
		userNode("VXNlcjoy", "b@x.com", `{"edges":[]}`) + `]}},
		"errors":[{"message":"relogin required","path":["users","edges",0,"node","apiKeys"]}]}`
	srv.FailNext("SearchUsers", wandbtest.Fault{Body: body}, wandbtest.Fault{Body: body}, wandbtest.Fault{Body: body})
	ctx := context.Background()
	users, err := c.Users(ctx, "x.com")
	e := asError(t, err, "users", CodeUnauthorized)
	if e.Message != "relogin required (at users.edges[0].node.apiKeys)" {
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
	srv := newServer(t)
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

func TestCreateUserNullResult(t *testing.T) {
	srv := newServer(t)
	c := testClient(t, srv)
	srv.FailNext("CreateUserFromAdmin", wandbtest.Fault{Body: `{"data":{"result":{"user":null}}}`})
	_, err := c.CreateUser(context.Background(), "dave@example.com", false)
	asError(t, err, "create_user", CodeBadResponse)
}

// TestConcurrentUse exercises one client and one User from many goroutines
// (run with -race).
func TestConcurrentUse(t *testing.T) {
	srv := seeded(t)
	c := testClient(t, srv)
	ctx := context.Background()
	me, err := c.Viewer(ctx)
	if err != nil {
		t.Fatal(err)
	}
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

func TestUserString(t *testing.T) {
	s := func(v string) *string { return &v }
	for _, tc := range []struct {
		u    *User
		want string
	}{
		{&User{Email: s("a@x.com"), Username: s("a"), ID: "id", Name: "A"}, "<User a@x.com>"},
		{&User{Email: s(""), Username: s("a"), ID: "id", Name: "A"}, "<User a>"},
		{&User{ID: "id", Name: "A"}, "<User id>"},
		{&User{Name: "Ann O'Neil"}, `<User "Ann O'Neil">`},
		{&User{}, "<User ???>"},
		{nil, "<User ???>"},
	} {
		if got := tc.u.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

// userView is every field a caller can read from a User.
type userView struct {
	ID, Name                           string
	Username, Email, Entity, DeletedAt *string
	Admin                              *bool
	Keys                               []APIKey
	Teams                              []string
}

func viewOf(u *User) userView {
	return userView{ID: u.ID, Name: u.Name, Username: u.Username, Email: u.Email, Entity: u.Entity,
		DeletedAt: u.DeletedAt, Admin: u.Admin, Keys: u.APIKeys(), Teams: u.Teams()}
}

// TestUserFields: every field of UserFragment reaches the User, and a null
// stays nil.
func TestUserFields(t *testing.T) {
	srv := seeded(t)
	c := testClient(t, srv)
	ctx := context.Background()
	s := func(v string) *string { return &v }
	b := func(v bool) *bool { return &v }
	keysOf := func(email string) []APIKey {
		info, _ := srv.UserByEmail(email)
		out := []APIKey{}
		for _, k := range info.Keys {
			out = append(out, APIKey{ID: k.ID, Name: k.Name, Description: s(k.Description)})
		}
		return out
	}
	adminInfo, _ := srv.UserByEmail(wandbtest.AdminEmail)
	aliceInfo, _ := srv.UserByEmail("alice@example.com")

	me, err := c.Viewer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := userView{ID: adminInfo.ID, Name: "admin", Username: s("admin"), Email: s(wandbtest.AdminEmail),
		Entity: s("admin"), Admin: b(true), Keys: keysOf(wandbtest.AdminEmail)}
	if diff := cmp.Diff(want, viewOf(me)); diff != "" {
		t.Errorf("viewer (-want +got):\n%s", diff)
	}

	alice, err := c.User(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	want = userView{ID: aliceInfo.ID, Name: "Alice", Username: s("alice"), Email: s("alice@example.com"),
		Entity: s("alice"), Admin: b(false), Keys: keysOf("alice@example.com"), Teams: []string{"ml"}}
	if diff := cmp.Diff(want, viewOf(alice)); diff != "" {
		t.Errorf("alice (-want +got):\n%s", diff)
	}

	srv.FailNext("SearchUsers", wandbtest.Fault{Body: `{"data":{"users":{"edges":[{"node":{"id":"VXNlcjo3","name":"gone",
		"username":null,"email":null,"admin":null,"flags":"{}","entity":null,"deletedAt":"2026-01-02T03:04:05Z",
		"apiKeys":{"edges":[{"node":{"id":"QXBpS2V5Ojk=","name":"0123456789abcdef0123","description":null}}]},
		"teams":{"edges":[{"node":{"name":"ml"}}]}}}]}}}`})
	users, err := c.Users(ctx, "gone")
	if err != nil || len(users) != 1 {
		t.Fatalf("Users = %v, %v; want one user", users, err)
	}
	want = userView{ID: "VXNlcjo3", Name: "gone", DeletedAt: s("2026-01-02T03:04:05Z"),
		Keys: []APIKey{{ID: "QXBpS2V5Ojk=", Name: "0123456789abcdef0123"}}, Teams: []string{"ml"}}
	if diff := cmp.Diff(want, viewOf(users[0])); diff != "" {
		t.Errorf("deleted user with nulls (-want +got):\n%s", diff)
	}
}
