#!/usr/bin/env wandb-lua
-- Onboarding: make the users listed in a CSV file exist, with the
-- instance-admin flag the file gives them, and print what that took. Needs
-- an admin key. The file has a header with an "email" column and,
-- optionally, an "admin" column (in any case: "Email" will do): true, yes
-- or 1 for an instance admin; false, no or 0 for a user (an admin is
-- demoted); empty for "as they are" (a new user is not an admin). See
-- testdata/users.csv. Files saved by Excel or Google Sheets read as they
-- are (a byte-order mark, quoted fields, CRLF).
-- The whole file is checked before anything is read from the server: a
-- row without an email, with a malformed one or with an unclear admin
-- value stops the script, naming its line. A user listed twice is one
-- user; the repeat is reported as a duplicate. A change that fails names
-- the line that asked for it.
-- The plan (wandb.plan) lists only what the server lacks, so under
-- wandb-lua --dry-run it shows exactly what a real run would change. Up to
-- CONCURRENCY changes (default 8) are made at once.
--
--   wandb-lua [--dry-run] scripts/examples/onboard.lua FILE.csv [--concurrency N]
local wandb = require("wandb")

local path = arg[1]
local concurrency = 8
if arg[2] == "--concurrency" then
  concurrency = tonumber(arg[3])
end
if not path or not concurrency then
  error("usage: onboard.lua FILE.csv [--concurrency N]", 0)
end

local rows, columns, lines = wandb.csv.read(path, { required = { "email" } })
if not rows then
  error(columns, 0) -- the message: file, line and what is wrong
end

local function trim(s)
  return (s or ""):match("^%s*(.-)%s*$")
end
local admin_words = {
  ["true"] = true, yes = true, ["1"] = true,
  ["false"] = false, no = false, ["0"] = false, [""] = "as is",
}

-- Check every row, and find the repeats, before anything else.
local users, first, problems, duplicates = {}, {}, {}, {}
for i, row in ipairs(rows) do
  local where = path .. ":" .. lines[i] .. ": "
  local email, bad = trim(row.email), nil
  local admin = admin_words[trim(row.admin):lower()]
  if email ~= "" then
    email, bad = wandb.check_email(email) -- as it will be sent
  end
  if email == "" then
    problems[#problems + 1] = where .. "no email"
  elseif not email then
    problems[#problems + 1] = where .. bad.message
  elseif admin == nil then
    problems[#problems + 1] = where .. string.format("admin must be true or false (yes/no, 1/0 or empty), not %q", row.admin)
  elseif first[email:lower()] then
    local f = first[email:lower()]
    if f.admin ~= admin then
      problems[#problems + 1] = where .. string.format("%s is on line %d too, with admin=%s", email, f.line, tostring(f.admin))
    end
    duplicates[#duplicates + 1] = string.format("duplicate %s (first on line %d)", email, f.line)
  else
    first[email:lower()] = { line = lines[i], admin = admin }
    local u = { email = email }
    if admin ~= "as is" then u.admin = admin end
    users[#users + 1] = u
  end
end
if #problems > 0 then
  error(table.concat(problems, "\n") .. "\nnothing was changed", 0)
end
for _, line in ipairs(duplicates) do print(line) end

-- What the server lacks, and making it.
local plan = assert(wandb.plan({ users = users }))
print(tostring(plan))
local failed = 0
for _, r in ipairs(plan:apply({ concurrency = concurrency })) do
  if not r.ok then
    failed = failed + 1
    local f = first[r.target:lower()]
    print(string.format("FAILED  %s%s %s: %s", f and (path .. ":" .. f.line .. ": ") or "", r.op, r.target, tostring(r.err)))
  end
end
local n = #plan.changes
if wandb.dry_run then
  print(string.format("dry run: %d change(s) planned for %d user(s), nothing changed", n, #users))
  return
end
print(string.format("%d user(s): %d change(s) made, %d failed", #users, n - failed, failed))
if failed > 0 then
  error(string.format("%d change(s) failed: run the script again to finish", failed), 0)
end
