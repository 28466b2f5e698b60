package sdkfiles

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// testEnv is an Env of a test's own: HOME an empty directory, and a
// working directory of its own.
func testEnv(t *testing.T, vars map[string]string) Env {
	t.Helper()
	if vars == nil {
		vars = map[string]string{}
	}
	if _, ok := vars["HOME"]; !ok {
		vars["HOME"] = t.TempDir()
	}
	return Env{Lookup: func(name string) (string, bool) { v, ok := vars[name]; return v, ok }, Dir: t.TempDir()}
}

// TestReadSetting: INI as Python's configparser reads it (the
// expected values were checked against Python 3.11).
func TestReadSetting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		want       string // "-" = not set
		wantErr    string
	}{
		{"equals", "[default]\nbase_url = http://x:8080\n", "http://x:8080", ""},
		{"colon", "[default]\nbase_url: http://x\n", "http://x", ""},
		{"name case", "[default]\nBASE_URL = a\n", "a", ""},
		{"continuation", "[default]\n  # c\nbase_url = a\n  b\n\n", "a\nb", ""},
		{"empty line in a value", "[default]\nbase_url = a\n\n  b\n", "a\n\nb", ""},
		{"inline ; is text", "[default]\nbase_url = a ; not comment\n", "a ; not comment", ""},
		{"DEFAULT fallback", "[DEFAULT]\nbase_url = a\n[default]\nmode=x\n", "a", ""},
		{"DEFAULT alone", "[DEFAULT]\nbase_url = a\n", "-", ""},
		{"other section", "[other]\nbase_url=a\n", "-", ""},
		{"percent", "[default]\nbase_url = a%%b\n", "a%b", ""},
		{"interpolation", "[default]\nx = h\nbase_url = %(x)s/y\n", "h/y", ""},
		{"interpolation from DEFAULT", "[DEFAULT]\nhost = h\n[default]\nbase_url = https://%(HOST)s\n", "https://h", ""},
		{"CRLF", "[default]\r\nbase_url = a\r\n", "a", ""},
		{"empty file", "", "-", ""},
		{"bad percent", "[default]\nbase_url = a%b\n", "", "base_url: a % must be followed by % or (; write %% for a percent sign"},
		{"unknown reference", "[default]\nbase_url = %(nope)s\n", "", "%(nope)s refers to no option"},
		{"open reference", "[default]\nbase_url = %(nope\n", "", "must look like %(name)s"},
		{"deep reference", "[default]\na = %(a)s\nbase_url = %(a)s\n", "", "nested too deeply"},
		{"no section", "base_url = a\n", "", "line 1: no [default] section header before it"},
		{"duplicate option", "[default]\nbase_url = a\nbase_url = b\n", "", "line 3: option base_url given twice in [default]"},
		{"duplicate section", "[default]\n[default]\n", "", "line 2: section [default] given twice"},
		{"no value", "[default]\nnovalue\n", "", "line 2: not a section header or name = value"},
		{"no name", "[default]\n=x\n", "", "line 2: not a section header or name = value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, filepath.Join(t.TempDir(), "settings"), tc.text)
			got, ok, err := ReadSetting(path, "base_url")
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error = %v, want %q", err, tc.wantErr)
				}
			case err != nil:
				t.Errorf("readSettingsValue: %v", err)
			case tc.want == "-" && ok, tc.want != "-" && (!ok || got != tc.want):
				t.Errorf("= %q (set %v), want %q", got, ok, tc.want)
			}
		})
	}
	if _, _, err := ReadSetting(t.TempDir(), "base_url"); err == nil || err.Error() != "cannot read file" {
		t.Errorf("a directory: %v", err)
	}
}

// TestSettingsFiles: where the files are, from the environment and the
// working directory.
func TestSettingsFiles(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	e := testEnv(t, map[string]string{"HOME": home})
	sys, ws := e.SettingsFiles()
	if sys != filepath.Join(home, ".config", "wandb", "settings") || ws != filepath.Join(e.Dir, "wandb", "settings") {
		t.Errorf("files %q, %q", sys, ws)
	}
	if err := os.Mkdir(filepath.Join(e.Dir, ".wandb"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, ws := e.SettingsFiles(); ws != filepath.Join(e.Dir, ".wandb", "settings") {
		t.Errorf("with ./.wandb: %q", ws)
	}
	e = testEnv(t, map[string]string{"HOME": home, "WANDB_CONFIG_DIR": "~/conf"})
	if sys, _ := e.SettingsFiles(); sys != filepath.Join(home, "conf", "settings") {
		t.Errorf("WANDB_CONFIG_DIR=~/conf: %q", sys)
	}
	e = testEnv(t, map[string]string{"HOME": home, "WANDB_CONFIG_DIR": "conf"})
	if sys, _ := e.SettingsFiles(); sys != filepath.Join(e.Dir, "conf", "settings") {
		t.Errorf("WANDB_CONFIG_DIR=conf: %q, want it in the working directory", sys)
	}
	if sys, _ := testEnv(t, map[string]string{"HOME": ""}).SettingsFiles(); sys != "" {
		t.Errorf("system settings file without a home: %q", sys)
	}
}
