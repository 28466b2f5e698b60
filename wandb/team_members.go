package wandb

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/wandb-lua/wandb-lua/wandb/termtext"
)

// Team membership over SCIM Groups (a W&B team is a SCIM Group): add a
// user, remove one, set one's role. W&B applies one operation per PATCH,
// so each change is its own request.

// scimGroup returns the team's SCIM Group, looking it up by displayName
// the first time.
func (t *Team) scimGroup(ctx context.Context, op Op) (*scimGroup, error) {
	c := t.client
	t.mu.Lock()
	id := t.scimID
	t.mu.Unlock()
	if id != "" {
		var g scimGroup
		if err := c.scimDo(ctx, op, http.MethodGet, "/Groups/"+id, nil, nil, &g); err != nil {
			return nil, err
		}
		return &g, nil
	}
	var list scimList[scimGroup]
	if err := c.scimDo(ctx, op, http.MethodGet, "/Groups", eqFilter("displayName", t.Name), nil, &list); err != nil {
		return nil, err
	}
	for i := range list.Resources {
		if g := &list.Resources[i]; g.DisplayName == t.Name {
			t.mu.Lock()
			t.scimID = g.ID
			t.mu.Unlock()
			return g, nil
		}
	}
	return nil, c.newError(Error{Op: op, Code: CodeNotFound, Message: fmt.Sprintf("SCIM lists no group (team) named %q", t.Name)})
}

// AddMember adds u to the team (a SCIM Group PATCH), as a plain member, and
// then, when role is neither "" nor "member", sets u's team role (a
// second request; see User.SetTeamRole): if that fails, u stays a plain
// member and the error says so. Adding a member again succeeds. The team's
// Members are not reloaded.
func (t *Team) AddMember(ctx context.Context, u *User, role string) error {
	const op = OpAddMember
	details := "team=" + t.Name
	if role != "" {
		details += " role=" + role
	}
	if t.DryRun || u.DryRun {
		return u.simulated(ctx, op, details, nil, nil)
	}
	g, su, err := t.groupAndUser(ctx, op, u)
	if err != nil {
		return err
	}
	c := t.client
	err = c.changed(ctx, op, userTarget(u), "team="+termtext.Quote(t.Name), func() error {
		return c.settle(ctx, op, func() error {
			return t.patchGroup(ctx, op, g.ID, su, true, patchOp("add", "members", []map[string]string{{"value": su.ID}}))
		}, t.groupCheck(ctx, op, su, true))
	})
	if err != nil {
		return err
	}
	if role == "" || strings.EqualFold(role, RoleMember) {
		t.noteRole(u, RoleMember) // not a role remembered from before
		return nil
	}
	if err := u.SetTeamRole(ctx, t.Name, role); err != nil {
		return c.renamed(err, op, fmt.Sprintf("%s was added to %s as a member, but setting the role %q failed: ", u, t.Name, role))
	}
	t.noteRole(u, role)
	return nil
}

// RemoveMember removes u from the team (a SCIM Group PATCH with the
// filter path members[value eq "<id>"]). A user who is not a member gives
// an error matching ErrNotFound, without a PATCH. The team's Members are
// not reloaded.
func (t *Team) RemoveMember(ctx context.Context, u *User) error {
	const op = OpRemoveMember
	if t.DryRun || u.DryRun {
		return u.simulated(ctx, op, "team="+t.Name, nil, nil)
	}
	g, su, err := t.groupAndUser(ctx, op, u)
	if err != nil {
		return err
	}
	c := t.client
	if !g.has(su) {
		return c.newError(Error{Op: op, Code: CodeNotFound, Message: fmt.Sprintf("%s is not a member of %s", u, t.Name)})
	}
	err = c.changed(ctx, op, userTarget(u), "team="+termtext.Quote(t.Name), func() error {
		return c.settle(ctx, op, func() error {
			return t.patchGroup(ctx, op, g.ID, su, false, patchOp("remove", fmt.Sprintf(`members[value eq "%s"]`, su.ID), nil))
		}, t.groupCheck(ctx, op, su, false))
	})
	if err == nil {
		t.forgetRole(u)
	}
	return err
}

// forgetRole drops the role this program set for u in t.
func (t *Team) forgetRole(u *User) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range []*string{u.Username, u.Email} {
		delete(t.roles, strings.ToLower(deref(k)))
	}
}

// SetRole sets u's role in the team: "admin", "member", "viewer" or a
// custom role's name (see User.SetTeamRole). On success, u's entry in
// Members shows the role (Member.Role), and its admin flag follows it,
// until the next Reload, which keeps the role while the server's admin
// flag agrees with it.
func (t *Team) SetRole(ctx context.Context, u *User, role string) error {
	if err := u.SetTeamRole(ctx, t.Name, role); err != nil {
		return err
	}
	t.noteRole(u, role)
	return nil
}

// noteRole remembers that u has role in t, and shows it on u's entry in
// t's members (a new Member: those returned are not changed).
func (t *Team) noteRole(u *User, role string) {
	if isPredefinedRole(role) {
		role = strings.ToLower(role)
	}
	admin := role == RoleAdmin
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.roles == nil {
		t.roles = map[string]string{}
	}
	for _, k := range []*string{u.Username, u.Email} {
		if deref(k) != "" {
			t.roles[strings.ToLower(*k)] = role
		}
	}
	for i, m := range t.members {
		if (eqFold(m.Username, deref(u.Username)) || eqFold(m.Email, deref(u.Email))) && !deref(m.Pending) {
			cp := *m
			cp.Admin, cp.role = &admin, role
			t.members[i] = &cp
		}
	}
}

// knownRole returns the role this program set for m, as the team listed
// it, when the server's admin flag agrees with it; else "".
func (t *Team) knownRole(m *Member) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if deref(m.Pending) || m.Admin == nil {
		return ""
	}
	for _, k := range []*string{m.Username, m.Email} {
		if role, ok := t.roles[strings.ToLower(deref(k))]; ok && deref(k) != "" && (role == RoleAdmin) == *m.Admin {
			return role
		}
	}
	return ""
}

// groupAndUser returns the team's SCIM Group and u's SCIM record.
func (t *Team) groupAndUser(ctx context.Context, op Op, u *User) (*scimGroup, *scimUser, error) {
	if t.client == nil {
		return nil, nil, redactor{}.newError(Error{Op: op, Code: CodeInvalidArgument, Message: "the team was not fetched by a client"})
	}
	su, err := u.scimRecord(ctx, op)
	if err != nil {
		return nil, nil, err
	}
	g, err := t.scimGroup(ctx, op)
	if err != nil {
		return nil, nil, err
	}
	return g, su, nil
}

// patchGroup sends the PatchOp body to the group id and reads W&B's
// answer, the group: one that does not show su as a member (member true)
// or not (false), or shows nothing, is for the check to settle.
func (t *Team) patchGroup(ctx context.Context, op Op, id string, su *scimUser, member bool, body any) error {
	c := t.client
	var answer scimGroup
	if err := c.scimDo(ctx, op, http.MethodPatch, "/Groups/"+id, nil, body, &answer); err != nil {
		return err
	}
	switch {
	case answer.ID == "":
		return c.unconfirmed(op, "the server's answer does not show the team")
	case answer.has(su) != member:
		return c.unconfirmed(op, fmt.Sprintf("the server's answer shows %s %s", su.UserName, map[bool]string{true: "not among the team's members", false: "still a member"}[member]))
	}
	return nil
}

// groupCheck returns the check, after a lost answer, that su is (member
// true) or is not a member of the team's group.
func (t *Team) groupCheck(ctx context.Context, op Op, su *scimUser, member bool) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		g, err := t.scimGroup(ctx, op)
		if err != nil {
			return false, err
		}
		return g.has(su) == member, nil
	}
}
