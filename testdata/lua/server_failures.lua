-- Server failures reach the script as nil, err with the right code and status.
-- (The harness's client does not retry.)
local wandb = require("wandb")

test.fail_next("SearchUsers", 500, '{"errors":[{"message":"database on fire"}]}')
local u, err = wandb.user("alice@example.com")
eq(u, nil, "after a 500")
is_err(err, "internal", 500)
ok(err.message:find("database on fire", 1, true), "server text kept: " .. err.message)

test.fail_next("SearchUsers", 502, "<html><body><h1>502 Bad Gateway</h1></body></html>")
local list, err2 = wandb.users("alice")
eq(list, nil, "after a 502")
is_err(err2, "unavailable", 502)

test.fail_next("CreateUserFromAdmin", 429, '{"error":"slow down"}')
local c, err3 = wandb.create_user("later@example.com")
eq(c, nil, "after a 429")
is_err(err3, "rate_limited", 429)

test.fail_next("DeleteApiKey", 200, '{"data":{"result":{"success":false}}}')
local alice = assert(wandb.user("alice@example.com"))
local done, err4 = alice:delete_api_key(alice.api_keys[1])
eq(done, false, "delete not confirmed by the server")
ok(err4, "an error for success:false")
eq(#test.server_user("alice@example.com").keys, 2, "alice's keys are all still there")

-- After the faults, things work again.
eq(assert(wandb.user("alice@example.com")).email, "alice@example.com", "after the faults")
