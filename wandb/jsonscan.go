package wandb

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonScanner reads JSON from a stream without building a document: a
// decoder asks for the value it expects next (an object's keys, an
// array's items, a string) and skips the rest. It exists for answers too
// large to decode whole with encoding/json at a reasonable cost (users()
// on a large instance), and accepts exactly what encoding/json accepts:
// the same grammar, strings decoded the same way (invalid UTF-8 and lone
// surrogates become U+FFFD), and a nesting limit. FuzzJSONScanner checks
// that against encoding/json.
//
// Why hand-written: encoding/json decodes a whole value at once, and its
// streaming Decoder.Token allocates per token; encoding/json/jsontext,
// which would do this job, is still behind GOEXPERIMENT=jsonv2 in Go
// 1.26. Replace this file with jsontext once it ships without the
// experiment.
type jsonScanner struct {
	r     io.Reader
	buf   []byte // buf[pos:] is read and not yet consumed
	pos   int
	err   error // the read error that ended the input (io.EOF at its end)
	depth int   // of the objects and arrays being read

	mark     int    // while capturing (raw): where the value starts in buf; -1 otherwise
	captured []byte // while capturing: what fill moved out of buf before mark

	key     []byte // the current object key (see object)
	skipped []byte // scratch for the strings skip reads
	text    []byte // scratch for the strings scanString reads (scimscan.go)
	filled  bool   // the last read filled the buffer: there may be much more
}

// maxJSONDepth is the nesting limit, encoding/json's.
const maxJSONDepth = 10000

// The scanner's buffer starts small, for the many small answers, and
// doubles while reads fill it, up to maxScanBuffer for large ones.
const minScanBuffer, maxScanBuffer = 512, 64 << 10

// errJSONSyntax is wrapped by every error about the input's syntax.
var errJSONSyntax = errors.New("invalid JSON")

func newJSONScanner(r io.Reader) *jsonScanner {
	return &jsonScanner{r: r, buf: make([]byte, 0, minScanBuffer), mark: -1}
}

func (s *jsonScanner) syntax(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errJSONSyntax, fmt.Sprintf(format, args...))
}

// fill reads more input, keeping buf[pos:]; it reports whether any came.
func (s *jsonScanner) fill() bool {
	if s.err != nil {
		return false
	}
	start := s.pos
	if s.mark >= 0 {
		s.captured = append(s.captured, s.buf[s.mark:s.pos]...)
		s.mark = 0
	}
	if start > 0 {
		n := copy(s.buf, s.buf[start:])
		s.buf = s.buf[:n]
		s.pos = 0
	}
	if len(s.buf) == cap(s.buf) || s.filled && cap(s.buf) < maxScanBuffer {
		s.buf = slices.Grow(s.buf, 2*cap(s.buf)-len(s.buf)) // twice the capacity
	}
	for {
		free := cap(s.buf) - len(s.buf)
		n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+n]
		s.filled = n == free
		if err != nil {
			s.err = err
		}
		if n > 0 || err != nil {
			return n > 0
		}
	}
}

// unexpectedEnd is the error for input that ends inside a value.
func (s *jsonScanner) unexpectedEnd() error {
	if s.err != nil && s.err != io.EOF {
		return s.err
	}
	return io.ErrUnexpectedEOF
}

// peek skips white space and returns the next byte, not consuming it; at
// the end of the input it returns the read error (io.EOF at a clean end).
func (s *jsonScanner) peek() (byte, error) {
	if s.pos < len(s.buf) && s.buf[s.pos] > ' ' { // the common case, inlined
		return s.buf[s.pos], nil
	}
	return s.peekSpace()
}

// peekSpace is peek past white space or the buffer's end.
func (s *jsonScanner) peekSpace() (byte, error) {
	for {
		for s.pos < len(s.buf) {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\n', '\r':
				s.pos++
			default:
				return c, nil
			}
		}
		if !s.fill() {
			return 0, s.err
		}
	}
}

// peekIn is peek inside a value, where the end of the input is an error.
func (s *jsonScanner) peekIn() (byte, error) {
	if s.pos < len(s.buf) && s.buf[s.pos] > ' ' { // the common case, inlined
		return s.buf[s.pos], nil
	}
	c, err := s.peekSpace()
	if err != nil {
		return 0, s.unexpectedEnd()
	}
	return c, nil
}

// literal consumes word (null, true, false) at pos.
func (s *jsonScanner) literal(word string) error {
	for len(s.buf)-s.pos < len(word) {
		if !s.fill() {
			if string(s.buf[s.pos:]) == word[:len(s.buf)-s.pos] {
				return s.unexpectedEnd()
			}
			return s.syntax("invalid literal")
		}
	}
	if string(s.buf[s.pos:s.pos+len(word)]) != word {
		return s.syntax("invalid literal")
	}
	s.pos += len(word)
	return nil
}

// null consumes a null if one comes next and reports whether it did.
func (s *jsonScanner) null() (bool, error) {
	c, err := s.peekIn()
	if err != nil || c != 'n' {
		return false, err
	}
	return true, s.literal("null")
}

// object reads an object, or null, calling f with each key; f must read
// the key's value. The key is valid only until f reads further (it is
// scratch space shared by every object). where names the value in type
// errors.
func (s *jsonScanner) object(where string, f func(key []byte) error) error {
	return s.container('{', '}', "an object", where, "object key:value pair", func() error {
		c, err := s.peekIn()
		if err != nil {
			return err
		}
		if c != '"' {
			return s.syntax("invalid character %q looking for beginning of object key string", c)
		}
		key, err := s.objectKey()
		if err != nil {
			return err
		}
		if s.pos < len(s.buf) && s.buf[s.pos] == ':' {
			s.pos++
		} else {
			// Reading on may move a key read in place: keep a copy.
			s.key = append(s.key[:0], key...)
			key = s.key
			if c, err = s.peekIn(); err != nil {
				return err
			}
			if c != ':' {
				return s.syntax("invalid character %q after object key", c)
			}
			s.pos++
		}
		return f(key)
	})
}

// array reads an array, or null, calling f for each item, which f must
// read. where names the value in type errors.
func (s *jsonScanner) array(where string, f func() error) error {
	return s.container('[', ']', "an array", where, "array element", f)
}

// container reads null, or a value from open to close with elements
// separated by commas, calling elem to read each element. want and where
// are for a type error, element for a syntax error.
func (s *jsonScanner) container(open, close byte, want, where, element string, elem func() error) error {
	c, err := s.peekIn()
	switch {
	case err != nil:
		return err
	case c == 'n':
		return s.literal("null")
	case c != open:
		return s.mismatch(c, want, where)
	}
	s.pos++
	if s.depth++; s.depth > maxJSONDepth {
		return s.syntax("exceeded max depth")
	}
	for first := true; ; first = false {
		c, err := s.peekIn()
		switch {
		case err != nil:
			return err
		case c == close:
			s.pos++
			s.depth--
			return nil
		case !first && c != ',':
			return s.syntax("invalid character %q after %s", c, element)
		case !first:
			s.pos++
		}
		if err := elem(); err != nil {
			return err
		}
	}
}

// objectKey consumes the key string at pos and returns its text: in
// place when it is plain ASCII within the buffer, else decoded into
// s.key. Either way it is valid only until the scanner reads further.
func (s *jsonScanner) objectKey() ([]byte, error) {
	i := s.pos + 1
	for i < len(s.buf) && !needsCare[s.buf[i]] {
		i++
	}
	if i < len(s.buf) && s.buf[i] == '"' {
		key := s.buf[s.pos+1 : i]
		s.pos = i + 1
		return key, nil
	}
	var err error
	s.key, err = s.appendString(s.key[:0])
	return s.key, err
}

// appendStr reads a string, appending its text to dst, or null (ok false).
func (s *jsonScanner) appendStr(dst []byte, where string) (_ []byte, ok bool, err error) {
	c, err := s.peekIn()
	switch {
	case err != nil:
		return dst, false, err
	case c == 'n':
		return dst, false, s.literal("null")
	case c != '"':
		return dst, false, s.mismatch(c, "a string", where)
	}
	dst, err = s.appendString(dst)
	return dst, true, err
}

// boolean reads true, false or null (null true).
func (s *jsonScanner) boolean(where string) (v, null bool, err error) {
	c, err := s.peekIn()
	switch {
	case err != nil:
		return false, false, err
	case c == 'n':
		return false, true, s.literal("null")
	case c == 't':
		return true, false, s.literal("true")
	case c == 'f':
		return false, false, s.literal("false")
	}
	return false, false, s.mismatch(c, "a boolean", where)
}

// mismatch is the error for a value that starts with c where want was
// expected; the value is not consumed (the decoder gives up).
func (s *jsonScanner) mismatch(c byte, want, where string) error {
	got := "a number"
	switch c {
	case '"':
		got = "a string"
	case '{':
		got = "an object"
	case '[':
		got = "an array"
	case 't', 'f':
		got = "a boolean"
	case 'n':
		got = "null"
	}
	if c != '-' && (c < '0' || c > '9') && got == "a number" {
		return s.syntax("invalid character %q looking for beginning of value", c)
	}
	return fmt.Errorf("%s is %s, not %s", where, got, want)
}

// needsCare marks the bytes a string's fast path stops at: the closing
// quote, an escape, a control character (invalid) and non-ASCII (checked
// as UTF-8).
var needsCare = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	for c := 0x80; c < 0x100; c++ {
		t[c] = true
	}
	return t
}()

// appendString consumes the string at pos (its opening quote next) and
// appends its decoded text to dst.
func (s *jsonScanner) appendString(dst []byte) ([]byte, error) {
	s.pos++ // the opening quote
	for {
		i := s.pos
		for i < len(s.buf) && !needsCare[s.buf[i]] {
			i++
		}
		dst = append(dst, s.buf[s.pos:i]...)
		s.pos = i
		if i == len(s.buf) {
			if !s.fill() {
				return dst, s.unexpectedEnd()
			}
			continue
		}
		switch c := s.buf[i]; {
		case c == '"':
			s.pos++
			return dst, nil
		case c == '\\':
			var err error
			if dst, err = s.escape(dst); err != nil {
				return dst, err
			}
		case c < 0x20:
			return dst, s.syntax("invalid character %q in string literal", c)
		default: // non-ASCII: copy a valid rune, or U+FFFD for invalid bytes
			for len(s.buf)-s.pos < utf8.UTFMax && !utf8.FullRune(s.buf[s.pos:]) && s.fill() {
			}
			r, size := utf8.DecodeRune(s.buf[s.pos:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, s.buf[s.pos:s.pos+size]...)
			}
			s.pos += size
		}
	}
}

// escape consumes the escape sequence at pos and appends what it stands
// for, as encoding/json decodes it.
func (s *jsonScanner) escape(dst []byte) ([]byte, error) {
	for len(s.buf)-s.pos < 2 {
		if !s.fill() {
			return dst, s.unexpectedEnd()
		}
	}
	c := s.buf[s.pos+1]
	switch c {
	case '"', '\\', '/':
		s.pos += 2
		return append(dst, c), nil
	case 'b':
		s.pos += 2
		return append(dst, '\b'), nil
	case 'f':
		s.pos += 2
		return append(dst, '\f'), nil
	case 'n':
		s.pos += 2
		return append(dst, '\n'), nil
	case 'r':
		s.pos += 2
		return append(dst, '\r'), nil
	case 't':
		s.pos += 2
		return append(dst, '\t'), nil
	case 'u':
		r, err := s.hex4()
		if err != nil {
			return dst, err
		}
		if utf16.IsSurrogate(r) {
			// A low surrogate escape right after a high one makes a pair;
			// anything else leaves a lone surrogate: U+FFFD.
			if r2, ok := s.lowSurrogate(); ok {
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					return utf8.AppendRune(dst, dec), nil
				}
				// Not a pair: the first is U+FFFD, and the second is read
				// again on its own.
				s.pos -= 6
			}
			r = utf8.RuneError
		}
		return utf8.AppendRune(dst, r), nil
	}
	return dst, s.syntax("invalid character %q in string escape code", c)
}

// hex4 consumes \uXXXX at pos and returns its code unit.
func (s *jsonScanner) hex4() (rune, error) {
	for len(s.buf)-s.pos < 6 {
		if !s.fill() {
			for _, c := range s.buf[s.pos+2:] {
				if !isHex(c) {
					return 0, s.syntax("invalid character %q in \\u hexadecimal character escape", c)
				}
			}
			return 0, s.unexpectedEnd()
		}
	}
	for _, c := range s.buf[s.pos+2 : s.pos+6] {
		if !isHex(c) {
			return 0, s.syntax("invalid character %q in \\u hexadecimal character escape", c)
		}
	}
	v, _ := strconv.ParseUint(string(s.buf[s.pos+2:s.pos+6]), 16, 16)
	s.pos += 6
	return rune(v), nil
}

// lowSurrogate consumes a \uXXXX escape at pos if one is there, returning
// its code unit; it consumes nothing otherwise.
func (s *jsonScanner) lowSurrogate() (rune, bool) {
	for len(s.buf)-s.pos < 6 && s.fill() {
	}
	if len(s.buf)-s.pos < 6 || s.buf[s.pos] != '\\' || s.buf[s.pos+1] != 'u' {
		return 0, false
	}
	r, err := s.hex4()
	if err != nil {
		return 0, false // hex4 consumed nothing; the string reads it as an error
	}
	return r, true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// skip consumes one value of any kind, checking its syntax.
func (s *jsonScanner) skip() error {
	c, err := s.peekIn()
	if err != nil {
		return err
	}
	switch {
	case c == '{':
		return s.object("", func([]byte) error { return s.skip() })
	case c == '[':
		return s.array("", s.skip)
	case c == '"':
		var err error
		s.skipped, err = s.appendString(s.skipped[:0])
		return err
	case c == 'n':
		return s.literal("null")
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	return s.syntax("invalid character %q looking for beginning of value", c)
}

// number consumes a number, checking it has JSON's syntax.
func (s *jsonScanner) number() error {
	next := func() (byte, bool) {
		if s.pos == len(s.buf) && !s.fill() {
			return 0, false
		}
		return s.buf[s.pos], true
	}
	digits := func() int {
		n := 0
		for c, ok := next(); ok && '0' <= c && c <= '9'; c, ok = next() {
			s.pos++
			n++
		}
		return n
	}
	if c, _ := next(); c == '-' {
		s.pos++
	}
	switch c, ok := next(); {
	case !ok:
		return s.unexpectedEnd()
	case c == '0':
		s.pos++
	case '1' <= c && c <= '9':
		digits()
	default:
		return s.syntax("invalid character %q in numeric literal", c)
	}
	if c, ok := next(); ok && c == '.' {
		s.pos++
		if digits() == 0 {
			return s.numberEnd()
		}
	}
	if c, ok := next(); ok && (c == 'e' || c == 'E') {
		s.pos++
		if c, ok := next(); ok && (c == '+' || c == '-') {
			s.pos++
		}
		if digits() == 0 {
			return s.numberEnd()
		}
	}
	return nil
}

// numberEnd is the error for a number cut short: by the input's end or a
// character that cannot follow.
func (s *jsonScanner) numberEnd() error {
	if s.pos == len(s.buf) && !s.fill() {
		return s.unexpectedEnd()
	}
	return s.syntax("invalid character %q in numeric literal", s.buf[s.pos])
}

// raw consumes one value and returns a copy of its bytes, to decode with
// encoding/json.
func (s *jsonScanner) raw() ([]byte, error) {
	if _, err := s.peekIn(); err != nil {
		return nil, err
	}
	s.mark, s.captured = s.pos, s.captured[:0]
	err := s.skip()
	out := append(s.captured, s.buf[s.mark:s.pos]...)
	s.mark, s.captured = -1, nil
	return out, err
}

// end checks that nothing but white space follows.
func (s *jsonScanner) end() error {
	c, err := s.peek()
	switch {
	case err == io.EOF:
		return nil
	case err != nil:
		return err
	}
	return s.syntax("invalid character %q after top-level value", c)
}
