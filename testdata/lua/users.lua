-- wandb.users(query) returns an array of Users, maybe empty.
local wandb = require("wandb")

local email = function(u) return u.email end

local all = assert(wandb.users())
eq(#all, 6, "all users (no query)")
eq(#assert(wandb.users("")), 6, "all users (empty query)")

local com = assert(wandb.users("example.com"))
eq(sorted(map(com, email)),
  "admin@example.com,alice.smith@example.com,alice@example.com,bob@example.com,dave@example.com",
  "users matching example.com")

eq(sorted(map(assert(wandb.users("ALICE")), email)), "alice.smith@example.com,alice@example.com",
  "case-insensitive match")

local none = assert(wandb.users("no-such-user"))
eq(type(none), "table", "no match gives a table")
eq(#none, 0, "no match gives an empty table")

-- The users are full Users: keys and teams included.
for _, u in ipairs(all) do
  if u.email == "alice.smith@example.com" then
    eq(sorted(u.teams), "ml-research,platform", "teams of alice.smith")
    eq(#u.api_keys, 1, "keys of alice.smith")
  end
end

-- Every element is a User as user() returns one: the same type,
-- metatable and environment, methods and string form.
local bob = assert(wandb.user("bob@example.com"))
for i, u in ipairs(all) do
  local what = "users()[" .. i .. "]"
  eq(type(u), "userdata", what .. " is a userdata")
  eq(getmetatable(u), getmetatable(bob), what .. "'s metatable")
  ok(debug.getfenv(u) == debug.getfenv(bob), what .. "'s environment")
  eq(type(u.generate_api_key), "function", what .. "'s methods")
  eq(tostring(u), "<User " .. u.email .. ">", what .. "'s string form")
end
