-- wandb.plan: a desired state in, the changes that bring the server there
-- out; tostring is the diff, p.changes the changes, p:apply makes them,
-- and a second plan of the same state is empty (seed: testdata/seed.json,
-- where dave has a pending invitation to ml-research as a member).
local wandb = require("wandb")

local desired = {
  users = { { email = "erin@example.com", admin = true }, { email = "bob@example.com" } },
  memberships = {
    { email = "dave@example.com", team = "ml-research", role = "admin" },
    { email = "erin@example.com", team = "vision" },
  },
  teams = { "vision" },
}
local p = assert(wandb.plan(desired))
eq(tostring(p), table.concat({
  "+ create_user erin@example.com admin=true (no such user)",
  "+ create_team vision admin=you (no such team)",
  "- delete_member dave@example.com from team ml-research (invited as member, wanted as admin)",
  "+ invite dave@example.com to team ml-research admin=true (again, as admin)",
  "+ invite erin@example.com to team vision admin=false (not a member or invited)",
}, "\n"), "the diff")
local changes = p.changes
eq(#changes, 5, "changes")
eq(changes[3].op, "delete_member", "op")
eq(changes[3].target, "dave@example.com", "target")
eq(changes[3].details, "from team ml-research", "details")
eq(changes[3].why, "invited as member, wanted as admin", "why")
eq(changes[3].team, "ml-research", "team")
eq(changes[2].team, "vision", "a team's creation concerns the team")
eq(changes[1].team, nil, "a user's creation concerns no team")

local results = p:apply({ concurrency = 2 })
eq(#results, 5, "results")
for i, r in ipairs(results) do
  ok(r.ok, "change " .. i .. " (" .. r.op .. "): " .. tostring(r.err))
end
eq(tostring(assert(wandb.plan(desired))), "no changes", "a second plan")

-- A failed change is reported in its result, the others go on.
local q = assert(wandb.plan({ users = { { email = "grace@example.org" } } }))
local r = q:apply()
eq(r[1].ok, true, "grace created")
eq(#assert(wandb.plan({ users = { { email = "grace@example.org" } } })).changes, 0, "grace there")

-- A state the server cannot reach: nil, err.
local none, err = wandb.plan({ memberships = { { email = "x@example.com", team = "no-such-team" } } })
eq(none, nil, "no plan")
is_err(err, "invalid_argument", nil)

-- Mistakes in the table raise.
raises("bad argument #1 to 'plan' (table expected, got string)", function() wandb.plan("x") end)
raises('bad argument #1 to \'plan\' (the desired state has an unknown field "user" (known: users, memberships, teams, withdraw, prune))',
  function() wandb.plan({ user = {} }) end)
raises("bad argument #1 to 'plan' (users[1].email must be a string, got nil)", function() wandb.plan({ users = { {} } }) end)
raises("bad argument #1 to 'plan' (users[1].admin must be a boolean or nil, got string)",
  function() wandb.plan({ users = { { email = "a@b.org", admin = "yes" } } }) end)
raises('bad argument #1 to \'plan\' (memberships[1] has an unknown field "rol" (known: email, team, role))',
  function() wandb.plan({ memberships = { { email = "a@b.org", team = "t", rol = "admin" } } }) end)
raises("bad argument #1 to 'plan' (prune must be a boolean, got number)", function() wandb.plan({ prune = 1 }) end)
-- Options are argument #1 of a call with ':', as for the other methods;
-- concurrency is checked as wandb.parallel checks it.
raises("bad argument #1 to 'apply' (concurrency must be an integer from 1 to 256, got 0)", function() p:apply({ concurrency = 0 }) end)
raises("bad argument #1 to 'apply' (concurrency must be a number, got string)", function() p:apply({ concurrency = "8" }) end)
raises([[bad argument #1 to 'apply' (unknown option "concurency" (known: "concurrency"))]], function() p:apply({ concurency = 2 }) end)
raises("bad argument #1 to 'apply' (table expected, got number)", function() p:apply(2) end)
raises("wandb.Plan has no field 'chnages' (it has changes, apply)", function() local _ = p.chnages end)
