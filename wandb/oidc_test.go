package wandb

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// fastTokenRetry keeps the token exchange's retry waits tiny.
var fastTokenRetry = RetryPolicy{MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond}

// federation is a wandbtest server that trusts an identity provider, and
// that provider.
type federation struct {
	srv  *wandbtest.Server
	priv ed25519.PrivateKey
	dir  string // for the token and credentials files
}

// newFederation starts a server whose /oidc/token maps the subject "ci"
// to the admin and "bob" to bob, minting tokens valid for ttl (0: an hour).
func newFederation(t *testing.T, ttl time.Duration) *federation {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv := wandbtest.Start(t, wandbtest.WithOIDC(wandbtest.OIDC{
		Key: pub, Subjects: map[string]string{"ci": wandbtest.AdminEmail, "bob": "bob@example.com"}, TokenTTL: ttl,
	}), wandbtest.WithSeed(wandbtest.Seed{Users: []wandbtest.SeedUser{{Email: "bob@example.com", Username: "bob"}}}))
	return &federation{srv: srv, priv: priv, dir: t.TempDir()}
}

// jwt returns an identity token for sub, valid for an hour, or expired.
func (f *federation) jwt(t *testing.T, sub string, expired bool) string {
	t.Helper()
	exp := time.Now().Add(time.Hour)
	if expired {
		exp = time.Now().Add(-time.Hour)
	}
	tok, err := wandbtest.SignIdentityToken(f.priv, map[string]any{"sub": sub, "exp": exp.Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// tokenFile writes an identity token for sub to the token file and
// returns its path.
func (f *federation) tokenFile(t *testing.T, sub string, expired bool) string {
	t.Helper()
	return writeFile(t, filepath.Join(f.dir, "jwt"), f.jwt(t, sub, expired)+"\n")
}

func (f *federation) cacheFile() string { return filepath.Join(f.dir, "cache", "credentials.json") }

// client returns a client of the identity in the token file.
func (f *federation) client(t *testing.T, mods ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: f.srv.URL, identityTokenFile: filepath.Join(f.dir, "jwt"), credentialsFile: f.cacheFile(),
		Retry: fastRetry, tokenRetry: fastTokenRetry}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func viewerEmail(t *testing.T, c *Client) string {
	t.Helper()
	v, err := c.Viewer(context.Background())
	if err != nil {
		t.Fatalf("Viewer: %v", err)
	}
	return deref(v.Email)
}

// TestIdentityToken: the exchange, the Bearer token on GraphQL and SCIM,
// the cache file and its reuse by another client.
func TestIdentityToken(t *testing.T) {
	t.Parallel()
	f := newFederation(t, 0)
	f.tokenFile(t, "ci", false)
	c := f.client(t)
	if got := viewerEmail(t, c); got != wandbtest.AdminEmail {
		t.Fatalf("viewer = %q, want the admin", got)
	}
	ex, _ := f.srv.LastRequest("OIDCToken")
	if ct := ex.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" ||
		!strings.Contains(ex.Body, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer") || ex.Header.Get("Authorization") != "" {
		t.Errorf("exchange: Content-Type %q, body %q, Authorization %q", ct, ex.Body, ex.Header.Get("Authorization"))
	}
	req, _ := f.srv.LastRequest("GetViewer")
	if got := req.Header.Get("Authorization"); got != "Bearer [redacted]" {
		t.Errorf("GraphQL Authorization = %q, want Bearer", got)
	}

	// SCIM takes the access token as Bearer, whatever the viewer.
	u, err := c.User(context.Background(), "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Status(context.Background()); err != nil {
		t.Fatalf("Status: %v", err)
	}
	scim, _ := f.srv.LastRequest("")
	if !strings.HasPrefix(scim.Op, "SCIM") || scim.Header.Get("Authorization") != "Bearer [redacted]" || scim.Caller != wandbtest.AdminEmail {
		t.Errorf("%s: Authorization %q as %q, want SCIM with Bearer as the admin", scim.Op, scim.Header.Get("Authorization"), scim.Caller)
	}

	// The cache file: mode 0600, indented, the SDK's format.
	fi, err := os.Stat(f.cacheFile())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(f.cacheFile())
	var file struct {
		Credentials map[string]struct {
			AccessToken string `json:"access_token"`
			ExpiresAt   string `json:"expires_at"`
		} `json:"credentials"`
	}
	if err := json.Unmarshal(data, &file); err != nil || !strings.HasPrefix(string(data), "{\n  \"credentials\": {\n    \""+f.srv.URL+"\": {") {
		t.Fatalf("cache file is not the indented SDK format (%v)", err)
	}
	entry := file.Credentials[f.srv.URL]
	exp, err := time.Parse("2006-01-02 15:04:05", entry.ExpiresAt)
	if entry.AccessToken == "" || err != nil || exp.Before(time.Now().Add(50*time.Minute)) || exp.After(time.Now().Add(61*time.Minute)) {
		t.Errorf("cache entry: token set %v, expires_at %q; want a token for an hour", entry.AccessToken != "", entry.ExpiresAt)
	}

	// Another client (another process) reuses the cached token.
	if got := viewerEmail(t, f.client(t)); got != wandbtest.AdminEmail {
		t.Errorf("second client's viewer = %q", got)
	}
	if n := f.srv.Requests("OIDCToken"); n != 1 {
		t.Errorf("%d exchanges, want 1 (the second client uses the cache)", n)
	}
}

// TestIdentityTokenRefresh: a token with 5 minutes or less left is
// replaced, with the token file read anew.
func TestIdentityTokenRefresh(t *testing.T) {
	t.Parallel()
	f := newFederation(t, 4*time.Minute) // always within the refresh margin
	f.tokenFile(t, "ci", false)
	c := f.client(t)
	if got := viewerEmail(t, c); got != wandbtest.AdminEmail {
		t.Fatalf("viewer = %q", got)
	}
	// The identity provider re-mints the token, for another subject here
	// so that the server shows which one was used.
	f.tokenFile(t, "bob", false)
	if got := viewerEmail(t, c.WithReadOnly()); got != "bob@example.com" { // a new viewer cache, the same token source
		t.Errorf("viewer after the token file changed = %q, want bob", got)
	}
	if n := f.srv.Requests("OIDCToken"); n != 2 {
		t.Errorf("%d exchanges, want 2", n)
	}
	if req, _ := f.srv.LastRequest("OIDCToken"); req.Caller != "bob@example.com" {
		t.Errorf("second exchange for %q, want bob: the token file was not read again", req.Caller)
	}
	// The cached token is about to expire too: a new client exchanges.
	c2 := f.client(t)
	viewerEmail(t, c2)
	if n := f.srv.Requests("OIDCToken"); n != 3 {
		t.Errorf("%d exchanges, want 3", n)
	}
}

// TestIdentityTokenSingleFlight: concurrent requests share one exchange,
// and so do the clients of one identity (WithReadOnly).
func TestIdentityTokenSingleFlight(t *testing.T) {
	t.Parallel()
	f := newFederation(t, 0)
	f.tokenFile(t, "ci", false)
	c := f.client(t, func(cfg *Config) { cfg.credentialsFile = filepath.Join(f.dir, "nocache", "x.json") })
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			if _, err := c.Users(context.Background(), ""); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, err := c.WithReadOnly().Users(context.Background(), ""); err != nil {
		t.Error(err)
	}
	if n := f.srv.Requests("OIDCToken"); n != 1 {
		t.Errorf("%d exchanges, want 1", n)
	}
}

// TestIdentityTokenFailures: a rejection is permanent, 429 and 5xx are
// retried, and no failure shows a secret.
func TestIdentityTokenFailures(t *testing.T) {
	t.Parallel()
	t.Run("rejected", func(t *testing.T) {
		f := newFederation(t, 0)
		jwt := f.jwt(t, "ci", true)
		writeFile(t, filepath.Join(f.dir, "jwt"), jwt)
		_, err := f.client(t).Viewer(context.Background())
		e := asError(t, err, "viewer", CodeUnauthorized)
		for _, want := range []string{"failed to retrieve access token: HTTP 400: ", "invalid_grant", "the JWT has expired",
			"check that the identity token in " + filepath.Join(f.dir, "jwt")} {
			if !strings.Contains(e.Message, want) {
				t.Errorf("message %q does not contain %q", e.Message, want)
			}
		}
		if n := f.srv.Requests("OIDCToken"); n != 1 {
			t.Errorf("%d exchanges, want 1: a rejection is not retried", n)
		}
		if n := f.srv.Requests("GetViewer"); n != 0 {
			t.Errorf("GetViewer was sent %d times without a token", n)
		}
		if strings.Contains(fmt.Sprintf("%v %+v", err, e), jwt) {
			t.Error("the error shows the identity token")
		}
	})
	t.Run("retried", func(t *testing.T) {
		f := newFederation(t, 0)
		f.tokenFile(t, "ci", false)
		f.srv.FailNext("OIDCToken", wandbtest.Fault{Status: 503}, wandbtest.Fault{Status: 429}, wandbtest.Fault{Status: 500})
		if got := viewerEmail(t, f.client(t)); got != wandbtest.AdminEmail {
			t.Errorf("viewer = %q", got)
		}
		if n := f.srv.Requests("OIDCToken"); n != 4 {
			t.Errorf("%d exchanges, want 4", n)
		}
	})
	t.Run("retries run out", func(t *testing.T) {
		f := newFederation(t, 0)
		f.tokenFile(t, "ci", false)
		for range 4 {
			f.srv.FailNext("OIDCToken", wandbtest.Fault{Status: 502, Body: "<html><h1>Bad gateway</h1></html>"})
		}
		_, err := f.client(t).Viewer(context.Background())
		e := asError(t, err, "viewer", CodeUnavailable)
		if e.Message != "failed to retrieve access token: HTTP 502: Bad gateway" {
			t.Errorf("message = %q", e.Message)
		}
		if n := f.srv.Requests("OIDCToken"); n != 4 {
			t.Errorf("%d exchanges, want 4 (3 retries)", n)
		}
	})
	t.Run("answer without a token", func(t *testing.T) {
		f := newFederation(t, 0)
		f.tokenFile(t, "ci", false)
		f.srv.FailNext("OIDCToken", wandbtest.Fault{Status: 200, Body: `{"expires_in": 60}`})
		_, err := f.client(t).Viewer(context.Background())
		asError(t, err, "viewer", CodeBadResponse)
	})
	t.Run("token file removed", func(t *testing.T) {
		f := newFederation(t, 0)
		path := f.tokenFile(t, "ci", false)
		c := f.client(t)
		os.Remove(path)
		_, err := c.Viewer(context.Background())
		e := asError(t, err, "viewer", CodeUnauthorized)
		if !strings.Contains(e.Message, "identity token file "+path+": cannot read it: no such file or directory") {
			t.Errorf("message = %q", e.Message)
		}
	})
	t.Run("endpoint down", func(t *testing.T) {
		f := newFederation(t, 0)
		f.tokenFile(t, "ci", false)
		f.srv.Close()
		_, err := f.client(t).Viewer(context.Background())
		e := asError(t, err, "viewer", CodeTransport)
		if !strings.HasPrefix(e.Message, "failed to retrieve access token: ") {
			t.Errorf("message = %q", e.Message)
		}
	})
}

// TestIdentityTokenRedacted: an endpoint that echoes the identity token,
// and a server that echoes the access token, never get a secret into an
// error or a log line.
func TestIdentityTokenRedacted(t *testing.T) {
	t.Parallel()
	const access = "access-token-0123456789abcdef"
	mux := http.NewServeMux()
	var accepted atomic.Bool
	mux.HandleFunc("/oidc/token", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !accepted.Load() {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, "bad assertion in %s", body)
			return
		}
		fmt.Fprintf(w, `{"access_token": %q, "expires_in": 3600}`, access)
	})
	mux.HandleFunc("/graphql", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `{"errors":[{"message":"token %s is not allowed"}]}`, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dir := t.TempDir()
	jwt := "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJlLXNlY3JldA"
	var logs logBuffer
	cfg := Config{BaseURL: srv.URL, identityTokenFile: writeFile(t, filepath.Join(dir, "jwt"), jwt),
		credentialsFile: filepath.Join(dir, "creds.json"), Retry: fastRetry, tokenRetry: fastTokenRetry,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err1 := c.Viewer(context.Background())
	accepted.Store(true)
	_, err2 := c.Viewer(context.Background())
	for i, err := range []error{err1, err2} {
		if err == nil {
			t.Fatalf("call %d: no error", i+1)
		}
		text := fmt.Sprintf("%v %+v %#v", err, err, err) + logs.String() + cfg.String() + c.String()
		if strings.Contains(text, jwt) || strings.Contains(text, access) {
			t.Errorf("call %d: a secret is shown", i+1)
		}
		if !strings.Contains(err.Error(), "[redacted]") {
			t.Errorf("call %d: the echoed secret was not replaced: %v", i+1, err)
		}
	}
	if !strings.Contains(err1.Error(), "failed to retrieve access token: HTTP 401: bad assertion in grant_type=") {
		t.Errorf("err1 = %v", err1)
	}
}

func TestIdentityTokenConfig(t *testing.T) {
	t.Parallel()
	f := newFederation(t, 0)
	path := f.tokenFile(t, "ci", false)
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"both", Config{APIKey: NewSecret(envKey), identityTokenFile: path}, "both an api key and WANDB_IDENTITY_TOKEN_FILE are set, which is not allowed"},
		{"missing file", Config{identityTokenFile: filepath.Join(f.dir, "none")}, "identity token file " + filepath.Join(f.dir, "none") + ": cannot read it"},
		{"empty file", Config{identityTokenFile: writeFile(t, filepath.Join(f.dir, "empty"), " \n")}, "is empty; write the identity token (a JWT) to it"},
		{"basic scim", Config{identityTokenFile: path, scimAuth: scimBasic}, `WANDB_SCIM_AUTH "basic" needs an api key`},
		{"neither", Config{}, "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewClient(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewClient error = %v, want %q", err, tc.want)
			}
		})
	}
	c := f.client(t)
	if s := fmt.Sprintf("%v %#v", c.cfg, c.cfg); !strings.Contains(s, `IdentityTokenFile: "`+path+`"`) {
		t.Errorf("Config.String = %s", s)
	}
	// WithAPIKey and WithServer authenticate with the key alone.
	k, err := c.WithAPIKey(f.srv.AdminKey())
	if err != nil {
		t.Fatal(err)
	}
	if viewerEmail(t, k); f.srv.Requests("OIDCToken") != 0 {
		t.Error("WithAPIKey exchanged the identity token")
	}
	if req, _ := f.srv.LastRequest("GetViewer"); req.Header.Get("Authorization") != "Basic [redacted]" {
		t.Errorf("WithAPIKey sent %q", req.Header.Get("Authorization"))
	}
	s, err := c.WithServer(f.srv.URL, f.srv.AdminKey())
	if err != nil || s.tokens != nil || s.cfg.scimAuth != scimBasic {
		t.Errorf("WithServer: %v, tokens %v, scim auth %q", err, s.tokens != nil, s.cfg.scimAuth)
	}
}

// TestIdentityTokenCacheFile: a cache file that cannot be parsed is
// replaced; one that parses keeps the other servers' entries; an entry
// about to expire is not used.
func TestIdentityTokenCacheFile(t *testing.T) {
	t.Parallel()
	f := newFederation(t, 0)
	f.tokenFile(t, "ci", false)

	var logs logBuffer
	writeFile(t, f.cacheFileMkdir(t), "not json")
	viewerEmail(t, f.client(t, func(cfg *Config) { cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil)) }))
	if !strings.Contains(logs.String(), "wandb credentials file unusable") {
		t.Errorf("no warning about the unusable file: %s", logs.String())
	}
	var file struct{ Credentials map[string]json.RawMessage }
	if data, _ := os.ReadFile(f.cacheFile()); json.Unmarshal(data, &file) != nil || len(file.Credentials) != 1 {
		t.Errorf("the file was not replaced by one with one entry")
	}

	other := `{"access_token": "other-token", "expires_at": "2999-01-01 00:00:00", "note": "kept"}`
	soon := time.Now().UTC().Add(time.Minute).Format("2006-01-02 15:04:05")
	writeFile(t, f.cacheFile(), `{"version": 2, "credentials": {"https://other.example.com": `+other+
		`, "`+f.srv.URL+`": {"access_token": "stale", "expires_at": "`+soon+`"}}}`)
	viewerEmail(t, f.client(t))
	if n := f.srv.Requests("OIDCToken"); n != 2 {
		t.Errorf("%d exchanges, want 2: a token about to expire is not used", n)
	}
	data, _ := os.ReadFile(f.cacheFile())
	if err := json.Unmarshal(data, &file); err != nil || len(file.Credentials) != 2 ||
		!strings.Contains(string(data), `"note": "kept"`) || !strings.Contains(string(data), `"version": 2`) {
		t.Errorf("the other entries were not kept:\n%s", wandbtest.MaskSecrets(string(data)))
	}
	tok, _, ok := readTokenCacheAt(t, f.cacheFile()).get(f.srv.URL)
	if !ok || tok == "stale" {
		t.Error("the entry was not replaced")
	}
}

func (f *federation) cacheFileMkdir(t *testing.T) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(f.cacheFile()), 0o700); err != nil {
		t.Fatal(err)
	}
	return f.cacheFile()
}

func readTokenCacheAt(t *testing.T, path string) tokenCache {
	t.Helper()
	c, problem := readTokenCache(path)
	if problem != "" {
		t.Fatalf("readTokenCache: %s", problem)
	}
	return c
}

func TestTokenCacheEdges(t *testing.T) {
	dir := t.TempDir()
	for text, want := range map[string]string{
		`[]`:                    "not a JSON object",
		`{"credentials": []}`:   `"credentials" is not a JSON object`,
		`{"credentials": null}`: "",
	} {
		if _, got := readTokenCache(writeFile(t, filepath.Join(dir, "c.json"), text)); got != want {
			t.Errorf("readTokenCache(%s) problem %q, want %q", text, got, want)
		}
	}
	if _, problem := readTokenCache(dir); problem != "cannot read file" {
		t.Errorf("a directory: %q", problem)
	}
	c, _ := readTokenCache(writeFile(t, filepath.Join(dir, "c.json"),
		`{"credentials": {"a": {"access_token": "t", "expires_at": "soon"}, "b": 7, "c": {"expires_at": "2999-01-01 00:00:00"}}}`))
	for _, base := range []string{"a", "b", "c", "d"} {
		if _, _, ok := c.get(base); ok {
			t.Errorf("entry %s is usable", base)
		}
	}
	if err := c.write(filepath.Join(writeFile(t, filepath.Join(dir, "file"), ""), "x.json")); err == nil {
		t.Error("writing under a file succeeded")
	}
	if defaultCredentialsFile() == "" {
		t.Error("no default credentials file")
	}
	t.Setenv("HOME", "")
	if got := defaultCredentialsFile(); got != "" {
		t.Errorf("without a home: %q", got)
	}
}

// TestIdentityTokenWait: a caller whose context ends while another holds
// the exchange gets its context's error.
func TestIdentityTokenWait(t *testing.T) {
	t.Parallel()
	f := newFederation(t, 0)
	f.tokenFile(t, "ci", false)
	c := f.client(t)
	c.tokens.lock <- struct{}{} // another caller is exchanging
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.tokens.accessToken(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("accessToken = %v, want context.Canceled", err)
	}
	<-c.tokens.lock
}

// TestIdentityTokenRetryLimits: a Retry-After or a RateLimit-Reset beyond
// the policy ends the retries; a caller cancelling while the exchange
// waits to retry gets its context's error.
func TestIdentityTokenRetryLimits(t *testing.T) {
	t.Parallel()
	f := newFederation(t, 0)
	f.tokenFile(t, "ci", false)
	for i, fault := range []wandbtest.Fault{{Status: 429, Header: http.Header{"Retry-After": {"3600"}}}, wandbtest.RateLimited(time.Hour)} {
		f.srv.FailNext("OIDCToken", fault)
		_, err := f.client(t).Viewer(context.Background())
		asError(t, err, "viewer", CodeRateLimited)
		if n := f.srv.Requests("OIDCToken"); n != i+1 {
			t.Errorf("%d exchanges, want %d", n, i+1)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.srv.FailNext("OIDCToken", wandbtest.Fault{Status: 503})
	c := f.client(t, func(cfg *Config) {
		cfg.Logger = slog.New(hookHandler{msg: "wandb token exchange retry", fn: cancel})
	})
	_, err := c.Viewer(ctx)
	asError(t, err, "viewer", CodeCanceled)
}
