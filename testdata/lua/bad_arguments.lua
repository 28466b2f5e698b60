-- Programming mistakes raise at once, in Lua's wording, at the line of the
-- bad call, and send nothing: luamod's TestBadInputLeavesServerUnchanged
-- runs this script and checks that the server got only the viewer request
-- below and that its users and keys did not change.
local wandb = require("wandb")

local me = assert(wandb.viewer())
local api = assert(wandb.api{ api_key = string.rep("0", 40) })
local fake_user = { id = me.id, email = me.email, api_keys = me.api_keys }
local n = test.requests()

-- Module functions: a string is needed.
raises("bad argument #1 to 'user' (string expected, got no value)", function() wandb.user() end)
raises("bad argument #1 to 'user' (string expected, got nil)", function() wandb.user(nil) end)
raises("bad argument #1 to 'user' (string expected, got number)", function() wandb.user(42) end)
raises("bad argument #1 to 'user' (string expected, got table)", function() wandb.user({ email = "alice@example.com" }) end)
raises("bad argument #1 to 'user' (string expected, got wandb.User)", function() wandb.user(me) end)
raises("bad argument #1 to 'user' (string expected, got boolean)", function() wandb.user(true) end)
raises("bad argument #1 to 'users' (string expected, got number)", function() wandb.users(1) end)
raises("bad argument #1 to 'users' (string expected, got table)", function() wandb.users({}) end)
raises("bad argument #1 to 'create_user' (string expected, got no value)", function() wandb.create_user() end)
raises("bad argument #1 to 'create_user' (string expected, got nil)", function() wandb.create_user(nil, true) end)
raises("bad argument #1 to 'create_user' (string expected, got table)", function() wandb.create_user({ email = "x@example.com" }) end)
raises([[bad argument #2 to 'create_user' (string expected (a role such as "admin" or "member"), got number)]], function() wandb.create_user("x@example.com", 1) end)
-- A role the organisation does not have is a failure to handle, found
-- before anything is sent.
local none, rerr = wandb.create_user("x@example.com", "true")
eq(none, nil, "an unknown role")
is_err(rerr, "invalid_argument", nil, "an unknown role")
ok(rerr.message:find([[unknown organisation role "true"]], 1, true), rerr.message)

-- wandb.api needs a table with a string api_key.
raises("bad argument #1 to 'api' (table expected, got no value)", function() wandb.api() end)
raises("bad argument #1 to 'api' (table expected, got string)", function() wandb.api(string.rep("0", 40)) end)
raises("bad argument #1 to 'api' (field api_key: string expected, got nil)", function() wandb.api{} end)
raises("bad argument #1 to 'api' (field api_key: string expected, got number)", function() wandb.api{ api_key = 1 } end)
raises("bad argument #1 to 'api' (field base_url: string expected, got boolean)", function() wandb.api{ api_key = "k", base_url = true } end)
raises([[bad argument #1 to 'api' (unknown field "apikey"; the fields are api_key, base_url and max_response)]], function() wandb.api{ apikey = "k" } end)
raises([[bad argument #1 to 'api' (field max_response: "lots" is not a size; use a number of bytes or a size such as "64MiB" or "1GiB")]],
  function() wandb.api{ api_key = "k", max_response = "lots" } end)
raises([[bad argument #1 to 'api' (field max_response: 1.5 is not a size; use a number of bytes or a size such as "64MiB" or "1GiB")]],
  function() wandb.api{ api_key = "k", max_response = 1.5 } end)
raises([[bad argument #1 to 'api' (field max_response: 0 is not a size; use a number of bytes or a size such as "64MiB" or "1GiB")]],
  function() wandb.api{ api_key = "k", max_response = 0 } end)
raises("bad argument #1 to 'api' (field max_response: number or string expected, got boolean)",
  function() wandb.api{ api_key = "k", max_response = true } end)

-- User methods called with "." instead of ":".
raises("bad argument #1 to 'generate_api_key' (wandb.User expected, got string; use u:generate_api_key(...) not u.generate_api_key(...))",
  function() me.generate_api_key("ci") end)
raises("bad argument #1 to 'generate_api_key' (wandb.User expected, got no value; use u:generate_api_key(...) not u.generate_api_key(...))",
  function() me.generate_api_key() end)
raises("bad argument #1 to 'delete_api_key' (wandb.User expected, got string; use u:delete_api_key(...) not u.delete_api_key(...))",
  function() me.delete_api_key(me.api_keys[1]) end)
raises("bad argument #1 to 'delete_api_key' (wandb.User expected, got wandb.api; use u:delete_api_key(...) not u.delete_api_key(...))",
  function() me.delete_api_key(api, "x") end)

-- A plain table where a User is expected.
raises("bad argument #1 to 'delete_api_key' (wandb.User expected, got table; a plain table is not a wandb.User: get one from wandb.user, wandb.users, wandb.viewer or wandb.create_user)",
  function() me.delete_api_key(fake_user, fake_user.api_keys[1]) end)
raises("bad argument #1 to 'generate_api_key' (wandb.User expected, got table; a plain table is not a wandb.User: get one from wandb.user, wandb.users, wandb.viewer or wandb.create_user)",
  function() me.generate_api_key(fake_user, "x") end)

-- User methods with bad arguments (numbered from 1 after the receiver, as Lua does for ":").
raises("bad argument #1 to 'delete_api_key' (string expected, got no value)", function() me:delete_api_key() end)
raises("bad argument #1 to 'delete_api_key' (string expected, got nil)", function() me:delete_api_key(nil) end)
raises("bad argument #1 to 'delete_api_key' (string expected, got number)", function() me:delete_api_key(1) end)
raises("bad argument #1 to 'delete_api_key' (string expected, got table)", function() me:delete_api_key(me.api_keys) end)
raises("bad argument #1 to 'generate_api_key' (string expected, got number)", function() me:generate_api_key(7) end)
raises("bad argument #1 to 'generate_api_key' (string expected, got table)", function() me:generate_api_key({}) end)

-- api methods called with "." or with bad arguments.
raises("bad argument #1 to 'viewer' (wandb.api expected, got no value; use api:viewer(...) not api.viewer(...))", function() api.viewer() end)
raises("bad argument #1 to 'user' (wandb.api expected, got string; use api:user(...) not api.user(...))", function() api.user("alice") end)
raises("bad argument #1 to 'users' (wandb.api expected, got table; a plain table is not a wandb.api: create one with wandb.api{api_key = ..., base_url = ...})",
  function() api.users({}) end)
raises("bad argument #1 to 'create_user' (wandb.api expected, got wandb.User; use api:create_user(...) not api.create_user(...))",
  function() api.create_user(me, "x@example.com") end)
raises("bad argument #1 to 'user' (string expected, got no value)", function() api:user() end)
raises("bad argument #1 to 'users' (string expected, got number)", function() api:users(5) end)
raises("bad argument #1 to 'create_user' (string expected, got nil)", function() api:create_user(nil) end)
raises([[bad argument #2 to 'create_user' (string expected (a role such as "admin" or "member"), got table)]], function() api:create_user("x@example.com", {}) end)

-- Misspelt fields and writes.
raises("wandb.User has no field 'delete_key' (it has id, name, username, email, instance_admin, admin, entity, deleted_at, api_keys, keys, teams, user_api, dry_run, active, created_at, days_active, last_active_at, generate_api_key, delete_api_key, deactivate, reactivate, delete, set_role, status)",
  function() me:delete_key("x") end)

eq(test.requests(), n, "requests after bad input")
