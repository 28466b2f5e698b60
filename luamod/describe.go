package luamod

import (
	"fmt"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Describing the module's values to people exploring it (help at
// wandb-lua's prompt), from the catalogue of the definitions: what an
// editor shows is what the prompt shows.

// secretFields are fields that hold a secret: pairs and Inspect leave them
// out (a script reads them by name, deliberately).
var secretFields = map[string]bool{"api_key": true}

// classOf returns the definitions' class of v: one of the module's values
// (a User, Team, Member, api, Error or Plan), a failure record, or one of
// the module's tables (wandb, wandb.csv, wandb.json); nil for anything
// else.
func classOf(L *lua.LState, v lua.LValue) *defClass {
	cat := definitionsCatalogue()
	switch name := typeNameOf(L, v); name {
	case "", jsonNullTypeName:
	case failureTypeName:
		return cat.classes["wandb.ParallelFailure"]
	default:
		return cat.classes[name]
	}
	if t, ok := v.(*lua.LTable); ok {
		if name, ok := L.GetMetaField(t, "__metatable").(lua.LString); ok && isModuleTable(L, t, string(name)) {
			return cat.classes[string(name)]
		}
	}
	return nil
}

// isModuleTable reports whether t is the module's table name ("wandb",
// "wandb.csv" or "wandb.json") as loaded in L.
func isModuleTable(L *lua.LState, t *lua.LTable, name string) bool {
	mod, ok := loadedModule(L)
	if !ok {
		return false
	}
	switch name {
	case "wandb":
		return t == mod
	case "wandb.csv":
		return t == mod.RawGetString("csv")
	case "wandb.json":
		return t == mod.RawGetString("json")
	}
	return false
}

// loadedModule returns the module's table as require("wandb") returns it
// in L, if it was loaded.
func loadedModule(L *lua.LState) (*lua.LTable, bool) {
	loaded, ok := L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable)
	if !ok {
		return nil, false
	}
	mod, ok := loaded.RawGetString("wandb").(*lua.LTable)
	return mod, ok
}

// Members returns the names of v's fields and of its methods (called with
// ':'), as the definitions list them, when v is one of the module's values
// (a User, Team, Member, api object, Error or Plan) or one of its tables
// (whose functions are methods here only in the sense that they are
// callable: wandb.viewer is called with '.'); ok is false for any other
// value. For completion at a prompt: the names, never the values.
func Members(L *lua.LState, v lua.LValue) (fields, methods []string, ok bool) {
	c := classOf(L, v)
	if c == nil {
		return nil, nil, false
	}
	for _, e := range c.entries {
		if e.fn {
			methods = append(methods, e.name)
		} else {
			fields = append(fields, e.name)
		}
	}
	return fields, methods, true
}

// Describe returns a description of v for a person exploring the module,
// one line per field and function, from the definitions (Definitions):
// for one of the module's values or tables, its class's fields and
// methods; for one of the module's functions or methods, its signature
// and documentation; for a string, the class or function it names
// ("wandb.User", "User", "wandb.users", "User:delete_api_key"). ok is
// false when v is none of these.
func Describe(L *lua.LState, v lua.LValue) (text string, ok bool) {
	cat := definitionsCatalogue()
	switch x := v.(type) {
	case lua.LString:
		return describeName(cat, string(x))
	case *lua.LFunction:
		if c, e := functionEntry(L, x); e != nil {
			return describeFunction(c, e), true
		}
		return "", false
	}
	if c := classOf(L, v); c != nil {
		return describeClass(c), true
	}
	return "", false
}

// describeName describes the class or the entry name names.
func describeName(cat *catalogue, name string) (string, bool) {
	if c := cat.class(name); c != nil {
		return describeClass(c), true
	}
	i := strings.LastIndexAny(name, ".:")
	if i < 0 {
		if c := cat.classes["wandb"]; c != nil && c.entry(name) != nil {
			return describeEntry(c, c.entry(name)), true
		}
		return "", false
	}
	c := cat.class(name[:i])
	if c == nil {
		return "", false
	}
	e := c.entry(name[i+1:])
	if e == nil {
		return "", false
	}
	return describeEntry(c, e), true
}

// describeEntry describes a field or a function.
func describeEntry(c *defClass, e *defEntry) string {
	if e.fn {
		return describeFunction(c, e)
	}
	return strings.TrimRight(fmt.Sprintf("%s.%s  %s  %s", c.name, e.name, e.typ, e.doc), " ") + "\n"
}

// describeClass lists a class's fields and functions, one line each.
func describeClass(c *defClass) string {
	var b strings.Builder
	b.WriteString(c.name)
	if c.doc != "" {
		b.WriteString(": " + c.doc)
	}
	b.WriteString("\n")
	nameW, typeW := 0, 0
	for _, e := range c.entries {
		if !e.fn {
			nameW, typeW = max(nameW, len(e.name)), max(typeW, len(e.typ))
		}
	}
	for _, e := range c.entries {
		if !e.fn {
			fmt.Fprintf(&b, "  %s\n", strings.TrimRight(fmt.Sprintf("%-*s  %-*s  %s", nameW, e.name, typeW, e.typ, e.doc), " "))
		}
	}
	for i := range c.entries {
		e := &c.entries[i]
		if e.fn {
			line := signature(c, e)
			if s := summary(docOf(c, e)); s != "" {
				line += "  " + s
			}
			fmt.Fprintf(&b, "  %s\n", line)
		}
	}
	return b.String()
}

// describeFunction gives a function's signature and its documentation.
func describeFunction(c *defClass, e *defEntry) string {
	s := receiver(c, e) + signature(c, e) + "\n"
	if d := docOf(c, e); d != "" {
		s += "  " + d + "\n"
	}
	for _, p := range e.params {
		s += fmt.Sprintf("  %s: %s\n", p.name, p.typ)
	}
	return s
}

// receiver is how the definitions' class of a method's receiver is
// written before its signature, e.g. "wandb.User" for ":delete_api_key";
// nothing for the module's own functions, written "wandb.viewer()".
func receiver(c *defClass, e *defEntry) string {
	if strings.HasPrefix(signature(c, e), c.name+".") {
		return ""
	}
	return c.name
}

// signature writes a function's call: ":name(a, b?) -> R1, R2" for a
// method, "wandb.name(...)" for one of the module's functions.
func signature(c *defClass, e *defEntry) string {
	var ps []string
	for _, p := range e.params {
		if p.optional {
			ps = append(ps, p.name+"?")
		} else {
			ps = append(ps, p.name)
		}
	}
	head := ":" + e.name
	if !e.method {
		head = c.name + "." + e.name
	}
	s := head + "(" + strings.Join(ps, ", ") + ")"
	if len(e.returns) > 0 {
		s += " -> " + strings.Join(e.returns, ", ")
	}
	return s
}

// docOf returns a function's documentation; an api object's methods,
// which the definitions leave undocumented, have the module function's.
func docOf(c *defClass, e *defEntry) string {
	if e.doc == "" && c.name == apiTypeName {
		if m := definitionsCatalogue().classes["wandb"]; m != nil {
			if f := m.entry(e.name); f != nil {
				return f.doc
			}
		}
	}
	return e.doc
}

// summary returns the first sentence of doc.
func summary(doc string) string {
	if i := strings.Index(doc, ". "); i >= 0 {
		return doc[:i+1]
	}
	return doc
}

// functionEntry finds which of the module's functions or methods fn is:
// one of the module's tables' (wandb, wandb.csv, wandb.json) or a method
// of one of its types.
func functionEntry(L *lua.LState, fn *lua.LFunction) (*defClass, *defEntry) {
	cat := definitionsCatalogue()
	if mod, ok := loadedModule(L); ok {
		for _, t := range []struct {
			class string
			table lua.LValue
		}{{"wandb", mod}, {"wandb.csv", mod.RawGetString("csv")}, {"wandb.json", mod.RawGetString("json")}} {
			if c := cat.classes[t.class]; c != nil {
				if name := keyOf(t.table, fn); name != "" && c.entry(name) != nil {
					return c, c.entry(name)
				}
			}
		}
	}
	names := make([]string, 0, len(cat.classes))
	for name := range cat.classes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if methods := methodTable(L, name); methods != nil {
			if k := keyOf(methods, fn); k != "" && cat.classes[name].entry(k) != nil {
				return cat.classes[name], cat.classes[name].entry(k)
			}
		}
	}
	return nil, nil
}

// keyOf returns the string key under which t holds v, or "".
func keyOf(t lua.LValue, v lua.LValue) string {
	tt, ok := t.(*lua.LTable)
	if !ok {
		return ""
	}
	found := ""
	tt.ForEach(func(k, x lua.LValue) {
		if s, ok := k.(lua.LString); ok && x == v && found == "" {
			found = string(s)
		}
	})
	return found
}

// methodTable returns the methods table of the module's userdata type
// name (the upvalue of its __index), or nil.
func methodTable(L *lua.LState, name string) *lua.LTable {
	mt, ok := L.GetTypeMetatable(name).(*lua.LTable)
	if !ok {
		return nil
	}
	idx, ok := mt.RawGetString("__index").(*lua.LFunction)
	if !ok || len(idx.Upvalues) == 0 {
		return nil
	}
	t, _ := idx.Upvalues[0].Value().(*lua.LTable)
	return t
}
