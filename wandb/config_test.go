package wandb

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/internal/sdkfiles"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// The keys of the environment tests, in the SDK's format, built at run
// time: no key is written out in the repository, fake as these are.
var (
	envKey   = strings.Repeat("0123456789abcdef", 3)[:40]
	netrcKey = strings.Repeat("fedcba9876543210", 3)[:40]
	otherKey = strings.Repeat("1", 10) + strings.Repeat("2", 10) + strings.Repeat("3", 10) + strings.Repeat("4", 10) + "5"
)

// testEnv is an environment of its own for ConfigFromEnv: its variables
// (HOME an empty directory, nothing else set unless a test sets it) and
// its working directory (for ./wandb/settings), so that a test changes
// neither the process's environment nor its directory, and tests run in
// parallel.
type testEnv struct {
	home, dir string
	vars      map[string]string
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	home := t.TempDir()
	return &testEnv{home: home, dir: t.TempDir(), vars: map[string]string{"HOME": home}}
}

// set sets the variable name to value ("" is set and empty).
func (e *testEnv) set(name, value string) { e.vars[name] = value }

// with returns a copy of e (the same home and working directory) with the
// variable name set to value.
func (e *testEnv) with(name, value string) *testEnv {
	c := &testEnv{home: e.home, dir: e.dir, vars: maps.Clone(e.vars)}
	c.vars[name] = value
	return c
}

func (e *testEnv) lookup(name string) (string, bool) {
	v, ok := e.vars[name]
	return v, ok
}

// config is e.config(o) in e.
func (e *testEnv) config(o EnvOptions) (Config, error) {
	return configFromEnv(o, sdkfiles.Env{Lookup: e.lookup, Dir: e.dir})
}

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
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
		{name: "nothing anywhere", wantErr: []string{"no api key for https://api.wandb.ai", "WANDB_API_KEY (unset)", ".netrc ($NETRC unset, file does not exist)",
			"set WANDB_API_KEY or WANDB_IDENTITY_TOKEN_FILE, or add a netrc entry (machine api.wandb.ai, password <key>)"}},
		{name: "netrc without the machine", homeNetrc: "machine example.com password " + otherKey,
			wantErr: []string{"no entry for machine api.wandb.ai and no default entry"}},
		{name: "netrc entry without password", homeNetrc: "machine api.wandb.ai login user",
			wantErr: []string{"has no password"}},
		{name: "netrc parse error", homeNetrc: "machine api.wandb.ai password " + otherKey + " bogus",
			wantErr: []string{"line 1: unexpected token in the entry for machine api.wandb.ai"}},
		{name: "empty WANDB_API_KEY, netrc used", env: map[string]string{"WANDB_API_KEY": ""},
			homeNetrc: "machine api.wandb.ai password " + netrcKey, wantURL: "https://api.wandb.ai", wantKey: netrcKey},
		{name: "empty WANDB_API_KEY, no netrc", env: map[string]string{"WANDB_API_KEY": ""},
			wantErr: []string{"WANDB_API_KEY is set but empty; looked also in", ".netrc ($NETRC unset, file does not exist)", "(machine api.wandb.ai, password <key>)"}},
		{name: "$NETRC missing", netrc: "-", wantErr: []string{"file does not exist"}},
		{name: "bad key in env", env: map[string]string{"WANDB_API_KEY": "tooshort"},
			wantErr: []string{"api key from WANDB_API_KEY: must have 40+ characters, has 8"}},
		{name: "bad key in netrc", homeNetrc: "machine api.wandb.ai password short",
			wantErr: []string{"must have 40+ characters"}},
		{name: "bad base url", env: map[string]string{"WANDB_API_KEY": envKey, "WANDB_BASE_URL": "app.wandb.ai"},
			wantErr: []string{`WANDB_BASE_URL: base url "app.wandb.ai": must start with http:// or https://; use https://api.wandb.ai`}},
		{name: "both credentials", env: map[string]string{"WANDB_API_KEY": envKey, "WANDB_IDENTITY_TOKEN_FILE": "/jwt"},
			wantErr: []string{"WANDB_API_KEY and WANDB_IDENTITY_TOKEN_FILE are both set, which is not allowed; unset one of them"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			home := e.home
			for k, v := range tc.env {
				e.set(k, v)
			}
			if tc.homeNetrc != "" {
				writeFile(t, filepath.Join(home, ".netrc"), tc.homeNetrc)
			}
			switch tc.netrc {
			case "":
			case "-":
				e.set("NETRC", filepath.Join(home, "missing"))
			default:
				e.set("NETRC", writeFile(t, filepath.Join(t.TempDir(), "netrc"), tc.netrc))
			}
			cfg, err := e.config(EnvOptions{})
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
			if cfg.APIKey.Reveal() != tc.wantKey {
				t.Errorf("APIKey differs from the expected key")
			}
		})
	}
}

func TestNoHome(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.set("HOME", "")
	_, err := e.config(EnvOptions{})
	if err == nil || !strings.Contains(err.Error(), "no home directory") {
		t.Errorf("error = %v, want one naming the missing home directory", err)
	}
}

// TestConfigFromEnvBaseURLOption: EnvOptions.BaseURL replaces WANDB_BASE_URL, also
// when choosing the netrc entry.
func TestConfigFromEnvBaseURLOption(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	home := e.home
	e.set("WANDB_BASE_URL", "https://env.example.com")
	writeFile(t, filepath.Join(home, ".netrc"),
		"machine env.example.com password "+otherKey+"\nmachine flag.example.com:8443 password "+netrcKey+"\n")
	cfg, err := e.config(EnvOptions{BaseURL: "https://flag.example.com:8443/"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL != "https://flag.example.com:8443" || cfg.APIKey.Reveal() != netrcKey {
		t.Errorf("got %v with the key of another entry or none, want https://flag.example.com:8443 and its netrc key", cfg)
	}
	if _, err := e.config(EnvOptions{BaseURL: "flag.example.com"}); err == nil {
		t.Error("a base URL without a scheme was accepted")
	}
}

// TestConfigFromEnvTransport: the header, proxy and TLS variables.
func TestConfigFromEnvTransport(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.set("WANDB_API_KEY", envKey)
	e.set("WANDB__EXTRA_HTTP_HEADERS", `{"X-Team": "ml", "Proxy-Authorization": "Basic eDp5"}`)
	e.set("WANDB_USERNAME", "svc-owner")
	e.set("WANDB_USER_EMAIL", "owner@example.com")
	e.set("WANDB_HTTP_PROXY", "http://proxy.example.com:3128/")
	e.set("WANDB_HTTPS_PROXY", "https://proxy.example.com:3129")
	e.set("WANDB_INSECURE_DISABLE_SSL", "True")
	cfg, err := e.config(EnvOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.extraHeaders) != 2 || cfg.extraHeaders["X-Team"].Reveal() != "ml" || cfg.username != "svc-owner" || cfg.userEmail != "owner@example.com" ||
		cfg.httpProxy.Reveal() != "http://proxy.example.com:3128" || cfg.httpsProxy.Reveal() != "https://proxy.example.com:3129" || !cfg.InsecureSkipVerify {
		t.Errorf("config = %v", cfg)
	}
	if s := cfg.String(); strings.Contains(s, "eDp5") || !strings.Contains(s, "ExtraHeaders: [Proxy-Authorization X-Team]") {
		t.Errorf("String shows a header value, or not the names: %s", s)
	}
	if _, err := NewClient(cfg); err != nil {
		t.Errorf("NewClient: %v", err)
	}
	for value, want := range map[string]bool{"1": true, "yes": true, "ON": true, "t": true, "y": true, "false": false, "0": false, "No": false, "off": false, "f": false, "n": false} {
		e.set("WANDB_INSECURE_DISABLE_SSL", value)
		if cfg, err := e.config(EnvOptions{}); err != nil || cfg.InsecureSkipVerify != want {
			t.Errorf("WANDB_INSECURE_DISABLE_SSL=%s: %v, %v; want %v", value, cfg.InsecureSkipVerify, err, want)
		}
	}

	for name, tc := range map[string]struct{ env, value, want string }{
		"bool":     {"WANDB_INSECURE_DISABLE_SSL", "enable", `WANDB_INSECURE_DISABLE_SSL "enable": not a boolean; use true or false`},
		"headers":  {"WANDB__EXTRA_HTTP_HEADERS", `{"X": 1}`, "WANDB__EXTRA_HTTP_HEADERS: not a JSON object of strings"},
		"header":   {"WANDB__EXTRA_HTTP_HEADERS", `{"X Y": "1"}`, `WANDB__EXTRA_HTTP_HEADERS: header "X Y": not a valid header name`},
		"proxy":    {"WANDB_HTTPS_PROXY", "proxy.example.com:3128", `WANDB_HTTPS_PROXY "proxy.example.com:3128": must start with http:// or https://`},
		"username": {"WANDB_USERNAME", "a\nb", "WANDB_USERNAME: has a control character"},
		"email":    {"WANDB_USER_EMAIL", "a\nb@example.com", "WANDB_USER_EMAIL: has a control character"},
		"agent":    {"WANDB_USER_AGENT", "a\r\nX-Evil: 1", "WANDB_USER_AGENT: has a control character"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := e.with("WANDB_INSECURE_DISABLE_SSL", "").with(tc.env, tc.value)
			if _, err := e.config(EnvOptions{}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestConfigFromEnvLimits: the attempt timeout under the SDK's names, the
// response size limit and the bound on requests in flight, which the
// errors for them name.
func TestConfigFromEnvLimits(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.set("WANDB_API_KEY", envKey)
	for _, tc := range []struct {
		env             map[string]string
		timeout         time.Duration
		maxBytes        int64
		inFlight        int
		wantErrContains string
	}{
		{env: map[string]string{}},
		{env: map[string]string{"WANDB_HTTP_TIMEOUT": "45"}, timeout: 45 * time.Second},
		{env: map[string]string{"WANDB_HTTP_TIMEOUT": "2.5"}, timeout: 2500 * time.Millisecond},
		{env: map[string]string{"WANDB_HTTP_TIMEOUT": "45", "WANDB__GRAPHQL_TIMEOUT_SECONDS": "90"}, timeout: 90 * time.Second},
		{env: map[string]string{"WANDB__GRAPHQL_TIMEOUT_SECONDS": "0"}},
		{env: map[string]string{"WANDB_HTTP_TIMEOUT": "soon"}, wantErrContains: `WANDB_HTTP_TIMEOUT "soon": not a number of seconds`},
		{env: map[string]string{"WANDB_MAX_RESPONSE_BYTES": "1048576"}, maxBytes: 1 << 20},
		{env: map[string]string{"WANDB_MAX_RESPONSE_BYTES": "64MiB"}, maxBytes: 64 << 20},
		{env: map[string]string{"WANDB_MAX_RESPONSE_BYTES": "2 GB"}, maxBytes: 2 << 30},
		{env: map[string]string{"WANDB_MAX_RESPONSE_BYTES": "lots"}, wantErrContains: `WANDB_MAX_RESPONSE_BYTES "lots": not a size`},
		{env: map[string]string{"WANDB_MAX_RESPONSE_BYTES": "-1"}, wantErrContains: `WANDB_MAX_RESPONSE_BYTES "-1": not a size`},
		{env: map[string]string{"WANDB_MAX_RESPONSE_BYTES": "9999999999GiB"}, wantErrContains: "not a size"},
		{env: map[string]string{"WANDB_MAX_IN_FLIGHT": "16"}, inFlight: 16},
		{env: map[string]string{"WANDB_MAX_IN_FLIGHT": " 1 "}, inFlight: 1},
		{env: map[string]string{"WANDB_MAX_IN_FLIGHT": "0"}, wantErrContains: `WANDB_MAX_IN_FLIGHT "0": not a number of requests; use a whole number from 1 to 10000`},
		{env: map[string]string{"WANDB_MAX_IN_FLIGHT": "many"}, wantErrContains: `WANDB_MAX_IN_FLIGHT "many": not a number of requests`},
		{env: map[string]string{"WANDB_MAX_IN_FLIGHT": "10001"}, wantErrContains: "not a number of requests"},
	} {
		for _, name := range []string{"WANDB_HTTP_TIMEOUT", "WANDB__GRAPHQL_TIMEOUT_SECONDS", "WANDB_MAX_RESPONSE_BYTES", "WANDB_MAX_IN_FLIGHT"} {
			e.set(name, tc.env[name])
		}
		cfg, err := e.config(EnvOptions{})
		switch {
		case tc.wantErrContains != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErrContains) {
				t.Errorf("%v: error %v, want %q", tc.env, err, tc.wantErrContains)
			}
		case err != nil:
			t.Errorf("%v: %v", tc.env, err)
		case cfg.attemptTimeout != tc.timeout || cfg.MaxResponseBytes != tc.maxBytes || cfg.MaxInFlight != tc.inFlight:
			t.Errorf("%v: timeout %v, max %d, in flight %d; want %v, %d, %d", tc.env, cfg.attemptTimeout, cfg.MaxResponseBytes, cfg.MaxInFlight, tc.timeout, tc.maxBytes, tc.inFlight)
		}
	}
}

// TestConfigFromEnvRetries: the SDK's retry settings.
func TestConfigFromEnvRetries(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.set("WANDB_API_KEY", envKey)
	e.set("WANDB__GRAPHQL_RETRY_MAX", "2")
	e.set("WANDB__GRAPHQL_RETRY_WAIT_MIN_SECONDS", "0.5")
	e.set("WANDB__GRAPHQL_RETRY_WAIT_MAX_SECONDS", "4")
	cfg, err := e.config(EnvOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (RetryPolicy{MaxAttempts: 3, MinWait: 500 * time.Millisecond, MaxWait: 4 * time.Second}); cfg.Retry != want {
		t.Errorf("retry = %+v, want %+v", cfg.Retry, want)
	}
	e.set("WANDB__GRAPHQL_RETRY_MAX", "0")
	e.set("WANDB__GRAPHQL_RETRY_WAIT_MIN_SECONDS", "-1")
	e.set("WANDB__GRAPHQL_RETRY_WAIT_MAX_SECONDS", "")
	if cfg, err := e.config(EnvOptions{}); err != nil || cfg.Retry != (RetryPolicy{}) {
		t.Errorf("0 and negative values: %+v, %v; want the defaults", cfg.Retry, err)
	}
	for name, value := range map[string]string{"WANDB__GRAPHQL_RETRY_MAX": "many", "WANDB__GRAPHQL_RETRY_WAIT_MIN_SECONDS": "1s"} {
		e.set(name, value)
		if _, err := e.config(EnvOptions{}); err == nil || !strings.Contains(err.Error(), name+` "`+value+`": not a number`) {
			t.Errorf("%s=%s: %v", name, value, err)
		}
		e.set(name, "")
	}
	// They reach the client: 2 retries, so 3 attempts.
	srv := wandbtest.Start(t)
	e.set("WANDB_API_KEY", srv.AdminKey())
	e.set("WANDB_BASE_URL", srv.URL)
	e.set("WANDB__GRAPHQL_RETRY_MAX", "2")
	e.set("WANDB__GRAPHQL_RETRY_WAIT_MIN_SECONDS", "0.01")
	cfg, err = e.config(EnvOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNext("GetViewer", wandbtest.Fault{Status: 500}, wandbtest.Fault{Status: 500}, wandbtest.Fault{Status: 500})
	if _, err := c.Viewer(context.Background()); err == nil || srv.Requests("GetViewer") != 3 {
		t.Errorf("Viewer: %v after %d attempts, want a failure after 3", err, srv.Requests("GetViewer"))
	}
}

// TestConfigFromEnvCredentials: the identity token variables, and a key
// given by the program.
func TestConfigFromEnvCredentials(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	home := e.home
	writeFile(t, filepath.Join(home, ".netrc"), "machine api.wandb.ai password "+netrcKey)
	e.set("WANDB_IDENTITY_TOKEN_FILE", "/run/secrets/jwt")
	e.set("WANDB_CREDENTIALS_FILE", "/tmp/creds.json")
	cfg, err := e.config(EnvOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.identityTokenFile != "/run/secrets/jwt" || cfg.credentialsFile != "/tmp/creds.json" || cfg.APIKey.Reveal() != "" || cfg.scimAuth != scimBearer {
		t.Errorf("config = %v (scim auth %s), want the identity token and no key", cfg, cfg.scimAuth)
	}
	e.set("WANDB_SCIM_AUTH", "basic")
	if _, err := e.config(EnvOptions{}); err == nil || !strings.Contains(err.Error(), "needs an api key") {
		t.Errorf("basic SCIM with an identity token: %v", err)
	}
	e.set("WANDB_SCIM_AUTH", "")

	// A key from the program wins over every variable and netrc.
	e.set("WANDB_API_KEY", envKey)
	cfg, err = e.config(EnvOptions{APIKey: NewSecret(otherKey), APIKeySource: "--api-key-file k"})
	if err != nil || cfg.APIKey.Reveal() != otherKey || cfg.identityTokenFile != "" {
		t.Errorf("ConfigFromEnvWith a key: %v, %v", cfg, err)
	}
	_, err = e.config(EnvOptions{APIKey: NewSecret("short"), APIKeySource: "--api-key-file k"})
	if err == nil || !strings.Contains(err.Error(), "api key from --api-key-file k: must have 40+ characters, has 5") {
		t.Errorf("a bad key from the program: %v", err)
	}
}

// TestErrNoCredentials: only the error for missing credentials matches.
func TestErrNoCredentials(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	_, err := e.config(EnvOptions{})
	if !errors.Is(err, ErrNoCredentials) || !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("no credentials: %v does not match ErrNoCredentials and ErrInvalidArgument", err)
	}
	e.set("WANDB_BASE_URL", "ftp://x")
	if _, err := e.config(EnvOptions{}); errors.Is(err, ErrNoCredentials) {
		t.Errorf("a bad base url matches ErrNoCredentials: %v", err)
	}
}

// TestRejectedKeyNamesItsSource: a key the server rejects (HTTP 401) gives
// an error in the client's words first, naming where the key came from
// (the variable, the netrc file and its entry, the program's source) and
// never the key; the server's text follows.
func TestRejectedKeyNamesItsSource(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, e *testEnv) EnvOptions
		want  string
	}{
		{"WANDB_API_KEY", func(t *testing.T, e *testEnv) EnvOptions {
			e.set("WANDB_API_KEY", envKey)
			return EnvOptions{}
		}, "rejected the API key from WANDB_API_KEY (it is revoked, mistyped, or for another server)"},
		{"netrc", func(t *testing.T, e *testEnv) EnvOptions {
			writeFile(t, filepath.Join(e.home, ".netrc"), "machine "+host+" password "+netrcKey)
			return EnvOptions{}
		}, "rejected the API key from the netrc file " + filepath.Join("HOME", ".netrc") + ", the entry for machine " + host + " ("},
		{"the program's", func(t *testing.T, e *testEnv) EnvOptions {
			return EnvOptions{APIKey: NewSecret(otherKey), APIKeySource: "--api-key-file k"}
		}, "rejected the API key from --api-key-file k ("},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			e.set("WANDB_BASE_URL", srv.URL)
			o := tc.setup(t, e)
			cfg, err := e.config(o)
			if err != nil {
				t.Fatal(err)
			}
			c, err := NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Viewer(context.Background())
			we := asError(t, err, "viewer", CodeUnauthorized)
			want := "the server at " + srv.URL + " " + strings.Replace(tc.want, "HOME", e.home, 1)
			if !strings.HasPrefix(we.Message, want) || !strings.Contains(we.Message, "; it answered: unauthorized") {
				t.Errorf("message %q\nwant it to start with %q and give the server's text after", we.Message, want)
			}
			for _, key := range []string{envKey, netrcKey, otherKey} {
				if strings.Contains(err.Error(), key) {
					t.Error("the error shows the key")
				}
			}
		})
	}
	// A key given in Go, and a client derived with another key, name no
	// source: not c's, which is another key's.
	c, err := NewClient(Config{BaseURL: srv.URL, APIKey: NewSecret(envKey), KeySource: "WANDB_API_KEY"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.WithAPIKey(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Viewer(context.Background())
	if e := asError(t, err, "viewer", CodeUnauthorized); !strings.HasPrefix(e.Message, "the server at "+srv.URL+" rejected the API key (it is revoked") {
		t.Errorf("a derived client's message %q", e.Message)
	}
}
