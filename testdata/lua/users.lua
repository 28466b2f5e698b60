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
