// Package wandbtest provides a W&B-compatible GraphQL server for tests, in the
// spirit of net/http/httptest.
//
// NewServer starts a server on loopback, seeded with one instance admin
// (AdminEmail, username AdminUsername) and a key for it:
//
//	srv := wandbtest.NewServer()
//	defer srv.Close()
//	// point a client at srv.URL with srv.AdminKey()
//
// The server serves POST /graphql from the same schema the wandb client is
// generated from (../schema.graphql), with gqlgen, so every document a client
// sends is validated against the schema: the user, API-key and team
// operations of the public W&B SDK (viewer, users, createUser,
// generateApiKey, deleteApiKey, entity, createTeam, createInvite,
// deleteInvite, createServiceAccount). One answer is written without gqlgen:
// the SDK's SearchUsers from an instance admin, byte for byte as gqlgen
// writes it, since gqlgen takes seconds and gigabytes to list 200,000 users
// and the handler a fraction of a second. It serves W&B's SCIM API under
// /scim/ (and /scim/v2/): Users (GET, list, POST, PATCH, DELETE) and Groups
// (GET, list, POST, PUT, PATCH), on the same store, and with WithOIDC the
// identity-token exchange at POST /oidc/token.
//
// # Fidelity
//
// The server answers as public sources show W&B's real server answering:
// the SDK's code and its system tests against a real server, W&B's
// documentation, public issues. FIDELITY.md, beside this file, lists each
// behaviour a client can observe with its source, or marks it assumed.
// The default is the documented behaviour of Dedicated Cloud and
// Self-Managed; WithMultiTenant gives Multi-tenant Cloud's documented
// differences. Options play each assumption a client depends on the other
// way (WithSCIMRolesOnRead, WithSCIMErrorBodies, WithUserSearchDenied,
// WithDistinctMemberIDs, WithEmptyUserQueryListsNobody,
// WithPermissionErrorStatus, WithoutMemberKeys, WithSCIMPagingIgnored), so
// a test can show a client works either way.
//
// Some of what the server does is its own, where the public record is
// silent: SCIM ids are "scim-u<n>" and "scim-t<n>", unlike GraphQL IDs, so
// that a client cannot confuse them; secrets are 40 hex characters from
// crypto/rand, and the server keeps only their SHA-256 (the secret of a
// service account createServiceAccount made stays in memory too, for
// GetTeamEntity's members[].apiKey, never in the state file); the server does not
// refuse to remove the last admin (W&B's docs only warn), so clients must
// guard it.
//
// # Test controls
//
// Start is NewServer for a test: it fails the test instead of panicking and
// closes the server when the test ends; WithSeedFile seeds it from a JSON
// file such as the repository's testdata/seed.json (users' standing
// included: deactivated, created, last active), and WithStateFile keeps
// its data across restarts, a seed given again merged into it. Tests make the server misbehave with FailNext
// and WithFaults (RateLimited is the 429 W&B documents), slow it with
// WithLatency, play users with AcceptInvite and AddAPIKey, and watch it with
// Requests, LastRequest, InFlight, MaxInFlight, Stalled and UserByEmail.
// The operation name of a request is read from its query text (the SDK sends
// "operationName": ""), and is what FailNext, Requests and LastRequest
// match; SCIM requests are named SCIMListUsers, SCIMGetUser,
// SCIMCreateUser, SCIMPatchUser, SCIMDeleteUser, SCIMListGroups,
// SCIMGetGroup, SCIMCreateGroup, SCIMReplaceGroup and SCIMPatchGroup, and
// Request.Body holds their body. MaskSecrets hides the secrets the server
// mints in what a failing test prints. A Handler is safe for concurrent
// use; two handlers share nothing.
package wandbtest
