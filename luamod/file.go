package luamod

import (
	"errors"
	"os"
	"path/filepath"

	lua "github.com/yuin/gopher-lua"
)

// writePrivate is wandb.write_private(path, text): it writes text to the
// file at path readable by its owner only (mode 0600), replacing the file
// atomically (a temporary file in the same directory, renamed over path),
// so no one else can read a secret even for a moment and a crash never
// leaves half a file. It returns true, or nil and a message, as Lua's io
// functions do. Scripts use it for new API keys, which io.open would
// create readable by everyone the umask allows.
func writePrivate(L *lua.LState) int {
	const op = "write_private"
	path := checkString(L, 1, 1, op)
	text := checkString(L, 2, 2, op)
	if err := writeFileAtomic(path, []byte(text)); err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	L.Push(lua.LTrue)
	return 1
}

func writeFileAtomic(path string, data []byte) (err error) {
	if path == "" {
		return errors.New("write_private: empty path")
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
