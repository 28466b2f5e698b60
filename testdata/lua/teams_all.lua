-- wandb.teams(): every team, each as wandb.team loads it (seed:
-- ml-research, alice its admin, dave invited; platform, carol its admin).
local wandb = require("wandb")

local teams = assert(wandb.teams())
local names = {}
for i, t in ipairs(teams) do
  names[i] = t.name
  local one = assert(wandb.team(t.name))
  ok(one == t, t.name .. " compares equal to wandb.team's")
  eq(#t.members, #one.members, t.name .. " members")
  for j, m in ipairs(t.members) do
    local o = one.members[j]
    eq(m.id, o.id, t.name .. " member " .. j .. " id")
    eq(m.admin, o.admin, t.name .. " member " .. j .. " admin")
    eq(m.pending, o.pending, t.name .. " member " .. j .. " pending")
  end
end
eq(table.concat(names, ","), "ml-research,platform", "teams in the order SCIM lists them")
eq(getmetatable(teams[1]), getmetatable(assert(wandb.team("platform"))), "a Team")
local ml = teams[1].members
eq(ml[1].username, "alice", "ml-research's admin")
eq(ml[1].admin, true, "alice is its admin")
eq(ml[3].email, "dave@example.com", "dave's invite")
eq(ml[3].pending, true, "dave is invited")

-- A new team is listed too; a team's methods work on a listed Team.
local vision = assert(wandb.create_team("vision"))
teams = assert(wandb.teams())
eq(#teams, 3, "teams after create_team")
eq(teams[3].name, "vision", "the new team, last")
assert(teams[3]:add_member(assert(wandb.user("bob@example.com"))))
assert(vision:reload())
eq(#vision.members, 2, "a member added through a listed Team")

-- Through an api object, and a failure.
local api = assert(wandb.api({ api_key = test.key_for("carol@example.org") }))
eq(#assert(api:teams()), 3, "api:teams()")
test.fail_next("SCIMListGroups", 403)
local none, err = wandb.teams()
eq(none, nil, "no teams when SCIM fails")
is_err(err, "forbidden", 403)
