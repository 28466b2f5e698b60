-- u.user_api is an api object for the identity that fetched u (as in the SDK).
local wandb = require("wandb")

local alice = assert(wandb.user("alice@example.com"))
local ua = alice.user_api
eq(ua.base_url, test.base_url, "base_url")
eq(assert(ua:viewer()).email, "admin@example.com", "user_api of a user fetched by the admin")

local bob_api = assert(wandb.api{ api_key = test.key_for("bob@example.com") })
local bob = assert(bob_api:viewer())
eq(assert(bob.user_api:viewer()).email, "bob@example.com", "user_api of bob's own viewer")

-- Each read is a new value for the same client: equal, and not equal to another identity's.
ok(alice.user_api == alice.user_api, "two reads of user_api are equal")
ok(alice.user_api ~= bob.user_api, "user_api of users fetched by different identities")
ok(bob.user_api == bob_api, "bob's user_api is the api that fetched him")
