-- Assertion helpers for the Lua tests (loaded before each script by
-- luamod/harness_test.go). They raise with level 3, which in gopher-lua
-- v1.1.2 names the line that called the helper (level 2 names the helper
-- itself there), so a failure points at the test's own line.

-- show formats a value for a failure message.
function show(v)
  if type(v) == "string" then
    return string.format("%q", v)
  end
  return tostring(v)
end

-- eq fails unless got == want.
function eq(got, want, what)
  if got ~= want then
    error(string.format("%s: got %s, want %s", what or "value", show(got), show(want)), 3)
  end
end

-- ok fails unless v is true-ish.
function ok(v, what)
  if not v then
    error((what or "condition") .. ": not true", 3)
  end
end

-- raises calls f, which must raise exactly want at the line where f is
-- defined (the line that made the bad call), and returns the error.
function raises(want, f)
  local good, err = pcall(f)
  if good then
    error("did not raise: " .. want, 3)
  end
  if type(err) ~= "string" then
    error("raised a " .. type(err) .. " value, not a message: " .. tostring(err), 3)
  end
  local info = debug.getinfo(f, "S")
  local full = info.source .. ":" .. info.linedefined .. ": " .. want
  if err ~= full then
    error(string.format("raised %s, want %s", show(err), show(full)), 3)
  end
  return err
end

-- is_err fails unless err is a wandb error value with the given code (and
-- status, if given; nil means "no status").
function is_err(err, code, status, what)
  what = what or "err"
  if type(err) ~= "userdata" then
    error(string.format("%s: got %s, want a wandb error", what, show(err)), 3)
  end
  if err.code ~= code then
    error(string.format("%s.code: got %s, want %s (%s)", what, show(err.code), show(code), tostring(err)), 3)
  end
  if err.status ~= status then
    error(string.format("%s.status: got %s, want %s", what, show(err.status), show(status)), 3)
  end
end

-- sorted returns the strings of array t, sorted, joined by ",".
function sorted(t)
  local c = {}
  for i, v in ipairs(t) do c[i] = v end
  table.sort(c)
  return table.concat(c, ",")
end

-- map returns the array f(x) for each x in t.
function map(t, f)
  local r = {}
  for i, v in ipairs(t) do r[i] = f(v) end
  return r
end

-- fails checks the results of a call that failed as Lua's io functions
-- do: nil and the message want.
function fails(want, ...)
  local r, msg = ...
  if r ~= nil then
    error(string.format("got %s, want nil and %s", show(r), show(want)), 3)
  end
  if msg ~= want then
    error(string.format("message: got %s, want %s", show(msg), show(want)), 3)
  end
end
