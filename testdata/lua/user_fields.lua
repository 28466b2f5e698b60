-- A User's fields are plain Lua values, nil where the server gave null;
-- api_keys and teams are fresh arrays on each read.
local wandb = require("wandb")

local a = assert(wandb.user("alice@example.com"))
local s = test.server_user("alice@example.com")
eq(a.id, s.id, "id")
eq(a.name, "Alice Example", "name")
eq(a.username, "alice", "username")
eq(a.email, "alice@example.com", "email")
eq(a.admin, false, "admin")
eq(a.entity, "alice", "entity")
eq(a.deleted_at, nil, "deleted_at")
eq(table.concat(a.api_keys, ","), table.concat(s.keys, ","), "api_keys are the server's key names")
eq(table.concat(a.teams, ","), "ml-research", "teams")

-- Key names are not secrets: 20 characters of a 40-character secret.
for _, name in ipairs(a.api_keys) do
  eq(#name, 20, "length of a key name")
end

-- Each read is a new table: changing one changes nothing else.
local keys = a.api_keys
keys[1] = "changed"
table.insert(keys, "extra")
ok(a.api_keys[1] ~= "changed", "api_keys changed through an earlier read")
eq(#a.api_keys, 2, "number of keys after changing an earlier read")
local teams = a.teams
teams[1] = nil
eq(a.teams[1], "ml-research", "teams after changing an earlier read")
ok(rawequal(a.api_keys, a.api_keys) == false, "api_keys returns a fresh table")

-- create_user returns what the server's createUser gives: no entity, no keys, no teams.
local n = assert(wandb.create_user("fields@example.com"))
eq(n.entity, nil, "entity of a created user")
eq(#n.api_keys, 0, "keys of a created user")
eq(#n.teams, 0, "teams of a created user")
