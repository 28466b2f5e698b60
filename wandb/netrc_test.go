package wandb

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestConfigFromNetrc: how ConfigFromEnv reports a netrc file.
func TestConfigFromNetrc(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		want       string // the key, or the substring of the error
	}{
		{"skipped lines are named", "machine api.wandb.ai.old password \"x\n",
			"no entry for machine api.wandb.ai and no default entry; line 1 has a syntax error and was skipped"},
		{"error in the entry", "machine api.wandb.ai password " + netrcKey + " junk\n",
			"line 1: unexpected token in the entry for machine api.wandb.ai; fix or remove that entry"},
		{"default without password", "default login x\n", "the default entry has no password"},
		{"last entry", "machine api.wandb.ai password " + otherKey + "\nmachine api.wandb.ai password " + netrcKey + "\n", netrcKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			home := e.home
			path := writeFile(t, filepath.Join(home, ".netrc"), tc.text)
			cfg, err := e.config(EnvOptions{})
			if tc.want == netrcKey {
				if err != nil || cfg.APIKey.Reveal() != netrcKey {
					t.Fatalf("ConfigFromEnv: %v, or the key of another entry", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error = %v, want one naming %s and containing %q", err, path, tc.want)
			}
			if strings.Contains(err.Error(), netrcKey) {
				t.Error("the error contains the key")
			}
		})
	}
}

// TestNetrcNearMisses: when no entry applies, the message names the
// entries that almost do and what to write instead: the host without the
// URL's port, with a scheme or a path, in another case, with a port the
// URL does not have.
func TestNetrcNearMisses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, url, text, want string
	}{
		{"no port", "http://127.0.0.1:8080", "machine 127.0.0.1 password " + otherKey,
			"no entry for machine 127.0.0.1:8080 and no default entry; it has an entry for 127.0.0.1 (without the port: the machine must be 127.0.0.1:8080, the URL's host and port)"},
		{"scheme", "https://wandb.example.com", "machine https://wandb.example.com password " + otherKey,
			"an entry for https://wandb.example.com (write the machine without the scheme: wandb.example.com)"},
		{"scheme and path", "https://wandb.example.com", "machine https://wandb.example.com/ password " + otherKey,
			"an entry for https://wandb.example.com/ (write the machine without the scheme: wandb.example.com)"},
		{"path", "https://wandb.example.com", "machine wandb.example.com/graphql password " + otherKey,
			"an entry for wandb.example.com/graphql (write the machine without a path: wandb.example.com)"},
		{"scheme and another port", "http://localhost:8080", "machine http://localhost password " + otherKey,
			"an entry for http://localhost (write the machine as host:port without the scheme, as in the URL: localhost:8080)"},
		{"case", "https://wandb.example.com", "machine WandB.Example.com password " + otherKey,
			"an entry for WandB.Example.com (machines are matched case-sensitively: write wandb.example.com)"},
		{"a port the URL lacks", "https://wandb.example.com", "machine wandb.example.com:443 password " + otherKey,
			"an entry for wandb.example.com:443 (with a port the URL does not have: write wandb.example.com)"},
		{"another port, and two near misses", "http://h.example.com:8080", "machine h.example.com:9090 password " + otherKey + "\nmachine H.example.com password x",
			"it has an entry for h.example.com:9090 (another port: the URL's machine is h.example.com:8080), and an entry for H.example.com (without the port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			home := e.home
			writeFile(t, filepath.Join(home, ".netrc"), tc.text+"\nmachine elsewhere.example.org password "+otherKey+"\n")
			e.set("WANDB_BASE_URL", tc.url)
			_, err := e.config(EnvOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "elsewhere") || strings.Contains(err.Error(), otherKey) {
				t.Errorf("the error names an unrelated entry or a key: %v", err)
			}
		})
	}
}

// TestNetrcReadableByOthers: a netrc file others can read is used, with a
// warning naming it and its mode (Python's netrc refuses such a file); a
// file only its owner can read gets none.
func TestNetrcReadableByOthers(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	e := newTestEnv(t)
	home := e.home
	path := writeFile(t, filepath.Join(home, ".netrc"), "machine api.wandb.ai password "+netrcKey)
	cfg, err := e.config(EnvOptions{})
	if err != nil || len(cfg.Warnings) != 0 {
		t.Fatalf("mode 0600: %v, warnings %q", err, cfg.Warnings)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err = e.config(EnvOptions{})
	if err != nil || cfg.APIKey.Reveal() != netrcKey {
		t.Fatalf("mode 0644: %v, or another key", err)
	}
	want := "the netrc file " + path + " can be read by others than you (mode 0644): it holds API keys; run chmod 600 " + path
	if len(cfg.Warnings) != 1 || !strings.HasPrefix(cfg.Warnings[0], want) {
		t.Errorf("warnings %q, want one starting %q", cfg.Warnings, want)
	}
	// Not read, no warning: the key came from the environment.
	e.set("WANDB_API_KEY", envKey)
	if cfg, err := e.config(EnvOptions{}); err != nil || len(cfg.Warnings) != 0 {
		t.Errorf("netrc not read: %v, warnings %q", err, cfg.Warnings)
	}
}

func TestNetrcPath(t *testing.T) {
	t.Parallel()
	t.Run("underscore fallback", func(t *testing.T) {
		t.Parallel()
		e := newTestEnv(t)
		home := e.home
		writeFile(t, filepath.Join(home, "_netrc"), "machine api.wandb.ai password "+netrcKey)
		if cfg, err := e.config(EnvOptions{}); err != nil || cfg.APIKey.Reveal() != netrcKey {
			t.Errorf("ConfigFromEnv with ~/_netrc: %v, or another key", err)
		}
	})
	t.Run("dot netrc first", func(t *testing.T) {
		t.Parallel()
		e := newTestEnv(t)
		home := e.home
		writeFile(t, filepath.Join(home, "_netrc"), "machine api.wandb.ai password "+otherKey)
		writeFile(t, filepath.Join(home, ".netrc"), "machine api.wandb.ai password "+netrcKey)
		if cfg, err := e.config(EnvOptions{}); err != nil || cfg.APIKey.Reveal() != netrcKey {
			t.Errorf("ConfigFromEnv with ~/.netrc and ~/_netrc: %v, or the key of ~/_netrc", err)
		}
	})
	t.Run("tilde in NETRC", func(t *testing.T) {
		t.Parallel()
		e := newTestEnv(t)
		home := e.home
		writeFile(t, filepath.Join(home, "my-netrc"), "machine api.wandb.ai password "+netrcKey)
		e.set("NETRC", "~/my-netrc")
		if cfg, err := e.config(EnvOptions{}); err != nil || cfg.APIKey.Reveal() != netrcKey {
			t.Errorf("ConfigFromEnv with NETRC=~/my-netrc: %v, or another key", err)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		t.Parallel()
		e := newTestEnv(t)
		e.set("NETRC", t.TempDir()) // a directory cannot be read as a file
		_, err := e.config(EnvOptions{})
		if err == nil || !strings.Contains(err.Error(), "cannot read file") {
			t.Errorf("error = %v, want one saying the file cannot be read", err)
		}
	})
}
