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
// sends is validated against the schema. It implements the user and API-key
// operations of the public W&B SDK with the semantics W&B documents:
//
//   - Authentication is HTTP Basic with the user name "api" and the API key as
//     the password, or, with WithOIDC, "Bearer <access token>" from the
//     identity-token exchange at POST /oidc/token (W&B's federated identity:
//     a JWT signed by the key the test configures, exchanged with the RFC
//     7523 JWT bearer grant; SignIdentityToken plays the identity provider).
//     A missing or unknown key or token (or another user name) is answered
//     with HTTP 401 and a body {"errors":[{"message":"..."}]}.
//   - viewer is the caller. users(query) lists the users whose username or
//     email contains query, case-insensitively (null or "" lists everyone,
//     which is assumed: WithEmptyUserQueryListsNobody lists nobody).
//     users and createUser need an instance admin: others get a permission
//     failure.
//   - A permission failure is answered as W&B's are (wandb/wandb#8609,
//     #1239): HTTP 403, a null field and the GraphQL error "permission
//     denied: <why>" with extensions.code PERMISSION_ERROR. Which status a
//     given failure gets is assumed (#1239 shows 401):
//     WithPermissionErrorStatus chooses another.
//   - createUser of an email that exists (case-insensitively) is answered with
//     HTTP 409 and a plain body {"error":"user with email ... already exists"},
//     as the W&B backend does, not a GraphQL body. The new user's username is
//     the email's local part, lower-cased, with characters other than
//     [a-z0-9._-] replaced by "-" and a "-2", "-3"... suffix when taken; its
//     name is the local part as given; its entity is its username.
//   - generateApiKey issues a key to the caller. The secret is 40 lower-case hex
//     characters from crypto/rand; the creation response's apiKey.name is the
//     full secret, shown once. Afterwards apiKeys lists the key's ID as its
//     name: the secret minus its last 20 characters, which is not a usable key.
//     The server keeps only the SHA-256 of each secret.
//   - deleteApiKey(id) deletes a key of the caller, or any key for an admin. A
//     non-owner non-admin gets a permission failure; an id that names
//     no key gets a GraphQL error in an HTTP 200 with a null result.
//   - IDs are base64 of "User:<n>", "ApiKey:<n>" and, for teams, "Entity:<n>".
//   - entity(name) is the team with that name, a user's own entity (isTeam
//     false, no members) for a username, or null. A team's members are its
//     members in the order they joined (member id: the user's ID, which is
//     assumed: WithDistinctMemberIDs gives members ids of their own), then
//     its pending invites in the order they were sent (member id:
//     base64("Invite:<n>"), pending true, username null for an address no
//     user has). accountType is USER, or SERVICE for a service account.
//     apiKey is always null: the server keeps no secret.
//   - createTeam makes the caller, or teamAdminUserName (which only an
//     instance admin may name), the team's admin and first member. Team
//     names share the namespace of usernames: a taken name is HTTP 409. A
//     name must be 1 to 64 of a-z, 0-9, '.', '_', '-'.
//   - createInvite (team admins and instance admins, else a permission
//     failure) invites a user by username (404 for an unknown one) or an
//     address, which may belong to no user yet; someone already a member or
//     invited gets 409. Invites
//     stay pending: AcceptInvite plays the user accepting one, and a user
//     created for an invited address is linked to the invite.
//   - deleteInvite(id, entityName) withdraws an invite or removes a member
//     (team admins, instance admins, or a member leaving); an id the team
//     does not list is a GraphQL error with HTTP 404 and a null result.
//   - createServiceAccount (team admins and instance admins) adds a user with
//     no email, the description as its name, a username "<team>-service"
//     (-2, -3, ...) and an API key, as a member of the team. User.teams
//     lists a user's teams (not its pending invites).
//   - The SCIM API is served under /scim/ (and /scim/v2/, which W&B's docs
//     also show): Users (GET, list, POST, PATCH, DELETE) and Groups (GET,
//     list, POST, PUT, PATCH) with W&B's shapes: emails as one object with
//     capitalised keys, members with capitalised keys and null when there are
//     none, ListResponse with Resources, errors as the SCIM Error message with
//     a string status, application/scim+json. It shares the store with
//     GraphQL: a deactivated user cannot authenticate anywhere (401); a
//     deleted one is gone, keys and memberships included; organizationRole
//     sets User.admin; Group membership is User.teams. Requests authenticate
//     with Basic "<username>:<key>" or Bearer "<key>" and need an instance
//     admin (403). FailNext, Requests and LastRequest name them SCIMListUsers,
//     SCIMGetUser, SCIMCreateUser, SCIMPatchUser, SCIMDeleteUser,
//     SCIMListGroups, SCIMGetGroup, SCIMCreateGroup, SCIMReplaceGroup,
//     SCIMPatchGroup; Request.Body holds their body. The default is Dedicated
//     Cloud and Self-Managed; WithMultiTenant gives Multi-tenant Cloud's
//     differences (deactivation removes the user, reactivation is 400 with
//     W&B's documented body, no email or displayName updates, no modelsSeat
//     or weaveRole).
//   - Where W&B's SCIM documentation is silent, wandbtest chooses: SCIM ids
//     are "scim-u<n>" and "scim-t<n>", unlike GraphQL IDs, so that a client
//     cannot confuse them; filters are `attr eq "value"` on userName,
//     emails.value (case-insensitive) and displayName (exact), anything else
//     400; no pagination (every match, at most 9999); a PATCH with more than
//     one operation is 400; organizationRole and teamRoles appear on every
//     User; the viewer organisation role is reported as member with viewer
//     seats and team roles; deactivated users stay listed (active false) on
//     Dedicated Cloud; removing a group member who is not one changes
//     nothing; the legacy group removal with a value list removes only the
//     listed members; deleting a Group is 405; ETags (W/"<n>") are on Users,
//     and If-Match is honoured on PATCH (412); the server does not refuse to
//     remove the last admin (the docs only warn), so clients must guard it.
//   - As the real backend gates first-party fields on the public client's
//     User-Agent, selecting User.apiKeys without a User-Agent that starts with
//     "W&B Public Client" yields the GraphQL error "relogin required" for that
//     field (the rest of the data is kept). Use-Admin-Privileges is recorded
//     (see LastRequest) but not required.
//
// The operation name of a request is read from its query text (the SDK sends
// "operationName": ""), and is what FailNext, Requests and LastRequest match.
// Anything but /graphql, /scim/ and (with WithOIDC) /oidc/token is answered
// 404, anything but POST on /graphql 405.
//
// Start is NewServer for a test: it fails the test instead of panicking and
// closes the server when the test ends; WithSeedFile seeds it from a JSON
// file such as the repository's testdata/seed.json. Tests make the server
// misbehave with FailNext (RateLimited is the 429 W&B documents), slow it
// with WithLatency, and watch it with
// Requests, LastRequest, InFlight, MaxInFlight, Stalled and UserByEmail.
// MaskSecrets hides the secrets the server mints in what a failing test
// prints. A Handler is safe for concurrent use; two handlers share nothing.
package wandbtest
