package wandb

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/wandb-lua/wandb-lua/internal/bytesize"
)

// ErrNoCredentials matches (with errors.Is) the error of [ConfigFromEnv]
// and its variants when they found no credentials at all: no API key, no
// identity token file, no netrc entry. A program that has its own ways to
// supply a key (a flag, a prompt) can offer them for this error alone.
var ErrNoCredentials = errors.New("wandb: no credentials")

// ConfigFromEnv reads the configuration the way the W&B SDK does.
//
// The server is WANDB_BASE_URL, else base_url in the [default] section of
// the SDK's settings files (./wandb/settings over $WANDB_CONFIG_DIR/settings
// or ~/.config/wandb/settings), else https://api.wandb.ai.
//
// The credentials are WANDB_API_KEY, or WANDB_IDENTITY_TOKEN_FILE (a JWT
// exchanged for access tokens, cached in WANDB_CREDENTIALS_FILE; see
// Config.IdentityTokenFile), or else the netrc file ($NETRC, else ~/.netrc,
// else ~/_netrc): the password of the last entry whose machine is the base
// URL's host[:port] exactly, else of the last default entry. Setting both
// variables is an error; an empty one counts as unset (so an empty
// WANDB_API_KEY still lets netrc supply the key, as in the SDK). A syntax
// error in the netrc entry that applies is an error naming its line; one
// elsewhere in the file is skipped. Without credentials the error names
// the places it looked and matches [ErrNoCredentials]. The key's format
// is checked as the SDK checks it.
//
// The transport follows WANDB__EXTRA_HTTP_HEADERS (a JSON object),
// WANDB_USERNAME and WANDB_USER_EMAIL (sent as X-WANDB-USERNAME and
// X-WANDB-USER-EMAIL), WANDB_HTTP_PROXY and WANDB_HTTPS_PROXY, and
// WANDB_INSECURE_DISABLE_SSL (true/false as the SDK parses it: also 1/0,
// yes/no, on/off, t/f, y/n). See the Config fields of the same names.
//
// Two settings the SDK does not have configure SCIM (user lifecycle):
// WANDB_SCIM_BASE_URL (default: the base URL + "/scim") and WANDB_SCIM_AUTH
// ("basic", the default with a key, or "bearer"); see Config. Another,
// WANDB_USER_AGENT, replaces the User-Agent (Config.UserAgentOverride).
func ConfigFromEnv() (Config, error) {
	return ConfigFromEnvWith(EnvOptions{})
}

// ConfigFromEnvFor is [ConfigFromEnv] for the server baseURL instead of
// WANDB_BASE_URL and the settings files ("" means they apply): the netrc
// entry is baseURL's host[:port]. A host program uses it when a flag such
// as --base-url overrides the environment.
func ConfigFromEnvFor(baseURL string) (Config, error) {
	return ConfigFromEnvWith(EnvOptions{BaseURL: baseURL})
}

// EnvOptions are what a program takes from elsewhere, such as its flags,
// in place of what [ConfigFromEnvWith] would read from the environment.
type EnvOptions struct {
	// BaseURL, if not "", replaces WANDB_BASE_URL and the settings files.
	BaseURL string
	// APIKey, if set, is the key, as the SDK's Api(api_key=...):
	// WANDB_API_KEY, WANDB_IDENTITY_TOKEN_FILE and netrc are not read.
	APIKey Secret `json:"-"`
	// APIKeySource names where APIKey came from, for its errors, e.g.
	// "--api-key-file key.txt"; "" for none.
	APIKeySource string
}

// ConfigFromEnvWith is [ConfigFromEnv] with o's values in place of the
// environment's.
func ConfigFromEnvWith(o EnvOptions) (Config, error) {
	var cfg Config
	base, err := baseURLFromEnv(o.BaseURL)
	if err != nil {
		return cfg, redactKeys(err, o.APIKey.Reveal(), os.Getenv("WANDB_API_KEY"))
	}
	cfg.BaseURL = base
	if err := transportFromEnv(&cfg); err != nil {
		return cfg, err
	}
	if err := credentialsFromEnv(&cfg, o); err != nil {
		return cfg, err
	}
	cfg.SCIMBaseURL = os.Getenv("WANDB_SCIM_BASE_URL")
	cfg.SCIMAuth = SCIMAuth(os.Getenv("WANDB_SCIM_AUTH"))
	if err := checkSCIM(&cfg); err != nil {
		return cfg, err
	}
	if err := limitsFromEnv(&cfg); err != nil {
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
func limitsFromEnv(cfg *Config) error {
	for _, name := range []string{"WANDB_HTTP_TIMEOUT", "WANDB__GRAPHQL_TIMEOUT_SECONDS"} { // the second wins
		raw := os.Getenv(name)
		if raw == "" {
			continue
		}
		secs, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil || math.IsNaN(secs) || math.IsInf(secs, 0) || secs > 1e6 {
			return configError("%s %q: not a number of seconds; use e.g. 60 or 2.5", name, raw)
		}
		if secs > 0 {
			cfg.AttemptTimeout = time.Duration(secs * float64(time.Second))
		}
	}
	if raw := os.Getenv("WANDB__GRAPHQL_RETRY_MAX"); raw != "" {
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
		raw := os.Getenv(w.name)
		if raw == "" {
			continue
		}
		secs, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil || math.IsNaN(secs) || math.IsInf(secs, 0) || secs > 1e6 {
			return configError("%s %q: not a number of seconds; use e.g. 2 or 0.5", w.name, raw)
		}
		if secs > 0 {
			*w.dst = time.Duration(secs * float64(time.Second))
		}
	}
	if raw := os.Getenv("WANDB_MAX_RESPONSE_BYTES"); raw != "" {
		n, ok := bytesize.Parse(raw)
		if !ok {
			return configError("WANDB_MAX_RESPONSE_BYTES %q: not a size; use a number of bytes or e.g. 64MiB, 1GiB", raw)
		}
		cfg.MaxResponseBytes = n
	}
	if raw := os.Getenv("WANDB_MAX_IN_FLIGHT"); raw != "" {
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil || n < 1 || n > MaxInFlightLimit {
			return configError("WANDB_MAX_IN_FLIGHT %q: not a number of requests; use a whole number from 1 to %d, e.g. 16", raw, MaxInFlightLimit)
		}
		cfg.MaxInFlight = n
	}
	return nil
}

// baseURLFromEnv returns the normalised base URL: given, else
// WANDB_BASE_URL, else the settings files', else the default. An error
// names where a bad URL came from.
func baseURLFromEnv(given string) (string, error) {
	raw, from := given, ""
	if raw == "" {
		raw, from = os.Getenv("WANDB_BASE_URL"), "WANDB_BASE_URL"
	}
	if raw == "" {
		v, file, err := settingsBaseURL()
		if err != nil {
			return "", err
		}
		raw, from = v, "base_url in the settings file "+file
	}
	base, err := normalizeBaseURL(raw)
	if err != nil && from != "" {
		return "", configError("%s: %s", from, err.(*Error).Message) // normalizeBaseURL returns *Error
	}
	return base, err
}

// transportFromEnv reads the header, proxy and TLS settings.
func transportFromEnv(cfg *Config) error {
	if raw := os.Getenv("WANDB__EXTRA_HTTP_HEADERS"); raw != "" {
		h, err := parseExtraHeaders(raw)
		if err != nil {
			return err
		}
		cfg.ExtraHeaders = h
	}
	cfg.Username = os.Getenv("WANDB_USERNAME")
	cfg.UserEmail = os.Getenv("WANDB_USER_EMAIL")
	cfg.UserAgentOverride = os.Getenv("WANDB_USER_AGENT")
	if badHeaderValue(cfg.UserAgentOverride) {
		return configError("WANDB_USER_AGENT: has a control character such as a newline; remove it")
	}
	if err := checkHeaders(*cfg); err != nil {
		return err
	}
	for _, p := range []struct {
		env string
		dst *Secret
	}{{"WANDB_HTTP_PROXY", &cfg.HTTPProxy}, {"WANDB_HTTPS_PROXY", &cfg.HTTPSProxy}} {
		raw := os.Getenv(p.env)
		if err := checkProxy(p.env, raw); err != nil {
			return err
		}
		*p.dst = NewSecret(strings.TrimRight(raw, "/"))
	}
	if raw := os.Getenv("WANDB_INSECURE_DISABLE_SSL"); raw != "" {
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
func credentialsFromEnv(cfg *Config, o EnvOptions) error {
	if o.APIKey.IsSet() {
		if err := checkAPIKey(o.APIKey.Reveal(), o.APIKeySource); err != nil {
			return err
		}
		cfg.APIKey, cfg.KeySource = o.APIKey, o.APIKeySource
		return nil
	}
	key, keySet := os.LookupEnv("WANDB_API_KEY")
	tokenFile := os.Getenv("WANDB_IDENTITY_TOKEN_FILE")
	switch {
	case key != "" && tokenFile != "":
		return configError("WANDB_API_KEY and WANDB_IDENTITY_TOKEN_FILE are both set, which is not allowed; unset one of them")
	case key != "":
		if err := checkAPIKey(key, "WANDB_API_KEY"); err != nil {
			return err
		}
		cfg.APIKey, cfg.KeySource = NewSecret(key), "WANDB_API_KEY"
		return nil
	case tokenFile != "":
		cfg.IdentityTokenFile, cfg.KeySource = tokenFile, "WANDB_IDENTITY_TOKEN_FILE"
		cfg.CredentialsFile = os.Getenv("WANDB_CREDENTIALS_FILE")
		return nil
	}

	u, _ := url.Parse(cfg.BaseURL) // already validated
	path, looked := netrcPath()
	if path != "" {
		m, err := netrcLookup(path, u.Host)
		if m.mode&0o077 != 0 && runtime.GOOS != "windows" {
			// Python's netrc refuses such a file (for ~/.netrc): the SDK
			// would not read this key.
			cfg.Warnings = append(cfg.Warnings, fmt.Sprintf("the netrc file %s can be read by others than you (mode %04o): "+
				"it holds API keys; run chmod 600 %s (Python's netrc, which the W&B SDK uses, refuses a ~/.netrc like it)", path, m.mode, path))
		}
		switch {
		case err != nil && m.found: // a syntax error in the entry that applies
			return configError("netrc file %s: %v", path, err)
		case err != nil:
			looked = fmt.Sprintf("%s (%v)", path, err)
		case !m.found:
			looked = fmt.Sprintf("%s (no entry for machine %s and no default entry%s%s)", path, u.Host, nearNote(m.near), skippedNote(m.skipped))
		case m.password == "":
			looked = fmt.Sprintf("%s (%s has no password)", path, m.entry)
		default:
			if err := checkAPIKey(m.password, path); err != nil {
				return err
			}
			cfg.APIKey = NewSecret(m.password)
			cfg.KeySource = fmt.Sprintf("the netrc file %s, %s", path, m.entry)
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
func skippedNote(ps []netrcProblem) string {
	if len(ps) == 0 {
		return ""
	}
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = fmt.Sprint(p.line)
	}
	if len(ps) == 1 {
		return "; line " + lines[0] + " has a syntax error and was skipped"
	}
	return "; lines " + strings.Join(lines, ", ") + " have syntax errors and were skipped"
}

var (
	jwtPattern       = regexp.MustCompile(`^[\w-]+\.[\w-]+\.[\w-]+$`)
	keySecretPattern = regexp.MustCompile(`^[\w-]+$`)
)

// CheckAPIKey applies the SDK's key format check to key: not empty, no
// white space around it, and either shaped like a JWT or an optional
// prefix and "-" (such as "local-") followed by 40 or more letters,
// digits, underscores or hyphens. The error never shows the key. A
// program that reads a key from its own source checks it with this, to
// name that source in the error.
func CheckAPIKey(key string) error { return checkAPIKey(key, "") }

// checkAPIKey applies the SDK's key format check (wandb/sdk/lib/wbauth/
// validation.py). source names where the key came from ("" when the caller
// passed it directly); the key itself never appears in the error.
func checkAPIKey(key, source string) error {
	bad := func(msg string) error {
		prefix := "api key: "
		if source != "" {
			prefix = "api key from " + source + ": "
		}
		return newRedactor(key).newError(Error{Op: "config", Code: CodeInvalidArgument, Message: prefix + msg})
	}
	if key == "" {
		return bad("is empty")
	}
	if strings.TrimFunc(key, unicode.IsSpace) != key {
		return bad("has leading or trailing white space")
	}
	if jwtPattern.MatchString(key) {
		return nil
	}
	secret := key
	if _, after, ok := strings.Cut(key, "-"); ok {
		secret = after // an on-prem prefix such as "local-"
	}
	if !keySecretPattern.MatchString(secret) {
		return bad("may only contain letters A-Z, digits, underscores and hyphens")
	}
	if n := len(secret); n < 40 {
		return bad(fmt.Sprintf("must have 40+ characters, has %d", n))
	}
	return nil
}
