package sdkfiles

import (
	"encoding/json"
	"strings"
	"testing"
)

// Fuzz targets. Their seeds run as ordinary tests; run one for longer with
//
//	go test ./wandb/internal/sdkfiles -run '^$' -fuzz FuzzNetrc -fuzztime 10m

// FuzzNetrc parses any text as a netrc file: it must not panic, a lookup
// must be the last matching entry, and a problem's description never holds
// a value from the file.
func FuzzNetrc(f *testing.F) {
	for _, seed := range []string{
		"machine api.wandb.ai login user password 0123456789abcdef0123456789abcdef01234567\n",
		"machine a password one\nmachine a password two\ndefault password three\n",
		"machine \"quoted host\" login 'x' password \"p\\\"w\"\n# comment\nmacdef init\ncd /\n\nmachine b password c\n",
		"machine a password \"unterminated\nmachine b password ok\n",
		"password before-machine\nmachine x login\n",
		"machine host:8080 user u password \\#notcomment\n",
	} {
		f.Add(seed, "api.wandb.ai")
	}
	f.Fuzz(func(t *testing.T, text, machine string) {
		nf := parseNetrc(text)
		e := nf.lookup(machine)
		var last *netrcEntry
		for i := range nf.entries {
			if en := &nf.entries[i]; !en.isDefault && en.machine == machine {
				last = en
			}
		}
		if last != nil && e != last {
			t.Fatalf("lookup(%q) is not the last entry for it", machine)
		}
		values := map[string]bool{}
		for _, en := range nf.entries {
			for _, v := range []string{en.password, en.login} {
				if len(v) >= 6 && !strings.ContainsAny(v, " \t") {
					values[v] = true
				}
			}
		}
		// Lines as Python counts them: universal newlines.
		lines := strings.Count(strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n"), "\n") + 1
		for _, p := range nf.problems() {
			if p.line < 1 || p.line > lines+1 {
				t.Fatalf("problem on line %d of a %d-line file", p.line, lines)
			}
			for v := range values {
				if strings.Contains(p.what, v) && !isNetrcWord(v) {
					t.Fatalf("problem %q shows the value %q", p.what, v)
				}
			}
		}
		if _, err := json.Marshal(nf.problems()); err != nil {
			t.Fatal(err)
		}
	})
}

// isNetrcWord reports whether v is one of the words a problem description
// may contain anyway.
func isNetrcWord(v string) bool {
	switch v {
	case "machine", "default", "password", "account", "macdef":
		return true
	}
	return false
}
