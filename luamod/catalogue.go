package luamod

import (
	"regexp"
	"strings"
	"sync"
)

// The catalogue: the module's classes, fields and functions as the LuaLS
// definitions (types/wandb.lua, Definitions) describe them, read from that
// file so that help at a prompt, completion and pairs say what the editor
// says, and a test keeps both in line with the module. It parses only the
// subset of LuaLS annotations the file uses: ---@class, ---@field,
// ---@param, ---@return, doc lines, "local X = {}" and
// "function X.name(...) end" / "function X:name(...) end". A class
// declared "---@class A: B" has B's entries before its own, as LuaLS
// shows them.
//
// Why hand-written: no Go package reads LuaLS annotations. gopher-lua's
// parser drops comments, and the programs that read them (LuaLS itself,
// whose --doc exports them as JSON, and EmmyLua's analyser) are not Go:
// using one would make building or regenerating wandb-lua need it
// installed, where .ci/run needs only Go. The file is ours and uses a
// small subset, and TestCatalogueReadsTheDefinitions fails when this
// parser misses a class, field or function of it. Replace the parser
// with a library when a maintained Go package reads LuaLS annotations,
// or drop it if the definitions come to be generated from a description
// in Go, which the catalogue would then read instead.

// defClass is a class of the definitions: a type of the module's values
// or one of its tables.
type defClass struct {
	name    string
	parent  string // B in "---@class A: B", or ""
	doc     string // the lines before ---@class, joined
	entries []defEntry
}

// defEntry is a field or a function of a class.
type defEntry struct {
	name    string
	typ     string // a field's type
	fn      bool   // a function
	method  bool   // called with ':'
	params  []defParam
	returns []string // the types
	doc     string   // a field's description, or a function's doc lines joined
}

// defParam is a function's parameter.
type defParam struct {
	name     string
	typ      string
	optional bool
}

// catalogue is the parsed definitions.
type catalogue struct {
	classes map[string]*defClass
}

var (
	catalogueOnce sync.Once
	theCatalogue  *catalogue
)

// definitionsCatalogue returns the catalogue of Definitions, parsed once
// (it never changes: the file is embedded).
func definitionsCatalogue() *catalogue {
	catalogueOnce.Do(func() { theCatalogue = parseDefinitions(definitions) })
	return theCatalogue
}

var (
	defLocalRE = regexp.MustCompile(`^local (\w+) = \{\}`)
	defFuncRE  = regexp.MustCompile(`^function (\w+)([.:])(\w+)\(`)
)

// parseDefinitions parses the definitions file src.
func parseDefinitions(src string) *catalogue {
	cat := &catalogue{classes: map[string]*defClass{}}
	var (
		class   *defClass
		doc     []string
		params  []defParam
		returns []string
		locals  = map[string]*defClass{}
	)
	reset := func() { doc, params, returns = nil, nil, nil }
	for _, line := range strings.Split(src, "\n") {
		switch {
		case strings.HasPrefix(line, "---@class "):
			// "---@class A: B": typeToken would read "A: B" as one type
			// (it reads on after a colon, for "fun(...): R").
			name, parent, _ := strings.Cut(strings.TrimPrefix(line, "---@class "), ":")
			name, _ = typeToken(name)
			parent, _ = typeToken(parent)
			class = &defClass{name: name, parent: parent, doc: strings.Join(doc, " ")}
			cat.classes[name] = class
			reset()
		case strings.HasPrefix(line, "---@field ") && class != nil:
			name, rest := typeToken(strings.TrimPrefix(line, "---@field "))
			typ, rest := typeToken(rest)
			// "name?" is an optional field: its type may be nil.
			if n, ok := strings.CutSuffix(name, "?"); ok {
				name, typ = n, strings.TrimSuffix(typ, "?")+"?"
			}
			class.entries = append(class.entries, defEntry{name: name, typ: typ, doc: strings.TrimSpace(rest)})
		case strings.HasPrefix(line, "---@param "):
			name, rest := typeToken(strings.TrimPrefix(line, "---@param "))
			typ, _ := typeToken(rest)
			p := defParam{name: strings.TrimSuffix(name, "?"), typ: typ, optional: strings.HasSuffix(name, "?")}
			params = append(params, p)
		case strings.HasPrefix(line, "---@return "):
			typ, _ := typeToken(strings.TrimPrefix(line, "---@return "))
			returns = append(returns, typ)
		case strings.HasPrefix(line, "---@"), strings.HasPrefix(line, "---|"):
			// @alias, @generic, @meta and alias values: nothing to show.
		case strings.HasPrefix(line, "---"):
			doc = append(doc, strings.TrimSpace(strings.TrimPrefix(line, "---")))
		default:
			if m := defLocalRE.FindStringSubmatch(line); m != nil && class != nil {
				locals[m[1]] = class
			} else if m := defFuncRE.FindStringSubmatch(line); m != nil && locals[m[1]] != nil {
				c := locals[m[1]]
				c.entries = append(c.entries, defEntry{name: m[3], fn: true, method: m[2] == ":",
					params: params, returns: returns, doc: strings.Join(doc, " ")})
			}
			reset()
		}
	}
	inherited := map[*defClass]bool{}
	for _, c := range cat.classes {
		cat.inherit(c, inherited)
	}
	return cat
}

// inherit puts the entries of c's parent, its own parent's included,
// before c's, but for those c declares again; done holds the classes
// already seen, so a cycle ends.
func (cat *catalogue) inherit(c *defClass, done map[*defClass]bool) {
	if done[c] {
		return
	}
	done[c] = true
	p := cat.classes[c.parent]
	if p == nil {
		return
	}
	cat.inherit(p, done)
	var entries []defEntry
	for _, e := range p.entries {
		if c.entry(e.name) == nil {
			entries = append(entries, e)
		}
	}
	c.entries = append(entries, c.entries...)
}

// typeToken splits s at the first white space outside brackets (a type
// such as "{email: string, admin: boolean?}[]?" or
// "fun(item: T, index: integer): R"): the token and the rest, trimmed.
func typeToken(s string) (tok, rest string) {
	s = strings.TrimSpace(s)
	depth := 0
	for i, r := range s {
		switch r {
		case '(', '{', '<', '[':
			depth++
		case ')', '}', '>', ']':
			depth--
		case ' ', '\t':
			if depth <= 0 {
				// "fun(...): R" goes on after a colon.
				if strings.HasSuffix(s[:i], ":") {
					continue
				}
				return s[:i], strings.TrimSpace(s[i:])
			}
		}
	}
	return s, ""
}

// class returns the class named name, or nil. A name without the
// "wandb." prefix ("User") is looked up with it too.
func (cat *catalogue) class(name string) *defClass {
	if c := cat.classes[name]; c != nil {
		return c
	}
	for n, c := range cat.classes {
		if strings.EqualFold(n, name) || strings.EqualFold(n, "wandb."+name) {
			return c
		}
	}
	return nil
}

// entry returns the entry named name of the class, or nil.
func (c *defClass) entry(name string) *defEntry {
	for i := range c.entries {
		if c.entries[i].name == name {
			return &c.entries[i]
		}
	}
	return nil
}

// fields returns the names of the class's fields (not its functions), in
// the order the definitions list them.
func (c *defClass) fields() []string {
	var names []string
	for _, e := range c.entries {
		if !e.fn {
			names = append(names, e.name)
		}
	}
	return names
}
