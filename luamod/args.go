package luamod

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// Argument checking. gopher-lua's own ArgError names the function by its
// call site, which for a network function is the shim ("prim"), and adds
// the shim's position. These helpers name the public function explicitly
// and report the position in the script that made the call, so a mistake
// reads as in standard Lua:
//
//	script.lua:3: bad argument #1 to 'user' (string expected, got nil)

// argError raises "<pos> bad argument #n to 'fname' (msg)".
func argError(L *lua.LState, n int, fname, msg string) {
	raise(L, fmt.Sprintf("bad argument #%d to '%s' (%s)", n, fname, msg))
}

// raise raises msg prefixed with the position of the nearest Lua frame
// that is neither a Go function nor one of the module's shims.
func raise(L *lua.LState, msg string) {
	L.Error(lua.LString(scriptPosition(L)+msg), 0)
}

// scriptPosition returns "source:line: " of the innermost frame that
// belongs to the script, or "" when there is none.
func scriptPosition(L *lua.LState) string {
	for level := 0; ; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			return ""
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
			return ""
		}
		if dbg.What == "G" || dbg.Source == shimSource || dbg.CurrentLine <= 0 {
			continue
		}
		return fmt.Sprintf("%s:%d: ", dbg.Source, dbg.CurrentLine)
	}
}

// typeName names the type of argument idx as Lua's messages do ("no
// value" for a missing argument), and the module's userdata by their type
// names, e.g. "wandb.User".
func typeName(L *lua.LState, idx int) string {
	if idx > L.GetTop() {
		return "no value"
	}
	v := L.Get(idx)
	if name := typeNameOf(v); name != "" {
		return name
	}
	return v.Type().String()
}

// checkString returns argument idx, which must be a string; n is the
// argument's number in messages and fname the public function name.
// Numbers are not converted: an email or a key name given as a number is
// a mistake.
func checkString(L *lua.LState, idx, n int, fname string) string {
	if s, ok := L.Get(idx).(lua.LString); ok {
		return string(s)
	}
	argError(L, n, fname, "string expected, got "+typeName(L, idx))
	return ""
}

// optString is checkString for an optional argument: nil or absent gives
// def.
func optString(L *lua.LState, idx, n int, fname, def string) string {
	if L.Get(idx) == lua.LNil {
		return def
	}
	return checkString(L, idx, n, fname)
}

// optBool returns optional boolean argument idx: nil or absent gives def;
// anything but a boolean is an error (Lua's truthiness would turn a typo
// such as "false" into true).
func optBool(L *lua.LState, idx, n int, fname string, def bool) bool {
	switch v := L.Get(idx).(type) {
	case lua.LBool:
		return bool(v)
	case *lua.LNilType:
		return def
	}
	argError(L, n, fname, "boolean expected, got "+typeName(L, idx))
	return def
}

// badSelf raises the error for method fname called on something that is
// not a want (e.g. "wandb.User"); kind is how the usage hint names the
// receiver ("u", "api") and tableHint says what to use instead of a plain
// table. The usual cause is a call with "." instead of ":".
func badSelf(L *lua.LState, want, kind, fname, tableHint string) {
	got := typeName(L, 1)
	msg := fmt.Sprintf("%s expected, got %s", want, got)
	if got == "table" {
		msg += "; a plain table is not a " + want + ": " + tableHint
	} else {
		msg += fmt.Sprintf("; use %s:%s(...) not %s.%s(...)", kind, fname, kind, fname)
	}
	argError(L, 1, fname, msg)
}
