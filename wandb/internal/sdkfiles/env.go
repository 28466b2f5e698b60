// Package sdkfiles reads the W&B SDK's dotfiles as the SDK reads them:
// the netrc file, which holds API keys by machine, and the settings
// files, INI files whose [default] section holds settings such as
// base_url. Its errors name files and lines, never a value: a netrc file
// holds secrets.
//
// Why hand-written: Go has no netrc or configparser-compatible INI reader
// in its standard library, and the well-kept Go libraries for either read
// their own dialects (they differ from Python's netrc and configparser,
// which the SDK uses, in comments, quoting, continuation lines and
// interpolation). This package follows Python's, line for line where it
// matters, and stays until the SDK reads these files differently.
package sdkfiles

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
)

// Env is where the files are looked for: the environment's variables
// (NETRC, WANDB_CONFIG_DIR, HOME) and the working directory (for the
// workspace settings file). The zero Env is the process's.
type Env struct {
	// Lookup returns the value of an environment variable and whether it
	// is set, as os.LookupEnv; nil means os.LookupEnv.
	Lookup func(name string) (string, bool)
	// Dir is the working directory; "" means the process's.
	Dir string
}

// LookupEnv returns the variable name's value and whether it is set.
func (e Env) LookupEnv(name string) (string, bool) {
	if e.Lookup == nil {
		return os.LookupEnv(name)
	}
	return e.Lookup(name)
}

// Getenv returns the variable name's value, "" when it is unset.
func (e Env) Getenv(name string) string {
	v, _ := e.LookupEnv(name)
	return v
}

// HomeDir returns the user's home directory as os.UserHomeDir finds it,
// from e's variables.
func (e Env) HomeDir() (string, error) {
	if e.Lookup == nil {
		return os.UserHomeDir()
	}
	name := "HOME"
	switch runtime.GOOS {
	case "windows":
		name = "USERPROFILE"
	case "plan9":
		name = "home"
	}
	if v := e.Getenv(name); v != "" {
		return v, nil
	}
	return "", fmt.Errorf("$%s is not defined", name)
}

// path returns p, a path relative to the working directory, as the
// process opens it.
func (e Env) path(p string) string {
	if e.Dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(e.Dir, p)
}

// ExpandUser expands a leading "~" or "~user" in p, as Python's
// os.path.expanduser does; p is returned unchanged when the home
// directory is unknown.
func (e Env) ExpandUser(p string) string {
	if !strings.HasPrefix(p, "~") {
		return p
	}
	name, rest, _ := strings.Cut(p[1:], string(filepath.Separator))
	if filepath.Separator != '/' {
		name, rest, _ = strings.Cut(strings.ReplaceAll(p[1:], "/", string(filepath.Separator)), string(filepath.Separator))
	}
	var home string
	if name == "" {
		h, err := e.HomeDir()
		if err != nil {
			return p
		}
		home = h
	} else {
		u, err := user.Lookup(name)
		if err != nil {
			return p
		}
		home = u.HomeDir
	}
	return filepath.Join(home, rest)
}
