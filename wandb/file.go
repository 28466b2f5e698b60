package wandb

import "github.com/wandb-lua/wandb-lua/wandb/internal/atomicfile"

// WritePrivateFile writes data to the file at path readable and writable
// by its owner only (mode 0600, whatever the umask), replacing the file
// atomically: a reader or a crash sees the old content or the new, never
// a part, and no one else can read the data even for a moment. Use it for
// a secret returned by [User.GenerateAPIKey]. It does not create
// directories; an error names path.
func WritePrivateFile(path string, data []byte) error {
	return atomicfile.Write(path, data, 0o600)
}
