-- Error values: fields, one-line tostring, carried unchanged by error/pcall/assert.
local wandb = require("wandb")

local u, err = wandb.user("nobody@example.com")
eq(u, nil, "result")
eq(type(err), "userdata", "type(err)")
eq(err.code, "not_found", "code")
eq(err.op, "user", "op")
eq(err.status, nil, "status")
eq(type(err.message), "string", "message type")
eq(err.candidates, nil, "candidates")
eq(tostring(err), "wandb: user: " .. err.message, "tostring")
ok(not tostring(err):find("\n"), "tostring is one line")
eq("failed: " .. err, "failed: " .. tostring(err), "concatenation")

-- error(err) and pcall carry the value unchanged.
local good, caught = pcall(error, err)
eq(good, false, "pcall(error, err)")
ok(rawequal(caught, err), "pcall returns the same value")
good, caught = pcall(function() error(err) end)
ok(rawequal(caught, err), "error(err) inside a function")

-- assert(wandb.user(x)) raises the error value itself.
good, caught = pcall(function() assert(wandb.user("nobody@example.com")) end)
eq(good, false, "assert of a failed lookup")
is_err(caught, "not_found", nil, "assert's error")

-- assert keeps its usual behaviour otherwise.
good, caught = pcall(function() assert(false, "plain message") end)
ok(caught:find("plain message$"), "assert with a string: " .. caught)
good, caught = pcall(function() assert(nil) end)
ok(caught:find("assertion failed!$"), "assert without message: " .. caught)
local a, b, c = assert(1, 2, 3)
eq(a + b + c, 6, "assert returns its arguments")
local t = {}
good, caught = pcall(function() assert(false, t) end)
ok(rawequal(caught, t), "assert with a table message raises the table")

-- HTTP errors carry the status.
local dup, err2 = wandb.create_user("bob@example.com")
is_err(err2, "conflict", 409)
ok(tostring(err2):find("(HTTP 409)", 1, true), "tostring names the status: " .. tostring(err2))

-- Error values are read-only and have no other fields.
local msg = raises("wandb.Error is read-only (cannot set field 'code')", function() err.code = "x" end)
raises("wandb.Error has no field 'cod' (it has code, message, status, op, candidates)", function() return err.cod .. "" end)
