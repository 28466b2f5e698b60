package wandb

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// fastRetry keeps retry waits tiny so tests run quickly.
var fastRetry = RetryPolicy{MaxAttempts: 4, MinWait: time.Millisecond, MaxWait: 4 * time.Millisecond, MaxRetryAfter: time.Second}

// seeded returns a server holding alice, alicia and bob (alice with two
// keys), with any other options.
func seeded(t *testing.T, opts ...wandbtest.Option) *wandbtest.Server {
	t.Helper()
	return wandbtest.Start(t, append([]wandbtest.Option{wandbtest.WithSeed(wandbtest.Seed{Users: []wandbtest.SeedUser{
		{Email: "alice@example.com", Username: "alice", Name: "Alice", Keys: []wandbtest.SeedKey{{Description: "laptop"}, {Description: "ci"}}, Teams: []string{"ml"}},
		{Email: "alicia@example.org", Username: "alicia", Name: "Alicia"},
		{Email: "bob@example.com", Username: "bob", Name: "Bob"},
	}})}, opts...)...)
}

// teamServer returns a server holding alice (admin of team ml, which has
// bob as a plain member and a pending invite to carol) and bob, carol and
// dave, none of them instance admins, with any other options.
func teamServer(t *testing.T, opts ...wandbtest.Option) *wandbtest.Server {
	t.Helper()
	return wandbtest.Start(t, append(opts, wandbtest.WithSeed(wandbtest.Seed{
		Users: []wandbtest.SeedUser{
			{Email: "alice@example.com", Username: "alice", Name: "Alice", Teams: []string{"ml"}},
			{Email: "bob@example.com", Username: "bob", Name: "Bob", Teams: []string{"ml"}},
			{Email: "carol@example.com", Username: "carol", Name: "Carol"},
			{Email: "dave@example.com", Username: "dave", Name: "Dave"},
		},
		Teams: []wandbtest.SeedTeam{{Name: "ml", Admins: []string{"alice@example.com"}, Invites: []wandbtest.SeedInvite{{Email: "carol@example.com"}}}},
	}))...)
}

// mlAsAlice returns teamServer, a client for its admin, and team "ml" as
// alice, its team admin, loads it.
func mlAsAlice(t *testing.T, opts ...wandbtest.Option) (*wandbtest.Server, *Client, *Team) {
	t.Helper()
	srv := teamServer(t, opts...)
	admin := testClient(t, srv)
	return srv, admin, mustTeam(t, clientFor(t, srv, admin, "alice@example.com"), "ml")
}

// testClient returns a client for srv with the admin key, tiny retry waits
// and any changes mod makes to the config.
func testClient(t *testing.T, srv *wandbtest.Server, mods ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: srv.URL, APIKey: NewSecret(srv.AdminKey()), Retry: fastRetry}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// The fetches that open most tests, each failing the test when it fails:
// the lookup of a user (as Client.User), the viewer, and a team.

func mustUser(t *testing.T, c *Client, who string) *User {
	t.Helper()
	u, err := c.User(context.Background(), who)
	if err != nil {
		t.Fatalf("User(%q): %v", who, err)
	}
	return u
}

func mustViewer(t *testing.T, c *Client) *User {
	t.Helper()
	me, err := c.Viewer(context.Background())
	if err != nil {
		t.Fatalf("Viewer: %v", err)
	}
	return me
}

func mustTeam(t *testing.T, c *Client, name string) *Team {
	t.Helper()
	team, err := c.Team(context.Background(), name)
	if err != nil {
		t.Fatalf("Team(%q): %v", name, err)
	}
	return team
}

// clientFor returns a client authenticating as the user with email (a
// fresh key is minted for it).
func clientFor(t *testing.T, srv *wandbtest.Server, admin *Client, email string) *Client {
	t.Helper()
	secret, err := srv.AddAPIKey(email, "test")
	if err != nil {
		t.Fatalf("AddAPIKey: %v", err)
	}
	c, err := admin.WithAPIKey(secret)
	if err != nil {
		t.Fatalf("WithAPIKey: %v", err)
	}
	return c
}

// waitFor polls cond until it holds; it fails the test after a generous
// bound, which only catches a hang and asserts nothing about speed. It
// must run on the test's goroutine. (Tests on synctest's clock wait with
// synctest.Wait instead: see bubble_test.go.)
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// asError asserts err is an *Error with the given code and op.
func asError(t *testing.T, err error, op Op, code Code) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want code %s", code)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error is %T (%v), want *wandb.Error", err, err)
	}
	if e.Code != code || e.Op != op {
		t.Fatalf("error = %v (op %q, code %q), want op %q, code %q", e, e.Op, e.Code, op, code)
	}
	return e
}

// logBuffer is a concurrency-safe buffer for a slog handler.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// count returns the number of log lines containing s.
func (b *logBuffer) count(s string) int {
	n := 0
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// hookHandler calls fn for every record whose message is msg; it lets a
// test act at a precise point (e.g. cancel while the client waits to retry).
type hookHandler struct {
	msg string
	fn  func()
}

func (h hookHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h hookHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.fn()
	}
	return nil
}
func (h hookHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h hookHandler) WithGroup(string) slog.Handler      { return h }

// secretHeaders returns h as Config.ExtraHeaders.
func secretHeaders(h map[string]string) map[string]Secret {
	out := make(map[string]Secret, len(h))
	for name, value := range h {
		out[name] = NewSecret(value)
	}
	return out
}
