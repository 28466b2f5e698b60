// Package termtext makes text from data safe to show on a terminal: text a
// server, a CSV file or a script holds must not move the cursor, clear a
// line, set the window's title or reorder what is shown. It is the one
// definition of what is unsafe, for the terminal writer of wandb-lua
// (Escape) and for the one-line forms of changes, such as plan lines
// (Quote); a program that embeds the Lua module and shows a script's
// output on a terminal (luamod.SandboxOptions.Output) escapes it with
// Escape too.
package termtext

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Unsafe reports whether r, a rune of valid UTF-8, acts on a terminal
// instead of showing: a C0 control character other than tab and newline,
// DEL, a C1 control character (U+0080–U+009F, which some terminals take
// as ESC and a letter), or a bidirectional embedding, override or isolate
// (U+202A–U+202E, U+2066–U+2069), which reorders the text after it. The
// directional marks (U+200E, U+200F, U+061C) are left: they cannot
// reorder more than one character, and right-to-left text uses them.
func Unsafe(r rune) bool {
	switch {
	case r == '\t' || r == '\n':
		return false
	case r < 0x20 || r == 0x7f:
		return true
	case r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// Escape returns s with every unsafe rune (see Unsafe) written visibly as
// an escape, `\x1b`, `\r`, `\u009b`, `\u202e`, and every byte that is not
// valid UTF-8 as `\xff`. Tab, newline and a carriage return directly
// before a newline (a CRLF line end) are kept; everything else is
// unchanged, backslashes included. It returns s itself when there is
// nothing to escape.
func Escape(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		case r == '\r' && i+1 < len(s) && s[i+1] == '\n':
			b.WriteByte('\r')
		case Unsafe(r):
			b.WriteString(escapeRune(r))
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// firstUnsafe returns the index of the first byte of s that Escape
// changes, or -1.
func firstUnsafe(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f || c == '\t' || c == '\n' {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return i
		case r == '\r' && i+1 < len(s) && s[i+1] == '\n':
		case Unsafe(r):
			return i
		}
		i += size
	}
	return -1
}

// escapeRune writes the unsafe rune r as an escape.
func escapeRune(r rune) string {
	switch r {
	case '\a':
		return `\a`
	case '\b':
		return `\b`
	case '\f':
		return `\f`
	case '\r':
		return `\r`
	case '\v':
		return `\v`
	}
	if r < 0x80 {
		return `\x` + hex2(byte(r))
	}
	s := strconv.FormatInt(int64(r), 16)
	return `\u` + strings.Repeat("0", 4-len(s)) + s
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}

// Quote returns s as one word of a line that people and programs read
// (a plan line, "dry-run: invite bob@example.com to team ml"): s itself
// when it is a plain word (not empty, valid UTF-8, no space, quote,
// backslash or rune that is not printable), else s in Go's double-quoted
// syntax (strconv.Quote), where a space stays visible inside the quotes
// and every control, format and invalid character is an escape. So the
// word cannot end the line or pass for the words after it, whatever the
// data holds.
func Quote(s string) string {
	if plainWord(s) {
		return s
	}
	return strconv.Quote(s)
}

// plainWord reports whether s can stand unquoted in a line of words.
func plainWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r == utf8.RuneError || r == '"' || r == '\\' || r == ' ' || !strconv.IsPrint(r) {
			return false
		}
	}
	return true
}

// QuoteLine returns s, the free text of a line (a reason, details made
// of words that Quote wrote), with every rune that is not printable
// written as strconv.Quote writes it inside quotes (`\n`, `\x1b`,
// `\u202e`) and every invalid byte as `\xff`, but without quotes and with
// the printable runes, backslashes and quotes included, as they are: the
// text stays on one line and readable.
func QuoteLine(s string) string {
	var b strings.Builder
	escaped := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		esc := ""
		switch {
		case r == utf8.RuneError && size <= 1:
			esc = `\x` + hex2(s[i])
		case r != ' ' && !strconv.IsPrint(r):
			q := strconv.QuoteRune(r)
			esc = q[1 : len(q)-1]
		}
		switch {
		case esc != "" && !escaped:
			escaped = true
			b.WriteString(s[:i])
			b.WriteString(esc)
		case esc != "":
			b.WriteString(esc)
		case escaped:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	if !escaped {
		return s
	}
	return b.String()
}
