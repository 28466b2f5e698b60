// Package emailaddr checks and normalises email addresses as W&B takes
// them: package wandb sends them so, and luamod's wandb.check_email shows
// a script what will be sent.
package emailaddr

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxLen is the longest address and maxLocalLen the longest local part
// an email can have (RFC 5321, section 4.5.3.1: a path is at most 256
// octets, two of them the angle brackets).
const (
	MaxLen      = 254
	maxLocalLen = 64
)

// Normalize returns email as package wandb sends it: without the white
// space around it and with its domain in lower case, so that an address
// pasted from a spreadsheet or an HR export (" Sam.Wu@Acme.COM ") is the
// one W&B knows ("Sam.Wu@acme.com"). The local part (before the
// "@") is kept as written: RFC 5321 lets a mail server treat it
// case-sensitively, and W&B compares emails case-insensitively anyway, so
// lower-casing it would gain nothing and could change where an invitation
// is delivered. It returns an error, whose message names the address and
// what is wrong with it, for anything but a bare address such as
// "name@example.com": a display name, angle brackets, white space inside,
// an empty part, or a domain without a dot ("sam.wu@acme-ml"), which no
// address W&B can mail has.
func Normalize(email string) (string, error) {
	s := strings.TrimSpace(email)
	if local, domain, ok := strings.Cut(s, "@"); ok {
		s = local + "@" + strings.ToLower(domain)
	}
	if err := Check(s); err != nil {
		return "", err
	}
	return s, nil
}

// Check accepts a bare address such as "bob@example.com" whose domain
// has a dot, of at most MaxLen bytes, maxLocalLen of them before the
// "@".
func Check(email string) error {
	if len(email) > MaxLen {
		return fmt.Errorf("invalid email address %s: %d characters, more than the %d an address can have (RFC 5321)",
			quoteStart(email), len(email), MaxLen)
	}
	bad := func(why string) error { return fmt.Errorf("invalid email address %q: %s", email, why) }
	if email == "" {
		return fmt.Errorf("an email address is required")
	}
	if strings.TrimSpace(email) != email {
		return bad("leading or trailing white space")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Name != "" || a.Address != email {
		return bad(`want a bare address such as "name@example.com"`)
	}
	local, domain, _ := strings.Cut(email, "@")
	if local == "" || domain == "" || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return bad(`want a bare address such as "name@example.com"`)
	}
	if len(local) > maxLocalLen {
		return bad(fmt.Sprintf("the part before the @ has %d characters, more than the %d it can have (RFC 5321)", len(local), maxLocalLen))
	}
	if !strings.Contains(domain, ".") {
		return bad(fmt.Sprintf("the domain %q has no dot; want a full domain such as %q", domain, domain+".com"))
	}
	return nil
}

// quoteStart quotes the start of s, a value too long to show whole.
func quoteStart(s string) string {
	const shown = 40
	if utf8.RuneCountInString(s) <= shown {
		return strconv.Quote(s)
	}
	return strconv.Quote(string([]rune(s)[:shown])) + "…"
}
