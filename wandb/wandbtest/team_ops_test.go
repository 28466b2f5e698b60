package wandbtest_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// The team operations of the SDK's teams.py, over HTTP, with the SDK's own
// documents.

type entityJSON struct {
	ID                string       `json:"id"`
	Name              string       `json:"name"`
	Available         *bool        `json:"available"`
	ReadOnlyAdmin     bool         `json:"readOnlyAdmin"`
	IsTeam            bool         `json:"isTeam"`
	EntityType        *string      `json:"entityType"`
	PrivateOnly       bool         `json:"privateOnly"`
	StorageBytes      int64        `json:"storageBytes"`
	CodeSavingEnabled bool         `json:"codeSavingEnabled"`
	DefaultAccess     string       `json:"defaultAccess"`
	Members           []memberJSON `json:"members"`
}

type memberJSON struct {
	ID          *string `json:"id"`
	Admin       *bool   `json:"admin"`
	Pending     *bool   `json:"pending"`
	Email       *string `json:"email"`
	Username    *string `json:"username"`
	Name        string  `json:"name"`
	AccountType *string `json:"accountType"`
	APIKey      *string `json:"apiKey"`
}

// brief is a member as "username|email|name|admin|pending|type".
func (m memberJSON) brief() string {
	s := func(p *string) string {
		if p == nil {
			return "-"
		}
		return *p
	}
	b := func(p *bool) string {
		if p == nil {
			return "-"
		}
		if *p {
			return "yes"
		}
		return "no"
	}
	return strings.Join([]string{s(m.Username), s(m.Email), m.Name, b(m.Admin), b(m.Pending), s(m.AccountType)}, "|")
}

func getEntity(t *testing.T, srv *wandbtest.Server, key, name string) *entityJSON {
	t.Helper()
	var data struct{ Entity *entityJSON }
	post(t, srv, call{key: key, query: gql.GetTeamEntity_Operation, vars: map[string]any{"name": name}}).wantOK(t).decode(t, &data)
	return data.Entity
}

func members(t *testing.T, srv *wandbtest.Server, team string) []string {
	t.Helper()
	key := srv.AdminKey()
	if key == "" { // restored from a state file
		key = mustKey(t, srv, wandbtest.AdminEmail)
	}
	e := getEntity(t, srv, key, team)
	if e == nil {
		t.Fatalf("team %s does not exist", team)
	}
	out := []string{}
	for _, m := range e.Members {
		out = append(out, m.brief())
	}
	return out
}

func createTeam(t *testing.T, srv *wandbtest.Server, key, name string, admin any) result {
	t.Helper()
	return post(t, srv, call{key: key, query: gql.CreateTeam_Operation, vars: map[string]any{"teamName": name, "teamAdminUserName": admin}})
}

func invite(t *testing.T, srv *wandbtest.Server, key, team string, vars map[string]any) result {
	t.Helper()
	vars["entity"] = team
	return post(t, srv, call{key: key, query: gql.CreateInvite_Operation, vars: vars})
}

func deleteInvite(t *testing.T, srv *wandbtest.Server, key, team, id string) result {
	t.Helper()
	return post(t, srv, call{key: key, query: gql.DeleteInvite_Operation, vars: map[string]any{"id": id, "entity": team}})
}

// wantError fails unless r is an error answer with status and a message
// containing msg.
func (r result) wantError(t *testing.T, status int, msg string) {
	t.Helper()
	if r.Status != status || len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, msg) {
		t.Errorf("got HTTP %d, errors %v; want %d with %q", r.Status, r.Errors, status, msg)
	}
}

func TestCreateTeamAndGetTeamEntity(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	aliceKey := addUser(t, srv, "alice@example.com", false)
	addUser(t, srv, "bob@example.com", false)

	var created struct {
		Result *struct {
			Entity *struct {
				ID, Name  string
				Available *bool
			}
		}
	}
	createTeam(t, srv, aliceKey, "ml", nil).wantOK(t).decode(t, &created)
	if created.Result == nil || created.Result.Entity == nil || created.Result.Entity.Name != "ml" ||
		decodeID(t, created.Result.Entity.ID) != "Entity:1" {
		t.Fatalf("createTeam answered %+v", created.Result)
	}
	// An instance admin may make someone else the team's admin.
	createTeam(t, srv, srv.AdminKey(), "platform", "bob").wantOK(t)

	e := getEntity(t, srv, aliceKey, "ml")
	if e == nil || !e.IsTeam || e.Name != "ml" || e.ID != created.Result.Entity.ID || e.DefaultAccess == "" {
		t.Fatalf("entity ml = %+v", e)
	}
	if diff := cmp.Diff([]string{"alice|alice@example.com|alice|yes|no|USER"}, members(t, srv, "ml")); diff != "" {
		t.Errorf("ml members (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"bob|bob@example.com|bob|yes|no|USER"}, members(t, srv, "platform")); diff != "" {
		t.Errorf("platform members (-want +got):\n%s", diff)
	}
	if got := viewer(t, srv, aliceKey).teamNames(); !cmp.Equal(got, []string{"alice", "ml"}) {
		t.Errorf("alice's teams = %v, want [alice ml]", got)
	}
	// A user's own entity answers with the user as its member (the SDK's
	// test_query_team), and is not a team; an unknown name is null.
	if u := getEntity(t, srv, aliceKey, "alice"); u == nil || u.IsTeam {
		t.Errorf("alice's entity = %+v", u)
	}
	if diff := cmp.Diff([]string{"alice|alice@example.com|alice|yes|no|USER"}, members(t, srv, "alice")); diff != "" {
		t.Errorf("alice's entity's members (-want +got):\n%s", diff)
	}
	if got := getEntity(t, srv, aliceKey, "nope"); got != nil {
		t.Errorf("entity nope = %+v, want null", got)
	}

	createTeam(t, srv, aliceKey, "ml", nil).wantError(t, http.StatusConflict, "already exists")
	createTeam(t, srv, aliceKey, "bob", nil).wantError(t, http.StatusConflict, "already exists")
	createTeam(t, srv, aliceKey, "Bad Name", nil).wantError(t, http.StatusBadRequest, "invalid team name")
	createTeam(t, srv, aliceKey, "other", "bob").wantError(t, http.StatusForbidden, "permission denied")
	createTeam(t, srv, srv.AdminKey(), "other", "nobody").wantError(t, http.StatusNotFound, "no such user")
	if _, ok := srv.Team("other"); ok {
		t.Error("a failed createTeam created the team")
	}
	info, _ := srv.Team("ml")
	if info.ID != e.ID || len(info.Members) != 1 || !info.Members[0].Admin {
		t.Errorf("Team(ml) = %+v", info)
	}
}

func TestInvite(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	aliceKey := addUser(t, srv, "alice@example.com", false)
	bobKey := addUser(t, srv, "bob@example.com", false)
	addUser(t, srv, "carol@example.com", false)
	createTeam(t, srv, aliceKey, "ml", nil).wantOK(t)

	// By username, by the email of a user, by an address no user has.
	var inv struct {
		Result *struct {
			Invite *struct {
				ID, Name  string
				Email     *string
				CreatedAt *string
				ToUser    *struct{ Name string }
			}
		}
	}
	invite(t, srv, aliceKey, "ml", map[string]any{"username": "bob", "admin": false}).wantOK(t).decode(t, &inv)
	if i := inv.Result.Invite; !strings.HasPrefix(decodeID(t, i.ID), "Invite:") || i.ToUser == nil || i.ToUser.Name != "bob" ||
		*i.Email != "bob@example.com" || i.CreatedAt == nil {
		t.Errorf("invite = %+v", i)
	} else if _, err := time.Parse(time.RFC3339, *i.CreatedAt); err != nil {
		t.Errorf("createdAt %q: %v", *i.CreatedAt, err)
	}
	invite(t, srv, srv.AdminKey(), "ml", map[string]any{"email": "CAROL@example.com", "admin": true}).wantOK(t)
	invite(t, srv, aliceKey, "ml", map[string]any{"email": "dave@example.org"}).wantOK(t)
	want := []string{
		"alice|alice@example.com|alice|yes|no|USER",
		"bob|bob@example.com|bob|no|yes|USER",
		"carol|carol@example.com|carol|yes|yes|USER",
		"-|dave@example.org|dave@example.org|no|yes|USER",
	}
	if diff := cmp.Diff(want, members(t, srv, "ml")); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	// Pending invitees are not members yet.
	if got := viewer(t, srv, bobKey).teamNames(); !cmp.Equal(got, []string{"bob"}) {
		t.Errorf("bob's teams = %v before accepting", got)
	}

	// Errors.
	invite(t, srv, aliceKey, "ml", map[string]any{"username": "bob"}).wantError(t, http.StatusConflict, "already invited")
	invite(t, srv, aliceKey, "ml", map[string]any{"email": "Dave@example.org"}).wantError(t, http.StatusConflict, "already invited")
	invite(t, srv, aliceKey, "ml", map[string]any{"username": "alice"}).wantError(t, http.StatusConflict, "already a member")
	invite(t, srv, aliceKey, "ml", map[string]any{"username": "nobody"}).wantError(t, http.StatusNotFound, "no such user")
	invite(t, srv, aliceKey, "ml", map[string]any{}).wantError(t, http.StatusBadRequest, "either an email or a username")
	invite(t, srv, aliceKey, "ml", map[string]any{"email": "e@x.io", "username": "bob"}).wantError(t, http.StatusBadRequest, "either")
	invite(t, srv, aliceKey, "ml", map[string]any{"email": "not an email"}).wantError(t, http.StatusBadRequest, "invalid email")
	invite(t, srv, aliceKey, "nope", map[string]any{"username": "bob"}).wantError(t, http.StatusNotFound, "no such team")
	invite(t, srv, bobKey, "ml", map[string]any{"email": "x@example.com"}).wantError(t, http.StatusForbidden, "permission denied")
	if diff := cmp.Diff(want, members(t, srv, "ml")); diff != "" {
		t.Errorf("failed invites changed the members (-want +got):\n%s", diff)
	}

	// Accepting makes a member (an admin if invited as one); a user created
	// for an invited address is linked to its invite.
	if err := srv.AcceptInvite("ml", "carol@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := srv.AcceptInvite("ml", "nobody@example.com"); err == nil {
		t.Error("AcceptInvite of no user succeeded")
	}
	createUser(t, srv, srv.AdminKey(), "dave@example.org", false).wantOK(t)
	want = []string{
		"alice|alice@example.com|alice|yes|no|USER",
		"carol|carol@example.com|carol|yes|no|USER",
		"bob|bob@example.com|bob|no|yes|USER",
		"dave|dave@example.org|dave|no|yes|USER",
	}
	if diff := cmp.Diff(want, members(t, srv, "ml")); diff != "" {
		t.Errorf("members after accepting (-want +got):\n%s", diff)
	}
	carol, _ := srv.UserByEmail("carol@example.com")
	if !cmp.Equal(carol.Teams, []string{"ml"}) {
		t.Errorf("carol's teams = %v", carol.Teams)
	}
	// A plain member may not invite.
	if err := srv.AcceptInvite("ml", "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	invite(t, srv, bobKey, "ml", map[string]any{"email": "x@example.com"}).wantError(t, http.StatusForbidden, "team admin")
}

// TestDeleteInvite runs with member ids that are the users' IDs (the
// default) and with ids of their own (WithDistinctMemberIDs): either way
// deleteInvite takes the id GetTeamEntity lists.
func TestDeleteInvite(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string][]wandbtest.Option{"user ids": nil, "distinct ids": {wandbtest.WithDistinctMemberIDs()}} {
		t.Run(name, func(t *testing.T) { testDeleteInvite(t, opts...) })
	}
}

func testDeleteInvite(t *testing.T, opts ...wandbtest.Option) {
	srv := wandbtest.Start(t, opts...)
	aliceKey := addUser(t, srv, "alice@example.com", false)
	bobKey := addUser(t, srv, "bob@example.com", false)
	carolKey := addUser(t, srv, "carol@example.com", false)
	createTeam(t, srv, aliceKey, "ml", nil).wantOK(t)
	invite(t, srv, aliceKey, "ml", map[string]any{"email": "dave@example.org"}).wantOK(t)
	invite(t, srv, aliceKey, "ml", map[string]any{"username": "bob"}).wantOK(t)
	invite(t, srv, aliceKey, "ml", map[string]any{"username": "carol"}).wantOK(t)
	if err := srv.AcceptInvite("ml", "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := srv.AcceptInvite("ml", "carol@example.com"); err != nil {
		t.Fatal(err)
	}
	info, _ := srv.Team("ml")
	idOf := map[string]string{}
	for _, m := range info.Members {
		idOf[m.Email] = m.ID
	}

	var ok struct{ Result *struct{ Success *bool } }
	deleteInvite(t, srv, aliceKey, "ml", idOf["dave@example.org"]).wantOK(t).decode(t, &ok)
	if ok.Result == nil || ok.Result.Success == nil || !*ok.Result.Success {
		t.Errorf("deleteInvite answered %+v", ok.Result)
	}
	deleteInvite(t, srv, bobKey, "ml", idOf["carol@example.com"]).wantError(t, http.StatusForbidden, "permission denied")
	deleteInvite(t, srv, carolKey, "ml", idOf["carol@example.com"]).wantOK(t) // leaving
	deleteInvite(t, srv, srv.AdminKey(), "ml", idOf["bob@example.com"]).wantOK(t)
	if diff := cmp.Diff([]string{"alice|alice@example.com|alice|yes|no|USER"}, members(t, srv, "ml")); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if got := viewer(t, srv, bobKey).teamNames(); !cmp.Equal(got, []string{"bob"}) {
		t.Errorf("bob's teams after removal = %v", got)
	}

	// Gone already, unknown, of another kind, or without a team.
	r := deleteInvite(t, srv, aliceKey, "ml", idOf["bob@example.com"])
	r.wantError(t, http.StatusNotFound, "no such member or invite")
	var null struct{ Result *struct{ Success *bool } }
	r.decode(t, &null)
	if null.Result != nil {
		t.Errorf("a failed deleteInvite has result %+v, want null", null.Result)
	}
	deleteInvite(t, srv, aliceKey, "ml", "QXBpS2V5OjE=").wantError(t, http.StatusNotFound, "no such member")
	deleteInvite(t, srv, aliceKey, "nope", idOf["bob@example.com"]).wantError(t, http.StatusNotFound, "no such team")
	post(t, srv, call{key: aliceKey, query: gql.DeleteInvite_Operation, vars: map[string]any{"id": idOf["bob@example.com"]}}).
		wantError(t, http.StatusBadRequest, "entityName")
}

// TestDistinctMemberIDs: with WithDistinctMemberIDs a member's id is
// base64("Member:<n>"), no user's ID, and a user's ID removes nobody.
func TestDistinctMemberIDs(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithDistinctMemberIDs())
	aliceKey := addUser(t, srv, "alice@example.com", false)
	addUser(t, srv, "bob@example.com", false)
	createTeam(t, srv, aliceKey, "ml", nil).wantOK(t)
	createTeam(t, srv, aliceKey, "ops", nil).wantOK(t)
	invite(t, srv, aliceKey, "ml", map[string]any{"username": "bob"}).wantOK(t)
	if err := srv.AcceptInvite("ml", "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	var sa struct {
		Result *struct{ User *struct{ ID string } }
	}
	post(t, srv, call{key: aliceKey, query: gql.CreateServiceAccount_Operation, vars: map[string]any{"entity": "ml", "description": "CI bot"}}).
		wantOK(t).decode(t, &sa)
	userIDs := map[string]bool{sa.Result.User.ID: true}
	for _, email := range []string{"alice@example.com", "bob@example.com"} {
		u, _ := srv.UserByEmail(email)
		userIDs[u.ID] = true
	}
	seen := map[string]bool{}
	for _, team := range []string{"ml", "ops"} {
		for _, m := range getEntity(t, srv, aliceKey, team).Members {
			if !strings.HasPrefix(decodeID(t, *m.ID), "Member:") || userIDs[*m.ID] || seen[*m.ID] {
				t.Errorf("%s's member %s has id %s, want a Member id of its own", team, m.Name, decodeID(t, *m.ID))
			}
			seen[*m.ID] = true
		}
	}
	bob, _ := srv.UserByEmail("bob@example.com")
	deleteInvite(t, srv, aliceKey, "ml", bob.ID).wantError(t, http.StatusNotFound, "no such member or invite")
	if got := len(members(t, srv, "ml")); got != 3 {
		t.Errorf("ml has %d members after deleting by a user ID, want 3", got)
	}
}

func TestCreateServiceAccount(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	aliceKey := addUser(t, srv, "alice@example.com", false)
	bobKey := addUser(t, srv, "bob@example.com", false)
	createTeam(t, srv, aliceKey, "ml", nil).wantOK(t)
	var sa struct {
		Result *struct{ User *struct{ ID string } }
	}
	post(t, srv, call{key: aliceKey, query: gql.CreateServiceAccount_Operation, vars: map[string]any{"entity": "ml", "description": "CI bot"}}).
		wantOK(t).decode(t, &sa)
	if sa.Result == nil || sa.Result.User == nil {
		t.Fatal("createServiceAccount returned no user")
	}
	e := getEntity(t, srv, aliceKey, "ml")
	last := e.Members[len(e.Members)-1]
	if *last.ID != sa.Result.User.ID || last.brief() != "ml-service|-|CI bot|no|no|SERVICE" {
		t.Errorf("service account member = %s (id %v), want id %s", last.brief(), *last.ID, sa.Result.User.ID)
	}
	// A service account is a user with a key and the team, but no email.
	var users struct {
		Users struct{ Edges []struct{ Node userJSON } }
	}
	searchUsers(t, srv, srv.AdminKey(), "ml-service").wantOK(t).decode(t, &users)
	if len(users.Users.Edges) != 1 {
		t.Fatalf("search found %d service accounts", len(users.Users.Edges))
	}
	u := users.Users.Edges[0].Node
	if u.Email != nil || len(u.keyNames()) != 1 || !cmp.Equal(u.teamNames(), []string{"ml-service", "ml"}) {
		t.Errorf("service account user = email %v, keys %v, teams %v", u.Email, u.keyNames(), u.teamNames())
	}
	post(t, srv, call{key: aliceKey, query: gql.CreateServiceAccount_Operation, vars: map[string]any{"entity": "ml", "description": "second"}}).wantOK(t)
	if got := members(t, srv, "ml")[2]; got != "ml-service-2|-|second|no|no|SERVICE" {
		t.Errorf("second service account = %s", got)
	}
	post(t, srv, call{key: bobKey, query: gql.CreateServiceAccount_Operation, vars: map[string]any{"entity": "ml", "description": "x"}}).
		wantError(t, http.StatusForbidden, "permission denied")
	post(t, srv, call{key: aliceKey, query: gql.CreateServiceAccount_Operation, vars: map[string]any{"entity": "ml", "description": " "}}).
		wantError(t, http.StatusBadRequest, "description")
	post(t, srv, call{key: aliceKey, query: gql.CreateServiceAccount_Operation, vars: map[string]any{"entity": "nope", "description": "x"}}).
		wantError(t, http.StatusNotFound, "no such team")
}

func TestSeedTeams(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(path, []byte(`{
		"users": [{"email": "a@example.com", "teams": ["ml"]}, {"email": "b@example.com"}],
		"teams": [{"name": "ml", "admins": ["b@example.com"], "invites": ["c@example.org"]},
		          {"name": "ops", "admins": ["a@example.com"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(path))
	want := []string{"a|a@example.com|a|no|no|USER", "b|b@example.com|b|yes|no|USER", "-|c@example.org|c@example.org|no|yes|USER"}
	if diff := cmp.Diff(want, members(t, srv, "ml")); diff != "" {
		t.Errorf("ml (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a|a@example.com|a|yes|no|USER"}, members(t, srv, "ops")); diff != "" {
		t.Errorf("ops (-want +got):\n%s", diff)
	}
	for name, seed := range map[string]string{
		"nameless team":   `{"users": [], "teams": [{"admins": []}]}`,
		"unknown admin":   `{"users": [], "teams": [{"name": "t", "admins": ["x@example.com"]}]}`,
		"malformed email": `{"users": [], "teams": [{"name": "t", "invites": ["x"]}]}`,
		"member invited":  `{"users": [{"email": "a@example.com", "teams": ["t"]}], "teams": [{"name": "t", "invites": ["a@example.com"]}]}`,
	} {
		p := filepath.Join(t.TempDir(), "bad.json")
		if err := os.WriteFile(p, []byte(seed), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := wandbtest.NewHandler(wandbtest.WithSeedFile(p)); err == nil {
			t.Errorf("%s: the seed was accepted", name)
		}
	}
}

// TestTeamsSurviveRestart: members, roles, invites and member ids, with
// member ids of either kind (see WithDistinctMemberIDs).
func TestTeamsSurviveRestart(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string][]wandbtest.Option{"user ids": nil, "distinct ids": {wandbtest.WithDistinctMemberIDs()}} {
		t.Run(name, func(t *testing.T) { testTeamsSurviveRestart(t, opts...) })
	}
}

func testTeamsSurviveRestart(t *testing.T, opts ...wandbtest.Option) {
	state := filepath.Join(t.TempDir(), "state.json")
	srv := wandbtest.Start(t, append(opts, wandbtest.WithStateFile(state))...)
	aliceKey := addUser(t, srv, "alice@example.com", false)
	addUser(t, srv, "bob@example.com", false)
	createTeam(t, srv, aliceKey, "ml", nil).wantOK(t)
	invite(t, srv, aliceKey, "ml", map[string]any{"username": "bob", "admin": true}).wantOK(t)
	invite(t, srv, aliceKey, "ml", map[string]any{"email": "dave@example.org"}).wantOK(t)
	post(t, srv, call{key: aliceKey, query: gql.CreateServiceAccount_Operation, vars: map[string]any{"entity": "ml", "description": "CI"}}).wantOK(t)
	before := members(t, srv, "ml")
	beforeInfo, _ := srv.Team("ml")
	srv.Close()

	again := wandbtest.Start(t, append(opts, wandbtest.WithStateFile(state))...)
	if diff := cmp.Diff(before, members(t, again, "ml")); diff != "" {
		t.Errorf("members after restart (-before +after):\n%s", diff)
	}
	if info, _ := again.Team("ml"); !cmp.Equal(beforeInfo, info) {
		t.Errorf("team after restart (-before +after):\n%s", cmp.Diff(beforeInfo, info))
	}
	// Invites keep working: accepting bob's makes him a team admin, and new
	// invites get new IDs.
	if err := again.AcceptInvite("ml", "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	invite(t, again, mustKey(t, again, wandbtest.AdminEmail), "ml", map[string]any{"email": "erin@example.org"}).wantOK(t)
	info, _ := again.Team("ml")
	ids := map[string]bool{}
	for _, m := range info.Members {
		if ids[m.ID] {
			t.Errorf("member ID %s used twice after restart", m.ID)
		}
		ids[m.ID] = true
		if m.Email == "bob@example.com" && (!m.Admin || m.Pending) {
			t.Errorf("bob after accepting = %+v", m)
		}
	}
}

// memberKeys returns the apiKey of each member of team as caller (key)
// sees it, by name: "" for null. A test never prints one.
func memberKeys(t *testing.T, srv *wandbtest.Server, key, team string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range getEntity(t, srv, key, team).Members {
		out[m.Name] = ""
		if m.APIKey != nil {
			out[m.Name] = *m.APIKey
		}
	}
	return out
}

// viewerUsername returns the username of the identity key authenticates
// as, or "" when the key is refused.
func viewerUsername(t *testing.T, srv *wandbtest.Server, key string) string {
	t.Helper()
	r := post(t, srv, call{key: key, query: gql.GetViewer_Operation})
	if r.Status != http.StatusOK {
		return ""
	}
	var data struct{ Viewer *struct{ Username string } }
	r.decode(t, &data)
	if data.Viewer == nil {
		return ""
	}
	return data.Viewer.Username
}

// TestServiceAccountKeyInGetTeamEntity: a service account that
// createServiceAccount made shows its key's secret as its member's apiKey
// to the team's admins and instance admins, while the key exists and the
// handler runs (assumed, see FIDELITY.md); never to others, never for
// other members, never after a restart from the state file, which does
// not hold it; with WithoutMemberKeys, never.
func TestServiceAccountKeyInGetTeamEntity(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state.json")
	srv := wandbtest.Start(t, wandbtest.WithStateFile(state), wandbtest.WithSeed(wandbtest.Seed{
		Teams: []wandbtest.SeedTeam{{Name: "ops", ServiceAccounts: []wandbtest.SeedServiceAccount{{Description: "seeded"}}}},
	}))
	aliceKey := addUser(t, srv, "alice@example.com", false)
	bobKey := addUser(t, srv, "bob@example.com", false)
	createTeam(t, srv, aliceKey, "ml", nil).wantOK(t)
	invite(t, srv, aliceKey, "ml", map[string]any{"username": "bob"}).wantOK(t)
	if err := srv.AcceptInvite("ml", "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	post(t, srv, call{key: aliceKey, query: gql.CreateServiceAccount_Operation, vars: map[string]any{"entity": "ml", "description": "CI bot"}}).wantOK(t)

	keys := memberKeys(t, srv, aliceKey, "ml")
	secret := keys["CI bot"]
	if secret == "" {
		t.Fatal("the team's admin sees no apiKey for the new service account")
	}
	if got := viewerUsername(t, srv, secret); got != "ml-service" {
		t.Errorf("the member's apiKey authenticates as %q, want the service account ml-service", got)
	}
	for name, k := range keys {
		if name != "CI bot" && k != "" {
			t.Errorf("member %s has an apiKey", name)
		}
	}
	if k := memberKeys(t, srv, aliceKey, "ml")["CI bot"]; k != secret {
		t.Error("a second GetTeamEntity does not show the same key")
	}
	if k := memberKeys(t, srv, srv.AdminKey(), "ml")["CI bot"]; k != secret {
		t.Error("an instance admin does not see the key")
	}
	if k := memberKeys(t, srv, bobKey, "ml")["CI bot"]; k != "" {
		t.Error("a plain member sees the service account's key")
	}
	if k := memberKeys(t, srv, srv.AdminKey(), "ops")["seeded"]; k != "" {
		t.Error("a seeded service account shows a key")
	}
	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) {
		t.Error("the state file holds the service account's secret")
	}
	srv.Close()

	again := wandbtest.Start(t, wandbtest.WithStateFile(state))
	if k := memberKeys(t, again, aliceKey, "ml")["CI bot"]; k != "" {
		t.Error("after a restart the service account's key is shown: it was never saved")
	}
	if got := viewerUsername(t, again, secret); got != "ml-service" {
		t.Errorf("after a restart the key authenticates as %q", got)
	}

	// A key deleted is no longer shown.
	srv = wandbtest.Start(t)
	aliceKey = addUser(t, srv, "alice@example.com", false)
	createTeam(t, srv, aliceKey, "ml", nil).wantOK(t)
	post(t, srv, call{key: aliceKey, query: gql.CreateServiceAccount_Operation, vars: map[string]any{"entity": "ml", "description": "CI bot"}}).wantOK(t)
	secret = memberKeys(t, srv, aliceKey, "ml")["CI bot"]
	sa := userNamed(t, srv, "ml-service")
	if len(sa.Keys) != 1 {
		t.Fatalf("the service account has %d keys", len(sa.Keys))
	}
	post(t, srv, call{key: secret, query: gql.DeleteApiKey_Operation, vars: map[string]any{"id": sa.Keys[0].ID}}).wantOK(t)
	if k := memberKeys(t, srv, aliceKey, "ml")["CI bot"]; k != "" {
		t.Error("a deleted key is still shown")
	}

	// WithoutMemberKeys: the account and its key are made, the key never shown.
	srv = wandbtest.Start(t, wandbtest.WithoutMemberKeys())
	aliceKey = addUser(t, srv, "alice@example.com", false)
	createTeam(t, srv, aliceKey, "ml", nil).wantOK(t)
	post(t, srv, call{key: aliceKey, query: gql.CreateServiceAccount_Operation, vars: map[string]any{"entity": "ml", "description": "CI bot"}}).wantOK(t)
	if k := memberKeys(t, srv, aliceKey, "ml")["CI bot"]; k != "" {
		t.Error("WithoutMemberKeys: the key is shown")
	}
	if sa := userNamed(t, srv, "ml-service"); len(sa.Keys) != 1 {
		t.Error("WithoutMemberKeys: the service account has no key")
	}
}

// userNamed returns the user with that username.
func userNamed(t *testing.T, srv *wandbtest.Server, username string) wandbtest.UserInfo {
	t.Helper()
	for _, u := range srv.Users() {
		if u.Username == username {
			return u
		}
	}
	t.Fatalf("no user %s", username)
	return wandbtest.UserInfo{}
}
