package luamod

import (
	lua "github.com/yuin/gopher-lua"
)

// Lua's patterns, matched as Lua 5.1's lstrlib.c matches them, for the
// checked string.find, match, gmatch and gsub (strlib.go).
//
// Why not gopher-lua's own matcher (package pm): it runs in Go between two
// of the VM's context checks, so a pattern that backtracks without end
// (("a*"):rep(20) .. "c" against 5,000 a's) cannot be stopped by a
// deadline; it recurses once per repetition tried, up to a million deep;
// gmatch finds every match before returning the first; and gsub copies
// the whole subject for every match it replaces, so 200,000 characters
// take half a minute. This port of the reference implementation (a few
// hundred lines, which is why it is not a dependency: no Go package
// implements Lua's patterns apart from gopher-lua's) counts its steps,
// looks at the context every stepsPerCheck of them, and bounds its
// recursion as Lua 5.2 and later do. It goes when gopher-lua's matcher
// can be interrupted.

const (
	maxCaptures   = 32  // LUA_MAXCAPTURES
	maxMatchDepth = 200 // MAXCCALLS: deeper is "pattern too complex"
	stepsPerCheck = 1 << 12

	capUnfinished = -1
	capPosition   = -2
)

// patternSpecials are the characters that make a pattern more than plain
// text for string.find.
const patternSpecials = "^$*+?.([%-"

// matcher is the state of matching one pattern against one subject.
type matcher struct {
	src, pat string
	level    int // captures started
	capture  [maxCaptures]struct{ init, len int }
	depth    int
	steps    int
	done     <-chan struct{} // the run's context; nil never stops
}

// matchFault is what a matcher panics with: a malformed pattern (msg) or
// a run whose context ended (stopped). checked converts it to a Lua error.
type matchFault struct {
	msg     string
	stopped bool
}

func (m *matcher) fail(msg string) { panic(matchFault{msg: msg}) }

// step counts n steps of work, and every stepsPerCheck looks whether the
// run's context has ended.
func (m *matcher) step(n int) {
	before := m.steps
	m.steps += n
	if m.done != nil && before/stepsPerCheck != m.steps/stepsPerCheck {
		select {
		case <-m.done:
			panic(matchFault{stopped: true})
		default:
		}
	}
}

// find looks for the pattern in src from init on (only there when anchored)
// and returns where the match starts and ends, or -1.
func (m *matcher) find(init int, anchor bool, pat int) (start, end int) {
	for s := init; ; s++ {
		m.level = 0
		if e := m.match(s, pat); e >= 0 {
			return s, e
		}
		if anchor || s >= len(m.src) {
			return -1, -1
		}
	}
}

// match matches the pattern from p on against src from s on and returns
// where the match ends, or -1.
func (m *matcher) match(s, p int) int {
	m.depth++
	if m.depth > maxMatchDepth {
		m.fail("pattern too complex")
	}
	e := m.doMatch(s, p)
	m.depth--
	return e
}

func (m *matcher) doMatch(s, p int) int {
	src, pat := m.src, m.pat
	for {
		m.step(1)
		if p == len(pat) {
			return s
		}
		switch pat[p] {
		case '(':
			if p+1 < len(pat) && pat[p+1] == ')' {
				return m.startCapture(s, p+2, capPosition)
			}
			return m.startCapture(s, p+1, capUnfinished)
		case ')':
			return m.endCapture(s, p+1)
		case '$':
			if p+1 == len(pat) {
				if s == len(src) {
					return s
				}
				return -1
			}
		case '%':
			if p+1 < len(pat) {
				switch c := pat[p+1]; {
				case c == 'b':
					if s = m.matchBalance(s, p+2); s < 0 {
						return -1
					}
					p += 4
					continue
				case c == 'f':
					p += 2
					if p >= len(pat) || pat[p] != '[' {
						m.fail("missing '[' after '%f' in pattern")
					}
					ep := m.classEnd(p)
					var prev, cur byte
					if s > 0 {
						prev = src[s-1]
					}
					if s < len(src) {
						cur = src[s]
					}
					if matchBracketClass(prev, pat, p, ep-1) || !matchBracketClass(cur, pat, p, ep-1) {
						return -1
					}
					p = ep
					continue
				case '0' <= c && c <= '9':
					if s = m.matchCapture(s, c); s < 0 {
						return -1
					}
					p += 2
					continue
				}
			}
		}
		// A single character class, maybe repeated.
		ep := m.classEnd(p)
		matched := s < len(src) && singleMatch(src[s], pat, p, ep)
		if ep < len(pat) {
			switch pat[ep] {
			case '?':
				if matched {
					if e := m.match(s+1, ep+1); e >= 0 {
						return e
					}
				}
				p = ep + 1
				continue
			case '*':
				return m.maxExpand(s, p, ep)
			case '+':
				if !matched {
					return -1
				}
				return m.maxExpand(s+1, p, ep)
			case '-':
				return m.minExpand(s, p, ep)
			}
		}
		if !matched {
			return -1
		}
		s++
		p = ep
	}
}

// classEnd returns where the single character class at p ends.
func (m *matcher) classEnd(p int) int {
	pat := m.pat
	c := pat[p]
	p++
	switch c {
	case '%':
		if p >= len(pat) {
			m.fail("malformed pattern (ends with '%')")
		}
		return p + 1
	case '[':
		if p < len(pat) && pat[p] == '^' {
			p++
		}
		for { // look for the ']'; the first character is never it
			if p >= len(pat) {
				m.fail("malformed pattern (missing ']')")
			}
			c := pat[p]
			p++
			if c == '%' && p < len(pat) {
				p++ // an escape such as %]
			}
			if p < len(pat) && pat[p] == ']' {
				return p + 1
			}
		}
	}
	return p
}

func (m *matcher) maxExpand(s, p, ep int) int {
	i := 0
	for s+i < len(m.src) && singleMatch(m.src[s+i], m.pat, p, ep) {
		i++
	}
	m.step(i)
	for ; i >= 0; i-- { // the longest repetition first
		if e := m.match(s+i, ep+1); e >= 0 {
			return e
		}
	}
	return -1
}

func (m *matcher) minExpand(s, p, ep int) int {
	for {
		if e := m.match(s, ep+1); e >= 0 {
			return e
		}
		if s < len(m.src) && singleMatch(m.src[s], m.pat, p, ep) {
			s++ // one more repetition
		} else {
			return -1
		}
	}
}

func (m *matcher) startCapture(s, p, what int) int {
	if m.level >= maxCaptures {
		m.fail("too many captures")
	}
	m.capture[m.level].init, m.capture[m.level].len = s, what
	m.level++
	e := m.match(s, p)
	if e < 0 {
		m.level-- // undo the capture
	}
	return e
}

func (m *matcher) endCapture(s, p int) int {
	l := -1
	for i := m.level - 1; i >= 0; i-- {
		if m.capture[i].len == capUnfinished {
			l = i
			break
		}
	}
	if l < 0 {
		m.fail("invalid pattern capture")
	}
	m.capture[l].len = s - m.capture[l].init
	e := m.match(s, p)
	if e < 0 {
		m.capture[l].len = capUnfinished
	}
	return e
}

func (m *matcher) matchBalance(s, p int) int {
	if p+1 >= len(m.pat) {
		m.fail("unbalanced pattern")
	}
	if s >= len(m.src) || m.src[s] != m.pat[p] {
		return -1
	}
	b, e := m.pat[p], m.pat[p+1]
	depth := 1
	start := s
	for s++; s < len(m.src); s++ {
		if c := m.src[s]; c == e {
			if depth--; depth == 0 {
				m.step(s - start)
				return s + 1
			}
		} else if c == b {
			depth++
		}
	}
	m.step(s - start)
	return -1
}

func (m *matcher) matchCapture(s int, c byte) int {
	l := int(c) - '1'
	if l < 0 || l >= m.level || m.capture[l].len == capUnfinished {
		m.fail("invalid capture index")
	}
	init, n := m.capture[l].init, m.capture[l].len
	if n < 0 || len(m.src)-s < n || m.src[init:init+n] != m.src[s:s+n] {
		return -1
	}
	m.step(n)
	return s + n
}

// get returns capture i of a match of [s, e) as Lua sees it: a string, or
// a position for (); capture 0 of a pattern without captures is the
// whole match.
func (m *matcher) get(i, s, e int) lua.LValue {
	if i >= m.level {
		if i != 0 {
			m.fail("invalid capture index")
		}
		return lua.LString(m.src[s:e])
	}
	c := m.capture[i]
	switch c.len {
	case capUnfinished:
		m.fail("unfinished capture")
	case capPosition:
		return lua.LNumber(c.init + 1)
	}
	return lua.LString(m.src[c.init : c.init+c.len])
}

// captures returns the captures of a match of [s, e); with none, the
// whole match when whole is set.
func (m *matcher) captures(s, e int, whole bool) []lua.LValue {
	n := m.level
	if n == 0 && whole {
		n = 1
	}
	vals := make([]lua.LValue, n)
	for i := range vals {
		vals[i] = m.get(i, s, e)
	}
	return vals
}

func singleMatch(c byte, pat string, p, ep int) bool {
	switch pat[p] {
	case '.':
		return true
	case '%':
		return matchClass(c, pat[p+1])
	case '[':
		return matchBracketClass(c, pat, p, ep-1)
	}
	return pat[p] == c
}

// matchBracketClass matches c against the set [...] from p (the '[') to ec
// (the ']').
func matchBracketClass(c byte, pat string, p, ec int) bool {
	sig := true
	if pat[p+1] == '^' {
		sig = false
		p++
	}
	for p++; p < ec; p++ {
		switch {
		case pat[p] == '%':
			p++
			if matchClass(c, pat[p]) {
				return sig
			}
		case pat[p+1] == '-' && p+2 < ec:
			p += 2
			if pat[p-2] <= c && c <= pat[p] {
				return sig
			}
		case pat[p] == c:
			return sig
		}
	}
	return !sig
}

// matchClass matches c against the class %cl, as C's ctype functions do
// in the "C" locale; any other cl matches itself.
func matchClass(c, cl byte) bool {
	var res bool
	switch cl | 0x20 {
	case 'a':
		res = isAlpha(c)
	case 'c':
		res = c < 0x20 || c == 0x7f
	case 'd':
		res = '0' <= c && c <= '9'
	case 'l':
		res = 'a' <= c && c <= 'z'
	case 'p':
		res = 0x21 <= c && c <= 0x7e && !isAlpha(c) && !('0' <= c && c <= '9')
	case 's':
		res = c == ' ' || '\t' <= c && c <= '\r'
	case 'u':
		res = 'A' <= c && c <= 'Z'
	case 'w':
		res = isAlpha(c) || '0' <= c && c <= '9'
	case 'x':
		res = '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f'
	case 'z':
		res = c == 0
	default:
		return cl == c
	}
	if 'A' <= cl && cl <= 'Z' {
		return !res
	}
	return res
}

func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }
