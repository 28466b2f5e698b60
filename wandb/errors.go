package wandb

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wandb-lua/wandb-lua/wandb/termtext"
)

// Code classifies an [Error]. Codes are stable lower-case strings, so a
// program's users (its scripts, say) can compare them without Go types.
type Code string

// The codes an [Error] can carry.
const (
	// CodeNotFound: the user or key does not exist (HTTP 404 or no match).
	CodeNotFound Code = "not_found"
	// CodeUnauthorized: the key is missing, unknown or revoked (HTTP 401
	// without W&B's PERMISSION_ERROR).
	CodeUnauthorized Code = "unauthorized"
	// CodeForbidden: the key is valid but may not do this, e.g. not an admin
	// (HTTP 403, or a GraphQL error whose extensions.code is PERMISSION_ERROR,
	// which W&B also sends with 401).
	CodeForbidden Code = "forbidden"
	// CodeConflict: the object already exists (HTTP 409).
	CodeConflict Code = "conflict"
	// CodeRateLimited: the server asked the client to slow down (HTTP 429).
	CodeRateLimited Code = "rate_limited"
	// CodeUnavailable: the server or a proxy in front of it is down or overloaded (HTTP 502, 503, 504).
	CodeUnavailable Code = "unavailable"
	// CodeInvalidArgument: the caller passed something the client or server rejects (HTTP 400, 422).
	CodeInvalidArgument Code = "invalid_argument"
	// CodeAmbiguous: a lookup matched several users; see [Error.Candidates].
	CodeAmbiguous Code = "ambiguous"
	// CodeInternal: the server failed (HTTP 500) or reported a failure it did not explain.
	CodeInternal Code = "internal"
	// CodeCanceled: the caller's context was cancelled.
	CodeCanceled Code = "canceled"
	// CodeTimeout: the caller's deadline or the per-attempt timeout passed (or HTTP 408).
	CodeTimeout Code = "timeout"
	// CodeTransport: the request could not be sent or its answer not received.
	CodeTransport Code = "transport"
	// CodeBadResponse: the server answered with something that is not a usable GraphQL response.
	CodeBadResponse Code = "bad_response"
	// CodeLastAdmin: refused before anything was sent: the call would deactivate,
	// delete or demote the only active instance admin, or (Client.Plan) leave
	// the organisation without an active instance admin or a team without
	// its admin.
	CodeLastAdmin Code = "last_admin"
	// CodeReadOnly: refused before anything was sent: the client is
	// read-only (Config.ReadOnly), or Config.BeforeChange refused the
	// change (an audit log that cannot be written).
	CodeReadOnly Code = "read_only"
	// CodeUnknownOutcome: a change reached the server, its answer was lost
	// (the connection dropped, the attempt timed out, a gateway failed,
	// the call was cancelled in flight), and checking the server's state
	// failed too: it may have been applied. The message says what to check.
	CodeUnknownOutcome Code = "unknown_outcome"
	// CodeIncomplete: the server answered, but left out part of what was
	// asked (a SCIM list that does not page past its first answer); what
	// it did give comes with the error, and the message says what is
	// missing.
	CodeIncomplete Code = "incomplete"
)

// Sentinel errors, one per code that callers commonly branch on. They match
// any [*Error] with the same code: errors.Is(err, wandb.ErrNotFound).
var (
	ErrNotFound        error = &Error{Code: CodeNotFound}        // no such user or key
	ErrUnauthorized    error = &Error{Code: CodeUnauthorized}    // the key is missing, unknown or revoked
	ErrForbidden       error = &Error{Code: CodeForbidden}       // the key may not do this
	ErrConflict        error = &Error{Code: CodeConflict}        // it already exists
	ErrRateLimited     error = &Error{Code: CodeRateLimited}     // too many requests, retries exhausted
	ErrUnavailable     error = &Error{Code: CodeUnavailable}     // the server is down or overloaded
	ErrInvalidArgument error = &Error{Code: CodeInvalidArgument} // a bad argument, caught locally or by the server
	ErrAmbiguous       error = &Error{Code: CodeAmbiguous}       // a lookup matched several users
	ErrInternal        error = &Error{Code: CodeInternal}        // the server failed
	ErrLastAdmin       error = &Error{Code: CodeLastAdmin}       // the only active instance admin would be lost
	ErrReadOnly        error = &Error{Code: CodeReadOnly}        // a change refused by Config.ReadOnly or BeforeChange
	ErrUnknownOutcome  error = &Error{Code: CodeUnknownOutcome}  // a change that may have been applied
	ErrIncomplete      error = &Error{Code: CodeIncomplete}      // part of an answer is missing
)

// Error is the error every method of this package returns. It never holds
// a secret: an API key, an identity token or an access token.
type Error struct {
	Op         Op       // the call that failed, e.g. OpUser, OpCreateUser
	Code       Code     // the classification; compare with errors.Is and the Err* sentinels
	Status     int      // the HTTP status of the answer that failed (200 for GraphQL errors in a 200), 0 when there was none
	Message    string   // the server's text where it gave one, else ours
	Candidates []string // for CodeAmbiguous: the matching users; for CodeNotFound from an exact lookup: the users that partly match (as User.String()); for a GenerateAPIKey with CodeUnknownOutcome: the names of the new keys that may be its
	Err        error    // the cause, if any (context.Canceled, a net error, ...)
	Hint       Hint     // what the caller can change for the call to succeed, which Message leaves out; "" for none
	HintValue  string   // for HintMaxResponse: a larger limit to try, as the settings take it, e.g. "512MiB"

	// unsure is set on the failure of a mutation that may have taken effect
	// (the request reached the server and no answer said it was refused),
	// so that the caller can look at the server's state before reporting.
	unsure bool
}

// Hint names what a caller can change for a call that failed to succeed.
// It is data, not words: a program words it for its users (its flags, its
// script's calls); Error words it with this package's own names.
type Hint string

// The hints an Error can carry.
const (
	// HintMaxResponse: the answer was larger than the client's limit,
	// Config.MaxResponseBytes (WANDB_MAX_RESPONSE_BYTES); Error.HintValue
	// is a larger one to try.
	HintMaxResponse Hint = "max_response"
	// HintAuthenticateAs: the call acts on the client's own identity only
	// (User.GenerateAPIKey): make a client that authenticates as the user
	// (Client.WithAPIKey) and call it on that client's viewer.
	HintAuthenticateAs Hint = "authenticate_as"
)

// hintText words the hint of e with this package's names: "" for none.
func (e *Error) hintText() string {
	switch e.Hint {
	case HintMaxResponse:
		return "raise the limit with WANDB_MAX_RESPONSE_BYTES or Config.MaxResponseBytes (e.g. " + e.HintValue + ")"
	case HintAuthenticateAs:
		return "authenticate as that user (Client.WithAPIKey) and generate the key on its own viewer"
	}
	return ""
}

// Error returns one line: "wandb: <op>: <message>[; <hint>] (HTTP
// <status>)", the hint worded with this package's names.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("wandb: ")
	if e.Op != "" {
		b.WriteString(string(e.Op))
		b.WriteString(": ")
	}
	msg := e.Message
	if msg == "" {
		msg = string(e.Code)
	}
	b.WriteString(oneLine(msg))
	if h := e.hintText(); h != "" {
		b.WriteString("; ")
		b.WriteString(h)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	return b.String()
}

// Unwrap returns the cause, so errors.Is(err, context.Canceled) works.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Code; this is what
// makes errors.Is(err, wandb.ErrNotFound) work.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code != "" && t.Code == e.Code
}

// newError is the one constructor of the errors this package returns: it
// removes every secret from e's Message and Candidates, since a server may
// echo what it was sent and a caller may pass a key where an email
// belongs. Outside this file an Error literal appears only as its
// argument, which a test checks.
func (r redactor) newError(e Error) *Error {
	e.Message = r.clean(e.Message)
	var ue *url.Error
	if errors.As(e.Err, &ue) && ue == e.Err {
		// The cause of a failed request names its URL, which may carry a
		// key (a base URL with one in its path): a caller that unwraps
		// the error does not get it shown either.
		shown := *ue
		shown.URL = r.redact(ue.URL)
		e.Err = &shown
	}
	if e.Candidates != nil {
		cands := make([]string, len(e.Candidates))
		for i, c := range e.Candidates {
			cands[i] = r.clean(c)
		}
		e.Candidates = cands
	}
	return &e
}

// maxMessageRunes bounds an error message: a server's text can be any
// length.
const maxMessageRunes = 1000

// terminalEscape matches the escape sequences a terminal acts on (colors,
// cursor moves, titles, hyperlinks): a server's text must not reach one.
var terminalEscape = regexp.MustCompile(`\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]`)

// clean makes s, a message that may hold a server's text, safe to show:
// valid UTF-8, without terminal escape sequences or any rune termtext
// calls unsafe (bidirectional overrides included), on one line (no tab,
// newline or line separator either), without secrets, and at most
// maxMessageRunes long (cut after redaction, so that no part of a secret
// is left). What is unsafe is termtext's to say, so that an error and a
// script's output are held to the same rule.
func (r redactor) clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = terminalEscape.ReplaceAllString(s, "")
	s = strings.Map(func(c rune) rune {
		if termtext.Unsafe(c) || unicode.IsControl(c) || c == '\u2028' || c == '\u2029' {
			return ' '
		}
		return c
	}, s)
	s = r.redact(s)
	if utf8.RuneCountInString(s) > maxMessageRunes {
		s = string([]rune(s)[:maxMessageRunes]) + "…"
	}
	return s
}

// configError is the error for a bad configuration: a key, base URL or
// netrc file the client cannot use.
func configError(format string, args ...any) *Error {
	return redactor{}.newError(Error{Op: OpConfig, Code: CodeInvalidArgument, Message: fmt.Sprintf(format, args...)})
}

// redactKeys returns err, an error made before the client had a redactor
// (a bad base URL, say), with keys removed from it: a key pasted into the
// URL must not be echoed.
func redactKeys(err error, keys ...string) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	r := newRedactor("")
	for _, k := range keys {
		if k != "" {
			r.add(k)
			r.add(basicCredentials(k))
		}
	}
	return r.newError(*e)
}

// configErrorCause is configError with a cause, which errors.Is matches
// (ErrNoCredentials).
func configErrorCause(cause error, format string, args ...any) *Error {
	return redactor{}.newError(Error{Op: OpConfig, Code: CodeInvalidArgument, Message: fmt.Sprintf(format, args...), Err: cause})
}

// renamed returns err as an *Error for op, its message prefixed; the cause
// chain is kept.
func (r redactor) renamed(err error, op Op, prefix string) *Error {
	var e *Error
	if !errors.As(err, &e) {
		return r.newError(Error{Op: op, Code: CodeInternal, Message: prefix + err.Error(), Err: err})
	}
	cp := *e
	cp.Op, cp.Message = op, prefix+e.Message
	return r.newError(cp)
}

// oneLine collapses runs of white space (newlines included) into one space.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
