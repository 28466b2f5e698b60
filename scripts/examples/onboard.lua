#!/usr/bin/env wandb-lua
-- Onboarding: create the users listed in a CSV file, skipping those that
-- already exist, and print a summary. Needs an admin key. The file has a
-- header with an "email" column and, optionally, an "admin" column: true,
-- yes or 1 for an instance admin; false, no, 0 or empty for a user (see
-- testdata/users.csv). Files saved by Excel or Google Sheets read as they
-- are (a byte-order mark, quoted fields, CRLF).
-- The whole file is checked before anything is created: a row without an
-- email or with an unclear admin value stops the script, naming its line.
-- A user listed twice is created once; the repeat is reported as a
-- duplicate.
-- Up to CONCURRENCY users (default 8) are created at once with wandb.parallel.
--
--   wandb-lua scripts/examples/onboard.lua FILE.csv [--concurrency N]
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
  ["false"] = false, no = false, ["0"] = false, [""] = false,
}

-- Check every row, and find the repeats, before changing anything.
local report = {}   -- per row, in the order of the file
local todo = {}     -- the users to create, each once
local first = {}    -- email (lower case) -> the row that lists it first
local problems = {}
for i, row in ipairs(rows) do
  local where = path .. ":" .. lines[i] .. ": "
  local email = trim(row.email)
  local admin = admin_words[trim(row.admin):lower()]
  if email == "" then
    problems[#problems + 1] = where .. "no email"
  elseif admin == nil then
    problems[#problems + 1] = where .. string.format("admin must be true or false (yes/no, 1/0 or empty), not %q", row.admin)
  elseif first[email:lower()] then
    local f = first[email:lower()]
    if f.admin ~= admin then
      problems[#problems + 1] = where .. string.format("%s is on line %d too, with admin=%s", email, f.line, tostring(f.admin))
    end
    report[i] = { email = email, status = "duplicate", detail = "first on line " .. f.line }
  else
    first[email:lower()] = { line = lines[i], admin = admin }
    todo[#todo + 1] = { email = email, admin = admin, row = i }
  end
end
if #problems > 0 then
  error(table.concat(problems, "\n") .. "\nnothing was created", 0)
end

-- Each call runs on its own thread; while one waits for the server,
-- the others go on. The results come back in the order of todo.
local created = wandb.dry_run and "planned" or "created"
local results = wandb.parallel(todo, function(t)
  local u, err = wandb.create_user(t.email, t.admin)
  if not err then
    return { status = created, detail = t.admin and "admin" or nil }
  elseif err.code == "conflict" then
    return { status = "exists" }
  elseif err.code == "unknown_outcome" and u then
    -- The answer was lost, and the user is there now: this run's doing,
    -- or there already; either way, there.
    return { status = "exists", detail = "its answer was lost: created now or before" }
  end
  return { status = "failed", detail = tostring(err) }
end, { concurrency = concurrency })
for j, t in ipairs(todo) do
  results[j].email = t.email
  report[t.row] = results[j]
end

local count = { [created] = 0, exists = 0, duplicate = 0, failed = 0 }
for i = 1, #rows do
  local r = report[i]
  count[r.status] = count[r.status] + 1
  print(string.format("%-9s %s%s", r.status, r.email, r.detail and " (" .. r.detail .. ")" or ""))
end
print(string.format("%d %s, %d already existed, %d duplicate(s) in the file, %d failed",
  count[created], created, count.exists, count.duplicate, count.failed))
if count.failed > 0 then
  error(string.format("%d user(s) could not be created", count.failed), 0)
end
