package wandb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
	"github.com/wandb-lua/wandb-lua/wandb/termtext"
)

// Team is a W&B team (an entity with members) as the server last
// described it: [Client.Team] and [Client.CreateTeam] return one, and
// [Team.Reload] fetches it again. ID and Name never change; Info and
// Members return what the last load saw. A Team is safe for concurrent
// use.
type Team struct {
	ID     string // the entity's GraphQL ID
	Name   string // the team's (entity's) name
	DryRun bool   // simulated: created under Config.DryRun, not by the server

	client  *Client
	mu      sync.Mutex
	info    TeamInfo
	members []*Member
	scimID  string // the team's SCIM Group id, once looked up
	// roles are the team roles this program set (SetRole, AddMember), by
	// lower-cased username and email: the member list shows only an admin
	// flag, so a viewer or custom role is known only from here.
	roles map[string]string
}

// TeamInfo is what the server says of a team besides its name and members:
// the fields of the SDK's GetTeamEntity. Pointers are nil where the server
// gave null.
type TeamInfo struct {
	Available         *bool   // whether the name is free to take
	PhotoURL          *string // the team's picture
	ReadOnly          *bool   // the team is read-only
	ReadOnlyAdmin     bool    // read-only for its admins
	EntityType        *string // as the server names the kind of entity
	PrivateOnly       bool    // projects can only be private
	StorageBytes      int64   // storage the team uses
	CodeSavingEnabled bool    // code saving is on by default
	DefaultAccess     string  // the default access of new projects
	IsPaid            *bool   // the team is on a paid plan
}

// Member is a member of a team, or a pending invite to it, as the team
// listed it. Its fields are not changed after it is returned.
type Member struct {
	// ID is what Delete sends: the server's id for the member (whether
	// that is the user's ID is not public), or the invite's ID for a
	// pending invite. "" when the server gave null.
	ID          string
	Name        string  // the display name; for an invite to an address, as the server names it
	Username    *string // nil for an invite to an address no user has
	Email       *string // nil for a service account
	Admin       *bool   // a team admin (or invited as one)
	Pending     *bool   // an invite not accepted yet
	AccountType *string // "USER", or "SERVICE" for a service account
	DryRun      bool    // simulated: returned by a change under Config.DryRun, not by the server

	team *Team
	role string // the team role this program set, if any (see Role)
	// key returns the API key of a service account CreateServiceAccount
	// returned; nil otherwise. A func, so that no printer (fmt verbs, slog,
	// encoding/json, a reflection-based dumper) reaches the secret: they
	// show a func's address at most.
	key func() string
}

// Role returns m's team role: "admin" or "member" as the server's admin
// flag says; "viewer" or a custom role's name where this program set it
// (Team.SetRole, Team.AddMember) and the server's flag still agrees (a
// role set elsewhere since is not seen); "" when the server gave no admin
// flag. For a pending invitation, the role it was sent with.
func (m *Member) Role() string {
	switch {
	case m.role != "":
		return m.role
	case m.Admin == nil:
		return ""
	case *m.Admin:
		return RoleAdmin
	}
	return RoleMember
}

// APIKey returns the service account's API key and true when m is the
// Member CreateServiceAccount returned and the server's answer carried the
// key, which it may not show again; "", false otherwise (create a key in
// the W&B UI, in the team's settings under Service Accounts). The key
// never appears in String, an error, a log line or a change record;
// Client.WithAPIKey(key) is a client for the service account.
func (m *Member) APIKey() (key string, ok bool) {
	// The SDK's Member.api_key. Whether servers that keep only hashes of
	// keys still return it is not public.
	if m.key == nil {
		return "", false
	}
	return m.key(), true
}

// withKey returns a copy of m carrying the API key keys holds for it, or m
// when keys holds none: the member the team lists stays without it.
func withKey(m *Member, keys map[*Member]string) *Member {
	secret, ok := keys[m]
	if !ok {
		return m
	}
	cp := *m
	cp.key = func() string { return secret }
	return &cp
}

// Invitee says whom [Team.Invite] invites: a user by username
// ([ByUsername]) or an address ([ByEmail]), which may or may not belong to
// a user yet. The zero Invitee names nobody.
type Invitee struct {
	email, username string
}

// ByEmail is the invitee with that email address; Invite normalises and
// checks it as CreateUser does.
func ByEmail(email string) Invitee { return Invitee{email: email} }

// ByUsername is the user with that username.
func ByUsername(username string) Invitee { return Invitee{username: username} }

// String returns "email a@example.com" or "username alice".
func (i Invitee) String() string {
	if i.username != "" {
		return "username " + i.username
	}
	return "email " + i.email
}

// target names i in plans and change records: the email or the username.
func (i Invitee) target() string {
	if i.username != "" {
		return i.username
	}
	return i.email
}

// matches reports whether m is the member or invite of i.
func (i Invitee) matches(m *Member) bool {
	if i.username != "" {
		return eqFold(m.Username, i.username)
	}
	return eqFold(m.Email, i.email)
}

// Team returns the team with that name and its members. A name that no
// entity has, or that is a user's own entity, gives an error matching
// ErrNotFound (the SDK raises KeyError('members')).
func (c *Client) Team(ctx context.Context, name string) (*Team, error) {
	const op = OpTeam
	if strings.TrimSpace(name) == "" {
		return nil, c.newError(Error{Op: op, Code: CodeInvalidArgument, Message: "a team name is required"})
	}
	t := &Team{Name: name, client: c}
	if err := t.load(ctx, op); err != nil {
		return nil, err
	}
	return t, nil
}

// load fetches t and replaces its ID, info and members; op names the call
// in errors.
func (t *Team) load(ctx context.Context, op Op) error {
	_, _, err := t.fetch(ctx, op)
	return err
}

// fetch is load, returning the members it set and the API keys the
// answer carried for them (members[].apiKey, which the SDK selects: a
// service account's secret on servers that fill it), for
// CreateServiceAccount to hand out once. The members, which Members
// lists, never carry a key, and every key read joins the redactor of the
// client's family before anything else can see it.
func (t *Team) fetch(ctx context.Context, op Op) ([]*Member, map[*Member]string, error) {
	c := t.client
	data, err := gql.GetTeamEntity(ctx, c.gql(op), t.Name)
	if data != nil && data.Entity != nil {
		for _, gm := range data.Entity.Members {
			if k := deref(gm.ApiKey); k != "" {
				c.fam.secrets.add(k)
				c.fam.secrets.add(basicCredentials(k))
				if e := (*Error)(nil); errors.As(err, &e) {
					// Cleaned before the keys beside it were known.
					err = c.newError(*e)
				}
			}
		}
	}
	switch {
	case err != nil:
		return nil, nil, err
	case data == nil || data.Entity == nil:
		return nil, nil, c.newError(Error{Op: op, Code: CodeNotFound, Message: fmt.Sprintf("no team named %q", t.Name)})
	case !data.Entity.IsTeam:
		return nil, nil, c.newError(Error{Op: op, Code: CodeNotFound, Message: fmt.Sprintf("%q is a user's entity, not a team", t.Name)})
	}
	e := data.Entity
	members := make([]*Member, 0, len(e.Members))
	var keys map[*Member]string
	for _, gm := range e.Members {
		m := &Member{Name: gm.Name, Username: gm.Username, Email: gm.Email, Admin: gm.Admin,
			Pending: gm.Pending, AccountType: gm.AccountType, team: t}
		if gm.Id != nil {
			m.ID = *gm.Id
		}
		m.role = t.knownRole(m)
		if k := deref(gm.ApiKey); k != "" {
			if keys == nil {
				keys = map[*Member]string{}
			}
			keys[m] = k
		}
		members = append(members, m)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ID = e.Id
	t.info = TeamInfo{Available: e.Available, PhotoURL: e.PhotoUrl, ReadOnly: e.ReadOnly, ReadOnlyAdmin: e.ReadOnlyAdmin,
		EntityType: e.EntityType, PrivateOnly: e.PrivateOnly, StorageBytes: e.StorageBytes,
		CodeSavingEnabled: e.CodeSavingEnabled, DefaultAccess: e.DefaultAccess, IsPaid: e.IsPaid}
	t.members = members
	return members, keys, nil
}

// Reload fetches the team again: Info and Members then return the
// server's current view. A team deleted meanwhile gives an error matching
// ErrNotFound.
func (t *Team) Reload(ctx context.Context) error {
	if t.client == nil {
		return redactor{}.newError(Error{Op: OpReloadTeam, Code: CodeInvalidArgument, Message: "the team was not fetched by a client"})
	}
	if t.DryRun {
		return nil // simulated: there is nothing to fetch
	}
	return t.load(ctx, OpReloadTeam)
}

// Info returns what the last load saw of the team besides its members.
func (t *Team) Info() TeamInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.info
}

// Members returns a copy of the team's members and pending invites, in the
// server's order.
func (t *Team) Members() []*Member {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]*Member(nil), t.members...)
}

// Client returns the client (the identity) the team was fetched with.
func (t *Team) Client() *Client { return t.client }

// String returns "<Team name>", as the SDK prints a team (a secret of the
// team's client in the name shows as [redacted]).
func (t *Team) String() string { return shownBy(t.client, "<Team "+t.Name+">") }

// CreateTeam creates the team name with the user adminUsername as its admin
// ("" means the caller, as the SDK sends null) and returns it, loaded. The
// mutation's own error is returned (the SDK swallows it): a name that is
// taken gives an error matching ErrConflict. A team created is never
// reported failed: when loading it after the creation fails, it is
// returned with its ID and no members (a warning is logged; Reload
// fetches them). When the answer is lost after
// the request reached the server, the team is looked up: if it exists with
// the intended admin as a team admin, the call succeeds; if it does not, the
// mutation is sent once more.
func (c *Client) CreateTeam(ctx context.Context, name, adminUsername string) (*Team, error) {
	const op = OpCreateTeam
	if strings.TrimSpace(name) == "" {
		return nil, c.newError(Error{Op: op, Code: CodeInvalidArgument, Message: "a team name is required"})
	}
	var admin *string
	if adminUsername != "" {
		admin = &adminUsername
	}
	t := &Team{Name: name, client: c}
	details := "admin=you"
	if adminUsername != "" {
		details = "admin=" + termtext.Quote(adminUsername)
	}
	err := c.change(ctx, op, name, details, func() error {
		return c.settle(ctx, op, func() error {
			data, err := gql.CreateTeam(ctx, c.gql(op), name, admin)
			switch {
			case err != nil:
				return err
			case data == nil || data.Result == nil || data.Result.Entity == nil:
				// A 2xx without the team: whether it was made is for the
				// check to say.
				return c.unconfirmed(op, fmt.Sprintf("the server returned no team for %q", name))
			}
			t.mu.Lock()
			t.ID = data.Result.Entity.Id
			t.mu.Unlock()
			return nil
		}, func(ctx context.Context) (bool, error) {
			want := adminUsername
			if want == "" {
				v, err := c.Viewer(ctx)
				if err != nil {
					return false, err
				}
				want = deref(v.Username)
			}
			if err := t.load(ctx, op); err != nil {
				if isNotFound(err) {
					return false, nil
				}
				return false, err
			}
			for _, m := range t.Members() {
				if eqFold(m.Username, want) && deref(m.Admin) {
					return true, nil
				}
			}
			return false, c.newError(Error{Op: op, Code: CodeConflict, Message: fmt.Sprintf("team %q exists, but %s is not its admin: it was not created by this call", name, want)})
		})
	})
	if errors.Is(err, errDryRun) {
		return &Team{ID: "dry-run:" + name, Name: name, DryRun: true, client: c}, nil
	}
	if err != nil {
		return nil, err
	}
	if len(t.Members()) == 0 { // not loaded by a check
		if err := t.load(ctx, op); err != nil {
			// Created: that is the outcome, whatever the read after it.
			c.logger.WarnContext(ctx, "wandb team created, but loading it failed: its members are not known until Reload",
				"op", op, "team", name, "error", c.redactErr(err))
		}
	}
	return t, nil
}

// Invite invites who to the team, as a team admin when admin is true, and
// returns the invitation as a pending Member, which is also added to
// Members. Inviting an address that no user has yet is allowed (W&B mails
// an invitation); an unknown username gives an error matching ErrNotFound,
// someone already invited or a member ErrConflict, and a caller who is
// neither an instance admin nor a team admin ErrForbidden. When the answer
// is lost after the request reached the server, the team is reloaded: if
// who is now among its members, that member is returned; if not, the
// invite is sent once more.
func (t *Team) Invite(ctx context.Context, who Invitee, admin bool) (*Member, error) {
	const op = OpInvite
	c := t.client
	switch {
	case c == nil:
		return nil, redactor{}.newError(Error{Op: op, Code: CodeInvalidArgument, Message: "the team was not fetched by a client"})
	case who.email == "" && who.username == "":
		return nil, c.newError(Error{Op: op, Code: CodeInvalidArgument, Message: "nobody to invite: use ByEmail or ByUsername"})
	case who.email != "":
		email, err := c.normalizeEmail(op, who.email)
		if err != nil {
			return nil, err
		}
		who.email = email
	}
	var email, username *string
	if who.email != "" {
		email = &who.email
	} else {
		username = &who.username
	}
	var got *Member
	err := c.change(ctx, op, who.target(), fmt.Sprintf("to team %s admin=%v", termtext.Quote(t.Name), admin), func() error {
		return c.settle(ctx, op, func() error {
			data, err := gql.CreateInvite(ctx, c.gql(op), t.Name, email, username, &admin)
			if err != nil {
				return err
			}
			if data == nil || data.Result == nil || data.Result.Invite == nil {
				return c.newError(Error{Op: op, Code: CodeBadResponse, Message: fmt.Sprintf("the server returned no invite for %s", who)})
			}
			inv := data.Result.Invite
			got = &Member{ID: inv.Id, Name: inv.Name, Email: inv.Email, Username: username, Admin: &admin,
				Pending: ptrTo(true), AccountType: ptrTo("USER"), team: t}
			t.mu.Lock()
			t.members = append(t.members, got)
			t.mu.Unlock()
			return nil
		}, func(ctx context.Context) (bool, error) {
			if err := t.load(ctx, op); err != nil {
				return false, err
			}
			for _, m := range t.Members() {
				if who.matches(m) {
					got = m
					return true, nil
				}
			}
			return false, nil
		})
	})
	if errors.Is(err, errDryRun) {
		return &Member{ID: "dry-run:" + who.target(), Name: who.target(), Email: email, Username: username, Admin: &admin,
			Pending: ptrTo(true), AccountType: ptrTo("USER"), DryRun: true, team: t}, nil
	}
	if err != nil {
		return nil, err
	}
	return got, nil
}

// CreateServiceAccount creates a service account (a user with an API key of
// its own) described by description as a member of the team, and returns
// it, found in the reloaded team by the user ID the server returned or as
// the one new SERVICE member with that description, with its key (see
// Member.APIKey) when the server gave one. A created account is never
// reported failed: when the reload does not settle which member it is,
// the result is a Member with the returned user ID, the description as
// Name, AccountType SERVICE and Pending false, not in Members, and a
// warning is logged (reload the team to find it). The mutation is never
// sent twice: when its answer is lost, the reloaded team is searched for
// the account: none is a definite failure; one is returned, with its key,
// and an error with CodeUnknownOutcome naming it (it may be another
// program's); more are an error with CodeUnknownOutcome. In a dry run the
// simulated account has no key.
func (t *Team) CreateServiceAccount(ctx context.Context, description string) (*Member, error) {
	// The SDK returns the team's last member instead; whether a member's ID
	// is its user's ID is not public, so the description settles it when
	// the ID does not. The key is the SDK's Member.api_key, which only the
	// reloaded team's answer carries; without it the call still succeeds,
	// and the warning says where to create one.
	const op = OpCreateServiceAccount
	c := t.client
	if c == nil {
		return nil, redactor{}.newError(Error{Op: op, Code: CodeInvalidArgument, Message: "the team was not fetched by a client"})
	}
	if strings.TrimSpace(description) == "" {
		return nil, c.newError(Error{Op: op, Code: CodeInvalidArgument, Message: "a description is required"})
	}
	var sa *Member
	err := c.change(ctx, op, t.Name, fmt.Sprintf("description=%q", description), func() error {
		var err error
		sa, err = t.createServiceAccount(ctx, op, description)
		return err
	})
	if errors.Is(err, errDryRun) {
		return &Member{ID: "dry-run:service-account", Name: description, Admin: ptrTo(false), Pending: ptrTo(false),
			AccountType: ptrTo("SERVICE"), DryRun: true, team: t}, nil
	}
	if sa != nil && sa.key == nil {
		c.logger.WarnContext(ctx, "wandb service account created, but the server returned no API key for it: "+
			"create one in the W&B UI, in the team's settings under Service Accounts",
			"op", op, "team", t.Name, "account", sa.Name)
	}
	return sa, err
}

// settleServiceAccount settles err, the unsure failure of a creation of a
// service account: the team is reloaded and searched for the new account
// (not among before) with that description. None is a definite failure;
// one is the result, with an unknown outcome unless the server answered
// that it created one (applied: a 2xx without the account), when it can
// only be this call's; more are an unknown outcome. It is never sent
// again.
func (t *Team) settleServiceAccount(ctx context.Context, op Op, before map[string]bool, description string, applied bool, err error) (*Member, error) {
	c := t.client
	cctx, cancel := c.checkContext(ctx)
	members, keys, lerr := t.fetch(cctx, op)
	cancel()
	if lerr != nil {
		return nil, unsettled(c, err, "checking failed", lerr)
	}
	found := newServiceAccounts(members, before, description)
	switch len(found) {
	case 0:
		return nil, notApplied(c, err)
	case 1:
		if applied {
			return withKey(found[0], keys), nil
		}
		// This call's, or one another program made meanwhile: nothing
		// tells them apart. It comes with the unknown outcome (and its
		// key, which any team admin can read), as CreateUser's user does.
		return withKey(found[0], keys), withCandidates(c, unsettled(c, err, fmt.Sprintf(
			"the team has a new service account named %q: this call's, or one made meanwhile by another", description), nil),
			[]string{found[0].String()})
	}
	return nil, unsettled(c, err, fmt.Sprintf("%d new service accounts named %q in the team", len(found), description), nil)
}

func (t *Team) createServiceAccount(ctx context.Context, op Op, description string) (*Member, error) {
	c := t.client
	before := map[string]bool{}
	for _, m := range t.Members() {
		before[m.ID] = true
	}
	data, err := gql.CreateServiceAccount(ctx, c.gqlStrict(op), t.Name, description)
	if err != nil {
		if !isUnsure(err) {
			return nil, err
		}
		return t.settleServiceAccount(ctx, op, before, description, false, err)
	}
	if data == nil || data.Result == nil || data.Result.User == nil {
		// A 2xx without the account: whether it was made is for the team
		// to show.
		return t.settleServiceAccount(ctx, op, before, description, true, c.unconfirmed(op, "the server returned no service account"))
	}
	id := data.Result.User.Id
	members, keys, err := t.fetch(ctx, op)
	if err != nil {
		return t.unlistedServiceAccount(ctx, op, id, description, "reloading the team failed: "+c.redactErr(err)), nil
	}
	for _, m := range members {
		if id != "" && m.ID == id {
			return withKey(m, keys), nil
		}
	}
	found := newServiceAccounts(members, before, description)
	if len(found) == 1 {
		return withKey(found[0], keys), nil
	}
	return t.unlistedServiceAccount(ctx, op, id, description,
		fmt.Sprintf("the reloaded team lists %d new service accounts named %q and none with its id", len(found), description)), nil
}

// newServiceAccounts returns the SERVICE members among members named
// description whose IDs are not in before, the member IDs listed before
// the creation.
func newServiceAccounts(members []*Member, before map[string]bool, description string) []*Member {
	var found []*Member
	for _, m := range members {
		if !before[m.ID] && deref(m.AccountType) == "SERVICE" && m.Name == description {
			found = append(found, m)
		}
	}
	return found
}

// unlistedServiceAccount is the result of a service account the server
// created (user ID id) that the reloaded team does not show, or not
// unambiguously: a Member of what is known, and a warning saying why.
// Reporting a failure would be false: the account exists.
func (t *Team) unlistedServiceAccount(ctx context.Context, op Op, id, description, why string) *Member {
	t.client.logger.WarnContext(ctx, "wandb service account created, but not found among the team's members",
		"op", op, "team", t.Name, "id", id, "reason", why)
	return &Member{ID: id, Name: description, Pending: ptrTo(false), AccountType: ptrTo("SERVICE"), team: t}
}

// Team returns the team m was listed in.
func (m *Member) Team() *Team { return m.team }

// Delete removes the member, or withdraws the invite, from its team (the
// SDK's DeleteInvite with the member's ID). A server that does not confirm
// (success false or null) gives an error; a member gone already gives an
// error matching ErrNotFound. When the answer is lost after the request
// reached the server, the team is reloaded: if the member is gone, the call
// succeeds. On success the member leaves its team's Members.
func (m *Member) Delete(ctx context.Context) error {
	const op = OpDeleteMember
	t := m.team
	if t == nil || t.client == nil {
		return redactor{}.newError(Error{Op: op, Code: CodeInvalidArgument, Message: "the member was not listed by a team"})
	}
	c := t.client
	if m.ID == "" {
		return c.newError(Error{Op: op, Code: CodeInvalidArgument, Message: fmt.Sprintf("%s has no id to delete it by", m)})
	}
	var warning error // the server's error beside its confirmation
	err := c.changed(ctx, op, memberTarget(m), "from team "+termtext.Quote(t.Name), func() error {
		return c.settle(ctx, op, func() error {
			data, err := gql.DeleteInvite(ctx, c.gql(op), &m.ID, &t.Name)
			answered, success := false, (*bool)(nil)
			if data != nil && data.Result != nil {
				answered, success = true, data.Result.Success
			}
			if success != nil && *success {
				t.mu.Lock()
				t.members = deleteMember(t.members, m.ID)
				t.mu.Unlock()
				warning = err
				return nil
			}
			return c.notDeleted(op, "member", answered, success, err)
		}, func(ctx context.Context) (bool, error) {
			if err := t.load(ctx, op); err != nil {
				return false, err
			}
			for _, o := range t.Members() {
				if o.ID == m.ID {
					return false, nil
				}
			}
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	c.warn(ctx, op, warning) // nil in a dry run
	return nil
}

// memberTarget names m in plans and change records: its email, else its
// username, else its name.
func memberTarget(m *Member) string {
	switch {
	case deref(m.Email) != "":
		return *m.Email
	case deref(m.Username) != "":
		return *m.Username
	}
	return m.Name
}

// String returns "<Member name (ACCOUNT_TYPE)>", as the SDK prints a member
// ("None" for a null account type). A secret of the team's client in the
// server's data, a service account's key among them, shows as [redacted].
func (m *Member) String() string {
	at := "None"
	if m.AccountType != nil {
		at = *m.AccountType
	}
	var c *Client
	if m.team != nil {
		c = m.team.client
	}
	return shownBy(c, fmt.Sprintf("<Member %s (%s)>", m.Name, at))
}

func deleteMember(ms []*Member, id string) []*Member {
	out := make([]*Member, 0, len(ms))
	for _, m := range ms {
		if m.ID != id {
			out = append(out, m)
		}
	}
	return out
}
