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
