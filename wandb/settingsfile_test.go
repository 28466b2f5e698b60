package wandb

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadSettingsValue: INI as Python's configparser reads it (the
// expected values were checked against Python 3.11).
func TestReadSettingsValue(t *testing.T) {
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
			got, ok, err := readSettingsValue(path, "base_url")
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
	if _, _, err := readSettingsValue(t.TempDir(), "base_url"); err == nil || err.Error() != "cannot read file" {
		t.Errorf("a directory: %v", err)
	}
}

// TestSettingsFiles: where base_url comes from, in the SDK's order.
func TestSettingsFiles(t *testing.T) {
	const sys, ws, env, flag = "https://system.example.com", "https://workspace.example.com", "https://env.example.com", "https://flag.example.com"
	setup := func(t *testing.T, system, workspace string) (home string) {
		t.Helper()
		home = isolateEnv(t)
		t.Setenv("WANDB_API_KEY", envKey)
		if system != "" {
			if err := os.MkdirAll(filepath.Join(home, ".config", "wandb"), 0o700); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(home, ".config", "wandb", "settings"), system)
		}
		if workspace != "" {
			if err := os.Mkdir("wandb", 0o700); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join("wandb", "settings"), workspace)
		}
		return home
	}
	base := func(t *testing.T, o EnvOptions) string {
		t.Helper()
		cfg, err := ConfigFromEnvWith(o)
		if err != nil {
			t.Fatal(err)
		}
		return cfg.BaseURL
	}
	t.Run("system", func(t *testing.T) {
		setup(t, "[default]\nbase_url = "+sys+"/\n", "")
		if got := base(t, EnvOptions{}); got != sys {
			t.Errorf("base url %q, want %q", got, sys)
		}
	})
	t.Run("workspace over system", func(t *testing.T) {
		setup(t, "[default]\nbase_url = "+sys+"\n", "[default]\nbase_url = "+ws+"\n")
		if got := base(t, EnvOptions{}); got != ws {
			t.Errorf("base url %q, want %q", got, ws)
		}
	})
	t.Run("workspace without base_url", func(t *testing.T) {
		setup(t, "[default]\nbase_url = "+sys+"\n", "[default]\nmode = offline\n")
		if got := base(t, EnvOptions{}); got != sys {
			t.Errorf("base url %q, want %q", got, sys)
		}
	})
	t.Run("env over files, flag over env", func(t *testing.T) {
		setup(t, "[default]\nbase_url = "+sys+"\n", "[default]\nbase_url = "+ws+"\n")
		t.Setenv("WANDB_BASE_URL", env)
		if got := base(t, EnvOptions{}); got != env {
			t.Errorf("base url %q, want %q", got, env)
		}
		if got := base(t, EnvOptions{BaseURL: flag}); got != flag {
			t.Errorf("base url %q, want %q", got, flag)
		}
	})
	t.Run("WANDB_CONFIG_DIR", func(t *testing.T) {
		home := setup(t, "[default]\nbase_url = "+sys+"\n", "")
		writeFile(t, filepath.Join(home, "settings"), "[default]\nbase_url = "+env+"\n")
		t.Setenv("WANDB_CONFIG_DIR", "~")
		if got := base(t, EnvOptions{}); got != env {
			t.Errorf("base url %q, want the one in $WANDB_CONFIG_DIR/settings", got)
		}
	})
	t.Run(".wandb", func(t *testing.T) {
		setup(t, "", "[default]\nbase_url = "+ws+"\n")
		if err := os.Mkdir(".wandb", 0o700); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(".wandb", "settings"), "[default]\nbase_url = "+env+"\n")
		if got := base(t, EnvOptions{}); got != env {
			t.Errorf("base url %q, want the one in ./.wandb/settings", got)
		}
	})
	t.Run("netrc entry for the file's server", func(t *testing.T) {
		home := setup(t, "[default]\nbase_url = "+sys+"\n", "")
		t.Setenv("WANDB_API_KEY", "")
		writeFile(t, filepath.Join(home, ".netrc"), "machine system.example.com password "+netrcKey)
		if cfg, err := ConfigFromEnv(); err != nil || cfg.APIKey.Reveal() != netrcKey {
			t.Errorf("ConfigFromEnv: %v, or not the netrc key of system.example.com", err)
		}
	})
	t.Run("broken workspace file", func(t *testing.T) {
		setup(t, "[default]\nbase_url = "+sys+"\n", "base_url = "+ws+"\n")
		_, err := ConfigFromEnv()
		if err == nil || !strings.Contains(err.Error(), "settings file "+filepath.Join("wandb", "settings")+": line 1: no [default] section header before it; fix it, or set WANDB_BASE_URL") {
			t.Errorf("error = %v", err)
		}
		t.Setenv("WANDB_BASE_URL", env) // then the files are not read
		if got := base(t, EnvOptions{}); got != env {
			t.Errorf("base url %q, want %q", got, env)
		}
	})
	t.Run("bad url in a file", func(t *testing.T) {
		home := setup(t, "[default]\nbase_url = wandb.example.com\n", "")
		_, err := ConfigFromEnv()
		want := `base_url in the settings file ` + filepath.Join(home, ".config", "wandb", "settings") +
			`: base url "wandb.example.com": must start with http:// or https://; use https://wandb.example.com`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error = %v, want %q", err, want)
		}
	})
	t.Run("no home", func(t *testing.T) {
		setup(t, "", "")
		t.Setenv("HOME", "")
		if sys, _ := settingsFiles(); sys != "" {
			t.Errorf("system settings file without a home: %q", sys)
		}
	})
}
