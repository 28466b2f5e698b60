package wandbtest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// The SCIM API over HTTP, with W&B's documented shapes.

type scimReply struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

// scim sends a SCIM request as admin (Basic with the username and key)
// unless auth is given ("-" for none).
func scim(t *testing.T, srv *wandbtest.Server, method, path string, body any, auth ...string) scimReply {
	t.Helper()
	return scimTo(t, loopback(srv), method, path, body, auth...)
}

// scimTo is scim to the endpoint e.
func scimTo(t *testing.T, e endpoint, method, path string, body any, auth ...string) scimReply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	switch {
	case len(auth) == 0:
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(wandbtest.AdminUsername+":"+e.adminKey)))
	case auth[0] != "-":
		req.Header.Set("Authorization", auth[0])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := scimReply{Status: resp.StatusCode, Header: resp.Header, Body: b}
	_ = json.Unmarshal(b, &r.JSON)
	return r
}

func (r scimReply) want(t *testing.T, status int) scimReply {
	t.Helper()
	if r.Status != status {
		t.Fatalf("HTTP %d, want %d; body %s", r.Status, status, wandbtest.MaskSecrets(string(r.Body)))
	}
	return r
}

// wantSCIMError checks an error answer: its status and, for a 400 or
// under WithSCIMErrorBodies, a SCIM Error (the Error schema, the status
// as a string, a detail containing msg); otherwise the plain status text
// (TestSCIMErrorBodies checks which answer comes in which mode).
func (r scimReply) wantSCIMError(t *testing.T, status int, msg string) {
	t.Helper()
	r.want(t, status)
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/plain") {
		if status == http.StatusBadRequest || string(r.Body) != http.StatusText(status)+"\n" {
			t.Errorf("plain error body %q for HTTP %d", r.Body, status)
		}
		return
	} else if ct != "application/scim+json" {
		t.Errorf("content type %q", ct)
	}
	schemas, _ := r.JSON["schemas"].([]any)
	detail, _ := r.JSON["detail"].(string)
	if len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || r.JSON["status"] != itoa(status) || !strings.Contains(detail, msg) {
		t.Errorf("error body %s, want status %q and detail containing %q", r.Body, itoa(status), msg)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func patch(op, path string, value any) map[string]any {
	o := map[string]any{"op": op}
	if path != "" {
		o["path"] = path
	}
	if value != nil {
		o["value"] = value
	}
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []any{o}}
}

func scimServer(t *testing.T, opts ...wandbtest.Option) *wandbtest.Server {
	t.Helper()
	return wandbtest.Start(t, append([]wandbtest.Option{wandbtest.WithSeed(wandbtest.Seed{
		Users: []wandbtest.SeedUser{
			{Email: "alice@example.com", Name: "Alice", Teams: []string{"ml"}},
			{Email: "bob@example.com", Name: "Bob", Teams: []string{"ml"}},
		},
		Teams: []wandbtest.SeedTeam{{Name: "ml", Admins: []string{"alice@example.com"}}},
	})}, opts...)...)
}

func TestSCIMUserShape(t *testing.T) {
	t.Parallel()
	srv := scimServer(t)
	r := scim(t, srv, http.MethodGet, `/scim/Users?filter=emails.value%20eq%20%22ALICE@example.com%22`, nil).want(t, 200)
	if r.JSON["totalResults"] != 1.0 || r.JSON["startIndex"] != 1.0 || r.JSON["itemsPerPage"] != 9999.0 {
		t.Errorf("list envelope %s", r.Body)
	}
	alice := r.JSON["Resources"].([]any)[0].(map[string]any)
	id := alice["id"].(string)
	if !strings.HasPrefix(id, "scim-u") {
		t.Errorf("id %q", id)
	}
	info, _ := srv.UserByEmail("alice@example.com")
	if id == info.ID {
		t.Error("the SCIM id is the GraphQL ID")
	}
	meta := alice["meta"].(map[string]any)
	want := map[string]any{
		"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:User"}, "id": id, "userName": "alice", "displayName": "Alice",
		"active": true, "emails": map[string]any{"Value": "alice@example.com", "Display": "", "Type": "", "Primary": true},
		"daysActive": 0.0, "lastActiveAt": nil, "meta": meta,
	}
	// No roles on a read: W&B's docs show them only on role PATCH answers.
	if diff := cmp.Diff(want, alice); diff != "" {
		t.Errorf("user (-want +got):\n%s", diff)
	}
	// WithSCIMRolesOnRead plays the other way.
	other := scimServer(t, wandbtest.WithSCIMRolesOnRead())
	r = scim(t, other, http.MethodGet, `/scim/Users?filter=userName%20eq%20%22alice%22`, nil).want(t, 200)
	alice = r.JSON["Resources"].([]any)[0].(map[string]any)
	if alice["organizationRole"] != "member" || !cmp.Equal(alice["teamRoles"], []any{map[string]any{"teamName": "ml", "roleName": "admin"}}) {
		t.Errorf("with roles on read: %s", r.Body)
	}
	if meta["resourceType"] != "User" || meta["location"] != "Users/"+id || meta["created"] == "" || meta["lastModified"] == "" {
		t.Errorf("meta %v", meta)
	}
	got := scim(t, srv, http.MethodGet, "/scim/v2/Users/"+id, nil).want(t, 200)
	if got.Header.Get("ETag") == "" || got.Header.Get("ETag") != got.JSON["meta"].(map[string]any)["version"] {
		t.Errorf("ETag %q, meta.version %v", got.Header.Get("ETag"), got.JSON["meta"])
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/scim+json" {
		t.Errorf("content type %q", ct)
	}

	// Filters, and what is not a user of SCIM.
	for filter, n := range map[string]int{`userName eq "BOB"`: 1, `emails.value eq "x@example.com"`: 0, "": 3} {
		r := scim(t, srv, http.MethodGet, "/scim/Users?filter="+strings.ReplaceAll(filter, " ", "%20"), nil).want(t, 200)
		if r.JSON["totalResults"] != float64(n) {
			t.Errorf("filter %q: %v results, want %d", filter, r.JSON["totalResults"], n)
		}
	}
	scim(t, srv, http.MethodGet, `/scim/Users?filter=name%20eq%20%22x%22`, nil).wantSCIMError(t, 400, "invalid filter")
	scim(t, srv, http.MethodGet, `/scim/Users?filter=userName%20co%20%22x%22`, nil).wantSCIMError(t, 400, "invalid filter")
	scim(t, srv, http.MethodGet, "/scim/Users/"+info.ID, nil).wantSCIMError(t, 404, "no user")
	scim(t, srv, http.MethodGet, "/scim/Roles", nil).wantSCIMError(t, 404, "only Users and Groups")
	post(t, srv, call{key: mustKey(t, srv, "alice@example.com"), query: gql.CreateServiceAccount_Operation,
		vars: map[string]any{"entity": "ml", "description": "bot"}}).wantOK(t)
	if r := scim(t, srv, http.MethodGet, "/scim/Users", nil); r.JSON["totalResults"] != 3.0 {
		t.Errorf("service accounts are listed: %v users", r.JSON["totalResults"])
	}
}

func TestSCIMAuth(t *testing.T) {
	t.Parallel()
	srv := scimServer(t)
	bobKey := mustKey(t, srv, "bob@example.com")
	basic := func(user, key string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+key))
	}
	scim(t, srv, http.MethodGet, "/scim/Users", nil, "-").wantSCIMError(t, 401, "unauthorized")
	scim(t, srv, http.MethodGet, "/scim/Users", nil, basic("api", srv.AdminKey())).wantSCIMError(t, 401, "unauthorized")
	scim(t, srv, http.MethodGet, "/scim/Users", nil, "Basic !!").wantSCIMError(t, 401, "unauthorized")
	scim(t, srv, http.MethodGet, "/scim/Users", nil, "Bearer "+srv.AdminKey()).want(t, 200)
	scim(t, srv, http.MethodGet, "/scim/Users", nil, basic("ADMIN", srv.AdminKey())).want(t, 200)
	scim(t, srv, http.MethodGet, "/scim/Users", nil, basic("bob", bobKey)).wantSCIMError(t, 403, "instance admin")
	req, _ := srv.LastRequest("SCIMListUsers")
	if req.Caller != "bob@example.com" || req.Header.Get("Authorization") != "Basic [redacted]" {
		t.Errorf("recorded %+v", req)
	}
	scim(t, srv, http.MethodGet, "/scim/Users", nil, basic("", bobKey)).wantSCIMError(t, 401, "unauthorized")
}

// TestSCIMServiceAccountAuth: an organisation service account (admin)
// authenticates with an empty Basic username, or Bearer, as W&B's SCIM
// docs show, and not with its username; a team's service account is
// refused.
func TestSCIMServiceAccountAuth(t *testing.T) {
	t.Parallel()
	orgKey, teamKey := strings.Repeat("0a", 20), strings.Repeat("7e", 20)
	srv := wandbtest.Start(t, wandbtest.WithSeed(wandbtest.Seed{Teams: []wandbtest.SeedTeam{{Name: "ml",
		ServiceAccounts: []wandbtest.SeedServiceAccount{{Description: "scim bot", Secret: orgKey, Admin: true}, {Description: "ci", Secret: teamKey}}}}}))
	basic := func(user, key string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+key))
	}
	r := scim(t, srv, http.MethodGet, "/scim/Users", nil, basic("", orgKey)).want(t, 200)
	if r.JSON["totalResults"] != 1.0 { // the admin; service accounts are never listed
		t.Errorf("the list: %s", wandbtest.MaskSecrets(string(r.Body)))
	}
	scim(t, srv, http.MethodGet, "/scim/Users", nil, "Bearer "+orgKey).want(t, 200)
	scim(t, srv, http.MethodGet, "/scim/Users", nil, basic("ml-service", orgKey)).wantSCIMError(t, 401, "unauthorized")
	scim(t, srv, http.MethodGet, "/scim/Users", nil, basic("", teamKey)).wantSCIMError(t, 403, "instance admin")
}

// TestSCIMErrorBodies: by default only a 400 has a SCIM Error body (the
// one W&B documents), other errors their plain status text;
// WithSCIMErrorBodies gives every error a SCIM Error body.
func TestSCIMErrorBodies(t *testing.T) {
	t.Parallel()
	for _, bodies := range []bool{false, true} {
		var opts []wandbtest.Option
		if bodies {
			opts = append(opts, wandbtest.WithSCIMErrorBodies())
		}
		srv := scimServer(t, opts...)
		for _, c := range []struct {
			method, path string
			status       int
		}{
			{http.MethodGet, "/scim/Users/scim-u99", 404},
			{http.MethodGet, "/scim/Groups/scim-t99", 404},
			{http.MethodPut, "/scim/Users", 405},
			{http.MethodGet, `/scim/Users?filter=x%20eq%20%22y%22`, 400},
		} {
			r := scim(t, srv, c.method, c.path, nil).want(t, c.status)
			scimBody := r.Header.Get("Content-Type") == "application/scim+json" && r.JSON["detail"] != nil
			if want := bodies || c.status == 400; scimBody != want {
				t.Errorf("error bodies %v: %s %s: HTTP %d with %q (%s), want a SCIM Error body: %v",
					bodies, c.method, c.path, r.Status, r.Body, r.Header.Get("Content-Type"), want)
			}
		}
		if r := scim(t, srv, http.MethodGet, "/scim/Users", nil, "-"); (r.JSON["detail"] != nil) != bodies {
			t.Errorf("error bodies %v: 401 answered %q", bodies, r.Body)
		}
	}
}

func TestSCIMCreateAndDeleteUser(t *testing.T) {
	t.Parallel()
	srv := scimServer(t)
	body := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "carol",
		"emails": []any{map[string]any{"value": "carol@example.com", "primary": true}}}
	r := scim(t, srv, http.MethodPost, "/scim/Users", body).want(t, 201)
	id := r.JSON["id"].(string)
	if info, ok := srv.UserByEmail("carol@example.com"); !ok || info.Username != "carol" {
		t.Errorf("carol = %+v", info)
	}
	scim(t, srv, http.MethodPost, "/scim/Users", body).wantSCIMError(t, 409, "already exists")
	// A team's name is taken too: usernames and team names are one
	// namespace, in either letter case.
	for _, name := range []string{"ml", "ML"} {
		team := map[string]any{"schemas": body["schemas"], "userName": name,
			"emails": []any{map[string]any{"value": "team-" + name + "@example.com", "primary": true}}}
		scim(t, srv, http.MethodPost, "/scim/Users", team).wantSCIMError(t, 409, "entity name "+name+" already exists")
	}
	scim(t, srv, http.MethodPost, "/scim/Users", map[string]any{"userName": "x"}).wantSCIMError(t, 400, "primary email")
	r = scim(t, srv, http.MethodDelete, "/scim/Users/"+id, nil).want(t, 204)
	if len(r.Body) != 0 {
		t.Errorf("204 with a body %q", r.Body)
	}
	if _, ok := srv.UserByEmail("carol@example.com"); ok {
		t.Error("carol was not deleted")
	}
	scim(t, srv, http.MethodGet, "/scim/Users/"+id, nil).wantSCIMError(t, 404, "no user")
	scim(t, srv, http.MethodPut, "/scim/Users", nil).wantSCIMError(t, 405, "not allowed")
}

func TestSCIMPatchUser(t *testing.T) {
	t.Parallel()
	srv := scimServer(t)
	bobKey := mustKey(t, srv, "bob@example.com")
	r := scim(t, srv, http.MethodGet, `/scim/Users?filter=userName%20eq%20%22bob%22`, nil).want(t, 200)
	bob := r.JSON["Resources"].([]any)[0].(map[string]any)
	path := "/scim/Users/" + bob["id"].(string)

	// Deactivation: bob can no longer authenticate, anywhere.
	r = scim(t, srv, http.MethodPatch, path, patch("replace", "", map[string]bool{"active": false})).want(t, 200)
	if r.JSON["active"] != false {
		t.Errorf("active after deactivation: %v", r.JSON["active"])
	}
	if res := post(t, srv, call{key: bobKey, query: gql.GetViewer_Operation}); res.Status != http.StatusUnauthorized {
		t.Errorf("deactivated bob's GraphQL request: HTTP %d", res.Status)
	}
	scim(t, srv, http.MethodPatch, path, patch("replace", "", map[string]bool{"active": true})).want(t, 200)
	viewer(t, srv, bobKey)

	// Roles.
	scim(t, srv, http.MethodPatch, path, patch("replace", "organizationRole", "ADMIN")).want(t, 200)
	if v := viewer(t, srv, bobKey); v.Admin == nil || !*v.Admin {
		t.Error("organizationRole admin did not make bob an admin")
	}
	r = scim(t, srv, http.MethodPatch, path, patch("replace", "organizationRole", "viewer")).want(t, 200)
	if r.JSON["organizationRole"] != "member" {
		t.Errorf("after viewer: %s", r.Body)
	}
	if r := scim(t, srv, http.MethodGet, path, nil).want(t, 200); r.JSON["organizationRole"] != nil || r.JSON["teamRoles"] != nil {
		t.Errorf("a read shows the roles: %s", r.Body)
	}
	if tr := r.JSON["teamRoles"].([]any)[0].(map[string]any); tr["roleName"] != "viewer" {
		t.Errorf("team roles after viewer: %v", tr)
	}
	scim(t, srv, http.MethodPatch, path, patch("replace", "organizationRole", "owner")).wantSCIMError(t, 400, "invalid organizationRole")
	scim(t, srv, http.MethodPatch, path, patch("replace", "teamRoles", []any{map[string]string{"teamName": "ml", "roleName": "Admin"}})).want(t, 200)
	if info, _ := srv.Team("ml"); info.Members[1].Role != "admin" {
		t.Errorf("bob's team role: %q", info.Members[1].Role)
	}
	scim(t, srv, http.MethodPatch, path, patch("replace", "teamRoles", []any{map[string]string{"teamName": "ml", "roleName": "owner"}})).wantSCIMError(t, 400, "unknown team role")
	scim(t, srv, http.MethodPatch, path, patch("replace", "teamRoles", []any{map[string]string{"teamName": "nope", "roleName": "admin"}})).wantSCIMError(t, 404, "no team")
	if err := srv.AddTeam("other"); err != nil {
		t.Fatal(err)
	}
	scim(t, srv, http.MethodPatch, path, patch("replace", "teamRoles", []any{map[string]string{"teamName": "other", "roleName": "admin"}})).wantSCIMError(t, 404, "not a member")

	// Profile (Dedicated Cloud and Self-Managed).
	r = scim(t, srv, http.MethodPatch, path, patch("replace", "displayName", "Robert")).want(t, 200)
	r = scim(t, srv, http.MethodPatch, path, patch("replace", "emails", []any{map[string]any{"value": "rob@example.com", "primary": true}})).want(t, 200)
	if r.JSON["displayName"] != "Robert" || r.JSON["emails"].(map[string]any)["Value"] != "rob@example.com" {
		t.Errorf("after profile changes: %s", r.Body)
	}
	scim(t, srv, http.MethodPatch, path, patch("replace", "emails", []any{map[string]any{"value": "alice@example.com"}})).wantSCIMError(t, 409, "already exists")

	// One operation per request, the PatchOp schema, a known path, If-Match.
	two := patch("replace", "displayName", "x")
	two["Operations"] = append(two["Operations"].([]any), two["Operations"].([]any)[0])
	scim(t, srv, http.MethodPatch, path, two).wantSCIMError(t, 400, "exactly one per request")
	scim(t, srv, http.MethodPatch, path, map[string]any{"Operations": []any{}}).wantSCIMError(t, 400, "schemas")
	scim(t, srv, http.MethodPatch, path, patch("add", "registryRoles", []any{})).wantSCIMError(t, 400, "unsupported operation")
	scim(t, srv, http.MethodPatch, path, patch("replace", "nickName", "x")).wantSCIMError(t, 400, "unsupported path")
	etag := scim(t, srv, http.MethodGet, path, nil).Header.Get("ETag")
	stale := func(h string) scimReply {
		req, _ := http.NewRequest(http.MethodPatch, srv.URL+path, strings.NewReader(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"y"}]}`))
		req.Header.Set("Authorization", "Bearer "+srv.AdminKey())
		req.Header.Set("If-Match", h)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return scimReply{Status: resp.StatusCode, Body: b}
	}
	if r := stale(`W/"0"`); r.Status != http.StatusPreconditionFailed {
		t.Errorf("a stale If-Match: HTTP %d", r.Status)
	}
	if r := stale(etag); r.Status != http.StatusOK {
		t.Errorf("the current If-Match: HTTP %d %s", r.Status, r.Body)
	}
}

func TestSCIMMultiTenant(t *testing.T) {
	t.Parallel()
	srv := scimServer(t, wandbtest.WithMultiTenant())
	r := scim(t, srv, http.MethodGet, `/scim/Users?filter=userName%20eq%20%22bob%22`, nil).want(t, 200)
	bob := r.JSON["Resources"].([]any)[0].(map[string]any)
	if _, ok := bob["modelsSeat"]; ok {
		t.Error("Multi-tenant users have modelsSeat")
	}
	path := "/scim/Users/" + bob["id"].(string)
	r = scim(t, srv, http.MethodGet, `/scim/Users?filter=userName%20eq%20%22alice%22`, nil)
	alicePath := "/scim/Users/" + r.JSON["Resources"].([]any)[0].(map[string]any)["id"].(string)
	r = scim(t, srv, http.MethodPatch, alicePath, patch("replace", "", map[string]bool{"active": true}))
	r.want(t, 400)
	if want := `{"detail":"User reactivation operations are not supported in SaaS Cloud","schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400"}`; string(r.Body) != want {
		t.Errorf("reactivation body %s, want %s", r.Body, want)
	}
	scim(t, srv, http.MethodPatch, alicePath, patch("replace", "displayName", "x")).wantSCIMError(t, 400, "not supported in SaaS Cloud")
	scim(t, srv, http.MethodPatch, path, patch("replace", "", map[string]bool{"active": false})).want(t, 200)
	if _, ok := srv.UserByEmail("bob@example.com"); ok {
		t.Error("deactivation left bob in the organisation")
	}
	scim(t, srv, http.MethodGet, path, nil).wantSCIMError(t, 404, "no user")
	if info, _ := srv.Team("ml"); len(info.Members) != 1 {
		t.Errorf("ml's members: %+v", info.Members)
	}
}

func TestSCIMGroups(t *testing.T) {
	t.Parallel()
	srv := scimServer(t)
	addUser(t, srv, "carol@example.com", false)
	r := scim(t, srv, http.MethodGet, `/scim/Groups?filter=displayName%20eq%20%22ml%22`, nil).want(t, 200)
	group := r.JSON["Resources"].([]any)[0].(map[string]any)
	id := group["id"].(string)
	members := group["members"].([]any)
	if len(members) != 2 || members[0].(map[string]any)["Display"] != "alice" || members[0].(map[string]any)["Ref"] != "" {
		t.Errorf("members %v", members)
	}
	if group["displayName"] != "ml" || group["meta"].(map[string]any)["resourceType"] != "Group" {
		t.Errorf("group %s", r.Body)
	}
	scim(t, srv, http.MethodGet, `/scim/Groups?filter=userName%20eq%20%22ml%22`, nil).wantSCIMError(t, 400, "invalid filter")
	path := "/scim/Groups/" + id
	teamsOf := func(email string) []string {
		info, _ := srv.UserByEmail(email)
		return info.Teams
	}

	// Add by email, remove by id with a filter path, the legacy list form,
	// remove all (members null), replace all with PUT.
	scim(t, srv, http.MethodPatch, path, patch("add", "members", []any{map[string]string{"value": "carol@example.com"}})).want(t, 200)
	if !cmp.Equal(teamsOf("carol@example.com"), []string{"ml"}) {
		t.Errorf("carol's teams %v", teamsOf("carol@example.com"))
	}
	carolID := scim(t, srv, http.MethodGet, `/scim/Users?filter=userName%20eq%20%22carol%22`, nil).JSON["Resources"].([]any)[0].(map[string]any)["id"].(string)
	scim(t, srv, http.MethodPatch, path, patch("remove", `members[value eq "`+carolID+`"]`, nil)).want(t, 200)
	if len(teamsOf("carol@example.com")) != 0 {
		t.Error("carol was not removed")
	}
	scim(t, srv, http.MethodPatch, path, patch("remove", `members[value eq \"`+carolID+`\"]`, nil)).want(t, 200) // not a member: no change
	bobID := scim(t, srv, http.MethodGet, `/scim/Users?filter=userName%20eq%20%22bob%22`, nil).JSON["Resources"].([]any)[0].(map[string]any)["id"].(string)
	scim(t, srv, http.MethodPatch, path, patch("remove", "members", []any{map[string]string{"value": bobID}})).want(t, 200)
	if len(teamsOf("bob@example.com")) != 0 || len(teamsOf("alice@example.com")) != 1 {
		t.Error("the legacy form did not remove only the listed member")
	}
	r = scim(t, srv, http.MethodPatch, path, patch("remove", "members", nil)).want(t, 200)
	if r.JSON["members"] != nil {
		t.Errorf("members after removing all: %v", r.JSON["members"])
	}
	r = scim(t, srv, http.MethodPut, path, map[string]any{"displayName": "ml", "members": []any{map[string]string{"value": bobID}}}).want(t, 200)
	if !cmp.Equal(teamsOf("bob@example.com"), []string{"ml"}) {
		t.Errorf("after PUT: bob's teams %v", teamsOf("bob@example.com"))
	}
	scim(t, srv, http.MethodPatch, path, patch("add", "members", []any{map[string]string{"value": "scim-u99"}})).wantSCIMError(t, 404, "no user")
	scim(t, srv, http.MethodPatch, path, patch("move", "members", nil)).wantSCIMError(t, 400, "unsupported operation")
	scim(t, srv, http.MethodDelete, path, nil).wantSCIMError(t, 405, "not supported through SCIM")
	scim(t, srv, http.MethodGet, "/scim/Groups/scim-t99", nil).wantSCIMError(t, 404, "no group")

	// Create.
	r = scim(t, srv, http.MethodPost, "/scim/Groups", map[string]any{"displayName": "vision", "members": []any{map[string]string{"value": "carol@example.com"}}}).want(t, 201)
	if !cmp.Equal(teamsOf("carol@example.com"), []string{"vision"}) {
		t.Errorf("carol's teams after create: %v", teamsOf("carol@example.com"))
	}
	scim(t, srv, http.MethodPost, "/scim/Groups", map[string]any{"displayName": "vision", "members": []any{}}).wantSCIMError(t, 409, "already exists")
	scim(t, srv, http.MethodPost, "/scim/Groups", map[string]any{"displayName": "Bad Name", "members": []any{}}).wantSCIMError(t, 400, "invalid team name")
}

func TestSCIMFaultsAndState(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state.json")
	srv := scimServer(t, wandbtest.WithStateFile(state))
	bobID := scim(t, srv, http.MethodGet, `/scim/Users?filter=userName%20eq%20%22bob%22`, nil).JSON["Resources"].([]any)[0].(map[string]any)["id"].(string)
	srv.FailNext("SCIMPatchUser", wandbtest.Fault{Status: 503, Body: `{"detail":"down"}`})
	scim(t, srv, http.MethodPatch, "/scim/Users/"+bobID, patch("replace", "", map[string]bool{"active": false})).want(t, 503)
	if info, _ := srv.UserByEmail("bob@example.com"); info.Inactive {
		t.Error("a faulted PATCH was applied")
	}
	scim(t, srv, http.MethodPatch, "/scim/Users/"+bobID, patch("replace", "", map[string]bool{"active": false})).want(t, 200)
	scim(t, srv, http.MethodPatch, "/scim/Users/"+bobID, patch("replace", "organizationRole", "viewer")).want(t, 200)
	if n := srv.Requests("SCIMPatchUser"); n != 3 {
		t.Errorf("SCIMPatchUser requests = %d", n)
	}
	srv.Close()
	again := wandbtest.Start(t, wandbtest.WithStateFile(state))
	info, _ := again.UserByEmail("bob@example.com")
	if !info.Inactive || !info.Viewer {
		t.Errorf("bob after restart = %+v", info)
	}
	if mi, _ := again.Team("ml"); mi.Members[1].Role != "viewer" {
		t.Errorf("bob's team role after restart: %q", mi.Members[1].Role)
	}
}
