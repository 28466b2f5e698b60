package sdkfiles

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// The netrc file, read as the W&B SDK reads it (wandb/sdk/lib/wbauth/
// wbnetrc.py with Python's netrc module): the machine is the base URL's
// host[:port] as written, matched exactly (case-sensitively); the last
// entry for a machine wins, as does the last default entry; the login is
// ignored and the password is the key. Where Python's module rejects the
// whole file for one syntax error, this reader skips the entry the error
// is in, and reports it only when that entry is the one that applies.

// NetrcPath returns the netrc file to read, as the SDK chooses it: $NETRC
// (with a leading ~ expanded), else ~/.netrc if it exists, else ~/_netrc
// if it exists. When neither exists it returns "" and a note naming the
// platform's default file, for a message listing the places looked in.
func (e Env) NetrcPath() (path, note string) {
	if p := e.Getenv("NETRC"); p != "" {
		return e.path(e.ExpandUser(p)), ""
	}
	home, err := e.HomeDir()
	if err != nil {
		return "", "netrc ($NETRC unset, no home directory)"
	}
	for _, name := range []string{".netrc", "_netrc"} {
		p := filepath.Join(home, name)
		if _, err := os.Stat(p); err == nil {
			return p, ""
		}
	}
	def := ".netrc"
	if runtime.GOOS == "windows" {
		def = "_netrc"
	}
	return "", filepath.Join(home, def) + " ($NETRC unset, file does not exist)"
}

// NetrcMatch is what looking a machine up in a netrc file found.
type NetrcMatch struct {
	Found    bool        // an entry applies
	Password string      // its password: the key
	Entry    string      // "the entry for machine <m>" or "the default entry"
	Skipped  []int       // the lines of syntax errors in entries that did not apply, in order
	Near     []string    // when no entry applies, the entries that almost name the machine, each saying what to write instead
	Mode     fs.FileMode // the file's permissions
}

// LookupNetrc looks machine up in the netrc file at path: its last entry,
// else the last default entry. The error names a line, never a value: the
// file does not exist or cannot be read, or the entry that applies has a
// syntax error (then the match says which entry it is).
func LookupNetrc(path, machine string) (NetrcMatch, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return NetrcMatch{}, errors.New("file does not exist")
	}
	if err != nil {
		return NetrcMatch{}, errors.New("cannot read file")
	}
	var mode fs.FileMode
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	f := parseNetrc(string(data))
	e := f.lookup(machine)
	if e == nil {
		var lines []int
		for _, p := range f.problems() {
			lines = append(lines, p.line)
		}
		return NetrcMatch{Skipped: lines, Near: f.nearMisses(machine), Mode: mode}, nil
	}
	m := NetrcMatch{Found: true, Password: e.password, Entry: "the default entry", Mode: mode}
	if !e.isDefault {
		m.Entry = "the entry for machine " + e.machine
	}
	if e.problem != nil {
		return m, fmt.Errorf("line %d: %s in %s; fix or remove that entry", e.problem.line, e.problem.what, m.Entry)
	}
	return m, nil
}

// netrcFile is a parsed netrc file.
type netrcFile struct {
	entries []netrcEntry
	stray   []netrcProblem // problems outside any entry
}

type netrcEntry struct {
	machine   string // "" for the default entry or a machine without a name
	isDefault bool
	login     string
	password  string
	problem   *netrcProblem // the first syntax problem in the entry; nil if none
}

// netrcProblem is a syntax problem: where, and what, never a value.
type netrcProblem struct {
	line int
	what string
}

// lookup returns the entry that applies to machine, or nil: the last
// entry for it, else the last default entry.
func (f netrcFile) lookup(machine string) *netrcEntry {
	var def *netrcEntry
	for i := len(f.entries) - 1; i >= 0; i-- {
		e := &f.entries[i]
		switch {
		case e.isDefault:
			if def == nil {
				def = e
			}
		case e.machine == machine:
			return e
		}
	}
	return def
}

// nearMisses describes the entries whose machine is not machine but
// almost: the same host written with a scheme or a path, in another letter
// case, or with another port or none, which people write when they copy
// the URL or leave out the port; each says what to write instead. netrc
// matches machines exactly, as Python's netrc module (and so the SDK)
// does, so these entries do not apply.
func (f netrcFile) nearMisses(machine string) []string {
	wantHost, wantPort := splitMachine(machine)
	var out []string
	for _, e := range f.entries {
		if e.isDefault || e.machine == "" || e.machine == machine {
			continue
		}
		m, why := e.machine, ""
		if _, rest, ok := strings.Cut(m, "://"); ok {
			m, why = rest, "write the machine without the scheme: "+machine
		}
		if host, _, ok := strings.Cut(m, "/"); ok {
			m = host
			if why == "" {
				why = "write the machine without a path: " + machine
			}
		}
		host, port := splitMachine(m)
		switch {
		case !strings.EqualFold(host, wantHost):
			continue
		case why != "" && port != wantPort:
			why = "write the machine as host:port without the scheme, as in the URL: " + machine
		case why != "":
		case port == wantPort: // then only the letter case differs
			why = "machines are matched case-sensitively: write " + machine
		case port == "":
			why = "without the port: the machine must be " + machine + ", the URL's host and port"
		case wantPort == "":
			why = "with a port the URL does not have: write " + machine
		default:
			why = "another port: the URL's machine is " + machine
		}
		out = append(out, fmt.Sprintf("an entry for %s (%s)", e.machine, why))
	}
	return out
}

// splitMachine splits a netrc machine into its host and port ("" for
// none).
func splitMachine(m string) (host, port string) {
	if i := strings.LastIndex(m, ":"); i >= 0 && !strings.Contains(m[i:], "]") {
		return m[:i], m[i+1:]
	}
	return m, ""
}

// problems returns every syntax problem in the file, in line order.
func (f netrcFile) problems() []netrcProblem {
	var ps []netrcProblem
	for _, e := range f.entries {
		if e.problem != nil {
			ps = append(ps, *e.problem)
		}
	}
	ps = append(ps, f.stray...)
	for i := 1; i < len(ps); i++ { // a few at most: insertion sort
		for j := i; j > 0 && ps[j].line < ps[j-1].line; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
	return ps
}

// parseNetrc parses netrc text as Python's netrc module does: "machine
// <name>" and "default" start entries holding "login" (or "user"),
// "account" and "password" values; "macdef <name>" is followed by a macro
// body that runs to an empty line. Where a keyword is expected, a token
// starting with "#" begins a comment to the end of its line. A syntax
// error marks the entry it is in (or, before any entry, the file) and the
// parser skips to the next machine, default or macdef.
func parseNetrc(text string) netrcFile {
	lx := newNetrcLexer(text)
	var f netrcFile
	cur := -1         // index of the entry being read; -1 between entries
	skipping := false // after a problem: skip to the next entry keyword
	problem := func(line int, what string) {
		switch {
		case cur < 0:
			f.stray = append(f.stray, netrcProblem{line, what})
		case f.entries[cur].problem == nil:
			f.entries[cur].problem = &netrcProblem{line, what}
		}
		skipping = true
	}
	value := func() string {
		v, ok := lx.next()
		switch {
		case !ok:
			return "" // as Python: a keyword at the end of the file has an empty value
		case v.problem != "":
			problem(v.line, v.problem)
		}
		return v.text
	}
	for {
		t, ok := lx.next()
		if !ok {
			return f
		}
		if t.problem != "" {
			problem(t.line, t.problem)
			continue
		}
		if strings.HasPrefix(t.text, "#") {
			lx.skipLine()
			continue
		}
		if skipping && t.text != "machine" && t.text != "default" && t.text != "macdef" {
			continue
		}
		skipping = false
		switch {
		case t.text == "machine":
			f.entries = append(f.entries, netrcEntry{})
			cur = len(f.entries) - 1
			name := value()
			if name == "" && !skipping {
				problem(t.line, `"machine" without a name`)
			}
			f.entries[cur].machine = name
		case t.text == "default":
			f.entries = append(f.entries, netrcEntry{isDefault: true})
			cur = len(f.entries) - 1
		case t.text == "macdef":
			cur = -1
			value()
			if !lx.skipMacro() {
				problem(t.line, "macdef without an empty line to end it")
			}
		case t.text == "":
			problem(t.line, "unexpected empty value")
		case cur < 0:
			problem(t.line, "unexpected token")
		case t.text == "login" || t.text == "user":
			f.entries[cur].login = value()
		case t.text == "password":
			f.entries[cur].password = value()
		case t.text == "account":
			value()
		default:
			problem(t.line, "unexpected token")
		}
	}
}
