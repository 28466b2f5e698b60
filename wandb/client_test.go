package wandb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

func TestViewerCached(t *testing.T) {
	t.Parallel()
	srv := seeded(t)
	c := testClient(t, srv)
	ctx := context.Background()
	v1 := mustViewer(t, c)
	v2, err := c.Viewer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v1 != v2 {
		t.Error("second Viewer returned another *User")
	}
	if n := srv.Requests("GetViewer"); n != 1 {
		t.Errorf("server saw %d GetViewer requests, want 1", n)
	}

	bob := clientFor(t, srv, c, "bob@example.com")
	bv, err := bob.Viewer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if deref(bv.Email) != "bob@example.com" {
		t.Errorf("WithAPIKey client's viewer = %v, want bob", bv)
	}
	if n := srv.Requests("GetViewer"); n != 2 {
		t.Errorf("server saw %d GetViewer requests, want 2 (a new client has its own cache)", n)
	}
	if bv.Client() != bob || v1.Client() != c {
		t.Error("User.Client is not the client that fetched the user")
	}
	if bob.BaseURL() != c.BaseURL() {
		t.Errorf("WithAPIKey changed the base URL")
	}
}

func TestViewerErrors(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	ctx := context.Background()

	c := testClient(t, srv, func(cfg *Config) { cfg.APIKey = NewSecret(strings.Repeat("0", 40)) })
	_, err := c.Viewer(ctx)
	e := asError(t, err, "viewer", CodeUnauthorized)
	if e.Status != http.StatusUnauthorized || !errors.Is(err, ErrUnauthorized) {
		t.Errorf("unknown key: %v, want HTTP 401 matching ErrUnauthorized", err)
	}
	if n := srv.Requests("GetViewer"); n != 1 {
		t.Errorf("401 was retried: %d requests", n)
	}

	c = testClient(t, srv)
	srv.FailNext("GetViewer", wandbtest.Fault{Body: `{"data":{"viewer":null}}`})
	_, err = c.Viewer(ctx)
	e = asError(t, err, "viewer", CodeUnauthorized)
	if !strings.Contains(e.Message, "did not recognize an account") {
		t.Errorf("null viewer message = %q", e.Message)
	}
	if _, err := c.Viewer(ctx); err != nil { // a failure is not cached
		t.Errorf("Viewer after a failure: %v", err)
	}
}

func TestNewClientChecks(t *testing.T) {
	t.Parallel()
	key := strings.Repeat("a1", 20)
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // substring of the error; "" = no error
	}{
		{"ok", Config{APIKey: NewSecret(key)}, ""},
		{"prefixed on-prem key", Config{APIKey: NewSecret("local-" + key)}, ""},
		{"long key", Config{APIKey: NewSecret(strings.Repeat("x", 92))}, ""},
		{"jwt", Config{APIKey: NewSecret("eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl")}, ""},
		{"no key", Config{}, "is empty"},
		{"short key", Config{APIKey: NewSecret("abc123")}, "40+ characters, has 6"},
		{"short after prefix", Config{APIKey: NewSecret("local-" + key[:30])}, "40+ characters, has 30"},
		{"bad characters", Config{APIKey: NewSecret(key + "!")}, "may only contain"},
		{"white space", Config{APIKey: NewSecret(key + "\n")}, "white space"},
		{"ftp", Config{APIKey: NewSecret(key), BaseURL: "ftp://example.com"}, "http:// or https://"},
		{"no host", Config{APIKey: NewSecret(key), BaseURL: "http://"}, "no host"},
		{"not a url", Config{APIKey: NewSecret(key), BaseURL: "http://a b:x"}, "not a url"},
		{"userinfo", Config{APIKey: NewSecret(key), BaseURL: "https://u:p@example.com"}, "credentials"},
		{"query", Config{APIKey: NewSecret(key), BaseURL: "https://example.com/?x=1"}, "query"},
		{"wandb.ai without api", Config{APIKey: NewSecret(key), BaseURL: "https://wandb.ai"}, "use https://api.wandb.ai"},
		{"wandb.ai over http", Config{APIKey: NewSecret(key), BaseURL: "http://api.wandb.ai"}, "https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(tc.cfg)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("NewClient: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("NewClient(%v) = %v, want an error containing %q", tc.cfg, c, tc.want)
			}
			asError(t, err, "config", CodeInvalidArgument)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if tc.cfg.APIKey.IsSet() && strings.Contains(err.Error(), strings.TrimSpace(tc.cfg.APIKey.Reveal())) {
				t.Error("the error contains the key")
			}
		})
	}
}

func TestBaseURLNormalised(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                          "https://api.wandb.ai",
		"https://api.wandb.ai/":     "https://api.wandb.ai",
		" https://w.example.com// ": "https://w.example.com",
		"http://127.0.0.1:8080/":    "http://127.0.0.1:8080",
		"https://example.com/api/":  "https://example.com/api",
		"https://acme.wandb.io":     "https://acme.wandb.io",
	} {
		c, err := NewClient(Config{BaseURL: in, APIKey: NewSecret(strings.Repeat("a", 40))})
		if err != nil {
			t.Errorf("NewClient(BaseURL %q): %v", in, err)
			continue
		}
		if c.BaseURL() != want {
			t.Errorf("BaseURL(%q) = %q, want %q", in, c.BaseURL(), want)
		}
	}
}

func TestWithAPIKeyChecksKey(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	c := testClient(t, srv)
	_, err := c.WithAPIKey("short")
	e := asError(t, err, "config", CodeInvalidArgument)
	if e.Message != "api key: must have 40+ characters, has 5" {
		t.Errorf("message = %q, want one that names no Go method", e.Message)
	}
}

// TestWithServer: a client for another server keeps the settings (here the
// User-Agent and the retry policy) and sends its key only there.
func TestWithServer(t *testing.T) {
	t.Parallel()
	first, second := wandbtest.Start(t), wandbtest.Start(t)
	c, err := NewClient(Config{BaseURL: first.URL, APIKey: NewSecret(first.AdminKey()), userAgentOverride: "W&B Public Client " + SDKVersion + " probe/1",
		Retry: RetryPolicy{MaxAttempts: 2, MinWait: time.Millisecond, MaxWait: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.WithServer(second.URL+"/", second.AdminKey())
	if err != nil {
		t.Fatal(err)
	}
	if other.BaseURL() != second.URL {
		t.Errorf("BaseURL = %q, want %q", other.BaseURL(), second.URL)
	}
	second.FailNext("GetViewer", wandbtest.Fault{Status: http.StatusServiceUnavailable})
	if _, err := other.Viewer(context.Background()); err != nil {
		t.Fatalf("Viewer on the second server: %v", err)
	}
	if n := second.Requests("GetViewer"); n != 2 {
		t.Errorf("second server saw %d GetViewer requests, want 2 (the retry policy was not kept)", n)
	}
	if req, _ := second.LastRequest("GetViewer"); req.Header.Get("User-Agent") != "W&B Public Client "+SDKVersion+" probe/1" {
		t.Errorf("User-Agent = %q, want the parent's", req.Header.Get("User-Agent"))
	}
	if n := first.Requests(""); n != 0 {
		t.Errorf("first server saw %d requests, want none", n)
	}
	if _, err := c.WithServer("ftp://example.com", second.AdminKey()); err == nil {
		t.Error("WithServer accepted an ftp:// URL")
	}
	if _, err := c.WithServer(second.URL, "short"); err == nil {
		t.Error("WithServer accepted a malformed key")
	}
}

// TestNoKeyInStrings: the key never shows in String, %v, %+v, %#v or logs.
func TestNoKeyInStrings(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	var logs bytes.Buffer
	cfg := Config{BaseURL: srv.URL, APIKey: NewSecret(srv.AdminKey()), Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger.Info("config", "cfg", cfg)
	// The JSON handler marshals a Config nested in another value with
	// encoding/json, not LogValue.
	cfg.Logger.Info("nested", "settings", struct{ Wandb Config }{cfg})
	jsonCfg, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		c.String(), fmt.Sprintf("%v %+v %#v %s", c, c, c, c),
		cfg.String(), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg),
		logs.String(), string(jsonCfg),
	} {
		if strings.Contains(s, srv.AdminKey()) || strings.Contains(s, basicCredentials(srv.AdminKey())) {
			t.Errorf("a string shows the key")
		}
	}
	if want := "<wandb.Client " + srv.URL + ">"; c.String() != want {
		t.Errorf("String = %q, want %q", c.String(), want)
	}
	if !strings.Contains(cfg.String(), "APIKey: set") || !strings.Contains(Config{}.String(), "APIKey: unset") {
		t.Errorf("Config.String = %q", cfg.String())
	}
}

func TestDefaultHTTPClient(t *testing.T) {
	t.Parallel()
	mine := &http.Client{}
	if defaultHTTPClient(Config{HTTPClient: mine}) != mine {
		t.Error("the caller's client was replaced")
	}
	tr, ok := defaultHTTPClient(Config{}).Transport.(*http.Transport)
	if !ok {
		t.Fatal("default transport is not an *http.Transport")
	}
	if tr.MaxIdleConnsPerHost < 64 || tr.DisableKeepAlives {
		t.Errorf("default pool: MaxIdleConnsPerHost %d, keep-alive disabled %v", tr.MaxIdleConnsPerHost, tr.DisableKeepAlives)
	}
}
