-- Teams and members: wandb.team, wandb.create_team, t:invite,
-- t:create_service_account, t:reload, m:delete (seed: ml-research with
-- alice as its admin, alice.smith a member and dave invited).
local wandb = require("wandb")

local t = assert(wandb.team("ml-research"))
local server = test.server_team("ml-research")
eq(t.name, "ml-research", "name")
eq(t.id, server.id, "id")
eq(tostring(t), "<Team ml-research>", "tostring")
eq("team " .. t, "team <Team ml-research>", "concatenation")
eq(type(t.default_access), "string", "default_access")
eq(t.storage_bytes, 0, "storage_bytes")
eq(t.code_saving_enabled, true, "code_saving_enabled")
eq(t.read_only_admin, false, "read_only_admin")
eq(t.private_only, false, "private_only")
eq(type(t.entity_type), "string", "entity_type")
eq(t.is_paid, nil, "is_paid (null)")
eq(t.read_only, nil, "read_only (null)")

-- Members, as the server lists them; a fresh array on each read.
local ms = t.members
eq(#ms, 3, "members")
for i, m in ipairs(ms) do
  local s = server.members[i]
  eq(m.id, s.id, "member " .. i .. " id")
  eq(m.name, s.name, "member " .. i .. " name")
  eq(m.username, s.username, "member " .. i .. " username")
  eq(m.email, s.email, "member " .. i .. " email")
  eq(m.admin, s.admin, "member " .. i .. " admin")
  eq(m.pending, s.pending, "member " .. i .. " pending")
  eq(m.account_type, s.account_type, "member " .. i .. " account_type")
  ok(m.team == t, "member " .. i .. " team")
end
eq(tostring(ms[1]), "<Member Alice Example (USER)>", "member tostring")
eq(ms[3].pending, true, "dave is invited")
ok(ms[1] == t.members[1] and ms[1] ~= ms[2], "members compare by id")
ms[1] = nil
eq(#t.members, 3, "a fresh array")

-- A missing team, a user's own entity, a taken name.
local none, err = wandb.team("nope")
eq(none, nil, "missing team")
is_err(err, "not_found", nil)
none, err = wandb.team("bob")
is_err(err, "not_found", nil, "a user's entity")
none, err = wandb.create_team("platform")
is_err(err, "conflict", 409)

-- Creating: the caller, or the admin named, is the team's admin.
local mine = assert(wandb.create_team("vision"))
eq(#mine.members, 1, "new team members")
eq(mine.members[1].email, "admin@example.com", "creator")
eq(mine.members[1].admin, true, "creator is team admin")
local bobs = assert(wandb.create_team("audio", "bob"))
eq(bobs.members[1].username, "bob", "admin named")

-- Invites: an email, a username, a User; admin or not.
local erin = assert(mine:invite("erin@example.org"))
eq(erin.pending, true, "invite pending")
eq(erin.email, "erin@example.org", "invite email")
eq(erin.username, nil, "no user yet")
local bob = assert(mine:invite("bob", true))
eq(bob.username, "bob", "by username")
eq(bob.admin, true, "invited as admin")
local carol = assert(wandb.user("carol@example.org"))
local c = assert(mine:invite(carol))
eq(c.email, "carol@example.org", "a User is invited by username")
eq(test.server_user("carol@example.org").teams[2], nil, "pending, not a member")
eq(#mine.members, 4, "invites join t.members")
for _, m in ipairs(test.server_team("vision").members) do
  if m.email == "erin@example.org" then eq(erin.id, m.id, "invite id is the server's member id") end
end
local dup, e2 = mine:invite("bob")
is_err(e2, "conflict", 409, "invited twice")
local nobody, e3 = mine:invite("nobody")
is_err(e3, "not_found", 404, "unknown username")

-- A service account, found by id.
local sa = assert(mine:create_service_account("CI bot"))
eq(sa.account_type, "SERVICE", "service account type")
eq(sa.name, "CI bot", "service account name")
eq(sa.email, nil, "no email")
local found = false
for _, m in ipairs(test.server_team("vision").members) do
  if m.id == sa.id then found = m.account_type == "SERVICE" end
end
ok(found, "the service account is the server's")

-- Its API key, shown once: on the Member returned, never on a listed one,
-- in tostring or in JSON; it authenticates as the service account.
local key = sa.api_key
eq(type(key), "string", "the service account's api_key")
ok(#key >= 40, "a key")
local bot = assert(wandb.api{ api_key = key })
eq(assert(bot:viewer()).username, "vision-service", "the key's viewer is the service account")
ok(not tostring(sa):find(key, 1, true), "tostring shows no key")
for _, m in ipairs(mine.members) do
  eq(m.api_key, nil, "a listed member's api_key")
  if m.id == sa.id then ok(m == sa, "the listed member equals the one returned") end
end
local encoded, jerr = wandb.json.encode({ account = sa })
eq(encoded, nil, "json.encode of a Member")
ok(jerr:find("cannot encode a wandb.Member", 1, true) and not jerr:find(key, 1, true), "json.encode refuses the Member")
local _, uerr = wandb.create_user(key)
ok(not tostring(uerr):find(key, 1, true), "an error shows no key")

-- Reload sees what changed on the server.
test.accept_invite("vision", "bob@example.com")
eq(assert(mine:reload()), true, "reload")
local byname = {}
for _, m in ipairs(mine.members) do byname[m.username or m.email] = m end
eq(byname.bob.pending, false, "bob accepted")
eq(byname.bob.admin, true, "as an admin")

-- Deleting an invite and a member; a second time is not found.
eq(assert(erin:delete()), true, "withdraw an invite")
eq(byname.bob:delete(), true, "remove a member")
local gone, e4 = byname.bob:delete()
eq(gone, false, "delete twice")
is_err(e4, "not_found", 404)
eq(#test.server_team("vision").members, 3, "admin, carol's invite, the service account")

-- Someone who is not a team admin may not invite.
local as_bob = assert(wandb.api{ api_key = test.key_for("bob@example.com") })
local other = assert(as_bob:team("ml-research"))
local no, e5 = other:invite("x@example.org")
is_err(e5, "forbidden", 403)
local bob_team = assert(as_bob:create_team("bobs-own"))
eq(bob_team.members[1].username, "bob", "api:create_team")

-- Read-only values, fields that do not exist, bad arguments.
raises("wandb.Team is read-only (cannot set field 'name')", function() t.name = "x" end)
raises("wandb.Team has no field 'nmae' (it has name, id, members, dry_run, read_only, read_only_admin, private_only, default_access, storage_bytes, entity_type, is_paid, code_saving_enabled, reload, invite, create_service_account, add_member, remove_member, set_role)",
  function() return t.nmae end)
raises("wandb.Member has no field 'emial' (it has id, name, username, email, role, team_admin, admin, pending, account_type, api_key, team, dry_run, delete)",
  function() return sa.emial end)
raises("bad argument #1 to 'team' (string expected, got number)", function() wandb.team(1) end)
raises("bad argument #2 to 'create_team' (string expected, got boolean)", function() wandb.create_team("x", true) end)
raises("bad argument #1 to 'invite' (wandb.User, wandb.Member, email or username expected, got number)", function() mine:invite(42) end)
raises([[bad argument #2 to 'invite' (string expected (a role such as "admin" or "member"), got number)]], function() mine:invite("x@example.org", 1) end)
raises("bad argument #1 to 'invite' (wandb.Team expected, got string; use t:invite(...) not t.invite(...))", function() mine.invite("bob") end)
raises("bad argument #1 to 'create_service_account' (string expected, got no value)", function() mine:create_service_account() end)
raises("bad argument #1 to 'delete' (wandb.Member expected, got no value; use m:delete(...) not m.delete(...))", function() sa.delete() end)
raises("bad argument #1 to 'reload' (wandb.Team expected, got table; a plain table is not a wandb.Team: get one from wandb.team or wandb.create_team)",
  function() mine.reload({}) end)
