package wandb

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"unicode"
)

// ConfigFromEnv reads the configuration the way the W&B SDK does: the key
// from WANDB_API_KEY, the server from WANDB_BASE_URL (default
// https://api.wandb.ai), and, when WANDB_API_KEY is unset or empty, the key
// from the netrc file ($NETRC, else ~/.netrc, else ~/_netrc): the password
// of the entry whose machine is the base URL's host[:port], or of the
// default entry. Without a key it returns an error naming the places it
// looked. The key's format is checked as the SDK checks it.
//
// Two settings the SDK does not have configure SCIM (user lifecycle):
// WANDB_SCIM_BASE_URL (default: the base URL + "/scim") and WANDB_SCIM_AUTH
// ("basic", the default, or "bearer"); see Config.
func ConfigFromEnv() (Config, error) {
	return ConfigFromEnvFor(os.Getenv("WANDB_BASE_URL"))
}

// ConfigFromEnvFor is [ConfigFromEnv] for the server baseURL instead of
// WANDB_BASE_URL ("" means https://api.wandb.ai): the key comes from
// WANDB_API_KEY or from the netrc entry for baseURL's host[:port]. A host
// program uses it when a flag such as --base-url overrides the environment.
func ConfigFromEnvFor(baseURL string) (Config, error) {
	var cfg Config
	base, err := normalizeBaseURL(baseURL)
	if err != nil {
		return cfg, err
	}
	cfg.BaseURL = base
	cfg.SCIMBaseURL = os.Getenv("WANDB_SCIM_BASE_URL")
	cfg.SCIMAuth = SCIMAuth(os.Getenv("WANDB_SCIM_AUTH"))
	if err := checkSCIM(&cfg); err != nil {
		return cfg, err
	}

	if key := os.Getenv("WANDB_API_KEY"); key != "" {
		if err := checkAPIKey(key, "WANDB_API_KEY"); err != nil {
			return cfg, err
		}
		cfg.APIKey = key
		return cfg, nil
	}

	u, _ := url.Parse(base) // already validated
	looked := []string{"WANDB_API_KEY (unset)"}
	path, note := netrcPath()
	if path == "" {
		looked = append(looked, note)
	} else {
		key, found, err := netrcLookup(path, u.Host)
		switch {
		case err != nil:
			looked = append(looked, fmt.Sprintf("%s (%v)", path, err))
		case !found:
			looked = append(looked, fmt.Sprintf("%s (no entry for machine %s and no default entry)", path, u.Host))
		case key == "":
			looked = append(looked, fmt.Sprintf("%s (the entry for machine %s has no password)", path, u.Host))
		default:
			if err := checkAPIKey(key, path); err != nil {
				return cfg, err
			}
			cfg.APIKey = key
			return cfg, nil
		}
	}
	return cfg, configError("no api key for %s: looked in %s; set WANDB_API_KEY or add a netrc entry (machine %s, password <key>)",
		base, strings.Join(looked, ", "), u.Host)
}

// wandbAIPattern is the SDK's test for a W&B cloud URL (wandb/sdk/lib/urls.py).
var wandbAIPattern = regexp.MustCompile(`.*wandb\.ai[^.]*$`)

// normalizeBaseURL applies the SDK's base-URL rules: "" means the default,
// http(s) only, a host is required, trailing slashes are stripped, and a
// wandb.ai URL must be https://api.wandb.ai-like.
func normalizeBaseURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return DefaultBaseURL, nil
	}
	bad := func(format string, args ...any) error {
		return configError("base url %q: %s", shownURL(raw), fmt.Sprintf(format, args...))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", bad("not a url")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", bad("must start with http:// or https://")
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", bad("has no host")
	}
	if u.User != nil {
		return "", bad("must not contain credentials; set the api key instead")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", bad("must not have a query or fragment")
	}
	s := strings.TrimRight(u.String(), "/")
	if wandbAIPattern.MatchString(s) {
		if !strings.Contains(s, "api.") {
			return "", bad("did you mean https://api.wandb.ai?")
		}
		if u.Scheme != "https" {
			return "", bad("wandb.ai must be reached over https")
		}
	}
	return s, nil
}

var (
	jwtPattern       = regexp.MustCompile(`^[\w-]+\.[\w-]+\.[\w-]+$`)
	keySecretPattern = regexp.MustCompile(`^[\w-]+$`)
)

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

// shownURL is raw as a message may show it: with the user information, if
// any, replaced by "xxxxx", since a key pasted into a URL must not be
// echoed.
func shownURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err == nil && u.User != nil:
		u.User = url.User("xxxxx")
		return u.String()
	case err != nil && strings.Contains(raw, "@"):
		return "(a url with an @, not shown)"
	}
	return raw
}
