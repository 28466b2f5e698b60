package luamod

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Inspect: values as a prompt shows a result, readable instead of
// "table: 0x…": tables one or two levels deep, the module's values by
// tostring with their fields, never a secret.

// Bounds of what Inspect shows: an answer of users() may hold 200,000.
const (
	inspectDepth = 2  // levels of tables shown inside the value
	inspectItems = 50 // entries shown of one table
	inspectWidth = 76 // a table fits on one line up to this width
)

// Inspect returns v written for a person at a prompt. A string is itself;
// nil, booleans and numbers as tostring writes them. A table shows its
// entries, "{ 1, 2, name = "x" }", its array part first and then its
// other keys sorted, two levels deep ("{…}" below), at most 50 entries
// ("… 199950 more"), on one line when it fits and one entry per line
// otherwise; strings inside it are quoted in Go's syntax, so control
// characters show as escapes. A User, Team or Member shows its tostring
// and then its fields with a value, as pairs lists them; other values of
// the module (a Plan, an Error, an api object) and values whose metatable
// has __tostring show their tostring; the module's functions their names.
// No secret is shown: a value of the module writes itself (tostring
// redacts), and a service account's api_key is left out.
func Inspect(L *lua.LState, v lua.LValue) string {
	if s, ok := v.(lua.LString); ok {
		return string(s)
	}
	in := &inspector{L: L, seen: map[*lua.LTable]bool{}}
	switch typeNameOf(L, v) {
	case userTypeName, teamTypeName, memberTypeName:
		return L.ToStringMeta(v).String() + " " + in.fieldBlock(dataFields(L, v), 0)
	}
	return in.value(v, 0)
}

// inspector writes one value; seen holds the tables being written, to
// show a cycle instead of following it.
type inspector struct {
	L    *lua.LState
	seen map[*lua.LTable]bool
}

// value writes v at depth (0 for the value Inspect was given).
func (in *inspector) value(v lua.LValue, depth int) string {
	switch x := v.(type) {
	case lua.LString:
		if depth == 0 {
			return string(x)
		}
		return strconv.Quote(string(x))
	case lua.LNumber, lua.LBool, *lua.LNilType:
		return v.String()
	case *lua.LFunction:
		if c, e := functionEntry(in.L, x); e != nil {
			return "<function " + functionName(c, e) + ">"
		}
		return "<function>"
	case *lua.LTable:
		if typeNameOf(in.L, x) != "" || in.L.GetMetaField(x, "__tostring") != lua.LNil {
			return in.tostring(x, depth)
		}
		if c := classOf(in.L, x); c != nil && depth > 0 {
			return "<" + c.name + ">" // the module's tables, inside another
		}
		return in.table(x, depth)
	}
	// Userdata (the module's values and others), threads, channels.
	return in.tostring(v, depth)
}

// tostring writes v as tostring does; inside a table, only its first line
// (a Plan's diff has one per change).
func (in *inspector) tostring(v lua.LValue, depth int) string {
	s := in.L.ToStringMeta(v).String()
	if i := strings.IndexByte(s, '\n'); i >= 0 && depth > 0 {
		s = s[:i] + " …"
	}
	return s
}

// functionName is how a function of the catalogue is written:
// "wandb.users", "wandb.User:delete_api_key".
func functionName(c *defClass, e *defEntry) string {
	if e.method {
		return c.name + ":" + e.name
	}
	return c.name + "." + e.name
}

// table writes t's entries.
func (in *inspector) table(t *lua.LTable, depth int) string {
	if depth > inspectDepth {
		return "{…}"
	}
	if in.seen[t] {
		return "<cycle>"
	}
	in.seen[t] = true
	defer delete(in.seen, t)

	n := t.Len()
	var keys []lua.LValue
	t.ForEach(func(k, _ lua.LValue) {
		if f, ok := k.(lua.LNumber); ok && float64(f) == math.Trunc(float64(f)) && f >= 1 && int(f) <= n {
			return // in the array part
		}
		keys = append(keys, k)
	})
	sort.Slice(keys, func(i, j int) bool { return keyLess(keys[i], keys[j]) })

	var parts []string
	total := n + len(keys)
	for i := 1; i <= n && len(parts) < inspectItems; i++ {
		parts = append(parts, in.value(t.RawGetInt(i), depth+1))
	}
	for _, k := range keys {
		if len(parts) >= inspectItems {
			break
		}
		parts = append(parts, keyText(k)+" = "+in.value(t.RawGet(k), depth+1))
	}
	if total > len(parts) {
		parts = append(parts, fmt.Sprintf("… %d more", total-len(parts)))
	}
	return layout(parts, depth)
}

// fieldBlock writes the fields of a module value as a table's entries.
func (in *inspector) fieldBlock(fields []namedValue, depth int) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f.name + " = " + in.value(f.value, depth+1)
	}
	return layout(parts, depth)
}

// layout writes parts as a table at depth: on one line when that fits and
// no part spans lines, else one part per line.
func layout(parts []string, depth int) string {
	if len(parts) == 0 {
		return "{}"
	}
	one := "{ " + strings.Join(parts, ", ") + " }"
	if !strings.Contains(one, "\n") && len(one)+2*depth <= inspectWidth {
		return one
	}
	indent := strings.Repeat("  ", depth+1)
	var b strings.Builder
	b.WriteString("{\n")
	for _, p := range parts {
		b.WriteString(indent)
		b.WriteString(p)
		b.WriteString(",\n")
	}
	b.WriteString(strings.Repeat("  ", depth))
	b.WriteString("}")
	return b.String()
}

// keyText writes a table key: a name as it is, anything else in brackets.
func keyText(k lua.LValue) string {
	if s, ok := k.(lua.LString); ok {
		if isName(string(s)) {
			return string(s)
		}
		return "[" + strconv.Quote(string(s)) + "]"
	}
	return "[" + k.String() + "]"
}

// isName reports whether s is a Lua name (and no keyword), which can stand
// as a key without brackets.
func isName(s string) bool {
	if s == "" || luaKeywords[s] {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

var luaKeywords = map[string]bool{
	"and": true, "break": true, "do": true, "else": true, "elseif": true, "end": true, "false": true,
	"for": true, "function": true, "if": true, "in": true, "local": true, "nil": true, "not": true,
	"or": true, "repeat": true, "return": true, "then": true, "true": true, "until": true, "while": true,
}

// keyLess orders keys: numbers first, by value, then strings, then the
// rest by their text.
func keyLess(a, b lua.LValue) bool {
	rank := func(v lua.LValue) int {
		switch v.(type) {
		case lua.LNumber:
			return 0
		case lua.LString:
			return 1
		}
		return 2
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		return ra < rb
	}
	if x, ok := a.(lua.LNumber); ok {
		return x < b.(lua.LNumber)
	}
	return a.String() < b.String()
}
