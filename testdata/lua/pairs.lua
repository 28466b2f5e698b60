-- pairs goes through a module value's fields with a value, in the order
-- of the definitions, never its methods or a secret (Lua 5.2's __pairs).
local wandb = require("wandb")

local function names(v)
  local ks = {}
  for k, x in pairs(v) do
    ks[#ks + 1] = k
    ok(x ~= nil, "a nil value for " .. k)
  end
  return table.concat(ks, ",")
end

local dave = assert(wandb.user("dave@example.com"))
eq(names(dave), "id,name,username,email,instance_admin,admin,entity,api_keys,keys,teams,user_api,dry_run", "a User's fields")
for k, v in pairs(dave) do
  if type(v) ~= "table" then
    eq(v, dave[k], k)
  end
end
local listed = assert(wandb.users("dave", { status = true }))[1]
eq(names(listed), "id,name,username,email,instance_admin,admin,entity,api_keys,keys,teams,user_api,dry_run,active,created_at,days_active", "with status")

local t = assert(wandb.team("ml-research"))
eq(names(t), "name,id,members,dry_run,read_only_admin,private_only,default_access,storage_bytes,entity_type,code_saving_enabled", "a Team's fields")
eq(names(t.members[1]), "id,name,username,email,role,team_admin,admin,pending,account_type,team,dry_run", "a Member's fields")

-- A service account's key is read by name, never listed.
local bot = assert(t:create_service_account("pairs bot"))
ok(bot.api_key ~= nil, "the server gave the key")
for k, v in pairs(bot) do
  ok(k ~= "api_key" and v ~= bot.api_key, "pairs listed the key")
end

local _, err = wandb.user("nobody-at-all")
eq(names(err), "code,message,op", "an Error's fields")
eq(names(dave.user_api), "base_url", "an api object's fields")
eq(names(assert(wandb.plan{})), "changes", "a Plan's fields")

-- Tables are as before; other values are refused as Lua does.
local seen = 0
for _ in pairs({ a = 1, b = 2, 3 }) do seen = seen + 1 end
eq(seen, 3, "a table")
raises("bad argument #1 to pairs (table expected, got nil)", function() for _ in pairs(nil) do end end)
