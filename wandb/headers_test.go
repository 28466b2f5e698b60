package wandb

import (
	"context"
	"strings"
	"testing"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// TestDefaultHeaders: extra headers and the X-WANDB headers reach GraphQL
// and SCIM; the client's own headers and credentials win.
func TestDefaultHeaders(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	c := testClient(t, srv, func(cfg *Config) {
		cfg.extraHeaders = secretHeaders(map[string]string{
			"X-Team":               "ml",
			"user-agent":           "not this",
			"Use-Admin-Privileges": "false",
			"Authorization":        "Bearer not-this-one",
			"X-WANDB-USER-EMAIL":   "override@example.com",
		})
		cfg.username = "svc-owner"
		cfg.userEmail = "owner@example.com"
	})
	u := mustUser(t, c, "bob@example.com")
	if _, err := u.Status(context.Background()); err != nil {
		t.Fatal(err)
	}
	gql, _ := srv.LastRequest("SearchUsers")
	scim, _ := srv.LastRequest("")
	for _, req := range []wandbtest.Request{gql, scim} {
		for name, want := range map[string]string{
			"X-Team":               "ml",
			"User-Agent":           "W&B Public Client " + SDKVersion + " wandb-lua/" + Version,
			"Use-Admin-Privileges": "true",
			"X-Wandb-Username":     "svc-owner",
			"X-Wandb-User-Email":   "override@example.com",
		} {
			if got := req.Header.Values(name); len(got) != 1 || got[0] != want {
				t.Errorf("%s: header %s = %q, want %q", req.Op, name, got, want)
			}
		}
		if got := req.Header.Get("Authorization"); strings.Contains(got, "not-this-one") || got == "" {
			t.Errorf("%s: Authorization %q, want the client's credentials", req.Op, got)
		}
	}
}

// TestUserAgentOverride: WANDB_USER_AGENT is the User-Agent of every
// request exactly, Config.UserAgent's token included or not; the token
// exchange sends it too.
func TestUserAgentOverride(t *testing.T) {
	t.Parallel()
	const ua = "W&B Public Client 0.28.2 (approved by corp-proxy)"
	srv := teamServer(t)
	e := newTestEnv(t)
	e.set("WANDB_BASE_URL", srv.URL)
	e.set("WANDB_API_KEY", srv.AdminKey())
	e.set("WANDB_USER_AGENT", ua)
	cfg, err := e.config(EnvOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.String(); !strings.Contains(s, `UserAgentOverride: "`+ua+`"`) {
		t.Errorf("String does not show the override: %s", s)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.User(context.Background(), "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Status(context.Background()); err != nil {
		t.Fatal(err)
	}
	gql, _ := srv.LastRequest("SearchUsers")
	scim, _ := srv.LastRequest("")
	for _, req := range []wandbtest.Request{gql, scim} {
		if got := req.Header.Values("User-Agent"); len(got) != 1 || got[0] != ua {
			t.Errorf("%s: User-Agent %q, want %q", req.Op, got, ua)
		}
	}

	f := newFederation(t, 0)
	f.tokenFile(t, "ci", false)
	if _, err := f.client(t, func(cfg *Config) { cfg.userAgentOverride = ua }).Viewer(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"OIDCToken", "GetViewer"} {
		if req, _ := f.srv.LastRequest(op); req.Header.Get("User-Agent") != ua {
			t.Errorf("%s: User-Agent %q, want %q", op, req.Header.Get("User-Agent"), ua)
		}
	}
}

// TestNoEmptyHeaders: unlike the SDK, the X-WANDB headers are not sent
// empty.
func TestNoEmptyHeaders(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	c := testClient(t, srv)
	if _, err := c.Viewer(context.Background()); err != nil {
		t.Fatal(err)
	}
	req, _ := srv.LastRequest("GetViewer")
	for _, name := range []string{"X-Wandb-Username", "X-Wandb-User-Email"} {
		if _, sent := req.Header[name]; sent {
			t.Errorf("%s was sent", name)
		}
	}
}

func TestCheckHeaders(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"bad name", Config{extraHeaders: secretHeaders(map[string]string{"X Team": "v"})}, `WANDB__EXTRA_HTTP_HEADERS: header "X Team": not a valid header name`},
		{"empty name", Config{extraHeaders: secretHeaders(map[string]string{"": "v"})}, "not a valid header name"},
		{"non-ascii name", Config{extraHeaders: secretHeaders(map[string]string{"X-Tëam": "v"})}, "not a valid header name"},
		{"newline", Config{extraHeaders: secretHeaders(map[string]string{"X-Token": "secret-value\r\nX-Evil: 1"})}, "WANDB__EXTRA_HTTP_HEADERS: header X-Token: the value has a control character"},
		{"username", Config{username: "a\nb"}, "WANDB_USERNAME: has a control character"},
		{"user email", Config{userEmail: "a\rb@example.com"}, "WANDB_USER_EMAIL: has a control character"},
		{"user agent override", Config{userAgentOverride: "a\x7fb"}, "WANDB_USER_AGENT: has a control character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.APIKey = NewSecret(envKey)
			_, err := NewClient(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewClient error = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret-value") {
				t.Error("the error shows a header value")
			}
		})
	}
	if _, err := NewClient(Config{APIKey: NewSecret(envKey), extraHeaders: secretHeaders(map[string]string{"X-Ok": "tab\tand ünïcode"})}); err != nil {
		t.Errorf("a valid header: %v", err)
	}
}

func TestParseExtraHeaders(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]int{`{"A": "1", "B": "2"}`: 2, `null`: 0, `{}`: 0} {
		h, err := parseExtraHeaders(raw)
		if err != nil || len(h) != want {
			t.Errorf("parseExtraHeaders(%s) = %v, %v; want %d headers", raw, h, err, want)
		}
	}
	for _, raw := range []string{`{"A": 1}`, `["A"]`, `{"A": "1"`, `A: 1`} {
		if _, err := parseExtraHeaders(raw); err == nil || !strings.Contains(err.Error(), "WANDB__EXTRA_HTTP_HEADERS: not a JSON object of strings") {
			t.Errorf("parseExtraHeaders(%s) error = %v", raw, err)
		}
	}
}
