-- wandb.csv reads and writes CSV files as spreadsheets export them.
local wandb = require("wandb")
local csv = wandb.csv

-- A file as Excel saves it: a byte-order mark, CRLF, quoted fields with
-- commas, quotes and line breaks, an empty line and an empty row.
local rows, columns, lines = csv.read(test.testdata .. "/csv/excel.csv")
ok(rows, "read: " .. tostring(columns))
eq(table.concat(columns, "|"), "email|name|admin", "columns (no BOM in the first)")
eq(#rows, 3, "rows")
eq(rows[1].email, "erin@example.com", "row 1 email")
eq(rows[1].name, "Erin, Jr.", "quoted comma")
eq(rows[2].name, 'Frank "F" Smith', "doubled quotes")
eq(rows[2].admin, "TRUE", "values are strings, as written")
eq(rows[3].name, "multi\nline", "a line break in a quoted field")
eq(rows[3].admin, "", "an empty field")
eq(table.concat(lines, ","), "2,4,6", "lines where the rows start")

-- Strings too, with options.
rows, columns = csv.parse("a;b\n1;2\n", { separator = ";" })
eq(rows[1].b, "2", "separator")
rows, columns, lines = csv.parse("  email , name\nx@y.z,X\n")
eq(columns[1] .. "|" .. columns[2], "email|name", "header names are trimmed")
rows = csv.parse("email\n")
eq(#rows, 0, "a header alone is no rows")

-- Failures name the input and the line.
fails("csv text:3: 3 fields, but the header (line 1) has 2", csv.parse("a,b\n1,2\n1,2,3\n"))
fails("csv text:2: extraneous or missing \" in quoted-field", csv.parse('a,b\n"1,2\n'))
fails("csv text:1: the header has column 'a' twice", csv.parse("a,a\n"))
fails("csv text:1: column 2 of the header has no name", csv.parse("a,,c\n1,2,3\n"))
fails("csv text: no header line", csv.parse("\n\n"))
fails("users.csv:1: no 'email' column (the columns are: mail, admin)", csv.parse("mail,admin\n", { required = { "email" }, name = "users.csv" }))

-- Header names match case-insensitively (an HR export's "Email"): rows
-- are keyed, and columns given, in lower case; exact_headers keeps them.
rows, columns = csv.parse("Email,FULL Name,Admin\nx@y.z,X,yes\n", { required = { "email", "Full name" } })
eq(table.concat(columns, "|"), "email|full name|admin", "columns in lower case")
eq(rows[1].email .. "|" .. rows[1]["full name"] .. "|" .. rows[1].admin, "x@y.z|X|yes", "rows keyed in lower case")
eq(rows[1].Email, nil, "no key as written")
fails("csv text:1: the header has column 'email' twice", csv.parse("Email,EMAIL\n"))
rows, columns = csv.parse("Email,email\nx@y.z,a@b.c\n", { exact_headers = true })
eq(table.concat(columns, "|"), "Email|email", "exact_headers: as written")
eq(rows[1].Email .. "|" .. rows[1].email, "x@y.z|a@b.c", "exact_headers: rows keyed as written")
fails("csv text:1: no 'email' column (the columns are: Email)", csv.parse("Email\n", { required = { "email" }, exact_headers = true }))
raises("bad argument #2 to 'csv.parse' (exact_headers must be a boolean, got string)", function() csv.parse("a\n", { exact_headers = "yes" }) end)
fails("csv text: the file is UTF-16; save it as CSV UTF-8", csv.parse("\255\254e\0"))
local missing = test.temp_dir .. "/missing.csv"
fails(missing .. ": no such file or directory", csv.read(missing))

-- Writing: a header of the columns, then each row's values.
local text = csv.format({
  { email = "a@x.org", name = "A, B", admin = true, n = 3 },
  { email = "c@x.org", name = 'say "hi"', n = 1.5 },
  { email = "d@x.org", name = wandb.json.null, extra = "not written" },
}, { "email", "name", "admin", "n" })
eq(text, 'email,name,admin,n\na@x.org,"A, B",true,3\nc@x.org,"say ""hi""",,1.5\nd@x.org,,,\n', "format")
eq(csv.format({}, { "a" }, { separator = "\t" }), "a\n", "no rows")

-- What is written reads back the same, through a file only its owner can read.
local path = test.temp_dir .. "/out.csv"
local src = { { email = "e@x.org", note = "line\nbreak, \"quoted\"" } }
eq(csv.write(path, src, { "email", "note" }), true, "write")
eq(test.file_mode(path), "-rw-------", "mode")
rows = csv.read(path)
eq(rows[1].note, src[1].note, "round trip")
fails(test.temp_dir .. "/no/dir/x.csv: no such file or directory", csv.write(test.temp_dir .. "/no/dir/x.csv", src, { "email" }))

-- Programming mistakes raise.
raises("bad argument #1 to 'csv.read' (string expected, got nil)", function() csv.read(nil) end)
raises("bad argument #2 to 'csv.parse' (unknown option \"sep\" (known: \"separator\", \"required\", \"exact_headers\", \"name\"))", function() csv.parse("a", { sep = ";" }) end)
raises("bad argument #2 to 'csv.parse' (separator must be one character other than a quote or a line break)", function() csv.parse("a", { separator = ";;" }) end)
raises("bad argument #2 to 'csv.parse' (required[1] must be a string, got number)", function() csv.parse("a", { required = { 1 } }) end)
raises("bad argument #2 to 'csv.format' (columns must be an array of strings, got nil)", function() csv.format({}) end)
raises("bad argument #2 to 'csv.format' (columns must name at least one column)", function() csv.format({}, {}) end)
raises("bad argument #1 to 'csv.format' (row 2 is a string, not a table)", function() csv.format({ {}, "x" }, { "a" }) end)
raises("bad argument #1 to 'csv.format' (row 1, column 'a': a table cannot be a CSV field)", function() csv.format({ { a = {} } }, { "a" }) end)
raises("bad argument #3 to 'csv.format' (unknown option \"required\" (known: \"separator\"))", function() csv.format({}, { "a" }, { required = {} }) end)
raises("bad argument #1 to 'csv.format' (table expected, got string)", function() csv.format("x", { "a" }) end)
