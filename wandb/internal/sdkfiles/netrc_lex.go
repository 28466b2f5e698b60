package sdkfiles

import "strings"

// netrcLexer splits netrc text into tokens as Python's netrc module does
// (its _netrclex): tokens are separated by space, tab and newline; a token
// may be quoted with double quotes; a backslash takes the next character
// literally, inside quotes or not. Unlike Python's, a quote left open at
// the end of its line, or a backslash that ends a line, is a syntax
// problem, not a value that runs on into the next lines (and swallows the
// entries there).
type netrcLexer struct {
	s    string
	pos  int
	line int // the line of s[pos]
}

// netrcToken is a token, or a syntax problem where one was expected.
type netrcToken struct {
	text    string
	line    int    // where it starts
	problem string // non-empty: no token, a syntax problem (text is "")
}

func newNetrcLexer(text string) *netrcLexer {
	// Python reads the file with universal newlines.
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	return &netrcLexer{s: text, line: 1}
}

func (l *netrcLexer) advance() {
	if l.s[l.pos] == '\n' {
		l.line++
	}
	l.pos++
}

func isNetrcSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

// next returns the next token; ok is false at the end of the text. An
// unquoted token's delimiter is consumed, a quoted token's is not (as in
// Python).
func (l *netrcLexer) next() (t netrcToken, ok bool) {
	for l.pos < len(l.s) && isNetrcSpace(l.s[l.pos]) {
		l.advance()
	}
	if l.pos >= len(l.s) {
		return netrcToken{}, false
	}
	t.line = l.line
	var b strings.Builder
	// literal adds the character after a backslash, if any. A backslash
	// ending a line is a problem: Python would join the next line's first
	// token (often the next "machine") to the value.
	literal := func() (problem bool) {
		l.advance()
		if l.pos < len(l.s) {
			c := l.s[l.pos]
			l.advance()
			if c == '\n' {
				return true
			}
			b.WriteByte(c)
		}
		return false
	}
	const endingBackslash = "backslash at the end of a line"
	if l.s[l.pos] == '"' {
		l.advance()
		for {
			if l.pos >= len(l.s) {
				return netrcToken{line: t.line, problem: "unterminated quote"}, true
			}
			switch c := l.s[l.pos]; c {
			case '"':
				l.advance()
				t.text = b.String()
				return t, true
			case '\n':
				l.advance() // go on with the next line
				return netrcToken{line: t.line, problem: "unterminated quote"}, true
			case '\\':
				if literal() {
					return netrcToken{line: t.line, problem: endingBackslash}, true
				}
			default:
				b.WriteByte(c)
				l.advance()
			}
		}
	}
	for l.pos < len(l.s) {
		c := l.s[l.pos]
		switch {
		case isNetrcSpace(c):
			l.advance()
			t.text = b.String()
			return t, true
		case c == '\\':
			if literal() {
				return netrcToken{line: t.line, problem: endingBackslash}, true
			}
		default:
			b.WriteByte(c)
			l.advance()
		}
	}
	t.text = b.String()
	return t, true
}

// skipLine skips the rest of the current line, unless the last token
// ended it.
func (l *netrcLexer) skipLine() {
	if l.pos > 0 && l.s[l.pos-1] == '\n' {
		return
	}
	for l.pos < len(l.s) {
		c := l.s[l.pos]
		l.advance()
		if c == '\n' {
			return
		}
	}
}

// skipMacro skips a macdef body, from where its name ended through the
// first empty line (Python reads the rest of the name's line as the first
// line of the body). It reports whether an empty line ended the body.
func (l *netrcLexer) skipMacro() bool {
	for l.pos < len(l.s) {
		end := strings.IndexByte(l.s[l.pos:], '\n')
		if end < 0 {
			l.pos = len(l.s)
			return false
		}
		empty := end == 0
		l.pos += end + 1
		l.line++
		if empty {
			return true
		}
	}
	return false
}
