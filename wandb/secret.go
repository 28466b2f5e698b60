package wandb

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

// The string of a Secret sits behind a pointer, so that a printer that
// reaches a Secret through an unexported struct field, where it cannot
// call its methods (fmt prints such fields by their kind), shows an
// address and no more.

// Secret holds a string that must never be printed, such as an API key.
// Make one with [NewSecret] and read it with [Secret.Reveal]; the zero
// Secret is unset. Every way of printing a Secret (fmt, slog,
// encoding/json, text encoders), also inside another value, shows
// "[redacted]" ("" when unset). Two Secrets made from the same string by
// separate NewSecret calls are not ==: compare what Reveal returns.
type Secret struct{ p *string }

// NewSecret returns a Secret holding s; NewSecret("") is the zero Secret.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{p: &s}
}

// Reveal returns the secret string, "" for the zero Secret.
func (s Secret) Reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

// IsSet reports whether s holds a string other than "".
func (s Secret) IsSet() bool { return s.p != nil && *s.p != "" }

// shownSecret is what every printer shows for a set Secret.
const shownSecret = "[redacted]"

// String returns "[redacted]", or "" for an unset Secret.
func (s Secret) String() string {
	if !s.IsSet() {
		return ""
	}
	return shownSecret
}

// GoString returns wandb.NewSecret("[redacted]"), or wandb.Secret{} for
// an unset Secret, so %#v shows no secret either.
func (s Secret) GoString() string {
	if !s.IsSet() {
		return "wandb.Secret{}"
	}
	return `wandb.NewSecret("` + shownSecret + `")`
}

// Format prints String for every verb (quoted for %q, GoString for %#v):
// fmt would otherwise print the string for %s, %x and the others.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'q':
		_, _ = io.WriteString(f, strconv.Quote(s.String()))
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, s.GoString())
	default:
		_, _ = io.WriteString(f, s.String())
	}
}

// LogValue keeps the secret out of structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText returns "[redacted]" (or nothing for an unset Secret), for
// encoders that use encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalJSON returns "[redacted]" as a JSON string ("" for an unset
// Secret).
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
