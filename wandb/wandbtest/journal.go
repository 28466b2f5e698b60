package wandbtest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"

	"github.com/wandb-lua/wandb-lua/wandb/atomicfile"
)

// How WithStateFile keeps the store: a snapshot, then a journal.
//
// Rewriting the whole file for every change cost time in proportion to the
// instance: 207 ms per created user at 50,000 users. Now the file's first
// line is a snapshot of the store (JSON, version 4), and each save after
// that appends one line: the users and teams that changed since the last
// save, whole, and the users deleted. Reading the file applies the lines
// in order; the last one wins.
//
//   - A save appends its line with one write and fsyncs it before the
//     change is answered. A crash can leave only the last line incomplete:
//     a last line without its newline, or that does not parse, is dropped
//     (that change was never answered). A bad line before the last is a
//     corrupt file, and an error.
//   - Compaction writes a new snapshot with atomicfile (a temporary file
//     fsynced and renamed over the old), so the file is always a whole
//     snapshot and whole lines: when the handler starts on a file with a
//     journal, when the journal has grown larger than the snapshot (so
//     the file stays within twice the state, and each byte of snapshot is
//     rewritten only after as many bytes of journal), and after a save
//     that failed (its changes are no longer tracked separately).
//   - Like the snapshot, a line holds hashes of secrets, never a secret.

// minCompactBytes is the smallest journal compacted while the handler
// runs: for a small state a few changes would otherwise rewrite it.
const minCompactBytes = 1 << 20

// stateChange is a journal line: the users and teams that changed, whole,
// the IDs of users deleted, and the counters after the change.
type stateChange struct {
	stateCounters
	Users   []stateUser `json:"users,omitempty"`
	Deleted []int       `json:"deleted_users,omitempty"`
	Teams   []stateTeam `json:"teams,omitempty"`
}

// userChanged records a change of u for the next save.
func (s *store) userChanged(u *user) {
	s.changedUsers[u] = struct{}{}
	s.gen++
}

// userDeleted records the deletion of u for the next save.
func (s *store) userDeleted(u *user) {
	delete(s.changedUsers, u)
	s.deletedUsers = append(s.deletedUsers, u.id)
	s.gen++
}

// teamChanged records a change of t (members, roles, invites) for the
// next save.
func (s *store) teamChanged(t *team) {
	s.changedTeams[t] = struct{}{}
	s.gen++
}

// changes encodes what changed since the last save as a journal line and
// forgets it; s.mu must be held.
func (s *store) changes() ([]byte, error) {
	c := stateChange{stateCounters: s.counters(), Deleted: s.deletedUsers}
	for _, u := range slices.SortedFunc(maps.Keys(s.changedUsers), func(a, b *user) int { return a.id - b.id }) {
		c.Users = append(c.Users, u.state())
	}
	for _, t := range slices.SortedFunc(maps.Keys(s.changedTeams), func(a, b *team) int { return a.id - b.id }) {
		c.Teams = append(c.Teams, t.state())
	}
	s.forgetChanges()
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// forgetChanges clears the record of changes: they are saved.
func (s *store) forgetChanges() {
	clear(s.changedUsers)
	clear(s.changedTeams)
	s.deletedUsers = nil
	s.activity = false
}

// stateRead is what readState found besides the state.
type stateRead struct {
	lines int  // journal lines applied
	torn  bool // a last line was incomplete and dropped
}

// readState parses a state file: its snapshot, with its journal's lines
// applied.
func readState(b []byte) (stateFile, stateRead, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var sf stateFile
	if err := dec.Decode(&sf); err != nil {
		return sf, stateRead{}, err
	}
	var read stateRead
	switch {
	case sf.Version >= 1 && sf.Version < stateVersion:
		return sf, read, fmt.Errorf("written by an older wandb-lua (version %d; this one reads %d): "+
			"delete it to start afresh, or start without a state file", sf.Version, stateVersion)
	case sf.Version != stateVersion:
		return sf, read, fmt.Errorf("unsupported version %d (want %d)", sf.Version, stateVersion)
	}
	rest := b[dec.InputOffset():]
	users := map[int]stateUser{}
	for _, u := range sf.Users {
		users[u.ID] = u
	}
	teams := map[int]stateTeam{}
	for _, t := range sf.Teams {
		teams[t.ID] = t
	}
	rest = bytes.TrimPrefix(rest, []byte("\n")) // the snapshot's own line end
	for n := 2; len(rest) > 0; n++ {
		end := bytes.IndexByte(rest, '\n')
		if end < 0 {
			read.torn = true // written in part: never answered
			break
		}
		line := rest[:end]
		rest = rest[end+1:]
		var c stateChange
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil || dec.More() {
			if len(bytes.TrimSpace(rest)) == 0 {
				read.torn = true // the last line, cut short in a crash
				break
			}
			return sf, read, fmt.Errorf("line %d: not a journal entry (%v); the lines after it cannot be applied", n, err)
		}
		for _, u := range c.Users {
			users[u.ID] = u
		}
		for _, id := range c.Deleted {
			delete(users, id)
		}
		for _, t := range c.Teams {
			teams[t.ID] = t
		}
		sf.stateCounters = c.stateCounters
		read.lines++
	}
	byID := func(a, b int) int { return cmp.Compare(a, b) }
	sf.Users = sf.Users[:0]
	for _, id := range slices.SortedFunc(maps.Keys(users), byID) {
		sf.Users = append(sf.Users, users[id])
	}
	sf.Teams = sf.Teams[:0]
	for _, id := range slices.SortedFunc(maps.Keys(teams), byID) {
		sf.Teams = append(sf.Teams, teams[id])
	}
	return sf, read, nil
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
	sf, read, err := readState(b)
	if err != nil {
		return false, fmt.Errorf("wandbtest: load state %s: %w", path, err)
	}
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.restore(sf); err != nil {
		return false, fmt.Errorf("wandbtest: load state %s: %w", path, err)
	}
	s.forgetChanges() // what is on disk: nothing to write yet
	h.savedGen = s.gen
	h.snapshotBytes = int64(len(b))
	h.fullNext = read.lines > 0 || read.torn // compacted by NewHandler
	return true, nil
}

// persist saves the changes, if there is a state file and anything changed.
func (h *Handler) persist() error { return h.save(saveChanges) }

// Flush saves to the state file (WithStateFile) what it does not hold
// yet: the time of each user's last activity since the last change (a
// change, and a user's first request of a day, are saved before they are
// answered). wandb-lua serve calls it when it stops, and Server.Close
// does; without a state file it does nothing.
func (h *Handler) Flush() error { return h.save(saveActivity) }

// What save writes.
const (
	saveChanges  = iota // the changes, if any
	saveActivity        // the changes, and the activity not yet saved (Flush)
	saveSnapshot        // a snapshot, even if nothing changed
)

// save writes what changed since the last save to the state file: a
// journal line, or a new snapshot (see above). Changes are taken under
// the store's lock and written under saveMu, so the file never goes back
// to an older state.
func (h *Handler) save(what int) error {
	if h.stateFile == "" {
		return nil
	}
	h.saveMu.Lock()
	defer h.saveMu.Unlock()
	s := h.store
	s.mu.Lock()
	gen := s.gen
	if gen == h.savedGen && what == saveChanges || gen == h.savedGen && what == saveActivity && !s.activity {
		s.mu.Unlock()
		return nil
	}
	full := what == saveSnapshot || h.fullNext || h.journalBytes > max(h.snapshotBytes, minCompactBytes)
	var b []byte
	var err error
	if full {
		b, err = s.snapshot()
		s.forgetChanges()
	} else {
		b, err = s.changes()
	}
	s.mu.Unlock()
	if err == nil && full {
		err = atomicfile.Write(h.stateFile, b, 0o600)
	} else if err == nil {
		err = appendLine(h.stateFile, b)
	}
	if err != nil {
		h.fullNext = true // the changes were forgotten: the next save writes everything
		return fmt.Errorf("wandbtest: save state: %w", err)
	}
	if full {
		h.snapshotBytes, h.journalBytes, h.fullNext = int64(len(b)), 0, false
	} else {
		h.journalBytes += int64(len(b))
	}
	h.savedGen = gen
	return nil
}

// appendLine appends line to the file at path, which must exist (a
// snapshot made it), with one write, and syncs it.
func appendLine(path string, line []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.Write(line)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
