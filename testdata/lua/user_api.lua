-- u.user_api is an api object for the identity that fetched u (as in the SDK).
local wandb = require("wandb")

local alice = assert(wandb.user("alice@example.com"))
local ua = alice.user_api
eq(ua.base_url, test.base_url, "base_url")
eq(assert(ua:viewer()).email, "admin@example.com", "user_api of a user fetched by the admin")

local bob_api = assert(wandb.api{ api_key = test.key_for("bob@example.com") })
local bob = assert(bob_api:viewer())
eq(assert(bob.user_api:viewer()).email, "bob@example.com", "user_api of bob's own viewer")
