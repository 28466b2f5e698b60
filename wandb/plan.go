package wandb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/wandb-lua/wandb-lua/wandb/emailaddr"
	"github.com/wandb-lua/wandb-lua/wandb/termtext"
)

// Desired-state plans: a script says which users and team memberships it
// wants, Client.Plan compares that with the server and lists the changes
// that would bring the server there, and Plan.Apply makes them, each as
// the call it stands for (recorded, dry-run and read-only aware, with a
// definite outcome or an unknown one). A dry run computes the same plan,
// so it prints exactly the changes a real run would make.

// Desired is the state a plan brings the server to. Only what it lists is
// changed: a user, team or member it does not name is left alone, unless
// Prune asks to remove the members of the listed teams it does not list.
type Desired struct {
	Users       []DesiredUser       // users that must exist, with their instance-admin flag and activity if given
	Memberships []DesiredMembership // team memberships (or pending invitations) that must exist, with their role if given
	Teams       []string            // teams to create when missing (a membership's team must exist or be listed here)
	Withdraw    []Invitation        // pending invitations to withdraw, if there
	Prune       bool                // remove members and invitations of the teams of Memberships that Memberships does not list (service accounts are kept)
}

// DesiredUser is a user that must exist.
type DesiredUser struct {
	Email string
	Admin *bool // an instance admin or not; nil: as it is (a new user is not)
	// Active false deactivates the user (last, after every other change);
	// true or nil leaves it as it is: a plan does not reactivate.
	Active *bool
}

// DesiredMembership is a user (by email) that must be a member of a team,
// or invited to it.
type DesiredMembership struct {
	Team  string
	Email string
	Role  string // "admin" or "member"; "": a member when invited, the role it has otherwise
}

// Invitation names a pending invitation: the team and the address.
type Invitation struct {
	Team  string
	Email string
}

// PlannedChange is one change of a plan: Op is the call it stands for (as
// in change records: OpCreateUser, OpSetRole, OpCreateTeam, OpInvite,
// OpDeleteMember, OpSetTeamRole, OpDeactivate), Target what it acts on
// (an email or a team), Details the rest ("team=ml role=admin"; a value
// that is not a plain word is quoted, `team="deep learning"`).
type PlannedChange struct {
	Op      Op
	Target  string
	Team    string // the team the change concerns ("" for a user's own change), so that a caller can tell which row of its input asked for it
	Details string
	Why     string // one line for people: what is there now

	phase    int
	teamRole string // for OpSetTeamRole: the role set, which keepTeamAdmins reads
	run      func(ctx context.Context) error
}

// String returns the change as a line of the plan's diff, its target
// quoted as plan lines quote it (see Client.Change): one line, whatever
// the names in it hold.
func (pc PlannedChange) String() string {
	mark := map[Op]string{OpCreateUser: "+", OpCreateTeam: "+", OpInvite: "+", OpDeleteMember: "-", OpDeactivate: "-"}[pc.Op]
	if mark == "" {
		mark = "~"
	}
	s := planLine(mark+" "+string(pc.Op), pc.Target, pc.Details)
	if pc.Why != "" {
		s += " (" + termtext.QuoteLine(pc.Why) + ")"
	}
	return s
}

// Plan is the list of changes that bring the server to a Desired state,
// as the server was when the plan was made.
type Plan struct {
	Changes []PlannedChange
	client  *Client
}

// String returns the plan as a diff, a line per change, or "no changes".
func (p *Plan) String() string {
	if len(p.Changes) == 0 {
		return "no changes"
	}
	lines := make([]string, len(p.Changes))
	for i, c := range p.Changes {
		lines[i] = c.String()
	}
	return shownBy(p.client, strings.Join(lines, "\n"))
}

// PlanResult is the outcome of one change of a plan: Err is nil when it
// was made (or, in a dry run, planned).
type PlanResult struct {
	Change PlannedChange
	Err    error
}

// Plan phases: changes of a phase depend only on earlier phases.
const (
	phaseCreate     = iota // users and teams
	phaseRole              // instance-admin flags
	phaseWithdraw          // invitations withdrawn, members removed
	phaseMembership        // invitations sent, team roles set
	phaseDeactivate        // on Multi-tenant Cloud it removes the user
	phaseSelf              // last: the caller's own demotion or deactivation takes away the rights the others need
)

// Apply makes the plan's changes, up to concurrency at a time (1 when
// less), a phase at a time: users and teams created first, then instance
// roles, withdrawals and removals, invitations and team roles,
// deactivations, and last of all the caller's own demotion or
// deactivation, which takes away the rights (an admin's) that the other
// changes need. It returns a result per change, in the plan's
// order; a change that fails does not stop the others. Each change is
// the call it stands for: recorded, planned only under Config.DryRun,
// refused under Config.ReadOnly.
func (p *Plan) Apply(ctx context.Context, concurrency int) []PlanResult {
	results := make([]PlanResult, len(p.Changes))
	concurrency = max(concurrency, 1)
	for phase := phaseCreate; phase <= phaseSelf; phase++ {
		sem := make(chan struct{}, concurrency)
		var wg sync.WaitGroup
		for i, c := range p.Changes {
			if c.phase != phase {
				continue
			}
			results[i].Change = c
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					results[i].Err = p.client.ctxError(c.Op, ctx.Err(), nil)
					return
				}
				defer func() { <-sem }()
				results[i].Err = c.run(ctx)
			}()
		}
		wg.Wait()
	}
	return results
}

// Plan reads the server and returns the changes that bring it to want.
// Nothing is changed. Emails are normalised first (as CreateUser does),
// so the plan's targets are the addresses as sent. A membership of a team that does not exist and is
// not in want.Teams, an email or role that is not valid, is an error
// (CodeInvalidArgument) before anything is read. A plan whose demotions,
// removals or deactivations would leave a team that has an admin without
// one, or the organisation without an active instance admin, is refused
// (CodeLastAdmin), in a dry run as in a real one (applied, the last-admin
// guard would refuse the last change that removes an instance admin; a
// team left without its admin would have nobody to run it).
func (c *Client) Plan(ctx context.Context, want Desired) (*Plan, error) {
	const op = OpPlan
	want, err := checkDesired(want)
	if err != nil {
		return nil, c.newError(Error{Op: op, Code: CodeInvalidArgument, Message: err.Error()})
	}
	pl := &planner{c: c, want: want, users: map[string]*User{}, teams: map[string]*Team{}}
	if err := pl.read(ctx); err != nil {
		return nil, c.renamed(err, op, "cannot read the server to plan: ")
	}
	if err := pl.plan(ctx); err != nil {
		return nil, err
	}
	// In the order they will be made; in want's order within a phase.
	sort.SliceStable(pl.changes, func(i, j int) bool { return pl.changes[i].phase < pl.changes[j].phase })
	return &Plan{Changes: pl.changes, client: c}, nil
}

// checkDesired checks want's emails, roles and names, and returns a copy
// of want with its emails as emailaddr.Normalize returns them.
func checkDesired(want Desired) (Desired, error) {
	normalize := func(email *string) (err error) {
		*email, err = emailaddr.Normalize(*email)
		return err
	}
	want.Users = slices.Clone(want.Users)
	for i := range want.Users {
		if err := normalize(&want.Users[i].Email); err != nil {
			return want, err
		}
	}
	want.Memberships = slices.Clone(want.Memberships)
	for i, m := range want.Memberships {
		if err := normalize(&want.Memberships[i].Email); err != nil {
			return want, err
		}
		if strings.TrimSpace(m.Team) == "" {
			return want, fmt.Errorf("a membership of %s names no team", m.Email)
		}
		if r := strings.ToLower(m.Role); r != "" && r != RoleAdmin && r != RoleMember {
			return want, fmt.Errorf("role %q of %s in %s: want %q, %q or none", m.Role, m.Email, m.Team, RoleAdmin, RoleMember)
		}
	}
	want.Withdraw = slices.Clone(want.Withdraw)
	for i := range want.Withdraw {
		if err := normalize(&want.Withdraw[i].Email); err != nil {
			return want, err
		}
	}
	return want, contradictions(want)
}

// contradictions returns an error naming the first user or membership
// want lists twice with different wishes (a plan follows only one, so the
// other would be dropped silently); repeats that agree, or where one says
// nothing (a nil flag, an empty role), are fine.
func contradictions(want Desired) error {
	differ := func(a, b *bool) bool { return a != nil && b != nil && *a != *b }
	users := map[string]DesiredUser{}
	for _, u := range want.Users {
		key := strings.ToLower(u.Email)
		prev, ok := users[key]
		if ok && (differ(prev.Admin, u.Admin) || differ(prev.Active, u.Active)) {
			return fmt.Errorf("%s is listed twice with different wishes (admin %s and %s, active %s and %s)", u.Email,
				boolWord(prev.Admin), boolWord(u.Admin), boolWord(prev.Active), boolWord(u.Active))
		}
		if ok { // the wishes so far: a repeat that says nothing keeps them
			u.Admin, u.Active = cmp.Or(u.Admin, prev.Admin), cmp.Or(u.Active, prev.Active)
		}
		users[key] = u
	}
	roles := map[string]string{}
	for _, m := range want.Memberships {
		key := m.Team + "\x00" + strings.ToLower(m.Email)
		role := strings.ToLower(m.Role)
		if prev := roles[key]; prev != "" && role != "" && prev != role {
			return fmt.Errorf("%s is listed twice in team %s, as %s and as %s", m.Email, m.Team, prev, role)
		}
		if role != "" {
			roles[key] = role
		}
	}
	return nil
}

// boolWord words a nullable wish: "true", "false" or "unset".
func boolWord(b *bool) string {
	if b == nil {
		return "unset"
	}
	return strconv.FormatBool(*b)
}

// planner computes a plan.
type planner struct {
	c       *Client
	want    Desired
	users   map[string]*User // by lower-cased email; absent: no such user
	status  map[string]UserStatus
	teams   map[string]*Team // by name; absent: no such team
	changes []PlannedChange

	viewer   *User   // the caller
	losing   []*User // instance admins (or users whose role is not shown) the plan demotes or deactivates
	gaining  []*User // users the plan makes instance admins
	newAdmin bool    // the plan creates an instance admin
}

// read looks up every email and team want names, a few at a time.
func (pl *planner) read(ctx context.Context) error {
	emails := map[string]bool{}
	for _, u := range pl.want.Users {
		emails[strings.ToLower(u.Email)] = true
	}
	for _, m := range pl.want.Memberships {
		emails[strings.ToLower(m.Email)] = true
	}
	teams := map[string]bool{}
	for _, m := range pl.want.Memberships {
		teams[m.Team] = true
	}
	for _, t := range pl.want.Teams {
		teams[t] = true
	}
	for _, w := range pl.want.Withdraw {
		teams[w.Team] = true
	}
	var mu sync.Mutex
	var tasks []func() error
	for e := range emails {
		tasks = append(tasks, lookupTask(&mu, pl.users, e, func() (*User, error) { return pl.c.User(ctx, e, Exact()) }))
	}
	for name := range teams {
		tasks = append(tasks, lookupTask(&mu, pl.teams, name, func() (*Team, error) { return pl.c.Team(ctx, name) }))
	}
	if err := runAll(tasks, 8); err != nil {
		return err
	}
	// Activity, only where a deactivation is asked for.
	pl.status = map[string]UserStatus{}
	tasks = nil
	for _, w := range pl.want.Users {
		u := pl.users[strings.ToLower(w.Email)]
		if u == nil || w.Active == nil || *w.Active {
			continue
		}
		tasks = append(tasks, func() error {
			st, err := u.Status(ctx)
			if isNotFound(err) { // not in the organisation (removed on Multi-tenant Cloud)
				st, err = UserStatus{Active: false}, nil
			}
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			pl.status[strings.ToLower(w.Email)] = st
			return nil
		})
	}
	return runAll(tasks, 8)
}

// lookupTask returns a task that looks key up with find and keeps what it
// finds in m (under mu); not found is no error, and keeps nothing.
func lookupTask[T any](mu *sync.Mutex, m map[string]*T, key string, find func() (*T, error)) func() error {
	return func() error {
		v, err := find()
		switch {
		case isNotFound(err):
			return nil
		case err != nil:
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		m[key] = v
		return nil
	}
}

// runAll runs tasks, up to n at a time, and returns their errors, joined.
func runAll(tasks []func() error, n int) error {
	sem := make(chan struct{}, n)
	errs := make([]error, len(tasks))
	var wg sync.WaitGroup
	for i, task := range tasks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = task()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// add appends a change; team is the team it concerns, "" for none.
func (pl *planner) add(phase int, op Op, target, team, details, why string, run func(ctx context.Context) error) {
	pl.changes = append(pl.changes, PlannedChange{Op: op, Target: target, Team: team, Details: details, Why: why, phase: phase, run: run})
}

// plan lists the changes: users, teams, memberships (in want's order),
// deactivations.
func (pl *planner) plan(ctx context.Context) error {
	c := pl.c
	viewer, err := c.Viewer(ctx)
	if err != nil {
		return c.renamed(err, OpPlan, "cannot read the server to plan: ")
	}
	pl.viewer = viewer
	// Created users, kept for the changes that follow in the same apply.
	created := map[string]*User{}
	var cmu sync.Mutex
	userFor := func(email string) *User {
		if u := pl.users[strings.ToLower(email)]; u != nil {
			return u
		}
		cmu.Lock()
		defer cmu.Unlock()
		return created[strings.ToLower(email)]
	}
	seen := map[string]bool{}
	for _, w := range pl.want.Users {
		key := strings.ToLower(w.Email)
		if seen[key] {
			continue
		}
		seen[key] = true
		u := pl.users[key]
		switch {
		case u == nil:
			admin := w.Admin != nil && *w.Admin
			email := w.Email
			pl.newAdmin = pl.newAdmin || admin
			pl.add(phaseCreate, OpCreateUser, email, "", fmt.Sprintf("admin=%v", admin), "no such user", func(ctx context.Context) error {
				nu, err := c.CreateUser(ctx, email, admin)
				if err == nil {
					cmu.Lock()
					created[strings.ToLower(email)] = nu
					cmu.Unlock()
				}
				return err
			})
		case w.Admin != nil && u.Admin != nil && *w.Admin != *u.Admin:
			role := RoleMember
			if *w.Admin {
				role = RoleAdmin
			}
			pl.add(pl.roleChange(u, *w.Admin), OpSetRole, userTarget(u), "", "role="+termtext.Quote(role), map[bool]string{true: "an instance admin now", false: "not an instance admin now"}[*u.Admin], func(ctx context.Context) error {
				return u.SetRole(ctx, role)
			})
		case w.Admin != nil && u.Admin == nil:
			// Not shown (a user found through SCIM only): set it; the
			// change replaces a value, so it is harmless when it is so.
			role := map[bool]string{true: RoleAdmin, false: RoleMember}[*w.Admin]
			pl.add(pl.roleChange(u, *w.Admin), OpSetRole, userTarget(u), "", "role="+termtext.Quote(role), "the server does not show the role", func(ctx context.Context) error {
				return u.SetRole(ctx, role)
			})
		}
	}

	// Teams to create: those listed, and none other (a membership's team
	// must exist or be listed).
	creating := map[string]*Team{}
	var tmu sync.Mutex
	for _, name := range uniq(pl.want.Teams) {
		if pl.teams[name] != nil {
			continue
		}
		pl.add(phaseCreate, OpCreateTeam, name, name, "admin=you", "no such team", func(ctx context.Context) error {
			t, err := c.CreateTeam(ctx, name, "")
			if err == nil {
				tmu.Lock()
				creating[name] = t
				tmu.Unlock()
			}
			return err
		})
	}
	teamFor := func(name string) (*Team, error) {
		if t := pl.teams[name]; t != nil {
			return t, nil
		}
		tmu.Lock()
		defer tmu.Unlock()
		if t := creating[name]; t != nil {
			return t, nil
		}
		return nil, c.newError(Error{Op: OpInvite, Code: CodeNotFound, Message: fmt.Sprintf("no team named %q: its creation failed", name)})
	}
	for _, m := range pl.want.Memberships {
		if pl.teams[m.Team] == nil && !slices.Contains(pl.want.Teams, m.Team) {
			return c.newError(Error{Op: OpPlan, Code: CodeInvalidArgument, Message: fmt.Sprintf(
				"no team named %q (for %s); list it among the teams to create", m.Team, m.Email)})
		}
	}

	// Withdrawals asked for.
	for _, w := range pl.want.Withdraw {
		t := pl.teams[w.Team]
		if t == nil {
			continue
		}
		if inv := findMember(t, w.Email); inv != nil && deref(inv.Pending) {
			pl.add(phaseWithdraw, OpDeleteMember, w.Email, w.Team, "from team "+termtext.Quote(w.Team), "a pending invitation", inv.Delete)
		}
	}

	// Memberships, in want's order, one change set per (team, email).
	listed := map[string]bool{}
	for _, m := range pl.want.Memberships {
		key := m.Team + "\x00" + strings.ToLower(m.Email)
		if listed[key] {
			continue
		}
		listed[key] = true
		role := strings.ToLower(m.Role)
		team, email := m.Team, m.Email
		admin := role == RoleAdmin
		invite := func(ctx context.Context) error {
			t, err := teamFor(team)
			if err != nil {
				return err
			}
			_, err = t.Invite(ctx, ByEmail(email), admin)
			return err
		}
		details := fmt.Sprintf("to team %s admin=%v", termtext.Quote(team), admin)
		t := pl.teams[team]
		var cur *Member
		if t != nil {
			cur = findMember(t, email)
		}
		switch {
		case cur == nil:
			pl.add(phaseMembership, OpInvite, email, team, details, "not a member or invited", invite)
		case role == "" || deref(cur.Admin) == admin:
			// As wanted.
		case deref(cur.Pending):
			// An invitation's role cannot be changed: withdraw it, and
			// invite again with the role wanted.
			was := map[bool]string{true: "admin", false: "member"}[deref(cur.Admin)]
			pl.add(phaseWithdraw, OpDeleteMember, email, team, "from team "+termtext.Quote(team), "invited as "+was+", wanted as "+role, cur.Delete)
			pl.add(phaseMembership, OpInvite, email, team, details, "again, as "+role, invite)
		default:
			was := map[bool]string{true: "an admin", false: "a member"}[deref(cur.Admin)]
			pl.add(phaseMembership, OpSetTeamRole, email, team, fmt.Sprintf("team=%s role=%s", termtext.Quote(team), termtext.Quote(role)), was+" now", func(ctx context.Context) error {
				u := userFor(email)
				if u == nil {
					return c.newError(Error{Op: OpSetTeamRole, Code: CodeNotFound, Message: fmt.Sprintf("no user with email %s", email)})
				}
				return u.SetTeamRole(ctx, team, role)
			})
			pl.changes[len(pl.changes)-1].teamRole = role
		}
	}

	// Pruning: members and invitations of the listed teams not listed.
	if pl.want.Prune {
		var names []string
		for _, m := range pl.want.Memberships {
			names = append(names, m.Team)
		}
		for _, name := range uniq(names) {
			t := pl.teams[name]
			if t == nil {
				continue
			}
			for _, m := range t.Members() {
				if deref(m.AccountType) == "SERVICE" || listed[name+"\x00"+strings.ToLower(memberTarget(m))] ||
					listed[name+"\x00"+strings.ToLower(deref(m.Email))] {
					continue
				}
				why := "a member, not listed"
				if deref(m.Pending) {
					why = "invited, not listed"
				}
				pl.add(phaseWithdraw, OpDeleteMember, memberTarget(m), name, "from team "+termtext.Quote(name), why, m.Delete)
			}
		}
	}

	if err := pl.keepTeamAdmins(); err != nil {
		return err
	}

	// Deactivations, last.
	seen = map[string]bool{}
	for _, w := range pl.want.Users {
		key := strings.ToLower(w.Email)
		u := pl.users[key]
		if seen[key] || u == nil || w.Active == nil || *w.Active {
			continue
		}
		seen[key] = true
		if st, ok := pl.status[key]; ok && !st.Active {
			continue
		}
		phase := phaseDeactivate
		// An admin, one whose role is not shown, or one this plan makes
		// an admin.
		if u.Admin == nil || *u.Admin || w.Admin != nil && *w.Admin {
			pl.losing = append(pl.losing, u)
		}
		if pl.viewer.Same(u) {
			if slices.ContainsFunc(pl.changes, func(c PlannedChange) bool { return c.phase == phaseSelf }) {
				// Either change takes away the rights (an admin's, a
				// working key) the other needs.
				return c.newError(Error{Op: OpPlan, Code: CodeInvalidArgument, Message: fmt.Sprintf(
					"a plan cannot both demote and deactivate you (%s): ask another admin to, or leave out one", userTarget(u))})
			}
			phase = phaseSelf
		}
		pl.add(phase, OpDeactivate, userTarget(u), "", "", "active", u.Deactivate)
	}
	return pl.keepInstanceAdmin(ctx)
}

// roleChange notes a change of u's instance-admin flag to admin and
// returns its phase: the caller's own demotion comes last.
func (pl *planner) roleChange(u *User, admin bool) int {
	if admin {
		pl.gaining = append(pl.gaining, u)
		return phaseRole
	}
	pl.losing = append(pl.losing, u)
	if pl.viewer.Same(u) {
		return phaseSelf
	}
	return phaseRole
}

// keepInstanceAdmin refuses (CodeLastAdmin) a plan whose demotions and
// deactivations could leave the organisation without an active instance
// admin: applied, the last-admin guard would refuse its last such change,
// so a dry run that planned them all would not be what the real run does.
// A caller who is a person and keeps the role is such an admin (only
// admins may use W&B's SCIM API, which the changes go through); else
// another must remain, as the guard counts them (Client.adminRemains):
// an admin the plan does not demote or deactivate, or one it creates or
// promotes, who is active. Only a plan that demotes or deactivates its
// own caller, or a service account's plan, lists the users for that.
func (pl *planner) keepInstanceAdmin(ctx context.Context) error {
	if len(pl.losing) == 0 || pl.newAdmin {
		return nil
	}
	c := pl.c
	losing := func(u *User) bool { return slices.ContainsFunc(pl.losing, u.Same) }
	if !losing(pl.viewer) {
		person, err := c.callerIsAnotherPerson(ctx, OpPlan, pl.losing[0])
		if err != nil || person {
			return err
		}
	}
	remains, err := c.adminRemains(ctx, OpPlan, losing, pl.gaining)
	if err != nil || remains {
		return err
	}
	every := "every one"
	if losing(pl.viewer) {
		every = "every one, you included"
	}
	return c.newError(Error{Op: OpPlan, Code: CodeLastAdmin, Message: "refusing a plan that leaves the organisation without an active instance admin: it demotes or deactivates " +
		every + "; keep one, or make another user an admin"})
}

// findMember returns the member or invitation of t with email, or nil.
func findMember(t *Team, email string) *Member {
	for _, m := range t.Members() {
		if eqFold(m.Email, email) {
			return m
		}
	}
	return nil
}

// uniq returns names without repeats, sorted.
func uniq(names []string) []string {
	set := map[string]bool{}
	for _, n := range names {
		set[n] = true
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// keepTeamAdmins refuses (CodeLastAdmin) a plan that leaves a team that
// has an admin (a member who accepted, not an invitation) without one:
// its demotions and removals would leave nobody to run it.
func (pl *planner) keepTeamAdmins() error {
	for name, t := range pl.teams {
		admins := map[string]bool{}
		for _, m := range t.Members() {
			if deref(m.Admin) && !deref(m.Pending) {
				admins[strings.ToLower(memberTarget(m))] = true
			}
		}
		if len(admins) == 0 {
			continue
		}
		for _, c := range pl.changes {
			switch target := strings.ToLower(c.Target); {
			case c.Team != name:
			case c.Op == OpSetTeamRole && c.teamRole != RoleAdmin:
				delete(admins, target)
			case c.Op == OpSetTeamRole:
				admins[target] = true
			case c.Op == OpDeleteMember:
				delete(admins, target)
			}
		}
		if len(admins) == 0 {
			return pl.c.newError(Error{Op: OpPlan, Code: CodeLastAdmin, Message: fmt.Sprintf(
				"refusing a plan that leaves team %s without an admin: it demotes or removes every one; keep one, or make another member its admin", name)})
		}
	}
	return nil
}
