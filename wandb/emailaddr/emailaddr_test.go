package emailaddr

import (
	"strings"
	"testing"
)

// TestNormalize: white space around an address goes and its domain
// is lower-cased; the local part is kept as written; a domain without a
// dot is refused, naming the domain.
func TestNormalize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"bob@example.com":          "bob@example.com",
		" Sam.Wu@Acme.COM\t":       "Sam.Wu@acme.com",
		"bob@example.com\n":        "bob@example.com",
		"BOB@EXAMPLE.COM":          "BOB@example.com",
		"o'neil+x@Sub.Example.org": "o'neil+x@sub.example.org",
	} {
		if got, err := Normalize(in); err != nil || got != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := Normalize("sam.wu@acme-ml")
	if err == nil || !strings.Contains(err.Error(), `invalid email address "sam.wu@acme-ml": the domain "acme-ml" has no dot`) {
		t.Errorf("a domain without a dot: %v", err)
	}
}

// TestCheck: what is not a bare address, and why, in the error; the
// longest address and local part RFC 5321 allows pass.
func TestCheck(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com" // 254
	if err := Check(long); err != nil {
		t.Errorf("a %d-character address: %v", len(long), err)
	}
	for in, want := range map[string]string{
		"":                                       "an email address is required",
		" bob@example.com":                       "leading or trailing white space",
		"Bob <bob@example.com>":                  "want a bare address",
		"bob example.com":                        "want a bare address",
		"bob@.example.com":                       "want a bare address",
		"@example.com":                           "want a bare address",
		"bob@example":                            `the domain "example" has no dot`,
		strings.Repeat("a", 65) + "@example.com": "the part before the @ has 65 characters",
		"x" + long:                               "255 characters, more than the 254",
	} {
		if err := Check(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check(%.30q) = %v, want %q", in, err, want)
		}
	}
	if err := Check(strings.Repeat("é", 300) + "@example.com"); err == nil || !strings.Contains(err.Error(), "…") {
		t.Errorf("a long address is not shown whole: %v", err)
	}
}
