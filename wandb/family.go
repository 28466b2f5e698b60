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

// pretended are the changes of instance admins that a dry run pretended
// to make: the last-admin guard counts them as made (see guardLastAdmin),
// so that a dry run refuses the change the real run would refuse. Users
// are kept by each of their names (ID, email, username; see userKeys), so
// that a dry run of many changes stays linear.
type pretended struct {
	lost   map[string]bool  // demoted, deactivated or deleted
	gained map[string]*User // made admins
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

// pretend notes that a dry run demoted, deactivated or deleted u (admin
// false), or made it an admin (admin true).
func (f *family) pretend(u *User, admin bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := &f.pretended
	if p.lost == nil {
		p.lost, p.gained = map[string]bool{}, map[string]*User{}
	}
	for _, k := range userKeys(u) {
		delete(p.lost, k)
		delete(p.gained, k)
		if admin {
			p.gained[k] = u
		} else {
			p.lost[k] = true
		}
	}
}

// pretendedLost reports whether a dry run demoted, deactivated or deleted
// u; pretendedGained whether it made u an admin.
func (f *family) pretendedLost(u *User) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range userKeys(u) {
		if f.pretended.lost[k] {
			return true
		}
	}
	return false
}

func (f *family) pretendedGained(u *User) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range userKeys(u) {
		if f.pretended.gained[k] != nil {
			return true
		}
	}
	return false
}

// pretendedGains returns the users a dry run made admins, each once.
func (f *family) pretendedGains() []*User {
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[*User]bool{}
	var out []*User
	for _, u := range f.pretended.gained {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
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
