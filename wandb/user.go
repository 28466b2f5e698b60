package wandb

import (
	"context"
	"sync"
)

// APIKey describes one API key of a user. It never holds a secret.
type APIKey struct {
	ID          string  // the GraphQL ID, e.g. base64("ApiKey:12")
	Name        string  // the non-secret key name/ID; for legacy keys the secret minus its last 20 characters
	Description *string // nil where the server gave null
}

// User is a W&B user as the server returned it. The exported fields never
// change after the User is returned; the key and team lists are guarded by
// a mutex, so a User is safe for concurrent use.
type User struct {
	ID        string
	Name      string
	Username  *string // nil where the server gave null (same for the other pointers)
	Email     *string
	Admin     *bool
	Entity    *string
	DeletedAt *string

	client *Client
	mu     sync.Mutex
	keys   []APIKey
	teams  []string
}

// APIKeys returns a copy of the user's API keys (names, never secrets).
func (u *User) APIKeys() []APIKey {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]APIKey(nil), u.keys...)
}

// Teams returns a copy of the names of the user's teams.
func (u *User) Teams() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.teams...)
}

// Client returns the client (the identity) this User was fetched with,
// like the SDK's User.user_api.
func (u *User) Client() *Client { return u.client }

// GenerateAPIKey asks the server for a new API key and returns its secret,
// which the server shows only this once. The server issues keys to the
// identity the client authenticates as, so u must be that client's viewer;
// for any other user it fails with CodeInvalidArgument and sends no
// mutation. On success the key is added to u's list.
func (u *User) GenerateAPIKey(ctx context.Context, description string) (secret string, err error) {
	return "", errTODO
}

// DeleteAPIKey deletes the key of u whose Name is name. A name not in u's
// list gives ErrNotFound without a request; a server that does not confirm
// the deletion gives an error. On success the key leaves u's list.
func (u *User) DeleteAPIKey(ctx context.Context, name string) error { return errTODO }

// String returns "<User alice@example.com>", falling back to the username,
// the ID, then the quoted name, and "<User ???>" when all are empty.
func (u *User) String() string { return "<User ???>" }
