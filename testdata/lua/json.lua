-- wandb.json encodes and decodes JSON.
local wandb = require("wandb")
local json = wandb.json

-- Encoding: arrays, objects with sorted keys, integers without fractions.
eq(json.encode({ 1, 2, 3 }), "[1,2,3]", "array")
eq(json.encode({ b = 1, a = "x", c = true }), '{"a":"x","b":1,"c":true}', "object, sorted")
eq(json.encode({ n = 1.5, big = 2 ^ 40, neg = -3, tiny = 1e-7 }), '{"big":1099511627776,"n":1.5,"neg":-3,"tiny":1e-7}', "numbers")
eq(json.encode({ s = "<é>\n\"" }), '{"s":"<é>\\n\\""}', "strings are escaped, not HTML-escaped")
eq(json.encode({}), "[]", "an empty table is an array")
eq(json.encode(json.object()), "{}", "an empty object")
eq(json.encode(json.object({})), "{}", "json.object marks a table")
eq(json.encode({ list = json.array({}), v = json.null }), '{"list":[],"v":null}', "marks and null")
eq(json.encode(nil), "null", "nil")
eq(json.encode("x"), '"x"', "a string")
eq(json.encode({ a = { 1, { b = 2 } } }, { indent = 2 }), '{\n  "a": [\n    1,\n    {\n      "b": 2\n    }\n  ]\n}', "indent")
eq(json.encode({ 1 }, { indent = "\t" }), "[\n\t1\n]", "indent with a tab")

-- Decoding: marked tables, so that encoding again gives the same JSON.
local v = json.decode('{"users": [{"email": "a@x.org", "admin": false, "keys": []}], "meta": {}, "none": null, "n": 42}')
eq(v.users[1].email, "a@x.org", "nested value")
eq(v.users[1].admin, false, "false")
eq(v.none, json.null, "null is json.null")
eq(v.n, 42, "number")
eq(json.encode(v), '{"meta":{},"n":42,"none":null,"users":[{"admin":false,"email":"a@x.org","keys":[]}]}', "round trip keeps [] and {}")
eq(json.decode("[1, null, 3]")[2], json.null, "null keeps its place in an array")
eq(#json.decode("[1, null, 3]"), 3, "array length")
eq(json.decode(' "x" '), "x", "a bare string")
eq(tostring(json.null), "wandb.json.null", "tostring(null)")

-- Failures return nil and a message saying where.
fails("json.decode: line 2, column 10: invalid character '}' looking for beginning of object key string", json.decode('{"a": 1,\n  "b": 2,}'))
fails("json.decode: the text ends in the middle of a value", json.decode('{"a": [1, 2'))
fails("json.decode: no JSON value", json.decode("  "))
fails("json.decode: line 1, column 5: more after the value", json.decode("[1] [2]"))
local cyclic = { name = "x" }
cyclic.self = cyclic
fails("json.encode: $.self: the table contains itself", json.encode(cyclic))
fails("json.encode: $.list[2]: the string is not valid UTF-8", json.encode({ list = { "ok", "\255" } }))
fails("json.encode: $[\"a b\"]: nan has no JSON form", json.encode({ ["a b"] = 0 / 0 }))
fails("json.encode: $.f: cannot encode a function", json.encode({ f = print }))
fails("json.encode: $[1]: -inf has no JSON form", json.encode({ -1 / 0 }))
fails("json.encode: $: an array with a hole (item 3 is nil)", json.encode({ 1, 2, [4] = 4 }))
fails("json.encode: $: an array with a key that is not 1..n (0)", json.encode({ [0] = 1, 2 }))
fails("json.encode: $: an array with a key that is not 1..n (1.5)", json.encode({ [1.5] = 1 }))
fails("json.encode: $: a table with both string keys and array items", json.encode({ 1, a = 2 }))
fails("json.encode: $: an array with string keys", json.encode(json.array({ a = 1 })))
fails("json.encode: $: an object with a key that is not a string (1)", json.encode(json.object({ "x" })))
fails("json.encode: $: an array with a key that is not 1..n (boolean)", json.encode({ [true] = 1 }))
local me = assert(wandb.viewer())
fails("json.encode: $.who: cannot encode a wandb.User; build a table of the fields you want", json.encode({ who = me }))

-- Shared structure that is not a cycle is fine.
local shared = { 1 }
eq(json.encode({ a = shared, b = shared }), '{"a":[1],"b":[1]}', "shared table")

-- Programming mistakes raise.
raises("bad argument #1 to 'json.decode' (string expected, got nil)", function() json.decode(nil) end)
raises("bad argument #1 to 'json.encode' (value expected)", function() json.encode() end)
raises("bad argument #2 to 'json.encode' (indent must be an integer from 0 to 16 or a string of spaces and tabs)", function() json.encode({}, { indent = "x" }) end)
raises("bad argument #2 to 'json.encode' (unknown option \"pretty\" (known: \"indent\"))", function() json.encode({}, { pretty = true }) end)
raises("bad argument #1 to 'json.array' (the table has a metatable of its own)", function() json.array(setmetatable({}, {})) end)
raises("bad argument #1 to 'json.object' (table expected, got string)", function() json.object("x") end)

-- json.write writes the text and a line end to a file only its owner can
-- read; what encode refuses, it refuses the same way.
local path = test.temp_dir .. "/report.json"
eq(json.write(path, { users = { "a@x.org" }, count = 1 }, { indent = 2 }), true, "write")
local f = assert(io.open(path))
eq(f:read("*a"), '{\n  "count": 1,\n  "users": [\n    "a@x.org"\n  ]\n}\n', "content")
f:close()
eq(test.file_mode(path), "-rw-------", "mode")
eq(json.write(path, json.null), true, "rewrite")
f = assert(io.open(path))
eq(f:read("*a"), "null\n", "content after rewrite")
f:close()
fails("json.write: $.f: cannot encode a function", json.write(path, { f = print }))
fails(test.temp_dir .. "/no/dir/x.json: no such file or directory", json.write(test.temp_dir .. "/no/dir/x.json", {}))
raises("bad argument #2 to 'json.write' (value expected)", function() json.write(path) end)
raises("bad argument #1 to 'json.write' (string expected, got table)", function() json.write({}, {}) end)
raises("bad argument #3 to 'json.write' (unknown option \"pretty\" (known: \"indent\"))", function() json.write(path, {}, { pretty = true }) end)
