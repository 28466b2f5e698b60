package main

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/luamod"
)

// Exploring at the prompt: results written for people (luamod.Inspect),
// help(x) (luamod.Describe, from the editor definitions), and Tab
// completion of globals and of the fields and methods of a live value.

// promptHelp is what help() prints.
const promptHelp = `The module is the global wandb. help(x) lists what x has, one line each:
  help(wandb)            the module's functions and fields
  help(u)                a value's fields and methods (u = wandb.viewer())
  help(wandb.users)      a function: how to call it and what it returns
  help("wandb.Team")     a type, by name
An expression prints its value; Tab completes names (after . and : those
of the value before). Ctrl-C stops a statement or clears the line; Ctrl-D
exits. Errors show their message; -v adds the Lua traceback.
`

// installHelp defines the global help, which writes to out.
func installHelp(L *lua.LState, out io.Writer) {
	L.SetGlobal("help", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() == 0 {
			fmt.Fprint(out, promptHelp)
			return 0
		}
		v := L.Get(1)
		if s, ok := luamod.Describe(L, v); ok {
			fmt.Fprint(out, s)
			return 0
		}
		switch x := v.(type) {
		case lua.LString:
			fmt.Fprintf(out, "no help for %q: name a type (\"wandb.User\") or a function (\"wandb.users\"), or give a value: help(wandb)\n", string(x))
		case *lua.LTable:
			keys := tableNames(x, false)
			fmt.Fprintf(out, "a table of %d entries", x.Len()+len(keys))
			if len(keys) > 0 {
				fmt.Fprintf(out, "; its names: %s", strings.Join(keys, ", "))
			}
			fmt.Fprintln(out)
		default:
			fmt.Fprintf(out, "a %s: nothing to list; help(wandb) lists the module\n", v.Type())
		}
		return 0
	}))
}

// showValues writes the values a statement returned (L's stack from
// index from on), as luamod.Inspect writes each: on one line separated by
// tabs, or one after the other when one spans lines. A __tostring that
// raises gives its error instead.
func showValues(L *lua.LState, from int) (string, error) {
	n := L.GetTop() - from + 1
	parts := make([]string, 0, n)
	multi := false
	for i := 0; i < n; i++ {
		v := L.Get(from + i)
		var s string
		err := L.CallByParam(lua.P{Fn: L.NewFunction(func(L *lua.LState) int {
			s = luamod.Inspect(L, v)
			return 0
		}), Protect: true})
		if err != nil {
			return "", err
		}
		multi = multi || strings.Contains(s, "\n")
		parts = append(parts, s)
	}
	if multi {
		return strings.Join(parts, "\n"), nil
	}
	return strings.Join(parts, "\t"), nil
}

// completer completes names at the prompt for readline (its AutoCompleter):
// a global, or after a chain of names and . or : (wandb.vi, u.api_k,
// t:inv), a field or method of the value the chain names. Reading the
// chain runs no code of the script's: tables are read raw, and of
// userdata only the module's values, whose fields make no request.
type completer struct {
	st *session
}

// completionRE matches the chain of names before the cursor: the names
// with their separators, and the word being typed.
var completionRE = regexp.MustCompile(`((?:[A-Za-z_][A-Za-z0-9_]*\s*[.:]\s*)*)([A-Za-z_][A-Za-z0-9_]*)?$`)

// Do returns the endings of the names that start with the word before
// pos, and the word's length.
func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	// The Lua state is the statements': complete only while none runs.
	if !c.st.mu.TryLock() {
		return nil, 0
	}
	defer c.st.mu.Unlock()
	names, word := completions(c.st.L, string(line[:pos]))
	out := make([][]rune, 0, len(names))
	for _, n := range names {
		out = append(out, []rune(n[len(word):]))
	}
	return out, len([]rune(word))
}

// completions returns the names that complete text, sorted, and the word
// of text they complete.
func completions(L *lua.LState, text string) (names []string, word string) {
	m := completionRE.FindStringSubmatch(text)
	if m == nil {
		return nil, ""
	}
	chain, word := m[1], m[2]
	if start := len(text) - len(m[0]); start > 0 {
		// A name that ends a longer one (a1.x), a number (1.5) or a
		// string's text: no completion.
		if prev := text[start-1]; prev == '_' || prev >= '0' && prev <= '9' || prev >= 'A' && prev <= 'Z' || prev >= 'a' && prev <= 'z' || prev == '"' || prev == '\'' {
			return nil, ""
		}
	}
	var candidates []string
	if chain == "" {
		candidates = tableNames(L.G.Global, false)
	} else {
		steps := stepRE.FindAllString(chain, -1)
		v := L.G.Global.RawGetString(steps[0])
		for i := 1; i+2 < len(steps); i += 2 {
			if steps[i] == ":" {
				return nil, ""
			}
			v = field(L, v, steps[i+1])
		}
		candidates = memberNames(L, v, steps[len(steps)-1] == ":")
	}
	for _, n := range candidates {
		if strings.HasPrefix(n, word) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, word
}

// field reads v.name as completion may: raw for a table, through the
// module's own __index for its values; nil for anything else.
func field(L *lua.LState, v lua.LValue, name string) lua.LValue {
	switch x := v.(type) {
	case *lua.LTable:
		return x.RawGetString(name)
	case *lua.LUserData:
		fields, _, ok := luamod.Members(L, x)
		if !ok || !slices.Contains(fields, name) {
			return lua.LNil
		}
		var got lua.LValue = lua.LNil
		_ = L.CallByParam(lua.P{Fn: L.NewFunction(func(L *lua.LState) int {
			got = L.GetField(x, name)
			return 0
		}), Protect: true})
		return got
	}
	return lua.LNil
}

// memberNames returns the names to offer after v. (method false) or v:
// (method true): a table's names (for ':', those of functions); a module
// value's fields or methods.
func memberNames(L *lua.LState, v lua.LValue, method bool) []string {
	switch x := v.(type) {
	case *lua.LTable:
		return tableNames(x, method)
	case *lua.LUserData:
		fields, methods, ok := luamod.Members(L, x)
		switch {
		case !ok:
			return nil
		case method:
			return methods
		}
		return fields
	}
	return nil
}

// tableNames returns t's string keys that are names; with functions, only
// those whose value is a function.
func tableNames(t *lua.LTable, functions bool) []string {
	var names []string
	t.ForEach(func(k, v lua.LValue) {
		s, ok := k.(lua.LString)
		if !ok || !nameRE.MatchString(string(s)) {
			return
		}
		if functions && v.Type() != lua.LTFunction {
			return
		}
		names = append(names, string(s))
	})
	sort.Strings(names)
	return names
}

var (
	nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	stepRE = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*|[.:]`)
)
