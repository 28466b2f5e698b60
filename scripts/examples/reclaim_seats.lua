#!/usr/bin/env wandb-lua
-- Seat reclaim: find the users inactive for DAYS days or more (a user
-- never active counts from the day it was created), write a report, and
-- deactivate them through a plan, so that under wandb-lua --dry-run the
-- plan shows exactly what a real run would do. People listed in the
-- protect file (a CSV file with an "email" column, named in any case)
-- are kept, and so are you and the users whose standing the server does
-- not show, or whose activity it does not show (neither when they were
-- last active nor when they were created): the report lists them. Needs an
-- admin key.
--
--   wandb-lua [--dry-run] scripts/examples/reclaim_seats.lua DAYS [--protect FILE] [--report FILE]
local wandb = require("wandb")

local days = tonumber(arg[1])
local protect_path, report_path = nil, "reclaim_seats.csv"
local i = 2
while arg[i] do
  if arg[i] == "--protect" and arg[i + 1] then
    protect_path = arg[i + 1]
  elseif arg[i] == "--report" and arg[i + 1] then
    report_path = arg[i + 1]
  else
    days = nil
    break
  end
  i = i + 2
end
if not days or days < 1 or days ~= math.floor(days) then
  error("usage: reclaim_seats.lua DAYS [--protect FILE] [--report FILE] (DAYS a whole number of days, 1 or more)", 0)
end

local protected = {}
if protect_path then
  local rows, message = wandb.csv.read(protect_path, { required = { "email" } })
  if not rows then error(message, 0) end
  for _, row in ipairs(rows) do
    -- Compared as sent: trimmed, in lower case (W&B compares emails so).
    protected[(wandb.check_email(row.email) or row.email):lower()] = true
  end
end

-- Days since 1970-01-01 of an RFC 3339 time ("2024-05-01T12:00:00Z").
local function day_of(ts)
  local y, m, d = ts:match("^(%d+)-(%d+)-(%d+)")
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * (m + (m > 2 and -3 or 9)) + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end
local today = math.floor(os.time() / 86400)

local users, err = wandb.users("", { status = true })
if not users then error(tostring(err), 0) end
if err then
  io.stderr:write("reclaim_seats.lua: " .. tostring(err) .. "\n")
end
local me = assert(wandb.viewer())
table.sort(users, function(a, b) return tostring(a) < tostring(b) end)

local report, desired = {}, { users = {} }
for _, u in ipairs(users) do
  local since, idle
  if u.last_active_at then
    since = u.last_active_at
  elseif u.created_at then
    since = u.created_at
  end
  if since then idle = today - day_of(since) end
  local action
  if u.active == nil then
    action = "standing not known"
  elseif not u.active then
    action = "deactivated already"
  elseif u == me then
    action = "you"
  elseif not idle then
    -- Active, but for how long idle is not known: kept, and reported.
    action = "activity not known"
  elseif idle < days then
    action = "active"
  elseif u.email and protected[u.email:lower()] then
    action = "protected"
  else
    action = "deactivate"
    desired.users[#desired.users + 1] = { email = u.email, active = false }
  end
  if action ~= "active" then
    report[#report + 1] = { email = u.email or u.username, last_active_at = u.last_active_at,
      created_at = u.created_at, days_active = u.days_active, idle_days = idle, action = action }
  end
end
local written, werr = wandb.csv.write(report_path, report, { "email", "last_active_at", "created_at", "days_active", "idle_days", "action" })
if not written then error(werr, 0) end
print(string.format("%d user(s) idle for %d day(s) or more; report: %s", #desired.users, days, report_path))

local plan = assert(wandb.plan(desired))
print(tostring(plan))
local failed = 0
for _, r in ipairs(plan:apply()) do
  if not r.ok then
    failed = failed + 1
    print(string.format("FAILED  %s %s: %s", r.op, r.target, tostring(r.err)))
  end
end
if wandb.dry_run then
  print(string.format("dry run: %d change(s) planned, nothing changed", #plan.changes))
  return
end
print(string.format("%d change(s) made, %d failed", #plan.changes - failed, failed))
if failed > 0 then
  error(string.format("%d change(s) failed: run the script again to finish", failed), 0)
end
