package wandb

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// No key in any output: base URLs that carry it, every fmt verb, another
// identity's key, and a key a server echoes in another form.

// keyForms are the forms of key that must never appear (compared without
// regard to case by showsKey).
func keyForms(key string) []string {
	forms := []string{key}
	if _, after, ok := strings.Cut(key, "-"); ok {
		forms = append(forms, after)
	}
	for _, f := range append([]string(nil), forms...) {
		forms = append(forms, base64.StdEncoding.EncodeToString([]byte(f)), base64.RawURLEncoding.EncodeToString([]byte(f)))
	}
	return forms
}

// maskKey returns s, text a failure message would print, with every form
// of key (keyForms) and then every run of 12 of its characters replaced by
// "[key]", regardless of case: a failing test shows where the key leaked,
// never the key, fake as it is.
func maskKey(s, key string) string {
	forms := keyForms(key)
	for _, f := range forms {
		for i := 0; i+12 <= len(f); i++ {
			forms = append(forms, f[i:i+12])
		}
	}
	for _, f := range forms {
		s = regexp.MustCompile("(?i)"+regexp.QuoteMeta(f)).ReplaceAllString(s, "[key]")
	}
	return s
}

// showsKey reports whether s shows key in any of its forms.
func showsKey(s, key string) bool {
	for _, f := range keyForms(key) {
		if strings.Contains(strings.ToLower(s), strings.ToLower(f)) {
			return true
		}
	}
	return false
}

func TestBaseURLsCarryingTheKey(t *testing.T) {
	t.Parallel()
	key := "local-" + strings.Repeat("0123456789abcdef", 3)[:40]
	// A failure names a base URL by its index and shows it with the key
	// masked.
	for i, base := range []string{
		"http://api:" + key + "@wandb.example.com",
		"https://wandb.example.com?key=" + key,
		"https://wandb.example.com/#" + key,
		"ftp://wandb.example.com/" + key,
		"api:" + key + "@wandb.example.com",
	} {
		_, err := NewClient(Config{BaseURL: base, APIKey: NewSecret(key)})
		if err == nil {
			t.Errorf("NewClient(base URL %d, %q) accepted it", i, maskKey(base, key))
			continue
		}
		if showsKey(err.Error(), key) {
			t.Errorf("NewClient(base URL %d, %q): %v", i, maskKey(base, key), maskKey(err.Error(), key))
		}
		e := newTestEnv(t)
		e.set("WANDB_API_KEY", key)
		e.set("WANDB_BASE_URL", base)
		_, err = e.config(EnvOptions{})
		if err == nil || showsKey(err.Error(), key) {
			t.Errorf("ConfigFromEnv with WANDB_BASE_URL base URL %d, %q: %v", i, maskKey(base, key), maskKey(fmt.Sprint(err), key))
		}
	}
	// A key in the path is a valid URL: String and errors hide it.
	cfg := Config{BaseURL: "http://127.0.0.1:1/" + key, APIKey: NewSecret(key), Retry: RetryPolicy{MaxAttempts: 1}}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Viewer(context.Background())
	for _, s := range []string{c.String(), cfg.String(), fmt.Sprint(err), fmt.Sprintf("%+v", err)} {
		if showsKey(s, key) || !strings.Contains(s, "[redacted]") {
			t.Errorf("%q shows the key, or does not say what it hid", maskKey(s, key))
		}
	}
}

func TestEveryVerbHidesTheKey(t *testing.T) {
	t.Parallel()
	key := strings.Repeat("0123456789abcdef", 3)[:40]
	cfg := Config{BaseURL: "https://wandb.example.com", APIKey: NewSecret(key), httpProxy: NewSecret("http://u:" + key + "@proxy:3128"),
		extraHeaders: secretHeaders(map[string]string{"X-Token": key})}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// %p on a Config value is left out: fmt prints the fields of a value
	// given to %p without asking the value (go vet reports that call).
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%t", "%o", "%O", "%x", "%X", "%b", "%c", "%U", "%e", "%f", "%g", "%10.3v", "%-v"} {
		for name, v := range map[string]any{"Config": cfg, "*Config": &cfg, "*Client": c, "[]any": []any{cfg, c}} {
			if s := fmt.Sprintf(verb, v); showsKey(s, key) {
				t.Errorf("%s of %s shows the key: %s", verb, name, maskKey(s, key))
			}
		}
	}
}

// TestEchoedKeyForms: a server that echoes the key as it was sent, without
// its prefix, in another case or base64-encoded, and another identity's
// key, are all redacted.
func TestEchoedKeyForms(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	other, err := srv.AddAPIKey(wandbtest.AdminEmail, "other")
	if err != nil {
		t.Fatal(err)
	}
	prefixed := "local-" + strings.Repeat("abcdef", 7)[:40]
	c := testClient(t, srv, func(cfg *Config) { cfg.Retry.MaxAttempts = 1 })
	oc, err := c.WithAPIKey(other)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := c.WithAPIKey(prefixed)
	if err != nil {
		t.Fatal(err)
	}
	suffix := strings.TrimPrefix(prefixed, "local-")
	for i, tc := range []struct {
		c    *Client
		key  string
		echo string
	}{
		{c, srv.AdminKey(), srv.AdminKey()},
		{c, srv.AdminKey(), strings.ToUpper(srv.AdminKey())},
		{c, srv.AdminKey(), base64.StdEncoding.EncodeToString([]byte(srv.AdminKey()))},
		{c, srv.AdminKey(), base64.RawURLEncoding.EncodeToString([]byte(srv.AdminKey()))},
		{oc, other, other},
		{oc, other, strings.ToUpper(other)},
		{pc, prefixed, suffix},
		{pc, prefixed, strings.ToUpper(suffix)},
		{pc, prefixed, base64.StdEncoding.EncodeToString([]byte(suffix))},
		// Split by invisible or white-space characters.
		{c, srv.AdminKey(), interleave(srv.AdminKey(), "\u200b")},
		{c, srv.AdminKey(), interleave(srv.AdminKey(), " ")},
		{c, srv.AdminKey(), srv.AdminKey()[:20] + "\n" + srv.AdminKey()[20:]},
		{c, srv.AdminKey(), srv.AdminKey()[:10] + "\u00ad\u2060\ufeff" + srv.AdminKey()[10:]},
		// Hex, in either case.
		{c, srv.AdminKey(), hex.EncodeToString([]byte(srv.AdminKey()))},
		{c, srv.AdminKey(), strings.ToUpper(hex.EncodeToString([]byte(srv.AdminKey())))},
		{pc, prefixed, hex.EncodeToString([]byte(suffix))},
		// Base64 inside a longer text, the key at each offset.
		{c, srv.AdminKey(), base64.StdEncoding.EncodeToString([]byte("x" + srv.AdminKey() + "yz"))},
		{c, srv.AdminKey(), base64.StdEncoding.EncodeToString([]byte("xy" + srv.AdminKey() + "z"))},
		{c, srv.AdminKey(), base64.URLEncoding.EncodeToString([]byte("{\"k\":\"" + srv.AdminKey() + "\"}"))},
		{c, srv.AdminKey(), base64.RawURLEncoding.EncodeToString([]byte("\xff\xfe" + srv.AdminKey()))},
		// Cut short, at either end.
		{c, srv.AdminKey(), srv.AdminKey()[:len(srv.AdminKey())-1]},
		{c, srv.AdminKey(), srv.AdminKey()[:32]},
		{c, srv.AdminKey(), srv.AdminKey()[8:]},
	} {
		srv.FailNext("GetViewer", wandbtest.Fault{Status: 400, Body: `{"errors":[{"message":"bad key: ` + tc.echo + `"}]}`})
		_, err := tc.c.Viewer(context.Background())
		if err == nil || showsKey(fmt.Sprintf("%v %+v", err, err), tc.key) || showsPart(err.Error(), tc.echo) || !strings.Contains(err.Error(), "[redacted]") {
			// The echo is named by its index, and the error is not shown
			// when it holds part of the echo: maskKey does not know every
			// form a case echoes (split by spaces, inside base64).
			shown := maskKey(wandbtest.MaskSecrets(fmt.Sprint(err)), tc.key)
			if showsPart(shown, tc.echo) {
				shown = "an error that shows part of the echo"
			}
			t.Errorf("echo %d: %s", i, shown)
		}
	}
}

// interleave returns s with sep between each two of its characters.
func interleave(s, sep string) string {
	return strings.Join(strings.Split(s, ""), sep)
}

// showsPart reports whether s shows 12 or more characters in a row of
// echo, an echoed form of a key: the redaction removed it all but for
// the few characters of an encoding that also hold the bytes around the
// key.
func showsPart(s, echo string) bool {
	for i := 0; i+12 <= len(echo); i++ {
		if strings.Contains(s, echo[i:i+12]) {
			return true
		}
	}
	return false
}

// TestServerTextIsCleaned: a server's text reaches the user without
// terminal escape sequences or control characters, and cut to a sane
// length.
func TestServerTextIsCleaned(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	c := testClient(t, srv, func(cfg *Config) { cfg.Retry.MaxAttempts = 1 })
	nasty := "\x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ bell\x07 nul\x00 del\x7f c1\u009b31m \u2028" + strings.Repeat("long ", 500)
	msg, _ := json.Marshal(nasty)
	srv.FailNext("GetViewer", wandbtest.Fault{Status: 400, Body: `{"errors":[{"message":` + string(msg) + `}]}`})
	_, err := c.Viewer(context.Background())
	e := asError(t, err, "viewer", CodeInvalidArgument)
	for _, r := range e.Message {
		if unicode.IsControl(r) || r == '\u2028' {
			t.Fatalf("message has the control character %U: %q", r, e.Message[:80])
		}
	}
	if !strings.HasPrefix(e.Message, "red  link bell  nul  del  c1  long long") {
		t.Errorf("message starts %q", e.Message[:40])
	}
	if n := utf8.RuneCountInString(e.Message); n > maxMessageRunes+1 || !strings.HasSuffix(e.Message, "…") {
		t.Errorf("message is %d runes long, want it cut at %d", n, maxMessageRunes)
	}
}

// TestGeneratedSecretIsRedacted: a secret GenerateAPIKey returned is
// removed from what the client (and its family) says afterwards, should a
// server echo it.
func TestGeneratedSecretIsRedacted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := wandbtest.Start(t)
	c := testClient(t, srv)
	me := mustViewer(t, c)
	secret, err := me.GenerateAPIKey(ctx, "ci")
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNext("SearchUsers", wandbtest.Fault{Status: 400, Body: `{"errors":[{"message":"bad key ` + secret + `"}]}`})
	_, err = c.WithReadOnly().Users(ctx, "x")
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("the error shows the generated secret (or there is none): %v", wandbtest.MaskSecrets(fmt.Sprint(err)))
	}
}

// TestStringsRedactData: a server that puts the client's key in its data
// (an email, a username, a name, a team's name, a service account's
// description) does not get it shown by String, nor by an error or a
// change record that names the object.
func TestStringsRedactData(t *testing.T) {
	t.Parallel()
	key := strings.Repeat("5ec7e7", 7)
	srv := wandbtest.Start(t, wandbtest.WithSeed(wandbtest.Seed{
		Users: []wandbtest.SeedUser{
			{Email: "root@example.com", Admin: true, Keys: []wandbtest.SeedKey{{Description: "own", Secret: key}}},
			{Email: key + "@x.com", Teams: []string{"t" + key}},
			{Email: "u@example.com", Username: "u" + key},
			{Email: "n@example.com", Name: "n " + key[:36]},
		},
		Teams: []wandbtest.SeedTeam{{Name: "t" + key, ServiceAccounts: []wandbtest.SeedServiceAccount{{Description: "d " + key}}}},
	}))
	var records []ChangeRecord
	var mu sync.Mutex
	c, err := NewClient(Config{BaseURL: srv.URL, APIKey: NewSecret(key), DryRun: true, DryRunOutput: io.Discard,
		OnChange: func(r ChangeRecord) { mu.Lock(); records = append(records, r); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	users, err := c.Users(ctx, "")
	if err != nil || len(users) < 4 {
		t.Fatalf("users: %d, %v", len(users), err)
	}
	var shown []string
	for _, u := range users {
		shown = append(shown, u.String(), fmt.Sprint(u))
		if err := u.Deactivate(ctx); err != nil {
			shown = append(shown, err.Error())
		}
		u.Email, u.Username = nil, nil // the next fallbacks: the ID, the name
		shown = append(shown, u.String())
	}
	team, err := c.Team(ctx, "t"+key)
	if err != nil {
		t.Fatal(err)
	}
	shown = append(shown, team.String())
	for _, m := range team.Members() {
		shown = append(shown, m.String())
	}
	_, err = c.Team(ctx, "nope"+key)
	shown = append(shown, fmt.Sprint(err))
	for _, r := range records {
		b, _ := json.Marshal(r)
		shown = append(shown, string(b))
	}
	joined := strings.Join(shown, "\n")
	if showsKey(joined, key) || showsPart(joined, key) {
		t.Errorf("the key is shown:\n%s", maskKey(joined, key))
	}
	if !strings.Contains(joined, "<User [redacted]@x.com>") || !strings.Contains(joined, "<Team t[redacted]>") {
		t.Errorf("what was redacted is not marked:\n%s", maskKey(joined, key))
	}
}

// TestExtraHeaderValuesAreRedacted: a server or proxy that echoes an
// extra header's value (a gateway token, a Proxy-Authorization's
// credential) in its error does not get it shown.
func TestExtraHeaderValuesAreRedacted(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	token := "gw-" + strings.Repeat("t0k", 9)
	basic := strings.Repeat("cHJveHk6", 3)
	c := testClient(t, srv, func(cfg *Config) {
		cfg.extraHeaders = secretHeaders(map[string]string{"X-Gateway-Token": token, "Proxy-Authorization": "Basic " + basic})
	})
	srv.FailNext("GetViewer", wandbtest.Fault{Status: 400, Body: `{"errors":[{"message":"bad token ` + token + ` for ` + basic + `"}]}`})
	_, err := c.Viewer(context.Background())
	if err == nil {
		t.Fatal("no error")
	}
	if msg := err.Error(); strings.Contains(msg, token) || strings.Contains(msg, basic) || !strings.Contains(msg, "bad token") {
		t.Errorf("the error shows a header's value, or not the server's message: %q", strings.NewReplacer(token, "<token>", basic, "<basic>").Replace(msg))
	}
}

// TestErrorCauseHidesTheKey: the cause an Error wraps (the transport's
// *url.Error, naming the request's URL) does not show a key the base URL
// carries, to a caller that unwraps it either.
func TestErrorCauseHidesTheKey(t *testing.T) {
	t.Parallel()
	key := strings.Repeat("c4", 20)
	c, err := NewClient(Config{BaseURL: "http://127.0.0.1:1/" + key, APIKey: NewSecret(key), Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Viewer(context.Background())
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Fatalf("error = %v, want one wrapping the transport's *url.Error", err)
	}
	for e := error(err); e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), key) {
			t.Errorf("%T in the error's chain shows the key", e)
		}
	}
}
