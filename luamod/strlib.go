package luamod

import (
	"context"
	"fmt"
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The checked string functions SetLimits installs: string.find, match,
// gmatch, gsub (gfind too), rep and format, and table.concat. They behave
// as Lua 5.1's (which gopher-lua follows), and besides:
//   - they look at the state's context as they run, and stop with its
//     error, as the VM does between instructions;
//   - the strings they build are at most Limits.MaxString long.

// strlib is the checked functions of one state.
type strlib struct {
	lim        Limits
	origFormat lua.LGFunction // gopher-lua's string.format, which the checked one calls
}

// runDone returns the Done channel of L's context, nil when it has none.
func runDone(L *lua.LState) <-chan struct{} {
	return runContext(L).Done()
}

// stopped raises the error of L's context, as the VM does when it finds
// the context done.
func stopped(L *lua.LState) {
	msg := context.Canceled.Error()
	if err := runContext(L).Err(); err != nil {
		msg = err.Error()
	}
	L.RaiseError("%s", msg)
}

// checked runs f, turning a matcher's fault into a Lua error.
func checked(L *lua.LState, f func() int) (n int) {
	defer func() {
		if r := recover(); r != nil {
			fault, ok := r.(matchFault)
			if !ok {
				panic(r)
			}
			if fault.stopped {
				stopped(L)
			}
			L.RaiseError("%s", fault.msg)
		}
	}()
	return f()
}

// startIndex converts Lua's init argument (1-based, negative from the end)
// to a byte offset in a string of n bytes, as Lua 5.1 does.
func startIndex(init, n int) int {
	if init < 0 {
		init += n + 1
	}
	init--
	return min(max(init, 0), n)
}

// find is string.find(s, pattern [, init [, plain]]).
func (lib *strlib) find(L *lua.LState) int { return lib.findAux(L, true) }

// match is string.match(s, pattern [, init]).
func (lib *strlib) match(L *lua.LState) int { return lib.findAux(L, false) }

func (lib *strlib) findAux(L *lua.LState, find bool) int {
	s := L.CheckString(1)
	pat := L.CheckString(2)
	init := startIndex(L.OptInt(3, 1), len(s))
	if find && (L.ToBool(4) || !strings.ContainsAny(pat, patternSpecials)) {
		i := strings.Index(s[init:], pat)
		if i < 0 {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(lua.LNumber(init + i + 1))
		L.Push(lua.LNumber(init + i + len(pat)))
		return 2
	}
	return checked(L, func() int {
		m := &matcher{src: s, pat: pat, done: runDone(L)}
		p, anchor := 0, strings.HasPrefix(pat, "^")
		if anchor {
			p = 1
		}
		start, end := m.find(init, anchor, p)
		if start < 0 {
			L.Push(lua.LNil)
			return 1
		}
		n := 0
		if find {
			L.Push(lua.LNumber(start + 1))
			L.Push(lua.LNumber(end))
			n = 2
		}
		for _, v := range m.captures(start, end, !find) {
			L.Push(v)
			n++
		}
		return n
	})
}

// gmatch is string.gmatch(s, pattern): an iterator over the matches,
// found one at a time. As in Lua 5.1, a "^" in the pattern is not an
// anchor.
func (lib *strlib) gmatch(L *lua.LState) int {
	s := L.CheckString(1)
	pat := L.CheckString(2)
	pos := 0
	L.Push(L.NewFunction(func(L *lua.LState) int {
		return checked(L, func() int {
			m := &matcher{src: s, pat: pat, done: runDone(L)}
			for ; pos <= len(s); pos++ {
				m.level = 0
				e := m.match(pos, 0)
				if e < 0 {
					continue
				}
				start := pos
				pos = e
				if e == start {
					pos++ // an empty match: go on from the next character
				}
				vals := m.captures(start, e, true)
				for _, v := range vals {
					L.Push(v)
				}
				return len(vals)
			}
			return 0
		})
	}))
	return 1
}

// gsub is string.gsub(s, pattern, repl [, n]).
func (lib *strlib) gsub(L *lua.LState) int {
	src := L.CheckString(1)
	pat := L.CheckString(2)
	repl := L.Get(3)
	switch repl.Type() {
	case lua.LTNumber, lua.LTString, lua.LTTable, lua.LTFunction:
	default:
		L.ArgError(3, "string/function/table expected")
	}
	maxN := L.OptInt(4, len(src)+1)
	return checked(L, func() int {
		p, anchor := 0, strings.HasPrefix(pat, "^")
		if anchor {
			p = 1
		}
		m := &matcher{src: src, pat: pat, done: runDone(L)}
		b := lib.newBuilder(L, "gsub")
		s, n := 0, 0
	subject:
		for n < maxN {
			m.level = 0
			e := m.match(s, p)
			if e >= 0 {
				n++
				lib.addValue(L, m, b, repl, s, e)
			}
			switch {
			case e > s: // a non-empty match: go on after it
				s = e
			case s < len(src):
				b.add(src[s : s+1])
				s++
			default:
				break subject
			}
			if anchor {
				break
			}
		}
		b.add(src[s:])
		L.Push(lua.LString(b.String()))
		L.Push(lua.LNumber(n))
		return 2
	})
}

// addValue adds the replacement of the match [s, e) to b.
func (lib *strlib) addValue(L *lua.LState, m *matcher, b *builder, repl lua.LValue, s, e int) {
	var v lua.LValue
	switch r := repl.(type) {
	case *lua.LFunction:
		top := L.GetTop()
		L.Push(r)
		args := m.captures(s, e, true)
		for _, a := range args {
			L.Push(a)
		}
		L.Call(len(args), 1)
		v = L.Get(-1)
		L.SetTop(top)
	case *lua.LTable:
		v = L.GetTable(r, m.get(0, s, e))
	default:
		b.add(lib.expand(m, lua.LVAsString(repl), s, e))
		return
	}
	switch v := v.(type) {
	case *lua.LNilType:
		b.add(m.src[s:e]) // keep the original text
	case lua.LBool:
		if !bool(v) {
			b.add(m.src[s:e])
			return
		}
		L.RaiseError("invalid replacement value (a %s)", v.Type().String())
	case lua.LString, lua.LNumber:
		b.add(lua.LVAsString(v))
	default:
		L.RaiseError("invalid replacement value (a %s)", v.Type().String())
	}
}

// expand returns the replacement string repl for the match [s, e): %0 is
// the match, %1 to %9 its captures, and % before another character that
// character.
func (lib *strlib) expand(m *matcher, repl string, s, e int) string {
	if !strings.Contains(repl, "%") {
		return repl
	}
	var b strings.Builder
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '%' || i+1 == len(repl) {
			b.WriteByte(c)
			continue
		}
		i++
		switch d := repl[i]; {
		case d == '0':
			b.WriteString(m.src[s:e])
		case '1' <= d && d <= '9':
			b.WriteString(lua.LVAsString(m.get(int(d-'1'), s, e)))
		default:
			b.WriteByte(d)
		}
	}
	return b.String()
}

// rep is string.rep(s, n).
func (lib *strlib) rep(L *lua.LState) int {
	s := L.CheckString(1)
	n := float64(L.CheckNumber(2))
	if n < 1 || s == "" {
		L.Push(lua.LString(""))
		return 1
	}
	if lib.lim.MaxString > 0 && n > float64(lib.lim.MaxString)/float64(len(s)) || n > math.MaxInt/float64(len(s)) {
		lib.tooLarge(L, "rep", "a string of "+showSize(n*float64(len(s))))
	}
	count := int(n)
	b := lib.newBuilder(L, "rep")
	b.grow(count * len(s))
	// Whole chunks of about 64 KiB, not count writes of s.
	per := max(1, (64<<10)/len(s))
	chunk := strings.Repeat(s, min(per, count))
	for count >= per {
		b.add(chunk)
		count -= per
	}
	b.add(chunk[:count*len(s)])
	L.Push(lua.LString(b.String()))
	return 1
}

// checkedFormat is string.format(fmt, ...), gopher-lua's, after a check that its
// result cannot be longer than Limits.MaxString and that no width or
// precision has more than two digits, as Lua 5.1 requires (Go's fmt
// would pad to a million characters).
func (lib *strlib) checkedFormat(L *lua.LState) int {
	f := L.CheckString(1)
	size := float64(len(f))
	arg := 2
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			continue
		}
		for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
			i++
		}
		digits := func() int {
			d := 0
			for i < len(f) && '0' <= f[i] && f[i] <= '9' {
				i++
				d++
			}
			return d
		}
		wide := digits()
		if i < len(f) && f[i] == '.' {
			i++
			wide = max(wide, digits())
		}
		if wide > 2 {
			L.RaiseError("invalid format (width or precision too long)")
		}
		// At most 99 of padding, and the argument shown in up to four
		// bytes per byte (%q of a control character: \x01).
		size += 99 + 32
		if i < len(f) && arg <= L.GetTop() {
			if s, ok := L.Get(arg).(lua.LString); ok {
				size += 4 * float64(len(s))
			}
			arg++
		}
	}
	if lib.lim.MaxString > 0 && size > float64(lib.lim.MaxString) {
		lib.tooLarge(L, "format", "a result of up to "+showSize(size))
	}
	return lib.origFormat(L)
}

// concat is table.concat(t [, sep [, i [, j]]]), with gopher-lua's
// handling of i and j and its messages, built in one piece instead of on
// the stack (which a long list would overflow).
func (lib *strlib) concat(L *lua.LState) int {
	t := L.CheckTable(1)
	sep := L.OptString(2, "")
	n := t.Len()
	i := L.OptInt(3, 1)
	j := L.OptInt(4, n)
	if L.GetTop() == 3 && (i > n || i < 1) {
		L.Push(lua.LString(""))
		return 1
	}
	i = max(min(i, n), 1)
	j = min(j, n)
	if i > j {
		L.Push(lua.LString(""))
		return 1
	}
	parts := make([]string, 0, j-i+1)
	size := float64(len(sep)) * float64(j-i)
	for k := i; k <= j; k++ {
		v := t.RawGetInt(k)
		if !lua.LVCanConvToString(v) {
			L.RaiseError("invalid value (%s) at index %d in table for concat", v.Type().String(), k)
		}
		s := lua.LVAsString(v)
		size += float64(len(s))
		parts = append(parts, s)
	}
	if lib.lim.MaxString > 0 && size > float64(lib.lim.MaxString) {
		lib.tooLarge(L, "concat", "a string of "+showSize(size))
	}
	b := lib.newBuilder(L, "concat")
	b.grow(int(size))
	for k, s := range parts {
		if k > 0 {
			b.add(sep)
		}
		b.add(s)
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// tooLarge raises the error for a string longer than Limits.MaxString that
// function fn would build (what: "a string of 3 GiB").
func (lib *strlib) tooLarge(L *lua.LState, fn, what string) {
	L.RaiseError("%s: resulting string too large (%s; the limit is %s)", fn, what, showSize(float64(lib.lim.MaxString)))
}

// tooLargeText says that a result of size bytes (or more) is over limit.
func tooLargeText(size float64, limit int64) string {
	return fmt.Sprintf("resulting string too large (%s or more; the limit is %s)", showSize(size), showSize(float64(limit)))
}

// maxString returns L's Limits.MaxString, 0 for none.
func maxString(L *lua.LState) int64 {
	if lib := strlibOf(L); lib != nil {
		return lib.lim.MaxString
	}
	return 0
}

// builder builds the result of a checked function: it refuses to grow past
// Limits.MaxString and looks at the context every megabyte.
type builder struct {
	strings.Builder
	L       *lua.LState
	lib     *strlib
	fn      string
	done    <-chan struct{}
	checked int // the length at the last look at the context
}

func (lib *strlib) newBuilder(L *lua.LState, fn string) *builder {
	return &builder{L: L, lib: lib, fn: fn, done: runDone(L)}
}

// grow reserves n bytes when they are within the limit (without a limit,
// the result grows as it is built, so a deadline stops it before it has
// taken the memory it would need).
func (b *builder) grow(n int) {
	if b.lib.lim.MaxString > 0 && int64(n) <= b.lib.lim.MaxString {
		b.Grow(n)
	}
}

func (b *builder) add(s string) {
	if max := b.lib.lim.MaxString; max > 0 && int64(b.Len()+len(s)) > max {
		b.lib.tooLarge(b.L, b.fn, "a string of more than "+showSize(float64(max)))
	}
	b.WriteString(s)
	if b.Len()-b.checked >= 1<<20 {
		b.checked = b.Len()
		stopIfDone(b.L, b.done)
	}
}

// stopIfDone raises the error of L's context when done (its Done, or nil)
// is closed: for code that runs long in Go, between two of its steps.
func stopIfDone(L *lua.LState, done <-chan struct{}) {
	if done == nil {
		return
	}
	select {
	case <-done:
		stopped(L)
	default:
	}
}

// showSize writes n bytes for people: "64 MiB", "3.5 GiB", "100 bytes".
func showSize(n float64) string {
	for _, u := range []struct {
		name  string
		bytes float64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.bytes {
			return strings.TrimSuffix(fmt.Sprintf("%.1f", n/u.bytes), ".0") + " " + u.name
		}
	}
	return fmt.Sprintf("%.0f bytes", n)
}
