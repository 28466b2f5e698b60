package wandb

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// jsonSeeds are inputs for the scanner's tests: valid and invalid JSON,
// and the string escapes and byte sequences encoding/json treats
// specially.
var jsonSeeds = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `12.5e-3`, `1E+2`, `"x"`, ` {"a" : [1, 2.5, -3e1, true, false, null, {"b": "c"}]} `,
	`"a\u00e9\ud83d\ude00"`, `"\ud800"`, `"\ud800x"`, `"\ud800\u0041"`, `"\udc00\ud800"`, `"\ud800\udc00"`, `"\ud800\ud800\udc00"`,
	`"\"\\\/\b\f\n\r\t"`, "\"\xff\xfe\"", "\"\xe2\x82\"", "\"\xed\xa0\x80\"", "\"\xef\xbf\xbd\"", `"\u0000"`, `"\uD834\uDD1E"`,
	"\"\x01\"", `"\x"`, `"\u12"`, `"\u12G4"`, `"abc`, `"\`, `"\u`, `"\ud800\u`, `"\ud800\uzzzz"`,
	`01`, `1.`, `-`, `1e`, `1e+`, `.5`, `+1`, `1.5.`, `nul`, `nulL`, `tru`, `falsey`, `[1,]`, `[,1]`, `{"a" 1}`, `{"a":1,}`, `{,}`,
	`{"a":1 "b":2}`, `[1 2]`, `{1:2}`, ``, ` `, `[`, `{`, `{"a":`, `[1`, `]`, `}`, `{} {}`, `[] x`, "[\"a\"]\n",
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000), strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
}

// readers returns readers of data: whole, and a byte at a time, so that
// every token is also read across refills.
func readers(data []byte) map[string]io.Reader {
	return map[string]io.Reader{
		"whole":        bytes.NewReader(data),
		"byte by byte": iotest.OneByteReader(bytes.NewReader(data)),
	}
}

// FuzzJSONScanner checks the scanner against encoding/json: it accepts
// exactly the valid JSON, decodes strings to the same text, and raw
// returns the value's bytes.
func FuzzJSONScanner(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		valid := json.Valid(data)
		var want string
		isString := json.Unmarshal(data, &want) == nil && bytes.HasPrefix(bytes.TrimSpace(data), []byte(`"`))
		for how, r := range readers(data) {
			s := newJSONScanner(r)
			err := s.skip()
			if err == nil {
				err = s.end()
			}
			if (err == nil) != valid {
				t.Fatalf("%s: %q: scanner says %v, json.Valid %v", how, data, err, valid)
			}
			if err != nil && !malformed(err) {
				t.Fatalf("%s: %q: error %v is not a syntax error", how, data, err)
			}
		}
		if valid {
			for how, r := range readers(data) {
				raw, err := newJSONScanner(r).raw()
				if err != nil || !bytes.Equal(raw, bytes.TrimSpace(data)) {
					t.Fatalf("%s: raw(%q) = %q, %v", how, data, raw, err)
				}
			}
		}
		if isString {
			for how, r := range readers(data) {
				got, ok, err := newJSONScanner(r).appendStr(nil, "x")
				if err != nil || !ok || string(got) != want {
					t.Fatalf("%s: str(%q) = %q, %v, %v; encoding/json: %q", how, data, got, ok, err, want)
				}
			}
		}
	})
}

func TestJSONScannerTypeErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		input string
		read  func(s *jsonScanner) error
		want  string
	}{
		{`"x"`, func(s *jsonScanner) error { return s.object("data", nil) }, "data is a string, not an object"},
		{`[1]`, func(s *jsonScanner) error { return s.object("data", nil) }, "data is an array, not an object"},
		{`{}`, func(s *jsonScanner) error { return s.array("edges", nil) }, "edges is an object, not an array"},
		{`12`, func(s *jsonScanner) error { _, _, err := s.appendStr(nil, "id"); return err }, "id is a number, not a string"},
		{`true`, func(s *jsonScanner) error { _, _, err := s.appendStr(nil, "id"); return err }, "id is a boolean, not a string"},
		{`"true"`, func(s *jsonScanner) error { _, _, err := s.boolean("admin"); return err }, "admin is a string, not a boolean"},
	} {
		err := tc.read(newJSONScanner(strings.NewReader(tc.input)))
		if err == nil || err.Error() != tc.want || malformed(err) {
			t.Errorf("%s: error %v, want %q (a type error)", tc.input, err, tc.want)
		}
	}
	// A value that is not JSON at all is a syntax error, not a type error.
	if _, _, err := newJSONScanner(strings.NewReader(`x`)).appendStr(nil, "id"); !errors.Is(err, errJSONSyntax) {
		t.Errorf("str(x): %v, want a syntax error", err)
	}
}
