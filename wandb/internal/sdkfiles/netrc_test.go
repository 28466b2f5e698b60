package sdkfiles

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLookupNetrc: the entry that applies, as Python's netrc module
// chooses it (the expected passwords of files Python parses were checked
// against Python 3.11's netrc), and the syntax errors that are skipped or
// reported.
func TestLookupNetrc(t *testing.T) {
	t.Parallel()
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
			t.Parallel()
			path := writeFile(t, filepath.Join(t.TempDir(), "netrc"), tc.text)
			m, err := LookupNetrc(path, tc.machine)
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
				t.Fatalf("LookupNetrc: %v", err)
			}
			if tc.want == "-" {
				if m.Found {
					t.Errorf("an entry applied, want none")
				}
				if !slices.Equal(m.Skipped, tc.skipped) {
					t.Errorf("skipped lines %v, want %v", m.Skipped, tc.skipped)
				}
				return
			}
			if !m.Found || m.Password != tc.want {
				t.Errorf("found %v, password %q; want %q", m.Found, m.Password, tc.want)
			}
		})
	}
}

func TestExpandUser(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	e := testEnv(t, map[string]string{"HOME": home})
	for in, want := range map[string]string{
		"~":                  home,
		"~/x/y":              filepath.Join(home, "x", "y"),
		"/abs/~x":            "/abs/~x",
		"rel":                "rel",
		"~no-such-user-wl/x": "~no-such-user-wl/x",
	} {
		if got := e.ExpandUser(in); got != want {
			t.Errorf("ExpandUser(%q) = %q, want %q", in, got, want)
		}
	}
	if got := testEnv(t, map[string]string{"HOME": ""}).ExpandUser("~/x"); got != "~/x" {
		t.Errorf("ExpandUser without a home = %q, want it unchanged", got)
	}
}

// TestNetrcPath: $NETRC, relative to the working directory and with ~
// expanded, else ~/.netrc, else ~/_netrc, else a note naming the default.
func TestNetrcPath(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	e := testEnv(t, map[string]string{"HOME": home})
	if p, note := e.NetrcPath(); p != "" || note != filepath.Join(home, ".netrc")+" ($NETRC unset, file does not exist)" {
		t.Errorf("no file: %q, %q", p, note)
	}
	writeFile(t, filepath.Join(home, "_netrc"), "")
	if p, _ := e.NetrcPath(); p != filepath.Join(home, "_netrc") {
		t.Errorf("~/_netrc: %q", p)
	}
	writeFile(t, filepath.Join(home, ".netrc"), "")
	if p, _ := e.NetrcPath(); p != filepath.Join(home, ".netrc") {
		t.Errorf("~/.netrc over ~/_netrc: %q", p)
	}
	for value, want := range map[string]string{"~/n": filepath.Join(home, "n"), "n": "n", "/abs/n": "/abs/n"} {
		e := testEnv(t, map[string]string{"HOME": home, "NETRC": value})
		if want == "n" {
			want = filepath.Join(e.Dir, "n")
		}
		if p, _ := e.NetrcPath(); p != want {
			t.Errorf("NETRC=%s: %q, want %q", value, p, want)
		}
	}
	if p, note := testEnv(t, map[string]string{"HOME": ""}).NetrcPath(); p != "" || note != "netrc ($NETRC unset, no home directory)" {
		t.Errorf("no home: %q, %q", p, note)
	}
}
