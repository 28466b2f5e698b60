package wandbtest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// The repository's example seed, used by `wandb-lua --local --seed`.
const exampleSeed = "../../testdata/seed.json"

func TestExampleSeed(t *testing.T) {
	t.Parallel()
	seed, err := wandbtest.LoadSeed(exampleSeed)
	if err != nil {
		t.Fatal(err)
	}
	srv := wandbtest.Start(t, wandbtest.WithSeed(seed))
	users := srv.Users()
	if len(users) != len(seed.Users)+1 {
		t.Fatalf("%d users, want the admin and %d seeded", len(users), len(seed.Users))
	}
	for i, su := range seed.Users {
		got := users[i+1]
		if got.Email != su.Email || got.Name != su.Name || got.Admin != su.Admin || len(got.Keys) != len(su.Keys) {
			t.Errorf("user %d = %+v, want %+v", i+1, got, su)
		}
		if diff := cmp.Diff(su.Teams, got.Teams, cmpEmptyNil); diff != "" {
			t.Errorf("%s teams (-want +got):\n%s", su.Email, diff)
		}
		for j, k := range got.Keys {
			if k.Description != su.Keys[j].Description || len(k.Name) != 20 {
				t.Errorf("%s key %d = %+v", su.Email, j, k)
			}
		}
	}
	// Teams, with their admins and a pending invite.
	if diff := cmp.Diff([]string{
		"alice|alice@example.com|Alice Example|yes|no|USER",
		"alice.smith|alice.smith@example.com|Alice Smith|no|no|USER",
		"dave|dave@example.com|Dave NoKeys|no|yes|USER",
	}, members(t, srv, "ml-research")); diff != "" {
		t.Errorf("ml-research (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{
		"alice.smith|alice.smith@example.com|Alice Smith|no|no|USER",
		"bob|bob@example.com|Bob Builder|no|no|USER",
		"carol|carol@example.org|Carol Ops|yes|no|USER",
	}, members(t, srv, "platform")); diff != "" {
		t.Errorf("platform (-want +got):\n%s", diff)
	}
	// Two users share "alice": what ambiguity tests need.
	got := emailsOf(t, searchUsers(t, srv, srv.AdminKey(), "alice"))
	if diff := cmp.Diff([]string{"alice@example.com", "alice.smith@example.com"}, got); diff != "" {
		t.Errorf("users(alice) (-want +got):\n%s", diff)
	}
	// Seeded keys list through GraphQL as well.
	var data struct {
		Users struct{ Edges []struct{ Node userJSON } }
	}
	searchUsers(t, srv, srv.AdminKey(), "alice@example.com").wantOK(t).decode(t, &data)
	alice, _ := srv.UserByEmail("alice@example.com")
	if diff := cmp.Diff([]string{alice.Keys[0].Name, alice.Keys[1].Name}, data.Users.Edges[0].Node.keyNames()); diff != "" {
		t.Errorf("alice's listed keys (-want +got):\n%s", diff)
	}
}

var cmpEmptyNil = cmp.Transformer("emptyNil", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

func TestLoadSeedErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"unknown-field.json": `{"users":[{"email":"a@example.com","mail":"x"}]}`,
		"no-email.json":      `{"users":[{"name":"x"}]}`,
		"not-json.json":      `users: []`,
		"trailing.json":      `{"users":[]} {"users":[]}`,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := wandbtest.LoadSeed(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("LoadSeed(%s): err %v, want an error naming the file", name, err)
		}
	}
	if _, err := wandbtest.LoadSeed(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("LoadSeed(missing): no error")
	}
}

func TestSeedErrors(t *testing.T) {
	t.Parallel()
	for name, seed := range map[string]wandbtest.Seed{
		"duplicate email":    {Users: []wandbtest.SeedUser{{Email: "a@example.com"}, {Email: "A@example.com"}}},
		"admin again":        {Users: []wandbtest.SeedUser{{Email: wandbtest.AdminEmail}}},
		"duplicate username": {Users: []wandbtest.SeedUser{{Email: "a@example.com", Username: "admin"}}},
		"bad email":          {Users: []wandbtest.SeedUser{{Email: "nope"}}},
		"empty team":         {Users: []wandbtest.SeedUser{{Email: "a@example.com", Teams: []string{" "}}}},
	} {
		if _, err := wandbtest.NewHandler(wandbtest.WithSeed(seed)); err == nil {
			t.Errorf("%s: NewHandler succeeded", name)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("NewServer with a bad seed did not panic")
		}
	}()
	wandbtest.NewServer(wandbtest.WithSeed(wandbtest.Seed{Users: []wandbtest.SeedUser{{Email: "bad"}}}))
}

func TestSeedsApplyInOrder(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(file, []byte(`{"users": [{"email": "a@example.net"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := wandbtest.NewHandler(
		wandbtest.WithSeed(wandbtest.Seed{Users: []wandbtest.SeedUser{{Email: "a@example.com"}}}),
		wandbtest.WithSeedFile(file),
		wandbtest.WithSeed(wandbtest.Seed{Users: []wandbtest.SeedUser{{Email: "a@example.org"}}}),
	)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range h.Users() {
		got = append(got, u.Email)
	}
	if diff := cmp.Diff([]string{"admin@example.com", "a@example.com", "a@example.net", "a@example.org"}, got); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
}

func TestWithSeedFileErrors(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing.json")
	if _, err := wandbtest.NewHandler(wandbtest.WithSeedFile(missing)); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("NewHandler with a missing seed file: %v", err)
	}
}

func TestMaskSecrets(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	key, err := srv.AddAPIKey(wandbtest.AdminEmail, "mask")
	if err != nil {
		t.Fatal(err)
	}
	got := wandbtest.MaskSecrets("new key " + key + ", old " + srv.AdminKey() + " (id " + key[:20] + ")")
	if want := "new key [secret], old [secret] (id " + key[:20] + ")"; got != want {
		t.Errorf("MaskSecrets = %q, want %q", wandbtest.MaskSecrets(got), want)
	}
}

func TestHelperErrors(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	addUser(t, srv, "alice@example.com", false)
	before := srv.Users()
	if _, err := srv.AddUser(wandbtest.SeedUser{Email: "ALICE@example.com"}); err == nil {
		t.Error("AddUser of an existing email succeeded")
	}
	if _, err := srv.AddUser(wandbtest.SeedUser{Email: "b@example.com", Username: "ALICE"}); err == nil {
		t.Error("AddUser of an existing username succeeded")
	}
	if _, err := srv.AddAPIKey("nobody@example.com", "x"); err == nil {
		t.Error("AddAPIKey for an unknown email succeeded")
	}
	if err := srv.AddTeam("ml", "alice@example.com", "nobody@example.com"); err == nil {
		t.Error("AddTeam with an unknown member succeeded")
	}
	if err := srv.AddTeam(""); err == nil {
		t.Error("AddTeam with an empty name succeeded")
	}
	if diff := cmp.Diff(before, srv.Users()); diff != "" {
		t.Errorf("failed helpers changed the users (-before +after):\n%s", diff)
	}
	if _, ok := srv.UserByEmail("nobody@example.com"); ok {
		t.Error("UserByEmail(unknown): ok")
	}
	info, err := srv.AddUser(wandbtest.SeedUser{Email: "Carol@Example.com", Username: "carol", Name: "Carol C", Admin: true,
		Keys: []wandbtest.SeedKey{{Description: "one"}}, Teams: []string{"ops"}})
	if err != nil {
		t.Fatal(err)
	}
	want := wandbtest.UserInfo{ID: info.ID, Name: "Carol C", Username: "carol", Email: "Carol@Example.com", Admin: true,
		Keys: []wandbtest.KeyInfo{{ID: info.Keys[0].ID, Name: info.Keys[0].Name, Description: "one"}}, Teams: []string{"ops"}}
	if diff := cmp.Diff(want, info); diff != "" {
		t.Errorf("AddUser (-want +got):\n%s", diff)
	}
	if got, _ := srv.UserByEmail("carol@example.com"); !cmp.Equal(info, got) {
		t.Errorf("UserByEmail differs from AddUser's result")
	}
}

// TestSeedKnownSecrets: a seed can give a user's key, and a service
// account's, a secret of its own choosing, which then authenticates as
// them; a secret that no client would accept, or one used twice, is an
// error naming the user or team.
func TestSeedKnownSecrets(t *testing.T) {
	t.Parallel()
	bobKey := "local-" + strings.Repeat("b0b", 14)
	ciKey := strings.Repeat("c1", 20)
	srv := wandbtest.Start(t, wandbtest.WithSeed(wandbtest.Seed{
		Users: []wandbtest.SeedUser{{Email: "bob@example.com", Keys: []wandbtest.SeedKey{{Description: "cli", Secret: bobKey}, {Description: "minted"}}}},
		Teams: []wandbtest.SeedTeam{{Name: "ml", ServiceAccounts: []wandbtest.SeedServiceAccount{{Description: "ci bot", Secret: ciKey}, {Description: "other bot"}}}},
	}))
	viewer := func(key string) string {
		t.Helper()
		r := post(t, srv, call{key: key, query: `{ viewer { username email } }`})
		if len(r.Errors) > 0 {
			t.Fatalf("viewer: %+v", r.Errors)
		}
		return string(r.Data)
	}
	if got := viewer(bobKey); !strings.Contains(got, `"email":"bob@example.com"`) {
		t.Errorf("bob's known key is the viewer %s", got)
	}
	if got := viewer(ciKey); !strings.Contains(got, `"username":"ml-service"`) {
		t.Errorf("the service account's known key is the viewer %s", got)
	}
	bob, _ := srv.UserByEmail("bob@example.com")
	if len(bob.Keys) != 2 || bob.Keys[0].Name != bobKey[:len(bobKey)-20] {
		t.Errorf("bob's keys = %+v", bob.Keys)
	}
	info, _ := srv.Team("ml")
	if len(info.Members) != 2 {
		t.Errorf("ml's members = %+v, want the two service accounts", info.Members)
	}

	for _, tc := range []struct {
		name string
		seed wandbtest.Seed
		want string
	}{
		{"short", wandbtest.Seed{Users: []wandbtest.SeedUser{{Email: "x@example.com", Keys: []wandbtest.SeedKey{{Secret: "short"}}}}},
			"user x@example.com: a key's secret must be 40 or more"},
		{"spaces", wandbtest.Seed{Users: []wandbtest.SeedUser{{Email: "x@example.com", Keys: []wandbtest.SeedKey{{Secret: strings.Repeat("a b", 20)}}}}},
			"user x@example.com: a key's secret must be 40 or more"},
		{"twice for a user", wandbtest.Seed{Users: []wandbtest.SeedUser{{Email: "x@example.com", Keys: []wandbtest.SeedKey{{Secret: bobKey}, {Secret: bobKey}}}}},
			"user x@example.com: two keys have the same secret"},
		{"twice across users", wandbtest.Seed{Users: []wandbtest.SeedUser{
			{Email: "x@example.com", Keys: []wandbtest.SeedKey{{Secret: bobKey}}},
			{Email: "y@example.com", Keys: []wandbtest.SeedKey{{Secret: bobKey}}}}},
			"user y@example.com: two keys have the same secret"},
		{"service account", wandbtest.Seed{Teams: []wandbtest.SeedTeam{{Name: "ml", ServiceAccounts: []wandbtest.SeedServiceAccount{{Description: "bot", Secret: "x"}}}}},
			`team ml: service account "bot": a key's secret must be 40 or more`},
		{"service account without description", wandbtest.Seed{Teams: []wandbtest.SeedTeam{{Name: "ml", ServiceAccounts: []wandbtest.SeedServiceAccount{{}}}}},
			"team ml: a service account has no description"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := wandbtest.NewHandler(wandbtest.WithSeed(tc.seed))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewHandler: %v, want an error containing %q", err, tc.want)
			}
			if err != nil && (strings.Contains(err.Error(), bobKey) || strings.Contains(err.Error(), strings.Repeat("a b", 20))) {
				t.Error("the error shows the secret")
			}
		})
	}
}

func TestRevokeAPIKeys(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(exampleSeed))
	n, err := srv.RevokeAPIKeys("alice@example.com", "laptop")
	if err != nil || n != 1 {
		t.Fatalf("RevokeAPIKeys = %d, %v; want 1", n, err)
	}
	alice, _ := srv.UserByEmail("alice@example.com")
	if len(alice.Keys) != 1 || alice.Keys[0].Description != "ci runner" {
		t.Errorf("alice's keys = %+v, want only the ci runner's", alice.Keys)
	}
	if _, err := srv.RevokeAPIKeys("nobody@example.com", "laptop"); err == nil {
		t.Error("RevokeAPIKeys for a user that does not exist did not fail")
	}
}

func TestManyUsers(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeed(wandbtest.ManyUsers(1000, "team-a", "team-b")))
	users := srv.Users()
	if len(users) != 1001 {
		t.Fatalf("%d users, want the admin and 1000", len(users))
	}
	want := wandbtest.UserInfo{ID: users[1000].ID, Name: "User 999", Username: "user000999", Email: "user000999@example.com",
		Keys: []wandbtest.KeyInfo{}, Teams: []string{"team-a", "team-b"}}
	if d := cmp.Diff(want, users[1000]); d != "" {
		t.Errorf("the last user (-want +got):\n%s", d)
	}
	if team, _ := srv.Team("team-a"); len(team.Members) != 1000 {
		t.Errorf("team-a has %d members, want 1000", len(team.Members))
	}
}
