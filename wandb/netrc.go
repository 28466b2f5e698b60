package wandb

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// The netrc file, read as the W&B SDK reads it (see ConfigFromEnv).

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
