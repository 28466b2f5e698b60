-- A non-admin key: admin functions fail with forbidden; an unknown key with unauthorized.
local wandb = require("wandb")

local bob_api = assert(wandb.api{ api_key = test.key_for("bob@example.com") })
eq(assert(bob_api:viewer()).email, "bob@example.com", "bob's viewer")

local list, err = bob_api:users("example.com")
eq(list, nil, "users")
is_err(err, "forbidden", 403)
eq(err.op, "users", "err.op")

local u, err2 = bob_api:create_user("sneaky@example.com")
eq(u, nil, "create_user")
is_err(err2, "forbidden", 403)
eq(test.server_user("sneaky@example.com"), nil, "the user was not created")

local one, err3 = bob_api:user("alice@example.com")
eq(one, nil, "user")
is_err(err3, "forbidden", 403)
