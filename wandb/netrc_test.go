package wandb

import (
	"os"
	"path/filepath"
	"runtime"
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

// TestNetrcNearMisses: when no entry applies, the message names the
// entries that almost do and what to write instead: the host without the
// URL's port, with a scheme or a path, in another case, with a port the
// URL does not have.
func TestNetrcNearMisses(t *testing.T) {
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
			home := isolateEnv(t)
			writeFile(t, filepath.Join(home, ".netrc"), tc.text+"\nmachine elsewhere.example.org password "+otherKey+"\n")
			t.Setenv("WANDB_BASE_URL", tc.url)
			_, err := ConfigFromEnv()
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
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	home := isolateEnv(t)
	path := writeFile(t, filepath.Join(home, ".netrc"), "machine api.wandb.ai password "+netrcKey)
	cfg, err := ConfigFromEnv()
	if err != nil || len(cfg.Warnings) != 0 {
		t.Fatalf("mode 0600: %v, warnings %q", err, cfg.Warnings)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err = ConfigFromEnv()
	if err != nil || cfg.APIKey.Reveal() != netrcKey {
		t.Fatalf("mode 0644: %v, or another key", err)
	}
	want := "the netrc file " + path + " can be read by others than you (mode 0644): it holds API keys; run chmod 600 " + path
	if len(cfg.Warnings) != 1 || !strings.HasPrefix(cfg.Warnings[0], want) {
		t.Errorf("warnings %q, want one starting %q", cfg.Warnings, want)
	}
	// Not read, no warning: the key came from the environment.
	t.Setenv("WANDB_API_KEY", envKey)
	if cfg, err := ConfigFromEnv(); err != nil || len(cfg.Warnings) != 0 {
		t.Errorf("netrc not read: %v, warnings %q", err, cfg.Warnings)
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
