package wandb

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestNetrcLookup: the entry that applies, as Python's netrc module
// chooses it (the expected passwords of files Python parses were checked
// against Python 3.11's netrc), and the syntax errors that are skipped or
// reported.
func TestNetrcLookup(t *testing.T) {
	for _, tc := range []struct {
		name     string
		text     string
		machine  string
		want     string // the password; "-" = no entry applies
		wantErr  string // substring of the error; "" = none
		skipped  []int  // lines skipped for syntax errors, when no entry applies
		notShown string // a value the error must not contain
	}{
		{name: "last duplicate wins", text: "machine a password p1\nmachine a password p2\n", machine: "a", want: "p2"},
		{name: "last default wins", text: "default password d1\nmachine b password x\ndefault password d2\n", machine: "a", want: "d2"},
		{name: "machine beats an earlier default", text: "default password d\nmachine a password x\n", machine: "a", want: "x"},
		{name: "machine beats a later default", text: "machine a password x\ndefault password d\n", machine: "a", want: "x"},
		{name: "case-sensitive", text: "machine A.example.com password x\n", machine: "a.example.com", want: "-"},
		{name: "case-sensitive with default", text: "machine A.example.com password x\ndefault password d", machine: "a.example.com", want: "d"},
		{name: "port is part of the machine", text: "machine h password x\nmachine h:8080 password y\n", machine: "h:8080", want: "y"},
		{name: "no port", text: "machine h password x\nmachine h:8080 password y\n", machine: "h", want: "x"},
		{name: "user is login", text: "machine a user u account z password p\n", machine: "a", want: "p"},
		{name: "backslash escapes", text: `machine a password p\ q\"r`, machine: "a", want: `p q"r`},
		{name: "double quotes", text: `machine "a" password "p \"q\" r"`, machine: "a", want: `p "q" r`},
		{name: "single quotes are characters", text: `machine a password 'p'`, machine: "a", want: `'p'`},
		{name: "a value may start with #", text: "machine a password #p", machine: "a", want: "#p"},
		{name: "comments", text: "# netrc\nmachine a # the server\n  password p # its key\n", machine: "a", want: "p"},
		{name: "comment after an empty line", text: "machine a\n\n  # Python rejects this file\n  password p\n", machine: "a", want: "p"},
		{name: "macdef", text: "macdef init\ncd /tmp\nput x\n\nmachine a password p\n", machine: "a", want: "p"},
		{name: "macdef with its body on the name's line", text: "macdef init cd /tmp\n\nmachine a password p\n", machine: "a", want: "p"},
		{name: "CRLF", text: "machine a\r\n  password p\r\n", machine: "a", want: "p"},
		{name: "empty password", text: "machine a password \"\"\n", machine: "a", want: ""},
		{name: "keyword at the end", text: "machine a password", machine: "a", want: ""},
		{name: "no entry", text: "machine b password x\n", machine: "a", want: "-"},

		// Syntax errors in another machine's entry are skipped.
		{name: "unknown token elsewhere", text: "machine b login u bogus password x\nmachine a password p\n", machine: "a", want: "p"},
		{name: "open quote elsewhere", text: "machine b password \"x\nmachine a password p\n", machine: "a", want: "p"},
		{name: "backslash at a line end elsewhere", text: "machine b password x\\\nmachine a password p\n", machine: "a", want: "p"},
		{name: "stray token before the entries", text: "junk\nmachine a password p\n", machine: "a", want: "p"},
		{name: "broken earlier duplicate", text: "machine a password \"x\nmachine a password p\n", machine: "a", want: "p"},
		{name: "broken default not used", text: "default login u junk\nmachine a password p\n", machine: "a", want: "p"},
		{name: "unended macdef after the entry", text: "machine a password p\nmacdef m\nfoo", machine: "a", want: "p"},
		{name: "skipped lines are named", text: "junk\nmachine b password x junk\nmachine c password y\n", machine: "a", want: "-", skipped: []int{1, 2}},
		{name: "machine without a name", text: "machine", machine: "a", want: "-", skipped: []int{1}},

		// A syntax error in the entry that applies is an error.
		{name: "unknown token here", text: "machine b password x\nmachine a login u bogus password secretpw\n", machine: "a",
			wantErr: "line 2: unexpected token in the entry for machine a", notShown: "bogus"},
		{name: "open quote here", text: "machine a\n  password \"secretpw\n", machine: "a",
			wantErr: "line 2: unterminated quote in the entry for machine a", notShown: "secretpw"},
		{name: "backslash here", text: "machine a password secretpw\\\n", machine: "a",
			wantErr: "line 1: backslash at the end of a line in the entry for machine a", notShown: "secretpw"},
		{name: "broken last duplicate", text: "machine a password p\nmachine a password \"secretpw\n", machine: "a",
			wantErr: "line 2: unterminated quote", notShown: "secretpw"},
		{name: "broken default used", text: "machine b password x\ndefault password secretpw junk\n", machine: "a",
			wantErr: "line 2: unexpected token in the default entry", notShown: "secretpw"},
		{name: "empty token here", text: "machine a password p \"\"\n", machine: "a", wantErr: "unexpected empty value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, filepath.Join(t.TempDir(), "netrc"), tc.text)
			m, err := netrcLookup(path, tc.machine)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				if tc.notShown != "" && strings.Contains(err.Error(), tc.notShown) {
					t.Errorf("the error shows a value of the file")
				}
				return
			}
			if err != nil {
				t.Fatalf("netrcLookup: %v", err)
			}
			if tc.want == "-" {
				if m.found {
					t.Errorf("an entry applied, want none")
				}
				var lines []int
				for _, p := range m.skipped {
					lines = append(lines, p.line)
				}
				if !slices.Equal(lines, tc.skipped) {
					t.Errorf("skipped lines %v, want %v", lines, tc.skipped)
				}
				return
			}
			if !m.found || m.password != tc.want {
				t.Errorf("found %v, password %q; want %q", m.found, m.password, tc.want)
			}
		})
	}
}

// TestConfigFromNetrc: how ConfigFromEnv reports a netrc file.
func TestConfigFromNetrc(t *testing.T) {
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
			home := isolateEnv(t)
			path := writeFile(t, filepath.Join(home, ".netrc"), tc.text)
			cfg, err := ConfigFromEnv()
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

func TestNetrcPath(t *testing.T) {
	t.Run("underscore fallback", func(t *testing.T) {
		home := isolateEnv(t)
		writeFile(t, filepath.Join(home, "_netrc"), "machine api.wandb.ai password "+netrcKey)
		if cfg, err := ConfigFromEnv(); err != nil || cfg.APIKey.Reveal() != netrcKey {
			t.Errorf("ConfigFromEnv with ~/_netrc: %v, or another key", err)
		}
	})
	t.Run("dot netrc first", func(t *testing.T) {
		home := isolateEnv(t)
		writeFile(t, filepath.Join(home, "_netrc"), "machine api.wandb.ai password "+otherKey)
		writeFile(t, filepath.Join(home, ".netrc"), "machine api.wandb.ai password "+netrcKey)
		if cfg, err := ConfigFromEnv(); err != nil || cfg.APIKey.Reveal() != netrcKey {
			t.Errorf("ConfigFromEnv with ~/.netrc and ~/_netrc: %v, or the key of ~/_netrc", err)
		}
	})
	t.Run("tilde in NETRC", func(t *testing.T) {
		home := isolateEnv(t)
		writeFile(t, filepath.Join(home, "my-netrc"), "machine api.wandb.ai password "+netrcKey)
		t.Setenv("NETRC", "~/my-netrc")
		if cfg, err := ConfigFromEnv(); err != nil || cfg.APIKey.Reveal() != netrcKey {
			t.Errorf("ConfigFromEnv with NETRC=~/my-netrc: %v, or another key", err)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		isolateEnv(t)
		t.Setenv("NETRC", t.TempDir()) // a directory cannot be read as a file
		_, err := ConfigFromEnv()
		if err == nil || !strings.Contains(err.Error(), "cannot read file") {
			t.Errorf("error = %v, want one saying the file cannot be read", err)
		}
	})
}

func TestExpandUser(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for in, want := range map[string]string{
		"~":                  home,
		"~/x/y":              filepath.Join(home, "x", "y"),
		"/abs/~x":            "/abs/~x",
		"rel":                "rel",
		"~no-such-user-wl/x": "~no-such-user-wl/x",
	} {
		if got := expandUser(in); got != want {
			t.Errorf("expandUser(%q) = %q, want %q", in, got, want)
		}
	}
	t.Setenv("HOME", "")
	if got := expandUser("~/x"); got != "~/x" {
		t.Errorf("expandUser without a home = %q, want it unchanged", got)
	}
}
