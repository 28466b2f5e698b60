#!/usr/bin/env wandb-lua
-- Sync: keep a W&B instance's users and team memberships in line with a
-- file, print the plan, and apply it (under wandb-lua --dry-run, only
-- print it: the plan lists exactly what a real run would change). Needs an
-- admin key.
--
-- FILE is a CSV file with an "email" column and, optionally, "team",
-- "role" (admin, member or empty) and "admin" (the instance-admin flag:
-- true/yes/1, false/no/0, or empty for as it is) columns, named in any
-- case; every email is a user that must exist, and every row with a team
-- a membership (teams that do not exist are created). A bad row stops the
-- script before anything is sent, and a change that fails names the line
-- that asked for it. Or FILE is a JSON file holding the desired
-- state as wandb.plan takes it: {"users": [...], "memberships": [...],
-- "teams": [...], "withdraw": [...], "prune": false}.
-- With --prune, members and invitations of the file's teams that the file
-- does not list are removed (service accounts are kept); without it,
-- nothing that is not listed is touched. A second run changes nothing.
--
--   wandb-lua [--dry-run] scripts/examples/sync.lua FILE [--prune] [--concurrency N]
local wandb = require("wandb")

local path, prune, concurrency = nil, false, 8
local i = 1
while arg[i] do
  if arg[i] == "--prune" then
    prune = true
  elseif arg[i] == "--concurrency" then
    concurrency = tonumber(arg[i + 1])
    i = i + 1
  elseif not path then
    path = arg[i]
  else
    path = nil
    break
  end
  i = i + 1
end
if not path or not concurrency then
  error("usage: sync.lua FILE.csv|FILE.json [--prune] [--concurrency N] (add --dry-run before the script to see the plan)", 0)
end

local function trim(s)
  return (s or ""):match("^%s*(.-)%s*$")
end

local desired
local line_of = {} -- for a CSV file: the line that first asked for each user, team and membership
if path:lower():match("%.json$") then
  local f, err = io.open(path)
  if not f then error(err, 0) end
  local text = f:read("*a")
  f:close()
  local value, jerr = wandb.json.decode(text)
  if not value then error(path .. ": " .. tostring(jerr), 0) end
  desired = value
  if prune then desired.prune = true end
else
  local rows, columns, lines = wandb.csv.read(path, { required = { "email" } })
  if not rows then error(columns, 0) end
  local admin_words = { ["true"] = true, yes = true, ["1"] = true, ["false"] = false, no = false, ["0"] = false }
  local roles = { admin = "admin", member = "member", [""] = "" }
  desired = { users = {}, memberships = {}, teams = {}, prune = prune }
  for n, row in ipairs(rows) do
    local where = path .. ":" .. lines[n] .. ": "
    local email, team, role, admin = trim(row.email), trim(row.team), trim(row.role):lower(), trim(row.admin):lower()
    if email == "" then error(where .. "no email", 0) end
    local checked, bad = wandb.check_email(email)
    if not checked then error(where .. bad.message, 0) end
    email = checked
    if roles[role] == nil then error(where .. string.format("role must be admin, member or empty, not %q", row.role), 0) end
    if admin ~= "" and admin_words[admin] == nil then
      error(where .. string.format("admin must be true or false (yes/no, 1/0 or empty), not %q", row.admin), 0)
    end
    -- Every row's wish goes to the plan, which refuses a user listed as
    -- an admin and as not.
    line_of["user " .. email:lower()] = line_of["user " .. email:lower()] or lines[n]
    desired.users[#desired.users + 1] = { email = email, admin = admin_words[admin] }
    if team ~= "" then
      if not line_of["team " .. team] then
        line_of["team " .. team] = lines[n]
        desired.teams[#desired.teams + 1] = team
      end
      line_of["member " .. team .. " " .. email:lower()] = line_of["member " .. team .. " " .. email:lower()] or lines[n]
      desired.memberships[#desired.memberships + 1] = { email = email, team = team, role = roles[role] }
    end
  end
end

-- where(r) names the line of the CSV file that asked for the change of
-- result r ("" for a JSON file, or a change no line asked for: a pruning).
local function where(r)
  local line
  if r.op == "create_team" then
    line = line_of["team " .. r.target]
  elseif r.team then
    line = line_of["member " .. r.team .. " " .. r.target:lower()]
  else
    line = line_of["user " .. r.target:lower()]
  end
  return line and (path .. ":" .. line .. ": ") or ""
end

local plan, err = wandb.plan(desired)
if not plan then error(tostring(err), 0) end
print(tostring(plan))
local failed = 0
for _, r in ipairs(plan:apply({ concurrency = concurrency })) do
  if not r.ok then
    failed = failed + 1
    print(string.format("FAILED  %s%s %s%s: %s", where(r), r.op, r.target, r.team and (" (team " .. r.team .. ")") or "", tostring(r.err)))
  end
end
local n = #plan.changes
if wandb.dry_run then
  print(string.format("dry run: %d change(s) planned, nothing changed", n))
  return
end
print(string.format("%d change(s) made, %d failed", n - failed, failed))
if failed > 0 then
  error(string.format("%d change(s) failed: run the script again to finish", failed), 0)
end
