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
-- The message names the path asked for (not a temporary file beside it).
local good, msg = wandb.write_private(test.temp_dir .. "/no/such/dir/x", "x")
eq(good, nil, "write into a missing directory")
eq(msg, test.temp_dir .. "/no/such/dir/x: no such file or directory", "message")
good, msg = wandb.write_private(test.temp_dir, "x")
eq(msg, test.temp_dir .. ": file exists", "message for a directory")
good, msg = wandb.write_private("", "x")
eq(good, nil, "empty path")

raises("bad argument #2 to 'write_private' (string expected, got no value)", function() wandb.write_private(path) end)
raises("bad argument #1 to 'write_private' (string expected, got number)", function() wandb.write_private(1, "x") end)
