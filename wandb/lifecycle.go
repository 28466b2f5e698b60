package wandb

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/wandb-lua/wandb-lua/wandb/termtext"
)

// A user's lifecycle over SCIM: deactivate, reactivate, delete, roles and
// status. Each method finds the user's SCIM record by email (else
// username) with the documented eq filters, once per User: the GraphQL ID
// is not assumed to be the SCIM id.

// Organisation roles SetRole accepts. RoleViewer is deprecated in W&B but
// still accepted: the organisation role becomes member, and the user's
// Models seat, Weave role, team and project roles become viewer.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
	RoleViewer = "viewer"
)

// scimRecord returns u's SCIM record, looking it up the first time: by
// email if u has one, else by username. A user the SCIM API does not list
// (not in the organisation, deleted, or a service account) gives an error
// matching ErrNotFound. The lookup checks the answer itself, so a server
// that ignored the filter cannot make it act on someone else.
func (u *User) scimRecord(ctx context.Context, op Op) (*scimUser, error) {
	c := u.client
	if c == nil {
		return nil, redactor{}.newError(Error{Op: op, Code: CodeInvalidArgument, Message: "the user was not fetched by a client"})
	}
	u.mu.Lock()
	id := u.scimID
	u.mu.Unlock()
	if id != "" {
		var su scimUser
		err := c.scimDo(ctx, op, http.MethodGet, "/Users/"+id, nil, nil, &su)
		if !isNotFound(err) {
			return &su, err
		}
		// Gone under that id: deleted, or removed and added again with a
		// new one (Multi-tenant). Look it up afresh.
		u.forget()
	}
	attr, value := "emails.value", deref(u.Email)
	match := func(su *scimUser) bool { return su.hasEmail(value) }
	if value == "" {
		attr, value = "userName", deref(u.Username)
		match = func(su *scimUser) bool { return strings.EqualFold(su.UserName, value) }
	}
	if value == "" {
		return nil, c.newError(Error{Op: op, Code: CodeInvalidArgument, Message: fmt.Sprintf("%s has neither an email nor a username to find it by in SCIM", u)})
	}
	var list scimList[scimUser]
	if err := c.scimDo(ctx, op, http.MethodGet, "/Users", eqFilter(attr, value), nil, &list); err != nil {
		return nil, err
	}
	var found []*scimUser
	for i := range list.Resources {
		if match(&list.Resources[i]) {
			found = append(found, &list.Resources[i])
		}
	}
	switch len(found) {
	case 0:
		return nil, c.newError(Error{Op: op, Code: CodeNotFound, Message: fmt.Sprintf("SCIM lists no user with %s %q (not in the organisation, deleted, or a service account)", attr, value)})
	case 1:
	default:
		return nil, c.newError(Error{Op: op, Code: CodeAmbiguous, Message: fmt.Sprintf("SCIM lists %d users with %s %q", len(found), attr, value)})
	}
	u.mu.Lock()
	u.scimID = found[0].ID
	u.mu.Unlock()
	return found[0], nil
}

// scimGet fetches u's SCIM record again by its id (for the checks after a
// lost answer); a record that is gone gives ErrNotFound.
func (u *User) scimGet(ctx context.Context, op Op, id string) (*scimUser, error) {
	var su scimUser
	if err := u.client.scimDo(ctx, op, http.MethodGet, "/Users/"+id, nil, nil, &su); err != nil {
		return nil, err
	}
	return &su, nil
}

// forget drops u's cached SCIM id (after deletion).
func (u *User) forget() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.scimID = ""
}

// Status returns u's standing in the organisation: active, organisation
// role, days active and last activity.
func (u *User) Status(ctx context.Context) (UserStatus, error) {
	if u.DryRun { // simulated by a dry run: the server does not know it
		role := RoleMember
		if deref(u.Admin) {
			role = RoleAdmin
		}
		return UserStatus{Active: true, Role: role}, nil
	}
	su, err := u.scimRecord(ctx, OpStatus)
	if err != nil {
		return UserStatus{}, err
	}
	return su.status(), nil
}

// Deactivate deactivates u: a deactivated user can no longer sign in or
// use an API key. On Multi-tenant Cloud deactivation removes the user from
// the organisation (add them again to undo it). Deactivating the only
// active instance admin is refused before anything is sent (CodeLastAdmin).
// Deactivating a user who is inactive already succeeds.
func (u *User) Deactivate(ctx context.Context) error {
	return u.setActive(ctx, OpDeactivate, false)
}

// Reactivate reactivates a deactivated user. Dedicated Cloud and
// Self-Managed only: Multi-tenant Cloud answers 400 (CodeInvalidArgument,
// with the server's explanation), since deactivation removed the user
// there.
func (u *User) Reactivate(ctx context.Context) error {
	return u.setActive(ctx, OpReactivate, true)
}

func (u *User) setActive(ctx context.Context, op Op, active bool) error {
	if u.DryRun {
		return u.simulated(ctx, op, "", nil, &active)
	}
	su, err := u.scimRecord(ctx, op)
	if err != nil {
		return err
	}
	if !active {
		release, err := u.guardLastAdmin(ctx, op, su)
		if err != nil {
			return err
		}
		defer release()
	}
	c := u.client
	err = c.change(ctx, op, userTarget(u), "", func() error {
		return c.settle(ctx, op, func() error {
			var answer scimUser
			if err := c.scimDo(ctx, op, http.MethodPatch, "/Users/"+su.ID, nil, patchOp("replace", "", map[string]bool{"active": active}), &answer); err != nil {
				return err
			}
			// W&B answers with the user: an answer that does not show it
			// active as asked (or shows nothing) is checked by a read.
			if answer.Active == nil || *answer.Active != active {
				return c.unconfirmed(op, fmt.Sprintf("the server's answer does not show %s %s", u, map[bool]string{true: "active", false: "inactive"}[active]))
			}
			return nil
		}, func(ctx context.Context) (bool, error) {
			now, err := u.scimGet(ctx, op, su.ID)
			switch {
			case !active && isNotFound(err): // Multi-tenant: removed from the organisation
				return true, nil
			case !active && u.lockedOut(err):
				return true, nil
			case err != nil:
				return false, err
			}
			return now.Active != nil && *now.Active == active, nil
		})
	})
	if errors.Is(err, errDryRun) {
		c.fam.pretend(u, nil, &active)
		return nil
	}
	if err != nil && active {
		var e *Error
		if errors.As(err, &e) && e.Code == CodeInvalidArgument && e.Status == http.StatusBadRequest {
			return c.renamed(err, op, "reactivation refused (on Multi-tenant Cloud deactivation removes the user from the organisation: add them again instead): ")
		}
	}
	return err
}

// Delete deletes u for good (SCIM DELETE): the account, its keys and its
// memberships. Deleting the only active instance admin is refused before
// anything is sent (CodeLastAdmin). Service accounts cannot be deleted this
// way: remove them from their team.
func (u *User) Delete(ctx context.Context) error {
	const op = OpDeleteUser
	if u.DryRun {
		return u.simulated(ctx, op, "", nil, ptrTo(false))
	}
	su, err := u.scimRecord(ctx, op)
	if err != nil {
		return err
	}
	release, err := u.guardLastAdmin(ctx, op, su)
	if err != nil {
		return err
	}
	defer release()
	c := u.client
	err = c.change(ctx, op, userTarget(u), "", func() error {
		return c.settle(ctx, op, func() error {
			if err := c.scimDo(ctx, op, http.MethodDelete, "/Users/"+su.ID, nil, nil, nil); err != nil {
				return err
			}
			// W&B answers 204, with nothing to read: a read confirms.
			return c.unconfirmed(op, "the server's answer, without a body, does not show the user gone")
		}, func(ctx context.Context) (bool, error) {
			_, err := u.scimGet(ctx, op, su.ID)
			if isNotFound(err) || u.lockedOut(err) {
				return true, nil
			}
			return false, err
		})
	})
	switch {
	case errors.Is(err, errDryRun):
		c.fam.pretend(u, nil, ptrTo(false))
		return nil
	case err == nil:
		u.forget()
	}
	return err
}

// SetRole sets u's organisation role: RoleAdmin, RoleMember or RoleViewer
// (case-insensitive; anything else is CodeInvalidArgument, before anything
// is sent). Demoting the only active instance admin is refused before
// anything is sent (CodeLastAdmin). u's fields are not changed: fetch the
// user again to see the new Admin.
func (u *User) SetRole(ctx context.Context, role string) error {
	const op = OpSetRole
	role = strings.ToLower(role)
	if role != RoleAdmin && role != RoleMember && role != RoleViewer {
		return u.clientOrZero().newError(Error{Op: op, Code: CodeInvalidArgument,
			Message: fmt.Sprintf("unknown organisation role %q: want %q, %q or %q", role, RoleAdmin, RoleMember, RoleViewer)})
	}
	if u.DryRun {
		return u.simulated(ctx, op, "role="+role, ptrTo(role == RoleAdmin), nil)
	}
	su, err := u.scimRecord(ctx, op)
	if err != nil {
		return err
	}
	if role != RoleAdmin {
		release, err := u.guardLastAdmin(ctx, op, su)
		if err != nil {
			return err
		}
		defer release()
	}
	c := u.client
	err = c.change(ctx, op, userTarget(u), "role="+termtext.Quote(role), func() error {
		return c.settleReplace(ctx, op, func() error {
			var answer scimUser
			if err := c.scimDo(ctx, op, http.MethodPatch, "/Users/"+su.ID, nil, patchOp("replace", "organizationRole", role), &answer); err != nil {
				return err
			}
			// W&B's answer to a role PATCH shows the role: read it. One
			// that does not (an empty answer) is for the check to settle.
			switch got := answer.OrganizationRole; {
			case got == nil:
				return c.unconfirmed(op, "the server's answer does not show the organisation role")
			case !orgRoleIs(*got, role):
				return c.newError(Error{Op: op, Code: CodeInternal, Status: http.StatusOK, Message: fmt.Sprintf(
					"the server accepted the change but answers that %s's organisation role is %q, not %q", u, *got, role)})
			}
			return nil
		}, func(ctx context.Context) (bool, error) {
			now, err := u.scimGet(ctx, op, su.ID)
			switch {
			case err != nil:
				return false, err
			case now.OrganizationRole == nil: // as W&B documents Get User
				return false, notShown{"the server does not show a user's organisation role when it is read"}
			}
			return orgRoleIs(*now.OrganizationRole, role), nil
		})
	})
	if errors.Is(err, errDryRun) {
		c.fam.pretend(u, ptrTo(role == RoleAdmin), nil)
		return nil
	}
	return err
}

// orgRoleIs reports whether the organisation role got, as the server
// shows it, is role as set: viewer is recorded as the member organisation
// role (with viewer seats), as W&B documents.
func orgRoleIs(got, role string) bool {
	return strings.EqualFold(got, role) || (role == RoleViewer && strings.EqualFold(got, RoleMember))
}

// SetTeamRole sets u's role in the team: "admin", "member", "viewer" or the
// name of a custom role (custom names are case-sensitive). u must be a
// member of the team; an unknown role is the server's CodeInvalidArgument.
func (u *User) SetTeamRole(ctx context.Context, team, role string) error {
	const op = OpSetTeamRole
	if strings.TrimSpace(team) == "" || strings.TrimSpace(role) == "" {
		return u.clientOrZero().newError(Error{Op: op, Code: CodeInvalidArgument, Message: "a team and a role are required"})
	}
	details := fmt.Sprintf("team=%s role=%s", termtext.Quote(team), termtext.Quote(role))
	if u.DryRun {
		return u.simulated(ctx, op, details, nil, nil)
	}
	su, err := u.scimRecord(ctx, op)
	if err != nil {
		return err
	}
	c := u.client
	return c.changed(ctx, op, userTarget(u), details, func() error {
		return c.settleReplace(ctx, op, func() error {
			var answer scimUser
			if err := c.scimDo(ctx, op, http.MethodPatch, "/Users/"+su.ID, nil,
				patchOp("replace", "teamRoles", []scimTeamRole{{TeamName: team, RoleName: role}}), &answer); err != nil {
				return err
			}
			// W&B's answer to a role PATCH shows the team roles: read them.
			// One that does not (an empty answer) is for the check to settle.
			switch {
			case answer.TeamRoles == nil:
				return c.unconfirmed(op, "the server's answer does not show the team roles")
			case !hasTeamRole(answer.TeamRoles, team, role):
				return c.newError(Error{Op: op, Code: CodeInternal, Status: http.StatusOK, Message: fmt.Sprintf(
					"the server accepted the change but its answer does not show %s with the role %q in %s", u, role, team)})
			}
			return nil
		}, func(ctx context.Context) (bool, error) {
			now, err := u.scimGet(ctx, op, su.ID)
			switch {
			case err != nil:
				return false, err
			case now.TeamRoles == nil: // as W&B documents Get User
				return false, notShown{"the server does not show a user's team roles when it is read"}
			}
			return hasTeamRole(now.TeamRoles, team, role), nil
		})
	})
}

// hasTeamRole reports whether roles give role in team (predefined role
// names match case-insensitively, custom ones exactly).
func hasTeamRole(roles []scimTeamRole, team, role string) bool {
	for _, tr := range roles {
		if tr.TeamName == team && (tr.RoleName == role || strings.EqualFold(tr.RoleName, role) && isPredefinedRole(role)) {
			return true
		}
	}
	return false
}

// lockedOut reports whether err, from a check after u deactivated or
// deleted itself, is the server refusing its credentials (401): the
// change is what ended them.
func (u *User) lockedOut(err error) bool {
	v := u.client.cachedViewer()
	return errors.Is(err, ErrUnauthorized) && v != nil && v.Same(u)
}

// simulated plans op on u, a User simulated by a dry run (only a dry-run
// client makes one): the server does not know it, so nothing is looked up.
// admin and active, when not nil, are what op pretends to make of u, for
// the last-admin guard of the rest of the dry run.
func (u *User) simulated(ctx context.Context, op Op, details string, admin, active *bool) error {
	if admin != nil || active != nil {
		u.client.fam.pretend(u, admin, active)
	}
	return u.client.changed(ctx, op, userTarget(u), details, func() error {
		return u.client.newError(Error{Op: op, Code: CodeInvalidArgument, Message: fmt.Sprintf("%s was simulated by a dry run", u)})
	})
}

// isPredefinedRole reports whether role is one of W&B's own team roles,
// whose names are case-insensitive.
func isPredefinedRole(role string) bool {
	switch strings.ToLower(role) {
	case RoleAdmin, RoleMember, RoleViewer:
		return true
	}
	return false
}

// clientOrZero returns the redactor of u's client, or the zero redactor.
func (u *User) clientOrZero() redactor {
	if u.client == nil {
		return redactor{}
	}
	return u.client.redactor
}

// guardLastAdmin refuses (CodeLastAdmin) to act on u (su, its SCIM
// record), about to lose its admin rights or its account, when that could
// leave the organisation without an active admin. On success it returns
// with the client family's admin lock held, to release once the change is
// done, so that concurrent changes cannot pass the guard together.
//
// The caller is an admin: W&B's SCIM API, which has just answered for su,
// accepts only admins (instance or organisation admins, and organisation
// service accounts). So when the caller is a person other than u, an
// admin remains, and nothing more is asked: such changes share the lock,
// as none of them can remove the caller. Otherwise (u is the caller, or
// the caller is a service account, which SCIM never lists as a user) it
// takes the lock alone, lists the users (GraphQL, for their admin flags)
// and looks the other admins up in SCIM until it finds one who is active.
// Other programs' changes are not covered: two programs demoting the last
// two admins at the same moment can still leave none. In a dry run, the
// admins the dry run pretended to demote, deactivate, delete or promote
// count as such (family.pretended), so that it refuses what the real run
// would.
func (u *User) guardLastAdmin(ctx context.Context, op Op, su *scimUser) (release func(), err error) {
	c := u.client
	if _, active := c.standing(u, su); !active {
		return func() {}, nil
	}
	other, err := c.callerIsAnotherPerson(ctx, op, u)
	if err != nil {
		return nil, err
	}
	if other {
		c.fam.admins.RLock()
		return c.fam.admins.RUnlock, nil
	}
	c.fam.admins.Lock()
	if err := u.anotherAdminRemains(ctx, op, su); err != nil {
		c.fam.admins.Unlock()
		return nil, err
	}
	return c.fam.admins.Unlock, nil
}

// anotherAdminRemains returns nil when u is no admin, or another active
// admin exists; else the refusal.
func (u *User) anotherAdminRemains(ctx context.Context, op Op, su *scimUser) error {
	c := u.client
	if admin, _ := c.standing(u, su); !admin && (u.Admin != nil || su.OrganizationRole != nil) {
		return nil
	}
	remains, err := c.adminRemains(ctx, op, u.Same, nil)
	if err != nil || remains {
		return err
	}
	verb := map[Op]string{OpDeactivate: "deactivate", OpDeleteUser: "delete", OpSetRole: "demote"}[op]
	return c.newError(Error{Op: op, Code: CodeLastAdmin, Message: fmt.Sprintf(
		"refusing to %s %s: they are the only active admin, and without one nobody could administer the organisation; make another user an admin first", verb, u)})
}

// standing returns u's admin flag and activity as the last-admin guard
// counts them: as su, u's SCIM record (nil: not read), and u show them,
// or as a dry run pretended to change them. The admin flag is the SCIM
// role where the record shows one, else u's; a user nothing shows as an
// admin is not one.
func (c *Client) standing(u *User, su *scimUser) (admin, active bool) {
	admin, active = deref(u.Admin), true
	if su != nil {
		active = su.status().Active
		if su.OrganizationRole != nil {
			admin = strings.EqualFold(*su.OrganizationRole, RoleAdmin)
		}
	}
	p := c.fam.pretence(u)
	if p.admin != nil {
		admin = *p.admin
	}
	if p.active != nil {
		active = *p.active
	}
	return admin, active
}

// adminRemains reports whether an active instance admin remains who is
// not excepted: one of the users (listed through GraphQL, for their admin
// flags), or of made (users a plan makes admins before the change in
// question), or of those a dry run pretended to make admins, whom SCIM
// shows active. The guard and Plan share it.
func (c *Client) adminRemains(ctx context.Context, op Op, excepted func(*User) bool, made []*User) (bool, error) {
	all, err := c.Users(ctx, "")
	if err != nil {
		return false, c.renamed(err, op, "cannot list the users to check that another admin remains: ")
	}
	made = append(slices.Clone(made), c.fam.pretendedAdmins()...)
	isMade := map[*User]bool{}
	for _, u := range made {
		isMade[u] = true
	}
	for _, other := range append(all, made...) {
		if excepted(other) {
			continue
		}
		if other.DryRun { // created by this dry run: active, an admin if made one
			if isMade[other] {
				return true, nil
			}
			continue
		}
		if admin, _ := c.standing(other, nil); !admin && !isMade[other] {
			continue
		}
		rec, err := other.scimRecord(ctx, op)
		switch {
		case isNotFound(err): // a service account, or gone
			continue
		case err != nil:
			return false, c.renamed(err, op, "cannot check that another admin remains: ")
		}
		// A role the server shows counts, unless this run made the user
		// an admin, which the server does not show yet.
		if admin, active := c.standing(other, rec); active && (admin || isMade[other]) {
			return true, nil
		}
	}
	return false, nil
}

// callerIsAnotherPerson reports whether the client's identity is an
// active user (not a service account) other than u. The answer is kept
// once it is yes: a caller stays who it is.
func (c *Client) callerIsAnotherPerson(ctx context.Context, op Op, u *User) (bool, error) {
	v, err := c.Viewer(ctx)
	if err != nil {
		return false, c.renamed(err, op, "cannot fetch the viewer to check that another admin remains: ")
	}
	if v.Same(u) {
		return false, nil
	}
	if p := c.fam.pretence(v); p.admin != nil && !*p.admin || p.active != nil && !*p.active {
		return false, nil // a dry run pretended the caller lost the role
	}
	c.mu.Lock()
	known := c.callerPerson
	c.mu.Unlock()
	if known {
		return true, nil
	}
	rec, err := v.scimRecord(ctx, op)
	switch {
	case isNotFound(err): // a service account: SCIM lists no such user
		return false, nil
	case err != nil:
		return false, c.renamed(err, op, "cannot check that another admin remains: ")
	case !rec.status().Active:
		return false, nil
	}
	c.mu.Lock()
	c.callerPerson = true
	c.mu.Unlock()
	return true, nil
}
