-- wandb.user(x) finds exactly one user by email or username, or says why not.
local wandb = require("wandb")

eq(assert(wandb.user("alice@example.com")).email, "alice@example.com", "by email")
eq(assert(wandb.user("carol")).email, "carol@example.org", "by username")
eq(assert(wandb.user("ALICE@Example.COM")).email, "alice@example.com", "case-insensitive")
-- "alice" is a substring of two users, but one has exactly that username.
eq(assert(wandb.user("alice")).email, "alice@example.com", "exact match wins")
-- One user contains "smith": that one.
eq(assert(wandb.user("smith")).email, "alice.smith@example.com", "single substring match")

local u, err = wandb.user("nobody@example.com")
eq(u, nil, "unknown user")
is_err(err, "not_found", nil)
eq(err.op, "user", "err.op")

-- Several matches and none exact: an error listing them, never the first.
u, err = wandb.user("example.com")
eq(u, nil, "ambiguous user")
is_err(err, "ambiguous", nil)
eq(#err.candidates, 5, "number of candidates")
ok(sorted(err.candidates):find("<User alice@example.com>", 1, true), "alice among the candidates")
