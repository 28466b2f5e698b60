package wandb

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSettingsFiles: where base_url comes from, in the SDK's order.
func TestSettingsFiles(t *testing.T) {
	t.Parallel()
	const sys, ws, env, flag = "https://system.example.com", "https://workspace.example.com", "https://env.example.com", "https://flag.example.com"
	setup := func(t *testing.T, system, workspace string) *testEnv {
		t.Helper()
		e := newTestEnv(t)
		e.set("WANDB_API_KEY", envKey)
		if system != "" {
			if err := os.MkdirAll(filepath.Join(e.home, ".config", "wandb"), 0o700); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(e.home, ".config", "wandb", "settings"), system)
		}
		if workspace != "" {
			if err := os.Mkdir(filepath.Join(e.dir, "wandb"), 0o700); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(e.dir, "wandb", "settings"), workspace)
		}
		return e
	}
	base := func(t *testing.T, e *testEnv, o EnvOptions) string {
		t.Helper()
		cfg, err := e.config(o)
		if err != nil {
			t.Fatal(err)
		}
		return cfg.BaseURL
	}
	t.Run("system", func(t *testing.T) {
		t.Parallel()
		e := setup(t, "[default]\nbase_url = "+sys+"/\n", "")
		if got := base(t, e, EnvOptions{}); got != sys {
			t.Errorf("base url %q, want %q", got, sys)
		}
	})
	t.Run("workspace over system", func(t *testing.T) {
		t.Parallel()
		e := setup(t, "[default]\nbase_url = "+sys+"\n", "[default]\nbase_url = "+ws+"\n")
		if got := base(t, e, EnvOptions{}); got != ws {
			t.Errorf("base url %q, want %q", got, ws)
		}
	})
	t.Run("workspace without base_url", func(t *testing.T) {
		t.Parallel()
		e := setup(t, "[default]\nbase_url = "+sys+"\n", "[default]\nmode = offline\n")
		if got := base(t, e, EnvOptions{}); got != sys {
			t.Errorf("base url %q, want %q", got, sys)
		}
	})
	t.Run("env over files, flag over env", func(t *testing.T) {
		t.Parallel()
		e := setup(t, "[default]\nbase_url = "+sys+"\n", "[default]\nbase_url = "+ws+"\n")
		e.set("WANDB_BASE_URL", env)
		if got := base(t, e, EnvOptions{}); got != env {
			t.Errorf("base url %q, want %q", got, env)
		}
		if got := base(t, e, EnvOptions{BaseURL: flag}); got != flag {
			t.Errorf("base url %q, want %q", got, flag)
		}
	})
	t.Run("WANDB_CONFIG_DIR", func(t *testing.T) {
		t.Parallel()
		e := setup(t, "[default]\nbase_url = "+sys+"\n", "")
		writeFile(t, filepath.Join(e.home, "settings"), "[default]\nbase_url = "+env+"\n")
		e.set("WANDB_CONFIG_DIR", "~")
		if got := base(t, e, EnvOptions{}); got != env {
			t.Errorf("base url %q, want the one in $WANDB_CONFIG_DIR/settings", got)
		}
	})
	t.Run(".wandb", func(t *testing.T) {
		t.Parallel()
		e := setup(t, "", "[default]\nbase_url = "+ws+"\n")
		if err := os.Mkdir(filepath.Join(e.dir, ".wandb"), 0o700); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(e.dir, ".wandb", "settings"), "[default]\nbase_url = "+env+"\n")
		if got := base(t, e, EnvOptions{}); got != env {
			t.Errorf("base url %q, want the one in ./.wandb/settings", got)
		}
	})
	t.Run("netrc entry for the file's server", func(t *testing.T) {
		t.Parallel()
		e := setup(t, "[default]\nbase_url = "+sys+"\n", "")
		e.set("WANDB_API_KEY", "")
		writeFile(t, filepath.Join(e.home, ".netrc"), "machine system.example.com password "+netrcKey)
		if cfg, err := e.config(EnvOptions{}); err != nil || cfg.APIKey.Reveal() != netrcKey {
			t.Errorf("ConfigFromEnv: %v, or not the netrc key of system.example.com", err)
		}
	})
	t.Run("broken workspace file", func(t *testing.T) {
		t.Parallel()
		e := setup(t, "[default]\nbase_url = "+sys+"\n", "base_url = "+ws+"\n")
		_, err := e.config(EnvOptions{})
		if err == nil || !strings.Contains(err.Error(), "settings file "+filepath.Join(e.dir, "wandb", "settings")+": line 1: no [default] section header before it; fix it, or set WANDB_BASE_URL") {
			t.Errorf("error = %v", err)
		}
		e.set("WANDB_BASE_URL", env) // then the files are not read
		if got := base(t, e, EnvOptions{}); got != env {
			t.Errorf("base url %q, want %q", got, env)
		}
	})
	t.Run("bad url in a file", func(t *testing.T) {
		t.Parallel()
		e := setup(t, "[default]\nbase_url = wandb.example.com\n", "")
		_, err := e.config(EnvOptions{})
		want := `base_url in the settings file ` + filepath.Join(e.home, ".config", "wandb", "settings") +
			`: base url "wandb.example.com": must start with http:// or https://; use https://wandb.example.com`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error = %v, want %q", err, want)
		}
	})
}
