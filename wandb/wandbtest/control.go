package wandbtest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The test-facing API of a Handler: what a test calls to set it up, slow it
// down and watch it (FailNext and PendingFaults are in faults.go). The
// serving path is in handler.go and resolvers.go.

// AdminKey returns the secret of the admin key that NewHandler minted: on a
// fresh start, and when the state file it restored left the admin without a
// key. It is "" when the handler restored a state file in which the admin
// still has a key: the file holds only the key's hash, so that secret exists
// only where it was shown when it was minted (the admin's old key keeps
// working). Call AddAPIKey(AdminEmail, ...) to mint another.
func (h *Handler) AdminKey() string { return h.adminKey }

// SetLatency changes the latency added to every request (see WithLatency).
func (h *Handler) SetLatency(d time.Duration) { h.latency.Store(int64(d)) }

// AddUser adds a user, mints its Keys and joins it to its Teams (creating
// them). It fails when the email is not local@domain or when the email or the
// username is taken (case-insensitively).
func (h *Handler) AddUser(u SeedUser) (UserInfo, error) {
	s := h.store
	s.mu.Lock()
	added, err := s.addSeedUser(u)
	var info UserInfo
	if err == nil {
		info = added.info()
	}
	s.mu.Unlock()
	if err != nil {
		return UserInfo{}, fmt.Errorf("wandbtest: add user: %w", err)
	}
	return info, h.persist()
}

// addSeedUser adds su with its keys, teams and standing; s.mu must be
// held.
func (s *store) addSeedUser(su SeedUser) (*user, error) {
	for _, t := range su.Teams {
		if strings.TrimSpace(t) == "" {
			return nil, fmt.Errorf("user %s: empty team name", su.Email)
		}
	}
	st, err := seedStanding(su)
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", su.Email, err)
	}
	secrets := map[string]bool{}
	for _, k := range su.Keys {
		if k.Secret == "" {
			continue
		}
		if err := s.checkKnownSecret(k.Secret); err != nil || secrets[k.Secret] {
			if err == nil {
				err = errors.New("two keys have the same secret")
			}
			return nil, fmt.Errorf("user %s: %w", su.Email, err)
		}
		secrets[k.Secret] = true
	}
	u, err := s.insertUser(su.Email, su.Username, su.Name, su.Admin)
	if err != nil {
		return nil, err
	}
	u.inactive, u.lastActive, u.activeDays = st.inactive, st.lastActive, st.activeDays
	if !st.created.IsZero() {
		u.created = st.created
	}
	for _, k := range su.Keys {
		desc := k.Description
		if k.Secret == "" {
			s.addKey(u, &desc)
		} else {
			s.addKeyWithSecret(u, &desc, k.Secret) // checked above
		}
	}
	for _, t := range su.Teams {
		if err := s.joinTeam(t, u); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// standing is what a seed says of a user's standing (see SeedUser).
type standing struct {
	inactive   bool
	created    time.Time // zero: when it is seeded
	lastActive time.Time // zero: never active
	activeDays int
}

// seedStanding reads su's standing.
func seedStanding(su SeedUser) (standing, error) {
	st := standing{inactive: su.Active != nil && !*su.Active, activeDays: su.DaysActive}
	var err error
	if su.CreatedAt != "" {
		if st.created, err = time.Parse(time.RFC3339, su.CreatedAt); err != nil {
			return st, fmt.Errorf("created_at: want an RFC 3339 time, e.g. 2024-01-15T09:00:00Z: %w", err)
		}
		st.created = st.created.UTC()
	}
	if su.LastActiveAt != "" {
		if st.lastActive, err = time.Parse(time.RFC3339, su.LastActiveAt); err != nil {
			return st, fmt.Errorf("last_active_at: want an RFC 3339 time, e.g. 2025-03-01T12:00:00Z: %w", err)
		}
		st.lastActive = st.lastActive.UTC()
		if st.activeDays == 0 {
			st.activeDays = 1 // active on that day at least
		}
	}
	if su.DaysActive < 0 {
		return st, fmt.Errorf("days_active %d: want 0 or more", su.DaysActive)
	}
	return st, nil
}

// stateNames are the users (by lower-cased email) and teams (by name) a
// restored state file holds: what a seed merged into it leaves alone.
type stateNames struct {
	emails, teams map[string]bool
}

// names returns what the store holds; s.mu must be held.
func (s *store) names() *stateNames {
	n := &stateNames{emails: make(map[string]bool, len(s.byEmail)), teams: make(map[string]bool, len(s.teamByName))}
	for e := range s.byEmail {
		n.emails[e] = true
	}
	for t := range s.teamByName {
		n.teams[t] = true
	}
	return n
}

// applySeed adds the users and then the teams of sd. With kept (a
// restored state's names), the users and teams it names are left as they
// are, and only the others are added: the seed is merged into the state.
func (h *Handler) applySeed(sd Seed, kept *stateNames) error {
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range sd.Users {
		if kept != nil && kept.emails[strings.ToLower(u.Email)] {
			continue
		}
		if _, err := s.addSeedUser(u); err != nil {
			return err
		}
	}
	for _, st := range sd.Teams {
		if kept != nil && kept.teams[st.Name] {
			continue
		}
		if err := s.joinTeam(st.Name, nil); err != nil {
			return err
		}
		t := s.teamByName[st.Name]
		for _, email := range st.Admins {
			u, err := s.userByEmail(email)
			if err != nil {
				return fmt.Errorf("team %s: %w", st.Name, err)
			}
			if m := t.member(u); m != nil {
				m.role = roleAdmin
				s.teamChanged(t)
			} else {
				s.addMember(t, u, true)
			}
		}
		for _, sa := range st.ServiceAccounts {
			if strings.TrimSpace(sa.Description) == "" {
				return fmt.Errorf("team %s: a service account has no description", st.Name)
			}
			u, _, _, err := s.addServiceAccount(t, sa.Description, sa.Secret)
			if err != nil {
				return fmt.Errorf("team %s: service account %q: %w", st.Name, sa.Description, err)
			}
			u.admin = sa.Admin
		}
		for _, inv := range st.Invites {
			if _, err := splitEmail(inv.Email); err != nil {
				return fmt.Errorf("team %s: %w", st.Name, err)
			}
			if _, err := s.invite(t, s.byEmail[strings.ToLower(inv.Email)], inv.Email, inv.Admin); err != nil {
				return fmt.Errorf("team %s: %w", st.Name, err)
			}
		}
	}
	return nil
}

// AddAPIKey mints a key for the user with the given email (case-insensitive)
// and returns its secret, which the handler does not keep.
func (h *Handler) AddAPIKey(email, description string) (secret string, err error) {
	s := h.store
	s.mu.Lock()
	u, err := s.userByEmail(email)
	if err == nil {
		_, secret = s.addKey(u, &description)
	}
	s.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("wandbtest: add api key: %w", err)
	}
	return secret, h.persist()
}

// RevokeAPIKeys deletes the keys with the given description of the user
// with the given email and returns how many there were.
func (h *Handler) RevokeAPIKeys(email, description string) (int, error) {
	s := h.store
	s.mu.Lock()
	u, err := s.userByEmail(email)
	n := 0
	if err == nil {
		for _, k := range slices.Clone(u.keys) {
			if k.description != nil && *k.description == description {
				s.deleteKey(k)
				n++
			}
		}
	}
	s.mu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("wandbtest: revoke api keys: %w", err)
	}
	return n, h.persist()
}

// AddTeam creates the team if it does not exist and adds the users with the
// given emails to it as members (not team admins). Nothing changes when one
// of the emails names no user.
func (h *Handler) AddTeam(team string, memberEmails ...string) error {
	s := h.store
	s.mu.Lock()
	err := func() error {
		members := make([]*user, 0, len(memberEmails))
		for _, e := range memberEmails {
			u, err := s.userByEmail(e)
			if err != nil {
				return err
			}
			members = append(members, u)
		}
		if err := s.joinTeam(team, nil); err != nil {
			return err
		}
		for _, u := range members {
			_ = s.joinTeam(team, u) // the name was checked above
		}
		return nil
	}()
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("wandbtest: add team %q: %w", team, err)
	}
	return h.persist()
}

// UserByEmail returns a snapshot of the user with that email
// (case-insensitive), or false.
func (h *Handler) UserByEmail(email string) (UserInfo, bool) {
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userByEmail(email)
	if err != nil {
		return UserInfo{}, false
	}
	return u.info(), true
}

// Users returns a snapshot of every user, in creation order.
func (h *Handler) Users() []UserInfo {
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]UserInfo, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u.info())
	}
	return out
}

// Requests returns how many requests the handler received for operation op,
// faulted ones included; op "" counts every request, whatever its path.
func (h *Handler) Requests(op string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if op == "" {
		return h.total
	}
	return h.counts[op]
}

// LastRequest returns the most recent request for operation op ("" = any
// request), or false if there was none.
func (h *Handler) LastRequest(op string) (Request, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if op == "" {
		return h.lastAny, h.received
	}
	r, ok := h.last[op]
	return r, ok
}

// InFlight returns how many requests the handler is serving now, counting
// from the moment ServeHTTP is entered (latency and fault delays included).
func (h *Handler) InFlight() int { return int(h.inFlight.Load()) }

// Stalled returns how many requests a Stall fault holds now. A request
// counts from the moment it stalls: with AfterApply, the operation has
// been applied by then, so a test that cancels a call once Stalled is
// non-zero knows which side of the change it cancelled on.
func (h *Handler) Stalled() int { return int(h.stalled.Load()) }

// MaxInFlight returns the highest InFlight seen since the handler was created
// or ResetMaxInFlight was last called.
func (h *Handler) MaxInFlight() int { return int(h.maxInFlight.Load()) }

// ResetMaxInFlight sets MaxInFlight to the current InFlight.
func (h *Handler) ResetMaxInFlight() { h.maxInFlight.Store(h.inFlight.Load()) }

// Team returns a snapshot of the team with that name, or false.
func (h *Handler) Team(name string) (TeamInfo, bool) {
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.teamByName[name]
	if t == nil {
		return TeamInfo{}, false
	}
	return s.teamInfo(t), true
}

// AcceptInvite accepts the pending invite to team of the user with that
// email, as the user would in the W&B app: the user becomes a member (a
// team admin if invited as one). It fails when there is no such invite, or
// no user with that email yet.
func (h *Handler) AcceptInvite(team, email string) error {
	s := h.store
	s.mu.Lock()
	err := func() error {
		t, err := s.teamByEntityName(team)
		if err != nil {
			return err
		}
		u, err := s.userByEmail(email)
		if err != nil {
			return err
		}
		for _, inv := range t.invites {
			if inv.user == u {
				s.addMember(t, u, inv.admin)
				return nil
			}
		}
		return fmt.Errorf("%w: %s has no pending invite to %s", errNoMember, email, team)
	}()
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("wandbtest: accept invite: %w", err)
	}
	return h.persist()
}
