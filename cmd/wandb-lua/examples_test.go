package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// The example scripts in scripts/examples, run by the binary against
// wandbtest, with their output compared to golden files in
// testdata/golden (go test ./cmd/wandb-lua -run TestExample -update
// rewrites them) and the server's state checked afterwards.

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var (
	// keyNameRE matches a key name as wandbtest mints them (the first 20
	// hex characters of a secret), which differ on every run.
	keyNameRE = regexp.MustCompile(`\b[0-9a-f]{20}\b`)
)

// golden compares out, with key names replaced by "<key name>" and each
// replace pair applied, to testdata/golden/name.txt.
func golden(t *testing.T, name, out string, replace ...string) {
	t.Helper()
	if masked(out) != out {
		t.Errorf("%s: the output contains a secret-shaped string", name)
		return
	}
	got := keyNameRE.ReplaceAllString(out, "<key name>")
	got = strings.NewReplacer(replace...).Replace(got)
	path := filepath.Join(repoRoot, "testdata", "golden", name+".txt")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s output differs from %s (-want +got):\n%s", name, path, diff)
	}
}

// runOK runs the binary and fails the test unless it exits 0.
func runOK(t *testing.T, env []string, args ...string) string {
	t.Helper()
	r := runBinary(t, env, "", args...)
	if r.code != 0 {
		t.Fatalf("wandb-lua %s: exit code %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, masked(r.stdout), masked(r.stderr))
	}
	return r.stdout
}

// keyEnv returns the environment that points the binary at srv as the
// user with the given email, with a newly minted key.
func keyEnv(t *testing.T, srv *wandbtest.Server, email string) []string {
	t.Helper()
	key, err := srv.AddAPIKey(email, "examples test")
	if err != nil {
		t.Fatal(err)
	}
	return []string{"WANDB_BASE_URL=" + srv.URL, "WANDB_API_KEY=" + key}
}

// serverKind is a deployment the examples' golden tests run on: Dedicated
// Cloud and Self-Managed (wandbtest's default), or Multi-tenant Cloud.
type serverKind struct {
	name        string
	multiTenant bool
}

var serverKinds = []serverKind{{name: "dedicated"}, {name: "multi-tenant", multiTenant: true}}

// start starts a server of kind k seeded with testdata/seed.json and
// opts.
func (k serverKind) start(t *testing.T, opts ...wandbtest.Option) *wandbtest.Server {
	t.Helper()
	opts = append([]wandbtest.Option{wandbtest.WithSeedFile(seedFile)}, opts...)
	if k.multiTenant {
		opts = append(opts, wandbtest.WithMultiTenant())
	}
	return wandbtest.Start(t, opts...)
}

// eachKind runs test once per server kind, as a subtest.
func eachKind(t *testing.T, test func(t *testing.T, k serverKind)) {
	for _, k := range serverKinds {
		t.Run(k.name, func(t *testing.T) { test(t, k) })
	}
}

func TestExampleQuickstart(t *testing.T) {
	t.Parallel()
	// Exactly the README's first command (with the built binary for "go run ./cmd/wandb-lua").
	golden(t, "quickstart_local", runOK(t, nil, "--local", "scripts/examples/quickstart.lua"))

	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	golden(t, "quickstart_alice_smith", runOK(t, keyEnv(t, srv, "alice.smith@example.com"), "scripts/examples/quickstart.lua"))
}

func TestExampleOnboard(t *testing.T) {
	t.Parallel()
	eachKind(t, testExampleOnboard)
}

func testExampleOnboard(t *testing.T, k serverKind) {
	srv := k.start(t)
	golden(t, "onboard", runOK(t, serverEnv(srv), "scripts/examples/onboard.lua", "testdata/users.csv"))
	for _, u := range []struct {
		email string
		admin bool
	}{{"erin@example.com", false}, {"frank@example.com", true}, {"grace@example.org", false}, {"heidi@example.com", true}} {
		info, ok := srv.UserByEmail(u.email)
		if !ok {
			t.Errorf("%s was not created", u.email)
		} else if info.Admin != u.admin {
			t.Errorf("%s: admin %v, want %v", u.email, info.Admin, u.admin)
		}
	}
	creations := srv.Requests("CreateUserFromAdmin")

	// Again, with another concurrency: everything is there now.
	golden(t, "onboard_again", runOK(t, serverEnv(srv), "scripts/examples/onboard.lua", "testdata/users.csv", "--concurrency", "2"))
	if got := srv.Requests("CreateUserFromAdmin") - creations; got != 0 {
		t.Errorf("the second run sent %d creations, want none", got)
	}

	r := runBinary(t, serverEnv(srv), "", "scripts/examples/onboard.lua", "no/such.csv")
	check(t, r, 1, ptr(""), "no/such.csv: no such file or directory")
	r = runBinary(t, serverEnv(srv), "", "scripts/examples/onboard.lua")
	check(t, r, 1, ptr(""), "usage: onboard.lua FILE.csv [--concurrency N]")
}

// TestExampleOnboardFiles: onboard.lua reads a file as Excel saves it,
// creates a user listed twice once, and rejects a file with a missing
// column or an unclear value before sending anything.
func TestExampleOnboardFiles(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}

	// A byte-order mark, CRLF, quoted fields, an empty row.
	out := runOK(t, serverEnv(srv), "scripts/examples/onboard.lua", "testdata/csv/excel.csv")
	want := "+ create_user erin@example.com admin=false (no such user)\n+ create_user frank@example.com admin=true (no such user)\n" +
		"+ create_user ivan@example.com admin=false (no such user)\n3 user(s): 3 change(s) made, 0 failed\n"
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("excel.csv (-want +got):\n%s", masked(diff))
	}

	// A repeat (in another case, with the same admin value) is one user;
	// an explicit "no" demotes an admin, an empty value leaves one.
	before := srv.Requests("CreateUserFromAdmin")
	dup := write("dup.csv", "email,admin\njudy@example.com,yes\nkim@example.com,\n JUDY@example.com ,TRUE\nfrank@example.com,no\ncarol@example.org,\n")
	out = runOK(t, serverEnv(srv), "scripts/examples/onboard.lua", dup)
	want = "duplicate JUDY@example.com (first on line 2)\n+ create_user judy@example.com admin=true (no such user)\n" +
		"+ create_user kim@example.com admin=false (no such user)\n~ set_role frank@example.com role=member (an instance admin now)\n" +
		"4 user(s): 3 change(s) made, 0 failed\n"
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("dup.csv (-want +got):\n%s", masked(diff))
	}
	if n := srv.Requests("CreateUserFromAdmin") - before; n != 2 {
		t.Errorf("sent %d creations, want 2", n)
	}
	if u, ok := srv.UserByEmail("judy@example.com"); !ok || !u.Admin {
		t.Errorf("judy: %+v, %v; want an admin", u, ok)
	}
	if u, _ := srv.UserByEmail("frank@example.com"); u.Admin {
		t.Error("frank is still an admin")
	}
	if u, _ := srv.UserByEmail("carol@example.org"); !u.Admin {
		t.Error("carol, left as she is, is no longer an admin")
	}

	// Bad files stop the script before any request.
	before = srv.Requests("")
	bad := write("bad.csv", "email,admin\nx@example.com,maybe\n,true\ny@example.com,yes\nY@example.com,no\n")
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/onboard.lua", bad), 1, ptr(""),
		bad+`:2: admin must be true or false (yes/no, 1/0 or empty), not "maybe"`+"\n"+
			bad+":3: no email\n"+
			bad+":5: Y@example.com is on line 4 too, with admin=true\nnothing was changed")
	noEmail := write("no_email.csv", "mail,admin\nx@example.com,true\n")
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/onboard.lua", noEmail), 1, ptr(""),
		noEmail+":1: no 'email' column (the columns are: mail, admin)")
	ragged := write("ragged.csv", "email,admin\nx@example.com,true,extra\n")
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/onboard.lua", ragged), 1, ptr(""),
		ragged+":2: 3 fields, but the header (line 1) has 2")
	if n := srv.Requests(""); n != before {
		t.Errorf("bad files sent %d requests", n-before)
	}
}

func TestExampleTeamOnboard(t *testing.T) {
	t.Parallel()
	eachKind(t, testExampleTeamOnboard)
}

func testExampleTeamOnboard(t *testing.T, k serverKind) {
	srv := k.start(t)
	golden(t, "team_onboard", runOK(t, serverEnv(srv), "scripts/examples/team_onboard.lua", "testdata/team_members.csv"))
	members := func(team string) []string {
		t.Helper()
		info, ok := srv.Team(team)
		if !ok {
			t.Fatalf("team %s does not exist", team)
		}
		var got []string
		for _, m := range info.Members {
			got = append(got, fmt.Sprintf("%s admin=%v pending=%v", m.Email, m.Admin, m.Pending))
		}
		slices.Sort(got) // the invitations were sent concurrently: their order is the server's
		return got
	}
	want := []string{"admin@example.com admin=true pending=false", "bob@example.com admin=false pending=true", "erin@example.com admin=true pending=true"}
	if diff := cmp.Diff(want, members("vision")); diff != "" {
		t.Errorf("vision's members (-want +got):\n%s", diff)
	}
	// dave, invited as a member, is the file's admin: invited again as one.
	want = []string{"alice.smith@example.com admin=false pending=false", "alice@example.com admin=true pending=false",
		"dave@example.com admin=true pending=true", "frank@example.org admin=false pending=true"}
	if diff := cmp.Diff(want, members("ml-research")); diff != "" {
		t.Errorf("ml-research's members (-want +got):\n%s", diff)
	}
	if _, ok := srv.UserByEmail("frank@example.org"); !ok {
		t.Error("frank was not created")
	}
	sent := srv.Requests("CreateInvite")

	// Again, one at a time: everything is there now.
	golden(t, "team_onboard_again", runOK(t, serverEnv(srv), "scripts/examples/team_onboard.lua", "testdata/team_members.csv", "--concurrency", "1"))
	if got := srv.Requests("CreateInvite") - sent; got != 0 {
		t.Errorf("the second run sent %d invitations, want none", got)
	}

	// A bad row stops the script before anything is sent.
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("email,team,role\nx@example.com,ml-research,owner\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := srv.Requests("")
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/team_onboard.lua", bad), 1, ptr(""),
		bad+`:2: role must be admin, member or empty, not "owner"`)
	if err := os.WriteFile(bad, []byte("email,team\nx@example.com,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/team_onboard.lua", bad), 1, ptr(""), bad+":2: each row needs an email and a team")
	if n := srv.Requests(""); n != before {
		t.Errorf("bad files sent %d requests", n-before)
	}
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/team_onboard.lua"), 1, ptr(""), "usage: team_onboard.lua FILE.csv [--concurrency N]")
}

func TestExampleKeyAudit(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	golden(t, "key_audit", runOK(t, serverEnv(srv), "scripts/examples/key_audit.lua", "example.com"))
	golden(t, "key_audit_all", runOK(t, serverEnv(srv), "scripts/examples/key_audit.lua"))
	if n := srv.Requests(""); n != 2 {
		t.Errorf("two audits sent %d requests, want 2", n)
	}
	// One user with one key: singular words.
	if got, want := runOK(t, nil, "--local", "scripts/examples/key_audit.lua"), "1 user\n  admin@example.com             1 key  (admin)\n1 key in all\n"; got != want {
		t.Errorf("key audit on a fresh --local server printed:\n%s\nwant:\n%s", masked(got), want)
	}

	// A server that lists nobody for an empty query (whether W&B lists
	// everyone is not public): the audit of all users fails in one line
	// instead of printing "0 users"; an audit with a query still works.
	empty := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile), wandbtest.WithEmptyUserQueryListsNobody())
	r := runBinary(t, serverEnv(empty), "", "scripts/examples/key_audit.lua")
	check(t, r, 1, ptr(""), "wandb-lua: wandb: users: the server listed nobody for an empty query")
	if lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n"); len(lines) != 1 {
		t.Errorf("stderr has %d lines, want 1:\n%s", len(lines), masked(r.stderr))
	}
	golden(t, "key_audit", runOK(t, serverEnv(empty), "scripts/examples/key_audit.lua", "example.com"))
}

func TestExampleOffboard(t *testing.T) {
	t.Parallel()
	eachKind(t, testExampleOffboard)
}

// testExampleOffboard: keys, then teams, then deactivation, which on
// Multi-tenant Cloud removes the user from the organisation; a second run
// finishes nothing more, and says so.
func testExampleOffboard(t *testing.T, k serverKind) {
	srv := k.start(t)
	multiTenant := k.multiTenant
	// The dry run changes nothing.
	golden(t, "offboard_dry_run", runOK(t, serverEnv(srv), "--dry-run", "scripts/examples/offboard.lua", "alice@example.com"))
	for _, op := range []string{"SCIMPatchUser", "SCIMPatchGroup", "DeleteApiKey"} {
		if n := srv.Requests(op); n != 0 {
			t.Errorf("the dry run sent %d %s", n, op)
		}
	}
	golden(t, "offboard", runOK(t, serverEnv(srv), "scripts/examples/offboard.lua", "alice@example.com"))
	info, there := srv.UserByEmail("alice@example.com")
	switch {
	case multiTenant && there:
		t.Errorf("alice is still in the organisation: %+v", info)
	case !multiTenant && (!info.Inactive || len(info.Keys) != 0 || len(info.Teams) != 0):
		t.Errorf("alice after offboarding: inactive %v, %d keys, teams %v", info.Inactive, len(info.Keys), info.Teams)
	}
	if info, _ := srv.UserByEmail("alice.smith@example.com"); len(info.Keys) != 1 || info.Inactive || len(info.Teams) != 2 {
		t.Errorf("alice.smith was touched: %+v", info)
	}
	// Again: nothing is left to do.
	again := "Offboarding <User alice@example.com>: revoke 0 API keys, leave 0 teams, deactivate\n  already deactivate\n1 step done, 0 failed\n"
	if multiTenant {
		again = "No user alice@example.com: nothing to offboard (already removed from the organisation, or never in it)\n"
	}
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/offboard.lua", "alice@example.com"), 0, ptr(again))

	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/offboard.lua", "admin"), 1, ptr(""),
		"wandb-lua: refusing to offboard <User admin@example.com>: that is the key running this script")
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/offboard.lua", "nobody@example.com"), 0,
		ptr("No user nobody@example.com: nothing to offboard (already removed from the organisation, or never in it)\n"))
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/offboard.lua"), 1, ptr(""), "usage: offboard.lua USER (an email or username")
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/offboard.lua", "bob", "--dry-run"), 1, ptr(""), "add --dry-run before the script")
	// A partial match is refused: offboarding needs the exact user.
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/offboard.lua", "smith"), 1, ptr(""),
		`wandb-lua: wandb: user: no user's username or email is exactly "smith"; 1 partly matches: <User alice.smith@example.com>`)
	if info, _ := srv.UserByEmail("alice.smith@example.com"); len(info.Keys) != 1 || info.Inactive {
		t.Errorf("alice.smith after a partial match: %+v", info)
	}
	// dave has a pending invitation to ml-research: withdrawn.
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/offboard.lua", "dave@example.com"), 0, ptr(
		"Offboarding <User dave@example.com>: revoke 0 API keys, leave 0 teams, withdraw 1 invitation, deactivate\n"+
			"  done    withdraw the invitation to ml-research\n  done    deactivate\n2 steps done, 0 failed\n"))
	if info, _ := srv.Team("ml-research"); slices.ContainsFunc(info.Members, func(m wandbtest.MemberInfo) bool { return m.Email == "dave@example.com" }) {
		t.Error("dave's invitation to ml-research remains")
	}
	// An instance admin loses the rights before the account goes: whoever
	// reactivates it does not get an admin back.
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/offboard.lua", "carol"), 0, nil)
	if info, there := srv.UserByEmail("carol@example.org"); there && (info.Admin || !info.Inactive) {
		t.Errorf("carol after offboarding: %+v", info)
	}
	// Username and case-insensitive email are exact matches.
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/offboard.lua", "Bob@Example.com"), 0, nil)
	if info, there := srv.UserByEmail("bob@example.com"); there && (!info.Inactive || len(info.Keys) != 0) {
		t.Errorf("bob after offboarding: %+v", info)
	}
}

// TestExampleOffboardAsAnOrganisationAdmin: on Multi-tenant Cloud, a key
// the server refuses user search (an organisation admin, as the SDK
// documents user search for local admins only) finds the user and their
// teams through SCIM, says it cannot see their keys, and finishes.
func TestExampleOffboardAsAnOrganisationAdmin(t *testing.T) {
	t.Parallel()
	srv := serverKinds[1].start(t, wandbtest.WithUserSearchDenied())
	golden(t, "offboard_org_admin", runOK(t, serverEnv(srv), "scripts/examples/offboard.lua", "alice@example.com"))
	if _, there := srv.UserByEmail("alice@example.com"); there {
		t.Error("alice is still in the organisation")
	}
	if info, ok := srv.Team("ml-research"); !ok || len(info.Members) != 2 { // alice.smith and dave's invite
		t.Errorf("ml-research = %+v", info)
	}
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/offboard.lua", "alice@example.com"), 0,
		ptr("No user alice@example.com: nothing to offboard (already removed from the organisation, or never in it)\n"))
}

// TestExampleOffboardThroughAnOutage: answers lost after the server applied
// a change, and a step that keeps failing. Each step ends in its true
// outcome; the failed step is reported, deactivation waits for it, and a
// second run finishes the job.
func TestExampleOffboardThroughAnOutage(t *testing.T) {
	t.Parallel()
	eachKind(t, testExampleOffboardThroughAnOutage)
}

func testExampleOffboardThroughAnOutage(t *testing.T, k serverKind) {
	srv := k.start(t)
	// The second key's deletion applied, its answer lost.
	srv.FailNext("DeleteApiKey", wandbtest.Fault{}, wandbtest.Fault{Drop: true, AfterApply: true})
	// Removing alice from her team fails twice, before the server applies it.
	down := wandbtest.Fault{Status: 503, Body: "<html><body>upstream down</body></html>"}
	srv.FailNext("SCIMPatchGroup", down, down)
	r := runBinary(t, serverEnv(srv), "", "scripts/examples/offboard.lua", "alice@example.com")
	check(t, r, 1, nil, "1 step of <User alice@example.com> failed (remove from team ml-research): run the script again to finish")
	want := []string{"  FAILED  remove from team ml-research: wandb: remove_member: upstream down (checked: the change was not applied) (HTTP 503)",
		"  skipped deactivate: it comes once every step above is done", "2 steps done, 1 failed, 1 skipped"}
	for _, line := range want {
		if !strings.Contains(r.stdout, line+"\n") {
			t.Errorf("stdout lacks %q:\n%s", line, masked(r.stdout))
		}
	}
	if n := strings.Count(r.stdout, "  done    revoke key "); n != 2 {
		t.Errorf("%d keys reported revoked, want 2:\n%s", n, masked(r.stdout))
	}
	info, _ := srv.UserByEmail("alice@example.com")
	if info.Inactive || len(info.Keys) != 0 || len(info.Teams) != 1 {
		t.Errorf("alice after the outage: %+v", info)
	}
	if n := srv.Requests("DeleteApiKey"); n != 2 {
		t.Errorf("key deletions sent %d times, want 2", n)
	}
	if n := srv.Requests("SCIMPatchUser"); n != 0 {
		t.Errorf("deactivation sent %d times before the other steps were done", n)
	}
	// After the outage, the second run does what is left, through a lost
	// answer to the deactivation.
	srv.FailNext("SCIMPatchUser", wandbtest.Fault{Drop: true, AfterApply: true})
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/offboard.lua", "alice@example.com"), 0,
		ptr("Offboarding <User alice@example.com>: revoke 0 API keys, leave 1 team, deactivate\n  done    remove from team ml-research\n  done    deactivate\n2 steps done, 0 failed\n"))
	if info, there := srv.UserByEmail("alice@example.com"); there && (len(info.Teams) != 0 || !info.Inactive) {
		t.Errorf("alice after the second run: %+v", info)
	}
	if n := srv.Requests("SCIMPatchUser"); n != 1 {
		t.Errorf("deactivation sent %d times, want 1 (its lost answer was checked)", n)
	}
}

func TestExampleRotateKeys(t *testing.T) {
	t.Parallel()
	eachKind(t, testExampleRotateKeys)
}

func testExampleRotateKeys(t *testing.T, k serverKind) {
	srv := k.start(t)
	env := keyEnv(t, srv, "bob@example.com") // bob: the seeded key and this one
	oldKey := strings.TrimPrefix(env[1], "WANDB_API_KEY=")
	dir := t.TempDir()
	path := filepath.Join(dir, "new.key")

	r := runBinary(t, env, "", "scripts/examples/rotate_keys.lua", path)
	if r.code != 0 {
		t.Fatalf("exit code %d\nstderr:\n%s", r.code, masked(r.stderr))
	}
	golden(t, "rotate_keys", r.stdout, dir, "$TMP")

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(string(b))
	if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(secret) {
		t.Fatal("the file does not hold a 40-hex-character key")
	}
	if strings.Contains(r.stdout, secret) || strings.Contains(r.stderr, secret) {
		t.Error("the new secret was printed")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v (%v), want 0600", fi.Mode(), err)
	}
	info, _ := srv.UserByEmail("bob@example.com")
	if len(info.Keys) != 1 || info.Keys[0].Name != secret[:20] {
		t.Errorf("bob has %d keys after rotation, want only the new one", len(info.Keys))
	}

	// The new key works; the old one is gone.
	const who = "print(assert(require('wandb').viewer()).email)"
	check(t, runBinary(t, []string{"WANDB_BASE_URL=" + srv.URL, "WANDB_API_KEY=" + secret}, "", "-e", who), 0, ptr("bob@example.com\n"))
	r = runBinary(t, []string{"WANDB_BASE_URL=" + srv.URL, "WANDB_API_KEY=" + oldKey}, "", "-e", who)
	check(t, r, 1, ptr(""), "wandb-lua: wandb: viewer: the server at "+srv.URL+" rejected the API key from WANDB_API_KEY (it is revoked")

	check(t, runBinary(t, env, "", "scripts/examples/rotate_keys.lua"), 1, ptr(""), "usage: rotate_keys.lua FILE")
}

// TestExampleServerCheck: server_check.lua reports, read-only, what the
// server does where wandbtest only assumes; against the assumed defaults
// and against a server that plays each the other way.
func TestExampleServerCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		golden string
		opts   []wandbtest.Option
	}{
		{"server_check", nil},
		{"server_check_other", []wandbtest.Option{wandbtest.WithSCIMRolesOnRead(), wandbtest.WithDistinctMemberIDs(),
			wandbtest.WithEmptyUserQueryListsNobody()}},
		{"server_check_denied", []wandbtest.Option{wandbtest.WithUserSearchDenied(), wandbtest.WithMultiTenant()}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			srv := wandbtest.Start(t, append([]wandbtest.Option{wandbtest.WithSeedFile(seedFile)}, tc.opts...)...)
			if err := srv.AddTeam("platform", wandbtest.AdminEmail); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.golden, runOK(t, serverEnv(srv), "--read-only", "scripts/examples/server_check.lua"))
			if n := serverMutations(srv); n != 0 {
				t.Errorf("%d changes were sent", n)
			}
		})
	}
}

// TestEveryExampleIsTestedAndListed checks that each script in
// scripts/examples is run by a test in this file and has a row in
// README.md's table of examples, and that each row is a script there, so
// a new example cannot ship untested or undocumented.
func TestEveryExampleIsTestedAndListed(t *testing.T) {
	t.Parallel()
	scripts, err := filepath.Glob(filepath.Join(repoRoot, "scripts", "examples", "*.lua"))
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) < 5 {
		t.Fatalf("found %d example scripts, want at least 5", len(scripts))
	}
	tests, err := os.ReadFile("examples_test.go")
	if err != nil {
		t.Fatal(err)
	}
	listed := exampleTable(t)
	for _, s := range scripts {
		name := filepath.Base(s)
		if !strings.Contains(string(tests), `"scripts/examples/`+name+`"`) {
			t.Errorf("no test in examples_test.go runs scripts/examples/%s", name)
		}
		if !listed[name] {
			t.Errorf("README.md's table of examples does not list %s", name)
		}
		delete(listed, name)
	}
	for name := range listed {
		t.Errorf("README.md's table of examples lists %s, which is not in scripts/examples", name)
	}
}

// exampleTable returns the scripts README.md's table of examples lists:
// in the section "## The examples", the first word of each table row's
// first cell, a code span ("| `onboard.lua FILE.csv` | ...").
func exampleTable(t *testing.T) map[string]bool {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## The examples\n")
	if !ok {
		t.Fatal(`README.md has no section "## The examples"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	listed := map[string]bool{}
	for _, line := range strings.Split(section, "\n") {
		cell, ok := strings.CutPrefix(line, "| `")
		if !ok {
			continue
		}
		code, _, _ := strings.Cut(cell, "`")
		if f := strings.Fields(code); len(f) > 0 {
			listed[f[0]] = true
		}
	}
	if len(listed) == 0 {
		t.Fatal("README.md's section \"The examples\" has no table of scripts")
	}
	return listed
}

// TestExampleOnboardLostAnswer: a creation whose answer is lost, and
// whose user is there afterwards, is reported as there, not as created by
// this run: nothing tells which.
func TestExampleOnboardLostAnswer(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	srv.FailNext("CreateUserFromAdmin", wandbtest.Fault{Drop: true, AfterApply: true})
	csv := filepath.Join(t.TempDir(), "one.csv")
	if err := os.WriteFile(csv, []byte("email,admin\nerin@example.com,no\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runBinary(t, serverEnv(srv), "", "scripts/examples/onboard.lua", csv)
	check(t, r, 1, ptr("+ create_user erin@example.com admin=false (no such user)\n"+
		"FAILED  "+csv+":2: create_user erin@example.com: "+
		"wandb: create_user: the change may have been applied: the connection was lost after the request was sent: "+
		"Post \""+srv.URL+"/graphql\": EOF (could not check: erin@example.com exists now, but a user this call created, "+
		"one another program created meanwhile and one that was there already (its answer, a conflict, lost) look the same); "+
		"look the user up by email before creating it again\n1 user(s): 0 change(s) made, 1 failed\n"),
		"1 change(s) failed: run the script again to finish")
	// Run again: there, nothing to do.
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/onboard.lua", csv), 0, ptr("no changes\n1 user(s): 0 change(s) made, 0 failed\n"))
}

// TestExampleSync: sync.lua brings the server in line with a CSV or JSON
// file, prunes only when asked, and a second run changes nothing.
func TestExampleSync(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	dir := t.TempDir()
	csv := filepath.Join(dir, "people.csv")
	if err := os.WriteFile(csv, []byte("email,team,role,admin\nalice@example.com,ml-research,admin,\n"+
		"bob@example.com,ml-research,member,yes\nzed@example.com,,,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/sync.lua", csv), 0, ptr(
		"+ create_user zed@example.com admin=false (no such user)\n"+
			"~ set_role bob@example.com role=admin (not an instance admin now)\n"+
			"+ invite bob@example.com to team ml-research admin=false (not a member or invited)\n"+
			"3 change(s) made, 0 failed\n"))
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/sync.lua", csv), 0, ptr("no changes\n0 change(s) made, 0 failed\n"))

	// JSON, pruning: ml-research's other members and invitations go.
	js := filepath.Join(dir, "state.json")
	if err := os.WriteFile(js, []byte(`{"memberships": [{"email": "alice@example.com", "team": "ml-research", "role": "admin"},
		{"email": "bob@example.com", "team": "ml-research"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	golden(t, "sync_prune", runOK(t, serverEnv(srv), "scripts/examples/sync.lua", js, "--prune"))
	info, _ := srv.Team("ml-research")
	var got []string
	for _, m := range info.Members {
		got = append(got, m.Email)
	}
	slices.Sort(got)
	if diff := cmp.Diff([]string{"alice@example.com", "bob@example.com"}, got); diff != "" {
		t.Errorf("ml-research after pruning (-want +got):\n%s", diff)
	}
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/sync.lua", js, "--prune"), 0, ptr("no changes\n0 change(s) made, 0 failed\n"))

	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/sync.lua"), 1, ptr(""), "usage: sync.lua FILE.csv|FILE.json")
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("email,team,role\nx@example.com,t,owner\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/sync.lua", bad), 1, ptr(""), bad+`:2: role must be admin, member or empty, not "owner"`)
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/sync.lua", csv, "extra"), 1, ptr(""), "usage: sync.lua")
	// Rows that contradict each other are refused, not settled by the first.
	both := filepath.Join(dir, "both.csv")
	if err := os.WriteFile(both, []byte("email,team,role,admin\nbob@example.com,vision,member,\nbob@example.com,platform,member,true\nbob@example.com,,,no\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/sync.lua", both), 1, ptr(""),
		"wandb: plan: bob@example.com is listed twice with different wishes (admin true and false")
}

// exactRuns are the example runs whose dry run must predict the real run
// exactly, on the same starting state (testdata/seed.json).
var exactRuns = [][]string{
	{"scripts/examples/onboard.lua", "testdata/users.csv"},
	{"scripts/examples/team_onboard.lua", "testdata/team_members.csv"},
	{"scripts/examples/sync.lua", "testdata/team_members.csv"},
	{"scripts/examples/offboard.lua", "alice@example.com"},
	{"scripts/examples/reclaim_seats.lua", "365", "--report", "-"},
	{"scripts/examples/rotate_keys.lua", "-"}, // a rotation each run: no second-run check
}

// TestDryRunIsExact: for each example, a dry run and a real run on two
// servers with the same starting state: the dry run's plan lines are the
// changes the real run makes, one for one (as the audit logs record
// them), and a real run after that makes no change.
func TestDryRunIsExact(t *testing.T) {
	t.Parallel()
	changes := func(t *testing.T, path, outcome string) []string {
		t.Helper()
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if line == "" {
				continue
			}
			var r struct{ Op, Target, Details, Outcome string }
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatal(err)
			}
			if r.Op == "delete_api_key" {
				r.Target = "<key>" // key names differ from server to server
			}
			if r.Outcome == outcome {
				out = append(out, r.Op+" "+r.Target+" "+r.Details)
			}
		}
		slices.Sort(out)
		return out
	}
	for _, run := range exactRuns {
		t.Run(filepath.Base(run[0]), func(t *testing.T) {
			dir := t.TempDir()
			dry, real, again := filepath.Join(dir, "dry.jsonl"), filepath.Join(dir, "real.jsonl"), filepath.Join(dir, "again.jsonl")
			if i := slices.Index(run, "-"); i >= 0 { // a report file
				run = slices.Clone(run)
				run[i] = filepath.Join(dir, "report.csv")
			}
			r := runBinary(t, serverEnv(wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))), "", append([]string{"--dry-run", "--audit", dry}, run...)...)
			check(t, r, 0, nil)
			planned := changes(t, dry, "dry_run")
			if n := strings.Count(r.stderr, "dry-run: "); n != len(planned) {
				t.Errorf("%d plan lines, %d dry-run records", n, len(planned))
			}
			srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
			runOK(t, serverEnv(srv), append([]string{"--audit", real}, run...)...)
			made := changes(t, real, "ok")
			if diff := cmp.Diff(planned, made); diff != "" || len(made) == 0 {
				t.Errorf("the dry run's changes and the real run's (-dry +real):\n%s", masked(diff))
			}
			if n := len(changes(t, real, "failed")) + len(changes(t, real, "unknown")); n != 0 {
				t.Errorf("%d changes did not succeed", n)
			}
			if filepath.Base(run[0]) == "rotate_keys.lua" {
				return
			}
			runOK(t, serverEnv(srv), append([]string{"--audit", again}, run...)...)
			if second := changes(t, again, "ok"); len(second) != 0 {
				t.Errorf("a second run made changes: %s", masked(fmt.Sprint(second)))
			}
		})
	}
}

// TestExampleKeyReport: key_report.lua writes every user's keys (names,
// never secrets) and standing to a CSV file readable by its owner only,
// and changes nothing.
func TestExampleKeyReport(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	path := filepath.Join(t.TempDir(), "keys.csv")
	out := runOK(t, serverEnv(srv), "scripts/examples/key_report.lua", path, "example.com")
	if out != "5 user(s), 5 key(s): "+path+"\n" {
		t.Errorf("stdout %q", masked(out))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "key_report", string(b))
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("report mode %v, %v", fi.Mode(), err)
	}
	if n := serverMutations(srv); n != 0 {
		t.Errorf("%d changes were sent", n)
	}
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/key_report.lua"), 1, ptr(""), "usage: key_report.lua FILE.csv [QUERY]")
}

// TestExampleReclaimSeats: reclaim_seats.lua deactivates, through a plan,
// the users idle for DAYS or more (never active: counted from their
// creation), keeps the protected ones, you, and those whose standing is
// not known, writes a report, and a second run changes nothing.
func TestExampleReclaimSeats(t *testing.T) {
	t.Parallel()
	recent := time.Now().UTC().Add(-24 * time.Hour).Format(time.RFC3339)
	old := "2020-01-02T03:04:05Z"
	srv := wandbtest.Start(t, wandbtest.WithSeed(wandbtest.Seed{Users: []wandbtest.SeedUser{
		{Email: "idle@example.com", CreatedAt: old, LastActiveAt: old, DaysActive: 3},
		{Email: "never@example.com", CreatedAt: old},
		{Email: "new@example.com", CreatedAt: recent},
		{Email: "busy@example.com", CreatedAt: old, LastActiveAt: recent, DaysActive: 300},
		{Email: "keep@example.com", CreatedAt: old, LastActiveAt: old},
		{Email: "gone@example.com", CreatedAt: old, Active: new(bool)},
	}}))
	dir := t.TempDir()
	protect := filepath.Join(dir, "protect.csv")
	if err := os.WriteFile(protect, []byte("email\nKEEP@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "report.csv")
	args := []string{"scripts/examples/reclaim_seats.lua", "365", "--protect", protect, "--report", report}
	dry := runBinary(t, serverEnv(srv), "", append([]string{"--dry-run"}, args...)...)
	check(t, dry, 0, nil)
	if n := strings.Count(dry.stderr, "dry-run: deactivate "); n != 2 || serverMutations(srv) != 0 {
		t.Errorf("the dry run planned %d deactivations, sent %d changes", n, serverMutations(srv))
	}
	golden(t, "reclaim_seats", runOK(t, serverEnv(srv), args...), report, "$REPORT")
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]string{}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, ",")
		if i > 0 {
			actions[f[0]] = f[len(f)-1]
		}
	}
	if diff := cmp.Diff(map[string]string{"admin@example.com": "you", "gone@example.com": "deactivated already",
		"idle@example.com": "deactivate", "keep@example.com": "protected", "never@example.com": "deactivate"}, actions); diff != "" {
		t.Errorf("the report's actions (-want +got):\n%s", masked(diff))
	}
	for email, inactive := range map[string]bool{"idle@example.com": true, "never@example.com": true, "new@example.com": false,
		"busy@example.com": false, "keep@example.com": false} {
		if info, _ := srv.UserByEmail(email); info.Inactive != inactive {
			t.Errorf("%s: inactive %v, want %v", email, info.Inactive, inactive)
		}
	}
	sent := serverMutations(srv)
	check(t, runBinary(t, serverEnv(srv), "", args...), 0, nil)
	if n := serverMutations(srv) - sent; n != 0 {
		t.Errorf("a second run sent %d changes", n)
	}
	check(t, runBinary(t, serverEnv(srv), "", "scripts/examples/reclaim_seats.lua", "soon"), 1, ptr(""), "usage: reclaim_seats.lua DAYS")
}

// TestExampleReclaimSeatsActivityNotKnown: a user whose standing the
// server shows (active) but neither when they were last active nor when
// they were created cannot be assessed: reclaim_seats.lua reports them as
// such and keeps them.
func TestExampleReclaimSeatsActivityNotKnown(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeed(wandbtest.Seed{Users: []wandbtest.SeedUser{{Email: "quiet@example.com"}}}))
	// The SCIM listing, as the server gives it, without the times of
	// quiet@example.com.
	scimUser := func(id, username, email, times string) string {
		return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"` + id + `","userName":"` + username +
			`","displayName":"` + username + `","active":true,"emails":{"Value":"` + email + `","Primary":true},` +
			`"meta":{"resourceType":"User","location":"Users/` + id + `"` + times + `}}`
	}
	body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":2,"startIndex":1,"itemsPerPage":9999,"Resources":[` +
		scimUser("scim-u1", "admin", wandbtest.AdminEmail, `,"created":"2020-01-02T03:04:05Z"`) + "," +
		scimUser("scim-u2", "quiet", "quiet@example.com", "") + `]}`
	srv.FailNext("SCIMListUsers", wandbtest.Fault{Body: body})
	report := filepath.Join(t.TempDir(), "report.csv")
	out := runOK(t, serverEnv(srv), "scripts/examples/reclaim_seats.lua", "365", "--report", report)
	if want := "0 user(s) idle for 365 day(s) or more; report: " + report + "\nno changes\n0 change(s) made, 0 failed\n"; out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", masked(out), want)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\nquiet@example.com,,,,,activity not known\n") {
		t.Errorf("the report does not list quiet@example.com as not known:\n%s", masked(string(b)))
	}
	if n := serverMutations(srv); n != 0 {
		t.Errorf("%d changes were sent", n)
	}
}

// TestExampleFailuresNameTheLine: the examples read a header named in any
// case (an HR export's "Email"), refuse a malformed address before
// anything is sent, naming its line, and name the CSV line of a change
// that fails; each failure is reported in one line, without a traceback.
func TestExampleFailuresNameTheLine(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	write := func(name, text string) string { return writeScript(t, name, text) }
	oneLine := func(t *testing.T, r result, want string) {
		t.Helper()
		if r.code != 1 || r.stderr != "wandb-lua: "+want+"\n" {
			t.Errorf("exit code %d, stderr %q\nwant 1 and %q", r.code, masked(r.stderr), "wandb-lua: "+want+"\n")
		}
	}

	// Headers in any case; addresses as an export writes them.
	people := write("people.csv", "EMAIL,Team,ROLE\n Nia@Example.COM ,vision,Admin\nbob@example.com,vision,\n")
	out := runOK(t, serverEnv(srv), "scripts/examples/team_onboard.lua", people)
	if !strings.Contains(out, "+ create_user Nia@example.com admin=false (no such user)\n") ||
		!strings.Contains(out, "+ invite Nia@example.com to team vision admin=true (not a member or invited)\n") {
		t.Errorf("team_onboard.lua with an export's header:\n%s", masked(out))
	}
	out = runOK(t, serverEnv(srv), "scripts/examples/onboard.lua", write("users.csv", "Email,Admin\nomar@example.com,yes\n"))
	if !strings.Contains(out, "+ create_user omar@example.com admin=true (no such user)\n") {
		t.Errorf("onboard.lua with an export's header:\n%s", masked(out))
	}

	// A malformed address stops each script before anything is sent.
	before := srv.Requests("")
	bad := write("bad.csv", "email,team,role\nok@example.com,vision,\nsam.wu@acme-ml,vision,\n")
	msg := bad + `:3: invalid email address "sam.wu@acme-ml": the domain "acme-ml" has no dot; want a full domain such as "acme-ml.com"`
	for _, script := range []string{"scripts/examples/team_onboard.lua", "scripts/examples/sync.lua"} {
		oneLine(t, runBinary(t, serverEnv(srv), "", script, bad), msg)
	}
	r := runBinary(t, serverEnv(srv), "", "scripts/examples/onboard.lua", bad)
	oneLine(t, r, msg+"\nnothing was changed")
	if n := srv.Requests(""); n != before {
		t.Errorf("malformed addresses sent %d requests", n-before)
	}

	// A change that fails names the line that asked for it.
	srv.FailNext("CreateInvite", wandbtest.Fault{Status: 403, Body: `{"errors":[{"message":"not allowed"}]}`})
	two := write("two.csv", "email,team\nalice@example.com,ml-research\npia@example.com,audio\n") // alice is a member: one invitation
	r = runBinary(t, serverEnv(srv), "", "scripts/examples/team_onboard.lua", two)
	if !strings.Contains(r.stdout, "FAILED  "+two+":3: invite pia@example.com (team audio): wandb: invite: not allowed (HTTP 403)\n") {
		t.Errorf("stdout:\n%s", masked(r.stdout))
	}
	oneLine(t, r, "1 change(s) failed: run the script again to finish")
}
