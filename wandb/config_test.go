package wandb

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	envKey   = "0123456789abcdef0123456789abcdef01234567"
	netrcKey = "fedcba9876543210fedcba9876543210fedcba98"
	otherKey = "11111111112222222222333333333344444444445"
)

// isolateEnv clears the variables ConfigFromEnv reads and points HOME at
// an empty directory, which it returns.
func isolateEnv(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("WANDB_API_KEY", "")
	t.Setenv("WANDB_BASE_URL", "")
	t.Setenv("NETRC", "")
	return home
}

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       map[string]string
		homeNetrc string // ~/.netrc content, "" = none
		netrc     string // $NETRC file content, "" = unset
		wantURL   string
		wantKey   string
		wantErr   []string // substrings of the error
	}{
		{name: "env key, default url", env: map[string]string{"WANDB_API_KEY": envKey},
			wantURL: "https://api.wandb.ai", wantKey: envKey},
		{name: "env wins over netrc", env: map[string]string{"WANDB_API_KEY": envKey},
			homeNetrc: "machine api.wandb.ai login user password " + netrcKey, wantURL: "https://api.wandb.ai", wantKey: envKey},
		{name: "base url trailing slash", env: map[string]string{"WANDB_API_KEY": envKey, "WANDB_BASE_URL": "https://wandb.example.com/"},
			wantURL: "https://wandb.example.com", wantKey: envKey},
		{name: "home netrc by host", homeNetrc: "machine api.wandb.ai\n  login user\n  password " + netrcKey + "\n",
			wantURL: "https://api.wandb.ai", wantKey: netrcKey},
		{name: "netrc machine with port", env: map[string]string{"WANDB_BASE_URL": "http://localhost:8080"},
			homeNetrc: "machine localhost login user password " + otherKey + "\nmachine localhost:8080 login user password " + netrcKey,
			wantURL:   "http://localhost:8080", wantKey: netrcKey},
		{name: "netrc default entry", env: map[string]string{"WANDB_BASE_URL": "https://w.example.com"},
			homeNetrc: "machine other.example.com password " + otherKey + "\ndefault login user password " + netrcKey,
			wantURL:   "https://w.example.com", wantKey: netrcKey},
		{name: "$NETRC wins over ~/.netrc", homeNetrc: "machine api.wandb.ai password " + otherKey,
			netrc: "# comment\nmachine api.wandb.ai login 'user' password \"" + netrcKey + "\"", wantURL: "https://api.wandb.ai", wantKey: netrcKey},
		{name: "netrc with macdef", homeNetrc: "macdef init\ncd /tmp\nput x\n\nmachine api.wandb.ai account a password " + netrcKey,
			wantURL: "https://api.wandb.ai", wantKey: netrcKey},
		{name: "nothing anywhere", wantErr: []string{"no api key for https://api.wandb.ai", "WANDB_API_KEY (unset)", ".netrc ($NETRC unset, file does not exist)"}},
		{name: "netrc without the machine", homeNetrc: "machine example.com password " + otherKey,
			wantErr: []string{"no entry for machine api.wandb.ai and no default entry"}},
		{name: "netrc entry without password", homeNetrc: "machine api.wandb.ai login user",
			wantErr: []string{"has no password"}},
		{name: "netrc parse error", homeNetrc: "machine api.wandb.ai password " + otherKey + " bogus",
			wantErr: []string{"line 1: unexpected token"}},
		{name: "$NETRC missing", netrc: "-", wantErr: []string{"file does not exist"}},
		{name: "bad key in env", env: map[string]string{"WANDB_API_KEY": "tooshort"},
			wantErr: []string{"api key from WANDB_API_KEY: must have 40+ characters, has 8"}},
		{name: "bad key in netrc", homeNetrc: "machine api.wandb.ai password short",
			wantErr: []string{"must have 40+ characters"}},
		{name: "bad base url", env: map[string]string{"WANDB_API_KEY": envKey, "WANDB_BASE_URL": "app.wandb.ai"},
			wantErr: []string{"http:// or https://"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := isolateEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			if tc.homeNetrc != "" {
				writeFile(t, filepath.Join(home, ".netrc"), tc.homeNetrc)
			}
			switch tc.netrc {
			case "":
			case "-":
				t.Setenv("NETRC", filepath.Join(home, "missing"))
			default:
				t.Setenv("NETRC", writeFile(t, filepath.Join(t.TempDir(), "netrc"), tc.netrc))
			}
			cfg, err := ConfigFromEnv()
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("ConfigFromEnv = %v, want an error", cfg)
				}
				asError(t, err, "config", CodeInvalidArgument)
				for _, want := range tc.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not contain %q", err, want)
					}
				}
				for _, key := range []string{envKey, netrcKey, otherKey} {
					if strings.Contains(err.Error(), key) {
						t.Error("the error contains a key")
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ConfigFromEnv: %v", err)
			}
			if cfg.BaseURL != tc.wantURL {
				t.Errorf("BaseURL = %q, want %q", cfg.BaseURL, tc.wantURL)
			}
			if cfg.APIKey != tc.wantKey {
				t.Errorf("APIKey differs from the expected key")
			}
		})
	}
}

func TestNoHome(t *testing.T) {
	isolateEnv(t)
	t.Setenv("HOME", "")
	_, err := ConfigFromEnv()
	if err == nil || !strings.Contains(err.Error(), "no home directory") {
		t.Errorf("error = %v, want one naming the missing home directory", err)
	}
}

// TestConfigFromEnvFor: the given base URL replaces WANDB_BASE_URL, also
// when choosing the netrc entry.
func TestConfigFromEnvFor(t *testing.T) {
	home := isolateEnv(t)
	t.Setenv("WANDB_BASE_URL", "https://env.example.com")
	writeFile(t, filepath.Join(home, ".netrc"),
		"machine env.example.com password "+otherKey+"\nmachine flag.example.com:8443 password "+netrcKey+"\n")
	cfg, err := ConfigFromEnvFor("https://flag.example.com:8443/")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL != "https://flag.example.com:8443" || cfg.APIKey != netrcKey {
		t.Errorf("got %v with the key of another entry or none, want https://flag.example.com:8443 and its netrc key", cfg)
	}
	if _, err := ConfigFromEnvFor("flag.example.com"); err == nil {
		t.Error("a base URL without a scheme was accepted")
	}
}
