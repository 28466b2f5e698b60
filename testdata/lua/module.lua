-- The module table is strict, results have exactly as many values as they
-- need, and User values show their keys' descriptions.
local wandb = require("wandb")

-- Reading or calling a name the module does not have raises, listing the
-- names it has.
local has = "api, check_email, create_team, create_user, csv, dry_run, json, parallel, plan, team, teams, user, users, version, viewer, write_private"
raises("wandb has no field 'create_users' (it has " .. has .. ")", function() wandb.create_users("a@x.org") end)
raises("wandb has no field 'usr' (it has " .. has .. ")", function() local _ = wandb.usr end)
raises("wandb has no field 'dry_rn' to set; the module's table is read-only", function() wandb.dry_rn = true end)
raises("wandb.csv has no field 'reed' (it has format, parse, read, write)", function() wandb.csv.reed("x") end)
raises("wandb.json has no field 'parse' (it has array, decode, encode, null, object, write)", function() wandb.json.parse("x") end)
eq(rawget(wandb, "no_such"), nil, "rawget finds out without raising")
eq(getmetatable(wandb), "wandb", "the metatable is protected")

-- A success is one value; a failure two.
eq(select("#", wandb.viewer()), 1, "values from viewer()")
eq(select("#", wandb.user("nobody-at-all")), 2, "values from a failed user()")
local me = wandb.viewer()
eq(select("#", me:delete_api_key("no-such-key")), 2, "values from a failed delete")

-- u.keys: each key's name and description; u.api_keys stays the names.
assert(me:generate_api_key("ci runner"))
me = assert(wandb.user(me.email, { exact = true }))
local described
for i, k in ipairs(me.keys) do
  eq(k.name, me.api_keys[i], "keys[" .. i .. "].name")
  if k.description == "ci runner" then described = k.name end
end
ok(described, "the new key's description is in u.keys")
