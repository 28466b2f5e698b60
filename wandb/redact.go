package wandb

import (
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The redactor: what a server echoes back, and what a caller passes where
// it should not, must not carry a secret out of the package, in whatever
// form a server may have turned it into.

// redactor removes secrets from what leaves the package. A Client's holds
// its key and the key's credential headers, and the secrets the client's
// family learned (learned: the API keys of service accounts it read); the
// zero value, for errors made before there is a key, removes nothing.
// Copies share the same sets of secrets.
type redactor struct {
	set     *secretSet
	learned *secretSet
}

// minSecretLen is the length below which a string is not treated as a
// secret: removing a short one would garble every message.
const minSecretLen = 8

// windowLen is the shortest run of a secret's characters (or of one of its
// encodings) that is removed wherever it appears: a server may echo a key
// cut short, or only part of it. A legacy W&B key's public name is its
// first 20 characters, which stays readable.
const windowLen = 32

// secretSet is the secrets of one key, or those a family of clients
// learned. Secrets are added, never removed: the SCIM credentials join
// once the viewer's username is known.
type secretSet struct {
	mu sync.RWMutex
	// whole are the forms shorter than windowLen, matched whole; windows
	// every windowLen-byte run of the longer ones. Both are folded (see
	// fold).
	whole   []string
	windows map[string]struct{}
	added   []string // the secrets added, to add each once
}

// newRedactor returns the redactor for key ("" for an identity with no
// key, whose secrets are added as they become known).
func newRedactor(key string) redactor {
	r := redactor{set: &secretSet{}}
	if key != "" {
		r.add(basicCredentials(key))
		r.add(key)
	}
	return r
}

// add makes r remove secret too (unless shorter than minSecretLen), in the
// forms secretForms lists.
func (r redactor) add(secret string) {
	r.set.add(secret)
}

// add adds secret to s; a nil s adds nothing.
func (s *secretSet) add(secret string) {
	if s == nil || len(secret) < minSecretLen {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Contains(s.added, secret) {
		return
	}
	s.added = append(s.added, secret)
	for _, form := range secretForms(secret) {
		f := fold(form)
		switch {
		case len(f) < minSecretLen:
		case len(f) < windowLen:
			if !slices.Contains(s.whole, f) {
				s.whole = append(s.whole, f)
			}
		default:
			if s.windows == nil {
				s.windows = map[string]struct{}{}
			}
			for i := 0; i+windowLen <= len(f); i++ {
				s.windows[f[i:i+windowLen]] = struct{}{}
			}
		}
	}
}

// secretForms returns the forms a server may echo secret in: as it is and
// without an on-prem prefix such as "local-" (matching ignores letter case
// and invisible or white-space characters between the characters, see
// fold), hex-encoded, and base64-encoded (standard and URL alphabets, with
// and without padding, and as the part of a longer base64 text that
// depends only on the secret, whatever its offset in that text).
func secretForms(secret string) []string {
	bases := []string{secret}
	if _, after, ok := strings.Cut(secret, "-"); ok && len(after) >= minSecretLen {
		bases = append(bases, after)
	}
	forms := slices.Clone(bases)
	for _, b := range bases {
		forms = append(forms, hex.EncodeToString([]byte(b)))
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			forms = append(forms, enc.EncodeToString([]byte(b)))
		}
		for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
			for off := range 3 {
				forms = append(forms, base64At(enc, b, off))
			}
		}
	}
	return forms
}

// base64At returns the characters of enc's encoding of s that depend on s
// alone when s starts off bytes (0, 1 or 2) past a multiple of three in a
// longer text that is encoded: the characters that also hold bits of the
// bytes around s are left out.
func base64At(enc *base64.Encoding, s string, off int) string {
	e := enc.EncodeToString(append(make([]byte, off), s...))
	first := (8*off + 5) / 6       // the first character with no bit of the bytes before
	last := 8 * (off + len(s)) / 6 // the characters up to here have no bit of the bytes after
	return e[first:last]
}

// ignorable reports whether r is a character a server could put between a
// secret's characters without a reader noticing: white space, a control
// character, an invisible format character (a zero-width space, a
// soft hyphen) or a combining mark.
func ignorable(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Mn, unicode.Me)
}

// fold returns s folded as skeletonOf folds a text, the form secrets and
// texts are compared in, but with each byte that is not valid UTF-8 made
// U+FFFD first, as encoding/json decodes it: a secret with such a byte
// still matches the text of a JSON answer that echoes it.
func fold(s string) string {
	// strings.Map writes each invalid byte as U+FFFD, and only copies s
	// when it has one.
	return skeletonOf(strings.Map(func(r rune) rune { return r }, s)).folded
}

// skeleton is a text folded (see skeletonOf), with where each of its bytes
// comes from in the text.
type skeleton struct {
	folded     string
	start, end []int // the text's bytes [start[i], end[i]) gave folded[i]
}

// skeletonOf folds s: without ignorable characters and with ASCII letters
// in lower case, each byte that is not valid UTF-8 kept as it is, and
// notes where each byte of the result comes from.
func skeletonOf(s string) skeleton {
	var b strings.Builder
	sk := skeleton{start: make([]int, 0, len(s)), end: make([]int, 0, len(s))}
	for i, r := range s {
		size := utf8.RuneLen(r)
		if r == utf8.RuneError {
			_, size = utf8.DecodeRuneInString(s[i:])
		}
		if ignorable(r) {
			continue
		}
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		n := b.Len()
		if r == utf8.RuneError {
			b.WriteString(s[i : i+size]) // an invalid byte stays as it is
		} else {
			b.WriteRune(r)
		}
		for range b.Len() - n {
			sk.start = append(sk.start, i)
			sk.end = append(sk.end, i+size)
		}
	}
	sk.folded = b.String()
	return sk
}

// span is a range [from, to) of a skeleton's folded text.
type span struct{ from, to int }

// find appends to hits where s's secrets are in text.
func (s *secretSet) find(text string, hits []span) []span {
	if s == nil {
		return hits
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, w := range s.whole {
		for i := 0; ; {
			j := strings.Index(text[i:], w)
			if j < 0 {
				break
			}
			hits = append(hits, span{i + j, i + j + len(w)})
			i += j + 1
		}
	}
	if len(s.windows) > 0 {
		for i := 0; i+windowLen <= len(text); i++ {
			if _, ok := s.windows[text[i:i+windowLen]]; ok {
				hits = append(hits, span{i, i + windowLen})
			}
		}
	}
	return hits
}

// redact replaces every secret in s with "[redacted]", in any of the forms
// secretForms lists: in any letter case, with invisible or white-space
// characters between its characters (they go too), and any run of
// windowLen characters or more of a form. Secrets that overlap go as one.
func (r redactor) redact(s string) string {
	if r.set == nil && r.learned == nil {
		return s
	}
	sk := skeletonOf(s)
	hits := r.learned.find(sk.folded, r.set.find(sk.folded, nil))
	if len(hits) == 0 {
		return s
	}
	slices.SortFunc(hits, func(a, b span) int { return a.from - b.from })
	var b strings.Builder
	last := 0
	for i := 0; i < len(hits); {
		cur := hits[i]
		for i++; i < len(hits) && hits[i].from < cur.to; i++ {
			cur.to = max(cur.to, hits[i].to)
		}
		from, to := sk.start[cur.from], sk.end[cur.to-1]
		b.WriteString(s[last:from])
		b.WriteString("[redacted]")
		last = to
	}
	b.WriteString(s[last:])
	return b.String()
}

// shownBy returns s, text holding data a server sent, without the secrets
// c knows (none for a nil c): String methods use it, since a server may
// put a key where a name or an email belongs.
func shownBy(c *Client, s string) string {
	if c == nil {
		return s
	}
	return c.redact(s)
}
