package wandb

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// This file is the one place that sends requests: the credential layer,
// headers, retries and the decoding of every response shape.

// basicCredentials returns the Basic credentials W&B expects: user "api",
// password the key.
func basicCredentials(key string) string {
	return base64.StdEncoding.EncodeToString([]byte("api:" + key))
}

// withCredentials returns a copy of hc whose transport adds the key, as
// HTTP Basic auth, to requests for base's scheme, host:port and path, and
// to no others (a redirect elsewhere gets no credentials).
func withCredentials(hc *http.Client, base *url.URL, key string) *http.Client {
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	copied := *hc
	copied.Transport = &credentialTransport{
		next:   next,
		scheme: base.Scheme,
		host:   hostPort(base),
		path:   strings.TrimRight(base.Path, "/"),
		auth:   "Basic " + basicCredentials(key),
	}
	return &copied
}

// credentialTransport is the credential layer (cf. the SDK's
// httplayers.LimitTo around its credential provider).
type credentialTransport struct {
	next   http.RoundTripper
	scheme string
	host   string // host:port, port made explicit, host lower-case
	path   string // base path without trailing "/", "" for the root
	auth   string // "Basic ..."
}

// RoundTrip adds the credentials when req goes to the base URL.
func (t *credentialTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Del("Authorization")
	if t.allowed(req.URL) {
		r.Header.Set("Authorization", t.auth)
	}
	return t.next.RoundTrip(r)
}

func (t *credentialTransport) allowed(u *url.URL) bool {
	if u.Scheme != t.scheme || hostPort(u) != t.host {
		return false
	}
	return t.path == "" || u.Path == t.path || strings.HasPrefix(u.Path, t.path+"/")
}

// hostPort returns u's lower-case host with an explicit port.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// gqlClient is the genqlient graphql.Client for one call of the public
// API: op is the call's Lua-facing name, which every error carries.
type gqlClient struct {
	c  *Client
	op string
}

// MakeRequest implements graphql.Client.
func (g gqlClient) MakeRequest(ctx context.Context, req *graphql.Request, resp *graphql.Response) error {
	err := g.c.send(ctx, g.op, req, resp)
	if err == nil {
		return nil // not a typed nil
	}
	return err
}

// gql returns the graphql.Client for the call named op.
func (c *Client) gql(op string) graphql.Client { return gqlClient{c: c, op: op} }

// attemptResult is what one attempt produced.
type attemptResult struct {
	status   int
	header   http.Header
	body     []byte
	err      error // the transport or body-read error, if any
	notSent  bool  // the request surely never reached the server (it could not connect)
	timedOut bool  // the per-attempt timeout passed
	tooLarge bool  // the body exceeded maxBody; body holds its first maxBody bytes
}

// send runs req with retries and decodes the answer into resp. Every
// error it returns is an *Error for op.
func (c *Client) send(ctx context.Context, op string, req *graphql.Request, resp *graphql.Response) *Error {
	body, err := json.Marshal(req)
	if err != nil {
		return &Error{Op: op, Code: CodeInvalidArgument, Message: "cannot encode the request", Err: err}
	}
	mutation := strings.HasPrefix(strings.TrimSpace(req.Query), "mutation")
	p := c.retry
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return c.redactError(ctxError(op, err, nil))
		}
		start := time.Now()
		r := c.attempt(ctx, body)
		c.logger.DebugContext(ctx, "wandb request",
			"op", op, "operation", req.OpName, "attempt", attempt,
			"status", r.status, "duration", time.Since(start), "error", c.redactErrText(r.err))
		if r.err == nil && !r.tooLarge && r.status >= 200 && r.status < 300 {
			if e := c.decode(op, r, resp); e != nil {
				return c.redactError(e)
			}
			return nil
		}
		if err := ctx.Err(); err != nil {
			return c.redactError(ctxError(op, err, nil))
		}
		failure := c.failure(op, r)
		why, retry := retryable(mutation, r)
		if !retry {
			return c.redactError(failure)
		}
		if attempt >= p.MaxAttempts {
			if attempt > 1 {
				failure.Message += fmt.Sprintf(" (gave up after %d attempts)", attempt)
			}
			return c.redactError(failure)
		}
		wait, ok := c.backoff(attempt, r)
		if !ok {
			failure.Message += fmt.Sprintf(" (the server asked to retry after %s, longer than the %s allowed by RetryPolicy.MaxRetryAfter)",
				wait, p.MaxRetryAfter)
			return c.redactError(failure)
		}
		if dl, has := ctx.Deadline(); has && time.Until(dl) < wait {
			failure.Message += " (the deadline leaves no time for another attempt)"
			return c.redactError(failure)
		}
		c.logger.InfoContext(ctx, "wandb retry",
			"op", op, "operation", req.OpName, "attempt", attempt, "reason", why, "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return c.redactError(ctxError(op, ctx.Err(), failure))
		case <-t.C:
		}
	}
}

// attempt sends body once and reads the answer, within the per-attempt timeout.
func (c *Client) attempt(ctx context.Context, body []byte) attemptResult {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(actx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return attemptResult{err: err, notSent: true}
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", c.userAgent)
	hreq.Header.Set("Use-Admin-Privileges", "true")
	hresp, err := c.http.Do(hreq)
	if err != nil {
		return attemptResult{err: err, notSent: isDialError(err), timedOut: timedOut(ctx, actx)}
	}
	defer hresp.Body.Close()
	r := attemptResult{status: hresp.StatusCode, header: hresp.Header}
	r.body, err = io.ReadAll(io.LimitReader(hresp.Body, c.maxBody+1))
	if err != nil {
		r.err, r.timedOut = err, timedOut(ctx, actx)
		return r
	}
	if int64(len(r.body)) > c.maxBody {
		r.body, r.tooLarge = r.body[:c.maxBody], true
	}
	return r
}

// timedOut reports whether the attempt's own timeout (not the caller's) passed.
func timedOut(parent, attempt context.Context) bool {
	return parent.Err() == nil && errors.Is(attempt.Err(), context.DeadlineExceeded)
}

// isDialError reports whether err happened while connecting, so the
// request never reached the server.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// permanentTransportError reports transport errors that a retry cannot fix
// (as go-retryablehttp's default policy).
var permanentTransportError = regexp.MustCompile(`stopped after \d+ redirects|unsupported protocol scheme|invalid header|certificate|x509`)

// hostNotFound reports whether err says the base URL's host name does not
// exist, usually a typo in the URL: retrying would only make the user wait
// for the whole backoff schedule before seeing it.
func hostNotFound(err error) bool {
	var dns *net.DNSError
	return errors.As(err, &dns) && dns.IsNotFound
}

// retryable decides whether a failed attempt may be retried, and why.
// Queries are retried on transport errors, 408, 429 and 5xx except 501. A
// mutation is retried only where it surely did not take effect: 429, a
// failed connection, and 503 with Retry-After.
func retryable(mutation bool, r attemptResult) (why string, ok bool) {
	if r.tooLarge {
		return "", false
	}
	if r.err != nil {
		if permanentTransportError.MatchString(r.err.Error()) || hostNotFound(r.err) {
			return "", false
		}
		switch {
		case r.notSent:
			return "could not connect", true
		case mutation:
			return "", false // it may have been applied
		case r.timedOut:
			return "attempt timed out", true
		default:
			return "transport error", true
		}
	}
	s := r.status
	switch {
	case s == http.StatusTooManyRequests:
		return "HTTP 429", true
	case s == http.StatusServiceUnavailable && len(r.header.Values("Retry-After")) > 0:
		return "HTTP 503 with Retry-After", true
	case mutation:
		return "", false
	case s == http.StatusRequestTimeout, s >= 500 && s != http.StatusNotImplemented:
		return fmt.Sprintf("HTTP %d", s), true
	}
	return "", false
}

// backoff returns the wait before the retry that follows attempt (1-based):
// the server's Retry-After if it sent one (ok is false when that exceeds
// MaxRetryAfter), else MinWait doubled per attempt, capped at MaxWait, plus
// up to 25% jitter.
func (c *Client) backoff(attempt int, r attemptResult) (wait time.Duration, ok bool) {
	p := c.retry
	if d, has := retryAfter(r.header, time.Now()); has {
		return d, d <= p.MaxRetryAfter
	}
	wait = p.MaxWait
	if attempt-1 < 32 {
		if d := p.MinWait << (attempt - 1); d > 0 && d < p.MaxWait {
			wait = d
		}
	}
	return wait + rand.N(wait/4+1), true
}

// retryAfter parses a single Retry-After header: seconds (possibly
// fractional) or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	vals := h.Values("Retry-After")
	if len(vals) != 1 {
		return 0, false
	}
	v := strings.TrimSpace(vals[0])
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || secs > 1e9 {
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// ctxError is the error for a cancelled or expired caller context; last is
// the failure that was about to be retried, if any.
func ctxError(op string, err error, last *Error) *Error {
	e := &Error{Op: op, Code: CodeCanceled, Message: "canceled", Err: err}
	if errors.Is(err, context.DeadlineExceeded) {
		e.Code, e.Message = CodeTimeout, "deadline exceeded"
	}
	if last != nil {
		e.Message += " while waiting to retry after: " + last.Message
		e.Status = last.Status
	}
	return e
}

// failure turns a failed attempt (no 2xx answer) into an *Error.
func (c *Client) failure(op string, r attemptResult) *Error {
	switch {
	case r.tooLarge:
		return &Error{Op: op, Code: CodeBadResponse, Status: r.status, Message: fmt.Sprintf(
			"response body exceeds %d bytes (Config.MaxResponseBytes); it was cut off", c.maxBody)}
	case r.err != nil && r.timedOut:
		return &Error{Op: op, Code: CodeTimeout, Status: r.status, Err: r.err, Message: fmt.Sprintf(
			"no complete response within %s (Config.AttemptTimeout)", c.timeout)}
	case r.err != nil:
		msg := "cannot reach the server: " + r.err.Error()
		if r.status != 0 {
			msg = "cannot read the response: " + r.err.Error()
		}
		return &Error{Op: op, Code: CodeTransport, Status: r.status, Err: r.err, Message: msg}
	}
	code := statusCode(r.status)
	msg := bodyMessage(r.body)
	if msg == "" {
		msg = strings.ToLower(http.StatusText(r.status))
		if msg == "" {
			msg = "unexpected response"
		}
		msg += " (empty response body)"
	}
	return &Error{Op: op, Code: code, Status: r.status, Message: msg}
}

// statusCode maps an HTTP status that is not 2xx to a Code.
func statusCode(status int) Code {
	switch status {
	case http.StatusUnauthorized:
		return CodeUnauthorized
	case http.StatusForbidden:
		return CodeForbidden
	case http.StatusNotFound, http.StatusGone:
		return CodeNotFound
	case http.StatusConflict:
		return CodeConflict
	case http.StatusTooManyRequests:
		return CodeRateLimited
	case http.StatusRequestTimeout:
		return CodeTimeout
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return CodeUnavailable
	}
	switch {
	case status >= 500:
		return CodeInternal
	case status >= 400:
		return CodeInvalidArgument
	}
	return CodeBadResponse
}

// wireResponse is a response body in any of the shapes W&B sends.
type wireResponse struct {
	Data       json.RawMessage   `json:"data"`
	Errors     []json.RawMessage `json:"errors"`
	Error      json.RawMessage   `json:"error"`
	Message    json.RawMessage   `json:"message"`
	Extensions map[string]any    `json:"extensions"`
}

// decode handles a 2xx answer: data goes into resp (partial data
// included), GraphQL errors become an *Error.
func (c *Client) decode(op string, r attemptResult, resp *graphql.Response) *Error {
	if len(bytes.TrimSpace(r.body)) == 0 {
		return &Error{Op: op, Code: CodeBadResponse, Status: r.status, Message: "empty response body"}
	}
	var w wireResponse
	if err := json.Unmarshal(r.body, &w); err != nil {
		return &Error{Op: op, Code: CodeBadResponse, Status: r.status, Message: "response is not a JSON object: " + excerpt(r.body)}
	}
	resp.Extensions = w.Extensions
	if len(w.Data) > 0 && !bytes.Equal(w.Data, []byte("null")) {
		if err := json.Unmarshal(w.Data, resp.Data); err != nil {
			return &Error{Op: op, Code: CodeBadResponse, Status: r.status, Err: err,
				Message: "response data does not match the operation: " + err.Error()}
		}
	}
	list := parseGraphQLErrors(w.Errors)
	if len(list) > 0 {
		resp.Errors = list
		return &Error{Op: op, Code: graphQLCode(list), Status: r.status, Message: joinGraphQLErrors(list)}
	}
	// A backend error beside data is still an error: its text must reach
	// the caller, with whatever data came (as for GraphQL errors).
	if msg := backendMessage(w); msg != "" {
		return &Error{Op: op, Code: CodeInternal, Status: r.status, Message: msg}
	}
	if len(w.Data) == 0 {
		return &Error{Op: op, Code: CodeBadResponse, Status: r.status, Message: "response has no data: " + excerpt(r.body)}
	}
	return nil
}

// parseGraphQLErrors reads an "errors" list whose items are GraphQL error
// objects or plain strings.
func parseGraphQLErrors(raw []json.RawMessage) gqlerror.List {
	var list gqlerror.List
	for _, item := range raw {
		var s string
		if json.Unmarshal(item, &s) == nil {
			list = append(list, &gqlerror.Error{Message: s})
			continue
		}
		var e gqlerror.Error
		if json.Unmarshal(item, &e) == nil {
			list = append(list, &e)
			continue
		}
		list = append(list, &gqlerror.Error{Message: excerpt(item)})
	}
	return list
}

// joinGraphQLErrors formats errors as one line: "message (at a.b[0].c)",
// several joined with "; ".
func joinGraphQLErrors(list gqlerror.List) string {
	parts := make([]string, 0, len(list))
	for _, e := range list {
		m := strings.TrimSpace(e.Message)
		if len(e.Path) > 0 {
			m += " (at " + e.Path.String() + ")"
		}
		parts = append(parts, m)
	}
	return strings.Join(parts, "; ")
}

// graphQLCode classifies GraphQL errors in a 200 by the first error's
// extensions.code, else by its wording.
func graphQLCode(list gqlerror.List) Code {
	e := list[0]
	if code, _ := e.Extensions["code"].(string); code != "" {
		switch strings.ToUpper(code) {
		case "UNAUTHENTICATED", "UNAUTHORIZED":
			return CodeUnauthorized
		case "FORBIDDEN", "PERMISSION_DENIED":
			return CodeForbidden
		case "NOT_FOUND":
			return CodeNotFound
		case "CONFLICT", "ALREADY_EXISTS":
			return CodeConflict
		case "BAD_USER_INPUT", "INVALID_ARGUMENT", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED":
			return CodeInvalidArgument
		case "RATE_LIMITED":
			return CodeRateLimited
		}
	}
	m := strings.ToLower(e.Message)
	switch {
	case strings.Contains(m, "not found"), strings.Contains(m, "does not exist"), strings.Contains(m, "no such"):
		return CodeNotFound
	case strings.Contains(m, "relogin required"), strings.Contains(m, "unauthenticated"):
		return CodeUnauthorized
	case strings.Contains(m, "permission"), strings.Contains(m, "forbidden"), strings.Contains(m, "not allowed"),
		strings.Contains(m, "not authorized"), strings.Contains(m, "admin"):
		return CodeForbidden
	case strings.Contains(m, "already exists"):
		return CodeConflict
	}
	return CodeInternal
}

// bodyMessage extracts the server's text from an error body of any shape:
// GraphQL errors, {"error": "..."}, {"error": {"message": ...}}, other JSON
// (kept as a compact excerpt), or non-JSON such as a proxy's HTML page (a
// cleaned excerpt). It returns "" only for an empty body.
func bodyMessage(body []byte) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return ""
	}
	var w wireResponse
	if err := json.Unmarshal(body, &w); err != nil {
		return excerpt(body)
	}
	if list := parseGraphQLErrors(w.Errors); len(list) > 0 {
		return joinGraphQLErrors(list)
	}
	if msg := backendMessage(w); msg != "" {
		return msg
	}
	var compact bytes.Buffer
	if json.Compact(&compact, body) == nil {
		return excerpt(compact.Bytes())
	}
	return excerpt(body)
}

// backendMessage reads {"error": "msg"}, {"error": {"message": "msg"}} and
// {"message": "msg"}.
func backendMessage(w wireResponse) string {
	var s string
	if json.Unmarshal(w.Error, &s) == nil && s != "" {
		return oneLine(s)
	}
	var obj struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(w.Error, &obj) == nil && obj.Message != "" {
		return oneLine(obj.Message)
	}
	if json.Unmarshal(w.Message, &s) == nil && s != "" {
		return oneLine(s)
	}
	if len(w.Error) > 0 && !bytes.Equal(w.Error, []byte("null")) {
		return excerpt(w.Error)
	}
	return ""
}

const excerptRunes = 200

var (
	htmlDropBlocks = regexp.MustCompile(`(?is)<(script|style)\b.*?</(script|style)\s*>|<!--.*?-->`)
	htmlTags       = regexp.MustCompile(`(?s)<[^>]*>`)
)

// excerpt returns a short, printable, one-line version of body: HTML is
// reduced to its text, control characters dropped, and the result cut to
// 200 characters.
func excerpt(body []byte) string {
	s := string(body)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.Contains(s, "<") && strings.Contains(s, ">") {
		s = htmlDropBlocks.ReplaceAllString(s, " ")
		s = htmlTags.ReplaceAllString(s, " ")
		s = html.UnescapeString(s)
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = oneLine(s)
	if utf8.RuneCountInString(s) > excerptRunes {
		s = string([]rune(s)[:excerptRunes]) + "…"
	}
	if s == "" {
		s = "(no readable text)"
	}
	return s
}

// redactError removes the key from e's message: a server may echo what it
// was sent.
func (c *Client) redactError(e *Error) *Error {
	e.Message = c.redactString(e.Message)
	return e
}

func (c *Client) redactString(s string) string {
	for _, secret := range c.redact {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

func (c *Client) redactErrText(err error) string {
	if err == nil {
		return ""
	}
	return c.redactString(err.Error())
}
