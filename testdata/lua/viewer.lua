-- wandb.viewer() returns the User the key belongs to, with every field.
local wandb = require("wandb")

local me = assert(wandb.viewer())
eq(tostring(me), "<User admin@example.com>", "tostring")
eq(me.email, "admin@example.com", "email")
eq(me.username, "admin", "username")
eq(me.admin, true, "admin")
eq(me.id, test.server_user("admin@example.com").id, "id")
eq(#me.api_keys, 1, "number of keys")
eq(#me.teams, 0, "number of teams")

-- The viewer is cached by the client: a second call sends nothing.
local n = test.requests("GetViewer")
local again = assert(wandb.viewer())
eq(again, me, "second viewer")
eq(test.requests("GetViewer"), n, "GetViewer requests after the second call")

eq(wandb.version, "0.1.0", "wandb.version")
