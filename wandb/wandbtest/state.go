package wandbtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/wandb-lua/wandb-lua/wandb/internal/atomicfile"
)

// stateVersion is the format of state files; loading another fails.
const stateVersion = 1

// stateFile is what WithStateFile persists: enough to restart, no secrets.
type stateFile struct {
	Version  int         `json:"version"`
	NextUser int         `json:"next_user"`
	NextKey  int         `json:"next_key"`
	NextTeam int         `json:"next_team"`
	Users    []stateUser `json:"users"`
	Teams    []stateTeam `json:"teams"`
}

type stateUser struct {
	ID       int        `json:"id"`
	Email    string     `json:"email"`
	Username string     `json:"username"`
	Name     string     `json:"name"`
	Admin    bool       `json:"admin,omitempty"`
	Keys     []stateKey `json:"keys"`
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
	Members []int  `json:"members"` // user IDs
}

// snapshot encodes the store; s.mu must be held.
func (s *store) snapshot() ([]byte, error) {
	sf := stateFile{
		Version:  stateVersion,
		NextUser: s.nextUser,
		NextKey:  s.nextKey,
		NextTeam: s.nextTeam,
		Users:    make([]stateUser, 0, len(s.users)),
		Teams:    make([]stateTeam, 0, len(s.teams)),
	}
	for _, u := range s.users {
		su := stateUser{ID: u.id, Email: u.email, Username: u.username, Name: u.name, Admin: u.admin, Keys: []stateKey{}}
		for _, k := range u.keys {
			su.Keys = append(su.Keys, stateKey{ID: k.id, Name: k.name, Description: k.description, SHA256: k.hash})
		}
		sf.Users = append(sf.Users, su)
	}
	for _, t := range s.teams {
		st := stateTeam{ID: t.id, Name: t.name, Members: []int{}}
		for _, m := range t.members {
			st.Members = append(st.Members, m.id)
		}
		sf.Teams = append(sf.Teams, st)
	}
	b, err := json.MarshalIndent(sf, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// restore fills an empty store from a state file's contents.
func (s *store) restore(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var sf stateFile
	if err := dec.Decode(&sf); err != nil {
		return err
	}
	if sf.Version != stateVersion {
		return fmt.Errorf("unsupported version %d (want %d)", sf.Version, stateVersion)
	}
	byID := map[int]*user{}
	for _, su := range sf.Users {
		if su.ID <= 0 || su.ID >= sf.NextUser || byID[su.ID] != nil {
			return fmt.Errorf("user %s: bad or duplicate id %d", su.Email, su.ID)
		}
		if _, err := splitEmail(su.Email); err != nil {
			return err
		}
		if su.Username == "" || s.byEmail[strings.ToLower(su.Email)] != nil || s.byUsername[strings.ToLower(su.Username)] != nil {
			return fmt.Errorf("user %s: empty or duplicate email or username", su.Email)
		}
		u := &user{id: su.ID, name: su.Name, username: su.Username, email: su.Email, admin: su.Admin}
		byID[u.id] = u
		s.users = append(s.users, u)
		s.byEmail[strings.ToLower(u.email)] = u
		s.byUsername[strings.ToLower(u.username)] = u
		for _, sk := range su.Keys {
			if sk.ID <= 0 || sk.ID >= sf.NextKey || s.keys[sk.ID] != nil || len(sk.SHA256) != 64 || s.keyByHash[sk.SHA256] != nil {
				return fmt.Errorf("user %s: bad or duplicate key %d", su.Email, sk.ID)
			}
			s.insertKey(&apiKey{id: sk.ID, owner: u, name: sk.Name, description: sk.Description, hash: sk.SHA256})
		}
	}
	slices.SortFunc(s.users, func(a, b *user) int { return a.id - b.id })
	for _, st := range sf.Teams {
		if st.ID <= 0 || st.ID >= sf.NextTeam || st.Name == "" || s.teamByName[st.Name] != nil {
			return fmt.Errorf("team %q: bad or duplicate id or name", st.Name)
		}
		t := &team{id: st.ID, name: st.Name}
		s.teams = append(s.teams, t)
		s.teamByName[t.name] = t
		for _, id := range st.Members {
			u := byID[id]
			if u == nil || slices.Contains(t.members, u) {
				return fmt.Errorf("team %q: bad or duplicate member %d", st.Name, id)
			}
			t.members = append(t.members, u)
			u.teams = append(u.teams, t)
		}
	}
	slices.SortFunc(s.teams, func(a, b *team) int { return a.id - b.id })
	for _, u := range s.users {
		slices.SortFunc(u.teams, func(a, b *team) int { return a.id - b.id })
	}
	s.nextUser, s.nextKey, s.nextTeam = sf.NextUser, sf.NextKey, sf.NextTeam
	return nil
}

// loadState restores the store from path; it reports false if path does not
// exist.
func (h *Handler) loadState(path string) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("wandbtest: load state: %w", err)
	}
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.restore(b); err != nil {
		return false, fmt.Errorf("wandbtest: load state %s: %w", path, err)
	}
	h.savedGen = s.gen // what is on disk; nothing to write yet
	return true, nil
}

// persist writes the store to the state file, if there is one and it changed.
// Snapshots are taken under the store's lock and written under saveMu, so the
// file never goes back to an older state.
func (h *Handler) persist() error {
	if h.stateFile == "" {
		return nil
	}
	h.saveMu.Lock()
	defer h.saveMu.Unlock()
	s := h.store
	s.mu.Lock()
	gen := s.gen
	if gen == h.savedGen {
		s.mu.Unlock()
		return nil
	}
	b, err := s.snapshot()
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("wandbtest: save state: %w", err)
	}
	if err := atomicfile.Write(h.stateFile, b, 0o600); err != nil {
		return fmt.Errorf("wandbtest: save state: %w", err)
	}
	h.savedGen = gen
	return nil
}
