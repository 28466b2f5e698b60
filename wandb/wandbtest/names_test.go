package wandbtest

import (
	"fmt"
	"testing"
)

// TestDerivedUsernamesAreLinear seeds many users who share an email's
// local part. Each username costs about two lookups (the base, then the
// next free suffix), not one per user before it: counted, not timed.
func TestDerivedUsernamesAreLinear(t *testing.T) {
	t.Parallel()
	const n = 3000
	seed := Seed{}
	for i := range n {
		seed.Users = append(seed.Users, SeedUser{Email: fmt.Sprintf("alice@d%d.example.com", i)})
	}
	h, err := NewHandler(WithSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	s := h.store
	if s.nameProbes > 2*n {
		t.Errorf("%d lookups for %d usernames: the derivation is not linear", s.nameProbes, n)
	}
	for _, want := range []string{"alice", "alice-2", "alice-3", fmt.Sprintf("alice-%d", n)} {
		if s.byUsername[want] == nil {
			t.Errorf("no user %s", want)
		}
	}
}

// TestDerivedUsernamesSmallestFree checks that the result is the same as
// looking from suffix 2 every time: a freed name is taken again, and team
// names and chosen usernames are skipped.
func TestDerivedUsernamesSmallestFree(t *testing.T) {
	t.Parallel()
	h, err := NewHandler()
	if err != nil {
		t.Fatal(err)
	}
	s := h.store
	add := func(email, username string) string {
		t.Helper()
		u, err := s.insertUser(email, username, "", false)
		if err != nil {
			t.Fatal(err)
		}
		return u.username
	}
	for i := range 5 {
		add(fmt.Sprintf("bo@d%d.example.com", i), "") // bo, bo-2 ... bo-5
	}
	s.deleteUser(s.byUsername["bo-3"])
	if got := add("bo@x.example.com", ""); got != "bo-3" {
		t.Errorf("after bo-3 was deleted: %s, want bo-3", got)
	}
	if got := add("bo@y.example.com", ""); got != "bo-6" {
		t.Errorf("next: %s, want bo-6", got)
	}
	if _, err := s.createTeam("bo-7", s.byUsername["bo"]); err != nil {
		t.Fatal(err)
	}
	add("chosen@example.com", "bo-8")
	if got := add("bo@z.example.com", ""); got != "bo-9" {
		t.Errorf("past a team and a chosen username: %s, want bo-9", got)
	}
	s.deleteUser(s.byUsername["bo"])
	if got := add("bo@w.example.com", ""); got != "bo" {
		t.Errorf("after bo was deleted: %s, want bo", got)
	}
	s.deleteUser(s.byUsername["bo-2"])
	s.deleteUser(s.byUsername["bo-5"])
	for _, want := range []string{"bo-2", "bo-5", "bo-10"} {
		if got := add(fmt.Sprintf("bo@%s.example.com", want), ""); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

// TestServiceAccountNamesAreLinear creates many service accounts in one
// team: ml-service, ml-service-2, ...
func TestServiceAccountNamesAreLinear(t *testing.T) {
	t.Parallel()
	const n = 500
	h, err := NewHandler()
	if err != nil {
		t.Fatal(err)
	}
	s := h.store
	tm, err := s.createTeam("ml", s.byEmail[AdminEmail])
	if err != nil {
		t.Fatal(err)
	}
	before := s.nameProbes
	var last *user
	for range n {
		if last, _, _, err = s.addServiceAccount(tm, "bot", ""); err != nil {
			t.Fatal(err)
		}
	}
	if probes := s.nameProbes - before; probes > 2*n {
		t.Errorf("%d lookups for %d service accounts", probes, n)
	}
	if last.username != fmt.Sprintf("ml-service-%d", n) {
		t.Errorf("last service account is %s", last.username)
	}
}

// TestMembershipIndex checks that a team's index of memberships by user
// follows its list through joins, leaves, deletions and a restore.
func TestMembershipIndex(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := dir + "/state.json"
	h, err := NewHandler(WithStateFile(path))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := h.AddUser(SeedUser{Email: fmt.Sprintf("m%d@example.com", i), Teams: []string{"ml"}}); err != nil {
			t.Fatal(err)
		}
	}
	s := h.store
	s.mu.Lock()
	ml := s.teamByName["ml"]
	s.removeMember(ml, s.byEmail["m3@example.com"])
	s.deleteUser(s.byEmail["m7@example.com"])
	s.mu.Unlock()
	if err := h.persist(); err != nil {
		t.Fatal(err)
	}
	check := func(h *Handler) {
		t.Helper()
		tm := h.store.teamByName["ml"]
		if len(tm.byUser) != len(tm.members) {
			t.Fatalf("%d indexed memberships, %d members", len(tm.byUser), len(tm.members))
		}
		for _, m := range tm.members {
			if tm.member(m.user) != m {
				t.Errorf("%s: not indexed", m.user.email)
			}
		}
		for _, email := range []string{"m3@example.com", "m7@example.com"} {
			if u := h.store.byEmail[email]; u != nil && tm.member(u) != nil {
				t.Errorf("%s is still indexed", email)
			}
		}
		if len(tm.members) != 18 {
			t.Errorf("%d members, want 18", len(tm.members))
		}
	}
	check(h)
	restored, err := NewHandler(WithStateFile(path))
	if err != nil {
		t.Fatal(err)
	}
	check(restored)
}
