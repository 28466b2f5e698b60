package wandb

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// Definite outcomes for changes cancelled in flight: the caller's context
// ends (Ctrl-C, --timeout, wandb.parallel stopping on another item) after
// the request reached the server. The server is still asked, briefly,
// and the call reports what happened: done, not done, or, when even that
// cannot be found out, CodeUnknownOutcome. Never a plain "canceled" for a
// change the server may have applied.

// cancelInFlight runs call with a context it cancels once a Stall fault
// holds a request of op on the server (after applying it, for AfterApply),
// after running meanwhile, if given.
func cancelInFlight(t *testing.T, srv *wandbtest.Server, op string, call func(ctx context.Context) error, meanwhile ...func()) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- call(ctx) }()
	waitFor(t, "a request of "+op+" to stall on the server", func() bool {
		select {
		case err := <-done:
			t.Fatalf("the call ended before it was cancelled: %v", err)
		default:
		}
		return srv.Requests(op) > 0 && srv.Stalled() > 0
	})
	for _, f := range meanwhile {
		f()
	}
	cancel()
	return <-done
}

func TestCancelledInFlightOutcomes(t *testing.T) {
	t.Parallel()
	t.Run("applied", func(t *testing.T) {
		srv := wandbtest.Start(t)
		c := testClient(t, srv)
		srv.FailNext("CreateUserFromAdmin", wandbtest.Fault{AfterApply: true, Stall: true})
		var u *User
		err := cancelInFlight(t, srv, "CreateUserFromAdmin", func(ctx context.Context) (err error) {
			u, err = c.CreateUser(ctx, "kept@example.com", false)
			return err
		})
		// Found: this call's creation or another's; the outcome is unknown,
		// and the user is returned with it.
		asError(t, err, "create_user", CodeUnknownOutcome)
		if u == nil || deref(u.Email) != "kept@example.com" {
			t.Fatalf("CreateUser = %v, %v; want the user found", u, err)
		}
		if n := srv.Requests("CreateUserFromAdmin"); n != 1 {
			t.Errorf("%d creations sent, want 1", n)
		}
	})
	t.Run("not applied", func(t *testing.T) {
		srv := wandbtest.Start(t)
		c := testClient(t, srv)
		srv.FailNext("CreateUserFromAdmin", wandbtest.Fault{Stall: true})
		err := cancelInFlight(t, srv, "CreateUserFromAdmin", func(ctx context.Context) error {
			_, err := c.CreateUser(ctx, "gone@example.com", false)
			return err
		})
		e := asError(t, err, "create_user", CodeCanceled)
		if !strings.HasSuffix(e.Message, "(checked: the change was not applied)") {
			t.Errorf("message = %q", e.Message)
		}
		if _, ok := srv.UserByEmail("gone@example.com"); ok || srv.Requests("CreateUserFromAdmin") != 1 {
			t.Error("the creation was applied or sent again after the cancellation")
		}
	})
	t.Run("unknown", func(t *testing.T) {
		srv := wandbtest.Start(t)
		c := testClient(t, srv)
		srv.FailNext("CreateUserFromAdmin", wandbtest.Fault{AfterApply: true, Stall: true})
		srv.FailNext("SearchUsers", wandbtest.Fault{Status: 400, Body: `{"errors":[{"message":"no"}]}`})
		err := cancelInFlight(t, srv, "CreateUserFromAdmin", func(ctx context.Context) error {
			_, err := c.CreateUser(ctx, "maybe@example.com", false)
			return err
		})
		asError(t, err, "create_user", CodeUnknownOutcome)
		if !errors.Is(err, context.Canceled) {
			t.Error("the unknown outcome does not wrap the cancellation")
		}
	})
	t.Run("a key minted without its secret", func(t *testing.T) {
		srv := wandbtest.Start(t)
		c := testClient(t, srv)
		me := mustViewer(t, c)
		before := len(serverKeyNames(t, srv, wandbtest.AdminEmail))
		srv.FailNext("GenerateApiKey", wandbtest.Fault{AfterApply: true, Stall: true})
		err := cancelInFlight(t, srv, "GenerateApiKey", func(ctx context.Context) error {
			_, err := me.GenerateAPIKey(ctx, "ci")
			return err
		})
		e := asError(t, err, "generate_api_key", CodeUnknownOutcome)
		if len(e.Candidates) != 1 || !errors.Is(err, context.Canceled) {
			t.Errorf("candidates %v, error %v", e.Candidates, e)
		}
		if after := len(serverKeyNames(t, srv, wandbtest.AdminEmail)); after != before+1 {
			t.Errorf("server keys %d -> %d, want the key left, named", before, after)
		}
	})
}

// checkThenApply is a transport that, once the request whose body names
// op has been answered n times, runs late: as a slow server that applies
// a change after the client checked it was not there.
type checkThenApply struct {
	rt   http.RoundTripper
	op   string
	n    int
	seen atomic.Int32
	late func()
}

func (c *checkThenApply) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := c.rt.RoundTrip(r)
	if bytes.Contains(body, []byte("query "+c.op)) && int(c.seen.Add(1)) == c.n {
		c.late()
	}
	return resp, err
}

// TestLateApplyAfterCheck: a deletion whose answer was lost is checked,
// found not applied, and sent again; meanwhile the server applied the
// first send after all. The second send's "not found" is checked again,
// not taken as the verdict: the key is gone, the call succeeded.
func TestLateApplyAfterCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := wandbtest.Start(t)
	if _, err := srv.AddAPIKey(wandbtest.AdminEmail, "bob"); err != nil {
		t.Fatal(err)
	}
	tr := &checkThenApply{rt: http.DefaultTransport, op: "GetViewer", n: 2, late: func() {
		// The check (the second GetViewer, after the viewer's) saw the
		// key; now the first send takes effect.
		if n, err := srv.RevokeAPIKeys(wandbtest.AdminEmail, "bob"); n != 1 || err != nil {
			t.Errorf("revoke: %d, %v", n, err)
		}
	}}
	c := testClient(t, srv, func(cfg *Config) { cfg.HTTPClient = &http.Client{Transport: tr} })
	me := mustViewer(t, c)
	var name string
	for _, k := range me.APIKeys() {
		if deref(k.Description) == "bob" {
			name = k.Name
		}
	}
	srv.FailNext("DeleteApiKey", wandbtest.Fault{Drop: true}) // lost, not applied (yet)
	if err := me.DeleteAPIKey(ctx, name); err != nil {
		t.Fatalf("DeleteAPIKey: %v", err)
	}
	if n := srv.Requests("DeleteApiKey"); n != 2 {
		t.Errorf("%d deletions sent, want 2", n)
	}
}
