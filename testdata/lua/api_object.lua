-- wandb.api{api_key=..., base_url=..., max_response=...} is another identity with the same functions.
local wandb = require("wandb")

local key = test.key_for("bob@example.com")
local api = assert(wandb.api{ api_key = key })
eq(api.base_url, test.base_url, "base_url defaults to the module's server")
eq(tostring(api), "<wandb.Client " .. test.base_url .. ">", "tostring")
ok(not tostring(api):find(key, 1, true), "tostring shows no key")
eq(assert(api:viewer()).email, "bob@example.com", "viewer")

local with_url = assert(wandb.api{ api_key = key, base_url = test.base_url .. "/" })
eq(with_url.base_url, test.base_url, "trailing slash stripped")
eq(assert(with_url:viewer()).email, "bob@example.com", "viewer with an explicit base_url")

-- Methods other than viewer, as bob (not an admin): users is forbidden.
local list, err = api:users("example")
eq(list, nil, "users as a non-admin")
is_err(err, "forbidden", 403)

-- The admin's api works like the module.
local admin_api = assert(wandb.api{ api_key = test.key_for("admin@example.com"), base_url = test.base_url })
eq(assert(admin_api:user("carol")).email, "carol@example.org", "api:user")
eq(#assert(admin_api:users("alice")), 2, "api:users")
eq(assert(admin_api:create_user("api.made@example.com", true)).admin, true, "api:create_user")

-- Rejected settings: nil, err, and the key is never in the error.
local bad, err2 = wandb.api{ api_key = key, base_url = "ftp://example.com" }
eq(bad, nil, "ftp base_url")
is_err(err2, "invalid_argument", nil)
eq(err2.op, "api", "err.op")
ok(not tostring(err2):find(key, 1, true), "error shows no key")

local short, err3 = wandb.api{ api_key = "too-short" }
eq(short, nil, "malformed key")
is_err(err3, "invalid_argument", nil)
ok(not tostring(err3):find("too-short", 1, true), "a short key is not in the error")

local bad_chars = string.rep("c", 40) .. "!"
local odd, err5 = wandb.api{ api_key = bad_chars }
eq(odd, nil, "key with a bad character")
is_err(err5, "invalid_argument", nil)
ok(not tostring(err5):find(string.rep("c", 20), 1, true), "a malformed key is not in the error")
ok(not err5.message:find(string.rep("c", 20), 1, true), "a malformed key is not in err.message")

-- A well-formed key the server does not know: the request is refused.
local stranger = assert(wandb.api{ api_key = string.rep("a", 40) })
local me, err4 = stranger:viewer()
eq(me, nil, "viewer with an unknown key")
is_err(err4, "unauthorized", 401)
ok(not tostring(err4):find(string.rep("a", 20), 1, true), "the unauthorized error shows no key")

-- A key pasted into the base URL's path does not show in tostring.
local k = test.key_for("bob@example.com")
local pasted = assert(wandb.api{ api_key = k, base_url = test.base_url .. "/" .. k })
ok(not tostring(pasted):find(k, 1, true), "tostring(api) shows the key")
ok(tostring(pasted):find("[redacted]", 1, true), "tostring(api) says what it hid")
ok(not pasted.base_url:find(k, 1, true), "api.base_url shows the key")

-- max_response bounds the size of the answers it reads: users() of every
-- user is a few KiB here, so 1 KiB is too little, and the error says how
-- to raise the limit, in the module's words (wandb-lua says --max-response).
local small = assert(wandb.api{ api_key = test.key_for("admin@example.com"), max_response = 1024 })
local none, err6 = small:users()
eq(none, nil, "users() over max_response")
is_err(err6, "bad_response", 200)
ok(err6.message:find("larger than the limit of 1 KiB", 1, true), "the message names the limit: " .. err6.message)
ok(err6.message:find('raise the limit with wandb.api{api_key = ..., max_response = "1MiB"}', 1, true), "the message says how to raise it: " .. err6.message)
ok(tostring(err6):find(err6.message, 1, true), "tostring shows the message: " .. tostring(err6))
local roomy = assert(wandb.api{ api_key = test.key_for("admin@example.com"), max_response = "64MiB" })
ok(#assert(roomy:users()) > 3, "users() within max_response")
