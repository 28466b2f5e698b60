package wandb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// memberIDModes are the two ways wandbtest gives team members ids: their
// users' IDs, or ids of their own (which one W&B does is not public). The
// team tests that depend on it run in both.
var memberIDModes = []struct {
	name string
	opts []wandbtest.Option
}{{"user ids", nil}, {"distinct ids", []wandbtest.Option{wandbtest.WithDistinctMemberIDs()}}}

// inBothMemberIDModes runs test as a subtest for each of memberIDModes.
func inBothMemberIDModes(t *testing.T, test func(t *testing.T, opts ...wandbtest.Option)) {
	for _, mode := range memberIDModes {
		t.Run(mode.name, func(t *testing.T) { test(t, mode.opts...) })
	}
}

// serviceUserID returns the user ID of the service account named name.
func serviceUserID(t *testing.T, srv *wandbtest.Server, name string) string {
	t.Helper()
	for _, u := range srv.Users() {
		if u.Service && u.Name == name {
			return u.ID
		}
	}
	t.Fatalf("no service account %q on the server", name)
	return ""
}

// memberView is a Member as plain values, for comparisons.
type memberView struct {
	Name, Username, Email, AccountType string
	Admin, Pending                     bool
}

func viewMembers(ms []*Member) []memberView {
	out := []memberView{}
	for _, m := range ms {
		out = append(out, memberView{Name: m.Name, Username: deref(m.Username), Email: deref(m.Email),
			AccountType: deref(m.AccountType), Admin: deref(m.Admin), Pending: deref(m.Pending)})
	}
	return out
}

// serverIDs returns the member IDs the server lists for team, by email
// (service accounts by name).
func serverIDs(t *testing.T, srv *wandbtest.Server, team string) map[string]string {
	t.Helper()
	info, ok := srv.Team(team)
	if !ok {
		t.Fatalf("no team %s on the server", team)
	}
	ids := map[string]string{}
	for _, m := range info.Members {
		key := m.Email
		if key == "" {
			key = m.Name
		}
		ids[key] = m.ID
	}
	return ids
}

func TestTeam(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	c := testClient(t, srv)
	ctx := context.Background()
	team := mustTeam(t, c, "ml")
	info, _ := srv.Team("ml")
	if team.ID != info.ID || team.Name != "ml" || team.String() != "<Team ml>" || team.Client() != c {
		t.Errorf("team = %+v (%s)", team, team)
	}
	want := []memberView{
		{Name: "Alice", Username: "alice", Email: "alice@example.com", AccountType: "USER", Admin: true},
		{Name: "Bob", Username: "bob", Email: "bob@example.com", AccountType: "USER"},
		{Name: "Carol", Username: "carol", Email: "carol@example.com", AccountType: "USER", Pending: true},
	}
	if diff := cmp.Diff(want, viewMembers(team.Members())); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	ids := serverIDs(t, srv, "ml")
	for _, m := range team.Members() {
		if m.ID != ids[deref(m.Email)] || m.Team() != team {
			t.Errorf("member %s: ID %q, server's %q", m, m.ID, ids[deref(m.Email)])
		}
	}
	if got := team.Members()[0].String(); got != "<Member Alice (USER)>" {
		t.Errorf("member String = %q", got)
	}
	if got := (&Member{Name: "x"}).String(); got != "<Member x (None)>" {
		t.Errorf("member String without account type = %q", got)
	}
	if i := team.Info(); !i.CodeSavingEnabled || i.DefaultAccess == "" || i.EntityType == nil || i.Available == nil || *i.Available {
		t.Errorf("info = %+v", i)
	}
	// Members returns a copy.
	team.Members()[0] = nil
	if team.Members()[0] == nil {
		t.Error("Members shares its slice")
	}

	for name, code := range map[string]Code{"nope": CodeNotFound, "alice": CodeNotFound, " ": CodeInvalidArgument} {
		n := srv.Requests("GetTeamEntity")
		_, err := c.Team(ctx, name)
		asError(t, err, "team", code)
		if name == "alice" && !strings.Contains(err.Error(), "a user's entity") {
			t.Errorf("Team(alice): %v", err)
		}
		if code == CodeInvalidArgument && srv.Requests("GetTeamEntity") != n {
			t.Error("an empty name was sent")
		}
	}
}

func TestReload(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	c := testClient(t, srv)
	ctx := context.Background()
	team := mustTeam(t, c, "ml")
	if err := srv.AcceptInvite("ml", "carol@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddTeam("ml", "dave@example.com"); err != nil {
		t.Fatal(err)
	}
	if len(team.Members()) != 3 {
		t.Fatal("the team changed before Reload")
	}
	if err := team.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range viewMembers(team.Members()) {
		got = append(got, m.Username+map[bool]string{true: "(pending)"}[m.Pending])
	}
	if diff := cmp.Diff([]string{"alice", "bob", "carol", "dave"}, got); diff != "" {
		t.Errorf("members after Reload (-want +got):\n%s", diff)
	}
	asError(t, (&Team{Name: "ml"}).Reload(ctx), "reload_team", CodeInvalidArgument)
}

func TestCreateTeam(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	admin := testClient(t, srv)
	alice := clientFor(t, srv, admin, "alice@example.com")
	ctx := context.Background()

	team, err := alice.CreateTeam(ctx, "vision", "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]memberView{{Name: "Alice", Username: "alice", Email: "alice@example.com", AccountType: "USER", Admin: true}},
		viewMembers(team.Members())); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if req, _ := srv.LastRequest("CreateTeam"); req.Variables["teamAdminUserName"] != nil || req.Variables["teamName"] != "vision" {
		t.Errorf("CreateTeam variables = %v, want teamAdminUserName null", req.Variables)
	}
	team, err = admin.CreateTeam(ctx, "audio", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if ms := team.Members(); len(ms) != 1 || deref(ms[0].Username) != "bob" || !deref(ms[0].Admin) {
		t.Errorf("audio's members = %v", viewMembers(ms))
	}

	// The mutation's own errors, without a follow-up load.
	for _, tc := range []struct {
		c          *Client
		name, whom string
		code       Code
	}{
		{alice, "ml", "", CodeConflict},
		{alice, "bob", "", CodeConflict},
		{alice, "other", "bob", CodeForbidden},
		{admin, "other", "nobody", CodeNotFound},
		{admin, "Not Valid", "", CodeInvalidArgument},
	} {
		loads := srv.Requests("GetTeamEntity")
		_, err := tc.c.CreateTeam(ctx, tc.name, tc.whom)
		asError(t, err, "create_team", tc.code)
		if srv.Requests("GetTeamEntity") != loads {
			t.Errorf("CreateTeam(%s, %s): the failure was followed by a load", tc.name, tc.whom)
		}
	}
	n := srv.Requests("CreateTeam")
	_, err = admin.CreateTeam(ctx, "", "")
	asError(t, err, "create_team", CodeInvalidArgument)
	if srv.Requests("CreateTeam") != n {
		t.Error("an empty team name was sent")
	}
}

func TestInvite(t *testing.T) {
	t.Parallel()
	srv, admin, team := mlAsAlice(t)
	ctx := context.Background()

	// The SDK's variables (Team.invite): the entity, admin, and email or
	// username, the other left out rather than null.
	sent := func(want map[string]any) {
		t.Helper()
		req, _ := srv.LastRequest("CreateInvite")
		if diff := cmp.Diff(want, req.Variables); diff != "" {
			t.Errorf("variables (-want +got):\n%s", diff)
		}
	}
	dave, err := team.Invite(ctx, ByUsername("dave"), true)
	if err != nil {
		t.Fatal(err)
	}
	sent(map[string]any{"entity": "ml", "username": "dave", "admin": true})
	ext, err := team.Invite(ctx, ByEmail("erin@example.org"), false)
	if err != nil {
		t.Fatal(err)
	}
	sent(map[string]any{"entity": "ml", "email": "erin@example.org", "admin": false})
	ids := serverIDs(t, srv, "ml")
	if dave.ID != ids["dave@example.com"] || !deref(dave.Pending) || !deref(dave.Admin) || deref(dave.Username) != "dave" ||
		deref(dave.Email) != "dave@example.com" || dave.Team() != team {
		t.Errorf("dave's invite = %+v", viewMembers([]*Member{dave}))
	}
	if ext.ID != ids["erin@example.org"] || !deref(ext.Pending) || ext.Username != nil {
		t.Errorf("erin's invite = %+v", viewMembers([]*Member{ext}))
	}
	if ms := team.Members(); len(ms) != 5 || ms[3] != dave || ms[4] != ext {
		t.Errorf("the invites were not added to Members: %v", viewMembers(ms))
	}

	bob := clientFor(t, srv, admin, "bob@example.com")
	bobsTeam, err := bob.Team(ctx, "ml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		team *Team
		who  Invitee
		code Code
	}{
		{team, ByUsername("nobody"), CodeNotFound},
		{team, ByUsername("dave"), CodeConflict},
		{team, ByEmail("CAROL@example.com"), CodeConflict},
		{team, ByUsername("bob"), CodeConflict},
		{bobsTeam, ByEmail("x@example.com"), CodeForbidden},
	} {
		_, err := tc.team.Invite(ctx, tc.who, false)
		asError(t, err, "invite", tc.code)
	}
	n := srv.Requests("CreateInvite")
	for _, who := range []Invitee{{}, ByEmail("not an email"), ByEmail("Erin <erin@example.org>")} {
		_, err := team.Invite(ctx, who, false)
		asError(t, err, "invite", CodeInvalidArgument)
	}
	if srv.Requests("CreateInvite") != n {
		t.Error("an invalid invitee was sent")
	}
	if ByEmail("a@b.c").String() != "email a@b.c" || ByUsername("al").String() != "username al" {
		t.Error("Invitee.String")
	}
}

// TestCreateServiceAccount: the new account is returned whether members
// are listed by their users' IDs or by ids of their own, and even when the
// reloaded team does not show it: it was created, and is never reported
// as failed.
func TestCreateServiceAccount(t *testing.T) {
	t.Parallel()
	inBothMemberIDModes(t, testCreateServiceAccount)
}

func testCreateServiceAccount(t *testing.T, opts ...wandbtest.Option) {
	srv, admin, team := mlAsAlice(t, opts...)
	ctx := context.Background()
	sa, err := team.CreateServiceAccount(ctx, "CI bot")
	if err != nil {
		t.Fatal(err)
	}
	ids := serverIDs(t, srv, "ml")
	if sa.ID != ids["CI bot"] || sa.Name != "CI bot" || deref(sa.AccountType) != "SERVICE" || sa.Email != nil || deref(sa.Pending) {
		t.Errorf("service account = %+v (id %s), server's id %s", viewMembers([]*Member{sa}), sa.ID, ids["CI bot"])
	}
	distinct := len(opts) > 0
	if userID := serviceUserID(t, srv, "CI bot"); (sa.ID == userID) == distinct {
		t.Errorf("member id %s, user id %s: the mode is not what the test means to run", sa.ID, userID)
	}
	// The team lists pending invites after its members: the new account is
	// not its last member, which the SDK would have returned.
	ms := team.Members()
	if last := ms[len(ms)-1]; last == sa || !deref(last.Pending) {
		t.Errorf("the last member is %s: the test does not tell position from ID", last)
	}
	if u, _ := srv.UserByEmail("carol@example.com"); len(u.Teams) != 0 {
		t.Error("carol is a member")
	}
	if err := sa.Delete(ctx); err != nil {
		t.Errorf("deleting the service account: %v", err)
	}
	if _, ok := serverIDs(t, srv, "ml")["CI bot"]; ok {
		t.Error("the service account is still a member")
	}

	bob := clientFor(t, srv, admin, "bob@example.com")
	bobsTeam, err := bob.Team(ctx, "ml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = bobsTeam.CreateServiceAccount(ctx, "x")
	asError(t, err, "create_service_account", CodeForbidden)
	_, err = team.CreateServiceAccount(ctx, " ")
	asError(t, err, "create_service_account", CodeInvalidArgument)

	// The reloaded team does not show the new account (by id or
	// description), shows two that could be it, or does not load: the
	// account exists, so the call succeeds with what it knows, and warns.
	var logs logBuffer
	c := testClient(t, srv, func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		cfg.Retry.MaxAttempts = 1
	})
	team, err = c.Team(ctx, "ml")
	if err != nil {
		t.Fatal(err)
	}
	const entity = `{"data":{"entity":{"id":"RW50aXR5OjE=","name":"ml","readOnlyAdmin":false,"isTeam":true,` +
		`"privateOnly":false,"storageBytes":0,"codeSavingEnabled":true,"defaultAccess":"MEMBERS","members":[%s]}}}`
	const twin = `{"id":"%s","name":"twin","accountType":"SERVICE","pending":false}`
	for _, tc := range []struct {
		name   string
		reload wandbtest.Fault
		reason string
	}{
		{"ghost", wandbtest.Fault{Body: fmt.Sprintf(entity, "")}, "lists 0 new service accounts"},
		{"twin", wandbtest.Fault{Body: fmt.Sprintf(entity, fmt.Sprintf(twin, "TWVtYmVyOjkwMQ==")+","+fmt.Sprintf(twin, "TWVtYmVyOjkwMg=="))},
			"lists 2 new service accounts"},
		{"unloaded", wandbtest.Fault{Status: 503}, "reloading the team failed"},
	} {
		srv.FailNext("GetTeamEntity", tc.reload)
		sa, err := team.CreateServiceAccount(ctx, tc.name)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if sa.ID != serviceUserID(t, srv, tc.name) || sa.Name != tc.name || deref(sa.AccountType) != "SERVICE" || sa.Pending == nil || *sa.Pending || sa.Team() != team {
			t.Errorf("%s: service account = %+v (id %s)", tc.name, viewMembers([]*Member{sa}), sa.ID)
		}
		if n := logs.count("service account created, but not found"); n != 1 || logs.count(tc.reason) != 1 {
			t.Errorf("%s: %d warnings, want 1 saying %q:\n%s", tc.name, n, tc.reason, logs.String())
		}
		logs = logBuffer{}
	}
}

func TestMemberDelete(t *testing.T) {
	t.Parallel()
	inBothMemberIDModes(t, testMemberDelete)
}

func testMemberDelete(t *testing.T, opts ...wandbtest.Option) {
	srv, _, team := mlAsAlice(t, opts...)
	ctx := context.Background()
	ms := team.Members()
	bob, carol := ms[1], ms[2]
	if err := carol.Delete(ctx); err != nil { // a pending invite
		t.Fatal(err)
	}
	req, _ := srv.LastRequest("DeleteInvite")
	if diff := cmp.Diff(map[string]any{"id": carol.ID, "entity": "ml"}, req.Variables); diff != "" {
		t.Errorf("DeleteInvite variables (-want +got):\n%s", diff)
	}
	if err := bob.Delete(ctx); err != nil { // a member
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"alice@example.com"}, emailsOfMembers(team.Members())); diff != "" {
		t.Errorf("Members after deleting (-want +got):\n%s", diff)
	}
	if info, _ := srv.Team("ml"); len(info.Members) != 1 {
		t.Errorf("server's members = %+v", info.Members)
	}
	if u, _ := srv.UserByEmail("bob@example.com"); len(u.Teams) != 0 {
		t.Errorf("bob's teams = %v", u.Teams)
	}

	asError(t, bob.Delete(ctx), "delete_member", CodeNotFound)
	// success false is a definite no; a null result or success, twice,
	// leaves the member there after a check, so a definite failure too.
	for _, tc := range []struct {
		body, want string
		sends      int
	}{
		{`{"data":{"result":{"success":false}}}`, "did not delete the member (success: false)", 1},
		{`{"data":{"result":{"success":null}}}`, "did not confirm the deletion (success: null) (checked: the change was not applied)", 2},
		{`{"data":{"result":null}}`, "did not confirm the deletion (result: null) (checked: the change was not applied)", 2},
	} {
		for range tc.sends {
			srv.FailNext("DeleteInvite", wandbtest.Fault{Body: tc.body})
		}
		e := asError(t, team.Members()[0].Delete(ctx), "delete_member", CodeInternal)
		if !strings.HasSuffix(e.Message, tc.want) {
			t.Errorf("%s: %v, want %q", tc.body, e, tc.want)
		}
		if n := srv.PendingFaults("DeleteInvite"); n != 0 {
			t.Errorf("%s: %d faults left, want every send to have met one", tc.body, n)
		}
	}
	asError(t, (&Member{Name: "x", team: team}).Delete(ctx), "delete_member", CodeInvalidArgument)
	asError(t, (&Member{ID: "x"}).Delete(ctx), "delete_member", CodeInvalidArgument)
}

func emailsOfMembers(ms []*Member) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, deref(m.Email))
	}
	return out
}

// TestTeamOutcomesAfterLostAnswers: the answer to a mutation is lost after
// the request reached the server (the connection drops, before or after
// the server applied it). The call looks at the team to find out and ends
// in the true outcome, sending a mutation again only when it did not take
// effect.
func TestTeamOutcomesAfterLostAnswers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, applied := range []bool{true, false} {
		for _, mode := range memberIDModes {
			name := map[bool]string{true: "applied", false: "not applied"}[applied] + ", " + mode.name
			t.Run(name, func(t *testing.T) { testTeamOutcomeAfterLostAnswers(t, applied, mode.opts...) })
		}
	}

	t.Run("check fails", func(t *testing.T) {
		srv := teamServer(t)
		c := testClient(t, srv, func(cfg *Config) { cfg.Retry.MaxAttempts = 1 })
		team := mustTeam(t, c, "ml")
		srv.FailNext("CreateInvite", wandbtest.Fault{Drop: true, AfterApply: true})
		srv.FailNext("GetTeamEntity", wandbtest.Fault{Status: 503})
		_, err := team.Invite(ctx, ByUsername("dave"), false)
		e := asError(t, err, "invite", CodeUnknownOutcome)
		if !strings.HasPrefix(e.Message, "the change may have been applied: the connection was lost after the request was sent: ") ||
			!strings.Contains(e.Message, "(checking failed: service unavailable") ||
			!strings.HasSuffix(e.Message, "; reload the team and look at its members before trying again") {
			t.Errorf("error = %v", e)
		}
		if !errors.Is(err, &Error{Code: CodeTransport}) {
			t.Error("the unknown outcome does not wrap the transport failure")
		}
		srv.FailNext("CreateServiceAccount", wandbtest.Fault{Drop: true, AfterApply: true})
		srv.FailNext("GetTeamEntity", wandbtest.Fault{Status: 503})
		_, err = team.CreateServiceAccount(ctx, "CI")
		e = asError(t, err, "create_service_account", CodeUnknownOutcome)
		if !strings.Contains(e.Message, "(checking failed: ") {
			t.Errorf("error = %v", e)
		}
	})

	t.Run("someone else's team", func(t *testing.T) {
		// The answer is lost and the team exists, but not with the admin
		// asked for: it was there before, and the call reports a conflict.
		srv := teamServer(t)
		c := testClient(t, srv)
		srv.FailNext("CreateTeam", wandbtest.Fault{Drop: true})
		_, err := c.CreateTeam(ctx, "ml", "dave")
		e := asError(t, err, "create_team", CodeConflict)
		if !strings.Contains(e.Message, "not its admin") {
			t.Errorf("error = %v", e)
		}
	})
}

// testTeamOutcomeAfterLostAnswers: the answers to CreateTeam, CreateInvite,
// DeleteInvite and CreateServiceAccount are lost, before the server
// applied them or (applied) after.
func testTeamOutcomeAfterLostAnswers(t *testing.T, applied bool, opts ...wandbtest.Option) {
	ctx := context.Background()
	srv := teamServer(t, opts...)
	c := testClient(t, srv)
	lose := func(op string) { srv.FailNext(op, wandbtest.Fault{Drop: true, AfterApply: applied}) }
	wantSent := map[bool]int{true: 1, false: 2}[applied]

	lose("CreateTeam")
	team, err := c.CreateTeam(ctx, "vision", "alice")
	if err != nil {
		t.Fatalf("CreateTeam: %v", err)
	}
	if got := srv.Requests("CreateTeam"); got != wantSent {
		t.Errorf("CreateTeam sent %d times, want %d", got, wantSent)
	}

	lose("CreateInvite")
	inv, err := team.Invite(ctx, ByUsername("dave"), false)
	if err != nil {
		t.Fatalf("Invite: %v", err)
	}
	if got := srv.Requests("CreateInvite"); got != wantSent {
		t.Errorf("CreateInvite sent %d times, want %d", got, wantSent)
	}
	if inv.ID != serverIDs(t, srv, "vision")["dave@example.com"] {
		t.Errorf("the invite returned is not the server's")
	}

	lose("DeleteInvite")
	if err := inv.Delete(ctx); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got := srv.Requests("DeleteInvite"); got != wantSent {
		t.Errorf("DeleteInvite sent %d times, want %d", got, wantSent)
	}
	if info, _ := srv.Team("vision"); len(info.Members) != 1 {
		t.Errorf("vision's members = %+v", info.Members)
	}

	// A service account is never created twice: found when applied (and
	// returned with an unknown outcome: it may be another program's), an
	// error when not.
	lose("CreateServiceAccount")
	sa, err := team.CreateServiceAccount(ctx, "CI")
	if got := srv.Requests("CreateServiceAccount"); got != 1 {
		t.Errorf("CreateServiceAccount sent %d times", got)
	}
	if applied {
		if !errors.Is(err, ErrUnknownOutcome) || sa == nil || sa.ID != serverIDs(t, srv, "vision")["CI"] {
			t.Errorf("CreateServiceAccount = %v, %v", sa, err)
		}
	} else {
		// Checked: not there, so a definite failure (never resent).
		e := asError(t, err, "create_service_account", CodeTransport)
		if !strings.HasSuffix(e.Message, "(checked: the change was not applied)") {
			t.Errorf("error = %v", e)
		}
	}
}

func TestTeamConcurrentUse(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	c := testClient(t, srv)
	ctx := context.Background()
	team := mustTeam(t, c, "ml")
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 8 {
		wg.Go(func() {
			if _, err := team.Invite(ctx, ByEmail("user"+string(rune('a'+i))+"@example.org"), false); err != nil {
				errs <- err
			}
		})
		wg.Go(func() {
			if err := team.Reload(ctx); err != nil {
				errs <- err
			}
			_ = team.Members()
			_ = team.Info()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := team.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(team.Members()); n != 11 {
		t.Errorf("%d members after 8 invites, want 11", n)
	}
	if !errors.Is(func() error { _, err := c.Team(ctx, "nope"); return err }(), ErrNotFound) {
		t.Error("errors.Is(ErrNotFound) on a missing team")
	}
}

// TestCreatedIsNeverReportedFailed: a team or service account the server
// created is returned, and recorded ok, whatever happens to the read that
// follows; an answer that comes without the created object is settled by
// looking, not reported failed.
func TestCreatedIsNeverReportedFailed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := teamServer(t)
	var records []ChangeRecord
	admin := testClient(t, srv, func(cfg *Config) {
		cfg.OnChange = func(r ChangeRecord) {
			if r.Outcome != OutcomePending { // the intent, before the change
				records = append(records, r)
			}
		}
	})
	gone := wandbtest.Fault{Status: 400, Body: `{"errors":[{"message":"no answer"}]}`}

	// The load after the creation fails: the team is still returned.
	srv.FailNext("GetTeamEntity", gone)
	team, err := admin.CreateTeam(ctx, "vision", "")
	if err != nil || team.ID == "" || len(team.Members()) != 0 {
		t.Fatalf("CreateTeam = %v (id %q, %d members), %v", team, team.ID, len(team.Members()), err)
	}
	if err := team.Reload(ctx); err != nil || len(team.Members()) != 1 {
		t.Errorf("Reload: %v, members %v", err, viewMembers(team.Members()))
	}
	// Created, answered without the team: the check finds it.
	srv.FailNext("CreateTeam", wandbtest.Fault{AfterApply: true, Body: `{"data":{"result":null}}`})
	if team, err = admin.CreateTeam(ctx, "audio", ""); err != nil || len(team.Members()) != 1 {
		t.Fatalf("CreateTeam after an empty answer: %v, %v", team, err)
	}

	// A service account: the reload after it fails, then an answer
	// without the account.
	srv.FailNext("GetTeamEntity", gone)
	sa, err := team.CreateServiceAccount(ctx, "ci")
	if err != nil || deref(sa.AccountType) != "SERVICE" || sa.Name != "ci" {
		t.Fatalf("CreateServiceAccount = %v, %v", sa, err)
	}
	srv.FailNext("CreateServiceAccount", wandbtest.Fault{AfterApply: true, Body: `{"data":{"result":{"user":null}}}`})
	if sa, err = team.CreateServiceAccount(ctx, "deploy"); err != nil || sa.Name != "deploy" {
		t.Fatalf("CreateServiceAccount after an empty answer = %v, %v", sa, err)
	}
	if n := srv.Requests("CreateServiceAccount"); n != 2 {
		t.Errorf("CreateServiceAccount sent %d times, want 2 (never twice for one account)", n)
	}
	for _, r := range records {
		if r.Outcome != OutcomeOK {
			t.Errorf("record %+v, want ok", r)
		}
	}
	if len(records) != 4 {
		t.Errorf("%d records, want 4", len(records))
	}
}

// TestTeamRolesRememberedFollowMembership: a role this program set (which
// the server's admin flag cannot show, such as viewer) is forgotten when
// the program removes the member, and replaced when it adds one, so a
// member added again, here or by another program, shows as a member.
func TestTeamRolesRememberedFollowMembership(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	role := func(t *testing.T, team *Team, email string) string {
		t.Helper()
		if m := findMember(team, email); m != nil {
			return m.Role()
		}
		return "(not a member)"
	}
	t.Run("removed here, added again by another program", func(t *testing.T) {
		t.Parallel()
		srv := teamServer(t)
		c, other := testClient(t, srv), testClient(t, srv)
		team, bob := mustTeam(t, c, "ml"), mustUser(t, c, "bob")
		if err := team.SetRole(ctx, bob, RoleViewer); err != nil || role(t, team, "bob@example.com") != RoleViewer {
			t.Fatalf("SetRole: %v; role %q", err, role(t, team, "bob@example.com"))
		}
		if err := team.RemoveMember(ctx, bob); err != nil {
			t.Fatal(err)
		}
		if err := mustTeam(t, other, "ml").AddMember(ctx, mustUser(t, other, "bob"), ""); err != nil {
			t.Fatal(err)
		}
		if err := team.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if got := role(t, team, "bob@example.com"); got != RoleMember {
			t.Errorf("bob's role = %q, want member", got)
		}
	})
	t.Run("removed by another program, added again here", func(t *testing.T) {
		t.Parallel()
		srv := teamServer(t)
		c, other := testClient(t, srv), testClient(t, srv)
		team, bob := mustTeam(t, c, "ml"), mustUser(t, c, "bob")
		if err := team.SetRole(ctx, bob, RoleViewer); err != nil {
			t.Fatal(err)
		}
		if err := mustTeam(t, other, "ml").RemoveMember(ctx, mustUser(t, other, "bob")); err != nil {
			t.Fatal(err)
		}
		if err := team.AddMember(ctx, bob, ""); err != nil {
			t.Fatal(err)
		}
		if got := role(t, team, "bob@example.com"); got != RoleMember {
			t.Errorf("bob's role = %q, want member", got)
		}
	})
}
