#!/usr/bin/env wandb-lua
-- Team onboarding: from a CSV file of email,team,role rows, make each user
-- a member of (or invited to) each team with the role the row gives
-- ("admin" a team admin, "member" a member, empty: a member if new, the
-- role they have otherwise), creating the users and the teams that do not
-- exist yet, and print what that took. A role in the file is applied up
-- and down; an invitation with another role is withdrawn and sent again.
-- Needs an admin key. See testdata/team_members.csv (the header's names
-- in any case: "Email" will do). A row with a malformed email stops the
-- script before anything is sent, and a change that fails names the line
-- that asked for it.
-- The plan (wandb.plan) lists only what the server lacks, so under
-- wandb-lua --dry-run it shows exactly what a real run would change. Up to
-- CONCURRENCY changes (default 8) are made at once.
--
--   wandb-lua [--dry-run] scripts/examples/team_onboard.lua FILE.csv [--concurrency N]
local wandb = require("wandb")

local path = arg[1]
local concurrency = 8
if arg[2] == "--concurrency" then
  concurrency = tonumber(arg[3])
end
if not path or not concurrency then
  error("usage: team_onboard.lua FILE.csv [--concurrency N]", 0)
end

-- Check every row before anything else.
local rows, columns, lines = wandb.csv.read(path, { required = { "email", "team" } })
if not rows then
  error(columns, 0) -- the message: file, line and what is wrong
end
local function trim(s)
  return (s or ""):match("^%s*(.-)%s*$")
end
local roles = { admin = "admin", member = "member", [""] = "" }
local desired = { users = {}, memberships = {}, teams = {} }
-- The line that first asked for each user, team and membership, to name
-- in a failure.
local line_of = {}
for i, row in ipairs(rows) do
  local where = path .. ":" .. lines[i] .. ": "
  local email, team, role = trim(row.email), trim(row.team), trim(row.role):lower()
  if email == "" or team == "" then
    error(where .. "each row needs an email and a team", 0)
  end
  local checked, bad = wandb.check_email(email)
  if not checked then
    error(where .. bad.message, 0)
  end
  email = checked
  if roles[role] == nil then
    error(where .. "role must be admin, member or empty, not " .. string.format("%q", trim(row.role)), 0)
  end
  if not line_of["user " .. email:lower()] then
    line_of["user " .. email:lower()] = lines[i]
    desired.users[#desired.users + 1] = { email = email }
  end
  if not line_of["team " .. team] then
    line_of["team " .. team] = lines[i]
    desired.teams[#desired.teams + 1] = team
  end
  line_of["member " .. team .. " " .. email:lower()] = line_of["member " .. team .. " " .. email:lower()] or lines[i]
  desired.memberships[#desired.memberships + 1] = { email = email, team = team, role = roles[role] }
end

-- where(r) names the line of the file that asked for the change of result r.
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

-- What the server lacks, and making it.
local plan = assert(wandb.plan(desired))
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
  print(string.format("dry run: %d change(s) planned for %d row(s), nothing changed", n, #rows))
  return
end
print(string.format("%d row(s): %d change(s) made, %d failed", #rows, n - failed, failed))
if failed > 0 then
  error(string.format("%d change(s) failed: run the script again to finish", failed), 0)
end
