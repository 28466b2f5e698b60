package wandb

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
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
	return cfg, &Error{Op: "config", Code: CodeInvalidArgument, Message: fmt.Sprintf(
		"no api key for %s: looked in %s; set WANDB_API_KEY or add a netrc entry (machine %s, password <key>)",
		base, strings.Join(looked, ", "), u.Host)}
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
		return &Error{Op: "config", Code: CodeInvalidArgument, Message: fmt.Sprintf("base url %q: ", raw) + fmt.Sprintf(format, args...)}
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
		return &Error{Op: "config", Code: CodeInvalidArgument, Message: prefix + msg}
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

// netrcPath returns the netrc file to read, as the SDK chooses it: $NETRC,
// else ~/.netrc, else ~/_netrc if it exists. With none it returns "" and a
// note saying what was missing.
func netrcPath() (path, note string) {
	if p := os.Getenv("NETRC"); p != "" {
		return p, ""
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", "netrc ($NETRC unset, no home directory)"
	}
	def := filepath.Join(home, ".netrc")
	for _, name := range []string{".netrc", "_netrc"} {
		p := filepath.Join(home, name)
		if _, err := os.Stat(p); err == nil {
			return p, ""
		}
	}
	return "", def + " ($NETRC unset, file does not exist)"
}

// netrcLookup returns the password of machine's entry in the netrc file at
// path, else of its default entry. found reports whether an entry applied.
// A missing file is not found, not an error.
func netrcLookup(path, machine string) (password string, found bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, errors.New("file does not exist")
	}
	if err != nil {
		return "", false, errors.New("cannot read file")
	}
	entries, err := parseNetrc(string(data))
	if err != nil {
		return "", false, err
	}
	var def *netrcEntry
	for i := range entries {
		e := &entries[i]
		if e.isDefault {
			if def == nil {
				def = e
			}
			continue
		}
		if strings.EqualFold(e.machine, machine) {
			return e.password, true, nil
		}
	}
	if def != nil {
		return def.password, true, nil
	}
	return "", false, nil
}

type netrcEntry struct {
	machine   string
	isDefault bool
	login     string
	password  string
}

// parseNetrc parses netrc text: "machine", "default", "login", "password",
// "account" and "macdef" (whose body runs to the next empty line) tokens,
// "#" comments, and values quoted with " or '. Errors name a line, never a
// value.
func parseNetrc(text string) ([]netrcEntry, error) {
	toks, err := netrcTokens(text)
	if err != nil {
		return nil, err
	}
	var entries []netrcEntry
	var cur *netrcEntry
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		value := func() (string, error) {
			if i+1 >= len(toks) {
				return "", fmt.Errorf("line %d: %q needs a value", t.line, t.text)
			}
			i++
			return toks[i].text, nil
		}
		switch t.text {
		case "machine":
			v, err := value()
			if err != nil {
				return nil, err
			}
			entries = append(entries, netrcEntry{machine: v})
			cur = &entries[len(entries)-1]
		case "default":
			entries = append(entries, netrcEntry{isDefault: true})
			cur = &entries[len(entries)-1]
		case "login", "password", "account":
			v, err := value()
			if err != nil {
				return nil, err
			}
			if cur == nil {
				return nil, fmt.Errorf("line %d: %q before any machine", t.line, t.text)
			}
			switch t.text {
			case "login":
				cur.login = v
			case "password":
				cur.password = v
			}
		case "macdef":
			if _, err := value(); err != nil {
				return nil, err
			}
			// The macro body (up to an empty line) was consumed by netrcTokens.
		default:
			return nil, fmt.Errorf("line %d: unexpected token", t.line)
		}
	}
	return entries, nil
}

type netrcToken struct {
	text string
	line int
}

// netrcTokens splits netrc text into tokens, dropping comments and macdef
// bodies.
func netrcTokens(text string) ([]netrcToken, error) {
	var toks []netrcToken
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	inMacro := false
	for n, line := range lines {
		lineNo := n + 1
		if inMacro {
			if strings.TrimSpace(line) == "" {
				inMacro = false
			}
			continue
		}
		rest := line
		for {
			rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
			if rest == "" || rest[0] == '#' {
				break
			}
			var tok string
			if q := rest[0]; q == '"' || q == '\'' {
				var b strings.Builder
				j := 1
				closed := false
				for ; j < len(rest); j++ {
					c := rest[j]
					if c == '\\' && q == '"' && j+1 < len(rest) {
						j++
						b.WriteByte(rest[j])
						continue
					}
					if c == q {
						closed = true
						j++
						break
					}
					b.WriteByte(c)
				}
				if !closed {
					return nil, fmt.Errorf("line %d: unterminated quote", lineNo)
				}
				tok, rest = b.String(), rest[j:]
			} else {
				end := strings.IndexFunc(rest, unicode.IsSpace)
				if end < 0 {
					end = len(rest)
				}
				tok, rest = rest[:end], rest[end:]
			}
			toks = append(toks, netrcToken{text: tok, line: lineNo})
			if tok == "macdef" {
				// The name follows on this line; the body starts on the next.
				rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
				end := strings.IndexFunc(rest, unicode.IsSpace)
				if end < 0 {
					end = len(rest)
				}
				if end > 0 {
					toks = append(toks, netrcToken{text: rest[:end], line: lineNo})
				}
				inMacro = true
				break
			}
		}
	}
	return toks, nil
}
