// Package wandb is a client for the user and API-key administration of a
// Weights & Biases server (multi-tenant Cloud, Dedicated Cloud or
// Self-Managed), speaking the same GraphQL as the official SDK's public API.
//
// A [Client] is one identity on one server: [NewClient] with a [Config],
// usually from [ConfigFromEnv], which reads the configuration as the W&B
// SDK does (WANDB_API_KEY or an identity token from
// WANDB_IDENTITY_TOKEN_FILE, WANDB_BASE_URL, the SDK's settings files,
// netrc, extra headers, proxies). It
// finds users ([Client.Viewer], [Client.User], [Client.Users], and with
// their standing in the organisation [Client.UsersWithStatus]), creates
// them ([Client.CreateUser]), and manages a [User]'s keys
// ([User.GenerateAPIKey], [User.DeleteAPIKey]). Teams ([Client.Team],
// every team with [Client.Teams], [Client.CreateTeam]) have members ([Team.Members]), invitations
// ([Team.Invite] with [ByEmail] or [ByUsername]) and service accounts
// ([Team.CreateServiceAccount]); [Member.Delete] removes a member or an
// invite. A user's lifecycle goes through W&B's SCIM API: [User.Deactivate],
// [User.Reactivate], [User.Delete], [User.SetRole], [User.SetTeamRole],
// [User.Status], and [Team.AddMember], [Team.RemoveMember]; the only
// active instance admin is never deactivated, deleted or demoted
// ([ErrLastAdmin]).
//
// Where the SDK is lax, this package is strict: a lookup that matches
// several users is an error listing them, not the first match; deleting a
// key or a member the server did not confirm is an error; a key is
// generated only for the identity the server will issue it to; a missing
// team is ErrNotFound and a failed team creation its own error; an invite
// says whether it names an email or a username; a new service account is
// found by its ID or description, not its position, and never reported as
// failed once created; and the server's error text is kept.
//
// Every change ends in a definite outcome. A mutation is never sent again
// once it may have taken effect, unless the server's state shows it did
// not: when an answer is lost (the connection drops after the request was
// sent, an attempt times out, a gateway fails, the caller's context ends
// in flight), the call looks at the server with the queries the SDK also
// sends (the user by email, the keys, the team, the SCIM record) and
// succeeds, fails definitely, or sends the change once more. A key that may
// have been minted without its secret reaching the caller is named in the
// error, not deleted: nothing tells it from a key another program minted.
// When even the check fails, the error has [CodeUnknownOutcome] and says
// what to look at.
//
// Every error is an [*Error] with a [Code]; match with errors.Is against
// the sentinels ([ErrNotFound], ...) or errors.As. A secret (a key, an
// identity token, an access token) never appears in an error, a log line
// or a String.
//
// Clients and Users are safe for concurrent use. The default HTTP client
// keeps connections alive and pools enough of them for concurrent bulk
// work.
//
// Tests and local runs can use [github.com/wandb-lua/wandb-lua/wandb/wandbtest],
// a W&B-compatible server on loopback.
package wandb
