package wandb

import (
	"bytes"
	"context"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// planDesired is the state TestPlan asks for on teamServer's seed: alice
// (a team admin of ml, not an instance admin) made an instance admin; erin
// created; carol, invited to ml as a member, wanted as its admin; bob, a
// member of ml, made its admin; frank invited; the team vision created
// with bob; dave deactivated.
func planDesired() Desired {
	yes, no := true, false
	return Desired{
		Users: []DesiredUser{
			{Email: "alice@example.com", Admin: &yes},
			{Email: "erin@example.com", Admin: &no},
			{Email: "bob@example.com"},
			{Email: "dave@example.com", Active: &no},
		},
		Memberships: []DesiredMembership{
			{Team: "ml", Email: "carol@example.com", Role: "admin"},
			{Team: "ml", Email: "bob@example.com", Role: "admin"},
			{Team: "ml", Email: "alice@example.com"},
			{Team: "ml", Email: "frank@example.org", Role: "member"},
			{Team: "vision", Email: "bob@example.com", Role: "member"},
		},
		Teams: []string{"vision"},
	}
}

// TestPlan: a plan lists exactly the changes that bring the server to the
// desired state; a dry run of it prints one plan line per change and
// changes nothing; applying it makes them; a second plan is empty.
func TestPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := teamServer(t)
	var lines bytes.Buffer
	dry := testClient(t, srv, func(cfg *Config) { cfg.DryRun, cfg.DryRunOutput = true, &lines })
	want := []string{
		"+ create_user erin@example.com admin=false (no such user)",
		"+ create_team vision admin=you (no such team)",
		"~ set_role alice@example.com role=admin (not an instance admin now)",
		"- delete_member carol@example.com from team ml (invited as member, wanted as admin)",
		"+ invite carol@example.com to team ml admin=true (again, as admin)",
		"~ set_team_role bob@example.com team=ml role=admin (a member now)",
		"+ invite frank@example.org to team ml admin=false (not a member or invited)",
		"+ invite bob@example.com to team vision admin=false (not a member or invited)",
		"- deactivate dave@example.com (active)",
	}
	p, err := dry.Plan(ctx, planDesired())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, strings.Split(p.String(), "\n")); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	before := srv.Users()
	for _, r := range p.Apply(ctx, 4) {
		if r.Err != nil {
			t.Errorf("dry run of %s: %v", r.Change, r.Err)
		}
	}
	if n := strings.Count(lines.String(), "dry-run: "); n != len(p.Changes) {
		t.Errorf("%d dry-run lines for %d changes:\n%s", n, len(p.Changes), lines.String())
	}
	if diff := cmp.Diff(before, srv.Users()); diff != "" {
		t.Errorf("the dry run changed users (-before +after):\n%s", diff)
	}

	var (
		mu      sync.Mutex
		records []ChangeRecord
	)
	c := testClient(t, srv, func(cfg *Config) {
		cfg.OnChange = func(r ChangeRecord) { // called concurrently
			mu.Lock()
			defer mu.Unlock()
			if r.Outcome != OutcomePending {
				records = append(records, r)
			}
		}
	})
	p, err = c.Plan(ctx, planDesired())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, strings.Split(p.String(), "\n")); diff != "" {
		t.Errorf("the real plan differs from the dry run's (-dry +real):\n%s", diff)
	}
	for _, r := range p.Apply(ctx, 4) {
		if r.Err != nil {
			t.Errorf("%s: %v", r.Change, r.Err)
		}
	}
	if len(records) != len(want) {
		t.Errorf("%d change records, want %d", len(records), len(want))
	}
	for _, r := range records {
		if r.Outcome != OutcomeOK {
			t.Errorf("record %+v", r)
		}
	}
	if info, _ := srv.UserByEmail("alice@example.com"); !info.Admin {
		t.Error("alice is not an instance admin")
	}
	if info, _ := srv.UserByEmail("dave@example.com"); !info.Inactive {
		t.Error("dave is active")
	}
	if m := memberInfo(t, srv, "ml", "carol@example.com"); !m.Admin || !m.Pending {
		t.Errorf("carol in ml = %+v, want an invitee as admin", m)
	}
	if m := memberInfo(t, srv, "ml", "bob@example.com"); m.Role != "admin" {
		t.Errorf("bob in ml = %+v", m)
	}
	again, err := c.Plan(ctx, planDesired())
	if err != nil {
		t.Fatal(err)
	}
	if again.String() != "no changes" {
		t.Errorf("a second plan:\n%s", again)
	}
}

// TestPlanPruneAndWithdraw: pruning removes the members and invitations
// of the listed teams that are not listed, service accounts kept;
// withdrawals take back a pending invitation, and nothing when there is
// none.
func TestPlanPruneAndWithdraw(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := teamServer(t)
	c := testClient(t, srv)
	team := mustTeam(t, c, "ml")
	if _, err := team.CreateServiceAccount(ctx, "ci"); err != nil {
		t.Fatal(err)
	}
	p, err := c.Plan(ctx, Desired{
		Memberships: []DesiredMembership{{Team: "ml", Email: "alice@example.com", Role: "admin"}},
		Prune:       true,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "- delete_member bob@example.com from team ml (a member, not listed)\n- delete_member carol@example.com from team ml (invited, not listed)"
	if p.String() != want {
		t.Errorf("plan:\n%s\nwant:\n%s", p, want)
	}
	p, err = c.Plan(ctx, Desired{Withdraw: []Invitation{{Team: "ml", Email: "carol@example.com"}, {Team: "ml", Email: "bob@example.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "- delete_member carol@example.com from team ml (a pending invitation)"; p.String() != want {
		t.Errorf("plan:\n%s\nwant:\n%s", p, want)
	}
	for _, r := range p.Apply(ctx, 1) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if info, _ := srv.Team("ml"); len(info.Members) != 3 { // alice, bob, the service account
		t.Errorf("ml = %+v", info.Members)
	}
}

func TestPlanErrors(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	ctx := context.Background()
	srv := teamServer(t)
	c := testClient(t, srv)
	for _, tc := range []struct {
		want Desired
		msg  string
	}{
		{Desired{Users: []DesiredUser{{Email: "not an email"}}}, "invalid email address"},
		{Desired{Memberships: []DesiredMembership{{Team: "ml", Email: "a@example.com", Role: "owner"}}}, `role "owner"`},
		{Desired{Memberships: []DesiredMembership{{Email: "a@example.com"}}}, "names no team"},
		{Desired{Memberships: []DesiredMembership{{Team: "nope", Email: "a@example.com"}}}, `no team named "nope"`},
		{Desired{Users: []DesiredUser{{Email: "bob@example.com", Admin: &no}, {Email: "Bob@example.com"}, {Email: "bob@example.com", Admin: &yes}}},
			"bob@example.com is listed twice with different wishes (admin false and true"},
		{Desired{Memberships: []DesiredMembership{{Team: "ml", Email: "bob@example.com", Role: "admin"}, {Team: "ml", Email: "bob@example.com"}, {Team: "ml", Email: "bob@example.com", Role: "Member"}}},
			"bob@example.com is listed twice in team ml, as admin and as member"},
	} {
		_, err := c.Plan(ctx, tc.want)
		if e := asError(t, err, "plan", CodeInvalidArgument); !strings.Contains(e.Message, tc.msg) {
			t.Errorf("error = %v, want %q", e, tc.msg)
		}
	}
	// A team is not left without an admin.
	_, err := c.Plan(ctx, Desired{Memberships: []DesiredMembership{{Team: "ml", Email: "alice@example.com", Role: "member"}}})
	if e := asError(t, err, "plan", CodeLastAdmin); !strings.Contains(e.Message, "leaves team ml without an admin") {
		t.Errorf("error = %v", e)
	}
	_, err = c.Plan(ctx, Desired{Memberships: []DesiredMembership{{Team: "ml", Email: "bob@example.com", Role: "admin"}}, Prune: true})
	if err != nil { // bob becomes its admin as alice goes
		t.Errorf("a plan that hands the team to bob: %v", err)
	}
	srv.FailNext("GetTeamEntity", wandbtest.Fault{Status: 400, Body: `{"errors":[{"message":"no"}]}`})
	_, err = c.Plan(ctx, Desired{Teams: []string{"ml"}})
	if err == nil || !strings.Contains(err.Error(), "plan: cannot read the server to plan") {
		t.Errorf("error = %v", err)
	}
}

// TestPlanLinesQuoteData: a name from a CSV file or the server that holds
// control characters or spaces is one quoted word of its plan line, so
// that each line is one change and nothing in it acts on a terminal.
func TestPlanLinesQuoteData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := teamServer(t)
	var lines bytes.Buffer
	dry := testClient(t, srv, func(cfg *Config) { cfg.DryRun, cfg.DryRunOutput = true, &lines })
	evil := "evil \x1b[1A\x1b[2K\r dry-run: invite carol@example.org to team ok-team admin=false"
	p, err := dry.Plan(ctx, Desired{
		Teams:       []string{evil, "two words"},
		Memberships: []DesiredMembership{{Team: evil, Email: "bob@example.com", Role: "admin"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	q := `"evil \x1b[1A\x1b[2K\r dry-run: invite carol@example.org to team ok-team admin=false"`
	want := []string{
		"+ create_team " + q + " admin=you (no such team)",
		`+ create_team "two words" admin=you (no such team)`,
		"+ invite bob@example.com to team " + q + " admin=true (not a member or invited)",
	}
	if diff := cmp.Diff(want, strings.Split(p.String(), "\n")); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	for _, r := range p.Apply(ctx, 1) {
		if r.Err != nil {
			t.Errorf("%s: %v", r.Change, r.Err)
		}
	}
	wantLines := []string{
		"dry-run: create_team " + q + " admin=you",
		`dry-run: create_team "two words" admin=you`,
		"dry-run: invite bob@example.com to team " + q + " admin=true",
	}
	got := strings.Split(strings.TrimSuffix(lines.String(), "\n"), "\n")
	sort.Strings(got) // the changes of a phase run concurrently
	sort.Strings(wantLines)
	if diff := cmp.Diff(wantLines, got); diff != "" {
		t.Errorf("dry-run lines (-want +got):\n%s", diff)
	}
	if p.Changes[0].Target != evil {
		t.Errorf("the change's target %q is not the name as given", p.Changes[0].Target)
	}
}

// TestPlanKeepsAnInstanceAdmin: a plan that would leave the organisation
// without an active instance admin is refused when it is made, in a dry
// run as in a real one, as the last-admin guard would refuse its last
// change when applied; a plan that hands the role over makes the caller's
// own demotion last, after the changes that need an admin's rights.
func TestPlanKeepsAnInstanceAdmin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	yes, no := true, false
	t.Run("the caller's own demotion or deactivation", func(t *testing.T) {
		t.Parallel()
		srv := teamServer(t)
		var lines bytes.Buffer
		for _, c := range []*Client{testClient(t, srv), testClient(t, srv, func(cfg *Config) { cfg.DryRun, cfg.DryRunOutput = true, &lines })} {
			for _, self := range []DesiredUser{{Email: wandbtest.AdminEmail, Admin: &no}, {Email: wandbtest.AdminEmail, Active: &no}} {
				_, err := c.Plan(ctx, Desired{Users: []DesiredUser{self, {Email: "bob@example.com", Admin: &no}}})
				if e := asError(t, err, "plan", CodeLastAdmin); !strings.Contains(e.Message, "without an active instance admin: it demotes or deactivates every one, you included") {
					t.Errorf("dry run %v, %+v: error = %v", c.DryRun(), self, e)
				}
			}
		}
		if info, _ := srv.UserByEmail(wandbtest.AdminEmail); !info.Admin || info.Inactive || lines.Len() != 0 {
			t.Errorf("admin: %+v; plan lines %q", info, lines.String())
		}
	})
	t.Run("a service account's plan", func(t *testing.T) {
		t.Parallel()
		saKey := strings.Repeat("5b", 20)
		srv := wandbtest.Start(t, wandbtest.WithSeed(wandbtest.Seed{
			Users: []wandbtest.SeedUser{{Email: "bob@example.com", Username: "bob"}},
			Teams: []wandbtest.SeedTeam{{Name: "ops", ServiceAccounts: []wandbtest.SeedServiceAccount{{Description: "scim bot", Secret: saKey, Admin: true}}}},
		}))
		asBot, err := testClient(t, srv).WithAPIKey(saKey)
		if err != nil {
			t.Fatal(err)
		}
		_, err = asBot.Plan(ctx, Desired{Users: []DesiredUser{{Email: wandbtest.AdminEmail, Admin: &no}}})
		if e := asError(t, err, "plan", CodeLastAdmin); !strings.Contains(e.Message, "demotes or deactivates every one;") {
			t.Errorf("error = %v", e)
		}
		if _, err := asBot.Plan(ctx, Desired{Users: []DesiredUser{{Email: wandbtest.AdminEmail, Admin: &no}, {Email: "bob@example.com", Admin: &yes}}}); err != nil {
			t.Errorf("a plan that makes bob an admin as admin goes: %v", err)
		}
	})
	t.Run("handing the role over", func(t *testing.T) {
		t.Parallel()
		srv := teamServer(t)
		want := Desired{Users: []DesiredUser{
			{Email: wandbtest.AdminEmail, Admin: &no},
			{Email: "alice@example.com", Admin: &yes},
			{Email: "dave@example.com", Active: &no},
		}}
		wantLines := []string{
			"~ set_role alice@example.com role=admin (not an instance admin now)",
			"- deactivate dave@example.com (active)",
			"~ set_role admin@example.com role=member (an instance admin now)",
		}
		var lines bytes.Buffer
		dry := testClient(t, srv, func(cfg *Config) { cfg.DryRun, cfg.DryRunOutput = true, &lines })
		p, err := dry.Plan(ctx, want)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(wantLines, strings.Split(strings.TrimSpace(p.String()), "\n")); d != "" {
			t.Errorf("plan (-want +got):\n%s", d)
		}
		p, err = testClient(t, srv).Plan(ctx, want)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Apply(ctx, 8) {
			if r.Err != nil {
				t.Errorf("%s: %v", r.Change, r.Err)
			}
		}
		admin, _ := srv.UserByEmail(wandbtest.AdminEmail)
		alice, _ := srv.UserByEmail("alice@example.com")
		dave, _ := srv.UserByEmail("dave@example.com")
		if admin.Admin || !alice.Admin || !dave.Inactive {
			t.Errorf("after the hand-over: admin is an admin %v, alice %v; dave inactive %v", admin.Admin, alice.Admin, dave.Inactive)
		}
	})
}

// TestPlanDryRunPredictsTheRun: for plans that change instance admins, the
// dry run's outcome, change by change, is the real run's, on two servers
// in the same starting state.
func TestPlanDryRunPredictsTheRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	yes, no := true, false
	me := wandbtest.AdminEmail
	for _, tc := range []struct {
		name string
		want Desired
		err  Code // the plan's own refusal, if any
	}{
		{"create an admin, demote yourself", Desired{Users: []DesiredUser{{Email: "new@example.com", Admin: &yes}, {Email: me, Admin: &no}}}, ""},
		{"hand the role to alice", Desired{Users: []DesiredUser{{Email: me, Admin: &no}, {Email: "alice@example.com", Admin: &yes}, {Email: "dave@example.com", Active: &no}}}, ""},
		{"promote and deactivate bob, demote yourself", Desired{Users: []DesiredUser{{Email: "bob@example.com", Admin: &yes, Active: &no}, {Email: me, Admin: &no}}}, CodeLastAdmin},
		{"demote and deactivate yourself", Desired{Users: []DesiredUser{{Email: "alice@example.com", Admin: &yes}, {Email: me, Admin: &no, Active: &no}}}, CodeInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run := func(dry bool) []string {
				srv := teamServer(t)
				c := testClient(t, srv)
				if dry {
					c = testClient(t, srv, func(cfg *Config) { cfg.DryRun, cfg.DryRunOutput = true, io.Discard })
				}
				p, err := c.Plan(ctx, tc.want)
				if tc.err != "" {
					asError(t, err, "plan", tc.err)
					return nil
				}
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, r := range p.Apply(ctx, 8) {
					code := Code("ok")
					if r.Err != nil {
						code = codeOf(r.Err)
					}
					got = append(got, r.Change.String()+": "+string(code))
				}
				return got
			}
			real, dry := run(false), run(true)
			if d := cmp.Diff(real, dry); d != "" {
				t.Errorf("the dry run's outcomes differ from the real run's (-real +dry):\n%s", d)
			}
			for _, line := range real {
				if !strings.HasSuffix(line, ": ok") {
					t.Errorf("the real run: %s", line)
				}
			}
		})
	}
}
