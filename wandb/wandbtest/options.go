package wandbtest

import "time"

// Option configures a Handler (and so a Server).
type Option func(*options)

type options struct {
	pickFault   func(op string) (Fault, bool)
	multiTenant bool
	latency     time.Duration
	assumed     assumptions
	seeds       []func() (Seed, error) // in the order of the options
	stateFile   string
	oidc        *OIDC
}

// WithLatency adds a fixed latency d to every request: the handler reads and
// records the request (see Requests), then waits d before it answers, and
// stops waiting, without answering, when the request's context ends. The wait counts toward InFlight, so concurrency is observable on
// loopback. SetLatency changes it later.
func WithLatency(d time.Duration) Option {
	return func(o *options) { o.latency = d }
}

// WithSeed adds the users, keys and teams of s when the handler starts, after
// the built-in admin. Several WithSeed options apply in order. When
// WithStateFile loads an existing state file, a seed is merged into it: a
// user whose email the state holds, and a team whose name it holds, are
// left as the state has them (whatever the seed says of them), and the
// others are added, as on a fresh start (a new user joins its teams, and
// a new team gets its admins, invites and service accounts). So a seed
// given again at every restart adds what was added to it since, and adds
// back a seeded user deleted since.
func WithSeed(s Seed) Option {
	return func(o *options) {
		o.seeds = append(o.seeds, func() (Seed, error) { return s, nil })
	}
}

// WithMultiTenant makes the SCIM API behave as on W&B's Multi-tenant Cloud
// instead of Dedicated Cloud and Self-Managed (the default): deactivating a
// user removes it from the organisation, reactivation is refused with HTTP
// 400, and updating a user's email or display name is not supported.
func WithMultiTenant() Option {
	return func(o *options) { o.multiTenant = true }
}

// WithSeedFile is WithSeed for the seed in a JSON file (see LoadSeed):
// NewHandler fails when the file cannot be read or is not a valid seed.
// Seeds apply in the order of the options.
func WithSeedFile(path string) Option {
	return func(o *options) {
		o.seeds = append(o.seeds, func() (Seed, error) { return LoadSeed(path) })
	}
}

// WithStateFile keeps the handler's data in the file at path: NewHandler
// loads it if it exists, and every change is saved to it before it is
// answered. The file is a snapshot followed by a journal: a change appends
// one line (with one write, fsynced), so saving costs the size of the
// change, not of the instance; the snapshot is rewritten atomically (a
// temporary file in the same directory, fsynced, then renamed over path)
// when the handler starts on a file with a journal and when the journal
// outgrows it. A crash never leaves a file that does not load: a journal
// line cut short is dropped (its change was never answered). A file in the
// format of an older wandb-lua is refused: delete it to start afresh. The
// file holds users, teams and keys with the SHA-256 of each secret, never a
// secret, so it holds no usable key. See Handler.AdminKey() for what that
// means for the admin key after a restart.
func WithStateFile(path string) Option {
	return func(o *options) { o.stateFile = path }
}

// WithFaults makes pick choose a fault for each request that FailNext has
// queued none for: pick(op) returns the fault to apply, or false for none.
// It is called concurrently for concurrent requests. A test injecting
// faults at random uses it with a seeded generator (and requests made one
// at a time, for a deterministic run).
func WithFaults(pick func(op string) (Fault, bool)) Option {
	return func(o *options) { o.pickFault = pick }
}

// assumptions are the behaviours no public source settles, played the
// other way by an option (see FIDELITY.md beside this file).
type assumptions struct {
	scimRolesOnRead  bool // SCIM GET and list show organizationRole and teamRoles
	scimErrorBodies  bool // every SCIM error answer has a SCIM Error body, not only 400s
	userSearchDenied bool // users(...) is refused for every caller
	memberIDs        bool // team members have ids of their own, not their users' IDs
	noEmptyList      bool // users(query: "") lists nobody
	deniedStatus     int  // the HTTP status of GraphQL permission failures (0: 403)
	noMemberKeys     bool // GetTeamEntity's members[].apiKey is always null

	scimPagingIgnored bool // SCIM lists ignore startIndex and count: every answer is the first page
}

// WithSCIMRolesOnRead makes SCIM's Get User and List Users answers carry
// organizationRole and teamRoles, as only the PATCH answers do by default.
// W&B's SCIM documentation shows them on PATCH answers only; whether a
// real server also sends them on reads is not public, so a client must
// work either way.
func WithSCIMRolesOnRead() Option {
	return func(o *options) { o.assumed.scimRolesOnRead = true }
}

// WithSCIMErrorBodies makes every SCIM error answer a SCIM Error message
// ({"schemas": [...Error], "detail": ..., "status": "404"}). By default
// only 400 answers have one, the one error body W&B documents (a refused
// reactivation); 401, 403, 404, 405, 409 and 412 answer with their plain
// status text, since their bodies are not public.
func WithSCIMErrorBodies() Option {
	return func(o *options) { o.assumed.scimErrorBodies = true }
}

// WithUserSearchDenied makes GraphQL users(...) (the SDK's SearchUsers, so
// Api.user and Api.users) refused with HTTP 403 for every caller, instance
// admins included. The SDK documents them as working "only for local
// administrators": an organisation admin on Multi-tenant Cloud may be
// refused them. Use it to play such an admin.
func WithUserSearchDenied() Option {
	return func(o *options) { o.assumed.userSearchDenied = true }
}

// WithDistinctMemberIDs gives a team's members ids of their own,
// base64("Member:<n>"), instead of their users' IDs, and deleteInvite
// then removes a member by that id (a user's ID names no member). This is
// assumed either way: whether a member's id (GetTeamEntity's
// members[].id) is the user's ID is not public. The default keeps them
// equal; this option plays the other side, for clients that must not
// depend on it (the SDK's create_service_account returns the team's last
// member, not the member with the new user's ID).
func WithDistinctMemberIDs() Option {
	return func(o *options) { o.assumed.memberIDs = true }
}

// WithEmptyUserQueryListsNobody makes users(query) answer an empty list
// when query is "" or null, instead of every user (the default), also to
// an instance admin. This is assumed either way: no public source says
// whether W&B lists every user for an empty query. The option plays the
// other side, for clients that list everyone that way.
func WithEmptyUserQueryListsNobody() Option {
	return func(o *options) { o.assumed.noEmptyList = true }
}

// WithPermissionErrorStatus makes the GraphQL answers to permission
// failures (a non-admin listing users or creating one, deleting another
// user's key, a team change by someone who is not its admin) carry the
// HTTP status status instead of 403; their body stays W&B's: the error
// "permission denied: ..." with extensions.code PERMISSION_ERROR and a
// null field. Assumed: which status a given permission failure gets is not
// public; wandb/wandb#8609 shows 403, #1239 shows 401. A status outside
// 200-599 makes NewHandler fail.
func WithPermissionErrorStatus(status int) Option {
	return func(o *options) { o.assumed.deniedStatus = status }
}

// WithoutMemberKeys makes GetTeamEntity answer null for every member's
// apiKey. By default a service account that createServiceAccount made
// shows its key's secret there, to the team's admins and instance admins,
// for as long as the key exists and the handler runs (the secret is kept
// in memory only, never in the state file). The SDK selects
// members[].apiKey and exposes it as Member.api_key; whether a real server
// still fills it now that it keeps only hashes of keys is not public, so a
// client must work either way: this option plays a server that does not.
func WithoutMemberKeys() Option {
	return func(o *options) { o.assumed.noMemberKeys = true }
}

// WithSCIMPagingIgnored makes SCIM's list answers (GET /scim/Users,
// /scim/Groups) ignore RFC 7644's startIndex and count and always answer
// the first page: at most 9,999 resources, with startIndex 1, whatever
// was asked. Assumed either way: W&B documents at most 9,999 items per
// request and no paging parameters, so whether a real server pages past
// them is not public. By default startIndex and count are honoured, as
// RFC 7644 has them.
func WithSCIMPagingIgnored() Option {
	return func(o *options) { o.assumed.scimPagingIgnored = true }
}
