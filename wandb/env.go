package wandb

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/bytesize"
	"github.com/wandb-lua/wandb-lua/wandb/internal/sdkfiles"
)

// ErrNoCredentials matches (with errors.Is) the error of [ConfigFromEnv]
// when it found no credentials at all: a program that has its own ways to
// supply a key (a flag, a prompt) can offer them for this error alone.
var ErrNoCredentials = errors.New("wandb: no credentials")

// ConfigFromEnv reads the configuration the way the W&B SDK does.
//
// The server is WANDB_BASE_URL, else base_url in the [default] section of
// the SDK's settings files (./wandb/settings over $WANDB_CONFIG_DIR/settings
// or ~/.config/wandb/settings), else https://api.wandb.ai.
//
// The credentials are WANDB_API_KEY, or WANDB_IDENTITY_TOKEN_FILE, or else
// the netrc file ($NETRC, else ~/.netrc, else ~/_netrc): the password of
// the last entry whose machine is the base URL's host[:port] exactly, else
// of the last default entry. Setting both variables is an error; an empty
// one counts as unset (so an empty WANDB_API_KEY still lets netrc supply
// the key, as in the SDK). A syntax error in the netrc entry that applies
// is an error naming its line; one elsewhere in the file is skipped.
// Without credentials the error names the places it looked and matches
// [ErrNoCredentials]. The key's format is checked as the SDK checks it.
//
// An identity token (a JWT in the file WANDB_IDENTITY_TOKEN_FILE names) is
// exchanged at the base URL + "/oidc/token" for access tokens, sent as
// "Authorization: Bearer <token>" to GraphQL and SCIM alike; the file is
// read by NewClient, to fail early, and again for every exchange, made
// anew when 5 minutes or less of a token remain. Access tokens are cached
// in WANDB_CREDENTIALS_FILE (default ~/.config/wandb/credentials.json), as
// the SDK caches them. Neither the JWT nor an access token ever appears in
// an error, a log line or a String.
//
// The transport follows WANDB__EXTRA_HTTP_HEADERS (a JSON object of
// headers added to every request; they replace the next two, never the
// User-Agent, Content-Type or Accept, and an Authorization among them is
// never sent), WANDB_USERNAME and WANDB_USER_EMAIL (sent as
// X-WANDB-USERNAME and X-WANDB-USER-EMAIL), WANDB_HTTP_PROXY and
// WANDB_HTTPS_PROXY (else HTTP_PROXY, HTTPS_PROXY and NO_PROXY apply), and
// WANDB_INSECURE_DISABLE_SSL (Config.InsecureSkipVerify; true/false as the
// SDK parses it: also 1/0, yes/no, on/off, t/f, y/n). The proxies configure
// the default transport, so they cannot be combined with Config.HTTPClient.
// Each attempt has WANDB__GRAPHQL_TIMEOUT_SECONDS, else WANDB_HTTP_TIMEOUT
// (seconds; default 30), its answer included.
//
// Settings the SDK does not have: WANDB_SCIM_BASE_URL, where the SCIM API
// (user lifecycle) is (default: the base URL + "/scim"); WANDB_SCIM_AUTH,
// "basic" (the default with a key: the viewer's username and the key) or
// "bearer" (Multi-tenant Cloud, and Dedicated Cloud and Self-Managed from
// v0.79.0); and WANDB_USER_AGENT, the User-Agent of every request, for a
// server or proxy that refuses the default (W&B serves API keys only to a
// User-Agent that starts with "W&B Public Client").
func ConfigFromEnv() (Config, error) {
	return ConfigFromEnvWith(EnvOptions{})
}

// EnvOptions are what a program takes from elsewhere, such as its flags,
// in place of what [ConfigFromEnvWith] would read from the environment.
type EnvOptions struct {
	// BaseURL, if not "", replaces WANDB_BASE_URL and the settings files;
	// the netrc entry is then the one for its host[:port].
	BaseURL string
	// APIKey, if set, is the key, as the SDK's Api(api_key=...):
	// WANDB_API_KEY, WANDB_IDENTITY_TOKEN_FILE and netrc are not read.
	APIKey Secret `json:"-"`
	// APIKeySource names where APIKey came from, for its errors, e.g.
	// "the file key.txt"; "" for none.
	APIKeySource string
	// Lookup, if set, is the environment: it returns a variable's value
	// and whether it is set, as os.LookupEnv (which nil means). The home
	// directory is then its HOME (USERPROFILE on Windows), as
	// os.UserHomeDir reads it.
	Lookup func(name string) (string, bool) `json:"-"`
}

// ConfigFromEnvWith is [ConfigFromEnv] with o's values in place of the
// environment's.
func ConfigFromEnvWith(o EnvOptions) (Config, error) {
	return configFromEnv(o, sdkfiles.Env{Lookup: o.Lookup})
}

// configFromEnv is ConfigFromEnvWith in env (whose working directory tests
// set). It reads the settings, the base URL first (the netrc entry is
// chosen by its host), and then checks them as NewClient does, naming the
// variables they came from.
func configFromEnv(o EnvOptions, env sdkfiles.Env) (Config, error) {
	var cfg Config
	if err := baseURLFromEnv(&cfg, o.BaseURL, env); err != nil {
		return cfg, redactKeys(err, o.APIKey.Reveal(), env.Getenv("WANDB_API_KEY"))
	}
	if err := transportFromEnv(&cfg, env); err != nil {
		return cfg, err
	}
	if err := credentialsFromEnv(&cfg, o, env); err != nil {
		return cfg, err
	}
	cfg.scimBaseURL = env.Getenv("WANDB_SCIM_BASE_URL")
	cfg.scimAuth = scimAuthMode(env.Getenv("WANDB_SCIM_AUTH"))
	if err := limitsFromEnv(&cfg, env); err != nil {
		return cfg, err
	}
	if err := cfg.check(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// limitsFromEnv reads, under the SDK's names, the attempt timeout in
// seconds (WANDB__GRAPHQL_TIMEOUT_SECONDS, else WANDB_HTTP_TIMEOUT), the
// number of retries (WANDB__GRAPHQL_RETRY_MAX) and the waits between them
// in seconds (WANDB__GRAPHQL_RETRY_WAIT_MIN_SECONDS and _MAX_SECONDS); as
// in the SDK a value of 0 or less leaves the default, and unlike it a
// fraction of a second counts. It reads the response size limit from
// WANDB_MAX_RESPONSE_BYTES (this project's: a number of bytes, or with a
// unit: 64MiB, 1GiB) and the bound on requests in flight from
// WANDB_MAX_IN_FLIGHT (this project's too).
func limitsFromEnv(cfg *Config, env sdkfiles.Env) error {
	for _, name := range []string{"WANDB_HTTP_TIMEOUT", "WANDB__GRAPHQL_TIMEOUT_SECONDS"} { // the second wins
		if err := secondsFromEnv(env, name, "60 or 2.5", &cfg.attemptTimeout); err != nil {
			return err
		}
	}
	if raw := env.Getenv("WANDB__GRAPHQL_RETRY_MAX"); raw != "" {
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil || n > 1000 {
			return configError("WANDB__GRAPHQL_RETRY_MAX %q: not a number of retries; use e.g. 5, or 0 for the default", raw)
		}
		if n > 0 {
			cfg.Retry.MaxAttempts = n + 1 // the SDK counts retries, the policy attempts
		}
	}
	for _, w := range []struct {
		name string
		dst  *time.Duration
	}{{"WANDB__GRAPHQL_RETRY_WAIT_MIN_SECONDS", &cfg.Retry.MinWait}, {"WANDB__GRAPHQL_RETRY_WAIT_MAX_SECONDS", &cfg.Retry.MaxWait}} {
		if err := secondsFromEnv(env, w.name, "2 or 0.5", w.dst); err != nil {
			return err
		}
	}
	if raw := env.Getenv("WANDB_MAX_RESPONSE_BYTES"); raw != "" {
		n, ok := bytesize.Parse(raw)
		if !ok {
			return configError("WANDB_MAX_RESPONSE_BYTES %q: not a size; use a number of bytes or e.g. 64MiB, 1GiB", raw)
		}
		cfg.MaxResponseBytes = n
	}
	if raw := env.Getenv("WANDB_MAX_IN_FLIGHT"); raw != "" {
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil || n < 1 || n > MaxInFlightLimit {
			return configError("WANDB_MAX_IN_FLIGHT %q: not a number of requests; use a whole number from 1 to %d, e.g. 16", raw, MaxInFlightLimit)
		}
		cfg.MaxInFlight = n
	}
	return nil
}

// secondsFromEnv sets *dst to the duration the variable name gives in
// seconds, a fraction allowed; unset, empty, 0 or less leaves *dst as it
// is. A value that is not a finite number up to 1e6 is an error that
// names the variable and gives example, such as "60 or 2.5", as values to
// use.
func secondsFromEnv(env sdkfiles.Env, name, example string, dst *time.Duration) error {
	raw := env.Getenv(name)
	if raw == "" {
		return nil
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil || math.IsNaN(secs) || math.IsInf(secs, 0) || secs > 1e6 {
		return configError("%s %q: not a number of seconds; use e.g. %s", name, raw, example)
	}
	if secs > 0 {
		*dst = time.Duration(secs * float64(time.Second))
	}
	return nil
}

// baseURLFromEnv sets the normalised base URL: given, else WANDB_BASE_URL,
// else the settings files', else the default. An error names where a bad
// URL came from.
func baseURLFromEnv(cfg *Config, given string, env sdkfiles.Env) error {
	raw, from := given, ""
	if raw == "" {
		raw, from = env.Getenv("WANDB_BASE_URL"), "WANDB_BASE_URL"
	}
	if raw == "" {
		v, file, err := settingsBaseURL(env)
		if err != nil {
			return err
		}
		raw, from = v, "base_url in the settings file "+file
	}
	cfg.BaseURL = raw
	return cfg.checkBaseURL(from)
}

// settingsBaseURL returns base_url from the settings files and the file it
// came from; "" when none sets it. A file that exists but cannot be read
// or parsed is an error naming it (the SDK warns and ignores the file),
// unless a file that applies after it sets base_url.
func settingsBaseURL(env sdkfiles.Env) (value, file string, err error) {
	system, workspace := env.SettingsFiles()
	for _, path := range []string{workspace, system} {
		if path == "" {
			continue
		}
		v, ok, err := sdkfiles.ReadSetting(path, "base_url")
		if err != nil {
			return "", path, configError("settings file %s: %v; fix it, or set WANDB_BASE_URL", path, err)
		}
		if ok {
			return v, path, nil
		}
	}
	return "", "", nil
}

// transportFromEnv reads the header, proxy and TLS settings (Config.check
// checks them).
func transportFromEnv(cfg *Config, env sdkfiles.Env) error {
	if raw := env.Getenv("WANDB__EXTRA_HTTP_HEADERS"); raw != "" {
		h, err := parseExtraHeaders(raw)
		if err != nil {
			return err
		}
		cfg.extraHeaders = h
	}
	cfg.username = env.Getenv("WANDB_USERNAME")
	cfg.userEmail = env.Getenv("WANDB_USER_EMAIL")
	cfg.userAgentOverride = env.Getenv("WANDB_USER_AGENT")
	cfg.httpProxy = NewSecret(env.Getenv("WANDB_HTTP_PROXY"))
	cfg.httpsProxy = NewSecret(env.Getenv("WANDB_HTTPS_PROXY"))
	if raw := env.Getenv("WANDB_INSECURE_DISABLE_SSL"); raw != "" {
		b, ok := parseSDKBool(raw)
		if !ok {
			return configError("WANDB_INSECURE_DISABLE_SSL %q: not a boolean; use true or false", raw)
		}
		cfg.InsecureSkipVerify = b
	}
	return nil
}

// parseSDKBool parses a boolean setting as the SDK (pydantic) does:
// true, 1, yes, on, t, y and false, 0, no, off, f, n, in any case.
func parseSDKBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "true", "1", "yes", "on", "t", "y":
		return true, true
	case "false", "0", "no", "off", "f", "n":
		return false, true
	}
	return false, false
}

// credentialsFromEnv sets the credentials of cfg: o.APIKey, else
// WANDB_API_KEY, else WANDB_IDENTITY_TOKEN_FILE, else netrc.
func credentialsFromEnv(cfg *Config, o EnvOptions, env sdkfiles.Env) error {
	if o.APIKey.IsSet() {
		cfg.APIKey, cfg.KeySource = o.APIKey, o.APIKeySource
		return nil
	}
	key, keySet := env.LookupEnv("WANDB_API_KEY")
	tokenFile := env.Getenv("WANDB_IDENTITY_TOKEN_FILE")
	switch {
	case key != "" && tokenFile != "":
		return configError("WANDB_API_KEY and WANDB_IDENTITY_TOKEN_FILE are both set, which is not allowed; unset one of them")
	case key != "":
		cfg.APIKey, cfg.KeySource = NewSecret(key), "WANDB_API_KEY"
		return nil
	case tokenFile != "":
		cfg.identityTokenFile, cfg.KeySource = tokenFile, "WANDB_IDENTITY_TOKEN_FILE"
		cfg.credentialsFile = env.Getenv("WANDB_CREDENTIALS_FILE")
		return nil
	}

	u, _ := url.Parse(cfg.BaseURL) // already validated
	path, looked := env.NetrcPath()
	if path != "" {
		m, err := sdkfiles.LookupNetrc(path, u.Host)
		if m.Mode&0o077 != 0 && runtime.GOOS != "windows" {
			// Python's netrc refuses such a file (for ~/.netrc): the SDK
			// would not read this key.
			cfg.Warnings = append(cfg.Warnings, fmt.Sprintf("the netrc file %s can be read by others than you (mode %04o): "+
				"it holds API keys; run chmod 600 %s (Python's netrc, which the W&B SDK uses, refuses a ~/.netrc like it)", path, m.Mode, path))
		}
		switch {
		case err != nil && m.Found: // a syntax error in the entry that applies
			return configError("netrc file %s: %v", path, err)
		case err != nil:
			looked = fmt.Sprintf("%s (%v)", path, err)
		case !m.Found:
			looked = fmt.Sprintf("%s (no entry for machine %s and no default entry%s%s)", path, u.Host, nearNote(m.Near), skippedNote(m.Skipped))
		case m.Password == "":
			looked = fmt.Sprintf("%s (%s has no password)", path, m.Entry)
		default:
			cfg.APIKey = NewSecret(m.Password)
			cfg.KeySource = fmt.Sprintf("the netrc file %s, %s", path, m.Entry)
			return nil
		}
	}
	if keySet {
		return configErrorCause(ErrNoCredentials, "no api key for %s: WANDB_API_KEY is set but empty; looked also in %s; "+
			"put the key in WANDB_API_KEY (or unset it and set WANDB_IDENTITY_TOKEN_FILE), or add a netrc entry (machine %s, password <key>)",
			cfg.BaseURL, looked, u.Host)
	}
	return configErrorCause(ErrNoCredentials, "no api key for %s: looked in WANDB_API_KEY (unset), WANDB_IDENTITY_TOKEN_FILE (unset), %s; "+
		"set WANDB_API_KEY or WANDB_IDENTITY_TOKEN_FILE, or add a netrc entry (machine %s, password <key>)",
		cfg.BaseURL, looked, u.Host)
}

// nearNote says which netrc entries almost apply: "" for none.
func nearNote(near []string) string {
	if len(near) == 0 {
		return ""
	}
	return "; it has " + strings.Join(near, ", and ")
}

// skippedNote says which lines of a netrc file were skipped for syntax
// errors: "" for none.
func skippedNote(lines []int) string {
	if len(lines) == 0 {
		return ""
	}
	s := make([]string, len(lines))
	for i, l := range lines {
		s[i] = fmt.Sprint(l)
	}
	if len(lines) == 1 {
		return "; line " + s[0] + " has a syntax error and was skipped"
	}
	return "; lines " + strings.Join(s, ", ") + " have syntax errors and were skipped"
}
