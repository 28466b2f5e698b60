package wandb

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// teamsSeed has three teams: one with a team admin and invites (one as a
// team admin), one with a service account, one empty.
var teamsSeed = wandbtest.Seed{
	Users: []wandbtest.SeedUser{{Email: "alice@example.com", Username: "alice", Teams: []string{"ml"}}, {Email: "bob@example.com", Username: "bob"}},
	Teams: []wandbtest.SeedTeam{
		{Name: "ml", Admins: []string{"alice@example.com"}, Invites: []wandbtest.SeedInvite{{Email: "bob@example.com", Admin: true}, {Email: "new@example.com"}}},
		{Name: "ops", ServiceAccounts: []wandbtest.SeedServiceAccount{{Description: "ci bot"}}},
		{Name: "empty"},
	},
}

// members sums up t's members: "username admin pending" each.
func members(t *Team) []string {
	var out []string
	for _, m := range t.Members() {
		who := deref(m.Username)
		if who == "" {
			who = deref(m.Email)
		}
		out = append(out, fmt.Sprintf("%s admin=%v pending=%v %s", who, deref(m.Admin), deref(m.Pending), deref(m.AccountType)))
	}
	return out
}

func TestTeams(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeed(teamsSeed))
	c := testClient(t, srv)
	teams, err := c.Teams(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	var names []string
	for _, tm := range teams {
		names = append(names, tm.Name)
		got[tm.Name] = members(tm)
		// Each as Team loads it.
		one, err := c.Team(context.Background(), tm.Name)
		if err != nil || one.ID != tm.ID || !cmp.Equal(members(one), got[tm.Name]) || !cmp.Equal(one.Info(), tm.Info()) {
			t.Errorf("%s: Teams gives %v, Team %v (%v)", tm.Name, got[tm.Name], members(one), err)
		}
	}
	if !cmp.Equal(names, []string{"ml", "ops", "empty"}) {
		t.Errorf("teams %v, want in the order SCIM lists them", names)
	}
	want := []string{"alice admin=true pending=false USER", "bob admin=true pending=true USER", "new@example.com admin=false pending=true USER"}
	if diff := cmp.Diff(want, got["ml"]); diff != "" {
		t.Errorf("ml (-want +got):\n%s", diff)
	}
	if len(got["ops"]) != 1 || !strings.HasSuffix(got["ops"][0], "SERVICE") || len(got["empty"]) != 0 {
		t.Errorf("ops %v, empty %v", got["ops"], got["empty"])
	}
	// The SCIM id of each team is known: adding a member looks nothing up.
	bob, err := c.User(context.Background(), "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	groups := srv.Requests("SCIMListGroups")
	if err := teams[2].AddMember(context.Background(), bob, ""); err != nil {
		t.Fatal(err)
	}
	if n := srv.Requests("SCIMListGroups"); n != groups {
		t.Errorf("adding a member to a listed team listed the groups again (%d lists, then %d)", groups, n)
	}
}

// TestTeamsConcurrency: teams load at most teamsConcurrency at once.
func TestTeamsConcurrency(t *testing.T) {
	t.Parallel()
	seed := wandbtest.Seed{}
	for i := range 3 * teamsConcurrency {
		seed.Teams = append(seed.Teams, wandbtest.SeedTeam{Name: fmt.Sprintf("t%02d", i)})
	}
	srv := wandbtest.Start(t, wandbtest.WithSeed(seed), wandbtest.WithLatency(5*time.Millisecond))
	c := testClient(t, srv)
	if _, err := c.Viewer(context.Background()); err != nil { // SCIM's Basic auth needs the username
		t.Fatal(err)
	}
	srv.ResetMaxInFlight()
	teams, err := c.Teams(context.Background())
	if err != nil || len(teams) != 3*teamsConcurrency {
		t.Fatalf("%d teams, %v", len(teams), err)
	}
	if m := srv.MaxInFlight(); m > teamsConcurrency {
		t.Errorf("%d requests at once, want at most %d", m, teamsConcurrency)
	}
	for i, tm := range teams {
		if want := fmt.Sprintf("t%02d", i); tm.Name != want {
			t.Errorf("team %d is %s, want %s", i, tm.Name, want)
		}
	}
}

func TestTeamsFailures(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeed(teamsSeed))
	c := testClient(t, srv)
	ctx := context.Background()
	// A team gone when it is loaded (SCIM has it no longer) is left out.
	srv.FailNext("GetTeamEntity", wandbtest.Fault{Body: `{"data":{"entity":null}}`})
	srv.FailNext("SCIMGetGroup", wandbtest.Fault{Status: http.StatusNotFound, Body: "not found"})
	teams, err := c.Teams(ctx)
	if err != nil || len(teams) != 2 {
		t.Errorf("a team gone: %d teams, %v; want the other 2", len(teams), err)
	}
	// One the GraphQL API does not show while SCIM still has it is not
	// taken for gone: the others come with an error naming it.
	srv.FailNext("GetTeamEntity", wandbtest.Fault{Body: `{"data":{"entity":null}}`})
	teams, err = c.Teams(ctx)
	if e := asError(t, err, "teams", CodeIncomplete); len(teams) != 2 || !strings.Contains(e.Message, "could not load ") {
		t.Errorf("a team not shown: %d teams, %v; want the other 2 and an incomplete error", len(teams), err)
	}
	// Any other failure of a load fails the call.
	srv.FailNext("GetTeamEntity", wandbtest.Fault{Status: http.StatusBadRequest, Body: `{"errors":[{"message":"no"}]}`})
	if teams, err := c.Teams(ctx); teams != nil || !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("a load refused: %v, %v", teams, err)
	}
	// So does a failure of the list.
	srv.FailNext("SCIMListGroups", wandbtest.Fault{Status: http.StatusForbidden})
	if teams, err := c.Teams(ctx); teams != nil || !errors.Is(err, ErrForbidden) {
		t.Errorf("the list refused: %v, %v", teams, err)
	}
	// And a cancelled call.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if teams, err := c.Teams(cctx); teams != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, %v", teams, err)
	}
}
