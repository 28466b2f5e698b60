package wandbtest_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

func TestStateSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	seed := wandbtest.Seed{Users: []wandbtest.SeedUser{{Email: "bob@example.com", Teams: []string{"ml"}, Keys: []wandbtest.SeedKey{{Description: "seeded"}}}}}

	srv := wandbtest.NewServer(wandbtest.WithStateFile(path), wandbtest.WithSeed(seed))
	adminKey := srv.AdminKey()
	if adminKey == "" {
		t.Fatal("fresh state: AdminKey is empty")
	}
	createUser(t, srv, adminKey, "alice@example.com", false).wantOK(t)
	aliceKey, err := srv.AddAPIKey("alice@example.com", "helper")
	if err != nil {
		t.Fatal(err)
	}
	generated := generateKey(t, srv, aliceKey, nil)
	throwaway := generateKey(t, srv, aliceKey, "throwaway")
	deleteKey(t, srv, aliceKey, throwaway.ID).wantOK(t)
	if err := srv.AddTeam("ml", "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	before := srv.Users()
	srv.Close()

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string]string{"admin": adminKey, "helper": aliceKey, "generated": generated.Name, "deleted": throwaway.Name} {
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("the state file holds the %s secret", name)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode: %v %v, want 0600", fi.Mode(), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the state file (no temp files)", len(entries))
	}

	// Restart: same data, same keys work; the seed is not applied again
	// (bob would be a duplicate).
	srv2 := wandbtest.Start(t, wandbtest.WithStateFile(path), wandbtest.WithSeed(seed))
	if srv2.AdminKey() != "" {
		t.Error("restored state: AdminKey is set, want empty (the file has only hashes)")
	}
	if diff := cmp.Diff(before, srv2.Users()); diff != "" {
		t.Errorf("users after restart (-before +after):\n%s", diff)
	}
	for name, key := range map[string]string{"admin": adminKey, "helper": aliceKey, "generated": generated.Name} {
		if r := post(t, srv2, call{key: key, query: gql.GetViewer_Operation}); r.Status != http.StatusOK {
			t.Errorf("%s key after restart: status %d, want 200", name, r.Status)
		}
	}
	if r := post(t, srv2, call{key: throwaway.Name, query: gql.GetViewer_Operation}); r.Status != http.StatusUnauthorized {
		t.Errorf("deleted key after restart: status %d, want 401", r.Status)
	}
	// IDs continue; they are not reused.
	var data struct {
		Result struct{ User userJSON }
	}
	createUser(t, srv2, adminKey, "carol@example.com", false).wantOK(t).decode(t, &data)
	if got := decodeID(t, data.Result.User.ID); got != "User:4" {
		t.Errorf("next user id %q, want User:4", got)
	}
	k := generateKey(t, srv2, adminKey, nil)
	if got := decodeID(t, k.ID); got != "ApiKey:6" {
		t.Errorf("next key id %q, want ApiKey:6", got)
	}
	if err := srv2.AddTeam("new", "carol@example.com"); err != nil {
		t.Fatal(err)
	}
	var teams struct {
		Viewer struct {
			Teams struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
	}
	carolKey := mustKey(t, srv2, "carol@example.com")
	post(t, srv2, call{key: carolKey, query: `query T { viewer { teams { edges { node { id } } } } }`}).wantOK(t).decode(t, &teams)
	if got := decodeID(t, teams.Viewer.Teams.Edges[1].Node.ID); got != "Entity:2" { // after carol's own entity
		t.Errorf("next team id %q, want Entity:2", got)
	}
}

func TestStateMintsAdminKeyWhenNoneLeft(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	srv := wandbtest.NewServer(wandbtest.WithStateFile(path))
	admin, _ := srv.UserByEmail(wandbtest.AdminEmail)
	deleteKey(t, srv, srv.AdminKey(), admin.Keys[0].ID).wantOK(t)
	srv.Close()

	srv2 := wandbtest.Start(t, wandbtest.WithStateFile(path))
	if srv2.AdminKey() == "" {
		t.Fatal("the admin had no key left, yet no new key was minted")
	}
	if got := viewer(t, srv2, srv2.AdminKey()); *got.Email != wandbtest.AdminEmail {
		t.Errorf("new admin key authenticates as %s", *got.Email)
	}
	// And that key survives the next restart.
	srv2.Close()
	srv3 := wandbtest.Start(t, wandbtest.WithStateFile(path))
	if srv3.AdminKey() != "" {
		t.Error("third start minted another admin key")
	}
	viewer(t, srv3, srv2.AdminKey())
}

// times are a state file user's creation and last change.
const times = `"created":"2026-01-02T03:04:05Z","modified":"2026-01-02T03:04:05Z"`

func TestStateWithoutAdmin(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	state := `{"version":4,"next_user":3,"next_key":1,"next_team":1,"users":[
	  {"id":2,"email":"x@example.com","username":"x","name":"x","keys":[],` + times + `}],"teams":[]}`
	if err := os.WriteFile(path, []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := wandbtest.Start(t, wandbtest.WithStateFile(path))
	if got := viewer(t, srv, srv.AdminKey()); *got.Email != wandbtest.AdminEmail || decodeID(t, got.ID) != "User:3" {
		t.Errorf("admin added to a state without one: %s %s", *got.Email, decodeID(t, got.ID))
	}
}

func TestStateFileErrors(t *testing.T) {
	t.Parallel()
	const hash = "0000000000000000000000000000000000000000000000000000000000000000"
	good := `{"version":4,"next_user":3,"next_key":2,"next_team":2,"next_member":3,"users":[
	  {"id":1,"email":"admin@example.com","username":"admin","name":"admin","admin":true,` + times + `,
	   "keys":[{"id":1,"name":"x","description":null,"sha256":"` + hash + `"}]},
	  {"id":2,"email":"b@example.com","username":"b","name":"b","keys":[],` + times + `}],
	  "teams":[{"id":1,"name":"t","members":[1,2],"member_ids":[1,2]}]}`
	bad := map[string]string{
		"not json":        `{`,
		"unknown field":   strings.Replace(good, `"version":4`, `"version":4,"extra":true`, 1),
		"version":         strings.Replace(good, `"version":4`, `"version":5`, 1),
		"no created":      strings.Replace(good, `"created":"2026-01-02T03:04:05Z",`, ``, 1),
		"no modified":     strings.Replace(good, `,"modified":"2026-01-02T03:04:05Z"`, ``, 1),
		"user id reused":  strings.Replace(good, `{"id":2,"email"`, `{"id":1,"email"`, 1),
		"user id too big": strings.Replace(good, `"next_user":3`, `"next_user":2`, 1),
		"bad email":       strings.Replace(good, `b@example.com`, `b`, 1),
		"dup email":       strings.Replace(good, `b@example.com`, `ADMIN@example.com`, 1),
		"empty username":  strings.Replace(good, `"username":"b"`, `"username":""`, 1),
		"key id too big":  strings.Replace(good, `"next_key":2`, `"next_key":1`, 1),
		"bad hash":        strings.Replace(good, hash, "abc", 1),
		"team id too big": strings.Replace(good, `"next_team":2`, `"next_team":1`, 1),
		"unknown member":  strings.Replace(good, `[1,2]`, `[1,7]`, 1),
		"dup member":      strings.Replace(good, `[1,2]`, `[2,2]`, 1),
		"no member ids":   strings.Replace(good, `,"member_ids":[1,2]`, ``, 1),
		"member ids":      strings.Replace(good, `"member_ids":[1,2]`, `"member_ids":[1]`, 1),
		"member id big":   strings.Replace(good, `"next_member":3`, `"next_member":2`, 1),
		"dup member id":   strings.Replace(good, `"member_ids":[1,2]`, `"member_ids":[1,1]`, 1),
		"empty team name": strings.Replace(good, `"name":"t"`, `"name":""`, 1),
	}
	dir := t.TempDir()
	okPath := filepath.Join(dir, "good.json")
	if err := os.WriteFile(okPath, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := wandbtest.NewHandler(wandbtest.WithStateFile(okPath)); err != nil {
		t.Fatalf("the valid state fails: %v", err)
	}
	for name, content := range bad {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := wandbtest.NewHandler(wandbtest.WithStateFile(p)); err == nil {
			t.Errorf("%s: NewHandler accepted the state", name)
		}
	}
	// A directory is not a readable state file.
	if _, err := wandbtest.NewHandler(wandbtest.WithStateFile(dir)); err == nil {
		t.Error("a directory as the state file: no error")
	}
	// A state file in a missing directory cannot be written.
	if _, err := wandbtest.NewHandler(wandbtest.WithStateFile(filepath.Join(dir, "missing", "s.json"))); err == nil {
		t.Error("a state file in a missing directory: no error")
	}
}

func TestStateSaveFailure(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	srv := wandbtest.Start(t, wandbtest.WithStateFile(filepath.Join(dir, "state.json")))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for _, r := range []result{
		createUser(t, srv, srv.AdminKey(), "alice@example.com", false),
		post(t, srv, call{key: srv.AdminKey(), query: gql.GenerateApiKey_Operation, vars: map[string]any{"description": "x"}}),
	} {
		if r.Status != http.StatusInternalServerError || len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "save state") {
			t.Errorf("mutation with an unwritable state file: status %d errors %v, want 500 save state", r.Status, r.Errors)
		}
	}
	admin, _ := srv.UserByEmail(wandbtest.AdminEmail)
	if r := deleteKey(t, srv, srv.AdminKey(), admin.Keys[1].ID); r.Status != http.StatusInternalServerError {
		t.Errorf("deleteApiKey with an unwritable state file: status %d, want 500", r.Status)
	}
	if _, err := srv.AddAPIKey(wandbtest.AdminEmail, "x"); err == nil {
		t.Error("AddAPIKey with an unwritable state file: no error")
	}
	if _, err := srv.AddUser(wandbtest.SeedUser{Email: "b@example.com"}); err == nil {
		t.Error("AddUser with an unwritable state file: no error")
	}
	if err := srv.AddTeam("t"); err == nil {
		t.Error("AddTeam with an unwritable state file: no error")
	}
}
