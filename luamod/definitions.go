package luamod

import _ "embed"

//go:embed types/wandb.lua
var definitions string

// Definitions returns the module's definition file for lua-language-server
// (LuaLS, "---@meta"): every function, field and type of the module with
// its documentation, for completion and type checks in editors. Save it as
// wandb.lua in a directory listed in LuaLS's workspace.library; wandb-lua
// prints it with "wandb-lua defs".
func Definitions() string { return definitions }
