-- wandb.users(q, {status = true}): each user's standing, from one SCIM
-- list joined to the search (seed: alice active 40 days, last on
-- 2025-03-01; dave never active; carol created 2023-06-01).
local wandb = require("wandb")

local function by_name(list)
  local by = {}
  for _, u in ipairs(list) do by[u.username] = u end
  return by
end

local lists = test.requests("SCIMListUsers")
local all = assert(wandb.users("", { status = true }))
eq(#all, 6, "all users")
eq(test.requests("SCIMListUsers") - lists, 1, "one SCIM list for every user")
eq(test.requests("SCIMGetUser"), 0, "no request per user")

local u = by_name(all)
eq(u.alice.active, true, "alice active")
eq(u.alice.created_at, "2024-01-15T09:00:00Z", "alice created_at")
eq(u.alice.last_active_at, "2025-03-01T12:00:00Z", "alice last_active_at")
eq(u.alice.days_active, 40, "alice days_active")
eq(u.carol.created_at, "2023-06-01T08:30:00Z", "carol created_at")
-- Known and never active: active is set, last_active_at nil.
eq(u.dave.active, true, "dave active")
eq(u.dave.last_active_at, nil, "dave never active")
eq(u.dave.days_active, 0, "dave days_active")
ok(u.dave.created_at:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"), "dave created_at: " .. tostring(u.dave.created_at))
-- The caller is active today.
ok(u.admin.last_active_at ~= nil and u.admin.days_active >= 1, "the admin's activity")

-- A query lists only its users, with their standing.
local bobs = assert(wandb.users("bob", { status = true }))
eq(#bobs, 1, "users matching bob")
eq(bobs[1].active, true, "bob active")
assert(bobs[1]:deactivate())
eq(by_name(assert(wandb.users("bob", { status = true }))).bob.active, false, "bob after deactivation")
eq(bobs[1].active, true, "a User keeps what was listed")

-- Without status (and from wandb.user), the standing is not known: nil.
for _, v in ipairs({ assert(wandb.users("alice@example.com"))[1], assert(wandb.user("alice@example.com")),
                     assert(wandb.users("alice@example.com", { status = false }))[1] }) do
  eq(v.active, nil, "active without status")
  eq(v.created_at, nil, "created_at without status")
  eq(v.days_active, nil, "days_active without status")
  eq(v.last_active_at, nil, "last_active_at without status")
end

-- SCIM never lists a service account: its standing is not known.
local sa = assert(assert(wandb.team("platform")):create_service_account("ci"))
local found = by_name(assert(wandb.users("", { status = true })))[sa.username]
ok(found ~= nil, "the service account is listed by the search")
eq(found.active, nil, "a service account's standing")

-- The same through an api object.
local api = assert(wandb.api({ api_key = test.key_for("carol@example.org") }))
eq(by_name(assert(api:users("alice", { status = true }))).alice.days_active, 40, "api:users with status")

-- A failed SCIM list fails the call.
test.fail_next("SCIMListUsers", 403)
local none, err = wandb.users("", { status = true })
eq(none, nil, "no users when SCIM fails")
is_err(err, "forbidden", 403)

raises([[bad argument #2 to 'users' (unknown option "stats" (known: "status"))]], function() wandb.users("", { stats = true }) end)
raises([[bad argument #2 to 'users' (status must be a boolean, got string)]], function() wandb.users("", { status = "yes" }) end)
raises([[bad argument #2 to 'users' (table expected, got boolean)]], function() wandb.users(nil, true) end)
