package wandbtest_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// What a seed says of a user's standing, and a seed merged into a state
// file.

// scimStanding is what SCIM shows of a user's standing.
type scimStanding struct {
	Active       bool
	DaysActive   int
	LastActiveAt *string
	Meta         struct{ Created, LastModified, Version string }
}

// standingOf reads the standing of the user with that email through SCIM,
// as the admin (or with the Authorization header auth).
func standingOf(t *testing.T, srv *wandbtest.Server, email string, auth ...string) scimStanding {
	t.Helper()
	return standingAt(t, loopback(srv), email, auth...)
}

// standingAt is standingOf at the endpoint e.
func standingAt(t *testing.T, e endpoint, email string, auth ...string) scimStanding {
	t.Helper()
	r := scimTo(t, e, http.MethodGet, `/scim/Users?filter=emails.value%20eq%20%22`+email+`%22`, nil, auth...).want(t, http.StatusOK)
	var l struct{ Resources []scimStanding }
	if err := json.Unmarshal(r.Body, &l); err != nil || len(l.Resources) != 1 {
		t.Fatalf("%s: %v, %s", email, err, r.Body)
	}
	return l.Resources[0]
}

func TestSeedStanding(t *testing.T) {
	t.Parallel()
	seed := `{"users": [
	  {"email": "old@example.com", "created_at": "2023-05-01T08:00:00Z", "last_active_at": "2024-02-03T04:05:06+01:00", "days_active": 40,
	   "keys": [{"secret": "old-` + strings.Repeat("o", 40) + `"}]},
	  {"email": "once@example.com", "last_active_at": "2024-06-01T00:00:00Z"},
	  {"email": "gone@example.com", "active": false, "keys": [{"secret": "gone-` + strings.Repeat("g", 40) + `"}]},
	  {"email": "never@example.com", "active": true}]}`
	path := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(path, []byte(seed), 0o600); err != nil {
		t.Fatal(err)
	}
	before := time.Now().UTC().Truncate(time.Second)
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(path))
	old := standingOf(t, srv, "old@example.com")
	if !old.Active || old.DaysActive != 40 || old.LastActiveAt == nil || *old.LastActiveAt != "2024-02-03T03:05:06Z" || old.Meta.Created != "2023-05-01T08:00:00Z" {
		t.Errorf("old: %+v (last active %v)", old, deref(old.LastActiveAt))
	}
	if once := standingOf(t, srv, "once@example.com"); once.DaysActive != 1 || deref(once.LastActiveAt) != "2024-06-01T00:00:00Z" {
		t.Errorf("once: %+v, want 1 day active by default", once)
	}
	never := standingOf(t, srv, "never@example.com")
	created, err := time.Parse(time.RFC3339, never.Meta.Created)
	if !never.Active || never.DaysActive != 0 || never.LastActiveAt != nil || err != nil || created.Before(before) {
		t.Errorf("never: %+v, want active, never active, created now", never)
	}
	gone := standingOf(t, srv, "gone@example.com")
	if gone.Active {
		t.Error(`"active": false seeded an active user`)
	}
	if info, _ := srv.UserByEmail("gone@example.com"); !info.Inactive {
		t.Error("the deactivated user's info is not Inactive")
	}
	if r := post(t, srv, call{key: "gone-" + strings.Repeat("g", 40), query: gql.GetViewer_Operation}); r.Status != http.StatusUnauthorized {
		t.Errorf("a deactivated user's key: HTTP %d, want 401", r.Status)
	}
	// A request is activity: a new day, and the time now.
	post(t, srv, call{key: "old-" + strings.Repeat("o", 40), query: gql.GetViewer_Operation}).wantOK(t)
	old = standingOf(t, srv, "old@example.com")
	if at, err := time.Parse(time.RFC3339, deref(old.LastActiveAt)); old.DaysActive != 41 || err != nil || at.Before(before) {
		t.Errorf("after a request: %d days active, last %v", old.DaysActive, deref(old.LastActiveAt))
	}

	for name, u := range map[string]wandbtest.SeedUser{
		"created_at":     {Email: "x@example.com", CreatedAt: "2024-01-01"},
		"last_active_at": {Email: "x@example.com", LastActiveAt: "yesterday"},
		"days_active":    {Email: "x@example.com", DaysActive: -1},
	} {
		if _, err := wandbtest.NewHandler(wandbtest.WithSeed(wandbtest.Seed{Users: []wandbtest.SeedUser{u}})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("bad %s: %v, want an error naming it", name, err)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func TestSeedInvites(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "seed.json")
	seed := `{"users": [{"email": "bob@example.com"}],
	  "teams": [{"name": "ml", "invites": ["new@example.com", {"email": "bob@example.com", "admin": true}, {"email": "x@example.com"}]}]}`
	if err := os.WriteFile(path, []byte(seed), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := wandbtest.LoadSeed(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []wandbtest.SeedInvite{{Email: "new@example.com"}, {Email: "bob@example.com", Admin: true}, {Email: "x@example.com"}}
	if diff := cmp.Diff(want, s.Teams[0].Invites); diff != "" {
		t.Errorf("invites (-want +got):\n%s", diff)
	}
	// They encode as they are read: plain addresses, objects for admins.
	b, err := json.Marshal(s.Teams[0].Invites)
	if err != nil || string(b) != `["new@example.com",{"email":"bob@example.com","admin":true},"x@example.com"]` {
		t.Errorf("encoded: %s, %v", b, err)
	}
	srv := wandbtest.Start(t, wandbtest.WithSeed(s))
	tm, _ := srv.Team("ml")
	var got []string
	for _, m := range tm.Members {
		got = append(got, fmt.Sprintf("%s pending=%v admin=%v", m.Email, m.Pending, m.Admin))
	}
	if diff := cmp.Diff([]string{"new@example.com pending=true admin=false", "bob@example.com pending=true admin=true", "x@example.com pending=true admin=false"}, got); diff != "" {
		t.Errorf("team ml (-want +got):\n%s", diff)
	}
	if err := srv.AcceptInvite("ml", "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	if tm, _ := srv.Team("ml"); !tm.Members[0].Admin || tm.Members[0].Pending {
		t.Errorf("bob accepted an admin invite: %+v", tm.Members[0])
	}

	for name, content := range map[string]string{
		"unknown field": `{"users": [], "teams": [{"name": "t", "invites": [{"email": "a@example.com", "role": "admin"}]}]}`,
		"a number":      `{"users": [], "teams": [{"name": "t", "invites": [7]}]}`,
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := wandbtest.LoadSeed(p); err == nil || !strings.Contains(err.Error(), "an invite is an email address") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestStateKeepsStanding: deactivation, creation times, activity and
// ETags survive a restart; a new active day is saved before the request
// is answered, the time of later activity by Flush (and Close). The
// handler is served in-process inside a synctest bubble, so that the later
// activity can come a second after the first (SCIM shows whole seconds)
// on the bubble's clock, without waiting for it.
func TestStateKeepsStanding(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "state.json")
		bobKey := "bob-" + strings.Repeat("b", 40)
		// The bubble's clock starts at 2000-01-01T00:00:00Z; bob's history
		// is before that.
		h := newHandler(t, wandbtest.WithStateFile(path), wandbtest.WithSeed(wandbtest.Seed{Users: []wandbtest.SeedUser{
			{Email: "bob@example.com", CreatedAt: "1999-05-01T08:00:00Z", LastActiveAt: "1999-12-03T04:05:06Z", DaysActive: 9,
				Keys: []wandbtest.SeedKey{{Secret: bobKey}}},
			{Email: "gone@example.com", Active: ptr(false)},
		}}))
		srv := inProcess(h)
		// Read as the admin, whose own activity moves with every read.
		adminAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(wandbtest.AdminUsername+":"+h.AdminKey()))
		standings := func(e endpoint) map[string]scimStanding {
			t.Helper()
			return map[string]scimStanding{"bob": standingAt(t, e, "bob@example.com", adminAuth), "gone": standingAt(t, e, "gone@example.com", adminAuth)}
		}
		// bob's first request today begins a new active day: saved at once.
		postTo(t, srv, call{key: bobKey, query: gql.GetViewer_Operation}).wantOK(t)
		if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), `"active_days":10`) {
			t.Errorf("a new active day is not in the state file before Flush (%v)", err)
		}
		// A version (ETag) to keep.
		id := scimTo(t, srv, http.MethodGet, "/scim/Users?filter=userName%20eq%20%22bob%22", nil).JSON["Resources"].([]any)[0].(map[string]any)["id"].(string)
		scimTo(t, srv, http.MethodPatch, "/scim/Users/"+id, patch("replace", "displayName", "Bob B")).want(t, http.StatusOK)
		// Later activity the same day moves the time only: saved by Flush.
		time.Sleep(time.Second)
		postTo(t, srv, call{key: bobKey, query: gql.GetViewer_Operation}).wantOK(t)
		before := standings(srv)
		if err := h.Flush(); err != nil {
			t.Fatal(err)
		}

		h2 := newHandler(t, wandbtest.WithStateFile(path))
		srv2 := inProcess(h2)
		if diff := cmp.Diff(before, standings(srv2)); diff != "" {
			t.Errorf("standing after a restart (-before +after):\n%s", diff)
		}
		if b := before["bob"]; b.DaysActive != 10 || b.LastActiveAt == nil || *b.LastActiveAt != "2000-01-01T00:00:01Z" ||
			b.Meta.Created != "1999-05-01T08:00:00Z" || b.Meta.Version == `W/"0"` || before["gone"].Active {
			t.Errorf("before the restart: %+v (last active %v)", before, deref(b.LastActiveAt))
		}
		// Flush with nothing new writes nothing (the admin's reads above
		// were activity: the first Flush saves it).
		if err := h2.Flush(); err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(path)
		if err := h2.Flush(); err != nil {
			t.Fatal(err)
		}
		if fi2, _ := os.Stat(path); fi2.Size() != fi.Size() || !fi2.ModTime().Equal(fi.ModTime()) {
			t.Error("Flush with nothing to save wrote the file")
		}
	})
}

// TestSeedMergedIntoState: a seed given with a state file that exists adds
// the users and teams the state does not hold, and leaves the others as
// the state has them.
func TestSeedMergedIntoState(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	first := wandbtest.Seed{
		Users: []wandbtest.SeedUser{{Email: "alice@example.com", Name: "Alice", Teams: []string{"ml"}}, {Email: "bob@example.com"}},
		Teams: []wandbtest.SeedTeam{{Name: "ml", Admins: []string{"alice@example.com"}}},
	}
	srv := wandbtest.NewServer(wandbtest.WithStateFile(path), wandbtest.WithSeed(first))
	createUser(t, srv, srv.AdminKey(), "made@example.com", false).wantOK(t)
	id := scim(t, srv, http.MethodGet, "/scim/Users?filter=userName%20eq%20%22bob%22", nil).JSON["Resources"].([]any)[0].(map[string]any)["id"].(string)
	scim(t, srv, http.MethodDelete, "/scim/Users/"+id, nil).want(t, http.StatusNoContent)
	srv.Close()

	second := wandbtest.Seed{
		Users: []wandbtest.SeedUser{
			{Email: "ALICE@example.com", Name: "Someone Else", Admin: true}, // held: left alone
			{Email: "bob@example.com"},                                      // deleted since: added again
			{Email: "carol@example.com", Teams: []string{"ml", "new"}},      // new: joins its teams
		},
		Teams: []wandbtest.SeedTeam{
			{Name: "ml", Invites: []wandbtest.SeedInvite{{Email: "x@example.com"}}},               // held: left alone
			{Name: "new", Invites: []wandbtest.SeedInvite{{Email: "y@example.com", Admin: true}}}, // created above: completed
		},
	}
	srv2 := wandbtest.Start(t, wandbtest.WithStateFile(path), wandbtest.WithSeed(second))
	var users []string
	for _, u := range srv2.Users() {
		users = append(users, fmt.Sprintf("%s %s admin=%v %v", u.Email, u.Name, u.Admin, u.Teams))
	}
	want := []string{"admin@example.com admin admin=true []", "alice@example.com Alice admin=false [ml]",
		"made@example.com made admin=false []", "bob@example.com bob admin=false []", "carol@example.com carol admin=false [ml new]"}
	if diff := cmp.Diff(want, users); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	ml, _ := srv2.Team("ml")
	nw, _ := srv2.Team("new")
	if len(ml.Members) != 2 || ml.Members[1].Email != "carol@example.com" || len(nw.Members) != 2 || !nw.Members[1].Admin || !nw.Members[1].Pending {
		t.Errorf("teams: ml %+v, new %+v", ml.Members, nw.Members)
	}
	srv2.Close()
	// Merged and saved: a restart without the seed has it all.
	srv3 := wandbtest.Start(t, wandbtest.WithStateFile(path))
	if got := len(srv3.Users()); got != len(want) {
		t.Errorf("%d users after a restart without the seed, want %d", got, len(want))
	}
	// A new user of the seed whose username the state holds is an error.
	clash := wandbtest.Seed{Users: []wandbtest.SeedUser{{Email: "other@example.com", Username: "alice"}}}
	srv3.Close()
	if _, err := wandbtest.NewHandler(wandbtest.WithStateFile(path), wandbtest.WithSeed(clash)); err == nil || !strings.Contains(err.Error(), "alice") {
		t.Errorf("a username the state holds: %v", err)
	}
}

// TestStateBadStanding: a state file whose users' standing is missing or
// bad is refused.
func TestStateBadStanding(t *testing.T) {
	t.Parallel()
	for name, bad := range map[string]string{
		"created":     `"created":"yesterday","modified":"2026-01-02T03:04:05Z"`,
		"no created":  `"modified":"2026-01-02T03:04:05Z"`,
		"modified":    `"created":"2026-01-02T03:04:05Z","modified":"2026"`,
		"last_active": times + `,"last_active":"2024"`,
		"active_days": times + `,"active_days":-2`,
		"version":     times + `,"version":-1`,
	} {
		state := `{"version":4,"next_user":3,"next_key":1,"next_team":1,"users":[
		  {"id":2,"email":"x@example.com","username":"x","name":"x","keys":[],` + bad + `}],"teams":[]}`
		p := filepath.Join(t.TempDir(), "state.json")
		if err := os.WriteFile(p, []byte(state), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := wandbtest.NewHandler(wandbtest.WithStateFile(p)); err == nil {
			t.Errorf("a bad %s: the state loads", name)
		}
	}
}
