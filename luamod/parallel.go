package luamod

import lua "github.com/yuin/gopher-lua"

// installParallel adds wandb.parallel to the module table mod.
// Placeholder until the scheduler lands (issue 4): it adds nothing yet.
func installParallel(L *lua.LState, mod *lua.LTable) {}
