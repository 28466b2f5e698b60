#!/usr/bin/env wandb-lua
-- Key report: every user (whose username or email contains QUERY; all
-- without one) with each API key's name and description, and whether the
-- user is active, to a CSV file (one row per key; a user without keys has
-- one row with the key columns empty). A key's name is not a usable key.
-- Needs an admin key. Writes the file only (readable by you alone); sends
-- no change.
--
--   wandb-lua scripts/examples/key_report.lua FILE.csv [QUERY]
local wandb = require("wandb")

local path, query = arg[1], arg[2] or ""
if not path or arg[3] ~= nil then
  error("usage: key_report.lua FILE.csv [QUERY]", 0)
end

local users, err = wandb.users(query, { status = true })
if not users then error(tostring(err), 0) end
if err then
  -- What the server listed is there; the rest of the standing is not known.
  io.stderr:write("key_report.lua: " .. tostring(err) .. "\n")
end
table.sort(users, function(a, b) return tostring(a) < tostring(b) end)

local rows, keys = {}, 0
for _, u in ipairs(users) do
  local row = { email = u.email, username = u.username, admin = u.instance_admin, active = u.active }
  if not u.keys or #u.keys == 0 then
    rows[#rows + 1] = row
  else
    for _, k in ipairs(u.keys) do
      keys = keys + 1
      rows[#rows + 1] = { email = u.email, username = u.username, admin = u.instance_admin, active = u.active,
        key = k.name, description = k.description }
    end
  end
end
local written, werr = wandb.csv.write(path, rows, { "email", "username", "admin", "active", "key", "description" })
if not written then error(werr, 0) end
print(string.format("%d user(s), %d key(s): %s", #users, keys, path))
