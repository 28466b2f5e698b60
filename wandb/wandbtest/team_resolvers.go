package wandbtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest/internal/graph"
)

// The team operations of the SDK's teams.py: entity (GetTeamEntity),
// createTeam, createInvite, deleteInvite and createServiceAccount.

// teamStatus is the HTTP status for an error of a team operation other
// than a permission failure (see exchange.deny).
func teamStatus(err error) int {
	switch {
	case errors.Is(err, errNoTeam), errors.Is(err, errNoUser), errors.Is(err, errNoMember):
		return http.StatusNotFound
	case errors.Is(err, errExists):
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

// teamMutation runs change with the store locked and, when it succeeds,
// saves the state; a failure sets the answer's status from its error.
func (m mutationResolver) teamMutation(ctx context.Context, change func(s *store, caller *user) error) error {
	ex := exchangeFrom(ctx)
	s := m.h.store
	s.mu.Lock()
	err := change(s, ex.caller)
	s.mu.Unlock()
	switch {
	case errors.Is(err, errDenied):
		return ex.deny(err)
	case err != nil:
		ex.fail(teamStatus(err))
		return err
	}
	if err := m.h.persist(); err != nil {
		ex.fail(http.StatusInternalServerError)
		return err
	}
	return nil
}

func (q queryResolver) Entity(ctx context.Context, name string) (*graph.Entity, error) {
	s := q.h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.teamByName[name]; t != nil {
		e := t.model(s.teamInfo(t).Members)
		if !q.h.assumed.noMemberKeys {
			s.showMemberKeys(t, e, exchangeFrom(ctx).caller)
		}
		return e, nil
	}
	if u := s.byUsername[strings.ToLower(name)]; u != nil {
		return u.entityModel(), nil
	}
	return nil, nil
}

func (m mutationResolver) CreateTeam(ctx context.Context, in graph.CreateTeamInput) (*graph.CreateTeamPayload, error) {
	var out *graph.Entity
	err := m.teamMutation(ctx, func(s *store, caller *user) error {
		admin := caller
		if in.TeamAdminUserName != nil {
			u := s.byUsername[strings.ToLower(*in.TeamAdminUserName)]
			switch {
			case u == nil:
				return fmt.Errorf("%w with username %s", errNoUser, *in.TeamAdminUserName)
			case u != caller && !caller.admin:
				return fmt.Errorf("%w: only an instance admin may make someone else a team's admin", errPermission)
			}
			admin = u
		}
		t, err := s.createTeam(in.TeamName, admin)
		if err == nil {
			out = t.model(nil)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &graph.CreateTeamPayload{Entity: out}, nil
}

func (m mutationResolver) CreateInvite(ctx context.Context, in graph.CreateInviteInput) (*graph.CreateInvitePayload, error) {
	var out *graph.Invite
	err := m.teamMutation(ctx, func(s *store, caller *user) error {
		t, err := s.teamByEntityName(in.EntityName)
		if err != nil {
			return err
		}
		if !t.canManage(caller) {
			return errNotTeamHead
		}
		email, username := deref(in.Email), deref(in.Username)
		var u *user
		switch {
		case (email == "") == (username == ""):
			return errors.New("invalid invite: give either an email or a username")
		case username != "":
			if u = s.byUsername[strings.ToLower(username)]; u == nil {
				return fmt.Errorf("%w with username %s", errNoUser, username)
			}
		default:
			if _, err := splitEmail(email); err != nil {
				return err
			}
			u = s.byEmail[strings.ToLower(email)]
		}
		inv, err := s.invite(t, u, email, in.Admin != nil && *in.Admin)
		if err == nil {
			out = inv.model()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &graph.CreateInvitePayload{Invite: out}, nil
}

func (m mutationResolver) DeleteInvite(ctx context.Context, in graph.DeleteInviteInput) (*graph.DeleteInvitePayload, error) {
	err := m.teamMutation(ctx, func(s *store, caller *user) error {
		if in.EntityName == nil || in.ID == nil {
			return errors.New("invalid deleteInvite: give the member's id and the team's entityName")
		}
		t, err := s.teamByEntityName(*in.EntityName)
		if err != nil {
			return err
		}
		m := t.member(caller)
		leaving := m != nil && *in.ID == s.memberID(m)
		if !t.canManage(caller) && !leaving {
			return errNotTeamHead
		}
		return s.deleteMember(t, *in.ID)
	})
	if err != nil {
		return nil, err
	}
	ok := true
	return &graph.DeleteInvitePayload{Success: &ok}, nil
}

func (m mutationResolver) CreateServiceAccount(ctx context.Context, in graph.CreateServiceAccountInput) (*graph.CreateServiceAccountPayload, error) {
	var out *graph.User
	err := m.teamMutation(ctx, func(s *store, caller *user) error {
		t, err := s.teamByEntityName(in.EntityName)
		if err != nil {
			return err
		}
		if !t.canManage(caller) {
			return errNotTeamHead
		}
		if strings.TrimSpace(in.Description) == "" {
			return errors.New("invalid service account: the description is empty")
		}
		sa, k, secret, _ := s.addServiceAccount(t, in.Description, "") // a minted secret cannot fail
		if !m.h.assumed.noMemberKeys {
			s.rememberMemberKey(sa, k, secret)
		}
		out = sa.model()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &graph.CreateServiceAccountPayload{User: out}, nil
}

// showMemberKeys fills members[].apiKey of e, the view of t, for the
// service accounts createServiceAccount made while the handler runs: the
// SDK selects that field and exposes it as Member.api_key. To whom a real
// server shows it, and whether one that hashes keys still can, is not
// public (assumed here: t's admins and instance admins, for the key's
// life; WithoutMemberKeys answers null).
func (s *store) showMemberKeys(t *team, e *graph.Entity, caller *user) {
	if caller == nil || !t.canManage(caller) {
		return
	}
	for i, m := range t.members { // e lists t.members first, in order
		if secret := s.memberSecret(m.user); secret != "" {
			e.Members[i].APIKey = ptr(secret)
		}
	}
}

// model returns the GraphQL view of t with members (from s.teamInfo),
// none when nil.
func (t *team) model(members []MemberInfo) *graph.Entity {
	e := &graph.Entity{
		ID:                gqlID("Entity", t.id),
		Name:              t.name,
		Available:         ptr(false),
		IsTeam:            true,
		EntityType:        ptr("team"),
		CodeSavingEnabled: true,
		DefaultAccess:     "MEMBERS",
		Members:           []*graph.Member{},
	}
	for _, mi := range members {
		gm := &graph.Member{
			ID:          ptr(mi.ID),
			Admin:       ptr(mi.Admin),
			Pending:     ptr(mi.Pending),
			Name:        mi.Name,
			AccountType: ptr(mi.AccountType),
		}
		if mi.Email != "" {
			gm.Email = ptr(mi.Email)
		}
		if mi.Username != "" {
			gm.Username = ptr(mi.Username)
		}
		e.Members = append(e.Members, gm)
	}
	return e
}

// entityModel returns the GraphQL view of u's own (personal) entity: not a
// team (isTeam false: assumed), with u as its one member, account type
// USER (SERVICE for a service account), as the SDK's system test
// test_query_team shows a real server answering api.team(username).
func (u *user) entityModel() *graph.Entity {
	accountType := "USER"
	if u.service {
		accountType = "SERVICE"
	}
	me := &graph.Member{
		ID:          ptr(gqlID("User", u.id)),
		Admin:       ptr(true),
		Pending:     ptr(false),
		Name:        u.name,
		Username:    ptr(u.username),
		AccountType: ptr(accountType),
	}
	if u.email != "" {
		me.Email = ptr(u.email)
	}
	return &graph.Entity{
		ID:            gqlID("UserEntity", u.id),
		Name:          u.username,
		Available:     ptr(false),
		EntityType:    ptr("user"),
		DefaultAccess: "USER",
		Members:       []*graph.Member{me},
	}
}

// model returns the GraphQL view of inv.
func (inv *invite) model() *graph.Invite {
	out := &graph.Invite{
		ID:        gqlID("Invite", inv.id),
		Name:      inv.email,
		Email:     ptr(inv.email),
		CreatedAt: ptr(inv.created.Format(time.RFC3339)),
	}
	if inv.user != nil {
		out.Name = inv.user.name
		out.ToUser = inv.user.model()
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
