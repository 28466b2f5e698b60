package wandb

import (
	"context"
	"slices"
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
// so that a dry run refuses the change the real run would refuse.
type pretended struct {
	lost   []*User // demoted, deactivated or deleted
	gained []*User // made admins
}

// pretend notes that a dry run demoted, deactivated or deleted u (admin
// false), or made it an admin (admin true).
func (f *family) pretend(u *User, admin bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := &f.pretended
	p.lost = slices.DeleteFunc(p.lost, u.Same)
	p.gained = slices.DeleteFunc(p.gained, u.Same)
	if admin {
		p.gained = append(p.gained, u)
	} else {
		p.lost = append(p.lost, u)
	}
}

// pretendedLost reports whether a dry run demoted, deactivated or deleted
// u; pretendedGained whether it made u an admin.
func (f *family) pretendedLost(u *User) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.ContainsFunc(f.pretended.lost, u.Same)
}

func (f *family) pretendedGained(u *User) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.ContainsFunc(f.pretended.gained, u.Same)
}

// pretendedGains returns the users a dry run made admins.
func (f *family) pretendedGains() []*User {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.pretended.gained)
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
