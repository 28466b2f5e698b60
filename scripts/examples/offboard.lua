#!/usr/bin/env wandb-lua
-- Offboarding one user, found by exact email or username: deactivate the
-- account, revoke every API key, and remove the user from every team, then
-- print what was done. Each step is safe to repeat, so after a failure
-- (an outage, say) running the script again finishes the job. Under
-- wandb-lua --dry-run nothing is changed: the script prints what it would
-- do. Needs an admin key. Refuses to offboard the identity running it.
--
--   wandb-lua [--dry-run] scripts/examples/offboard.lua USER
local wandb = require("wandb")

local who = arg[1]
if not who or who == "" or arg[2] ~= nil then
  error("usage: offboard.lua USER (an email or username; add --dry-run before the script to see the plan)", 0)
end

-- Only the exact user will do: no partial match.
local u = assert(wandb.user(who, { exact = true }))
local me = assert(wandb.viewer())
if u == me then
  error("refusing to offboard " .. tostring(me) .. ": that is the key running this script", 0)
end

-- The plan: one step per change, each a function returning true or
-- false, err.
local steps = { { what = "deactivate", run = function() return u:deactivate() end } }
local keys, teams = u.api_keys, u.teams
for _, name in ipairs(keys) do
  steps[#steps + 1] = { what = "revoke key " .. name, run = function() return u:delete_api_key(name) end }
end
for _, name in ipairs(teams) do
  steps[#steps + 1] = { what = "remove from team " .. name, run = function()
    local t, err = wandb.team(name)
    if not t then return false, err end
    return t:remove_member(u)
  end }
end

local function plural(n, word) return n .. " " .. word .. (n == 1 and "" or "s") end
print(string.format("Offboarding %s%s: deactivate, revoke %s, leave %s", tostring(u),
  wandb.dry_run and " (dry run: nothing is changed)" or "", plural(#keys, "API key"), plural(#teams, "team")))

local failed = {}
for _, step in ipairs(steps) do
  -- In a dry run the step runs too: the module plans it instead of sending it.
  local ok, err = step.run()
  if ok then
    print((wandb.dry_run and "  would   " or "  done    ") .. step.what)
  else
    failed[#failed + 1] = step.what
    print("  FAILED  " .. step.what .. ": " .. tostring(err))
  end
end

if wandb.dry_run and #failed == 0 then
  print(string.format("dry run: %s planned, nothing changed", plural(#steps, "step")))
  return
end
print(string.format("%s done, %d failed", plural(#steps - #failed, "step"), #failed))
if #failed > 0 then
  error(string.format("%s of %s failed (%s): run the script again to finish",
    plural(#failed, "step"), tostring(u), table.concat(failed, "; ")), 0)
end
