-- wandb.write_private(path, text) writes a file only its owner can read.
local wandb = require("wandb")

local path = test.temp_dir .. "/secret.txt"
eq(wandb.write_private(path, "first\n"), true, "write")
local f = assert(io.open(path))
eq(f:read("*a"), "first\n", "content")
f:close()

-- Writing again replaces the content.
eq(wandb.write_private(path, "second"), true, "rewrite")
f = assert(io.open(path))
eq(f:read("*a"), "second", "content after rewrite")
f:close()
eq(test.file_mode(path), "-rw-------", "mode")

-- Failures return nil and a message, as io.open does.
local good, msg = wandb.write_private(test.temp_dir .. "/no/such/dir/x", "x")
eq(good, nil, "write into a missing directory")
ok(type(msg) == "string" and msg:find("no such file or directory", 1, true), "message: " .. tostring(msg))
good, msg = wandb.write_private("", "x")
eq(good, nil, "empty path")

raises("bad argument #2 to 'write_private' (string expected, got no value)", function() wandb.write_private(path) end)
raises("bad argument #1 to 'write_private' (string expected, got number)", function() wandb.write_private(1, "x") end)
