package wandb

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/Khan/genqlient/graphql"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
)

// SearchUsers, decoded as it streams. The SDK's query is not paginated:
// on a large instance users() is one answer of tens of megabytes (about
// 250 bytes a user without keys). Each user node becomes a *User as soon
// as it is read, so the answer is never held whole, in bytes or in
// generated types: the nodes are decoded straight into Users, exactly as
// decoding them with encoding/json into genqlient's UserFragment and
// converting that would (FuzzUserList checks it), at a fraction of the
// cost. The document and variables sent are genqlient's, as the SDK's.

// searchUsers sends SearchUsers for query and returns the users listed,
// de-duplicated by ID, in the server's order (never nil), with the
// server's error if there was one beside them.
func (c *Client) searchUsers(ctx context.Context, op Op, query string) ([]*User, error) {
	list := &userList{c: c}
	req := &graphql.Request{
		OpName:    "SearchUsers",
		Query:     gql.SearchUsers_Operation,
		Variables: searchUsersInput{Query: &query},
	}
	err := c.gql(op).MakeRequest(ctx, req, &graphql.Response{Data: list})
	if err != nil && (!list.complete || len(list.users) == 0) {
		return nil, err // no data, or what an attempt read before it failed
	}
	if err == nil && list.noID > 0 {
		err = c.newError(Error{Op: op, Code: CodeBadResponse, Message: fmt.Sprintf(
			"the server listed %d user(s) without an id, which are left out", list.noID)})
		if len(list.users) == 0 {
			return nil, err
		}
	}
	return dedupUsers(list.users), err
}

// searchUsersInput is SearchUsers' variables, as genqlient encodes them.
type searchUsersInput struct {
	Query *string `json:"query"`
}

// dedupUsers drops the users listed again under an ID listed before, in
// place; never nil. (Once at the end, with a map of the right size: cheaper
// than a map grown while the list streams in.)
func dedupUsers(users []*User) []*User {
	seen := make(map[string]struct{}, len(users))
	out := users[:0]
	for _, u := range users {
		n := len(seen)
		if seen[u.ID] = struct{}{}; len(seen) > n {
			out = append(out, u)
		}
	}
	clear(users[len(out):])
	if out == nil {
		out = []*User{}
	}
	return out
}

// userList is SearchUsers' data: {"users": {"edges": [{"node": {...}}]}},
// where any of them may be null.
type userList struct {
	c        *Client
	users    []*User
	complete bool // the data was read to its end: the users are the server's answer, errors or not
	noID     int  // nodes without an id, left out

	// Scratch space, reused from node to node: a User keeps nothing of it.
	blob      []byte     // the node's strings, end to end: one allocation for all of them
	spans     []textSpan // where each of them goes
	username  textSpan   // the username's, to share it with an equal entity
	teamNames []string   // the node's teams
	buf       []byte     // scratch for strings read alone
	listKey   []byte     // scratch for teamLists' keys
	lastList  []string   // the list teamList returned last

	names     map[string]string   // team names, interned: thousands of users share a few
	teamLists map[string][]string // lists of team names, interned likewise
}

// maxInterned bounds each intern map: interning only saves memory.
const maxInterned = 1 << 16

// listedUser is a User with what its pointer fields point to: a listed
// user is one allocation, and its strings another.
type listedUser struct {
	User
	username, email, entity, deletedAt string
	admin                              bool
}

// textSpan is a string of a node: blob[start:end], to be stored in the
// field into. (A field number, not a pointer: the spans are rewritten for
// every node, and pointers would cost the garbage collector's write
// barriers.)
type textSpan struct {
	into       textField
	start, end int
}

// textField is a string field of a listedUser that a textSpan fills.
type textField uint8

const (
	fieldID textField = iota
	fieldName
	fieldUsername
	fieldEmail
	fieldEntity
	fieldDeletedAt
	fieldNone // read and checked, not kept (flags)
)

// field returns the string of rec that into names.
func (into textField) field(rec *listedUser) *string {
	switch into {
	case fieldID:
		return &rec.ID
	case fieldName:
		return &rec.Name
	case fieldUsername:
		return &rec.username
	case fieldEmail:
		return &rec.email
	case fieldEntity:
		return &rec.entity
	case fieldDeletedAt:
		return &rec.deletedAt
	}
	return nil
}

// decodeFrom implements streamedData.
func (l *userList) decodeFrom(s *jsonScanner) error {
	l.users, l.complete, l.lastList = nil, false, nil
	l.names, l.teamLists = map[string]string{}, map[string][]string{}
	err := s.object("data", func(key []byte) error {
		if string(key) != "users" {
			return s.skip()
		}
		l.users = nil // a repeated key: the last one counts
		return s.object("users", func(key []byte) error {
			if string(key) != "edges" {
				return s.skip()
			}
			l.users = nil
			return s.array("users.edges", func() error {
				return s.object("users.edges[]", func(key []byte) error {
					if string(key) != "node" {
						return s.skip()
					}
					return l.decodeNode(s)
				})
			})
		})
	})
	l.complete = err == nil
	return err
}

// decodeNode reads a user node, or null (skipped, where the SDK
// crashes), and adds it.
func (l *userList) decodeNode(s *jsonScanner) error {
	if null, err := s.null(); null || err != nil {
		return err
	}
	const where = "users.edges[].node"
	rec := new(listedUser)
	u := &rec.User
	u.client = l.c
	l.blob, l.spans, l.username, l.teamNames = l.blob[:0], l.spans[:0], textSpan{}, l.teamNames[:0]
	err := s.object(where, func(key []byte) error {
		var err error
		switch string(key) {
		case "id":
			_, err = l.text(s, fieldID, where+".id")
		case "name":
			_, err = l.text(s, fieldName, where+".name")
		case "username":
			if u.Username, err = l.optText(s, fieldUsername, &rec.username, where+".username"); u.Username != nil {
				l.username = l.spans[len(l.spans)-1]
			}
		case "email":
			u.Email, err = l.optText(s, fieldEmail, &rec.email, where+".email")
		case "admin":
			var null bool
			u.Admin = nil
			if rec.admin, null, err = s.boolean(where + ".admin"); err == nil && !null {
				u.Admin = &rec.admin
			}
		case "flags":
			_, err = l.text(s, fieldNone, where+".flags")
		case "entity":
			if u.Entity, err = l.optText(s, fieldEntity, &rec.entity, where+".entity"); u.Entity != nil && u.Username != nil {
				// The entity is usually the username: share its bytes.
				sp, un := &l.spans[len(l.spans)-1], l.username
				if bytes.Equal(l.blob[sp.start:sp.end], l.blob[un.start:un.end]) {
					l.blob = l.blob[:sp.start]
					sp.start, sp.end = un.start, un.end
				}
			}
		case "deletedAt":
			u.DeletedAt, err = l.optText(s, fieldDeletedAt, &rec.deletedAt, where+".deletedAt")
		case "apiKeys":
			err = l.decodeKeys(s, u)
		case "teams":
			err = l.decodeTeams(s)
		default:
			err = s.skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	text := string(l.blob)
	for _, sp := range l.spans {
		if p := sp.into.field(rec); p != nil {
			*p = text[sp.start:sp.end]
		}
	}
	if u.ID == "" {
		l.noID++ // unusable: users are told apart by ID
		return nil
	}
	u.teams = l.teamList()
	l.users = append(l.users, u)
	return nil
}

// text reads a string into the node's blob, to be stored in the field
// into; null leaves the field as it is (as encoding/json does). ok is
// false for null.
func (l *userList) text(s *jsonScanner, into textField, where string) (ok bool, err error) {
	start := len(l.blob)
	if l.blob, ok, err = s.appendStr(l.blob, where); ok && err == nil {
		if into == fieldNone {
			l.blob = l.blob[:start]
		} else {
			l.spans = append(l.spans, textSpan{into: into, start: start, end: len(l.blob)})
		}
	}
	return ok, err
}

// optText is text for a pointer field: ptr (the field into), or nil for
// null.
func (l *userList) optText(s *jsonScanner, into textField, ptr *string, where string) (*string, error) {
	ok, err := l.text(s, into, where)
	if !ok || err != nil {
		return nil, err
	}
	return ptr, nil
}

// str reads a string of its own; ok is false for null.
func (l *userList) str(s *jsonScanner, where string) (v string, ok bool, err error) {
	if l.buf, ok, err = s.appendStr(l.buf[:0], where); !ok || err != nil {
		return "", ok, err
	}
	return string(l.buf), true, nil
}

// decodeKeys reads apiKeys, {"edges": [{"node": {"id", "name",
// "description"}}]}, into u's keys; null leaves them unloaded.
func (l *userList) decodeKeys(s *jsonScanner, u *User) error {
	const where = "users.edges[].node.apiKeys"
	u.loaded, u.keys = false, nil
	if null, err := s.null(); null || err != nil {
		return err
	}
	u.loaded = true
	return s.object(where, func(key []byte) error {
		if string(key) != "edges" {
			return s.skip()
		}
		u.keys = nil
		return s.array(where+".edges", func() error {
			has := false // the edge has a node: a null node is skipped (the SDK crashes on one)
			return s.object(where+".edges[]", func(key []byte) error {
				if string(key) != "node" {
					return s.skip()
				}
				if has { // a repeated key: the last one counts
					u.keys, has = u.keys[:len(u.keys)-1], false
				}
				if null, err := s.null(); null || err != nil {
					return err
				}
				var k APIKey
				err := s.object(where+".edges[].node", func(key []byte) error {
					var v string
					var ok bool
					var err error
					switch string(key) {
					case "id":
						if v, ok, err = l.str(s, where+".edges[].node.id"); ok {
							k.ID = v
						}
					case "name":
						if v, ok, err = l.str(s, where+".edges[].node.name"); ok {
							k.Name = v
						}
					case "description":
						k.Description = nil
						if v, ok, err = l.str(s, where+".edges[].node.description"); ok {
							k.Description = &v
						}
					default:
						err = s.skip()
					}
					return err
				})
				u.keys, has = append(u.keys, k), true
				return err
			})
		})
	})
}

// decodeTeams reads teams, {"edges": [{"node": {"name"}}]}, into
// teamNames. A node without a name is a team named "", as the generated
// type decodes it.
func (l *userList) decodeTeams(s *jsonScanner) error {
	const where = "users.edges[].node.teams"
	l.teamNames = l.teamNames[:0]
	return s.object(where, func(key []byte) error {
		if string(key) != "edges" {
			return s.skip()
		}
		l.teamNames = l.teamNames[:0]
		return s.array(where+".edges", func() error {
			named := false
			return s.object(where+".edges[]", func(key []byte) error {
				if string(key) != "node" {
					return s.skip()
				}
				if named { // a repeated key: the last one counts
					l.teamNames, named = l.teamNames[:len(l.teamNames)-1], false
				}
				if null, err := s.null(); null || err != nil {
					return err
				}
				name, own := "", false
				err := s.object(where+".edges[].node", func(key []byte) error {
					if string(key) != "name" {
						return s.skip()
					}
					var ok bool
					var err error
					if l.buf, ok, err = s.appendStr(l.buf[:0], where+".edges[].node.name"); ok && err == nil {
						if own = l.ownEntity(l.buf); !own {
							name = l.intern(l.buf)
						}
					}
					return err
				})
				if own {
					return err // User.Teams leaves it out: not kept, so users in the same teams share one list
				}
				l.teamNames, named = append(l.teamNames, name), true
				return err
			})
		})
	})
}

// ownEntity reports whether the team name is the node's own entity: the
// username, read before the teams as the SDK's query asks for them (see
// User.Teams, which leaves it out when the answer gives the username
// after). A real server lists it among every user's teams; kept, it
// would make each user's team list unique, and the list of 200,000 users
// half again as large and nearly twice as slow to decode.
func (l *userList) ownEntity(name []byte) bool {
	un := l.username
	return un.end > un.start && bytes.EqualFold(name, l.blob[un.start:un.end])
}

// intern returns b as a string, the same string for the same bytes.
func (l *userList) intern(b []byte) string {
	if s, ok := l.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(l.names) < maxInterned {
		l.names[s] = s
	}
	return s
}

// teamList returns the node's team names as a User keeps them: shared
// with every other user in the same teams (a User never changes its
// list), nil for none.
func (l *userList) teamList() []string {
	if len(l.teamNames) == 0 {
		return nil
	}
	if slices.Equal(l.teamNames, l.lastList) { // neighbours are often in the same teams
		return l.lastList
	}
	l.listKey = l.listKey[:0]
	for _, n := range l.teamNames {
		l.listKey = append(append(l.listKey, n...), 0)
	}
	list, ok := l.teamLists[string(l.listKey)]
	if !ok {
		list = slices.Clone(l.teamNames)
		if len(l.teamLists) < maxInterned {
			l.teamLists[string(l.listKey)] = list
		}
	}
	l.lastList = list
	return list
}
