-- generate_api_key returns a secret (on the viewer only); delete_api_key
-- removes a key by name and says false, err when it cannot.
local wandb = require("wandb")

local bob_api = assert(wandb.api{ api_key = test.key_for("bob@example.com") })
local bob = assert(bob_api:viewer())
local before = #bob.api_keys
eq(before, 2, "bob's keys: seeded and the test's")

local secret = assert(bob:generate_api_key("rotation"))
ok(#secret == 40 and secret:match("^[0-9a-f]+$"), "the secret is 40 hex characters")
eq(#bob.api_keys, before + 1, "keys after generating")
eq(#test.server_user("bob@example.com").keys, before + 1, "keys on the server after generating")
for _, name in ipairs(bob.api_keys) do
  ok(name ~= secret, "a listed key name equals the secret")
end

-- The new secret is a working key for bob.
local new_api = assert(wandb.api{ api_key = secret })
eq(assert(new_api:viewer()).email, "bob@example.com", "viewer with the new key")

-- A description is optional.
ok(assert(bob:generate_api_key()), "generate without description")
eq(#bob.api_keys, before + 2, "keys after the second generate")

-- Delete the seeded key: gone from the User and from the server.
local old = bob.api_keys[1]
eq(bob:delete_api_key(old), true, "delete")
for _, name in ipairs(bob.api_keys) do ok(name ~= old, "deleted key still listed") end
for _, name in ipairs(test.server_user("bob@example.com").keys) do ok(name ~= old, "deleted key still on the server") end

-- An unknown name: false, not_found, and no request.
local n = test.requests()
local done, err = bob:delete_api_key("no-such-key")
eq(done, false, "delete unknown")
is_err(err, "not_found", nil)
eq(err.op, "delete_api_key", "err.op")
eq(test.requests(), n, "requests after deleting an unknown name")

-- Deleting the same key twice: the second time it is unknown.
done, err = bob:delete_api_key(old)
eq(done, false, "second delete")
is_err(err, "not_found", nil)

-- generate_api_key on a user who is not the client's viewer is refused
-- without a mutation (the server would mint the key for the caller).
local alice = assert(wandb.user("alice@example.com"))
n = test.requests("GenerateApiKey")
local s, err2 = alice:generate_api_key("for alice")
eq(s, nil, "generate for another user")
is_err(err2, "invalid_argument", nil)
ok(err2.message:find("authenticate as that user (wandb.api{api_key = ...})", 1, true), "the message says how, in Lua: " .. err2.message)
ok(not err2.message:find("WithAPIKey", 1, true), "the message names no Go method: " .. err2.message)
eq(test.requests("GenerateApiKey"), n, "GenerateApiKey requests after generating for another user")
eq(#test.server_user("alice@example.com").keys, 2, "alice's keys on the server")

-- An admin may delete another user's key.
eq(alice:delete_api_key(alice.api_keys[1]), true, "admin deletes alice's key")
eq(#test.server_user("alice@example.com").keys, 1, "alice's keys after the admin deleted one")
