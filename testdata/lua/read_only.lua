-- Users and api objects are read-only, and a misspelt field is an error, not nil.
local wandb = require("wandb")

local u = assert(wandb.user("alice@example.com"))
raises("wandb.User is read-only (cannot set field 'email')", function() u.email = "x@example.com" end)
raises("wandb.User is read-only (cannot set field 'anything')", function() u.anything = 1 end)
raises("wandb.User has no field 'emial' (it has id, name, username, email, instance_admin, admin, entity, deleted_at, api_keys, keys, teams, user_api, dry_run, active, created_at, days_active, last_active_at, generate_api_key, delete_api_key, deactivate, reactivate, delete, set_role, status)",
  function() local x = u.emial end)
raises("wandb.User has no field 1 (it has id, name, username, email, instance_admin, admin, entity, deleted_at, api_keys, keys, teams, user_api, dry_run, active, created_at, days_active, last_active_at, generate_api_key, delete_api_key, deactivate, reactivate, delete, set_role, status)",
  function() local x = u[1] end)
eq(u.email, "alice@example.com", "email after the failed writes")

local api = assert(wandb.api{ api_key = string.rep("b", 40) })
raises("wandb.api is read-only (cannot set field 'base_url')", function() api.base_url = "http://evil.example" end)
raises("wandb.api has no field 'viewr' (it has base_url, viewer, user, users, create_user, team, teams, create_team, plan)", function() local x = api.viewr end)

-- The metatables cannot be reached from scripts.
eq(getmetatable(u), "wandb.User", "getmetatable(User)")
eq(getmetatable(api), "wandb.api", "getmetatable(api)")
