package wandbtest_test

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// replayed checks that the state file says what srv holds: a handler
// loaded from it has the same users (keys, teams, roles, flags) and the
// same teams (members, roles, invites) as srv. A change that the journal
// missed shows here. Loading compacts the file; srv appends after that.
func replayed(t *testing.T, srv *wandbtest.Server, path, step string, teams []string) {
	t.Helper()
	h, err := wandbtest.NewHandler(wandbtest.WithStateFile(path))
	if err != nil {
		t.Fatalf("after %s: %v", step, err)
	}
	if d := cmp.Diff(srv.Users(), h.Users()); d != "" {
		t.Errorf("after %s, the state file's users differ (-live +file):\n%s", step, d)
	}
	for _, name := range teams {
		live, _ := srv.Team(name)
		file, _ := h.Team(name)
		if d := cmp.Diff(live, file); d != "" {
			t.Errorf("after %s, the state file's team %s differs (-live +file):\n%s", step, name, d)
		}
	}
}

// TestStateJournalReplays makes a change of every kind the server has —
// GraphQL mutations, SCIM, the Go API — and checks after each that the
// state file, replayed, is the server's state.
func TestStateJournalReplays(t *testing.T) {
	t.Parallel()
	for _, multiTenant := range []bool{false, true} {
		name := "dedicated"
		if multiTenant {
			name = "multi-tenant"
		}
		t.Run(name, func(t *testing.T) { journalScenario(t, multiTenant) })
	}
}

func journalScenario(t *testing.T, multiTenant bool) {
	path := filepath.Join(t.TempDir(), "state.json")
	opts := []wandbtest.Option{wandbtest.WithStateFile(path), wandbtest.WithSeed(wandbtest.Seed{
		Users: []wandbtest.SeedUser{
			{Email: "alice@example.com", Name: "Alice", Teams: []string{"ml"}, Keys: []wandbtest.SeedKey{{Description: "laptop"}}},
			{Email: "bob@example.com", Name: "Bob", Teams: []string{"ml"}},
			{Email: "carol@example.com"},
		},
		Teams: []wandbtest.SeedTeam{{Name: "ml", Admins: []string{"alice@example.com"}, Invites: []wandbtest.SeedInvite{{Email: "later@example.com"}},
			ServiceAccounts: []wandbtest.SeedServiceAccount{{Description: "ci"}}}},
	})}
	if multiTenant {
		opts = append(opts, wandbtest.WithMultiTenant())
	}
	srv := wandbtest.Start(t, opts...)
	admin := srv.AdminKey()
	teams := []string{"ml", "ops", "new", "grp"}
	check := func(step string) {
		t.Helper()
		replayed(t, srv, path, step, teams)
	}
	check("the seed")

	// GraphQL.
	createUser(t, srv, admin, "dave@example.com", false).wantOK(t)
	check("createUser")
	createUser(t, srv, admin, "later@example.com", false).wantOK(t) // links the seeded invite
	check("createUser with a pending invite")
	aliceKey := mustKey(t, srv, "alice@example.com")
	check("AddAPIKey")
	k := generateKey(t, srv, aliceKey, "gen")
	check("generateApiKey")
	deleteKey(t, srv, aliceKey, k.ID).wantOK(t)
	check("deleteApiKey")
	createTeam(t, srv, aliceKey, "ops", nil).wantOK(t)
	check("createTeam")
	invite(t, srv, aliceKey, "ops", map[string]any{"email": "nobody@example.org", "admin": true}).wantOK(t)
	invite(t, srv, aliceKey, "ops", map[string]any{"username": "carol"}).wantOK(t)
	check("createInvite")
	for _, m := range getEntity(t, srv, aliceKey, "ops").Members {
		if m.Pending != nil && *m.Pending && m.Email != nil && *m.Email == "nobody@example.org" {
			deleteInvite(t, srv, aliceKey, "ops", *m.ID).wantOK(t)
		}
	}
	check("deleteInvite of an invite")
	if err := srv.AcceptInvite("ops", "carol@example.com"); err != nil {
		t.Fatal(err)
	}
	check("AcceptInvite")
	post(t, srv, call{key: aliceKey, query: gql.CreateServiceAccount_Operation, vars: map[string]any{"entity": "ops", "description": "bot"}}).wantOK(t)
	check("createServiceAccount")
	for _, m := range getEntity(t, srv, aliceKey, "ops").Members {
		if m.Username != nil && *m.Username == "carol" {
			deleteInvite(t, srv, aliceKey, "ops", *m.ID).wantOK(t)
		}
	}
	check("deleteInvite of a member")

	// The Go API.
	if _, err := srv.AddUser(wandbtest.SeedUser{Email: "eve@example.com", Teams: []string{"new"}, Keys: []wandbtest.SeedKey{{}}}); err != nil {
		t.Fatal(err)
	}
	check("AddUser")
	if err := srv.AddTeam("new", "dave@example.com"); err != nil {
		t.Fatal(err)
	}
	check("AddTeam")
	if _, err := srv.RevokeAPIKeys("alice@example.com", "laptop"); err != nil {
		t.Fatal(err)
	}
	check("RevokeAPIKeys")

	// SCIM users.
	scim(t, srv, http.MethodPost, "/scim/Users", map[string]any{"userName": "frank",
		"emails": []any{map[string]any{"value": "frank@example.com", "primary": true}}}).want(t, http.StatusCreated)
	check("SCIM create")
	bob := "/scim/Users/" + scim(t, srv, http.MethodGet, `/scim/Users?filter=userName%20eq%20%22bob%22`, nil).
		JSON["Resources"].([]any)[0].(map[string]any)["id"].(string)
	scim(t, srv, http.MethodPatch, bob, patch("replace", "organizationRole", "admin")).want(t, 200)
	check("SCIM organizationRole admin")
	scim(t, srv, http.MethodPatch, bob, patch("replace", "organizationRole", "viewer")).want(t, 200)
	check("SCIM organizationRole viewer")
	scim(t, srv, http.MethodPatch, bob, patch("replace", "teamRoles", []any{map[string]string{"teamName": "ml", "roleName": "admin"}})).want(t, 200)
	check("SCIM teamRoles")
	if !multiTenant {
		scim(t, srv, http.MethodPatch, bob, patch("replace", "displayName", "Robert")).want(t, 200)
		scim(t, srv, http.MethodPatch, bob, patch("replace", "emails", []any{map[string]any{"value": "rob@example.com", "primary": true}})).want(t, 200)
		check("SCIM displayName and emails")
		scim(t, srv, http.MethodPatch, bob, patch("replace", "", map[string]bool{"active": false})).want(t, 200)
		check("SCIM deactivate")
		scim(t, srv, http.MethodPatch, bob, patch("replace", "", map[string]bool{"active": true})).want(t, 200)
		check("SCIM reactivate")
	}

	// SCIM groups.
	scim(t, srv, http.MethodPost, "/scim/Groups", map[string]any{"displayName": "grp",
		"members": []any{map[string]string{"value": "dave@example.com"}}}).want(t, http.StatusCreated)
	check("SCIM create group")
	grp := "/scim/Groups/" + scim(t, srv, http.MethodGet, `/scim/Groups?filter=displayName%20eq%20%22grp%22`, nil).
		JSON["Resources"].([]any)[0].(map[string]any)["id"].(string)
	scim(t, srv, http.MethodPatch, grp, patch("add", "members", []any{map[string]string{"value": "eve@example.com"}})).want(t, 200)
	check("SCIM add members")
	scim(t, srv, http.MethodPatch, grp, patch("remove", "members", []any{map[string]string{"value": "dave@example.com"}})).want(t, 200)
	check("SCIM remove members")
	scim(t, srv, http.MethodPut, grp, map[string]any{"members": []any{map[string]string{"value": "carol@example.com"}}}).want(t, 200)
	check("SCIM replace members")

	// Deletions: a user in teams, with keys and invites.
	if multiTenant {
		scim(t, srv, http.MethodPatch, bob, patch("replace", "", map[string]bool{"active": false})).want(t, 200)
		check("SCIM deactivation (removes the user)")
	} else {
		scim(t, srv, http.MethodDelete, bob, nil).want(t, http.StatusNoContent)
		check("SCIM delete")
	}
	createUser(t, srv, admin, "after@example.com", false).wantOK(t)
	check("createUser after a deletion")
}
