package wandbtest

import (
	"fmt"
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
	info, err := h.addSeedUser(u)
	if err != nil {
		return UserInfo{}, fmt.Errorf("wandbtest: add user: %w", err)
	}
	return info, h.persist()
}

func (h *Handler) addSeedUser(su SeedUser) (UserInfo, error) {
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range su.Teams {
		if strings.TrimSpace(t) == "" {
			return UserInfo{}, fmt.Errorf("user %s: empty team name", su.Email)
		}
	}
	u, err := s.insertUser(su.Email, su.Username, su.Name, su.Admin)
	if err != nil {
		return UserInfo{}, err
	}
	for _, k := range su.Keys {
		desc := k.Description
		s.addKey(u, &desc)
	}
	for _, t := range su.Teams {
		if err := s.joinTeam(t, u); err != nil {
			return UserInfo{}, err
		}
	}
	return u.info(), nil
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

// AddTeam creates the team if it does not exist and adds the users with the
// given emails to it. Nothing changes when one of the emails names no user.
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

// MaxInFlight returns the highest InFlight seen since the handler was created
// or ResetMaxInFlight was last called.
func (h *Handler) MaxInFlight() int { return int(h.maxInFlight.Load()) }

// ResetMaxInFlight sets MaxInFlight to the current InFlight.
func (h *Handler) ResetMaxInFlight() { h.maxInFlight.Store(h.inFlight.Load()) }
