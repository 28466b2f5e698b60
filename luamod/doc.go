// Package luamod is the Lua module "wandb" for gopher-lua: W&B user and
// API-key administration from Lua scripts, on top of package wandb.
//
// Register it in an LState with the gopher-lua idiom:
//
//	L.PreloadModule("wandb", luamod.Loader(client))
//
// and a script uses it as
//
//	local wandb = require("wandb")
//	local me = assert(wandb.viewer())
//	print(me.email, #me.api_keys)
//
// [Loader] builds the module table: the network functions viewer, user,
// users (with {status = true}, each user's standing from SCIM), create_user,
// team, teams and create_team use the client given to Loader;
// wandb.api{api_key = ..., base_url = ..., max_response = ...} returns an
// api object for another identity (max_response: the largest answer it
// reads, e.g. "1GiB"), with the same functions as methods; wandb.parallel
// runs a function over an array with requests in flight at once (at most
// the client's wandb.Config.MaxInFlight for the client and the api objects
// for its server together, however parallel calls nest);
// wandb.write_private writes a file only its owner can read, for secrets;
// wandb.csv reads and writes CSV files (read, parse, write, format) and
// wandb.json encodes, decodes and writes JSON (encode, decode, write,
// null, array, object). The module table is strict: reading, calling or
// setting a name it does not have raises an error listing the names it
// has.
// Users are read-only userdata with fields (id, name, username, email,
// instance_admin (and admin, its older name), entity, deleted_at,
// api_keys, keys, teams, user_api; active,
// created_at, days_active and last_active_at, nil unless listed by
// users(q, {status = true})) and the methods
// generate_api_key, delete_api_key and, over W&B's SCIM API, status,
// deactivate, reactivate, delete and set_role. Teams have a name, an id,
// members and the methods reload, invite, create_service_account,
// add_member, remove_member and set_role, which take a person as a User, a
// Member, an email or a username, and a role as a string ("admin",
// "member", "viewer", a custom role; true and false still mean "admin"
// and "member"); Members have id, name, username, email, role, team_admin
// (and admin, its older name), pending, account_type, api_key (only on
// the Member create_service_account returned) and team, and the method
// delete. luamod/README.md has the whole reference.
//
// A failure a script should handle (the network, the server, a user not
// found) returns nil, err; a success returns the result alone (false, err for the methods that return true on
// success: delete_api_key, reload, delete, deactivate, ...). err is a
// userdata with the fields code, message, status, op (the name the script
// called, such as "delete" for u:delete()) and candidates;
// tostring(err) gives one line and error(err) raises it unchanged. A
// programming mistake (a wrong argument type, a method called with "."
// instead of ":") raises at once, in Lua's standard wording.
//
// Loading the module makes the LState's global assert pass a message that
// is not a string through unchanged, as Lua 5.2 does, so that
// assert(wandb.user(x)) raises err itself: gopher-lua's assert would
// instead fail with "bad argument #2 to assert (string expected, got
// userdata)" and hide the error. It also makes the global pairs honour a
// __pairs metamethod, as Lua 5.2 does, so that pairs(u) goes through a
// User's fields (a Team's, a Member's, ...; never a secret such as a
// service account's api_key). Both take effect when require("wandb")
// runs. The module changes no other global.
//
// # Exploring
//
// [Describe] lists a value's fields and methods, one line each, from the
// editor definitions ([Definitions]); [Members] gives their names, for
// completion; [Inspect] writes a value for a person at a prompt, tables
// two levels deep and the module's values with their fields, never a
// secret. wandb-lua's prompt uses them for help(x), Tab and results.
//
// # Files
//
// wandb.csv.write and wandb.json.write write reports, also in a dry run;
// wandb.write_private writes secrets, and in a dry run (which has none)
// writes nothing and returns false, "dry run: <path> not written". None
// of them is a change to W&B: they are not recorded or refused as one.
//
// # Concurrency
//
// wandb.parallel runs each item on its own goroutine, in its own thread
// (L.NewThread), and hands one mutex per LState family between them: Lua
// runs only while holding it, and a network call releases it for the time
// of its request, which touches no Lua value. So a request made anywhere
// in an item's code (inside pcall, a metamethod, an iterator, a callback of
// table.sort, a required module, a coroutine of the script's own, or a
// nested wandb.parallel) overlaps with the other items' requests, while
// the Lua code itself never runs on two goroutines at once, as gopher-lua
// requires. Outside wandb.parallel the functions simply block.
//
// # Errors reaching Go
//
// gopher-lua's *lua.ApiError shows a raised value with its String method,
// which for the module's error values and wandb.parallel's failure records
// is only "userdata: 0x…" or "table: 0x…", and it has no Unwrap. Pass the
// error of L.DoString, L.DoFile or a protected call to [WrapError] to get a
// [ScriptError] that prints as the script would see it and from which
// errors.As extracts the *wandb.Error.
//
// Every request uses the LState's context (L.Context()), so a deadline or
// a cancellation set with L.SetContext stops a request in flight. The
// module keeps no global state: metatables live in each LState's registry,
// and two LStates with two clients share nothing.
//
// # Deadlines, limits and untrusted scripts
//
// gopher-lua looks at the context between two instructions of its VM and
// nowhere else: a function written in Go runs to its end. A deadline
// therefore stops the VM and a request in flight, but not, on its own,
// the string library, where a pattern can backtrack for ever, string.rep
// can build gigabytes and gopher-lua's gsub copies its subject for every
// match; and tail calls, which the VM makes without growing its call
// stack, make the traceback of the error that ends them as long as their
// number. [SetLimits] replaces string.find, match, gmatch, gsub, rep and
// format and table.concat with versions that look at the context as they
// run (Lua 5.1's matching algorithm, in time linear in the subject for
// gsub and gmatch), and bounds strings ([Limits].MaxString) and levels of
// calls, tail calls included (MaxCallLevels); [SetContext] gives a state
// its context with checks of those limits between instructions. What
// neither can stop: the other Go functions that take time in proportion
// to their input (table.sort of a huge table), and the memory a script
// allocates in tables. [NewSandbox] uses both, with limits of its own and
// an embedder's caps on what wandb.api and wandb.parallel may ask for;
// for a script you do not trust, run it in a process of its own, under a
// memory limit and a deadline that ends the process.
package luamod
