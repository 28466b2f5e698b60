//go:build unix

package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestWriteReplacesWithExactMode(t *testing.T) {
	// A umask that would take the owner's write bit off a plain create.
	old := syscall.Umask(0o277)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old content, longer"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, perm := range []fs.FileMode{0o600, 0o640} {
		if err := Write(path, []byte("new"), perm); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != perm {
			t.Errorf("mode %v, want %v", fi.Mode().Perm(), perm)
		}
		if b, _ := os.ReadFile(path); string(b) != "new" {
			t.Errorf("content %q, want %q", b, "new")
		}
	}
	assertOnly(t, dir, "f")
}

func TestWriteFailureLeavesNothingBehind(t *testing.T) {
	dir := t.TempDir()
	// A directory where the file should go: the rename fails.
	target := filepath.Join(dir, "taken")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := Write(target, []byte("data"), 0o600)
	if err == nil {
		t.Fatal("Write over a non-empty directory succeeded")
	}
	if !strings.HasPrefix(err.Error(), "write "+target+": ") || strings.Contains(err.Error(), ".tmp-") {
		t.Errorf("error %q does not name the target alone", err)
	}
	assertOnly(t, dir, "taken")

	missing := filepath.Join(dir, "no", "such", "dir", "f")
	err = Write(missing, []byte("data"), 0o600)
	if err == nil || err.Error() != "write "+missing+": no such file or directory" {
		t.Errorf("error = %v", err)
	}
	if err := Write("", nil, 0o600); err == nil {
		t.Error("Write with an empty path succeeded")
	}
}

// assertOnly fails unless dir holds exactly the entries names (no
// temporary file left behind).
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("directory holds %v, want %v", got, names)
	}
}

func TestWritePrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.key")
	if err := os.WriteFile(path, []byte("readable by all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WritePrivate(path, []byte("secret")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(path); string(b) != "secret" {
		t.Error("content not replaced")
	}
}
