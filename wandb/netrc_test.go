package wandb

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestNetrcUnderscoreFallback(t *testing.T) {
	home := isolateEnv(t)
	writeFile(t, filepath.Join(home, "_netrc"), "machine api.wandb.ai password "+netrcKey)
	cfg, err := ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.APIKey != netrcKey {
		t.Error("key from ~/_netrc differs")
	}
}

func TestNetrcUnreadable(t *testing.T) {
	isolateEnv(t)
	t.Setenv("NETRC", t.TempDir()) // a directory cannot be read as a file
	_, err := ConfigFromEnv()
	if err == nil || !strings.Contains(err.Error(), "cannot read file") {
		t.Errorf("error = %v, want one saying the file cannot be read", err)
	}
}

func TestParseNetrcErrors(t *testing.T) {
	for text, want := range map[string]string{
		"machine":                      `line 1: "machine" needs a value`,
		"password x":                   `"password" before any machine`,
		"machine a password":           `"password" needs a value`,
		"machine a password \"unended": "unterminated quote",
		"macdef":                       `"macdef" needs a value`,
		"machine a\nlogin":             `line 2: "login" needs a value`,
	} {
		_, err := parseNetrc(text)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseNetrc(%q) error = %v, want %q", text, err, want)
		}
	}
	entries, err := parseNetrc("machine h\r\n login \"a \\\"b\" password p # trailing comment\r\n")
	if err != nil || len(entries) != 1 || entries[0].login != `a "b` || entries[0].password != "p" {
		t.Errorf("parseNetrc with CRLF, escapes and comment = %+v, %v", entries, err)
	}
}
