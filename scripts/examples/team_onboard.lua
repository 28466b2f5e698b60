#!/usr/bin/env wandb-lua
-- Team onboarding: from a CSV file of email,team,role rows, create the users
-- and the teams that do not exist yet, invite each user to each team (role
-- "admin" makes a team admin; "member" or empty a member), and print a
-- summary. Needs an admin key. See testdata/team_members.csv.
-- Up to CONCURRENCY requests (default 8) are in flight at once.
--
--   wandb-lua scripts/examples/team_onboard.lua FILE.csv [--concurrency N]
local wandb = require("wandb")

local path = arg[1]
local concurrency = 8
if arg[2] == "--concurrency" then
  concurrency = tonumber(arg[3])
end
if not path or not concurrency then
  error("usage: team_onboard.lua FILE.csv [--concurrency N]", 0)
end

-- Check every row before changing anything.
local rows, columns, lines = wandb.csv.read(path, { required = { "email", "team" } })
if not rows then
  error(columns, 0) -- the message: file, line and what is wrong
end
local function trim(s)
  return (s or ""):match("^%s*(.-)%s*$")
end
local roles = { admin = true, member = false, [""] = false }
local emails, teams, seen = {}, {}, {}
for i, row in ipairs(rows) do
  local where = path .. ":" .. lines[i] .. ": "
  row.email, row.team, row.role = trim(row.email), trim(row.team), trim(row.role)
  if row.email == "" or row.team == "" then
    error(where .. "each row needs an email and a team", 0)
  end
  if roles[row.role] == nil then
    error(where .. "role must be admin, member or empty, not " .. string.format("%q", row.role), 0)
  end
  row.admin = roles[row.role]
  if not seen["user " .. row.email:lower()] then
    seen["user " .. row.email:lower()] = true
    emails[#emails + 1] = row.email
  end
  if not seen["team " .. row.team] then
    seen["team " .. row.team] = true
    teams[#teams + 1] = row.team
  end
end

-- Users: created, or there already.
local created = wandb.parallel(emails, function(email)
  local u, err = wandb.create_user(email)
  if not err then return true end
  -- There already, or there now after a lost answer (created now or before).
  if err.code == "conflict" or (err.code == "unknown_outcome" and u) then return false end
  error(err)
end, { concurrency = concurrency })
local new_users = 0
for i, email in ipairs(emails) do
  if created[i] then
    new_users = new_users + 1
    print("user     " .. email .. " created")
  end
end

-- Teams: looked up, or created with the caller as their admin.
local team_of, new_teams = {}, 0
local found = wandb.parallel(teams, function(name)
  local t, err = wandb.team(name)
  if t then return { team = t, new = false } end
  if err.code ~= "not_found" then error(err) end
  return { team = assert(wandb.create_team(name)), new = true }
end, { concurrency = concurrency })
for i, name in ipairs(teams) do
  team_of[name] = found[i].team
  if found[i].new then
    new_teams = new_teams + 1
    print("team     " .. name .. " created")
  end
end

-- Invitations, one per row, in the order of the file.
local results = wandb.parallel(rows, function(row)
  local m, err = team_of[row.team]:invite(row.email, row.admin)
  if m then return "invited" end
  if err.code == "conflict" then return "already" end
  return "failed: " .. tostring(err)
end, { concurrency = concurrency })

local count = { invited = 0, already = 0, failed = 0 }
for i, row in ipairs(rows) do
  local status = results[i]
  local kind = status:match("^(%a+)")
  count[kind] = count[kind] + 1
  print(string.format("%-8s %s to %s%s", kind, row.email, row.team, row.admin and " (admin)" or "")
    .. (kind == "failed" and (" " .. status:sub(9)) or ""))
end
print(string.format("%d user(s) and %d team(s) created; %d invited, %d already members or invited, %d failed",
  new_users, new_teams, count.invited, count.already, count.failed))
if count.failed > 0 then
  error(string.format("%d invitation(s) failed", count.failed), 0)
end
