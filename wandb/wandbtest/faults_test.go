package wandbtest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

func TestFaultAnswers(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	srv.FailNext("GetViewer",
		wandbtest.Fault{Status: 503, Header: http.Header{"Retry-After": {"7"}}, Body: `{"error":"down for maintenance"}`},
		wandbtest.Fault{Status: 502, Body: "<html><body>Bad Gateway</body></html>"},
		wandbtest.Fault{Body: `{"data":{"viewer":null}}`},
		wandbtest.Fault{Status: 429, Header: http.Header{"Content-Type": {"text/plain"}}, Body: `{"x":1}`},
	)
	want := []struct {
		status int
		body   string
		ctype  string
	}{
		{503, `{"error":"down for maintenance"}`, "application/json"},
		{502, "<html><body>Bad Gateway</body></html>", "text/html; charset=utf-8"},
		{200, `{"data":{"viewer":null}}`, "application/json"},
		{429, `{"x":1}`, "text/plain"},
	}
	for i, w := range want {
		r := post(t, srv, call{key: srv.AdminKey(), query: gql.GetViewer_Operation})
		if r.Status != w.status || string(r.Body) != w.body || r.Header.Get("Content-Type") != w.ctype {
			t.Errorf("fault %d: got %d %q (%s), want %d %q (%s)", i, r.Status, r.Body, r.Header.Get("Content-Type"), w.status, w.body, w.ctype)
		}
		if i == 0 && r.Header.Get("Retry-After") != "7" {
			t.Errorf("fault 0: Retry-After %q, want 7", r.Header.Get("Retry-After"))
		}
	}
	viewer(t, srv, srv.AdminKey()) // the queue is empty again
	if got := srv.Requests("GetViewer"); got != 5 {
		t.Errorf("Requests(GetViewer) = %d, want 5 (faulted ones count)", got)
	}
}

// TestRateLimited: the documented 429 (limits.mdx, wandb/wandb#2696):
// the RateLimit headers with the reset in whole seconds, rounded up, and
// no Retry-After.
func TestRateLimited(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	srv.FailNext("GetViewer", wandbtest.RateLimited(1500*time.Millisecond), wandbtest.RateLimited(0))
	for _, reset := range []string{"2", "0"} {
		r := post(t, srv, call{key: srv.AdminKey(), query: gql.GetViewer_Operation})
		got := map[string]string{"status": fmt.Sprint(r.Status), "body": string(r.Body)}
		for _, h := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After", "Content-Type"} {
			got[h] = r.Header.Get(h)
		}
		want := map[string]string{"status": "429", "body": `{"error":"rate limit exceeded"}`, "RateLimit-Limit": "1000",
			"RateLimit-Remaining": "0", "RateLimit-Reset": reset, "Retry-After": "", "Content-Type": "application/json"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("RateLimited answer (-want +got):\n%s", diff)
		}
	}
}

func TestFaultQueues(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	srv.FailNext("", wandbtest.Fault{Status: 500, Body: "any-1"}, wandbtest.Fault{Status: 500, Body: "any-2"})
	srv.FailNext("GetViewer", wandbtest.Fault{Status: 500, Body: "viewer-1"})
	srv.FailNext("GetViewer", wandbtest.Fault{Status: 500, Body: "viewer-2"})
	if got := srv.PendingFaults("GetViewer"); got != 2 {
		t.Errorf("PendingFaults(GetViewer) = %d, want 2", got)
	}
	var got []string
	for _, q := range []string{gql.GetViewer_Operation, gql.SearchUsers_Operation, gql.GetViewer_Operation, gql.GetViewer_Operation, "{ viewer { id } }"} {
		got = append(got, string(post(t, srv, call{key: srv.AdminKey(), query: q}).Body))
	}
	if diff := cmp.Diff([]string{"viewer-1", "any-1", "viewer-2", "any-2"}, got[:4]); diff != "" {
		t.Errorf("fault order (-want +got):\n%s", diff)
	}
	if !strings.Contains(got[4], `"viewer"`) {
		t.Errorf("anonymous query after the queues emptied: %s, want a real answer", got[4])
	}
	if n := srv.PendingFaults("") + srv.PendingFaults("GetViewer"); n != 0 {
		t.Errorf("%d faults left, want 0", n)
	}
}

func TestFaultAppliesBeforeAuthentication(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	srv.FailNext("GetViewer", wandbtest.Fault{Status: 500, Body: "boom"})
	if r := post(t, srv, call{query: gql.GetViewer_Operation}); r.Status != 500 {
		t.Errorf("faulted request without credentials: status %d, want 500", r.Status)
	}
	if r := post(t, srv, call{query: gql.GetViewer_Operation}); r.Status != http.StatusUnauthorized {
		t.Errorf("next request without credentials: status %d, want 401", r.Status)
	}
}

func TestFaultDrop(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	srv.FailNext("CreateUserFromAdmin", wandbtest.Fault{Drop: true})
	_, err := postErr(context.Background(), srv, call{key: srv.AdminKey(), query: gql.CreateUserFromAdmin_Operation,
		vars: map[string]any{"email": "alice@example.com", "admin": false}})
	if err == nil {
		t.Fatal("dropped request: no transport error")
	}
	if _, ok := srv.UserByEmail("alice@example.com"); ok {
		t.Error("a dropped createUser (without AfterApply) created the user")
	}
	if got := srv.Requests("CreateUserFromAdmin"); got != 1 {
		t.Errorf("Requests = %d, want 1", got)
	}
	createUser(t, srv, srv.AdminKey(), "alice@example.com", false).wantOK(t)
}

func TestFaultAfterApply(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	srv.FailNext("CreateUserFromAdmin", wandbtest.Fault{AfterApply: true, Status: 504, Body: "gateway timeout"})
	r := createUser(t, srv, srv.AdminKey(), "alice@example.com", false)
	if r.Status != 504 || string(r.Body) != "gateway timeout" {
		t.Errorf("got %d %q, want 504 gateway timeout", r.Status, r.Body)
	}
	if _, ok := srv.UserByEmail("alice@example.com"); !ok {
		t.Error("AfterApply: the user was not created")
	}

	// The case a client must never retry: the mutation took effect and the
	// connection dropped.
	srv.FailNext("GenerateApiKey", wandbtest.Fault{AfterApply: true, Drop: true})
	_, err := postErr(context.Background(), srv, call{key: srv.AdminKey(), query: gql.GenerateApiKey_Operation,
		vars: map[string]any{"description": "lost"}})
	if err == nil {
		t.Fatal("dropped request: no transport error")
	}
	admin, _ := srv.UserByEmail(wandbtest.AdminEmail)
	if len(admin.Keys) != 2 || admin.Keys[1].Description != "lost" {
		t.Errorf("admin keys %+v, want the minted key \"lost\" second", admin.Keys)
	}
}

// TestFaultDelay runs the handler in-process inside a synctest bubble, so
// that a delay is measured on the bubble's clock: exactly, however busy
// the machine.
func TestFaultDelay(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(t)
		srv := inProcess(h)
		const d = 30 * time.Millisecond
		h.FailNext("GetViewer", wandbtest.Fault{Delay: d})
		start := time.Now()
		postTo(t, srv, call{key: h.AdminKey(), query: gql.GetViewer_Operation}).wantOK(t) // a delay-only fault answers normally
		if el := time.Since(start); el != d {
			t.Errorf("delayed request took %v, want %v", el, d)
		}

		h.FailNext("GetViewer", wandbtest.Fault{Delay: d, Status: 500})
		start = time.Now()
		if r := postTo(t, srv, call{key: h.AdminKey(), query: gql.GetViewer_Operation}); r.Status != 500 {
			t.Errorf("status %d, want 500", r.Status)
		}
		if el := time.Since(start); el != d {
			t.Errorf("delayed fault took %v, want %v", el, d)
		}
	})
}

func TestFaultDelayEndsWithRequestContext(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	srv.FailNext("CreateUserFromAdmin", wandbtest.Fault{Delay: time.Hour, AfterApply: true, Status: 500})
	ctx, cancel := context.WithCancel(context.Background())
	done := createAlice(ctx, srv)
	waitFor(t, "the request to be in flight", func() bool { return srv.InFlight() == 1 })
	cancel()
	if err := <-done; err == nil {
		t.Error("canceled request: no error")
	}
	waitFor(t, "the handler to return", func() bool { return srv.InFlight() == 0 })
	if _, ok := srv.UserByEmail("alice@example.com"); ok {
		t.Error("a request canceled during its fault delay ran the operation")
	}
	viewer(t, srv, srv.AdminKey())
}

func TestRequestRecording(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	if _, ok := srv.LastRequest(""); ok {
		t.Error("LastRequest(\"\") before any request: ok")
	}
	aliceKey := addUser(t, srv, "alice@example.com", false)
	viewer(t, srv, srv.AdminKey())
	viewer(t, srv, aliceKey)
	post(t, srv, call{key: srv.AdminKey(), query: gql.SearchUsers_Operation, vars: map[string]any{"query": "ali"},
		header: map[string]string{"Use-Admin-Privileges": "true", "X-Wandb-Username": ""}}).wantOK(t)
	post(t, srv, call{query: gql.GetViewer_Operation}) // 401

	for op, want := range map[string]int{"": 4, "GetViewer": 3, "SearchUsers": 1, "CreateUserFromAdmin": 0} {
		if got := srv.Requests(op); got != want {
			t.Errorf("Requests(%q) = %d, want %d", op, got, want)
		}
	}

	r, ok := srv.LastRequest("SearchUsers")
	if !ok {
		t.Fatal("LastRequest(SearchUsers): none")
	}
	if r.Op != "SearchUsers" || r.Query != gql.SearchUsers_Operation || r.Method != http.MethodPost || r.Path != "/graphql" {
		t.Errorf("recorded %q %s %s, query equal %v", r.Op, r.Method, r.Path, r.Query == gql.SearchUsers_Operation)
	}
	if diff := cmp.Diff(map[string]any{"query": "ali"}, r.Variables); diff != "" {
		t.Errorf("variables (-want +got):\n%s", diff)
	}
	if r.Header.Get("Use-Admin-Privileges") != "true" || r.Header.Get("User-Agent") != publicUA {
		t.Errorf("headers Use-Admin-Privileges %q User-Agent %q", r.Header.Get("Use-Admin-Privileges"), r.Header.Get("User-Agent"))
	}
	if vs, ok := r.Header["X-Wandb-Username"]; !ok || len(vs) != 1 || vs[0] != "" {
		t.Errorf("empty header X-Wandb-Username not recorded: %v", vs)
	}
	if got := r.Header.Get("Authorization"); got != "Basic [redacted]" {
		t.Errorf("recorded Authorization %q, want \"Basic [redacted]\"", got)
	}
	if r.Caller != wandbtest.AdminEmail {
		t.Errorf("Caller %q, want the admin", r.Caller)
	}

	last, _ := srv.LastRequest("")
	if last.Op != "GetViewer" || last.Caller != "" || last.Header.Get("Authorization") != "" {
		t.Errorf("last request: op %q caller %q auth %q, want the anonymous GetViewer", last.Op, last.Caller, last.Header.Get("Authorization"))
	}
	if _, ok := srv.LastRequest("DeleteApiKey"); ok {
		t.Error("LastRequest(DeleteApiKey): ok without such a request")
	}
}

func TestOperationName(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	doc := "# leading comment\nquery First { viewer { id } }\nquery Second { viewer { name } }"
	post(t, srv, call{key: srv.AdminKey(), query: doc, opName: "Second"}).wantOK(t)
	post(t, srv, call{key: srv.AdminKey(), query: "  # c\n  query\n  Spaced { viewer { id } }"}).wantOK(t)
	post(t, srv, call{key: srv.AdminKey(), query: "{ viewer { id } }"}).wantOK(t)
	for op, want := range map[string]int{"Second": 1, "First": 0, "Spaced": 1, "": 3} {
		if got := srv.Requests(op); got != want {
			t.Errorf("Requests(%q) = %d, want %d", op, got, want)
		}
	}
	if r, _ := srv.LastRequest(""); r.Op != "" {
		t.Errorf("anonymous query recorded as %q", r.Op)
	}
}

// TestLatency measures the latency on a synctest bubble's clock (see
// TestFaultDelay): exactly.
func TestLatency(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const d = 40 * time.Millisecond
		h := newHandler(t, wandbtest.WithLatency(d))
		srv := inProcess(h)
		for range 2 {
			start := time.Now()
			postTo(t, srv, call{key: h.AdminKey(), query: gql.GetViewer_Operation}).wantOK(t)
			if el := time.Since(start); el != d {
				t.Errorf("request took %v, want the latency %v", el, d)
			}
		}
		h.SetLatency(2 * d)
		start := time.Now()
		postTo(t, srv, call{key: h.AdminKey(), query: gql.GetViewer_Operation}).wantOK(t)
		if el := time.Since(start); el != 2*d {
			t.Errorf("request took %v, want the new latency %v", el, 2*d)
		}
	})
}

func TestInFlight(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithLatency(time.Hour))
	const n = 6
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, _ = postErr(ctx, srv, call{key: srv.AdminKey(), query: gql.GetViewer_Operation})
		})
	}
	waitFor(t, "all requests in flight", func() bool { return srv.InFlight() == n })
	if got := srv.MaxInFlight(); got != n {
		t.Errorf("MaxInFlight = %d, want %d", got, n)
	}
	cancel()
	wg.Wait()
	waitFor(t, "all handlers to return", func() bool { return srv.InFlight() == 0 })
	if got := srv.MaxInFlight(); got != n {
		t.Errorf("MaxInFlight after = %d, want %d", got, n)
	}
	srv.ResetMaxInFlight()
	if got := srv.MaxInFlight(); got != 0 {
		t.Errorf("MaxInFlight after reset = %d, want 0", got)
	}
	srv.SetLatency(0)
	viewer(t, srv, srv.AdminKey())
	if got := srv.MaxInFlight(); got != 1 {
		t.Errorf("MaxInFlight after one request = %d, want 1", got)
	}
	// Requests canceled while they waited out the latency count too.
	if got := srv.Requests("GetViewer"); got != n+1 {
		t.Errorf("Requests(GetViewer) = %d, want %d", got, n+1)
	}
}

func TestCloseEndsWaitingRequests(t *testing.T) {
	t.Parallel()
	srv := wandbtest.NewServer(wandbtest.WithLatency(time.Hour))
	done := make(chan error, 1)
	go func() {
		_, err := postErr(context.Background(), srv, call{key: srv.AdminKey(), query: gql.GetViewer_Operation})
		done <- err
	}()
	waitFor(t, "the request to be in flight", func() bool { return srv.InFlight() == 1 })
	srv.Close() // must not wait out the hour
	if err := <-done; err == nil {
		t.Error("request to a closed server: no error")
	}
	if got := srv.InFlight(); got != 0 {
		t.Errorf("InFlight after Close = %d, want 0", got)
	}
}

func TestFaultStallHoldsUntilTheClientGivesUp(t *testing.T) {
	t.Parallel()
	for _, afterApply := range []bool{false, true} {
		t.Run(fmt.Sprintf("AfterApply=%v", afterApply), func(t *testing.T) {
			srv := wandbtest.Start(t)
			srv.FailNext("CreateUserFromAdmin", wandbtest.Fault{Stall: true, AfterApply: afterApply})
			ctx, cancel := context.WithCancel(context.Background())
			done := createAlice(ctx, srv)
			waitFor(t, "the request to stall", func() bool { return srv.Stalled() == 1 })
			if _, ok := srv.UserByEmail("alice@example.com"); ok != afterApply {
				t.Errorf("while stalled: user created = %v, want %v", ok, afterApply)
			}
			cancel()
			if err := <-done; err == nil {
				t.Error("stalled request: no error")
			}
			waitFor(t, "the handler to return", func() bool { return srv.Stalled() == 0 && srv.InFlight() == 0 })
			if _, ok := srv.UserByEmail("alice@example.com"); ok != afterApply {
				t.Errorf("after: user created = %v, want %v", ok, afterApply)
			}
		})
	}
}

// createAlice sends the creation of alice@example.com with ctx, in the
// background, and returns where its error will be.
func createAlice(ctx context.Context, srv *wandbtest.Server) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := postErr(ctx, srv, call{key: srv.AdminKey(), query: gql.CreateUserFromAdmin_Operation,
			vars: map[string]any{"email": "alice@example.com", "admin": false}})
		done <- err
	}()
	return done
}
