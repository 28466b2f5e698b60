package wandbtest_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// lines splits a state file into its lines (each with its newline).
func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
}

// TestStateCreateAppends creates users on a server of 2,000 users: each
// create appends one line to the state file, which is neither rewritten
// nor replaced, and holds no secret.
func TestStateCreateAppends(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	srv := wandbtest.NewServer(wandbtest.WithStateFile(path), wandbtest.WithSeed(wandbtest.ManyUsers(2000, "team-a")))
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fiBefore, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(lines(t, path)); n != 1 {
		t.Fatalf("a new state file has %d lines, want the snapshot alone", n)
	}
	createUser(t, srv, srv.AdminKey(), "new1@example.com", false).wantOK(t)
	secret := generateKey(t, srv, srv.AdminKey(), "fresh")
	createUser(t, srv, srv.AdminKey(), "new2@example.com", true).wantOK(t)
	srv.Close()

	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fiAfter, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(fiBefore, fiAfter) || !bytes.HasPrefix(after, before) {
		t.Fatal("the state file was rewritten, not appended to")
	}
	added := lines(t, path)[1:]
	if len(added) != 3 {
		t.Fatalf("%d lines appended for three changes, want 3:\n%s", len(added), strings.Join(added, ""))
	}
	if !strings.Contains(added[0], "new1@example.com") || len(added[0]) > 1024 {
		t.Errorf("the first line (%d bytes) is not the new user's: %.200s", len(added[0]), added[0])
	}
	if bytes.Contains(after, []byte(secret.Name)) || bytes.Contains(after, []byte(srv.AdminKey())) {
		t.Error("the journal holds a secret")
	}

	// A restart replays the lines and compacts the file to one.
	srv2 := wandbtest.Start(t, wandbtest.WithStateFile(path))
	for _, email := range []string{"new1@example.com", "new2@example.com"} {
		if _, ok := srv2.UserByEmail(email); !ok {
			t.Errorf("%s is missing after a restart", email)
		}
	}
	if admin, _ := srv2.UserByEmail(wandbtest.AdminEmail); len(admin.Keys) != 2 {
		t.Errorf("the admin has %d keys after a restart, want 2", len(admin.Keys))
	}
	if n := len(lines(t, path)); n != 1 {
		t.Errorf("after a restart the state file has %d lines, want 1 (compacted)", n)
	}
	if len(srv2.Users()) != 2003 {
		t.Errorf("%d users after a restart, want 2003", len(srv2.Users()))
	}
}

// TestStateTornLastLine cuts the last journal line short, as a crash in
// the middle of its write would: the file still loads, without that
// change, and is repaired.
func TestStateTornLastLine(t *testing.T) {
	t.Parallel()
	for name, tear := range map[string]func(line string) string{
		"cut short":      func(line string) string { return line[:len(line)/2] },
		"no newline":     func(line string) string { return strings.TrimSuffix(line, "\n") },
		"zeros":          func(line string) string { return strings.Repeat("\x00", len(line)-1) + "\n" },
		"only a newline": func(string) string { return "\n" },
		"one byte of it": func(line string) string { return line[:1] },
		"garbage":        func(line string) string { return "}{\n" },
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			srv := wandbtest.NewServer(wandbtest.WithStateFile(path))
			createUser(t, srv, srv.AdminKey(), "kept@example.com", false).wantOK(t)
			createUser(t, srv, srv.AdminKey(), "torn@example.com", false).wantOK(t)
			srv.Close()
			ls := lines(t, path)
			ls[len(ls)-1] = tear(ls[len(ls)-1])
			if err := os.WriteFile(path, []byte(strings.Join(ls, "")), 0o600); err != nil {
				t.Fatal(err)
			}

			srv2 := wandbtest.Start(t, wandbtest.WithStateFile(path))
			if _, ok := srv2.UserByEmail("kept@example.com"); !ok {
				t.Error("the change before the torn line is lost")
			}
			if _, ok := srv2.UserByEmail("torn@example.com"); ok {
				t.Error("the torn line's change was applied")
			}
			if n := len(lines(t, path)); n != 1 {
				t.Errorf("the file has %d lines after the restart, want 1 (compacted, the torn line dropped)", n)
			}
			createUser(t, srv2, mustKey(t, srv2, wandbtest.AdminEmail), "again@example.com", false).wantOK(t)
			srv3 := wandbtest.Start(t, wandbtest.WithStateFile(path))
			if _, ok := srv3.UserByEmail("again@example.com"); !ok {
				t.Error("a change after the repair is lost")
			}
		})
	}
}

// TestStateCorruptJournal damages a journal line that is not the last:
// that is no crash's doing, and the file is refused, naming the line.
func TestStateCorruptJournal(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	srv := wandbtest.NewServer(wandbtest.WithStateFile(path))
	for _, email := range []string{"a@example.com", "b@example.com"} {
		createUser(t, srv, srv.AdminKey(), email, false).wantOK(t)
	}
	srv.Close()
	ls := lines(t, path)
	ls[1] = ls[1][:len(ls[1])/2] + "\n"
	if err := os.WriteFile(path, []byte(strings.Join(ls, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := wandbtest.NewHandler(wandbtest.WithStateFile(path))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("a corrupt journal line: %v, want an error naming line 2", err)
	}
}

// TestStateOlderVersion: a state file of an older format (versions 1 to
// 3) is refused, saying what to do, and left as it is.
func TestStateOlderVersion(t *testing.T) {
	t.Parallel()
	for _, version := range []string{"1", "2", "3"} {
		old := `{"version":` + version + `,"next_user":2,"next_key":1,"next_team":1,"users":[
  {"id":1,"email":"admin@example.com","username":"admin","name":"admin","admin":true,"keys":[]}],"teams":[]}
`
		path := filepath.Join(t.TempDir(), "state.json")
		if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := wandbtest.NewHandler(wandbtest.WithStateFile(path))
		want := "written by an older wandb-lua (version " + version + "; this one reads 4): " +
			"delete it to start afresh, or start without a state file"
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("version %s: %v, want an error naming the file and saying %q", version, err, want)
		}
		if b, _ := os.ReadFile(path); string(b) != old {
			t.Errorf("version %s: the refused file was changed:\n%s", version, b)
		}
	}
}

// TestStateJournalKeepsNoKnownSecret adds a user whose key is a seed's
// known secret while the server runs: the journal line holds its hash,
// as the snapshot does, never the secret.
func TestStateJournalKeepsNoKnownSecret(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	seeded := "seeded-" + strings.Repeat("s", 40)
	srv := wandbtest.Start(t, wandbtest.WithStateFile(path), wandbtest.WithSeed(wandbtest.Seed{
		Users: []wandbtest.SeedUser{{Email: "s@example.com", Keys: []wandbtest.SeedKey{{Secret: seeded}}}}}))
	later := "later-" + strings.Repeat("k", 40)
	if _, err := srv.AddUser(wandbtest.SeedUser{Email: "k@example.com", Keys: []wandbtest.SeedKey{{Secret: later}}}); err != nil {
		t.Fatal(err)
	}
	ls := lines(t, path)
	if len(ls) != 2 {
		t.Fatalf("%d lines, want the snapshot and one journal line", len(ls))
	}
	for _, secret := range []string{seeded, later} {
		if strings.Contains(strings.Join(ls, ""), secret) {
			t.Errorf("the state file holds the known secret %.12s...", secret)
		}
	}
	if !strings.Contains(ls[1], `"sha256"`) {
		t.Errorf("the journal line has no key hash: %.200s", ls[1])
	}
}
