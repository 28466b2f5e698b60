package wandbtest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The state file's contents: the store as JSON, without secrets (see
// journal.go for how the file is written and read).

// stateVersion is the format of the state files NewHandler writes, and
// the only one it reads: a snapshot on the first line, then the journal
// (see journal.go). Older versions (1 to 3, from older wandb-lua builds)
// are refused with a message that says to delete the file: it holds a
// test server's data, which a seed gives again.
const stateVersion = 4

// stateFile is what WithStateFile persists: enough to restart, no secrets.
type stateFile struct {
	Version int `json:"version"`
	stateCounters
	Users []stateUser `json:"users"`
	Teams []stateTeam `json:"teams"`
}

// stateCounters are the IDs the store gives next, kept so that an ID is
// never given twice.
type stateCounters struct {
	NextUser   int `json:"next_user"`
	NextKey    int `json:"next_key"`
	NextTeam   int `json:"next_team"`
	NextInvite int `json:"next_invite,omitempty"`
	NextMember int `json:"next_member,omitempty"`
}

// counters returns the store's counters; s.mu must be held.
func (s *store) counters() stateCounters {
	return stateCounters{NextUser: s.nextUser, NextKey: s.nextKey, NextTeam: s.nextTeam, NextInvite: s.nextInvite, NextMember: s.nextMember}
}

type stateUser struct {
	ID       int        `json:"id"`
	Email    string     `json:"email"`
	Username string     `json:"username"`
	Name     string     `json:"name"`
	Admin    bool       `json:"admin,omitempty"`
	Service  bool       `json:"service,omitempty"`  // a service account, without an email
	Inactive bool       `json:"inactive,omitempty"` // deactivated
	Viewer   bool       `json:"viewer,omitempty"`   // the deprecated viewer organisation role
	Keys     []stateKey `json:"keys"`

	// The standing SCIM shows: RFC 3339 times.
	Created    string `json:"created,omitempty"`
	Modified   string `json:"modified,omitempty"`
	Version    int    `json:"version,omitempty"`     // the ETag's number
	LastActive string `json:"last_active,omitempty"` // absent: never active
	ActiveDays int    `json:"active_days,omitempty"`
}

type stateKey struct {
	ID          int     `json:"id"`
	Name        string  `json:"name"` // the non-secret key ID
	Description *string `json:"description"`
	SHA256      string  `json:"sha256"` // hex SHA-256 of the secret
}

type stateTeam struct {
	ID      int    `json:"id"`
	Name    string `json:"name"`
	Members []int  `json:"members"` // user IDs, in the order they joined
	// MemberIDs are the memberships' ids, in the same order.
	MemberIDs []int         `json:"member_ids,omitempty"`
	Admins    []int         `json:"admins,omitempty"`  // the members who are team admins
	Viewers   []int         `json:"viewers,omitempty"` // the members with the team role viewer
	Invites   []stateInvite `json:"invites,omitempty"`
}

type stateInvite struct {
	ID      int    `json:"id"`
	Email   string `json:"email"`
	User    int    `json:"user,omitempty"` // the invited user's ID; 0 for an address no user has
	Admin   bool   `json:"admin,omitempty"`
	Created string `json:"created"` // RFC 3339
}

// snapshot encodes the store as the first line of a state file; s.mu
// must be held.
func (s *store) snapshot() ([]byte, error) {
	sf := stateFile{
		Version:       stateVersion,
		stateCounters: s.counters(),
		Users:         make([]stateUser, 0, len(s.users)),
		Teams:         make([]stateTeam, 0, len(s.teams)),
	}
	for _, u := range s.users {
		sf.Users = append(sf.Users, u.state())
	}
	for _, t := range s.teams {
		sf.Teams = append(sf.Teams, t.state())
	}
	b, err := json.Marshal(sf)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// state is u as the state file keeps it.
func (u *user) state() stateUser {
	su := stateUser{ID: u.id, Email: u.email, Username: u.username, Name: u.name, Admin: u.admin, Service: u.service,
		Inactive: u.inactive, Viewer: u.viewer, Keys: []stateKey{},
		Created: u.created.Format(time.RFC3339Nano), Modified: u.modified.Format(time.RFC3339Nano), Version: u.version,
		ActiveDays: u.activeDays}
	if !u.lastActive.IsZero() {
		su.LastActive = u.lastActive.Format(time.RFC3339Nano)
	}
	for _, k := range u.keys {
		su.Keys = append(su.Keys, stateKey{ID: k.id, Name: k.name, Description: k.description, SHA256: k.hash})
	}
	return su
}

// state is t as the state file keeps it.
func (t *team) state() stateTeam {
	st := stateTeam{ID: t.id, Name: t.name, Members: []int{}}
	for _, m := range t.members {
		st.Members = append(st.Members, m.user.id)
		st.MemberIDs = append(st.MemberIDs, m.id)
		switch m.role {
		case roleAdmin:
			st.Admins = append(st.Admins, m.user.id)
		case roleViewer:
			st.Viewers = append(st.Viewers, m.user.id)
		}
	}
	for _, inv := range t.invites {
		si := stateInvite{ID: inv.id, Email: inv.email, Admin: inv.admin, Created: inv.created.Format(time.RFC3339Nano)}
		if inv.user != nil {
			si.User = inv.user.id
		}
		st.Invites = append(st.Invites, si)
	}
	return st
}

// restore fills an empty store from a state file's contents, read and
// replayed by readState.
func (s *store) restore(sf stateFile) error {
	byID := map[int]*user{}
	for _, su := range sf.Users {
		if su.ID <= 0 || su.ID >= sf.NextUser || byID[su.ID] != nil {
			return fmt.Errorf("user %s: bad or duplicate id %d", su.Email, su.ID)
		}
		if su.Service != (su.Email == "") {
			return fmt.Errorf("user %d: a service account has no email, and only a service account", su.ID)
		}
		if _, err := splitEmail(su.Email); err != nil && !su.Service {
			return err
		}
		if su.Username == "" || (!su.Service && s.byEmail[strings.ToLower(su.Email)] != nil) || s.byUsername[strings.ToLower(su.Username)] != nil {
			return fmt.Errorf("user %s: empty or duplicate email or username", su.Email)
		}
		u := &user{id: su.ID, name: su.Name, username: su.Username, email: su.Email, admin: su.Admin, service: su.Service,
			inactive: su.Inactive, viewer: su.Viewer, version: su.Version, activeDays: su.ActiveDays}
		if err := u.restoreTimes(su); err != nil {
			return fmt.Errorf("user %d: %w", su.ID, err)
		}
		byID[u.id] = u
		s.users = append(s.users, u)
		if !u.service {
			s.byEmail[strings.ToLower(u.email)] = u
		}
		s.byUsername[strings.ToLower(u.username)] = u
		for _, sk := range su.Keys {
			if sk.ID <= 0 || sk.ID >= sf.NextKey || s.keys[sk.ID] != nil || len(sk.SHA256) != 64 || s.keyByHash[sk.SHA256] != nil {
				return fmt.Errorf("user %s: bad or duplicate key %d", su.Email, sk.ID)
			}
			s.insertKey(&apiKey{id: sk.ID, owner: u, name: sk.Name, description: sk.Description, hash: sk.SHA256})
		}
	}
	slices.SortFunc(s.users, func(a, b *user) int { return a.id - b.id })
	s.nextMember = max(sf.NextMember, 1)
	memberIDs := map[int]bool{}
	for _, st := range sf.Teams {
		if st.ID <= 0 || st.ID >= sf.NextTeam || st.Name == "" || s.teamByName[st.Name] != nil {
			return fmt.Errorf("team %q: bad or duplicate id or name", st.Name)
		}
		t := newTeamValue(st.ID, st.Name)
		s.teams = append(s.teams, t)
		s.teamByName[t.name] = t
		if len(st.MemberIDs) != len(st.Members) {
			return fmt.Errorf("team %q: %d member ids for %d members", st.Name, len(st.MemberIDs), len(st.Members))
		}
		for i, id := range st.Members {
			u := byID[id]
			if u == nil || t.member(u) != nil {
				return fmt.Errorf("team %q: bad or duplicate member %d", st.Name, id)
			}
			mid := st.MemberIDs[i]
			if mid <= 0 || mid >= s.nextMember || memberIDs[mid] {
				return fmt.Errorf("team %q: bad or duplicate member id %d", st.Name, mid)
			}
			memberIDs[mid] = true
			role := roleMember
			switch {
			case slices.Contains(st.Admins, id):
				role = roleAdmin
			case slices.Contains(st.Viewers, id):
				role = roleViewer
			}
			t.join(u, role, mid)
			u.teams = append(u.teams, t)
		}
		for _, id := range append(slices.Clone(st.Admins), st.Viewers...) {
			if u := byID[id]; u == nil || t.member(u) == nil {
				return fmt.Errorf("team %q: admin or viewer %d is not a member", st.Name, id)
			}
		}
		for _, si := range st.Invites {
			created, err := time.Parse(time.RFC3339Nano, si.Created)
			if si.ID <= 0 || si.ID >= sf.NextInvite || err != nil || (si.User != 0 && byID[si.User] == nil) {
				return fmt.Errorf("team %q: bad invite %d", st.Name, si.ID)
			}
			t.invites = append(t.invites, &invite{id: si.ID, team: t, email: si.Email, user: byID[si.User], admin: si.Admin, created: created})
		}
	}
	slices.SortFunc(s.teams, func(a, b *team) int { return a.id - b.id })
	for _, u := range s.users {
		slices.SortFunc(u.teams, func(a, b *team) int { return a.id - b.id })
	}
	// Every id is below its counter (checked above); ids start at 1, also
	// after a state with none of a kind and its counter at 0 (nextMember
	// is set above).
	s.nextUser, s.nextKey, s.nextTeam, s.nextInvite = max(sf.NextUser, 1), max(sf.NextKey, 1), max(sf.NextTeam, 1), max(sf.NextInvite, 1)
	return nil
}

// restoreTimes sets u's times from su: created and modified must be
// there; a user without last_active was never active.
func (u *user) restoreTimes(su stateUser) error {
	for _, f := range []struct {
		name, text string
		into       *time.Time
		optional   bool
	}{{"created", su.Created, &u.created, false}, {"modified", su.Modified, &u.modified, false}, {"last_active", su.LastActive, &u.lastActive, true}} {
		if f.text == "" && f.optional {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, f.text)
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		*f.into = t.UTC()
	}
	if su.Version < 0 || su.ActiveDays < 0 {
		return fmt.Errorf("negative version or active_days")
	}
	return nil
}
