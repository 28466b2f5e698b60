-- The user lifecycle over SCIM: u:status, u:deactivate, u:reactivate,
-- u:set_role, u:delete, and t:add_member, t:set_role, t:remove_member
-- (seed: carol is an instance admin besides the admin running this).
local wandb = require("wandb")

local bob = assert(wandb.user("bob@example.com"))
local st = assert(bob:status())
eq(st.active, true, "active")
eq(st.role, nil, "no role: W&B's Get User does not show it")
eq(st.days_active, 0, "days_active")
eq(st.last_active_at, nil, "never active")

-- Deactivate and reactivate.
eq(assert(bob:deactivate()), true, "deactivate")
eq(test.server_user("bob@example.com").inactive, true, "inactive on the server")
eq(assert(bob:status()).active, false, "status after deactivation")
eq(assert(bob:reactivate()), true, "reactivate")
eq(test.server_user("bob@example.com").inactive, false, "active again")

-- Organisation roles.
eq(assert(bob:set_role("admin")), true, "promote")
eq(test.server_user("bob@example.com").admin, true, "admin on the server")
eq(assert(wandb.user("bob@example.com")).admin, true, "a fresh lookup says admin")
eq(assert(bob:set_role("viewer")), true, "viewer")
eq(test.server_user("bob@example.com").viewer, true, "viewer on the server")
eq(test.server_user("bob@example.com").admin, false, "no longer admin")
local good, err = bob:set_role("owner")
eq(good, false, "unknown role")
is_err(err, "invalid_argument", nil)

-- The only active instance admin is never lost.
local carol = assert(wandb.user("carol@example.org"))
eq(assert(carol:set_role("member")), true, "demote carol")
local me = assert(wandb.viewer())
for name, call in pairs({
  deactivate = function() return me:deactivate() end,
  delete = function() return me:delete() end,
  set_role = function() return me:set_role("member") end,
}) do
  local ok2, e = call()
  eq(ok2, false, name .. " of the last admin")
  is_err(e, "last_admin", nil, name)
  ok(e.message:find("only active admin", 1, true), name .. ": " .. e.message)
end
eq(test.server_user("admin@example.com").inactive, false, "still active")

-- Team membership.
local dave = assert(wandb.user("dave@example.com"))
local t = assert(wandb.team("platform"))
eq(assert(t:add_member(dave)), true, "add")
eq(test.server_user("dave@example.com").teams[1], "platform", "dave's teams")
eq(assert(t:set_role(dave, "admin")), true, "team role")
local role
for _, m in ipairs(test.server_team("platform").members) do
  if m.email == "dave@example.com" then role = m.role end
end
eq(role, "admin", "dave's team role")
eq(assert(t:add_member(bob, "viewer")), true, "add with a role")
eq(assert(t:remove_member(dave)), true, "remove")
eq(test.server_user("dave@example.com").teams[1], nil, "dave has no team")
local again, e2 = t:remove_member(dave)
eq(again, false, "remove twice")
is_err(e2, "not_found", nil)

-- Deletion.
eq(assert(dave:delete()), true, "delete")
eq(test.server_user("dave@example.com"), nil, "gone")
local gone, e3 = dave:status()
eq(gone, nil, "status of a deleted user")
is_err(e3, "not_found", nil)

-- Programming mistakes.
raises("bad argument #1 to 'add_member' (wandb.User, wandb.Member, email or username expected, got table)", function() t:add_member({}) end)
raises([[bad argument #2 to 'add_member' (string expected (a role such as "admin" or "member"), got number)]], function() t:add_member(bob, 1) end)
raises([[bad argument #2 to 'set_role' (string expected (a role such as "admin" or "member"), got no value)]], function() t:set_role(bob) end)
raises([[bad argument #1 to 'set_role' (string expected (a role such as "admin" or "member"), got number)]], function() bob:set_role(1) end)
raises("bad argument #1 to 'deactivate' (wandb.User expected, got no value; use u:deactivate(...) not u.deactivate(...))", function() bob.deactivate() end)
raises("bad argument #1 to 'remove_member' (wandb.Team expected, got wandb.User; use t:remove_member(...) not t.remove_member(...))",
  function() t.remove_member(bob) end)
