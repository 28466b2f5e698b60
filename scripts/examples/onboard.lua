#!/usr/bin/env wandb-lua
-- Onboarding: create the users listed in a CSV file, skipping those that
-- already exist, and print a summary. Needs an admin key. The file has a
-- header line with an "email" column and, optionally, an "admin" column
-- (true/yes/1 for an instance admin); see testdata/users.csv.
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

-- read_csv returns the rows of a simple CSV file (no quoted fields) as
-- tables keyed by the header's column names.
local function read_csv(file)
  local f = assert(io.open(file, "r"))
  local header, rows, n = nil, {}, 0
  for line in f:lines() do
    n = n + 1
    line = line:gsub("\r$", "")
    if line:match("%S") and not line:match("^%s*#") then
      local fields = {}
      for field in (line .. ","):gmatch("([^,]*),") do
        fields[#fields + 1] = field:match("^%s*(.-)%s*$")
      end
      if line:find('"', 1, true) then
        error(string.format("%s:%d: quoted fields are not supported", file, n), 0)
      end
      if not header then
        header = fields
      else
        local row = { line = n }
        for i, name in ipairs(header) do row[name] = fields[i] or "" end
        rows[#rows + 1] = row
      end
    end
  end
  f:close()
  if not header or not header[1] then
    error(file .. ": no header line", 0)
  end
  return rows
end

local truthy = { ["true"] = true, yes = true, ["1"] = true }

local rows = read_csv(path)

-- Each call runs on its own thread; while one waits for the server,
-- the others go on. The results come back in the order of rows.
local results = wandb.parallel(rows, function(row)
  if not row.email or row.email == "" then
    return { email = "(line " .. row.line .. ")", status = "failed", detail = "no email" }
  end
  local admin = truthy[(row.admin or ""):lower()] or false
  local u, err = wandb.create_user(row.email, admin)
  if u then
    return { email = row.email, status = "created", detail = admin and "admin" or nil }
  elseif err.code == "conflict" then
    return { email = row.email, status = "exists" }
  end
  return { email = row.email, status = "failed", detail = tostring(err) }
end, { concurrency = concurrency })

local count = { created = 0, exists = 0, failed = 0 }
for _, r in ipairs(results) do
  count[r.status] = count[r.status] + 1
  print(string.format("%-8s %s%s", r.status, r.email, r.detail and " (" .. r.detail .. ")" or ""))
end
print(string.format("%d created, %d already existed, %d failed", count.created, count.exists, count.failed))
if count.failed > 0 then
  error(string.format("%d user(s) could not be created", count.failed), 0)
end
