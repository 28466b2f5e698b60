package wandb

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// standingSeed is a seed of users in every standing, with a service
// account, which SCIM never lists.
var standingSeed = wandbtest.Seed{
	Users: []wandbtest.SeedUser{
		{Email: "old@example.com", Username: "old", CreatedAt: "2023-05-01T08:00:00Z", LastActiveAt: "2024-02-03T04:05:06Z", DaysActive: 40},
		{Email: "gone@example.com", Username: "gone", Active: ptr(false), CreatedAt: "2022-01-01T00:00:00Z", LastActiveAt: "2022-06-01T00:00:00Z"},
		{Email: "never@example.com", Username: "never", CreatedAt: "2025-01-01T00:00:00Z"},
	},
	Teams: []wandbtest.SeedTeam{{Name: "ml", ServiceAccounts: []wandbtest.SeedServiceAccount{{Description: "ci bot"}}}},
}

func ptr[T any](v T) *T { return &v }

// standing is a user's OrgStatus in short, for comparisons: "-" for nil.
func standing(u *User) string {
	st := u.OrgStatus
	if st == nil {
		return "-"
	}
	f := func(t *time.Time) string {
		if t == nil {
			return "nil"
		}
		return t.UTC().Format(time.RFC3339)
	}
	days := "nil"
	if st.DaysActive != nil {
		days = fmt.Sprint(*st.DaysActive)
	}
	return fmt.Sprintf("active=%v created=%s last=%s days=%s role=%q", st.Active, f(st.Created), f(st.LastActiveAt), days, st.Role)
}

func TestUsersWithStatus(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeed(standingSeed))
	c := testClient(t, srv)
	ctx := context.Background()
	users, err := c.UsersWithStatus(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, u := range users {
		got[deref(u.Username)] = standing(u)
	}
	admin := got["admin"]
	delete(got, "admin")
	want := map[string]string{
		"old":        `active=true created=2023-05-01T08:00:00Z last=2024-02-03T04:05:06Z days=40 role=""`,
		"gone":       `active=false created=2022-01-01T00:00:00Z last=2022-06-01T00:00:00Z days=1 role=""`,
		"never":      `active=true created=2025-01-01T00:00:00Z last=nil days=0 role=""`,
		"ml-service": "-", // a service account: SCIM does not list it
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("standing (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(admin, "active=true") || strings.Contains(admin, "last=nil") {
		t.Errorf("admin, who is asking: %s", admin)
	}
	// One search and one SCIM list, whatever the number of users.
	if s, l, g := srv.Requests("SearchUsers"), srv.Requests("SCIMListUsers"), srv.Requests("SCIMGetUser"); s != 1 || l != 1 || g != 0 {
		t.Errorf("requests: %d searches, %d SCIM lists, %d SCIM gets; want 1, 1, 0", s, l, g)
	}
	// The SCIM id learnt from the list serves the lifecycle calls (gone,
	// inactive, needs no check that another admin remains, which would
	// look the caller up).
	for _, u := range users {
		if deref(u.Username) != "gone" {
			continue
		}
		if err := u.Deactivate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if l, g := srv.Requests("SCIMListUsers"), srv.Requests("SCIMGetUser"); l != 1 || g != 1 {
		t.Errorf("deactivating a listed user: %d lists and %d gets, want 1 and 1 (no lookup)", l, g)
	}
	// A query lists only its users; Users leaves the standing out.
	users, err = c.UsersWithStatus(ctx, "never")
	if err != nil || len(users) != 1 || users[0].OrgStatus == nil || !users[0].OrgStatus.Active {
		t.Errorf(`UsersWithStatus("never"): %v, %v (%s)`, users, err, standing(users[0]))
	}
	plain, err := c.Users(ctx, "never")
	if err != nil || plain[0].OrgStatus != nil {
		t.Errorf("Users: %v, status %s", err, standing(plain[0]))
	}
}

// TestUsersWithStatusPastFirstPage: past 9,999 users, the standing comes
// from the next pages; a server that does not page leaves the users past
// its first answer unknown, never inactive, and says so.
func TestUsersWithStatusPastFirstPage(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("lists 10,000 users")
	}
	seed := wandbtest.ManyUsers(10_000)
	seed.Users = append(seed.Users, standingSeed.Users...) // the last three: past the first page
	ctx := context.Background()
	for _, ignored := range []bool{false, true} {
		opts := []wandbtest.Option{wandbtest.WithSeed(seed)}
		if ignored {
			opts = append(opts, wandbtest.WithSCIMPagingIgnored())
		}
		srv := wandbtest.Start(t, opts...)
		users, err := testClient(t, srv).UsersWithStatus(ctx, "")
		if len(users) != 10_004 {
			t.Fatalf("paging ignored %v: %d users (%v), want all 10,004", ignored, len(users), err)
		}
		known := 0
		for _, u := range users {
			if u.OrgStatus != nil {
				known++
			}
		}
		last := map[string]string{}
		for _, u := range users[len(users)-3:] {
			last[deref(u.Username)] = standing(u)
		}
		if !ignored {
			if err != nil || known != 10_004 || srv.Requests("SCIMListUsers") != 2 || last["gone"] == "-" || strings.HasPrefix(last["gone"], "active=true") {
				t.Errorf("paged: %v, %d known, %d lists, %v", err, known, srv.Requests("SCIMListUsers"), last)
			}
			continue
		}
		e := asError(t, err, "users", CodeIncomplete)
		if !errors.Is(err, ErrIncomplete) || !strings.Contains(e.Message, "listed 9999 of its 10004 users") {
			t.Errorf("paging ignored: %v", err)
		}
		if known != 9999 || !cmp.Equal(last, map[string]string{"old": "-", "gone": "-", "never": "-"}) {
			t.Errorf("paging ignored: %d known (want 9,999), the last three %v (want unknown)", known, last)
		}
	}
}

// TestUsersWithStatusFailures: a failed search or SCIM list fails the
// call; a failure of SCIM's next page too.
func TestUsersWithStatusFailures(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeed(standingSeed))
	c := testClient(t, srv)
	ctx := context.Background()
	bad := wandbtest.Fault{Status: http.StatusBadRequest, Body: `{"errors":[{"message":"no"}]}`}
	srv.FailNext("SearchUsers", bad)
	if users, err := c.UsersWithStatus(ctx, ""); users != nil || !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("search refused: %v, %v", users, err)
	}
	// The first call's SCIM list, cancelled with it, may still reach the
	// server and take a fault queued now: queue one for it too.
	forbidden := wandbtest.Fault{Status: http.StatusForbidden}
	srv.FailNext("SCIMListUsers", forbidden, forbidden)
	users, err := c.UsersWithStatus(ctx, "")
	if e := asError(t, err, "users", CodeForbidden); users != nil || !strings.Contains(e.Message, "cannot list the users' standing through SCIM") {
		t.Errorf("SCIM refused: %v, %v", users, err)
	}
}

// fakeSCIM is a SCIM API that answers pages as page(startIndex) says,
// with bearer auth, and a GraphQL API that lists the users u0..u<n-1>.
func fakeSCIM(t *testing.T, n int, page func(start int) string) *Client {
	t.Helper()
	var nodes []string
	for i := range n {
		nodes = append(nodes, fmt.Sprintf(`{"node":{"id":%q,"name":"U","username":"u%d","email":"u%d@x.io"}}`,
			base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "User:%d", i)), i, i))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/graphql" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"data":{"users":{"edges":[%s]}}}`, strings.Join(nodes, ","))
			return
		}
		start := 1
		fmt.Sscan(r.URL.Query().Get("startIndex"), &start)
		w.Header().Set("Content-Type", "application/scim+json")
		fmt.Fprint(w, page(start))
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(Config{BaseURL: srv.URL, APIKey: NewSecret(strings.Repeat("k", 40)), scimAuth: scimBearer, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// scimUsersPage is a SCIM list of users u<from>..u<to-1> of total.
func scimUsersPage(from, to, total int, startIndex string) string {
	var rs []string
	for i := from; i < to; i++ {
		rs = append(rs, fmt.Sprintf(`{"id":"s%d","userName":"u%d","emails":{"Value":"u%d@x.io"},"active":true}`, i, i, i))
	}
	return fmt.Sprintf(`{"Resources":[%s],"totalResults":%d%s}`, strings.Join(rs, ","), total, startIndex)
}

// TestSCIMListNotPaging: the ways a server can fail to page, each read as
// such: a page that repeats what was listed (without saying its
// startIndex), an empty page, a page from elsewhere.
func TestSCIMListNotPaging(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		page func(start int) string
		msg  string
	}{
		"repeats": {func(int) string { return scimUsersPage(0, 2, 4, "") }, "listed again users listed before"},
		"empty": {func(start int) string {
			if start == 1 {
				return scimUsersPage(0, 2, 4, "")
			}
			return scimUsersPage(0, 0, 4, "")
		}, "it listed none from 3"},
		"elsewhere": {func(start int) string {
			if start == 1 {
				return scimUsersPage(0, 2, 4, `,"startIndex":1`)
			}
			return scimUsersPage(2, 4, 4, `,"startIndex":7`)
		}, "it answered the page from 7"},
	} {
		t.Run(name, func(t *testing.T) {
			users, err := fakeSCIM(t, 4, tc.page).UsersWithStatus(context.Background(), "")
			e := asError(t, err, "users", CodeIncomplete)
			if !strings.Contains(e.Message, tc.msg) || !strings.Contains(e.Message, "listed 2 of its 4 users") {
				t.Errorf("message %q, want %q", e.Message, tc.msg)
			}
			var got []string
			for _, u := range users {
				got = append(got, deref(u.Username)+" "+map[bool]string{true: "known", false: "unknown"}[u.OrgStatus != nil])
			}
			if diff := cmp.Diff([]string{"u0 known", "u1 known", "u2 unknown", "u3 unknown"}, got); diff != "" {
				t.Errorf("users (-want +got):\n%s", diff)
			}
		})
	}
	// A server that pages as RFC 7644 has it, in pages of its own size.
	users, err := fakeSCIM(t, 5, func(start int) string {
		return scimUsersPage(start-1, min(start+1, 5), 5, fmt.Sprintf(`,"startIndex":%d`, start))
	}).UsersWithStatus(context.Background(), "")
	if err != nil || len(users) != 5 || users[4].OrgStatus == nil {
		t.Errorf("pages of two: %v, %v", users, err)
	}
}

func TestJoinStatus(t *testing.T) {
	t.Parallel()
	recs := []scimUser{
		{ID: "s1", UserName: "alice", Emails: scimEmails{"Alice@x.io"}},
		{ID: "s2", UserName: "bob", Emails: scimEmails{"bob@other.io"}}, // bob's GraphQL email differs
		{ID: "s3", UserName: "svc"},                                     // no email
		{ID: "s4", UserName: "dup1", Emails: scimEmails{"dup@x.io"}},
		{ID: "s5", UserName: "dup2", Emails: scimEmails{"dup@x.io"}},
	}
	mk := func(username, email string) *User {
		u := &User{Username: &username}
		if email != "" {
			u.Email = &email
		}
		return u
	}
	users := []*User{mk("alice", "alice@X.io"), mk("bob", "bob@x.io"), mk("svc", ""), mk("dup1", "dup@x.io"), mk("nobody", "n@x.io")}
	joinStatus(users, recs)
	var got []string
	for _, u := range users {
		got = append(got, fmt.Sprintf("%s status=%v scim=%q", deref(u.Username), u.OrgStatus != nil, u.scimID))
	}
	want := []string{
		`alice status=true scim="s1"`, // by email, case-insensitively
		`bob status=true scim=""`,     // by username: a status, but no id a lookup by email would not find
		`svc status=true scim="s3"`,   // no email: by username
		`dup1 status=true scim=""`,    // the email is shared: by username
		`nobody status=false scim=""`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("joined (-want +got):\n%s", diff)
	}
}

// TestSCIMListBadAnswer: a list that is not JSON, or not a list's shape,
// is a bad response, with an excerpt of what came.
func TestSCIMListBadAnswer(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`<html>proxy error</html>`, `{"Resources":[{"id":5}]}`, `{"Resources":[]} trailing`} {
		users, err := fakeSCIM(t, 1, func(int) string { return body }).UsersWithStatus(context.Background(), "")
		if e := asError(t, err, "users", CodeBadResponse); users != nil || !strings.Contains(e.Message, "the SCIM answer is not what was expected") {
			t.Errorf("%s: %v, %v", body, users, err)
		}
	}
}
