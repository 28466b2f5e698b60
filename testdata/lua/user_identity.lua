-- tostring(u) is the SDK's repr; u == v compares ids; .. works on Users.
local wandb = require("wandb")

local a1 = assert(wandb.user("alice@example.com"))
local a2 = assert(wandb.user("alice"))
local bob = assert(wandb.user("bob@example.com"))

eq(tostring(a1), "<User alice@example.com>", "tostring")
ok(not rawequal(a1, a2), "two lookups give two values")
ok(a1 == a2, "the same user compares equal")
ok(a1 ~= bob, "different users compare unequal")
ok(a1 ~= "alice@example.com", "a User is not equal to a string")
ok(a1 ~= { id = a1.id }, "a User is not equal to a table with its id")

local found = false
for _, u in ipairs(assert(wandb.users("alice"))) do
  if u == a1 then found = true end
end
ok(found, "users() returns a value equal to user()")

eq("user " .. a1, "user <User alice@example.com>", "string .. User")
eq(a1 .. "!", "<User alice@example.com>!", "User .. string")

-- A user table keyed by user id works as a set.
local seen = { [a1.id] = true }
ok(seen[a2.id], "ids index tables")
