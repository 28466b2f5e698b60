package wandb

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// The user lifecycle over SCIM, against wandbtest's SCIM API (Dedicated
// Cloud and Self-Managed by default, Multi-tenant with WithMultiTenant).

func TestSCIMAuthenticationAndBase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("basic with the viewer's username, fetched once", func(t *testing.T) {
		srv := teamServer(t)
		c := testClient(t, srv)
		bob := mustUser(t, c, "bob")
		for range 3 {
			if _, err := bob.Status(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := srv.Requests("GetViewer"); n != 1 {
			t.Errorf("GetViewer sent %d times, want once", n)
		}
		req, _ := srv.LastRequest("SCIMGetUser")
		if req.Path != "/scim/Users/"+scimIDOf(t, srv, "bob@example.com") || req.Header.Get("Authorization") != "Basic [redacted]" ||
			req.Header.Get("Content-Type") != "" || req.Header.Get("Accept") != "application/scim+json" {
			t.Errorf("request = %s %s, headers %v", req.Method, req.Path, req.Header)
		}
		// The lookup used the documented filter, by email.
		req, _ = srv.LastRequest("SCIMListUsers")
		if req.Path != "/scim/Users" {
			t.Errorf("lookup path %s", req.Path)
		}
	})
	t.Run("an organisation service account's key, with an empty username", func(t *testing.T) {
		saKey := strings.Repeat("5b", 20)
		srv := wandbtest.Start(t, wandbtest.WithSeed(wandbtest.Seed{
			Users: []wandbtest.SeedUser{{Email: "bob@example.com", Username: "bob"}},
			Teams: []wandbtest.SeedTeam{{Name: "ops", ServiceAccounts: []wandbtest.SeedServiceAccount{{Description: "scim bot", Secret: saKey, Admin: true}}}},
		}))
		var log bytes.Buffer
		c := testClient(t, srv, func(cfg *Config) {
			cfg.APIKey = NewSecret(saKey)
			cfg.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelInfo}))
		})
		bob := mustUser(t, c, "bob")
		for range 2 {
			if _, err := bob.Status(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// The first request was refused with the username, sent again
		// without; the form is kept.
		if n := srv.Requests("SCIMListUsers") + srv.Requests("SCIMGetUser"); n != 3 {
			t.Errorf("%d SCIM requests, want 3", n)
		}
		if !strings.Contains(log.String(), "trying an organisation service account's") || strings.Contains(log.String(), saKey) {
			t.Errorf("log:\n%s", wandbtest.MaskSecrets(log.String()))
		}
		// Every flow reads before it changes (the user's SCIM record, the
		// team's group), so a change is never the request that finds the
		// form.
		if n := srv.Requests("SCIMPatchUser") + srv.Requests("SCIMPatchGroup"); n != 0 {
			t.Errorf("%d changes sent", n)
		}
	})
	t.Run("a key refused in both forms", func(t *testing.T) {
		srv := teamServer(t)
		c := testClient(t, srv)
		bob := mustUser(t, c, "bob")
		refused := wandbtest.Fault{Status: 401, Body: "no"}
		srv.FailNext("SCIMListUsers", refused, refused)
		_, err := bob.Status(ctx)
		asError(t, err, "status", CodeUnauthorized)
		if n := srv.Requests("SCIMListUsers"); n != 2 {
			t.Errorf("SCIMListUsers sent %d times, want 2", n)
		}
		// Back to the user's form, for good.
		srv.FailNext("SCIMListUsers", refused)
		_, err = bob.Status(ctx)
		asError(t, err, "status", CodeUnauthorized)
		if _, err := bob.Status(ctx); err != nil {
			t.Fatal(err)
		}
		if n := srv.Requests("SCIMListUsers"); n != 4 {
			t.Errorf("SCIMListUsers sent %d times, want 4", n)
		}
	})
	for _, bodies := range []bool{false, true} {
		t.Run(fmt.Sprintf("a 404 for an id is not found once SCIM answered, error bodies %v", bodies), func(t *testing.T) {
			var opts []wandbtest.Option
			if bodies {
				opts = append(opts, wandbtest.WithSCIMErrorBodies())
			}
			srv := teamServer(t, opts...)
			c := testClient(t, srv)
			bob := mustUser(t, c, "bob")
			if _, err := bob.Status(ctx); err != nil {
				t.Fatal(err)
			}
			// Gone under its id (by default the server's 404 has no SCIM
			// body): looked up afresh, and found gone.
			if err := mustUser(t, testClient(t, srv), "bob").Delete(ctx); err != nil {
				t.Fatal(err)
			}
			_, err := bob.Status(ctx)
			if e := asError(t, err, "status", CodeNotFound); !strings.Contains(e.Message, "SCIM lists no user") {
				t.Errorf("error = %v", e)
			}
		})
	}
	t.Run("bearer, at an overridden base path", func(t *testing.T) {
		srv := teamServer(t)
		c := testClient(t, srv, func(cfg *Config) {
			cfg.scimAuth = "Bearer"
			cfg.scimBaseURL = srv.URL + "/scim/v2/"
		})
		if _, err := mustUser(t, c, "bob").Status(ctx); err != nil {
			t.Fatal(err)
		}
		req, _ := srv.LastRequest("SCIMListUsers")
		if req.Path != "/scim/v2/Users" || req.Header.Get("Authorization") != "Bearer [redacted]" {
			t.Errorf("request %s with %q", req.Path, req.Header.Get("Authorization"))
		}
		if n := srv.Requests("GetViewer"); n != 0 {
			t.Errorf("bearer fetched the viewer %d times", n)
		}
	})
	t.Run("from the environment", func(t *testing.T) {
		srv := teamServer(t)
		e := newTestEnv(t)
		e.set("WANDB_API_KEY", srv.AdminKey())
		e.set("WANDB_BASE_URL", srv.URL)
		e.set("WANDB_SCIM_BASE_URL", srv.URL+"/scim/v2")
		e.set("WANDB_SCIM_AUTH", "bearer")
		cfg, err := e.config(EnvOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.scimBaseURL != srv.URL+"/scim/v2" || cfg.scimAuth != scimBearer {
			t.Errorf("config = %q, %q", cfg.scimBaseURL, cfg.scimAuth)
		}
		e.set("WANDB_SCIM_AUTH", "token")
		if _, err := e.config(EnvOptions{}); err == nil || !strings.Contains(err.Error(), `WANDB_SCIM_AUTH "token": want "basic" or "bearer"`) {
			t.Errorf("a bad WANDB_SCIM_AUTH: %v", err)
		}
		e.set("WANDB_SCIM_AUTH", "")
		e.set("WANDB_SCIM_BASE_URL", "ftp://x")
		if _, err := e.config(EnvOptions{}); err == nil || !strings.Contains(err.Error(), `WANDB_SCIM_BASE_URL: base url "ftp://x": must start with http:// or https://`) {
			t.Errorf("a bad WANDB_SCIM_BASE_URL: %v", err)
		}
	})
	t.Run("a wrong username is refused", func(t *testing.T) {
		// What the server checks: Basic needs the key's own username.
		srv := teamServer(t)
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/scim/Users", nil)
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("api:"+srv.AdminKey())))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Basic api:<key> on SCIM: HTTP %d, want 401", resp.StatusCode)
		}
	})
	t.Run("credentials go only to the configured SCIM base", func(t *testing.T) {
		var got string
		elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = r.Header.Get("Authorization")
			w.WriteHeader(http.StatusNotFound)
		}))
		defer elsewhere.Close()
		srv := teamServer(t)
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+"/Users", http.StatusTemporaryRedirect)
		}))
		defer front.Close()
		c := testClient(t, srv, func(cfg *Config) { cfg.scimBaseURL = front.URL + "/scim" })
		_, err := mustUser(t, c, "bob").Status(ctx)
		e := asError(t, err, "status", CodeBadResponse)
		if !strings.HasPrefix(e.Message, "the server redirected the request to "+elsewhere.URL+"/Users") {
			t.Errorf("message = %q", e.Message)
		}
		if got != "" {
			t.Error("the redirect target got the SCIM credentials")
		}
	})
	t.Run("not an admin", func(t *testing.T) {
		srv := teamServer(t)
		admin := testClient(t, srv)
		bob := clientFor(t, srv, admin, "bob@example.com")
		me, err := bob.Viewer(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = me.Status(ctx)
		asError(t, err, "status", CodeForbidden)
	})
}

// scimIDOf returns the SCIM id the server gives the user with email.
func scimIDOf(t *testing.T, srv *wandbtest.Server, email string) string {
	t.Helper()
	info, ok := srv.UserByEmail(email)
	if !ok {
		t.Fatalf("no user %s", email)
	}
	return "scim-u" + strings.TrimPrefix(decodeGQLID(t, info.ID), "User:")
}

func decodeGQLID(t *testing.T, id string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(id)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSCIMLookup(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	c := testClient(t, srv)
	ctx := context.Background()
	bob := mustUser(t, c, "bob")
	if _, err := bob.Status(ctx); err != nil {
		t.Fatal(err)
	}
	req, _ := srv.LastRequest("SCIMListUsers")
	if !strings.Contains(req.Header.Get("Accept"), "scim") {
		t.Errorf("accept %q", req.Header.Get("Accept"))
	}

	// By username when the user has no email.
	noEmail := &User{ID: "x", Username: ptrTo("dave"), client: c}
	if _, err := noEmail.Status(ctx); err != nil {
		t.Fatal(err)
	}
	// Nothing to find it by, nobody found.
	_, err := (&User{ID: "y", client: c}).Status(ctx)
	asError(t, err, "status", CodeInvalidArgument)
	_, err = (&User{ID: "z", Email: ptrTo("nobody@example.com"), client: c}).Status(ctx)
	asError(t, err, "status", CodeNotFound)

	// A server that ignores the filter: the answer is checked.
	all := `{"Resources":[{"id":"scim-u1","userName":"admin","emails":{"Value":"admin@example.com"}},` +
		`{"id":"scim-u4","userName":"carol","emails":[{"value":"carol@example.com","primary":true}]}]}`
	srv.FailNext("SCIMListUsers", wandbtest.Fault{Body: all})
	carol := mustUser(t, c, "carol")
	if _, err := carol.Status(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.Status(ctx); err != nil { // by the id found
		t.Fatal(err)
	}
	if req, _ := srv.LastRequest("SCIMGetUser"); req.Path != "/scim/Users/"+scimIDOf(t, srv, "carol@example.com") {
		t.Errorf("carol's record was read at %s", req.Path)
	}
	srv.FailNext("SCIMListUsers", wandbtest.Fault{Body: strings.Replace(all, `"admin@example.com"`, `"dave@example.com"`, 1) +
		``})
	srv.FailNext("SCIMListUsers", wandbtest.Fault{Body: `{"Resources":[{"id":"a","emails":{"Value":"dave@example.com"}},{"id":"b","emails":{"Value":"DAVE@example.com"}}]}`})
	dave := mustUser(t, c, "dave")
	if _, err := dave.Status(ctx); err != nil { // the first answer names dave once
		t.Fatal(err)
	}
	dave2 := mustUser(t, c, "dave")
	_, err = dave2.Status(ctx)
	asError(t, err, "status", CodeAmbiguous)
}

func TestDeactivateAndReactivate(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	c := testClient(t, srv)
	ctx := context.Background()
	bobKey, err := srv.AddAPIKey("bob@example.com", "own")
	if err != nil {
		t.Fatal(err)
	}
	asBob, err := c.WithAPIKey(bobKey)
	if err != nil {
		t.Fatal(err)
	}
	bob := mustUser(t, c, "bob")
	if err := bob.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	if info, _ := srv.UserByEmail("bob@example.com"); !info.Inactive {
		t.Error("bob is active on the server")
	}
	req, _ := srv.LastRequest("SCIMPatchUser")
	if want := `{"Operations":[{"op":"replace","value":{"active":false}}],"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`; req.Body != want {
		t.Errorf("PATCH body = %s, want %s", req.Body, want)
	}
	if st, err := bob.Status(ctx); err != nil || st.Active {
		t.Errorf("status after deactivation = %+v, %v", st, err)
	}
	_, err = asBob.Viewer(ctx)
	asError(t, err, "viewer", CodeUnauthorized)
	// Deactivating again succeeds; a deactivated user is still listed.
	if err := bob.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.User(ctx, "bob@example.com"); err != nil {
		t.Errorf("a deactivated user is not listed: %v", err)
	}
	if err := bob.Reactivate(ctx); err != nil {
		t.Fatal(err)
	}
	if me, err := asBob.Viewer(ctx); err != nil || deref(me.Username) != "bob" {
		t.Errorf("bob after reactivation: %v, %v", me, err)
	}
}

func TestMultiTenantLifecycle(t *testing.T) {
	t.Parallel()
	srv := teamServer(t, wandbtest.WithMultiTenant())
	c := testClient(t, srv)
	ctx := context.Background()
	bob := mustUser(t, c, "bob")
	if err := bob.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.UserByEmail("bob@example.com"); ok {
		t.Error("Multi-tenant deactivation left bob in the organisation")
	}
	_, err := c.User(ctx, "bob@example.com")
	asError(t, err, "user", CodeNotFound)
	e := asError(t, bob.Reactivate(ctx), "reactivate", CodeNotFound)
	if !strings.Contains(e.Message, "not in the organisation") {
		t.Errorf("reactivating a removed user: %v", e)
	}

	dave := mustUser(t, c, "dave")
	if _, err := dave.Status(ctx); err != nil { // look dave up while he is there
		t.Fatal(err)
	}
	e = asError(t, dave.Reactivate(ctx), "reactivate", CodeInvalidArgument)
	for _, want := range []string{"User reactivation operations are not supported in SaaS Cloud", "add them again", "(HTTP 400)"} {
		if !strings.Contains(e.Error(), want) {
			t.Errorf("error %q does not say %q", e, want)
		}
	}
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	c := testClient(t, srv)
	ctx := context.Background()
	bob := mustUser(t, c, "bob")
	if err := bob.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.UserByEmail("bob@example.com"); ok {
		t.Error("bob is still on the server")
	}
	if info, _ := srv.Team("ml"); len(info.Members) != 2 {
		t.Errorf("ml's members after deleting bob: %+v", info.Members)
	}
	if users, err := c.Users(ctx, "bob"); err != nil || len(users) != 0 {
		t.Errorf("SearchUsers still finds bob: %v, %v", users, err)
	}
	asError(t, bob.Delete(ctx), "delete_user", CodeNotFound)
	if n := srv.Requests("SCIMDeleteUser"); n != 1 {
		t.Errorf("DELETE sent %d times", n)
	}
}

// TestSetRole: the role is set, and read back from the PATCH answer; a
// read of the user shows it only WithSCIMRolesOnRead (W&B documents Get
// User without roles).
func TestSetRole(t *testing.T) {
	t.Parallel()
	for _, rolesOnRead := range []bool{false, true} {
		t.Run(fmt.Sprintf("roles on read %v", rolesOnRead), func(t *testing.T) { testSetRole(t, rolesOnRead) })
	}
}

func testSetRole(t *testing.T, rolesOnRead bool) {
	var opts []wandbtest.Option
	if rolesOnRead {
		opts = append(opts, wandbtest.WithSCIMRolesOnRead())
	}
	srv := teamServer(t, opts...)
	c := testClient(t, srv)
	ctx := context.Background()
	bob := mustUser(t, c, "bob")
	for _, tc := range []struct {
		role          string
		admin, viewer bool
		status        string
	}{
		{"ADMIN", true, false, "admin"},
		{"member", false, false, "member"},
		{"viewer", false, true, "member"},
		{"admin", true, false, "admin"},
	} {
		if err := bob.SetRole(ctx, tc.role); err != nil {
			t.Fatalf("SetRole(%s): %v", tc.role, err)
		}
		info, _ := srv.UserByEmail("bob@example.com")
		if info.Admin != tc.admin || info.Viewer != tc.viewer {
			t.Errorf("after SetRole(%s): admin %v, viewer %v", tc.role, info.Admin, info.Viewer)
		}
		if again := mustUser(t, c, "bob"); deref(again.Admin) != tc.admin {
			t.Errorf("after SetRole(%s): GraphQL admin %v", tc.role, deref(again.Admin))
		}
		want := tc.status
		if !rolesOnRead {
			want = ""
		}
		if st, _ := bob.Status(ctx); st.Role != want {
			t.Errorf("after SetRole(%s): status role %q, want %q", tc.role, st.Role, want)
		}
	}
	n := srv.Requests("")
	asError(t, bob.SetRole(ctx, "owner"), "set_role", CodeInvalidArgument)
	if srv.Requests("") != n {
		t.Error("an unknown role was sent")
	}
	// The viewer role makes the user's team roles viewer, as W&B documents.
	if err := bob.SetRole(ctx, "viewer"); err != nil {
		t.Fatal(err)
	}
	if info, _ := srv.Team("ml"); info.Members[1].Role != "viewer" {
		t.Errorf("bob's team role after the viewer organisation role: %q", info.Members[1].Role)
	}
}

func TestTeamMembershipOverSCIM(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	c := testClient(t, srv)
	ctx := context.Background()
	team := mustTeam(t, c, "ml")
	dave, bob := mustUser(t, c, "dave"), mustUser(t, c, "bob")
	if err := team.AddMember(ctx, dave, "admin"); err != nil {
		t.Fatal(err)
	}
	info, _ := srv.UserByEmail("dave@example.com")
	if !cmp.Equal(info.Teams, []string{"ml"}) {
		t.Errorf("dave's teams = %v", info.Teams)
	}
	if mi := memberInfo(t, srv, "ml", "dave@example.com"); !mi.Admin {
		t.Errorf("dave's membership = %+v, want team admin", mi)
	}
	req, _ := srv.LastRequest("SCIMPatchGroup")
	if want := `{"Operations":[{"op":"add","path":"members","value":[{"value":"` + scimIDOf(t, srv, "dave@example.com") + `"}]}],"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`; req.Body != want {
		t.Errorf("add body = %s\nwant %s", req.Body, want)
	}
	// Adding again succeeds.
	if err := team.AddMember(ctx, dave, ""); err != nil {
		t.Fatal(err)
	}

	if err := team.SetRole(ctx, bob, "viewer"); err != nil {
		t.Fatal(err)
	}
	if mi := memberInfo(t, srv, "ml", "bob@example.com"); mi.Role != "viewer" {
		t.Errorf("bob's role = %q", mi.Role)
	}
	asError(t, team.SetRole(ctx, bob, "owner"), "set_team_role", CodeInvalidArgument)
	asError(t, team.SetRole(ctx, mustUser(t, c, "carol"), "admin"), "set_team_role", CodeNotFound)
	asError(t, team.SetRole(ctx, bob, ""), "set_team_role", CodeInvalidArgument)

	if err := team.RemoveMember(ctx, bob); err != nil {
		t.Fatal(err)
	}
	req, _ = srv.LastRequest("SCIMPatchGroup")
	if want := `{"Operations":[{"op":"remove","path":"members[value eq \"` + scimIDOf(t, srv, "bob@example.com") + `\"]"}],"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`; req.Body != want {
		t.Errorf("remove body = %s\nwant %s", req.Body, want)
	}
	if info, _ := srv.UserByEmail("bob@example.com"); len(info.Teams) != 0 {
		t.Errorf("bob's teams = %v", info.Teams)
	}
	n := srv.Requests("SCIMPatchGroup")
	asError(t, team.RemoveMember(ctx, bob), "remove_member", CodeNotFound)
	if srv.Requests("SCIMPatchGroup") != n {
		t.Error("removing a non-member sent a PATCH")
	}
	// An unknown role after the add: dave stays a member, the error says so.
	e := asError(t, team.AddMember(ctx, bob, "owner"), "add_member", CodeInvalidArgument)
	if !strings.Contains(e.Message, "was added to ml as a member") {
		t.Errorf("error = %v", e)
	}
	ghost, err := c.CreateTeam(ctx, "ghost", "")
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNext("SCIMListGroups", wandbtest.Fault{Body: `{"Resources":[]}`})
	asError(t, ghost.AddMember(ctx, dave, ""), "add_member", CodeNotFound)
}

func memberInfo(t *testing.T, srv *wandbtest.Server, team, email string) wandbtest.MemberInfo {
	t.Helper()
	info, _ := srv.Team(team)
	for _, m := range info.Members {
		if m.Email == email {
			return m
		}
	}
	t.Fatalf("%s is not listed in %s", email, team)
	return wandbtest.MemberInfo{}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	c := testClient(t, srv)
	ctx := context.Background()
	dave := mustUser(t, c, "dave")
	st, err := dave.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// No role: W&B's Get User does not show it.
	if !st.Active || st.Role != "" || st.LastActiveAt != nil || st.DaysActive == nil || *st.DaysActive != 0 {
		t.Errorf("dave, never active: %+v", st)
	}
	daveKey, err := srv.AddAPIKey("dave@example.com", "x")
	if err != nil {
		t.Fatal(err)
	}
	asDave, err := c.WithAPIKey(daveKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := asDave.Viewer(ctx); err != nil {
		t.Fatal(err)
	}
	st, err = dave.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.LastActiveAt == nil || time.Since(*st.LastActiveAt) > time.Minute || *st.DaysActive != 1 {
		t.Errorf("dave after a request: %+v", st)
	}
	me, err := c.Viewer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := me.Status(ctx); st.Role != "" {
		t.Errorf("admin's role = %q, though the server does not show it", st.Role)
	}
	// A server that shows it.
	other := teamServer(t, wandbtest.WithSCIMRolesOnRead())
	me, err = testClient(t, other).Viewer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := me.Status(ctx); st.Role != "admin" {
		t.Errorf("admin's role = %q on a server that shows it", st.Role)
	}
}

func TestLastAdminGuard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := teamServer(t)
	c := testClient(t, srv)
	me := mustViewer(t, c)
	refused := func() {
		t.Helper()
		before := srv.Requests("SCIMPatchUser") + srv.Requests("SCIMDeleteUser")
		for name, err := range map[Op]error{
			"deactivate": me.Deactivate(ctx), "delete_user": me.Delete(ctx), "set_role": me.SetRole(ctx, "member"),
		} {
			e := asError(t, err, name, CodeLastAdmin)
			if !strings.Contains(e.Message, "only active admin") || !strings.Contains(e.Message, "admin@example.com") {
				t.Errorf("%s: %v", name, e)
			}
		}
		if n := srv.Requests("SCIMPatchUser") + srv.Requests("SCIMDeleteUser"); n != before {
			t.Error("a refused change was sent")
		}
	}
	refused()
	// Another admin who is inactive does not count.
	bob := mustUser(t, c, "bob")
	if err := bob.SetRole(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	bob = mustUser(t, c, "bob")
	if err := bob.Deactivate(ctx); err != nil { // two admins: allowed
		t.Fatal(err)
	}
	refused()
	if err := bob.Reactivate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := me.SetRole(ctx, "member"); err != nil { // bob is active now
		t.Fatal(err)
	}
	asBob := clientFor(t, srv, c, "bob@example.com")
	if err := mustUser(t, asBob, "admin").SetRole(ctx, "admin"); err != nil { // promoting needs no guard
		t.Fatal(err)
	}
	// A non-admin is not guarded.
	if err := mustUser(t, c, "dave").Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	// When the caller acts on itself, a failure to list is a refusal with
	// its cause.
	srv.FailNext("SearchUsers", wandbtest.Fault{Status: 400, Body: `{"errors":[{"message":"nope"}]}`})
	e := asError(t, me.Deactivate(ctx), "deactivate", CodeInvalidArgument)
	if !strings.Contains(e.Message, "cannot list the users to check that another admin remains") {
		t.Errorf("error = %v", e)
	}
	// Acting on another admin needs no list: the caller, a person SCIM
	// accepts, is an admin who remains.
	searches := srv.Requests("SearchUsers")
	bob = mustUser(t, c, "bob")
	if err := bob.SetRole(ctx, "member"); err != nil {
		t.Fatal(err)
	}
	if n := srv.Requests("SearchUsers") - searches; n != 1 { // the lookup of bob
		t.Errorf("demoting bob sent %d SearchUsers, want 1", n)
	}
}

// TestLastAdminGuardForAServiceAccount: an organisation service account
// (which SCIM never lists as a user) does not count as the admin who
// remains: the guard looks for another active admin.
func TestLastAdminGuardForAServiceAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	saKey := strings.Repeat("5a", 20)
	srv := wandbtest.Start(t, wandbtest.WithSeed(wandbtest.Seed{
		Users: []wandbtest.SeedUser{{Email: "bob@example.com", Username: "bob"}},
		Teams: []wandbtest.SeedTeam{{Name: "ops", ServiceAccounts: []wandbtest.SeedServiceAccount{{Description: "scim bot", Secret: saKey, Admin: true}}}},
	}))
	c := testClient(t, srv)
	asBot, err := c.WithAPIKey(saKey)
	if err != nil {
		t.Fatal(err)
	}
	admin := mustUser(t, asBot, "admin")
	e := asError(t, admin.SetRole(ctx, "member"), "set_role", CodeLastAdmin)
	if !strings.Contains(e.Message, "refusing to demote <User admin@example.com>") {
		t.Errorf("error = %v", e)
	}
	if err := mustUser(t, asBot, "bob").SetRole(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := mustUser(t, asBot, "admin").SetRole(ctx, "member"); err != nil { // bob remains
		t.Fatal(err)
	}
	if info, _ := srv.UserByEmail(wandbtest.AdminEmail); info.Admin {
		t.Error("admin is still an admin")
	}
}

// TestLifecycleOutcomesAfterLostAnswers: each SCIM change whose answer is
// lost after the request reached the server ends in its true outcome.
func TestLifecycleOutcomesAfterLostAnswers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct{ applied, rolesOnRead bool }{{true, false}, {false, false}, {true, true}, {false, true}} {
		applied, rolesOnRead := c.applied, c.rolesOnRead
		t.Run(fmt.Sprintf("applied %v, roles on read %v", applied, rolesOnRead), func(t *testing.T) {
			var opts []wandbtest.Option
			if rolesOnRead {
				opts = append(opts, wandbtest.WithSCIMRolesOnRead())
			}
			srv := teamServer(t, opts...)
			c := testClient(t, srv)
			want := map[bool]int{true: 1, false: 2}[applied]
			lose := func(op string) { srv.FailNext(op, wandbtest.Fault{Drop: true, AfterApply: applied}) }
			sent := func(op string, before int, blind bool) {
				t.Helper()
				want := want
				if blind && !rolesOnRead { // a role is not shown on a read: sent again, whatever the outcome
					want = 2
				}
				if n := srv.Requests(op) - before; n != want {
					t.Errorf("%s sent %d times, want %d", op, n, want)
				}
			}
			bob, dave := mustUser(t, c, "bob"), mustUser(t, c, "dave")
			team, err := c.Team(ctx, "ml")
			if err != nil {
				t.Fatal(err)
			}
			for _, step := range []struct {
				op    string
				run   func() error
				blind bool
			}{
				{"SCIMPatchUser", func() error { return bob.Deactivate(ctx) }, false},
				{"SCIMPatchUser", func() error { return bob.Reactivate(ctx) }, false},
				{"SCIMPatchUser", func() error { return bob.SetRole(ctx, "admin") }, true},
				{"SCIMPatchUser", func() error { return bob.SetTeamRole(ctx, "ml", "viewer") }, true},
				{"SCIMPatchGroup", func() error { return team.AddMember(ctx, dave, "") }, false},
				{"SCIMPatchGroup", func() error { return team.RemoveMember(ctx, dave) }, false},
				{"SCIMDeleteUser", func() error { return dave.Delete(ctx) }, false},
			} {
				before := srv.Requests(step.op)
				lose(step.op)
				if err := step.run(); err != nil {
					t.Fatalf("after %s: %v", step.op, err)
				}
				sent(step.op, before, step.blind)
			}
			info, _ := srv.UserByEmail("bob@example.com")
			if info.Inactive || !info.Admin || memberInfo(t, srv, "ml", "bob@example.com").Role != "viewer" {
				t.Errorf("bob = %+v", info)
			}
			if _, ok := srv.UserByEmail("dave@example.com"); ok {
				t.Error("dave was not deleted")
			}
		})
	}
}

// TestRoleChangesReadTheAnswer: a role change's answer is read, and one
// that shows another role is no success; when a lost answer cannot be
// checked (a read shows no role) and sending again fails too, the outcome
// is unknown, never "not applied".
func TestRoleChangesReadTheAnswer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := teamServer(t)
	c := testClient(t, srv)
	bob := mustUser(t, c, "bob")

	srv.FailNext("SCIMPatchUser", wandbtest.Fault{Body: `{"id":"x","organizationRole":"member","teamRoles":[]}`})
	e := asError(t, bob.SetRole(ctx, "admin"), "set_role", CodeInternal)
	if !strings.Contains(e.Message, `organisation role is "member", not "admin"`) {
		t.Errorf("error = %v", e)
	}
	srv.FailNext("SCIMPatchUser", wandbtest.Fault{Body: `{"id":"x","organizationRole":"member","teamRoles":[{"teamName":"ml","roleName":"member"}]}`})
	e = asError(t, bob.SetTeamRole(ctx, "ml", "admin"), "set_team_role", CodeInternal)
	if !strings.Contains(e.Message, `does not show <User bob@example.com> with the role "admin" in ml`) {
		t.Errorf("error = %v", e)
	}
	// An answer without the roles (a 204, say) does not confirm: a read
	// cannot show the role, so the replace is sent again, and its answer
	// confirms.
	n := srv.Requests("SCIMPatchUser")
	srv.FailNext("SCIMPatchUser", wandbtest.Fault{Status: http.StatusNoContent, AfterApply: true})
	if err := bob.SetRole(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Requests("SCIMPatchUser") - n; got != 2 {
		t.Errorf("sent %d times, want 2", got)
	}

	before := srv.Requests("SCIMPatchUser")
	srv.FailNext("SCIMPatchUser", wandbtest.Fault{Drop: true, AfterApply: true}, wandbtest.Fault{Status: 502, Body: "bad gateway"})
	e = asError(t, bob.SetRole(ctx, "member"), "set_role", CodeUnknownOutcome)
	if !strings.Contains(e.Message, "could not check: sent again, which failed: bad gateway") {
		t.Errorf("error = %v", e)
	}
	if n := srv.Requests("SCIMPatchUser") - before; n != 2 {
		t.Errorf("sent %d times, want 2", n)
	}
	if info, _ := srv.UserByEmail("bob@example.com"); info.Admin {
		t.Error("the first attempt was not applied")
	}
}

// TestSCIMAnswersAreRead: a server that answers a change with something
// other than the change done (the user still active, the member still
// there, or nothing at all) is checked by a read, and one that changed
// nothing, whatever it answers, is a failure, never a success.
func TestSCIMAnswersAreRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := teamServer(t)
	c := testClient(t, srv)
	bob := mustUser(t, c, "bob")
	liar := wandbtest.Fault{Body: `{"id":"x","active":true}`} // 200, nothing changed
	srv.FailNext("SCIMPatchUser", liar, liar)
	e := asError(t, bob.Deactivate(ctx), "deactivate", CodeBadResponse)
	if !strings.Contains(e.Message, "does not show <User bob@example.com> inactive (checked: the change was not applied)") {
		t.Errorf("error = %v", e)
	}
	if info, _ := srv.UserByEmail("bob@example.com"); info.Inactive {
		t.Error("bob is inactive")
	}
	// Applied, answered with nothing: a read confirms it.
	srv.FailNext("SCIMPatchUser", wandbtest.Fault{Status: http.StatusNoContent, AfterApply: true})
	if err := bob.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := bob.Reactivate(ctx); err != nil {
		t.Fatal(err)
	}

	// A 204 to a DELETE that deleted nothing is found out, and sent again.
	dave := mustUser(t, c, "dave")
	srv.FailNext("SCIMDeleteUser", wandbtest.Fault{Status: http.StatusNoContent})
	if err := dave.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.UserByEmail("dave@example.com"); ok || srv.Requests("SCIMDeleteUser") != 2 {
		t.Errorf("dave there %v after %d DELETEs", ok, srv.Requests("SCIMDeleteUser"))
	}

	// Group changes: the answer must show the member added or removed.
	team, err := c.Team(ctx, "ml")
	if err != nil {
		t.Fatal(err)
	}
	carol := mustUser(t, c, "carol")
	empty := wandbtest.Fault{Body: `{"id":"x","displayName":"ml","members":null}`}
	srv.FailNext("SCIMPatchGroup", empty, empty)
	e = asError(t, team.AddMember(ctx, carol, ""), "add_member", CodeBadResponse)
	if !strings.Contains(e.Message, "not among the team's members (checked: the change was not applied)") {
		t.Errorf("error = %v", e)
	}
	srv.FailNext("SCIMPatchGroup", wandbtest.Fault{Status: http.StatusNoContent, AfterApply: true})
	if err := team.AddMember(ctx, carol, ""); err != nil {
		t.Fatal(err)
	}
	if got := memberInfo(t, srv, "ml", "carol@example.com"); got.Pending {
		t.Errorf("carol = %+v", got)
	}
}

// TestLastAdminGuardUnderConcurrency: demoting, deactivating or deleting
// every admin at once, the caller included, leaves one: the guards cannot
// pass together.
func TestLastAdminGuardUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, op := range []string{"set_role", "deactivate", "delete_user"} {
		for round := range 5 {
			t.Run(fmt.Sprintf("%s %d", op, round), func(t *testing.T) {
				srv := teamServer(t, wandbtest.WithLatency(5*time.Millisecond))
				c := testClient(t, srv)
				admins := []*User{}
				for _, who := range []string{"alice", "bob"} {
					u := mustUser(t, c, who)
					if err := u.SetRole(ctx, "admin"); err != nil {
						t.Fatal(err)
					}
				}
				me := mustViewer(t, c)
				admins = append(admins, me, mustUser(t, c, "alice"), mustUser(t, c, "bob"))
				errs := make([]error, len(admins))
				var wg sync.WaitGroup
				for i, u := range admins {
					wg.Go(func() {
						switch op {
						case "set_role":
							errs[i] = u.SetRole(ctx, "member")
						case "deactivate":
							errs[i] = u.Deactivate(ctx)
						default:
							errs[i] = u.Delete(ctx)
						}
					})
				}
				wg.Wait()
				left := 0
				for _, info := range srv.Users() {
					if info.Admin && !info.Inactive {
						left++
					}
				}
				// Whoever goes first decides the rest: the caller removing
				// itself ends its own admin rights (later calls are refused
				// by the server), others leave the caller to be refused.
				for _, err := range errs {
					if err != nil && !errors.Is(err, ErrLastAdmin) && !errors.Is(err, ErrUnauthorized) && !errors.Is(err, ErrForbidden) {
						t.Errorf("%s: %v", op, err)
					}
				}
				if left < 1 {
					t.Errorf("%d active admins left, errors %v", left, errs)
				}
			})
		}
	}
}

// TestMemberRole: a member's Role is its admin flag's ("admin" or
// "member"), or the viewer or custom role this program set, while the
// server's flag agrees with it; an invitation's is the one it was sent
// with.
func TestMemberRole(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	c := testClient(t, srv)
	ctx := context.Background()
	team := mustTeam(t, c, "ml")
	roles := func() map[string]string {
		got := map[string]string{}
		for _, m := range team.Members() {
			got[deref(m.Email)] = m.Role()
		}
		return got
	}
	want := map[string]string{"alice@example.com": "admin", "bob@example.com": "member", "carol@example.com": "member"}
	if diff := cmp.Diff(want, roles()); diff != "" {
		t.Errorf("as listed (-want +got):\n%s", diff)
	}
	bob, dave := mustUser(t, c, "bob"), mustUser(t, c, "dave")
	if err := team.SetRole(ctx, bob, "Viewer"); err != nil {
		t.Fatal(err)
	}
	if err := team.AddMember(ctx, dave, "admin"); err != nil {
		t.Fatal(err)
	}
	want["bob@example.com"] = "viewer"
	if diff := cmp.Diff(want, roles()); diff != "" { // dave: not listed until a reload
		t.Errorf("after SetRole (-want +got):\n%s", diff)
	}
	if err := team.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	want["dave@example.com"] = "admin"
	if diff := cmp.Diff(want, roles()); diff != "" {
		t.Errorf("after a reload (-want +got):\n%s", diff)
	}
	// Made an admin elsewhere: the server's flag wins over what this
	// program set.
	other, err := c.Team(ctx, "ml")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.SetRole(ctx, bob, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := team.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := roles()["bob@example.com"]; got != "admin" {
		t.Errorf("bob, made an admin elsewhere: %q", got)
	}
	inv, err := team.Invite(ctx, ByEmail("erin@example.com"), true)
	if err != nil || inv.Role() != "admin" {
		t.Errorf("an invitation as an admin: %v, %v", inv, err)
	}
	if (&Member{}).Role() != "" {
		t.Error("a member without an admin flag has a role")
	}
}

// TestDryRunCountsPretendedAdminChanges: the last-admin guard of a dry run
// counts the demotions, deactivations, deletions and promotions the dry
// run pretended to make, so that each step of a dry run succeeds or is
// refused as the same step of the real run is.
func TestDryRunCountsPretendedAdminChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type step struct {
		who, do string // do: "member", "admin", "deactivate", "reactivate", "delete" or "create admin"
	}
	for _, tc := range []struct {
		name   string
		admins []string // made instance admins before the run, besides the admin
		steps  []step
		want   []Code // each step's outcome: "" for success
	}{
		{"demote the other admin, then yourself", []string{"alice"},
			[]step{{"alice", "member"}, {"admin", "member"}}, []Code{"", CodeLastAdmin}},
		{"deactivate the other admin, then yourself", []string{"alice"},
			[]step{{"alice", "deactivate"}, {"admin", "deactivate"}}, []Code{"", CodeLastAdmin}},
		{"delete the other admin, then demote yourself", []string{"alice"},
			[]step{{"alice", "delete"}, {"admin", "member"}}, []Code{"", CodeLastAdmin}},
		{"promote bob, then demote yourself", nil,
			[]step{{"bob", "admin"}, {"admin", "member"}}, []Code{"", ""}},
		{"promote bob, demote him, then demote yourself", nil,
			[]step{{"bob", "admin"}, {"bob", "member"}, {"admin", "member"}}, []Code{"", "", CodeLastAdmin}},
		{"demote alice, promote her again, then demote yourself", []string{"alice"},
			[]step{{"alice", "member"}, {"alice", "admin"}, {"admin", "member"}}, []Code{"", "", ""}},
		{"deactivate alice, reactivate her, then demote yourself", []string{"alice"},
			[]step{{"alice", "deactivate"}, {"alice", "reactivate"}, {"admin", "member"}}, []Code{"", "", ""}},
		{"create an admin, then demote yourself", nil,
			[]step{{"new@example.com", "create admin"}, {"admin", "member"}}, []Code{"", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run := func(dry bool) []Code {
				srv := teamServer(t)
				admin := testClient(t, srv)
				for _, a := range tc.admins {
					if err := mustUser(t, admin, a).SetRole(ctx, RoleAdmin); err != nil {
						t.Fatal(err)
					}
				}
				c := admin
				if dry {
					c = testClient(t, srv, func(cfg *Config) { cfg.DryRun, cfg.DryRunOutput = true, io.Discard })
				}
				var got []Code
				for _, s := range tc.steps {
					if s.do == "create admin" {
						var code Code
						if _, err := c.CreateUser(ctx, s.who, true); err != nil {
							code = codeOf(err)
						}
						got = append(got, code)
						continue
					}
					u := mustUser(t, c, s.who)
					var err error
					switch s.do {
					case "reactivate":
						err = u.Reactivate(ctx)
					case "deactivate":
						err = u.Deactivate(ctx)
					case "delete":
						err = u.Delete(ctx)
					default:
						err = u.SetRole(ctx, s.do)
					}
					var code Code
					if err != nil {
						code = codeOf(err)
					}
					got = append(got, code)
				}
				return got
			}
			if d := cmp.Diff(tc.want, run(false)); d != "" {
				t.Errorf("the real run's outcomes (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.want, run(true)); d != "" {
				t.Errorf("the dry run's outcomes (-want +got):\n%s", d)
			}
		})
	}
}
