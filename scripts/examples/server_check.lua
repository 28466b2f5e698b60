#!/usr/bin/env wandb-lua
-- What does this server do where W&B's public record is silent? Asks the
-- server a few read-only questions and prints, for each behaviour that
-- wandb-lua's test server only assumes, what this server answered. Run it
-- against a real instance with an admin key and send the output back (it
-- holds no key; add -v for the requests made):
--
--   wandb-lua --read-only -v scripts/examples/server_check.lua
local wandb = require("wandb")

local function say(what, answer) print(string.format("%-44s %s", what, answer)) end

local me = assert(wandb.viewer())
say("viewer", tostring(me) .. (me.instance_admin and " (instance admin)" or ""))

-- User search: the SDK documents it for local administrators only.
local all, err = wandb.users("")
if all then
  local listed = false
  for _, u in ipairs(all) do listed = listed or u == me end
  say("users(\"\") lists everyone", string.format("%s (%d users, the viewer %s)",
    listed and "yes" or "no", #all, listed and "among them" or "not among them"))
else
  say("users(\"\") lists everyone", "cannot tell: " .. err.code .. ": " .. err.message)
end

-- SCIM: reachable with this key, and does Get User show the role?
local st, serr = me:status()
if st then
  say("SCIM Get User shows organizationRole", st.role and ("yes (" .. st.role .. ")") or "no")
  say("SCIM Get User shows daysActive", st.days_active and "yes" or "no")
else
  say("SCIM", "cannot tell: " .. serr.code .. ": " .. serr.message)
end

-- Team members: is a member's id the user's id?
local answered = false
for _, name in ipairs(me.teams) do
  local t = wandb.team(name)
  for _, m in ipairs(t and t.members or {}) do
    if not answered and not m.pending and m.account_type == "USER" and m.username then
      local u = wandb.user(m.username, { exact = true })
      if u and u.id then
        say("a team member's id is the user's id", (m.id == u.id and "yes" or "no") .. " (team " .. name .. ")")
        answered = true
      end
    end
  end
end
if not answered then
  say("a team member's id is the user's id", "cannot tell: no team of the viewer lists a member to compare")
end
