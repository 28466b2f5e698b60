package wandbtest

import "time"

// Option configures a Handler (and so a Server).
type Option func(*options)

type options struct {
	pickFault    func(op string) (Fault, bool)
	multiTenant  bool
	latency      time.Duration
	seeds        []func() (Seed, error) // in the order of the options
	stateFile    string
	oidc         *OIDC
	deniedStatus int
}

// WithLatency adds a fixed latency d to every request: the handler reads and
// records the request (see Requests), then waits d before it answers, and
// stops waiting, without answering, when the request's context ends. The wait counts toward InFlight, so concurrency is observable on
// loopback. SetLatency changes it later.
func WithLatency(d time.Duration) Option {
	return func(o *options) { o.latency = d }
}

// WithSeed adds the users, keys and teams of s when the handler starts, after
// the built-in admin. Several WithSeed options apply in order. A seed is not
// applied when WithStateFile loads an existing state file: the state already
// holds what the seed added when the file was first written.
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

// WithStateFile keeps the handler's data in the file at path: NewHandler loads
// it if it exists, and every change is saved to it before it is answered.
// The file is a snapshot followed by a journal: a change appends one line
// (with one write, fsynced), so saving costs the size of the change, not
// of the instance; the snapshot is rewritten atomically (a temporary file
// in the same directory, fsynced, then renamed over path) when the handler
// starts on a file with a journal and when the journal outgrows it. A
// crash never leaves a file that does not load: a journal line cut short
// is dropped (its change was never answered). Files written before the
// journal (version 2) load too. The file holds users, teams and keys with
// the SHA-256 of each secret, never a secret, so it holds no usable key.
// See Handler.AdminKey() for what that means for the admin key after a
// restart.
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

// WithPermissionErrorStatus makes the GraphQL answers to permission
// failures (a non-admin listing users or creating one, deleting another
// user's key, a team change by someone who is not its admin) carry the
// HTTP status status instead of 403; their body stays W&B's: the error
// "permission denied: ..." with extensions.code PERMISSION_ERROR and a
// null field. Assumed: which status a given permission failure gets is not
// public; wandb/wandb#8609 shows 403, #1239 shows 401. A status outside
// 200-599 makes NewHandler fail.
func WithPermissionErrorStatus(status int) Option {
	return func(o *options) { o.deniedStatus = status }
}
