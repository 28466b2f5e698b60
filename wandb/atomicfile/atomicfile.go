// Package atomicfile replaces files atomically. It is the module's one
// writer of whole files: the secrets a script writes (WritePrivate, for
// wandb.write_private and the csv and json writers in Lua), the
// access-token cache (the SDK's credentials file) and the snapshots of
// wandbtest's state file use it. (Files that grow by lines, the audit log
// and the state file's journal, are appended to; SyncDir makes a new one's
// directory entry durable.)
package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Write replaces the file at path with data, with exactly the permissions
// perm (whatever the umask), so that a reader or a crash sees either the old
// file or the new one, never a part: it writes a temporary file in the same
// directory, created with mode 0600 so that no one else can read it even for
// a moment, sets perm, syncs it, renames it over path and syncs the
// directory. On failure the temporary file is removed and path is left as
// it was. Errors are *fs.PathError for path, never the temporary file.
func Write(path string, data []byte, perm fs.FileMode) (err error) {
	if path == "" {
		return &fs.PathError{Op: "write", Path: path, Err: errors.New("empty path")}
	}
	defer func() {
		if err != nil {
			var pe *fs.PathError
			var le *os.LinkError
			switch {
			case errors.As(err, &pe):
				err = pe.Err
			case errors.As(err, &le):
				err = le.Err
			}
			err = &fs.PathError{Op: "write", Path: path, Err: err}
		}
	}()
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	SyncDir(dir)
	return nil
}

// WritePrivate writes data to the file at path readable and writable by
// its owner only (mode 0600, whatever the umask), replacing the file
// atomically (see Write): no one else can read the data even for a
// moment. It is for secrets, such as a key User.GenerateAPIKey returned.
// It does not create directories; an error names path.
func WritePrivate(path string, data []byte) error {
	return Write(path, data, 0o600)
}

// SyncDir syncs the directory dir, so that an entry just made in it (a
// file renamed into place, or created) survives a power loss as the
// file's synced data does. It is best effort and reports nothing: some
// platforms and file systems cannot open or sync a directory, and the
// rename or creation has happened, so that is no error for the caller.
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
