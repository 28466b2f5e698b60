#!/usr/bin/env wandb-lua
-- Who am I? Prints the identity the API key belongs to, its API keys
-- (their names: a name is never a usable key) and its teams.
--
--   wandb-lua --local scripts/examples/quickstart.lua
local wandb = require("wandb")

local me = assert(wandb.viewer())

print(string.format("You are %s (%s)%s.", me.username or me.name, me.email or "no email",
  me.instance_admin and ", an instance admin" or ""))

local keys = me.api_keys
print(string.format("API keys (%d):", #keys))
for _, name in ipairs(keys) do
  print("  " .. name)
end

local teams = me.teams
if #teams == 0 then
  print("Teams: none")
else
  print("Teams: " .. table.concat(teams, ", "))
end
