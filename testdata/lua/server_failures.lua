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

-- Data with a GraphQL error beside it: the script gets both, never the
-- error alone (for a key, that would lose the secret the server showed once).
local me = assert(wandb.viewer())
local minted = "0123456789abcdef0123456789abcdef01234567"
test.fail_next("GenerateApiKey", 200, '{"data":{"result":{"apiKey":{"id":"QXBpS2V5Ojk5","name":"' .. minted ..
  '","description":"ci"}}},"errors":[{"message":"audit log unavailable"}]}')
local secret, err5 = me:generate_api_key("ci")
eq(secret == minted, true, "the secret minted beside an error")
is_err(err5, "internal", 200)
test.fail_next("SearchUsers", 200, '{"data":{"users":{"edges":[{"node":{"id":"VXNlcjox","name":"A","username":"a","email":"a@x.org"}}]}},' ..
  '"errors":[{"message":"teams unavailable","path":["users","edges",0,"node","teams"]}]}')
local some, err6 = wandb.users("a")
eq(#some, 1, "the users beside an error")
is_err(err6, "internal", 200)
test.fail_next("DeleteApiKey", 200, '{"data":{"result":{"success":true}},"errors":[{"message":"audit log unavailable"}]}')
alice = assert(wandb.user("alice@example.com"))
eq(select("#", alice:delete_api_key(alice.api_keys[1])), 1, "a confirmed deletion is a success, whatever else the server says")

-- After the faults, things work again.
eq(assert(wandb.user("alice@example.com")).email, "alice@example.com", "after the faults")
