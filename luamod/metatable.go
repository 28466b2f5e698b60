package luamod

import (
	"fmt"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// What the module's userdata types (User, Team, Member, Plan, api, Error)
// have in common.

// registerType creates the metatable of the module's userdata type name:
// index reads fields (with methods, the table of its methods, as its
// upvalue), writes are refused, .. concatenates as tostring would, and
// getmetatable returns name, so scripts cannot change the shared
// metatable. meta adds the type's other metamethods.
func registerType(L *lua.LState, name string, index lua.LGFunction, methods *lua.LTable, meta map[string]lua.LGFunction) {
	mt := L.NewTypeMetatable(name)
	mt.RawSetString("__index", L.NewClosure(index, methods))
	mt.RawSetString("__newindex", L.NewFunction(readOnly(name)))
	mt.RawSetString("__concat", L.NewFunction(concat))
	mt.RawSetString("__pairs", L.NewFunction(fieldPairs))
	L.SetFuncs(mt, meta)
	mt.RawSetString("__metatable", lua.LString(name))
}

// newValue returns a new userdata holding v, with the metatable
// registerType made for the type name typ: a Lua value of one of the
// module's types.
func newValue(L *lua.LState, typ string, v any) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = v
	L.SetMetatable(ud, L.GetTypeMetatable(typ))
	return ud
}

// toValue returns the Go value behind v, one of the module's values (the
// *wandb.Team of a Team, the *wandb.Client of an api object, ...): ok is
// false unless v is a userdata holding a non-nil *T.
func toValue[T any](v lua.LValue) (*T, bool) {
	if ud, ok := v.(*lua.LUserData); ok {
		p, ok := ud.Value.(*T)
		return p, ok && p != nil
	}
	return nil, false
}

// fieldPairs is the __pairs metamethod of the module's values (see
// installPairs): pairs(u) goes through u's fields with a value, in the
// order the definitions list them, leaving out its methods and any secret
// (a service account Member's api_key, which a script reads by name).
func fieldPairs(L *lua.LState) int {
	v := L.CheckAny(1)
	fields := dataFields(L, v)
	i := 0
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if i >= len(fields) {
			L.Push(lua.LNil)
			return 1
		}
		f := fields[i]
		i++
		L.Push(lua.LString(f.name))
		L.Push(f.value)
		return 2
	}))
	L.Push(v)
	L.Push(lua.LNil)
	return 3
}

// namedValue is a field of a module value and its value.
type namedValue struct {
	name  string
	value lua.LValue
}

// dataFields returns the fields of v, one of the module's userdata values,
// that have a value (not nil), in the order the definitions list them,
// without secrets. Reading a field makes no request.
func dataFields(L *lua.LState, v lua.LValue) []namedValue {
	c := classOf(L, v)
	if c == nil {
		return nil
	}
	var out []namedValue
	for _, name := range c.fields() {
		if secretFields[name] {
			continue
		}
		if x := L.GetField(v, name); x != lua.LNil {
			out = append(out, namedValue{name, x})
		}
	}
	return out
}

// installPairs replaces the global pairs, if there is one, by one that
// honours a __pairs metamethod (Lua 5.2 semantics), so that pairs(u) lists
// a User's fields; any other value is given to Lua's own pairs.
func installPairs(L *lua.LState) {
	next, ok := L.GetGlobal("next").(*lua.LFunction)
	if _, has := L.GetGlobal("pairs").(*lua.LFunction); !has || !ok {
		return
	}
	L.SetGlobal("pairs", L.NewFunction(func(L *lua.LState) int {
		if mm, ok := L.GetMetaField(L.Get(1), "__pairs").(*lua.LFunction); ok {
			L.Push(mm)
			L.Push(L.Get(1))
			L.Call(1, 3)
			return 3
		}
		// As Lua's own: next, t, nil.
		t := L.CheckTable(1)
		L.Push(next)
		L.Push(t)
		L.Push(lua.LNil)
		return 3
	}))
}

// identity returns a userdata type's __tostring and __eq: to reads the Go
// value from a Lua value of the type, unknown is what tostring shows for
// one that holds none, and same says when two values are the same thing
// (whichever call fetched them).
func identity[T fmt.Stringer](to func(lua.LValue) (T, bool), unknown string, same func(a, b T) bool) map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"__tostring": func(L *lua.LState) int {
			s := unknown
			if v, ok := to(L.Get(1)); ok {
				s = v.String()
			}
			L.Push(lua.LString(s))
			return 1
		},
		"__eq": func(L *lua.LState) int {
			a, okA := to(L.Get(1))
			b, okB := to(L.Get(2))
			L.Push(lua.LBool(okA && okB && same(a, b)))
			return 1
		},
	}
}

// key returns argument 2 of an __index metamethod when it is a string, or
// "" (which names no field).
func key(L *lua.LState) string {
	s, _ := L.Get(2).(lua.LString)
	return string(s)
}

// method returns the method k from the methods table of an __index
// metamethod (its upvalue 1), or raises the error for reading a field
// that typ, whose fields are fields, does not have (see noField).
func method(L *lua.LState, k, typ, fields string) lua.LValue {
	m := L.CheckTable(lua.UpvalueIndex(1)).RawGetString(k)
	if m == lua.LNil {
		noField(L, typ, fields)
	}
	return m
}

// noField raises the error for reading a field a value does not have. A
// typo such as u.emial must not silently read nil in an admin script.
func noField(L *lua.LState, typ, fields string) {
	raise(L, fmt.Sprintf("%s has no field %s (it has %s)", typ, quoteKey(L.Get(2)), fields))
}

func quoteKey(k lua.LValue) string {
	if s, ok := k.(lua.LString); ok {
		return "'" + string(s) + "'"
	}
	return k.String()
}

// readOnly returns a __newindex metamethod that refuses every write.
func readOnly(typ string) lua.LGFunction {
	return func(L *lua.LState) int {
		raise(L, fmt.Sprintf("%s is read-only (cannot set field %s)", typ, quoteKey(L.Get(2))))
		return 0
	}
}

// concat is the __concat metamethod of the module's values: both operands
// are converted as tostring would, so "user " .. u and "failed: " .. err
// work.
func concat(L *lua.LState) int {
	a, b := L.Get(1), L.Get(2)
	L.Push(lua.LString(concatPart(L, a) + concatPart(L, b)))
	return 1
}

func concatPart(L *lua.LState, v lua.LValue) string {
	switch v.(type) {
	case lua.LString, lua.LNumber:
		return v.String()
	case *lua.LUserData, *lua.LTable:
		if typeNameOf(L, v) != "" {
			return L.ToStringMeta(v).String()
		}
	}
	raise(L, "attempt to concatenate a "+v.Type().String()+" value")
	return ""
}

// typeNameOf returns the module type name of v, or "" if v is not one of
// the module's values: for a userdata, the name registerType (or
// NewTypeMetatable) registered its metatable under, which is also the
// metatable's __metatable; for a table, failureTypeName if it is a failure
// record.
func typeNameOf(L *lua.LState, v lua.LValue) string {
	switch x := v.(type) {
	case *lua.LUserData:
		mt, ok := x.Metatable.(*lua.LTable)
		if !ok {
			return ""
		}
		// Another userdata's metatable may have a __metatable too: the name
		// counts only if the module registered this metatable under it.
		name, ok := mt.RawGetString("__metatable").(lua.LString)
		if ok && L.GetTypeMetatable(string(name)) == mt {
			return string(name)
		}
	case *lua.LTable:
		if isFailureRecord(x) {
			return failureTypeName
		}
	}
	return ""
}

// stringArray returns a new Lua array of ss.
func stringArray(L *lua.LState, ss []string) *lua.LTable {
	t := L.CreateTable(len(ss), 0)
	for _, s := range ss {
		t.Append(lua.LString(s))
	}
	return t
}

// strict gives the module table t (named name in messages) a metatable
// that makes reading or writing a name it does not have an error listing
// the names it has: a typo such as wandb.create_users must not read nil
// and fail later with "attempt to call a nil value". It returns t.
func strict(L *lua.LState, t *lua.LTable, name string) *lua.LTable {
	names := func() string {
		var ks []string
		t.ForEach(func(k, _ lua.LValue) { ks = append(ks, k.String()) })
		sort.Strings(ks)
		return strings.Join(ks, ", ")
	}
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		raise(L, fmt.Sprintf("%s has no field %s (it has %s)", name, quoteKey(L.Get(2)), names()))
		return 0
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		raise(L, fmt.Sprintf("%s has no field %s to set; the module's table is read-only", name, quoteKey(L.Get(2))))
		return 0
	}))
	mt.RawSetString("__metatable", lua.LString(name))
	L.SetMetatable(t, mt)
	return t
}
