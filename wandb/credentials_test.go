package wandb

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

func TestBasicCredentials(t *testing.T) {
	t.Parallel()
	// The value the SDK's own test expects (core/internal/api/credentials_test.go).
	if got, want := basicCredentials("test-api-key"), "YXBpOnRlc3QtYXBpLWtleQ=="; got != want {
		t.Errorf("basicCredentials = %q, want %q", got, want)
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	c := testClient(t, srv)
	v := mustViewer(t, c)
	if deref(v.Email) != wandbtest.AdminEmail {
		t.Errorf("viewer = %v, want the admin", v)
	}
	req, ok := srv.LastRequest("GetViewer")
	if !ok {
		t.Fatal("server saw no GetViewer request")
	}
	for name, want := range map[string]string{
		"User-Agent":           "W&B Public Client " + SDKVersion + " wandb-lua/" + Version,
		"Use-Admin-Privileges": "true",
		"Content-Type":         "application/json",
		"Authorization":        "Basic [redacted]", // the server redacts what it records
	} {
		if got := req.Header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	if req.Caller != wandbtest.AdminEmail {
		t.Errorf("server authenticated %q, want the admin", req.Caller)
	}
}

// TestCredentialsOnlyToBaseURL: a redirect to another host:port is not
// followed (the request, and its credentials, never reach it), and the
// error says where the server tried to send it.
func TestCredentialsOnlyToBaseURL(t *testing.T) {
	t.Parallel()
	var elsewhereAuth, frontAuth atomic.Value
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhereAuth.Store(r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"errors":[{"message":"who are you"}]}`))
	}))
	defer elsewhere.Close()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		frontAuth.Store(r.Header.Get("Authorization"))
		http.Redirect(w, r, elsewhere.URL+"/graphql", http.StatusTemporaryRedirect)
	}))
	defer front.Close()

	c, err := NewClient(Config{BaseURL: front.URL, APIKey: NewSecret(strings.Repeat("a", 40)), Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Viewer(context.Background())
	e := asError(t, err, "viewer", CodeBadResponse)
	if !strings.HasPrefix(e.Message, "the server redirected the request to "+elsewhere.URL+"/graphql (HTTP 307), which is not followed") {
		t.Errorf("message = %q, want where the server tried to send it", e.Message)
	}
	if got, _ := frontAuth.Load().(string); !strings.HasPrefix(got, "Basic ") {
		t.Errorf("the base URL got no Basic credentials")
	}
	if got, ok := elsewhereAuth.Load().(string); ok || got != "" {
		t.Errorf("the redirect target got the request")
	}
}

func TestCredentialScope(t *testing.T) {
	t.Parallel()
	auth := func(h string) func(context.Context) (string, error) {
		return func(context.Context) (string, error) { return h, nil }
	}
	scopeOf := func(raw string, h string) scope { return newScope(mustURL(t, raw), auth(h)) }
	ct := withCredentials(&http.Client{},
		scopeOf("https://wandb.example.com/api/scim", "scim"),
		scopeOf("https://wandb.example.com/api", "graphql"),
		scopeOf("https://scim.example.com/v2", "elsewhere"),
	).Transport.(*credentialTransport)
	for raw, want := range map[string]string{
		"https://wandb.example.com/api/graphql":      "graphql",
		"https://WANDB.example.com:443/api/graphql":  "graphql",
		"https://wandb.example.com/api":              "graphql",
		"https://wandb.example.com/api/scim/Users":   "scim",
		"https://wandb.example.com/api/scimx":        "graphql",
		"https://scim.example.com/v2/Users":          "elsewhere",
		"http://wandb.example.com/api/graphql":       "",
		"https://wandb.example.com:8443/api/graphql": "",
		"https://evil.example.com/api/graphql":       "",
		"https://wandb.example.com/apix/graphql":     "",
		"https://wandb.example.com/graphql":          "",
		"https://scim.example.com/Users":             "",
	} {
		got := ""
		for _, s := range ct.scopes {
			if s.contains(mustURL(t, raw)) {
				got, _ = s.auth(context.Background())
				break
			}
		}
		if got != want {
			t.Errorf("credentials for %s = %q, want %q", raw, got, want)
		}
	}
	root := scopeOf("http://127.0.0.1:8080", "x")
	if !root.contains(mustURL(t, "http://127.0.0.1:8080/anything")) || root.contains(mustURL(t, "http://127.0.0.1/graphql")) {
		t.Error("root base URL: wrong scope")
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
