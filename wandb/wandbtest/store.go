package wandbtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AdminEmail and AdminUsername name the instance admin every Handler has.
const (
	AdminEmail    = "admin@example.com"
	AdminUsername = "admin"
)

// secretLen is the length of a secret. hiddenLen is how many of its last
// characters the key's listed name (its key ID) leaves out: W&B lists a
// legacy key as "the key minus the last 20 characters".
const secretLen, hiddenLen = 40, 20

// Errors the store returns; the resolvers map them to HTTP statuses.
var (
	errExists       = errors.New("already exists")
	errNoUser       = errors.New("no such user")
	errInvalidEmail = errors.New("invalid email")
)

// UserInfo is a snapshot of a stored user, for assertions in tests.
type UserInfo struct {
	ID       string    // base64("User:<n>")
	Name     string    // display name
	Username string    // unique, also the user's entity
	Email    string    // as given when the user was added; "" for a service account
	Admin    bool      // an instance admin
	Service  bool      // a service account (created by createServiceAccount)
	Inactive bool      // deactivated (SCIM): cannot authenticate
	Viewer   bool      // given the deprecated viewer organisation role (SCIM)
	Keys     []KeyInfo // in creation order
	Teams    []string  // the teams it is a member of, in the order the teams were created
}

// KeyInfo is a snapshot of a stored API key. The secret itself is never kept.
type KeyInfo struct {
	ID          string // base64("ApiKey:<n>")
	Name        string // the key ID: the secret minus its last 20 characters
	Description string // "" when none was given
}

type user struct {
	id       int
	name     string
	username string
	email    string // "" for a service account
	admin    bool
	service  bool      // a service account
	keys     []*apiKey // creation order
	teams    []*team   // the teams it is a member of, in creation order of the teams

	// Kept for SCIM (see scim.go).
	inactive   bool      // deactivated: cannot authenticate
	viewer     bool      // given W&B's deprecated viewer organisation role (seats and team roles viewer)
	created    time.Time // when the user was added
	modified   time.Time // the last SCIM-visible change
	version    int       // bumped with modified: the ETag
	lastActive time.Time // the last authenticated request; zero if none
	activeDays int       // the days (UTC) with an authenticated request
}

type apiKey struct {
	id          int
	owner       *user
	name        string  // the non-secret key ID
	description *string // nil when none was given
	hash        string  // hex SHA-256 of the secret
}

// store is the server's data. Every method expects mu to be held by the caller
// unless its name says otherwise; nothing in it blocks or does I/O.
type store struct {
	mu sync.Mutex

	nextUser, nextKey, nextTeam, nextInvite, nextMember int
	gen                                                 uint64 // bumped on every change, for saving

	memberIDs   bool // WithDistinctMemberIDs: members are listed by their membership's id
	noEmptyList bool // WithEmptyUserQueryListsNobody: search("") finds nobody

	// What changed since the state file was last written (see journal.go).
	activity     bool // only the time of a user's last activity: not yet a reason to write
	changedUsers map[*user]struct{}
	deletedUsers []int
	changedTeams map[*team]struct{}

	users      []*user          // creation order
	byEmail    map[string]*user // lower-cased email
	byUsername map[string]*user // lower-cased username
	keys       map[int]*apiKey
	keyByHash  map[string]*apiKey
	memberKeys map[*user]memberKey // the secrets of service accounts' keys createServiceAccount minted; memory only
	teams      []*team             // creation order
	teamByName map[string]*team

	nextSuffix map[string]int // per base name, where freeName starts looking (see names.go)
	nameProbes int            // the names freeName looked at, for tests
}

func newStore() *store {
	return &store{
		nextUser:   1,
		nextKey:    1,
		nextTeam:   1,
		nextInvite: 1,
		nextMember: 1,
		byEmail:    map[string]*user{},
		byUsername: map[string]*user{},
		keys:       map[int]*apiKey{},
		keyByHash:  map[string]*apiKey{},
		memberKeys: map[*user]memberKey{},
		teamByName: map[string]*team{},
		nextSuffix: map[string]int{},

		changedUsers: map[*user]struct{}{},
		changedTeams: map[*team]struct{}{},
	}
}

func gqlID(kind string, n int) string {
	return base64.StdEncoding.EncodeToString([]byte(kind + ":" + strconv.Itoa(n)))
}

// parseGQLID returns n for base64("<kind>:<n>"), or false.
func parseGQLID(kind, id string) (int, bool) {
	raw, err := base64.StdEncoding.DecodeString(id)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(raw), kind+":")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n <= 0 || strconv.Itoa(n) != rest {
		return 0, false
	}
	return n, true
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// newSecret returns 40 lower-case hex characters from crypto/rand.
func newSecret() string {
	var b [secretLen / 2]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// secretShaped matches what newSecret returns, and the access tokens of
// the identity-token exchange (see WithOIDC).
var secretShaped = regexp.MustCompile(`wbat_[0-9a-f]{64}|[0-9a-f]{40}`)

// MaskSecrets returns s with everything shaped like a secret this server
// mints (40 lower-case hexadecimal characters, an access token) replaced
// by "[secret]". A
// test passes what it prints on failure (a response body, a script's
// output) through it, so that a failing test never shows a usable key.
func MaskSecrets(s string) string {
	return secretShaped.ReplaceAllString(s, "[secret]")
}

// splitEmail checks that email looks like local@domain and returns the parts.
func splitEmail(email string) (local string, err error) {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") ||
		strings.ContainsAny(email, " \t\r\n") {
		return "", fmt.Errorf("%w %q", errInvalidEmail, email)
	}
	return local, nil
}

// usernameFrom derives a free username from an email's local part.
func (s *store) usernameFrom(local string) string {
	base := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return '-'
	}, local)
	return s.freeName(base)
}

// insertUser stores a user. username and name default from the email.
func (s *store) insertUser(email, username, name string, admin bool) (*user, error) {
	local, err := splitEmail(email)
	if err != nil {
		return nil, err
	}
	if s.byEmail[strings.ToLower(email)] != nil {
		return nil, fmt.Errorf("user with email %s %w", email, errExists)
	}
	if username == "" {
		username = s.usernameFrom(local)
	} else if s.byUsername[strings.ToLower(username)] != nil {
		return nil, fmt.Errorf("user with username %s %w", username, errExists)
	} else if s.teamByName[strings.ToLower(username)] != nil {
		// Usernames and team names share one namespace (see names.go): a
		// team's name is as taken as a username, or entity(name:) would
		// name two entities.
		return nil, fmt.Errorf("entity name %s %w", username, errExists)
	}
	if name == "" {
		name = local
	}
	now := time.Now().UTC()
	u := &user{id: s.nextUser, name: name, username: username, email: email, admin: admin, created: now, modified: now}
	s.nextUser++
	s.users = append(s.users, u)
	s.byEmail[strings.ToLower(email)] = u
	s.byUsername[strings.ToLower(username)] = u
	s.linkInvites(u)
	s.userChanged(u)
	return u, nil
}

func (s *store) userByEmail(email string) (*user, error) {
	u := s.byEmail[strings.ToLower(email)]
	if u == nil {
		return nil, fmt.Errorf("%w with email %s", errNoUser, email)
	}
	return u, nil
}

// addKey mints a key for u and returns it with its secret.
func (s *store) addKey(u *user, description *string) (*apiKey, string) {
	secret := newSecret()
	return s.addKeyWithSecret(u, description, secret), secret
}

// knownSecret is what a seed's known secret must look like: what the W&B
// client accepts (40 or more letters, digits, "_" or "-", after an
// optional prefix such as "local-").
var knownSecret = regexp.MustCompile(`^([\w]+-)?[\w-]{40,}$`)

// checkKnownSecret checks a secret a seed gives (see SeedKey.Secret).
func (s *store) checkKnownSecret(secret string) error {
	switch {
	case !knownSecret.MatchString(secret):
		return errors.New("a key's secret must be 40 or more letters, digits, _ or - (after an optional prefix such as local-)")
	case s.keyByHash[hashSecret(secret)] != nil:
		return errors.New("two keys have the same secret")
	}
	return nil
}

// addKeyWithSecret adds a key for u with the given secret, of which it
// keeps the name and the hash.
func (s *store) addKeyWithSecret(u *user, description *string, secret string) *apiKey {
	k := &apiKey{
		id:          s.nextKey,
		owner:       u,
		name:        secret[:len(secret)-hiddenLen],
		description: description,
		hash:        hashSecret(secret),
	}
	s.nextKey++
	s.insertKey(k)
	s.userChanged(u)
	return k
}

func (s *store) insertKey(k *apiKey) {
	k.owner.keys = append(k.owner.keys, k)
	s.keys[k.id] = k
	s.keyByHash[k.hash] = k
}

func (s *store) deleteKey(k *apiKey) {
	delete(s.keys, k.id)
	delete(s.keyByHash, k.hash)
	if s.memberKeys[k.owner].key == k {
		delete(s.memberKeys, k.owner)
	}
	k.owner.keys = slices.DeleteFunc(k.owner.keys, func(o *apiKey) bool { return o == k })
	s.userChanged(k.owner)
}

// deleteUser removes u with its keys, memberships and invites.
func (s *store) deleteUser(u *user) {
	for _, k := range slices.Clone(u.keys) {
		s.deleteKey(k)
	}
	for _, t := range s.teams {
		if t.member(u) != nil {
			s.removeMember(t, u)
		}
		for _, inv := range slices.Clone(t.invites) {
			if inv.user == u {
				s.dropInvite(inv)
			}
		}
	}
	s.users = slices.DeleteFunc(s.users, func(o *user) bool { return o == u })
	if u.email != "" {
		delete(s.byEmail, strings.ToLower(u.email))
	}
	delete(s.byUsername, strings.ToLower(u.username))
	s.nameFreed(strings.ToLower(u.username))
	s.userDeleted(u)
}

// userBySecret is the authentication lookup: the active user whose key
// secret is, or nil. It counts the request as the user's activity.
func (s *store) userBySecret(secret string) *user {
	k := s.keyByHash[hashSecret(secret)]
	if k == nil || k.owner.inactive {
		return nil
	}
	return s.seen(k.owner)
}

// seen counts an authenticated request as u's activity and returns u.
// The first request of a day (UTC) is a change, saved before the request
// is answered; a later one only moves the time of the last activity,
// which is saved with the next change or by Flush (a save per request
// would cost a write and a sync per read).
func (s *store) seen(u *user) *user {
	now := time.Now().UTC()
	if u.lastActive.IsZero() || u.lastActive.Format(time.DateOnly) != now.Format(time.DateOnly) {
		u.activeDays++
		s.userChanged(u)
	} else {
		s.changedUsers[u] = struct{}{}
		s.activity = true
	}
	u.lastActive = now
	return u
}

// touch records a SCIM-visible change of u.
func (s *store) touch(u *user) {
	u.modified = time.Now().UTC()
	u.version++
	s.userChanged(u)
}

// search lists the users whose username or email contains q, ignoring
// case: everyone for "", unless WithEmptyUserQueryListsNobody.
func (s *store) search(q string) []*user {
	if q == "" && s.noEmptyList {
		return nil
	}
	q = strings.ToLower(q)
	var out []*user
	for _, u := range s.users {
		if strings.Contains(strings.ToLower(u.username), q) || strings.Contains(strings.ToLower(u.email), q) {
			out = append(out, u)
		}
	}
	return out
}

func (u *user) info() UserInfo {
	ui := UserInfo{
		ID:       gqlID("User", u.id),
		Name:     u.name,
		Username: u.username,
		Email:    u.email,
		Admin:    u.admin,
		Service:  u.service,
		Inactive: u.inactive,
		Viewer:   u.viewer,
		Keys:     []KeyInfo{},
		Teams:    []string{},
	}
	for _, k := range u.keys {
		ki := KeyInfo{ID: gqlID("ApiKey", k.id), Name: k.name}
		if k.description != nil {
			ki.Description = *k.description
		}
		ui.Keys = append(ui.Keys, ki)
	}
	for _, t := range u.teams {
		ui.Teams = append(ui.Teams, t.name)
	}
	return ui
}
