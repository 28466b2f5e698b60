package wandb

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
)

// family is what a client shares with the clients derived from it for the
// same server (WithAPIKey, WithReadOnly, ...): what this program knows of
// that server, and the locks that keep its concurrent calls from judging
// each other's changes as their own.
type family struct {
	scimSeen atomic.Bool // the server's SCIM API has answered a request; see scimDo

	// admins keeps the changes that can remove an admin (deactivate,
	// delete, demote), each with its last-admin guard, from passing the
	// guard together (see guardLastAdmin).
	admins sync.RWMutex

	outMu sync.Mutex // serialises the dry-run lines written to Config.DryRunOutput

	// secrets are the secrets the family learned from the server (the API
	// keys of service accounts, see Team.fetch): every client of the
	// family removes them from its errors and logs.
	secrets *secretSet

	mu        sync.Mutex
	delivered map[string]bool      // IDs of keys whose secret a call returned
	creating  map[string]*creation // CreateUser calls in flight, by lower-cased email
	pretended pretended            // the admin changes a dry run pretended to make
}

// pretended are what a dry run pretended to change of users' standing:
// the last-admin guard reads a user's admin flag and activity through it
// (see standing), so that a dry run refuses the change the real run would
// refuse. A user is kept under each of its names (ID, email, username;
// see userKeys), so that a dry run of many changes stays linear.
type pretended struct {
	byKey map[string]*pretence
}

// pretence is what a dry run pretended of one user: nil fields are as the
// server says.
type pretence struct {
	user   *User
	admin  *bool // demoted (false) or made an admin (true)
	active *bool // deactivated or deleted (false), reactivated or created (true)
}

// userKeys returns the names by which User.Same can match u: its ID, its
// email and its username, each marked with its kind.
func userKeys(u *User) []string {
	var keys []string
	if u.ID != "" {
		keys = append(keys, "id:"+u.ID)
	}
	if e := deref(u.Email); e != "" {
		keys = append(keys, "email:"+strings.ToLower(e))
	}
	if n := deref(u.Username); n != "" {
		keys = append(keys, "username:"+strings.ToLower(n))
	}
	return keys
}

// pretend notes that a dry run set u's admin flag and/or activity (nil:
// unchanged).
func (f *family) pretend(u *User, admin, active *bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pretended.byKey == nil {
		f.pretended.byKey = map[string]*pretence{}
	}
	p := f.pretenceLocked(u)
	if p == nil {
		p = &pretence{user: u}
	}
	if admin != nil {
		p.admin = admin
	}
	if active != nil {
		p.active = active
	}
	for _, k := range userKeys(u) {
		f.pretended.byKey[k] = p
	}
}

func (f *family) pretenceLocked(u *User) *pretence {
	for _, k := range userKeys(u) {
		if p := f.pretended.byKey[k]; p != nil {
			return p
		}
	}
	return nil
}

// pretence returns what a dry run pretended of u: zero fields when
// nothing.
func (f *family) pretence(u *User) pretence {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p := f.pretenceLocked(u); p != nil {
		return *p
	}
	return pretence{}
}

// pretendedAdmins returns the users a dry run made admins, each once.
func (f *family) pretendedAdmins() []*User {
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[*pretence]bool{}
	var out []*User
	for _, p := range f.pretended.byKey {
		if !seen[p] && p.admin != nil && *p.admin {
			seen[p] = true
			out = append(out, p.user)
		}
	}
	return out
}

func newFamily() *family {
	return &family{secrets: &secretSet{}, delivered: map[string]bool{}, creating: map[string]*creation{}}
}

// deliver notes that the secret of the key with id was returned to a
// caller: it is nobody's orphan.
func (f *family) deliver(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delivered[id] = true
}

// wasDelivered reports whether a call returned the secret of the key id.
func (f *family) wasDelivered(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.delivered[id]
}

// creation is one CreateUser call in flight; the calls for the same email
// that come while it runs wait for it and share its outcome.
type creation struct {
	done chan struct{}
	err  error // set before done is closed
}

// createOnce runs create for email unless a call for the same email
// (compared case-insensitively) is in flight: then it waits for that call
// and returns its error, or errCreatedMeanwhile when it succeeded, so that
// one creation is claimed once. A waiter whose ctx ends stops waiting.
func (f *family) createOnce(ctx context.Context, email string, create func() error) error {
	key := strings.ToLower(email)
	f.mu.Lock()
	if c := f.creating[key]; c != nil {
		f.mu.Unlock()
		select {
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if c.err == nil {
			return errCreatedMeanwhile
		}
		return c.err
	}
	c := &creation{done: make(chan struct{})}
	f.creating[key] = c
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.creating, key)
		f.mu.Unlock()
		close(c.done)
	}()
	c.err = create()
	return c.err
}

// errCreatedMeanwhile is createOnce's answer to a call that waited for a
// concurrent one, which created the user.
var errCreatedMeanwhile = errorString("created by a concurrent call")

// errorString is a constant error.
type errorString string

func (e errorString) Error() string { return string(e) }
