#!/usr/bin/env wandb-lua
-- Key rotation for the identity running the script: generate a new API
-- key, write its secret to FILE (created with mode 0600; nothing else ever
-- shows the secret), check that it works, then delete every older key.
-- Under --dry-run nothing is generated, FILE is not written, and the old
-- keys that would be deleted are listed.
-- Afterwards, use the key in FILE: the one this run started with is gone.
--
--   wandb-lua scripts/examples/rotate_keys.lua FILE
local wandb = require("wandb")

local path = arg[1]
if not path or path == "" then
  error("usage: rotate_keys.lua FILE (where to write the new key)", 0)
end

local me = assert(wandb.viewer())
local old = me.api_keys
print(string.format("rotating the keys of %s: %d old key%s", tostring(me), #old, #old == 1 and "" or "s"))

local secret = assert(me:generate_api_key("rotate_keys.lua"))
-- write_private says which it did: true (written), false in a dry run
-- (there is no secret to write), nil and a message on failure.
local written, why = wandb.write_private(path, secret .. "\n")
if written then
  print("new key written to " .. path)
elseif written == false then
  print(why .. " (no key was generated)")
else
  error(why .. ": the new key was not saved; nothing was deleted, and its name is among your keys (delete it)", 0)
end

-- Delete the old keys as the new key: that proves the new key works, and
-- the deletions do not depend on the key being deleted.
local fresh = assert(wandb.api{ api_key = secret })
local me_again = assert(fresh:viewer())
if me_again ~= me then
  error("the new key belongs to " .. tostring(me_again) .. ", not " .. tostring(me) .. ": nothing was deleted", 0)
end

local function keys(n) return n .. " old key" .. (n == 1 and "" or "s") end
local failed = 0
for _, name in ipairs(old) do
  -- In a dry run the deletion is planned, not sent: say what it would do.
  local ok, err = me_again:delete_api_key(name)
  if ok then
    print((wandb.dry_run and "  would delete old key " or "  deleted old key ") .. name)
  else
    failed = failed + 1
    print("  FAILED to delete " .. name .. ": " .. tostring(err))
  end
end
if wandb.dry_run then
  print(string.format("dry run: %s would be deleted%s, nothing changed", keys(#old - failed),
    failed > 0 and (", " .. failed .. " would fail") or ""))
else
  print(string.format("%s deleted, %d failed", keys(#old - failed), failed))
end
if failed > 0 then
  error(string.format("%d old key(s) could not be deleted", failed), 0)
end
