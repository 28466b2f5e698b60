#!/usr/bin/env wandb-lua
-- Offboarding one user, found by exact email or username: revoke every API
-- key, remove the user from every team, withdraw the invitations to the
-- user's address that are still pending, take away instance admin rights
-- (so that reactivating the account does not bring an admin back), then
-- deactivate the account, and print what was done. Deactivation comes
-- last, and only once every other step is done: on Multi-tenant Cloud it
-- removes the user from the organisation, after which nothing more can be
-- done for them. Each step is safe to repeat, and one with nothing to do
-- says "already", so after a failure (an outage, say) running the script
-- again finishes the job; a user who is no longer there has nothing left
-- to do. Under wandb-lua --dry-run nothing is changed: the
-- script prints what it would do. Needs an admin key. Refuses to offboard
-- the identity running it.
--
--   wandb-lua [--dry-run] scripts/examples/offboard.lua USER
local wandb = require("wandb")

local who = arg[1]
if not who or who == "" or arg[2] ~= nil then
  error("usage: offboard.lua USER (an email or username; add --dry-run before the script to see the plan)", 0)
end

-- Only the exact user will do: no partial match.
local u, err = wandb.user(who, { exact = true })
if not u then
  if err.code == "not_found" and not err.candidates then
    print(string.format("No user %s: nothing to offboard (already removed from the organisation, or never in it)", who))
    return
  end
  error(err, 0)
end
local me = assert(wandb.viewer())
if u == me then
  error("refusing to offboard " .. tostring(me) .. ": that is the key running this script", 0)
end

-- The plan: one step per change, each a function returning true or
-- false, err. A step whose target is gone already is done.
local steps = {}
local keys, teams = u.api_keys, u.teams
for _, name in ipairs(keys or {}) do
  steps[#steps + 1] = { what = "revoke key " .. name, run = function() return u:delete_api_key(name) end }
end
for _, name in ipairs(teams) do
  steps[#steps + 1] = { what = "remove from team " .. name, run = function()
    local t, err = wandb.team(name)
    if not t then return false, err end
    return t:remove_member(u)
  end }
end
-- Pending invitations to the user's address, in every team, are withdrawn:
-- accepted later, they would bring the user back.
local invitations = 0
if u.email then
  local all = assert(wandb.teams())
  for _, t in ipairs(all) do
    for _, m in ipairs(t.members) do
      if m.pending and m.email and m.email:lower() == u.email:lower() then
        invitations = invitations + 1
        steps[#steps + 1] = { what = "withdraw the invitation to " .. t.name, run = function() return m:delete() end }
      end
    end
  end
end
-- An instance admin loses the rights first, so that whoever reactivates
-- the account does not get an admin back.
if u.instance_admin ~= false then
  steps[#steps + 1] = { what = "remove instance admin", run = function() return u:set_role("member") end }
end
local deactivate = { what = "deactivate", run = function()
  local st, err = u:status()
  if not st then return false, err end
  if not st.active then return "already" end
  return u:deactivate()
end }

local function plural(n, word) return n .. " " .. word .. (n == 1 and "" or "s") end
print(string.format("Offboarding %s%s: revoke %s, leave %s,%s%s deactivate", tostring(u),
  wandb.dry_run and " (dry run: nothing is changed)" or "",
  keys and plural(#keys, "API key") or "its API keys", plural(#teams, "team"),
  invitations > 0 and (" withdraw " .. plural(invitations, "invitation") .. ",") or "",
  u.instance_admin ~= false and " remove instance admin," or ""))
if not keys then
  -- Found through SCIM: the server does not let this key list the user's keys.
  print("  NOTE    API keys: not listed for this key (the server refuses it user search), so none are revoked")
end

local failed, done = {}, 0
local function run(step)
  -- In a dry run the step runs too: the module plans it instead of sending it.
  local ok, err = step.run()
  if ok == "already" then
    done = done + 1
    print("  already " .. step.what)
  elseif ok then
    done = done + 1
    print((wandb.dry_run and "  would   " or "  done    ") .. step.what)
  elseif err.code == "not_found" then
    done = done + 1
    print("  already " .. step.what .. " (gone already)")
  else
    failed[#failed + 1] = step.what
    print("  FAILED  " .. step.what .. ": " .. tostring(err))
  end
end
for _, step in ipairs(steps) do run(step) end
local skipped = #failed > 0
if skipped then
  print("  skipped deactivate: it comes once every step above is done")
else
  run(deactivate)
end

local total = #steps + 1
if wandb.dry_run and #failed == 0 then
  print(string.format("dry run: %s planned, nothing changed", plural(total, "step")))
  return
end
print(string.format("%s done, %d failed%s", plural(done, "step"), #failed, skipped and ", 1 skipped" or ""))
if #failed > 0 then
  error(string.format("%s of %s failed (%s): run the script again to finish",
    plural(#failed, "step"), tostring(u), table.concat(failed, "; ")), 0)
end
