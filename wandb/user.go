package wandb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
	"github.com/wandb-lua/wandb-lua/wandb/termtext"
)

// APIKey describes one API key of a user. It never holds a secret.
type APIKey struct {
	ID          string  // the GraphQL ID, e.g. base64("ApiKey:12"); what deletion sends
	Name        string  // the non-secret key name/ID; for legacy keys the secret minus its last 20 characters
	Description *string // nil where the server gave null
}

// User is a W&B user as the server returned it. The exported fields are
// not changed by this package after the User is returned; the key and team
// lists are guarded by a mutex, so a User is safe for concurrent use.
type User struct {
	ID        string  // the GraphQL ID, base64("User:<n>") on W&B; "" for a user found through SCIM only
	Name      string  // the display name
	Username  *string // nil where the server gave null (same for the other pointers)
	Email     *string // the email address
	Admin     *bool   // whether the user is an instance admin
	Entity    *string // the user's default entity (usually the username)
	DeletedAt *string // when the user was deleted, as the server formats it
	DryRun    bool    // simulated: returned by a change under Config.DryRun, not by the server

	// OrgStatus is the user's standing in the organisation, for a user
	// listed by Client.UsersWithStatus; nil when that was not asked for or
	// the SCIM API did not list the user: never inactive.
	OrgStatus *UserStatus

	client *Client
	mu     sync.Mutex
	loaded bool // the keys are known: listed by the server, or none for a user just created (see KeysListed)
	keys   []APIKey
	teams  []string
	scimID string // the user's SCIM id, once looked up
}

// newUser converts the generated UserFragment.
func newUser(c *Client, f *gql.UserFragment) *User {
	u := &User{ID: f.Id, Name: f.Name, Username: f.Username, Email: f.Email, Admin: f.Admin,
		Entity: f.Entity, DeletedAt: f.DeletedAt, client: c}
	if f.ApiKeys != nil {
		u.loaded = true
		for _, e := range f.ApiKeys.Edges {
			if e.Node != nil { // a null node is skipped, not a crash (the SDK crashes on one)
				u.keys = append(u.keys, APIKey{ID: e.Node.Id, Name: e.Node.Name, Description: e.Node.Description})
			}
		}
	}
	if f.Teams != nil {
		for _, e := range f.Teams.Edges {
			if e.Node != nil {
				u.teams = append(u.teams, e.Node.Name)
			}
		}
	}
	return u
}

// KeysListed reports whether u's API keys are known: the server listed
// them, or u was just created. It is false when the server gave null for
// them, and for a user found through SCIM only (see Client.User), whose
// keys no SCIM answer shows: APIKeys is then empty, which does not mean u
// has no key.
func (u *User) KeysListed() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.loaded
}

// APIKeys returns a copy of the user's API keys (names, never secrets).
func (u *User) APIKeys() []APIKey {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]APIKey(nil), u.keys...)
}

// Teams returns a copy of the names of the user's teams, without the
// user's own (personal) entity, which is no team to join or leave.
func (u *User) Teams() []string {
	// The SDK's User.teams has it: a real server lists it among them (the
	// SDK's system test asserts api.viewer.teams == [username]). It is
	// recognised by its name, the username, which no team can have (teams
	// and users share one namespace of entity names).
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []string
	for _, t := range u.teams {
		if !eqFold(u.Username, t) {
			out = append(out, t)
		}
	}
	return out
}

// Client returns the client (the identity) this User was fetched with,
// like the SDK's User.user_api: its key is the caller's, not the user's.
func (u *User) Client() *Client { return u.client }

// GenerateAPIKey asks the server for a new API key and returns its secret,
// which the server shows only this once: store it, this package does not.
// The server issues keys to the identity the client authenticates as, so
// u must be its client's viewer: for any other user it fails with
// CodeInvalidArgument and HintAuthenticateAs, and sends no mutation. On
// success the key (its listed name) is added to u's list.
//
// When the answer is lost after the request reached the server, u's keys
// are listed again: no new key with this description, and the mutation is
// sent once more; one or more, and the error has CodeUnknownOutcome and
// names them (Error.Candidates). A retry never mints a second key, and no
// key is deleted. If the server returns a key along with GraphQL errors,
// both are returned. Under Config.DryRun it sends nothing and returns a
// placeholder, plainly no key, which WithAPIKey of the dry-run client
// takes as its own identity.
func (u *User) GenerateAPIKey(ctx context.Context, description string) (secret string, err error) {
	// A lost answer includes one without the secret, and a 429 or 503,
	// which may follow an applied change. The keys listed again leave out
	// those whose secret a call of this program returned. None is deleted,
	// because nothing tells this call's key from one that another call or
	// program minted with the same description meanwhile, whose secret
	// someone holds: a key whose secret was handed out is never deleted.
	const op = OpGenerateAPIKey
	c := u.client
	if c == nil {
		return "", redactor{}.newError(Error{Op: op, Code: CodeInvalidArgument, Message: "the user was not fetched by a client"})
	}
	v, err := c.Viewer(ctx)
	if err != nil {
		return "", c.renamed(err, op, "cannot fetch the viewer to check whose key this would be: ")
	}
	if v.ID != u.ID {
		return "", c.newError(Error{Op: op, Code: CodeInvalidArgument, Hint: HintAuthenticateAs, Message: fmt.Sprintf(
			"the server issues keys to the identity the client authenticates as (%s), not to %s", v, u)})
	}
	var desc *string
	details := ""
	if description != "" {
		desc = &description
		details = fmt.Sprintf("description=%q", description)
	}
	var partial error // the server's error beside the key it minted
	err = c.change(ctx, op, userTarget(u), details, func() error {
		// The keys before, to tell a key this call minted from the others.
		before, err := u.refetch(ctx, op)
		if err != nil {
			return c.renamed(err, op, "cannot list the keys before generating one: ")
		}
		known := map[string]bool{}
		for _, k := range before.APIKeys() {
			known[k.ID] = true
		}
		for attempt := 1; ; attempt++ {
			var k APIKey
			k, secret, partial, err = c.mintKey(ctx, op, desc)
			if err == nil {
				c.fam.deliver(k.ID)
				// The caller holds it now; nothing this family prints may.
				c.fam.secrets.add(secret)
				c.fam.secrets.add(basicCredentials(secret))
				u.addKey(k)
				if v != u {
					v.addKey(k) // keep the cached viewer in step with the server
				}
				return nil
			}
			if !isUnsure(err) {
				return err
			}
			cctx, cancel := c.checkContext(ctx)
			found, cerr := c.newKeys(cctx, u, known, desc)
			cancel()
			switch {
			case cerr != nil:
				return unsettled(c, err, "checking for a key minted without its secret failed", cerr)
			case len(found) > 0:
				return withCandidates(c, unsettled(c, err, fmt.Sprintf(
					"a key may have been minted whose secret was not received: %s now listed with this description (%s); none was deleted, "+
						"since a key another call or program minted meanwhile looks the same: delete the one that is nobody's with delete_api_key",
					plural(len(found), "new key is", "new keys are"), strings.Join(found, ", ")), nil), found)
			case ctx.Err() != nil || attempt == 2:
				return notApplied(c, err)
			}
		}
	})
	switch {
	case errors.Is(err, errDryRun):
		return dryRunKey, nil
	case err != nil:
		return "", err
	}
	return secret, partial
}

// mintKey sends the GenerateApiKey mutation once and returns the new key,
// its secret and the server's error beside them, if any. An answer without
// the key's secret or id is an unsure CodeBadResponse: the key was minted
// and cannot be used.
func (c *Client) mintKey(ctx context.Context, op Op, desc *string) (k APIKey, secret string, partial, err error) {
	data, err := gql.GenerateApiKey(ctx, c.gqlStrict(op), desc)
	if data == nil || data.Result == nil || data.Result.ApiKey == nil {
		if err != nil {
			return APIKey{}, "", nil, err
		}
		return APIKey{}, "", nil, c.newError(Error{Op: op, Code: CodeBadResponse, Message: "the server returned no key", unsure: true})
	}
	got := data.Result.ApiKey
	if got.Id == "" || got.Name == "" {
		return APIKey{}, "", nil, c.newError(Error{Op: op, Code: CodeBadResponse, Message: "the server returned a key without its id or secret", unsure: true})
	}
	k = APIKey{ID: got.Id, Name: listedKeyName(got.Name), Description: got.Description}
	if k.Description == nil {
		k.Description = desc
	}
	return k, got.Name, err, nil
}

// newKeys lists u's keys and returns the names of those not among known
// with the description desc, whose secret no call of this program
// returned: keys a GenerateAPIKey call may have minted without receiving
// their secret.
func (c *Client) newKeys(ctx context.Context, u *User, known map[string]bool, desc *string) ([]string, error) {
	now, err := u.refetch(ctx, OpGenerateAPIKey)
	if err != nil {
		return nil, err
	}
	var found []string
	for _, k := range now.APIKeys() {
		if !known[k.ID] && deref(k.Description) == deref(desc) && !c.fam.wasDelivered(k.ID) {
			found = append(found, k.Name)
		}
	}
	return found, nil
}

// plural returns one for n == 1, else n and many: "1 new key is", "2 new
// keys are".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Same reports whether u and o are the same user: the same GraphQL ID
// or, for a user found through SCIM only (no ID), the same email, else
// the same username.
func (u *User) Same(o *User) bool {
	switch {
	case u == nil || o == nil:
		return false
	case u.ID != "" && o.ID != "":
		return u.ID == o.ID
	case deref(u.Email) != "" && deref(o.Email) != "":
		return eqFold(u.Email, *o.Email)
	}
	return deref(u.Username) != "" && eqFold(o.Username, *u.Username)
}

// userTarget names u in plans and change records: its email, else its
// username, else its ID.
func userTarget(u *User) string {
	switch {
	case deref(u.Email) != "":
		return *u.Email
	case deref(u.Username) != "":
		return *u.Username
	}
	return u.ID
}

// listedKeyName is the name the server lists a key under after creation:
// the secret minus its last 20 characters (what W&B does for legacy keys).
func listedKeyName(secret string) string {
	if len(secret) <= 20 {
		return ""
	}
	return secret[:len(secret)-20]
}

// DeleteAPIKey deletes the key of u whose Name is name (as listed by
// APIKeys; a secret is not a name). A name not in u's list gives an error
// matching ErrNotFound without a request; a server that does not confirm
// the deletion (success false or null) gives an error. When the answer is
// lost after the request reached the server, u is fetched again: if the
// key is gone the call succeeds, if not the deletion is sent once more. On
// success the key leaves u's list.
func (u *User) DeleteAPIKey(ctx context.Context, name string) error {
	const op = OpDeleteAPIKey
	c := u.client
	if c == nil {
		return redactor{}.newError(Error{Op: op, Code: CodeInvalidArgument, Message: "the user was not fetched by a client"})
	}
	k, found, loaded := u.findKey(name)
	if !found {
		msg := fmt.Sprintf("%s has no api key with that name (its api_keys lists the names)", u)
		if !loaded {
			msg = fmt.Sprintf("the api keys of %s were not loaded; fetch the user again (user or viewer) to see them", u)
		}
		return c.newError(Error{Op: op, Code: CodeNotFound, Message: msg})
	}
	removed := func() {
		u.removeKey(k.ID)
		if v := c.cachedViewer(); v != nil && v != u && v.ID == u.ID {
			v.removeKey(k.ID)
		}
	}
	var warning error // the server's error beside its confirmation
	err := c.changed(ctx, op, name, "of "+termtext.Quote(userTarget(u)), func() error {
		var err error
		warning, err = u.deleteKey(ctx, op, k, 2, removed)
		return err
	})
	if err != nil {
		return err
	}
	c.warn(ctx, op, warning) // nil in a dry run
	return nil
}

// deleteKey deletes u's key k, settled (see settle) in up to sends sends:
// an answer that does not say (lost, or a null result) makes it look at
// u's keys, and send again if k is still there. done runs once k is known
// gone. It returns the server's error beside a confirmed deletion, if any.
func (u *User) deleteKey(ctx context.Context, op Op, k APIKey, sends int, done func()) (warning, err error) {
	c := u.client
	err = c.settleN(ctx, op, sends, false, func() error {
		data, err := gql.DeleteApiKey(ctx, c.gql(op), k.ID)
		answered, success := false, (*bool)(nil)
		if data != nil && data.Result != nil {
			answered, success = true, data.Result.Success
		}
		if success != nil && *success {
			done()
			warning = err
			return nil
		}
		return c.notDeleted(op, "key", answered, success, err)
	}, func(ctx context.Context) (bool, error) {
		now, err := u.refetch(ctx, op)
		if err != nil {
			return false, err
		}
		if slices.ContainsFunc(now.APIKeys(), func(o APIKey) bool { return o.ID == k.ID }) {
			return false, nil
		}
		done()
		return true, nil
	})
	return warning, err
}

// refetch fetches u again, with its keys: as the viewer when u is the
// client's own identity, else by search (an admin's view).
func (u *User) refetch(ctx context.Context, op Op) (*User, error) {
	c := u.client
	if v := c.cachedViewer(); v != nil && v.ID == u.ID {
		data, err := gql.GetViewer(ctx, c.gql(op))
		if err != nil {
			return nil, err
		}
		if data == nil || data.Viewer == nil {
			return nil, c.newError(Error{Op: op, Code: CodeUnauthorized, Message: "the server did not recognize an account for the configured credentials"})
		}
		return newUser(c, &data.Viewer.UserFragment), nil
	}
	query := deref(u.Email)
	if query == "" {
		query = deref(u.Username)
	}
	users, err := c.searchUsers(ctx, op, query)
	if err != nil {
		return nil, err
	}
	for _, o := range users {
		if o.ID == u.ID {
			return o, nil
		}
	}
	return nil, c.newError(Error{Op: op, Code: CodeNotFound, Message: fmt.Sprintf("%s is no longer listed", u)})
}

func (u *User) findKey(name string) (k APIKey, found, loaded bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, k := range u.keys {
		if k.Name == name {
			return k, true, u.loaded
		}
	}
	return APIKey{}, false, u.loaded
}

func (u *User) addKey(k APIKey) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.keys = append(u.keys, k)
	u.loaded = true
}

func (u *User) removeKey(id string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for i, k := range u.keys {
		if k.ID == id {
			u.keys = append(u.keys[:i:i], u.keys[i+1:]...)
			return
		}
	}
}

// String returns "<User alice@example.com>", falling back as the SDK does
// to the username, the ID, then the quoted name, and "<User ???>" when all
// are empty. A secret of the user's client in the server's data shows as
// [redacted].
func (u *User) String() string {
	switch {
	case u == nil:
		return "<User ???>"
	case u.Email != nil && *u.Email != "":
		return shownBy(u.client, "<User "+*u.Email+">")
	case u.Username != nil && *u.Username != "":
		return shownBy(u.client, "<User "+*u.Username+">")
	case u.ID != "":
		return shownBy(u.client, "<User "+u.ID+">")
	case u.Name != "":
		return shownBy(u.client, fmt.Sprintf("<User %q>", u.Name))
	}
	return "<User ???>"
}
