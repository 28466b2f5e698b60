#!/usr/bin/env wandb-lua
-- Offboarding: delete every API key of one user, found by exact email or
-- username. Needs an admin key. Refuses to lock out the identity running it.
--
--   wandb-lua scripts/examples/offboard.lua USER
local wandb = require("wandb")

local who = arg[1]
if not who or who == "" then
  error("usage: offboard.lua USER (an email or username)", 0)
end

local u = assert(wandb.user(who))
-- wandb.user also accepts a single partial match ("smith" finds
-- alice.smith@example.com); deleting keys needs the exact user.
local function same(a, b) return a ~= nil and a:lower() == b:lower() end
if not (same(u.email, who) or same(u.username, who)) then
  error(string.format("%q only partly matches %s: give the exact email or username", who, tostring(u)), 0)
end
local me = assert(wandb.viewer())
if u == me then
  error("refusing to delete the keys of " .. tostring(me) .. ": that is the key running this script", 0)
end

local keys = u.api_keys
print(string.format("%s has %d API key%s", tostring(u), #keys, #keys == 1 and "" or "s"))

local failed = 0
for _, name in ipairs(keys) do
  local ok, err = u:delete_api_key(name)
  if ok then
    print("  deleted " .. name)
  else
    failed = failed + 1
    print("  FAILED  " .. name .. ": " .. tostring(err))
  end
end

print(string.format("%d deleted, %d failed, %d left", #keys - failed, failed, #u.api_keys))
if failed > 0 then
  error(string.format("%d key(s) could not be deleted", failed), 0)
end
