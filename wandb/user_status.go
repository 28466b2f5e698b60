package wandb

import (
	"context"
	"errors"
	"strings"
)

// UsersWithStatus is Users with each user's standing in the organisation
// (User.OrgStatus: active, created, days active, last activity, not the
// role), from one listing of the SCIM API's users made while the search
// runs, joined by email, else username. A user the SCIM API does not list
// (a service account) has a nil OrgStatus. A server that does not page
// leaves the users past its first answer with a nil OrgStatus, and the
// users come with an error with CodeIncomplete; any other failure of the
// SCIM API fails the call. It needs an admin key.
func (c *Client) UsersWithStatus(ctx context.Context, query string) ([]*User, error) {
	// GET /scim/Users, a request per page, not a request per user. W&B's
	// SCIM lists leave the role out (User.Admin says who is an instance
	// admin). W&B documents at most 9,999 users per SCIM answer and no
	// paging; pages past the first are asked for as RFC 7644 has it.
	const op = OpUsers
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type listing struct {
		recs []scimUser
		err  error
	}
	listed := make(chan listing, 1)
	go func() {
		recs, err := scimListAll(ctx, c, op, "/Users", "users", func(su *scimUser) string { return su.ID })
		listed <- listing{recs, err}
	}()
	users, err := c.Users(ctx, query)
	if users == nil {
		cancel()
		<-listed
		return nil, err
	}
	l := <-listed
	if l.recs == nil && l.err != nil {
		return nil, c.renamed(l.err, op, "cannot list the users' standing through SCIM: ")
	}
	joinStatus(users, l.recs)
	if l.err != nil && (err == nil || errors.Is(l.err, ErrIncomplete)) {
		err = l.err // the users, with what is missing of their standing
	}
	return users, err
}

// joinStatus sets the OrgStatus of each of users that one of recs, the
// SCIM API's users, is: the record with the user's email, else with its
// username. A user matched as its lifecycle calls would find it (by
// email when it has one) keeps the record's SCIM id for them. An email or
// username two records share matches neither.
func joinStatus(users []*User, recs []scimUser) {
	byEmail := make(map[string]*scimUser, len(recs))
	byName := make(map[string]*scimUser, len(recs))
	add := func(m map[string]*scimUser, k string, su *scimUser) {
		if k == "" {
			return
		}
		k = strings.ToLower(k)
		if o, ok := m[k]; ok && o != su {
			su = nil // shared: nobody's
		}
		m[k] = su
	}
	for i := range recs {
		su := &recs[i]
		for _, e := range su.Emails {
			add(byEmail, e, su)
		}
		add(byName, su.UserName, su)
	}
	statuses := make([]UserStatus, 0, len(users)) // one allocation for all
	for _, u := range users {
		email, username := strings.ToLower(deref(u.Email)), strings.ToLower(deref(u.Username))
		su, byItsEmail := byEmail[email], true
		if su == nil || email == "" {
			su, byItsEmail = byName[username], email == ""
		}
		if su == nil {
			continue
		}
		statuses = append(statuses, su.status())
		u.OrgStatus = &statuses[len(statuses)-1]
		if byItsEmail {
			u.scimID = su.ID
		}
	}
}
