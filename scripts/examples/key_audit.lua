#!/usr/bin/env wandb-lua
-- Key audit: every user whose username or email contains QUERY (all users
-- without one), with how many API keys each has. Needs an admin key.
--
--   wandb-lua scripts/examples/key_audit.lua [QUERY]
local wandb = require("wandb")

local function plural(n, word) return n .. " " .. word .. (n == 1 and "" or "s") end

local query = arg[1] or ""
local users, err = wandb.users(query)
if not users then
  -- Said in one line: a server that will not list every user for an
  -- empty query is not an instance with no users.
  error(tostring(err), 0)
end
table.sort(users, function(a, b) return tostring(a) < tostring(b) end)

if query == "" then
  print(plural(#users, "user"))
else
  print(string.format("%s matching %q", plural(#users, "user"), query))
end

local total, without = 0, {}
for _, u in ipairs(users) do
  local n = #u.api_keys
  total = total + n
  if n == 0 then
    without[#without + 1] = u.email or u.username or u.id
  end
  print(string.format("  %-28s %2d key%s%s", u.email or u.username or u.id, n, n == 1 and "" or "s",
    u.instance_admin and "  (admin)" or ""))
end

print(plural(total, "key") .. " in all")
if #without > 0 then
  print("without keys: " .. table.concat(without, ", "))
end
