-- One vocabulary for people and roles: every Team method that means a
-- person takes a User, a Member, an email or a username; every role is a
-- string, with the booleans of older scripts still read; instance_admin
-- and team_admin are named apart; err.op is the name the script called
-- (seed: platform with carol as its admin, alice.smith and bob members;
-- ml-research with alice as its admin, alice.smith a member and dave
-- invited).
local wandb = require("wandb")

local function role_of(team, email)
  for _, m in ipairs(test.server_team(team).members) do
    if m.email == email then return m.role, m.pending end
  end
end

local t = assert(wandb.team("platform"))
local by_email = {}
for _, m in ipairs(t.members) do by_email[m.email] = m end

-- Members carry their role, and team_admin (admin, the older name).
local carol_m = by_email["carol@example.org"]
eq(carol_m.role, "admin", "an admin's role")
eq(carol_m.team_admin, true, "team_admin")
eq(carol_m.admin, true, "admin, the older name")
eq(by_email["bob@example.com"].role, "member", "a member's role")
eq(by_email["bob@example.com"].team_admin, false, "a member is no team admin")

-- Users carry instance_admin (admin, the older name): not a team's.
local carol = assert(wandb.user("carol@example.org"))
eq(carol.instance_admin, true, "instance_admin")
eq(carol.admin, true, "admin, the older name")
eq(assert(wandb.user("bob@example.com")).instance_admin, false, "not an instance admin")

-- t:set_role with a Member, then with a username; the Member's role shows
-- it, viewer included, until the server says otherwise.
eq(assert(t:set_role(by_email["bob@example.com"], "admin")), true, "set_role(Member)")
eq(role_of("platform", "bob@example.com"), "admin", "bob is a team admin")
eq(assert(t:set_role("bob", "viewer")), true, "set_role(username)")
eq(role_of("platform", "bob@example.com"), "viewer", "bob is a viewer")
for _, m in ipairs(t.members) do
  if m.email == "bob@example.com" then
    eq(m.role, "viewer", "t.members shows the role set")
    eq(m.team_admin, false, "and no team admin")
  end
end
eq(assert(t:reload()), true, "reload")
for _, m in ipairs(t.members) do
  if m.email == "bob@example.com" then eq(m.role, "viewer", "a reload keeps the role set") end
end

-- t:add_member with an email (the old boolean role still reads), then a
-- username with a string role, then a Member of another team.
eq(assert(t:add_member("Dave@EXAMPLE.com", true)), true, "add_member(email, true)")
eq(role_of("platform", "dave@example.com"), "admin", "dave added as an admin")
eq(assert(t:remove_member("dave@example.com")), true, "remove_member(email)")
eq(assert(t:add_member("dave", "member")), true, "add_member(username, role)")
eq(role_of("platform", "dave@example.com"), "member", "dave added as a member")
local ml = assert(wandb.team("ml-research"))
local alice_m
for _, m in ipairs(ml.members) do
  if m.email == "alice@example.com" then alice_m = m end
end
eq(assert(t:add_member(alice_m, "viewer")), true, "add_member(Member of another team)")
eq(role_of("platform", "alice@example.com"), "viewer", "alice added as a viewer")
eq(assert(t:remove_member(alice_m)), true, "remove_member(Member)")

-- Invitations: a role string, the old boolean; no other role.
local vision = assert(wandb.create_team("vision"))
local zed = assert(vision:invite("zed@example.com", "admin"))
eq(zed.team_admin, true, "invite(email, \"admin\")")
eq(zed.role, "admin", "the invitation's role")
eq(assert(vision:invite("bob", true)).role, "admin", "invite(username, true)")
eq(assert(vision:invite(carol, "member")).role, "member", "invite(User, \"member\")")
eq(assert(vision:invite(by_email["alice.smith@example.com"])).username, by_email["alice.smith@example.com"].username,
  "invite(Member) by username")
local sent = test.requests("CreateInvite")
local none, err = vision:invite("yan@example.com", "viewer")
eq(none, nil, "invite as a viewer")
is_err(err, "invalid_argument", nil, "invite as a viewer")
eq(err.op, "invite", "op")
ok(err.message:find("an invitation makes a team admin or a member", 1, true), err.message)
eq(test.requests("CreateInvite"), sent, "nothing sent")

-- A pending invitation to an address no user has names no user: where a
-- user is needed, that is said.
local no, e2 = vision:add_member(zed)
eq(no, false, "add_member(invitation to no user)")
is_err(e2, "not_found", nil, "add_member(invitation to no user)")
eq(e2.op, "add_member", "op")
ok(e2.message:find("is a pending invitation to zed@example.com, and no user has that address yet", 1, true), e2.message)
local nobody, e3 = t:set_role("nobody@example.com", "admin")
eq(nobody, false, "set_role(unknown email)")
is_err(e3, "not_found", nil)
eq(e3.op, "set_role", "set_role from a team, whatever package wandb calls it")

-- create_user: a role string, or the old boolean.
local admin_u = assert(wandb.create_user(" Root@EXAMPLE.com ", "admin"))
eq(admin_u.email, "Root@example.com", "the email trimmed, its domain lower-cased")
eq(admin_u.instance_admin, true, "create_user(email, \"admin\")")
eq(assert(wandb.create_user("old@example.com", true)).instance_admin, true, "create_user(email, true)")
local viewer = assert(wandb.create_user("watcher@example.com", "viewer"))
eq(test.server_user("watcher@example.com").viewer, true, "create_user(email, \"viewer\")")
local bad, e4 = wandb.create_user("sam.wu@acme-ml")
eq(bad, nil, "a domain without a dot")
is_err(e4, "invalid_argument", nil)
ok(e4.message:find([[the domain "acme-ml" has no dot]], 1, true), e4.message)

-- err.op is the name the script called.
local tmp = assert(wandb.create_user("tmp@example.com"))
assert(tmp:delete())
local gone, e5 = tmp:delete()
eq(gone, false, "deleted twice")
is_err(e5, "not_found", nil)
eq(e5.op, "delete", "u:delete() gives op delete")
ok(tostring(e5):find("wandb: delete: ", 1, true), tostring(e5))
local m = assert(vision:invite("temp@example.com"))
assert(m:delete())
local twice, e6 = m:delete()
eq(twice, false, "withdrawn twice")
eq(e6.op, "delete", "m:delete() gives op delete")
test.fail_next("GetTeamEntity", 500, '{"errors":[{"message":"boom"}]}')
local reloaded, e7 = vision:reload()
eq(reloaded, false, "a failed reload")
eq(e7.op, "reload", "t:reload() gives op reload")

-- wandb.check_email: the address as sent, or what is wrong with it.
eq(wandb.check_email("  Sam.Wu@Acme.COM\t"), "Sam.Wu@acme.com", "check_email")
local no_dot, e8 = wandb.check_email("sam.wu@acme-ml")
eq(no_dot, nil, "a domain without a dot")
is_err(e8, "invalid_argument", nil)
eq(e8.op, "check_email", "op")
ok(e8.message == [[invalid email address "sam.wu@acme-ml": the domain "acme-ml" has no dot; want a full domain such as "acme-ml.com"]], e8.message)
local _, e9 = wandb.check_email("Sam <sam@example.com>")
is_err(e9, "invalid_argument", nil)
raises("bad argument #1 to 'check_email' (string expected, got nil)", function() wandb.check_email(nil) end)
