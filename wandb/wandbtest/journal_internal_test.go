package wandbtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestJournalCompacts checks when a save writes a snapshot instead of a
// journal line: once the journal is larger than the snapshot and than
// minCompactBytes, and after a save that failed.
func TestJournalCompacts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	h, err := NewHandler(WithStateFile(path))
	if err != nil {
		t.Fatal(err)
	}
	lineCount := func() int {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(b), "\n")
	}
	add := func(email string) {
		t.Helper()
		if _, err := h.AddUser(SeedUser{Email: email}); err != nil {
			t.Fatal(err)
		}
	}
	add("a@example.com")
	add("b@example.com")
	if n := lineCount(); n != 3 {
		t.Fatalf("%d lines, want the snapshot and two journal lines", n)
	}
	h.saveMu.Lock()
	h.journalBytes = max(h.snapshotBytes, minCompactBytes) // not yet larger
	h.saveMu.Unlock()
	add("c@example.com")
	if n := lineCount(); n != 4 {
		t.Fatalf("%d lines, want 4: the journal is not larger than the limit yet", n)
	}
	add("d@example.com") // now it is
	if n := lineCount(); n != 1 {
		t.Fatalf("%d lines, want the journal compacted into the snapshot", n)
	}

	// A failed save: the next one writes everything, as a snapshot.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := h.AddUser(SeedUser{Email: "e@example.com"}); err == nil {
		t.Fatal("a save to a removed state file did not fail")
	}
	add("f@example.com")
	if n := lineCount(); n != 1 {
		t.Fatalf("%d lines after a failed save, want a new snapshot", n)
	}
	h2, err := NewHandler(WithStateFile(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"a", "b", "c", "d", "e", "f"} {
		if _, ok := h2.UserByEmail(email + "@example.com"); !ok {
			t.Errorf("%s@example.com is missing from the state file", email)
		}
	}
}
