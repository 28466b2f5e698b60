package wandbtest

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Teams in the store: a team is an entity with members (users, some of them
// team admins, some service accounts) and pending invites. Every method
// expects s.mu to be held.

type team struct {
	id      int
	name    string
	members []*membership         // in the order they joined
	byUser  map[*user]*membership // the same memberships, by member
	invites []*invite             // in the order they were sent
}

// newTeamValue returns an empty team; s.newTeam also stores it.
func newTeamValue(id int, name string) *team {
	return &team{id: id, name: name, byUser: map[*user]*membership{}}
}

// join makes u a member of t with role and the membership id id; u must
// not be one.
func (t *team) join(u *user, role string, id int) {
	m := &membership{id: id, user: u, role: role}
	t.members = append(t.members, m)
	t.byUser[u] = m
}

type membership struct {
	id   int // unique in the store; GetTeamEntity shows it with WithDistinctMemberIDs
	user *user
	role string // roleAdmin (a team admin), roleMember or roleViewer
}

// memberID is m's id as GetTeamEntity lists it and deleteInvite takes it:
// the user's ID, or with WithDistinctMemberIDs base64("Member:<n>").
func (s *store) memberID(m *membership) string {
	if s.memberIDs {
		return gqlID("Member", m.id)
	}
	return gqlID("User", m.user.id)
}

// Team roles (and, roleAdmin and roleMember, organisation roles).
const (
	roleAdmin  = "admin"
	roleMember = "member"
	roleViewer = "viewer"
)

// teamRole returns the role of a member who is, or is not, a team admin.
func teamRole(admin bool) string {
	if admin {
		return roleAdmin
	}
	return roleMember
}

// An invite is pending until accepted: to an existing user (user set), or
// to an email address no user has yet.
type invite struct {
	id      int
	team    *team
	email   string // the address invited, or the invited user's
	user    *user  // nil for an address no user has
	admin   bool   // the member will be a team admin
	created time.Time
}

// Errors of team operations; the resolvers map them to HTTP statuses.
var (
	errNoTeam      = errors.New("no such team")
	errNoMember    = errors.New("no such member or invite")
	errBadName     = errors.New("invalid team name")
	errNotTeamHead = fmt.Errorf("%w: this operation needs a team admin or an instance admin", errDenied)
)

// teamName is what a team name may look like: W&B entity names are lower
// case.
var teamName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// createTeam makes a team whose first member and admin is admin.
func (s *store) createTeam(name string, admin *user) (*team, error) {
	if !teamName.MatchString(name) {
		return nil, fmt.Errorf("%w %q: use 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit", errBadName, name)
	}
	if s.teamByName[name] != nil || s.byUsername[name] != nil {
		return nil, fmt.Errorf("entity name %s %w", name, errExists)
	}
	t := s.newTeam(name)
	s.addMember(t, admin, true)
	return t, nil
}

// newTeam stores an empty team named name, which must be free.
func (s *store) newTeam(name string) *team {
	t := newTeamValue(s.nextTeam, name)
	s.nextTeam++
	s.teams = append(s.teams, t)
	s.teamByName[name] = t
	s.teamChanged(t)
	return t
}

// joinTeam creates the team if needed and makes u, if not nil, a member
// (not an admin).
func (s *store) joinTeam(name string, u *user) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("empty team name")
	}
	t := s.teamByName[name]
	if t == nil {
		t = s.newTeam(name)
	}
	if u != nil && t.member(u) == nil {
		s.addMember(t, u, false)
	}
	return nil
}

// addMember makes u a member of t, with any pending invite of u to t
// accepted.
func (s *store) addMember(t *team, u *user, admin bool) {
	for _, inv := range t.invites {
		if inv.user == u {
			admin = admin || inv.admin
			s.dropInvite(inv)
			break
		}
	}
	t.join(u, teamRole(admin), s.nextMember)
	s.nextMember++
	u.teams = append(u.teams, t)
	slices.SortFunc(u.teams, func(a, b *team) int { return a.id - b.id })
	s.teamChanged(t)
}

// member returns u's membership of t, or nil.
func (t *team) member(u *user) *membership {
	return t.byUser[u]
}

// canManage reports whether u may invite to and remove from t: an instance
// admin or an admin of t.
func (t *team) canManage(u *user) bool {
	if u.admin {
		return true
	}
	m := t.member(u)
	return m != nil && m.role == roleAdmin
}

// teamByEntityName returns the team named name, or errNoTeam.
func (s *store) teamByEntityName(name string) (*team, error) {
	t := s.teamByName[name]
	if t == nil {
		return nil, fmt.Errorf("%w %q", errNoTeam, name)
	}
	return t, nil
}

// invite records an invite of u (by username or email) or of email (an
// address no user has) to t.
func (s *store) invite(t *team, u *user, email string, admin bool) (*invite, error) {
	if u != nil {
		if t.member(u) != nil {
			return nil, fmt.Errorf("%s is already a member of %s: %w", u.username, t.name, errExists)
		}
		email = u.email
	}
	for _, inv := range t.invites {
		if (u != nil && inv.user == u) || (email != "" && strings.EqualFold(inv.email, email)) {
			return nil, fmt.Errorf("%s is already invited to %s: %w", email, t.name, errExists)
		}
	}
	inv := &invite{id: s.nextInvite, team: t, email: email, user: u, admin: admin, created: time.Now().UTC()}
	s.nextInvite++
	t.invites = append(t.invites, inv)
	s.teamChanged(t)
	return inv, nil
}

// dropInvite removes inv from its team.
func (s *store) dropInvite(inv *invite) {
	inv.team.invites = slices.DeleteFunc(inv.team.invites, func(o *invite) bool { return o == inv })
	s.teamChanged(inv.team)
}

// removeMember removes u from t.
func (s *store) removeMember(t *team, u *user) {
	t.members = slices.DeleteFunc(t.members, func(m *membership) bool { return m.user == u })
	delete(t.byUser, u)
	u.teams = slices.DeleteFunc(u.teams, func(o *team) bool { return o == t })
	s.teamChanged(t)
}

// deleteMember removes the invite or member of t whose member ID is id, as
// GetTeamEntity lists it.
func (s *store) deleteMember(t *team, id string) error {
	if n, ok := parseGQLID("Invite", id); ok {
		for _, inv := range t.invites {
			if inv.id == n {
				s.dropInvite(inv)
				return nil
			}
		}
	}
	for _, m := range t.members {
		if s.memberID(m) == id {
			s.removeMember(t, m.user)
			return nil
		}
	}
	return fmt.Errorf("%w with id %q in team %s", errNoMember, id, t.name)
}

// addServiceAccount creates a service account, with an API key, as a
// member of t, and returns it with the key. The key's secret is minted, or
// secret when not "" (a seed's, see SeedKey.Secret); minted is the minted
// one ("" when secret was given), which the store does not keep.
func (s *store) addServiceAccount(t *team, description, secret string) (u *user, k *apiKey, minted string, err error) {
	if secret != "" {
		if err := s.checkKnownSecret(secret); err != nil {
			return nil, nil, "", err
		}
	}
	username := s.freeName(t.name + "-service")
	now := time.Now().UTC()
	u = &user{id: s.nextUser, name: description, username: username, service: true, created: now, modified: now}
	s.nextUser++
	s.users = append(s.users, u)
	s.byUsername[username] = u
	s.userChanged(u)
	desc := "service account"
	if secret == "" {
		k, minted = s.addKey(u, &desc)
	} else {
		k = s.addKeyWithSecret(u, &desc, secret)
	}
	s.addMember(t, u, false)
	return u, k, minted, nil
}

// memberKey is the secret of a service account's key, which
// GetTeamEntity shows in the account's members[].apiKey (see
// store.memberKeys).
type memberKey struct {
	key    *apiKey
	secret string
}

// rememberMemberKey keeps the secret of k, the key createServiceAccount
// minted for the service account sa, in memory, for GetTeamEntity to show
// while the key exists. It is never saved: the state file holds only
// SHA-256 of secrets.
func (s *store) rememberMemberKey(sa *user, k *apiKey, secret string) {
	s.memberKeys[sa] = memberKey{key: k, secret: secret}
}

// memberSecret returns the secret GetTeamEntity shows for u, a member: its
// service account key's, while that key exists, else "".
func (s *store) memberSecret(u *user) string {
	mk, ok := s.memberKeys[u]
	if !ok || s.keys[mk.key.id] != mk.key {
		return ""
	}
	return mk.secret
}

// linkInvites attaches the pending invites to u's email address to u, a
// user just created: they become invites of an existing user.
func (s *store) linkInvites(u *user) {
	for _, t := range s.teams {
		for _, inv := range t.invites {
			if inv.user == nil && strings.EqualFold(inv.email, u.email) {
				inv.user = u
				s.teamChanged(t)
			}
		}
	}
}

// TeamInfo is a snapshot of a stored team, for assertions in tests.
type TeamInfo struct {
	ID      string       // base64("Entity:<n>")
	Name    string       // unique among teams and usernames
	Members []MemberInfo // members in the order they joined, then pending invites in the order they were sent
}

// MemberInfo is a member of a team, or a pending invite, as GetTeamEntity
// lists it.
type MemberInfo struct {
	ID          string // the user's ID for a member (with WithDistinctMemberIDs base64("Member:<n>")), base64("Invite:<n>") for an invite
	Name        string // the user's name; the address for an invite to one no user has
	Username    string // "" for an invite to an address no user has
	Email       string // "" for a service account
	Admin       bool   // a team admin, or invited as one
	Role        string // the team role: "admin", "member" or "viewer" ("" for an invite)
	Pending     bool   // an invite, not yet accepted
	AccountType string // "USER" or "SERVICE"
}

// teamInfo returns the snapshot of t.
func (s *store) teamInfo(t *team) TeamInfo {
	ti := TeamInfo{ID: gqlID("Entity", t.id), Name: t.name, Members: []MemberInfo{}}
	for _, m := range t.members {
		accountType := "USER"
		if m.user.service {
			accountType = "SERVICE"
		}
		ti.Members = append(ti.Members, MemberInfo{ID: s.memberID(m), Name: m.user.name,
			Username: m.user.username, Email: m.user.email, Admin: m.role == roleAdmin, Role: m.role, AccountType: accountType})
	}
	for _, inv := range t.invites {
		mi := MemberInfo{ID: gqlID("Invite", inv.id), Name: inv.email, Email: inv.email, Admin: inv.admin,
			Pending: true, AccountType: "USER"}
		if inv.user != nil {
			mi.Name, mi.Username = inv.user.name, inv.user.username
		}
		ti.Members = append(ti.Members, mi)
	}
	return ti
}
