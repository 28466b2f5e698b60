-- wandb.create_user(email[, admin]) creates a user; admin defaults to false.
local wandb = require("wandb")

local u = assert(wandb.create_user("new.person@example.com"))
eq(u.email, "new.person@example.com", "email")
eq(u.username, "new.person", "username")
eq(u.admin, false, "admin by default")
local s = test.server_user("new.person@example.com")
ok(s, "the server has the user")
eq(s.id, u.id, "id")
eq(s.admin, false, "admin on the server")

local root = assert(wandb.create_user("root@example.com", true))
eq(root.admin, true, "admin when asked")
eq(test.server_user("root@example.com").admin, true, "admin on the server")

local plain = assert(wandb.create_user("plain@example.com", false))
eq(plain.admin, false, "admin false when given")

-- The new user can be found right away.
eq(assert(wandb.user("new.person@example.com")), u, "found after creation")

-- An existing email: conflict, with the server's text kept.
local dup, err = wandb.create_user("bob@example.com")
eq(dup, nil, "duplicate")
is_err(err, "conflict", 409)
ok(err.message:find("already exists", 1, true), "server's text kept: " .. err.message)

-- A malformed email is refused before anything is sent.
local n = test.requests()
local bad, err2 = wandb.create_user("not-an-email")
eq(bad, nil, "malformed email")
is_err(err2, "invalid_argument", nil)
eq(test.requests(), n, "requests after a malformed email")
