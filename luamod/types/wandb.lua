---@meta wandb

-- Definitions of the wandb-lua module for lua-language-server (LuaLS):
-- completion, hover documentation and type checks in editors. Print it
-- with `wandb-lua defs > wandb.lua` and add its directory to LuaLS's
-- "workspace.library" (see luamod/README.md, "Editor support"). It describes
-- what the module has; a test fails when they differ.

---@alias wandb.ErrorCode
---| "not_found"        # no such user, team, key or member
---| "unauthorized"     # the key is not valid
---| "forbidden"        # the key's user may not do this
---| "conflict"         # it exists already (a user, a team, a member)
---| "rate_limited"     # the server asks to slow down, longer than the client waits
---| "unavailable"      # the server is down or overloaded
---| "invalid_argument" # refused before anything was sent, or by the server as malformed
---| "ambiguous"        # several users match; see err.candidates
---| "internal"         # the server failed
---| "canceled"         # stopped: Ctrl-C, the embedder's context
---| "timeout"          # no answer in time
---| "transport"        # the network failed
---| "bad_response"     # the server's answer could not be read
---| "last_admin"       # it would leave no active instance admin
---| "read_only"        # refused before sending: read-only mode, or the audit log failed
---| "unknown_outcome"  # a change may have been applied, and checking failed: see err.message
---| "incomplete"       # the server left part of the answer out; what it gave comes with the error

---A failure a script should handle, returned as `nil, err` (or `false, err`).
---`tostring(err)` is one line; `error(err)` raises it unchanged. Never holds a key.
---@class wandb.Error
---@field code wandb.ErrorCode what went wrong, for scripts to test
---@field message string the server's text where it gave one, else the module's
---@field status integer? the HTTP status, if there was a response
---@field op string the function or method the script called: "user", "create_user", "delete" (u:delete, m:delete), "set_role", ...
---@field candidates string[]? for "ambiguous": the matching users; for "not_found" from an exact lookup: the partial matches

---A W&B API key as `u.keys` lists it. The name is not a usable key.
---@class wandb.Key
---@field name string the key's name (ID)
---@field description string? what it was made for, if given

---A W&B user. Read-only: reading an unknown field or writing any raises.
---@class wandb.User
---@field id string? the GraphQL ID; nil for a user found through SCIM only
---@field name string the display name
---@field username string?
---@field email string?
---@field instance_admin boolean? an instance (organisation) admin; not a team admin, which is a Member's team_admin
---@field admin boolean? the older name of instance_admin
---@field entity string? the user's default entity
---@field deleted_at string? when the user was deleted, if so
---@field api_keys string[]? the keys' names (a fresh table on each read); nil when they are not known
---@field keys wandb.Key[]? each key's name and description (a fresh table on each read); nil when they are not known
---@field teams string[] the names of the user's teams, without the user's own entity (a fresh table on each read)
---@field user_api wandb.api the identity that fetched this user
---@field dry_run boolean a simulated user from a dry run
---@field active boolean? with wandb.users(q, {status = true}): false once deactivated; nil when the standing was not asked for or is not known (a service account; a user past what a server that does not page listed)
---@field created_at string? with status: when the user was added (RFC 3339); nil when not known
---@field days_active integer? with status: the days the user was active; nil when not known
---@field last_active_at string? with status: the last activity (RFC 3339); nil when not known, or (with active not nil) never active
local User = {}

---Generates an API key for this user, which must be the identity's own
---(`wandb.viewer()`). Returns the secret, shown this once.
---@param description? string
---@return string? secret
---@return wandb.Error? err
function User:generate_api_key(description) end

---Deletes the key with this name (one of `u.api_keys`).
---@param name string
---@return boolean ok
---@return wandb.Error? err
function User:delete_api_key(name) end

---The user's state in the organisation (over SCIM); role is nil where the server does not show it (W&B's Get User does not).
---@return {active: boolean?, role: string?, days_active: integer?, last_active_at: string?}? status
---@return wandb.Error? err
function User:status() end

---Deactivates the account: it can no longer sign in or use a key.
---Refused with "last_admin" for the only active instance admin.
---@return boolean ok
---@return wandb.Error? err
function User:deactivate() end

---Reactivates a deactivated account (not on Multi-tenant Cloud).
---@return boolean ok
---@return wandb.Error? err
function User:reactivate() end

---Deletes the account for good, keys and memberships included.
---@return boolean ok
---@return wandb.Error? err
function User:delete() end

---Sets the organisation role. A boolean, as older scripts give it, is
---"admin" (true) or "member" (false).
---@param role "admin"|"member"|"viewer"|boolean
---@return boolean ok
---@return wandb.Error? err
function User:set_role(role) end

---A desired state for wandb.plan: only what it lists is changed.
---@class wandb.Desired
---@field users {email: string, admin: boolean?, active: boolean?}[]? users that must exist; admin sets the instance-admin flag up or down; active = false deactivates
---@field memberships {email: string, team: string, role: ("admin"|"member")?}[]? members or invitees a team must have, with their role
---@field teams string[]? teams to create when missing
---@field withdraw {email: string, team: string}[]? pending invitations to withdraw
---@field prune boolean? remove the members and invitations of the memberships' teams that are not listed

---One change of a plan.
---@class wandb.PlannedChange
---@field op string the call it stands for: "create_user", "set_role", "create_team", "invite", "delete_member", "set_team_role", "deactivate"
---@field target string an email or a team
---@field team string? the team it concerns; nil for a change of a user's own
---@field details string the rest, e.g. "to team ml admin=true"
---@field why string what is there now

---The result of one change of p:apply: the change's fields, and whether it was made.
---@class wandb.PlanResult: wandb.PlannedChange
---@field ok boolean the change was made
---@field err wandb.Error? why it was not; nil when ok

---A plan: tostring(p) is its diff, one line per change.
---@class wandb.Plan
---@field changes wandb.PlannedChange[] in the order they are made (a fresh table on each read)
local Plan = {}

---Makes the plan's changes, concurrency at a time (default 8), creations first, deactivations and then your own demotion or deactivation last.
---@param opts? {concurrency: integer?}
---@return wandb.PlanResult[] results one per change, in the plan's order
function Plan:apply(opts) end

---Someone a Team method acts on: a User, a Member (of any team), an
---email address (a string with "@") or a username. Where a user is
---needed it is looked up exactly; a pending invitation to an address no
---user has yet is then an error.
---@alias wandb.Person wandb.User|wandb.Member|string

---A role: "admin", "member", "viewer" or a custom role's name; a boolean,
---as older scripts give it, is "admin" (true) or "member" (false).
---@alias wandb.Role "admin"|"member"|"viewer"|string|boolean

---A W&B team. Read-only; members and methods use the team as last loaded.
---@class wandb.Team
---@field name string
---@field id string
---@field members wandb.Member[] members in the order they joined, then pending invites (a fresh table on each read)
---@field dry_run boolean a simulated team from a dry run
---@field read_only boolean?
---@field read_only_admin boolean
---@field private_only boolean
---@field default_access string
---@field storage_bytes number
---@field entity_type string?
---@field is_paid boolean?
---@field code_saving_enabled boolean
local Team = {}

---Fetches the team again.
---@return boolean ok
---@return wandb.Error? err
function Team:reload() end

---Invites someone: a string with "@" is an email, another a username, a
---User or Member is invited by its username (else its email). The role
---is "admin" or "member" (the default): an invitation can be no other.
---Returns the pending invitation.
---@param who wandb.Person
---@param role? wandb.Role
---@return wandb.Member? invitation
---@return wandb.Error? err
function Team:invite(who, role) end

---Creates a service account in the team. The Member returned carries the
---account's API key in `api_key` when the server gave it (shown this once:
---store it, e.g. with wandb.write_private); nil in a dry run or when the
---server gave none (then create a key in the W&B UI, in the team's
---settings under Service Accounts).
---@param description string
---@return wandb.Member? account
---@return wandb.Error? err
function Team:create_service_account(description) end

---Adds a user to the team directly (no invitation), with a team role if given.
---@param who wandb.Person
---@param role? wandb.Role
---@return boolean ok
---@return wandb.Error? err
function Team:add_member(who, role) end

---Removes a user from the team.
---@param who wandb.Person
---@return boolean ok
---@return wandb.Error? err
function Team:remove_member(who) end

---Sets a member's team role.
---@param who wandb.Person
---@param role wandb.Role
---@return boolean ok
---@return wandb.Error? err
function Team:set_role(who, role) end

---A member of a team, or a pending invitation.
---@class wandb.Member
---@field id string
---@field name string
---@field username string?
---@field email string? nil for a service account
---@field role string? the team role: "admin" or "member"; "viewer" or a custom role where this program set it; for an invitation, the one it was sent with
---@field team_admin boolean? a team admin (or invited as one); not an instance admin, which is a User's instance_admin
---@field admin boolean? the older name of team_admin
---@field pending boolean? an invitation not accepted yet; nil where the server did not say
---@field account_type string? "USER" or "SERVICE"
---@field api_key string? the API key of a service account, only on the Member t:create_service_account returned, when the server gave one; never on t.members, nil in a dry run
---@field team wandb.Team
---@field dry_run boolean a simulated member from a dry run
local Member = {}

---Removes the member, or withdraws the invitation.
---@return boolean ok
---@return wandb.Error? err
function Member:delete() end

---Another identity (or server): the module's functions as methods.
---@class wandb.api
---@field base_url string the server
local api = {}

---@return wandb.User? user
---@return wandb.Error? err
function api:viewer() end

---@param username_or_email string
---@param opts? {exact: boolean}
---@return wandb.User? user
---@return wandb.Error? err
function api:user(username_or_email, opts) end

---@param query? string
---@param opts? {status: boolean}
---@return wandb.User[]? users
---@return wandb.Error? err
function api:users(query, opts) end

---@param email string
---@param role? "admin"|"member"|"viewer"|boolean
---@return wandb.User? user
---@return wandb.Error? err
function api:create_user(email, role) end

---@param name string
---@return wandb.Team? team
---@return wandb.Error? err
function api:team(name) end

---@return wandb.Team[]? teams
---@return wandb.Error? err
function api:teams() end

---@param name string
---@param admin_username? string
---@return wandb.Team? team
---@return wandb.Error? err
function api:create_team(name, admin_username) end

---@param desired wandb.Desired
---@return wandb.Plan? plan
---@return wandb.Error? err
function api:plan(desired) end

---The record wandb.parallel raises (or collects) for a failed item.
---`tostring(f)` is "wandb.parallel: item <index>: <error>".
---@class wandb.ParallelFailure
---@field index integer the item's index
---@field code wandb.ErrorCode|"script" the wandb error's code, or "script"
---@field error any what the item raised, unchanged
---@field traceback string where the item raised

---@class wandb.APIOptions
---@field api_key string the identity's API key
---@field base_url? string its server (default: the module's)
---@field max_response? integer|string the largest answer read: bytes, or "64MiB", "1GiB" (default: the module's limit, 256MiB unless set)

---@class wandb.ParallelOptions
---@field concurrency? integer items at once, 1 to 256 (default 8)
---@field on_error? "raise"|"collect" raise the first failure (default), or collect them all
---@field progress? boolean a progress line on a terminal (default true)

---@class wandb.CSVReadOptions
---@field separator? string one character (default ",")
---@field required? string[] columns the header must have
---@field exact_headers? boolean match header names as written; by default they match case-insensitively, and rows are keyed by (and columns list) each name in lower case
---@field name? string what messages call the input (csv.parse)

---@class wandb.CSVWriteOptions
---@field separator? string one character (default ",")

---CSV files as spreadsheets export them.
---@class wandb.csv
local csv = {}

---Reads a CSV file with a header line. Rows are keyed by the header's
---names, in lower case ("Email" gives row.email) unless opts.exact_headers;
---lines[i] is the line where rows[i] starts. On failure: nil and
---"<path>:<line>: <what>".
---@param path string
---@param opts? wandb.CSVReadOptions
---@return table<string, string>[]? rows
---@return string[]|string columns_or_message
---@return integer[]? lines
function csv.read(path, opts) end

---csv.read for a string.
---@param text string
---@param opts? wandb.CSVReadOptions
---@return table<string, string>[]? rows
---@return string[]|string columns_or_message
---@return integer[]? lines
function csv.parse(text, opts) end

---Writes rows (with a header of columns) to a file only its owner can read,
---replaced atomically; a report, so it is written in a dry run too.
---@param path string
---@param rows table[]
---@param columns string[]
---@param opts? wandb.CSVWriteOptions
---@return true? ok
---@return string? message
function csv.write(path, rows, columns, opts) end

---Rows as CSV text, with a header of columns.
---@param rows table[]
---@param columns string[]
---@param opts? wandb.CSVWriteOptions
---@return string text
function csv.format(rows, columns, opts) end

---JSON. Tables with keys 1..n (or marked with json.array, or empty) are
---arrays, tables with string keys (or marked with json.object) objects.
---@class wandb.json
---@field null userdata JSON null, in both directions
local json = {}

---@param value any
---@param opts? {indent: integer|string}
---@return string? text
---@return string? message
function json.encode(value, opts) end

---@param text string
---@return any value
---@return string? message
function json.decode(text) end

---Writes value's JSON text (and a line end) to a file only its owner can
---read, replaced atomically; like csv.write, also in a dry run.
---@param path string
---@param value any
---@param opts? {indent: integer|string}
---@return true? ok
---@return string? message
function json.write(path, value, opts) end

---Marks t (default: a new table) as a JSON array and returns it.
---@generic T: table
---@param t? T
---@return T
function json.array(t) end

---Marks t (default: a new table) as a JSON object and returns it.
---@generic T: table
---@param t? T
---@return T
function json.object(t) end

---The module. Unknown names raise, listing the names there are.
---@class wandb
---@field version string this project's version
---@field dry_run boolean changes are only planned (--dry-run)
---@field csv wandb.csv
---@field json wandb.json
local wandb = {}

---The user the API key belongs to.
---@return wandb.User? user
---@return wandb.Error? err
function wandb.viewer() end

---The one user whose username or email is this (case-insensitive), or
---without exact the only one containing it.
---@param username_or_email string
---@param opts? {exact: boolean}
---@return wandb.User? user
---@return wandb.Error? err
function wandb.user(username_or_email, opts) end

---Every user whose username or email contains query; all without one.
---With {status = true}, each user carries active, created_at, days_active
---and last_active_at where the server's SCIM API gives them (one listing,
---not a request per user); a server that lists only part of them gives
---the users and an error with code "incomplete": test err.
---@param query? string
---@param opts? {status: boolean}
---@return wandb.User[]? users
---@return wandb.Error? err
function wandb.users(query, opts) end

---Creates a user with the organisation role given: "member" (the
---default), "admin" (an instance admin) or "viewer"; true and false, as
---older scripts give them, are "admin" and "member". The email is trimmed
---and its domain lower-cased first.
---@param email string
---@param role? "admin"|"member"|"viewer"|boolean
---@return wandb.User? user
---@return wandb.Error? err
function wandb.create_user(email, role) end

---The team with its members.
---@param name string
---@return wandb.Team? team
---@return wandb.Error? err
function wandb.team(name) end

---Every team of the instance, each as wandb.team loads it (members, then
---pending invites). Listed through SCIM: needs an admin key.
---@return wandb.Team[]? teams
---@return wandb.Error? err
function wandb.teams() end

---Creates a team with admin_username (default: you) as its admin.
---@param name string
---@param admin_username? string
---@return wandb.Team? team
---@return wandb.Error? err
function wandb.create_team(name, admin_username) end

---Reads the server and returns the changes that bring it to the desired state.
---@param desired wandb.Desired
---@return wandb.Plan? plan
---@return wandb.Error? err
function wandb.plan(desired) end

---Another identity, on the module's server unless base_url is given.
---@param opts wandb.APIOptions
---@return wandb.api? api
---@return wandb.Error? err
function wandb.api(opts) end

---Runs fn(item, index) for each item, with requests in flight at once;
---returns the results in the order of items (and, with on_error =
---"collect", the failure records).
---@generic T, R
---@param items T[]
---@param fn fun(item: T, index: integer): R
---@param opts? wandb.ParallelOptions
---@return R[] results
---@return wandb.ParallelFailure[] failures
function wandb.parallel(items, fn, opts) end

---The address as the module sends it: trimmed, its domain in lower case
---(the part before "@" as written). A malformed address, or one whose
---domain has no dot, gives nil and an "invalid_argument" error saying
---what is wrong: check a file's addresses with it before sending anything.
---@param email string
---@return string? email
---@return wandb.Error? err
function wandb.check_email(email) end

---Writes text to a file only its owner can read, replaced atomically: for
---secrets. In a dry run it writes nothing and returns false, "dry run:
---<path> not written" (reports go to csv.write and json.write, which write).
---@param path string
---@param text string
---@return boolean? ok true: written; false: a dry run; nil: failed
---@return string? message
function wandb.write_private(path, text) end

return wandb
