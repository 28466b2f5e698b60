package wandbtest_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// The shapes of UserFragment and the payloads, as the SDK decodes them.
type userJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Username  *string   `json:"username"`
	Email     *string   `json:"email"`
	Admin     *bool     `json:"admin"`
	Flags     *string   `json:"flags"`
	Entity    *string   `json:"entity"`
	DeletedAt *string   `json:"deletedAt"`
	APIKeys   *keysJSON `json:"apiKeys"`
	Teams     *struct {
		Edges []struct {
			Node *struct {
				Name string `json:"name"`
			} `json:"node"`
		} `json:"edges"`
	} `json:"teams"`
}

type keysJSON struct {
	Edges []struct {
		Node *keyJSON `json:"node"`
	} `json:"edges"`
}

type keyJSON struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
}

// keyNames returns the listed key names. They reach failure messages, so a
// name that is a whole secret is masked.
func (u userJSON) keyNames() []string {
	out := []string{}
	if u.APIKeys != nil {
		for _, e := range u.APIKeys.Edges {
			out = append(out, wandbtest.MaskSecrets(e.Node.Name))
		}
	}
	return out
}

func (u userJSON) teamNames() []string {
	out := []string{}
	if u.Teams != nil {
		for _, e := range u.Teams.Edges {
			out = append(out, e.Node.Name)
		}
	}
	return out
}

func viewer(t *testing.T, srv *wandbtest.Server, key string) userJSON {
	t.Helper()
	var data struct{ Viewer *userJSON }
	post(t, srv, call{key: key, query: gql.GetViewer_Operation}).wantOK(t).decode(t, &data)
	if data.Viewer == nil {
		t.Fatal("viewer is null")
	}
	return *data.Viewer
}

func searchUsers(t *testing.T, srv *wandbtest.Server, key string, query any) result {
	t.Helper()
	return post(t, srv, call{key: key, query: gql.SearchUsers_Operation, vars: map[string]any{"query": query}})
}

func emailsOf(t *testing.T, r result) []string {
	t.Helper()
	var data struct {
		Users *struct {
			Edges []struct{ Node *userJSON }
		}
	}
	r.wantOK(t).decode(t, &data)
	if data.Users == nil {
		t.Fatalf("users is null; body %s", r.Body)
	}
	out := []string{}
	for _, e := range data.Users.Edges {
		out = append(out, *e.Node.Email)
	}
	return out
}

func createUser(t *testing.T, srv *wandbtest.Server, key, email string, admin any) result {
	t.Helper()
	return post(t, srv, call{key: key, query: gql.CreateUserFromAdmin_Operation,
		vars: map[string]any{"email": email, "admin": admin}})
}

func generateKey(t *testing.T, srv *wandbtest.Server, key string, description any) keyJSON {
	t.Helper()
	var data struct {
		Result *struct{ APIKey *keyJSON }
	}
	post(t, srv, call{key: key, query: gql.GenerateApiKey_Operation,
		vars: map[string]any{"description": description}}).wantOK(t).decode(t, &data)
	if data.Result == nil || data.Result.APIKey == nil {
		t.Fatal("generateApiKey result or apiKey is null")
	}
	return *data.Result.APIKey
}

func deleteKey(t *testing.T, srv *wandbtest.Server, key, id string) result {
	t.Helper()
	return post(t, srv, call{key: key, query: gql.DeleteApiKey_Operation, vars: map[string]any{"id": id}})
}

func TestViewerOfAdmin(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	got := viewer(t, srv, srv.AdminKey())
	info, ok := srv.UserByEmail(wandbtest.AdminEmail)
	if !ok || len(info.Keys) != 1 {
		t.Fatalf("UserByEmail(admin) = %+v, %v; want the admin with one key", info, ok)
	}
	want := userJSON{
		ID:       info.ID,
		Name:     "admin",
		Username: ptr("admin"),
		Email:    ptr(wandbtest.AdminEmail),
		Admin:    ptr(true),
		Entity:   ptr("admin"),
		APIKeys:  got.APIKeys,
		Teams:    got.Teams,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("viewer mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{info.Keys[0].Name}, got.keyNames()); diff != "" {
		t.Errorf("viewer key names (-want +got):\n%s", diff)
	}
	if got.Flags != nil || got.DeletedAt != nil {
		t.Errorf("flags, deletedAt = %v, %v; want null", got.Flags, got.DeletedAt)
	}
	if got := decodeID(t, got.ID); got != "User:1" {
		t.Errorf("admin id decodes to %q, want User:1", got)
	}
	if !strings.HasPrefix(srv.AdminKey(), info.Keys[0].Name) || len(srv.AdminKey()) != 40 {
		t.Error("admin key is not 40 characters starting with its listed name")
	}
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %q, want http://127.0.0.1:<port>", srv.URL)
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	admin := srv.AdminKey()
	info, _ := srv.UserByEmail(wandbtest.AdminEmail)
	keyID := info.Keys[0].Name
	tests := []struct {
		name   string
		header string // Authorization
	}{
		{"no credentials", ""},
		{"unknown key", basic("api", strings.Repeat("0", 40))},
		{"listed key name is not a key", basic("api", keyID)},
		{"user name is not api", basic("admin", admin)},
		{"empty key", basic("api", "")},
		{"bearer", "Bearer " + admin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := call{query: gql.GetViewer_Operation}
			if tt.header != "" {
				c.header = map[string]string{"Authorization": tt.header}
			}
			r := post(t, srv, c)
			if r.Status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401; body %s", r.Status, r.Body)
			}
			if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "unauthorized") {
				t.Errorf("errors = %v, want one unauthorized error", r.Errors)
			}
			if r.Data != nil {
				t.Errorf("401 body has data: %s", r.Body)
			}
		})
	}
}

func basic(user, pass string) string {
	r, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

func TestUsersSearch(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	for _, e := range []string{"alice@example.com", "alice.smith@example.com", "Bob@Example.org"} {
		addUser(t, srv, e, false)
	}
	all := []string{wandbtest.AdminEmail, "alice@example.com", "alice.smith@example.com", "Bob@Example.org"}
	tests := []struct {
		query any
		want  []string
	}{
		{"alice", []string{"alice@example.com", "alice.smith@example.com"}},
		{"ALICE", []string{"alice@example.com", "alice.smith@example.com"}},
		{"smith", []string{"alice.smith@example.com"}},
		{"alice@example.com", []string{"alice@example.com"}},
		{"example.org", []string{"Bob@Example.org"}},
		{"bob", []string{"Bob@Example.org"}}, // username bob, email Bob@...
		{"nobody", []string{}},
		{"", all},
		{nil, all},
	}
	for _, tt := range tests {
		got := emailsOf(t, searchUsers(t, srv, srv.AdminKey(), tt.query))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("users(%v) (-want +got):\n%s", tt.query, diff)
		}
	}
}

func TestUsersSearchMatchesUsername(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	if _, err := srv.AddUser(wandbtest.SeedUser{Email: "x@example.com", Username: "Zed"}); err != nil {
		t.Fatal(err)
	}
	got := emailsOf(t, searchUsers(t, srv, srv.AdminKey(), "zED"))
	if diff := cmp.Diff([]string{"x@example.com"}, got); diff != "" {
		t.Errorf("users(zED) (-want +got):\n%s", diff)
	}
}

func TestAdminOnlyOperations(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	key := addUser(t, srv, "alice@example.com", false)
	before := len(srv.Users())
	for _, tt := range []struct {
		name  string
		r     result
		field string
	}{
		{"users", searchUsers(t, srv, key, "a"), "users"},
		{"createUser", createUser(t, srv, key, "new@example.com", false), "result"},
	} {
		if tt.r.Status != http.StatusForbidden {
			t.Errorf("%s by non-admin: status %d, want 403; body %s", tt.name, tt.r.Status, tt.r.Body)
		}
		if len(tt.r.Errors) != 1 || !strings.Contains(tt.r.Errors[0].Message, "permission denied") {
			t.Errorf("%s by non-admin: errors %v, want one permission error", tt.name, tt.r.Errors)
		}
		var data map[string]any
		tt.r.decode(t, &data)
		if v, ok := data[tt.field]; !ok || v != nil {
			t.Errorf("%s by non-admin: data %v, want %s: null", tt.name, data, tt.field)
		}
	}
	if got := len(srv.Users()); got != before {
		t.Errorf("a forbidden createUser changed the users: %d, want %d", got, before)
	}
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	var data struct {
		Result *struct{ User *userJSON }
	}
	createUser(t, srv, srv.AdminKey(), "Alice.Smith+ml@Example.com", false).wantOK(t).decode(t, &data)
	got := *data.Result.User
	want := userJSON{
		ID: got.ID, Name: "Alice.Smith+ml", Username: ptr("alice.smith-ml"),
		Email: ptr("Alice.Smith+ml@Example.com"), Admin: ptr(false),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("created user (-want +got):\n%s", diff)
	}
	if id := decodeID(t, got.ID); id != "User:2" {
		t.Errorf("id decodes to %q, want User:2", id)
	}

	info, ok := srv.UserByEmail("alice.smith+ml@example.com")
	if !ok || info.Username != "alice.smith-ml" || info.Admin || len(info.Keys) != 0 {
		t.Errorf("stored user = %+v, %v", info, ok)
	}

	// The username is made unique; admin: true and null are honoured.
	createUser(t, srv, srv.AdminKey(), "alice.smith-ml@other.org", true).wantOK(t).decode(t, &data)
	if u := data.Result.User; *u.Username != "alice.smith-ml-2" || !*u.Admin {
		t.Errorf("second user: username %q admin %v, want alice.smith-ml-2 true", *u.Username, *u.Admin)
	}
	createUser(t, srv, srv.AdminKey(), "admin@other.org", nil).wantOK(t).decode(t, &data)
	if u := data.Result.User; *u.Username != "admin-2" || *u.Admin {
		t.Errorf("third user: username %q admin %v, want admin-2 false", *u.Username, *u.Admin)
	}
}

func TestCreateUserConflict(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	addUser(t, srv, "alice@example.com", false)
	n := len(srv.Users())
	r := createUser(t, srv, srv.AdminKey(), "ALICE@example.COM", false)
	if r.Status != http.StatusConflict {
		t.Fatalf("status %d, want 409; body %s", r.Status, r.Body)
	}
	if got, want := string(r.Body), `{"error":"user with email ALICE@example.COM already exists"}`; got != want {
		t.Errorf("body %s, want %s", got, want)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if got := len(srv.Users()); got != n {
		t.Errorf("users after conflict: %d, want %d", got, n)
	}
}

func TestCreateUserInvalidEmail(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	for _, email := range []string{"", "no-at-sign", "@example.com", "a@", "a@b@c", "a b@example.com"} {
		r := createUser(t, srv, srv.AdminKey(), email, false)
		if r.Status != http.StatusOK || len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "invalid email") {
			t.Errorf("createUser(%q): status %d errors %v, want 200 with an invalid email error", email, r.Status, r.Errors)
		}
	}
	if got := len(srv.Users()); got != 1 {
		t.Errorf("users: %d, want only the admin", got)
	}
}

var secretRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

func TestGenerateAPIKey(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	aliceKey := addUser(t, srv, "alice@example.com", false)

	k := generateKey(t, srv, aliceKey, "ci runner")
	if !secretRE.MatchString(k.Name) {
		t.Fatal("creation response name is not 40 lower-case hex characters")
	}
	if k.Description == nil || *k.Description != "ci runner" {
		t.Errorf("description %v, want ci runner", k.Description)
	}
	if id := decodeID(t, k.ID); !strings.HasPrefix(id, "ApiKey:") {
		t.Errorf("id decodes to %q, want ApiKey:<n>", id)
	}

	// The key went to the caller, and lists as its ID, the secret minus 20.
	me := viewer(t, srv, k.Name)
	if *me.Email != "alice@example.com" {
		t.Errorf("new key authenticates as %s, want alice", *me.Email)
	}
	names := me.keyNames()
	if len(names) != 2 || names[1] != k.Name[:20] {
		t.Errorf("listed names %v, want the test key and the new key's first 20 characters", names)
	}
	if me.APIKeys.Edges[1].Node.ID != k.ID {
		t.Errorf("listed id %s, want %s", me.APIKeys.Edges[1].Node.ID, k.ID)
	}
	info, _ := srv.UserByEmail(wandbtest.AdminEmail)
	if len(info.Keys) != 1 {
		t.Errorf("admin has %d keys, want 1 (the key is the caller's)", len(info.Keys))
	}

	// A null description stays null; secrets differ.
	k2 := generateKey(t, srv, aliceKey, nil)
	if k2.Description != nil {
		t.Errorf("description %q, want null", *k2.Description)
	}
	if k2.Name == k.Name {
		t.Error("two generated keys are equal")
	}
	alice, _ := srv.UserByEmail("alice@example.com")
	if got := alice.Keys[2]; got.Description != "" || got.Name != k2.Name[:20] {
		t.Errorf("stored key %+v", got)
	}
}

func TestDeleteAPIKey(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	aliceKey := addUser(t, srv, "alice@example.com", false)
	bobKey := addUser(t, srv, "bob@example.com", false)
	extra := generateKey(t, srv, aliceKey, "extra")

	// bob may not delete alice's key.
	r := deleteKey(t, srv, bobKey, extra.ID)
	if r.Status != http.StatusForbidden || len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "permission denied") {
		t.Errorf("delete by non-owner: status %d errors %v, want 403 permission denied", r.Status, r.Errors)
	}
	var data struct {
		Result *struct{ Success *bool }
	}
	r.decode(t, &data)
	if data.Result != nil {
		t.Errorf("delete by non-owner: result %+v, want null", data.Result)
	}
	viewer(t, srv, extra.Name) // still works

	// alice may.
	deleteKey(t, srv, aliceKey, extra.ID).wantOK(t).decode(t, &data)
	if data.Result == nil || data.Result.Success == nil || !*data.Result.Success {
		t.Errorf("delete by owner: result %+v, want success true", data.Result)
	}
	if r := post(t, srv, call{key: extra.Name, query: gql.GetViewer_Operation}); r.Status != http.StatusUnauthorized {
		t.Errorf("deleted key: status %d, want 401", r.Status)
	}
	if got := viewer(t, srv, aliceKey).keyNames(); len(got) != 1 {
		t.Errorf("alice's keys after delete: %v, want one", got)
	}

	// An admin may delete anyone's key.
	alice, _ := srv.UserByEmail("alice@example.com")
	deleteKey(t, srv, srv.AdminKey(), alice.Keys[0].ID).wantOK(t)
	if r := post(t, srv, call{key: aliceKey, query: gql.GetViewer_Operation}); r.Status != http.StatusUnauthorized {
		t.Errorf("key deleted by admin: status %d, want 401", r.Status)
	}

	// Unknown or malformed ids: a GraphQL error in a 200, result null.
	for _, id := range []string{extra.ID, "QXBpS2V5Ojk5OQ==", "not base64!", alice.ID, "QXBpS2V5OjAx", ""} {
		r := deleteKey(t, srv, srv.AdminKey(), id)
		r.decode(t, &data)
		if r.Status != http.StatusOK || len(r.Errors) != 1 || r.Errors[0].Message != "api key not found" || data.Result != nil {
			t.Errorf("delete %q: status %d errors %v result %+v, want 200, api key not found, null", id, r.Status, r.Errors, data.Result)
		}
	}
	if got := len(srv.Users()); got != 3 {
		t.Errorf("users: %d, want 3", got)
	}
	viewer(t, srv, bobKey)
}

func TestAPIKeysNeedPublicClient(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	for _, ua := range []string{"wandb-core", "Go-http-client/1.1", "W&B Internal Client 0.1"} {
		r := post(t, srv, call{key: srv.AdminKey(), query: gql.GetViewer_Operation, userAgent: ua})
		if r.Status != http.StatusOK || len(r.Errors) != 1 || r.Errors[0].Message != "relogin required" {
			t.Fatalf("UA %q: status %d errors %v, want 200 and relogin required", ua, r.Status, r.Errors)
		}
		if diff := cmp.Diff([]any{"viewer", "apiKeys"}, r.Errors[0].Path); diff != "" {
			t.Errorf("UA %q: error path (-want +got):\n%s", ua, diff)
		}
		var data struct{ Viewer *userJSON }
		r.decode(t, &data)
		if data.Viewer == nil || data.Viewer.APIKeys != nil || *data.Viewer.Email != wandbtest.AdminEmail {
			t.Errorf("UA %q: viewer %+v, want the admin with apiKeys null", ua, data.Viewer)
		}
	}
	// Without apiKeys in the selection, any client is fine.
	r := post(t, srv, call{key: srv.AdminKey(), query: `query GetDefaultEntity { viewer { id entity } }`, userAgent: "wandb-core"})
	r.wantOK(t)
}

func TestTeams(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	addUser(t, srv, "alice@example.com", false)
	if _, err := srv.AddUser(wandbtest.SeedUser{Email: "bob@example.com", Teams: []string{"zeta", "ml"}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddTeam("ml", "alice@example.com", "BOB@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddTeam("empty"); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddTeam("ml", "alice@example.com"); err != nil { // idempotent
		t.Fatal(err)
	}
	var data struct {
		Users struct{ Edges []struct{ Node userJSON } }
	}
	searchUsers(t, srv, srv.AdminKey(), "example.com").wantOK(t).decode(t, &data)
	got := map[string][]string{}
	for _, e := range data.Users.Edges {
		got[*e.Node.Email] = e.Node.teamNames()
	}
	// A user's own entity first (the SDK's test_viewer), then its teams.
	want := map[string][]string{
		wandbtest.AdminEmail: {"admin"},
		"alice@example.com":  {"alice", "ml"},
		"bob@example.com":    {"bob", "zeta", "ml"}, // team creation order
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("teams (-want +got):\n%s", diff)
	}
	bob, _ := srv.UserByEmail("bob@example.com")
	if diff := cmp.Diff([]string{"zeta", "ml"}, bob.Teams); diff != "" {
		t.Errorf("UserByEmail teams (-want +got):\n%s", diff)
	}
	// Team IDs are Entity:<n>.
	var raw struct {
		Viewer struct {
			Teams struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
	}
	post(t, srv, call{key: mustKey(t, srv, "bob@example.com"), query: `query T { viewer { teams { edges { node { id } } } } }`}).
		wantOK(t).decode(t, &raw)
	if got := decodeID(t, raw.Viewer.Teams.Edges[1].Node.ID); got != "Entity:1" {
		t.Errorf("team id decodes to %q, want Entity:1", got)
	}
}

func mustKey(t *testing.T, srv *wandbtest.Server, email string) string {
	t.Helper()
	k, err := srv.AddAPIKey(email, "")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSchemaValidation(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	for _, q := range []string{
		`query Bad { viewer { nope } }`,
		`query Bad { users(query: 1) { edges { node { id } } } }`,
		`mutation Bad { createUser(input: {}) { user { id } } }`,
		`query Bad { viewer { id `,
	} {
		r := post(t, srv, call{key: srv.AdminKey(), query: q})
		if r.Status == http.StatusOK || len(r.Errors) == 0 {
			t.Errorf("%s: status %d errors %v, want a non-200 with errors", q, r.Status, r.Errors)
		}
	}
	if got := len(srv.Users()); got != 1 {
		t.Errorf("users: %d, want only the admin", got)
	}
	if got := srv.Requests("Bad"); got != 3 {
		t.Errorf("Requests(Bad) = %d, want 3 (the unparsable one has no name)", got)
	}
}

func TestPathsAndMethods(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	c := srv.Client()
	for _, tt := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/graphql", http.StatusMethodNotAllowed},
		{http.MethodPut, "/graphql", http.StatusMethodNotAllowed},
		{http.MethodPost, "/", http.StatusNotFound},
		{http.MethodPost, "/graphql/", http.StatusNotFound},
		{http.MethodGet, "/api/v1/whatever", http.StatusNotFound},
	} {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth("api", srv.AdminKey())
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.path, resp.StatusCode, tt.want)
		}
		if tt.want == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != http.MethodPost {
			t.Errorf("%s %s: Allow %q, want POST", tt.method, tt.path, resp.Header.Get("Allow"))
		}
	}
	for _, body := range []string{"not json", `{"query": 1}`} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("body %q: status %d, want 400", body, resp.StatusCode)
		}
	}
	if got := srv.Requests(""); got != 7 {
		t.Errorf("Requests(\"\") = %d, want 7", got)
	}
}
