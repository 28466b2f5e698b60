package luamod

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// Argument checking. gopher-lua's own ArgError names the function by the
// variable it was called through and leaves the name unquoted; these
// helpers name the public function and read as in standard Lua:
//
//	script.lua:3: bad argument #1 to 'user' (string expected, got nil)
//
// Argument n is at stack index n: a method removes its receiver first (see
// selfType.bind), which numbers the arguments after it from 1, as Lua does
// for calls with ":".

// argError raises "<pos> bad argument #n to 'fname' (msg)".
func argError(L *lua.LState, n int, fname, msg string) {
	raise(L, fmt.Sprintf("bad argument #%d to '%s' (%s)", n, fname, msg))
}

// raise raises msg prefixed with the position of the innermost Lua
// function on the stack (gopher-lua skips the Go frames), as error(msg)
// does in the script's code.
func raise(L *lua.LState, msg string) {
	L.RaiseError("%s", msg)
}

// typeName names the type of argument n as Lua's messages do ("no value"
// for a missing argument), and the module's values by their type names,
// e.g. "wandb.User".
func typeName(L *lua.LState, n int) string {
	if n > L.GetTop() {
		return "no value"
	}
	return valueTypeName(L, L.Get(n))
}

// checkString returns argument n, which must be a string; fname is the
// public function's name. Numbers are not converted: an email or a key
// name given as a number is a mistake.
func checkString(L *lua.LState, n int, fname string) string {
	if s, ok := L.Get(n).(lua.LString); ok {
		return string(s)
	}
	argError(L, n, fname, "string expected, got "+typeName(L, n))
	return ""
}

// optString is checkString for an optional argument: nil or absent gives
// def.
func optString(L *lua.LState, n int, fname, def string) string {
	if L.Get(n) == lua.LNil {
		return def
	}
	return checkString(L, n, fname)
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

// valueTypeName names v's type as typeName does.
func valueTypeName(L *lua.LState, v lua.LValue) string {
	if name := typeNameOf(L, v); name != "" {
		return name
	}
	return v.Type().String()
}

// forOptions calls set for each field of the options table at argument n
// of fname; nil or absent means no options. A key that is not a string,
// or for which set returns false, is an error listing known, the options
// there are (e.g. `"exact"`).
func forOptions(L *lua.LState, n int, fname string, set func(k string, v lua.LValue) bool, known string) {
	switch t := L.Get(n).(type) {
	case *lua.LNilType:
	case *lua.LTable:
		t.ForEach(func(k, v lua.LValue) {
			if s, ok := k.(lua.LString); !ok || !set(string(s), v) {
				argError(L, n, fname, "unknown option "+quoteLua(k)+" (known: "+known+")")
			}
		})
	default:
		argError(L, n, fname, "table expected, got "+typeName(L, n))
	}
}

// checkArray returns argument n of fname, which must be a table used as an
// array (it may be empty).
func checkArray(L *lua.LState, n int, fname string) *lua.LTable {
	t, ok := L.Get(n).(*lua.LTable)
	if !ok {
		argError(L, n, fname, "table expected, got "+typeName(L, n))
	}
	return t
}

// checkStringArray returns v, the value of field (or argument) what of
// argument n of fname, which must be an array of strings.
func checkStringArray(L *lua.LState, n int, fname, what string, v lua.LValue) []string {
	t, ok := v.(*lua.LTable)
	if !ok {
		argError(L, n, fname, what+" must be an array of strings, got "+valueTypeName(L, v))
	}
	out := make([]string, 0, t.Len())
	for i := 1; i <= t.Len(); i++ {
		s, ok := t.RawGetInt(i).(lua.LString)
		if !ok {
			argError(L, n, fname, fmt.Sprintf("%s[%d] must be a string, got %s", what, i, valueTypeName(L, t.RawGetInt(i))))
		}
		out = append(out, string(s))
	}
	return out
}

// checkBoolOption returns v, option k of the options at argument n of
// fname, which must be a boolean.
func checkBoolOption(L *lua.LState, n int, fname, k string, v lua.LValue) bool {
	b, ok := v.(lua.LBool)
	if !ok {
		argError(L, n, fname, k+" must be a boolean, got "+valueTypeName(L, v))
	}
	return bool(b)
}
