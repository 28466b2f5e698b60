package termtext

import (
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain text, tabs\tand lines\n", "plain text, tabs\tand lines\n"},
		{"Zoë Ünicode 日本 \\n", "Zoë Ünicode 日本 \\n"},
		{"\x1b]0;PWNED\x07\x1b[2K\x1b[1A", `\x1b]0;PWNED\a\x1b[2K\x1b[1A`},
		{"evil \x1b[1A\x1b[2K\r dry-run: x", `evil \x1b[1A\x1b[2K\r dry-run: x`},
		{"line\r\nnext\r", "line\r\nnext\\r"},
		{"a\x00b\x7fc\bd", `a\x00b\x7fc\bd`},
		{"csi \u009b2J", `csi \u009b2J`},
		{"bidi \u202eevil\u202c \u2066x\u2069", `bidi \u202eevil\u202c \u2066x\u2069`},
		{"mark \u200f kept", "mark \u200f kept"},
		{"bad \xff\x9b utf8", `bad \xff\x9b utf8`},
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.ContainsAny(Escape(tc.in), "\x1b\u009b\u202e") {
			t.Errorf("Escape(%q) keeps an unsafe rune", tc.in)
		}
	}
}

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"bob@example.com", "bob@example.com"},
		{"ml-research", "ml-research"},
		{"Zoë", "Zoë"},
		{"", `""`},
		{"two words", `"two words"`},
		{`say "hi"`, `"say \"hi\""`},
		{"evil \x1b[1A\x1b[2K\r dry-run: invite carol@example.org", `"evil \x1b[1A\x1b[2K\r dry-run: invite carol@example.org"`},
		{"rtl\u202eevil", `"rtl\u202eevil"`},
		{"tab\there", `"tab\there"`},
		{"bad\xff", `"bad\xff"`},
	} {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestQuoteLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`member of "ml" as admin`, `member of "ml" as admin`},
		{"two\nlines\x1b[2K", `two\nlines\x1b[2K`},
		{"back\\slash \u202e", `back\slash \u202e`},
		{"bad \xff", `bad \xff`},
	} {
		if got := QuoteLine(tc.in); got != tc.want {
			t.Errorf("QuoteLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestUnsafe(t *testing.T) {
	for r := rune(0); r < 0x3000; r++ {
		want := r < 0x20 && r != '\t' && r != '\n' || r == 0x7f || r >= 0x80 && r <= 0x9f ||
			r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
		if Unsafe(r) != want {
			t.Errorf("Unsafe(%U) = %v", r, !want)
		}
	}
}

func BenchmarkEscapePlain(b *testing.B) {
	s := strings.Repeat("alice@example.com  3 keys\n", 40)
	for b.Loop() {
		_ = Escape(s)
	}
}
