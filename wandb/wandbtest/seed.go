package wandbtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// Seed is data to add when a handler starts (WithSeed), usually read from a
// JSON file with LoadSeed:
//
//	{"users": [{"email": "alice@example.com", "teams": ["ml"],
//	            "keys": [{"description": "laptop"}],
//	            "created_at": "2024-01-15T09:00:00Z", "last_active_at": "2025-03-01T12:00:00Z",
//	            "days_active": 40},
//	           {"email": "bob@example.com", "active": false}],
//	 "teams": [{"name": "ml", "admins": ["alice@example.com"],
//	            "invites": ["carol@example.com", {"email": "dan@example.com", "admin": true}],
//	            "service_accounts": [{"description": "ci"}]}]}
//
// Users are added first, then teams. On a state file that exists (see
// WithStateFile), a seed is merged: a user whose email the state holds,
// and a team whose name it holds, are left as the state has them; the
// others are added.
type Seed struct {
	Users []SeedUser `json:"users"`
	Teams []SeedTeam `json:"teams,omitempty"`
}

// SeedTeam is a team to add, or to complete when a user's Teams created it.
type SeedTeam struct {
	Name    string       `json:"name"`
	Admins  []string     `json:"admins,omitempty"`  // emails of users to make team admins (members if they were not)
	Invites []SeedInvite `json:"invites,omitempty"` // invitations (pending), of users or not
	// ServiceAccounts are service accounts to create in the team.
	ServiceAccounts []SeedServiceAccount `json:"service_accounts,omitempty"`
}

// SeedInvite is an invitation to a seeded team, pending until accepted
// (Handler.AcceptInvite). In JSON it is an email address,
// "carol@example.com", or an object, {"email": "carol@example.com",
// "admin": true}, for an invitation to join as a team admin.
type SeedInvite struct {
	Email string `json:"email"`
	Admin bool   `json:"admin,omitempty"` // the invitee joins as a team admin
}

// UnmarshalJSON reads an invitation as an email address or an object; an
// object with a field SeedInvite does not have is an error.
func (i *SeedInvite) UnmarshalJSON(b []byte) error {
	var email string
	if err := json.Unmarshal(b, &email); err == nil {
		*i = SeedInvite{Email: email}
		return nil
	}
	type object SeedInvite // without this method
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var o object
	if err := dec.Decode(&o); err != nil {
		return fmt.Errorf(`an invite is an email address or {"email": ..., "admin": true}: %w`, err)
	}
	*i = SeedInvite(o)
	return nil
}

// MarshalJSON writes an invitation as LoadSeed reads it: an email address,
// or an object for a team admin's.
func (i SeedInvite) MarshalJSON() ([]byte, error) {
	if !i.Admin {
		return json.Marshal(i.Email)
	}
	type object SeedInvite
	return json.Marshal(object(i))
}

// SeedServiceAccount is a service account to create in a seeded team: a
// user with a username derived from the team's name and one API key,
// minted or with the given Secret (see SeedKey.Secret).
type SeedServiceAccount struct {
	Description string `json:"description"`
	Secret      string `json:"secret,omitempty"`
	// Admin makes it an organisation-scoped service account with the
	// admin role, which the SCIM API accepts (W&B's SCIM docs: with
	// Basic base64(":" + key), an empty username). Without it, it is
	// team-scoped, and SCIM refuses it (403).
	Admin bool `json:"admin,omitempty"`
}

// SeedUser is a user to add. Only Email is required: Username defaults to one
// derived from the email's local part, Name to the local part.
//
// The rest is what SCIM shows of the user's standing: Active (false: a
// deactivated user, who cannot authenticate; the default is active),
// CreatedAt (meta.created; default: when it is seeded), LastActiveAt
// (lastActiveAt; default: never active) and DaysActive (daysActive;
// default 1 with LastActiveAt, else 0). The times are RFC 3339. Requests
// the user makes afterwards count as activity, as for any user.
type SeedUser struct {
	Email        string    `json:"email"`
	Username     string    `json:"username,omitempty"`
	Name         string    `json:"name,omitempty"`
	Admin        bool      `json:"admin,omitempty"`
	Keys         []SeedKey `json:"keys,omitempty"`  // keys to mint for the user
	Teams        []string  `json:"teams,omitempty"` // created when missing
	Active       *bool     `json:"active,omitempty"`
	CreatedAt    string    `json:"created_at,omitempty"`
	LastActiveAt string    `json:"last_active_at,omitempty"`
	DaysActive   int       `json:"days_active,omitempty"`
}

// SeedKey is an API key for a seeded user. Without Secret the handler mints
// the secret and keeps only its hash, so the seed holds no usable key (a Go
// test that needs the secret calls Handler.AddAPIKey). With Secret the key
// has that secret, known to whoever has the seed file: for trying scripts
// that run as a user who is not the admin, or as a service account, from
// the command line (wandb-lua serve --seed), and for a key that stays the
// same across restarts. Such keys are for test servers only.
type SeedKey struct {
	Description string `json:"description"`
	// Secret is the key itself: 40 or more letters, digits, "_" or "-",
	// after an optional prefix such as "local-". Keys must not share one.
	Secret string `json:"secret,omitempty"`
}

// ManyUsers returns a seed of n users for benchmarks and load tests:
// user000000@example.com, user000001@example.com and so on, with the
// usernames user000000, user000001, ..., the names "User 0", "User 1",
// ..., no keys, each a member of teams. A handler seeds 200,000 of them
// in well under a second.
func ManyUsers(n int, teams ...string) Seed {
	seed := Seed{Users: make([]SeedUser, n)}
	for i := range seed.Users {
		seed.Users[i] = SeedUser{Email: fmt.Sprintf("user%06d@example.com", i), Username: fmt.Sprintf("user%06d", i),
			Name: fmt.Sprintf("User %d", i), Teams: teams}
	}
	return seed
}

// LoadSeed reads a Seed from a JSON file. Unknown fields are an error, so a
// misspelt field name does not silently drop data.
func LoadSeed(path string) (Seed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Seed{}, fmt.Errorf("wandbtest: load seed: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Seed
	if err := dec.Decode(&s); err != nil {
		return Seed{}, fmt.Errorf("wandbtest: load seed %s: %w", path, err)
	}
	if dec.More() {
		return Seed{}, fmt.Errorf("wandbtest: load seed %s: data after the seed object", path)
	}
	for i, u := range s.Users {
		if u.Email == "" {
			return Seed{}, fmt.Errorf("wandbtest: load seed %s: user %d has no email", path, i+1)
		}
	}
	for i, t := range s.Teams {
		if t.Name == "" {
			return Seed{}, fmt.Errorf("wandbtest: load seed %s: team %d has no name", path, i+1)
		}
	}
	return s, nil
}
