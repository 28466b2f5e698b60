package wandb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/wandb-lua/wandb-lua/wandb/bytesize"
)

// Reading responses: a 2xx answer's data and GraphQL errors, and an error
// for every other answer, whatever its shape (GraphQL errors, a backend's
// {"error": ...}, a proxy's HTML page).

// timeoutVariables tells a user where to give each attempt more time, as
// limitsFromEnv reads it.
const timeoutVariables = "WANDB__GRAPHQL_TIMEOUT_SECONDS, or WANDB_HTTP_TIMEOUT when that is not set (seconds)"

// failure turns a failed attempt (no 2xx answer) into an *Error.
func (c *Client) failure(op Op, r attemptResult) *Error {
	switch {
	case r.token != nil:
		return c.tokenFailure(op, r.token)
	case r.redirect:
		return c.newError(Error{Op: op, Code: CodeBadResponse, Status: r.status, Message: r.err.Error()})
	case r.tooLarge:
		return c.newError(Error{Op: op, Code: CodeBadResponse, Status: r.status,
			Message: "the response is larger than the limit of " + bytesize.Format(c.maxBody) + " and was cut off",
			Hint:    HintMaxResponse, HintValue: bytesize.Larger(c.maxBody)})
	case r.err != nil && r.timedOut:
		// Both variables are named, the one that wins first: sent to
		// WANDB_HTTP_TIMEOUT alone, a user who has the other set would
		// change nothing.
		return c.newError(Error{Op: op, Code: CodeTimeout, Status: r.status, Err: r.err, Message: fmt.Sprintf(
			"no complete response within %s, the time each attempt has; give it more with %s", c.timeout, timeoutVariables)})
	case r.err != nil:
		msg := "cannot reach the server: " + r.err.Error()
		if r.status != 0 {
			msg = "cannot read the response: " + r.err.Error()
		}
		return c.newError(Error{Op: op, Code: CodeTransport, Status: r.status, Err: r.err, Message: msg})
	}
	code := statusCode(r.status)
	if r.status >= 400 && r.status < 500 && permissionError(r.body) {
		// W&B answers a permission failure with 403 or 401 (wandb/wandb
		// #8609, #1239): the code, not the status, says it is one. A 401
		// without it stays a credentials failure.
		code = CodeForbidden
	}
	msg := bodyMessage(r.body)
	if msg == "" {
		msg = strings.ToLower(http.StatusText(r.status))
		if msg == "" {
			msg = "unexpected response"
		}
		msg += " (empty response body)"
	}
	if code == CodeUnauthorized {
		msg = c.credentialsRejected(msg)
	}
	return c.newError(Error{Op: op, Code: code, Status: r.status, Message: msg})
}

// credentialsRejected is the message of a 401 that is no permission
// failure: the server rejected the credentials. It says so in the client's
// words first, naming where they came from (Config.KeySource), never
// what they are, and then gives the server's text, said.
func (c *Client) credentialsRejected(said string) string {
	what := "the API key"
	switch {
	case c.tokens != nil:
		what = "the access token obtained for the identity token in " + c.cfg.identityTokenFile
		if c.cfg.KeySource != "" {
			what += " (" + c.cfg.KeySource + ")"
		}
	case c.cfg.KeySource != "":
		what += " from " + c.cfg.KeySource
	}
	hint := "it is revoked, mistyped, or for another server"
	if c.tokens != nil {
		hint = "the identity provider's token may not be trusted by this server, or be for another one"
	}
	return fmt.Sprintf("the server at %s rejected %s (%s); it answered: %s", c.BaseURL(), what, hint, said)
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
	case http.StatusConflict, http.StatusPreconditionFailed:
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
	Detail     json.RawMessage   `json:"detail"` // SCIM errors
	Extensions map[string]any    `json:"extensions"`
}

// decode reads a 2xx answer as it streams in: data goes into resp
// (partial data included), GraphQL errors become an *Error. Data that
// implements streamedData decodes itself, item by item, as it arrives;
// other data (genqlient's types, for small answers) is read as raw JSON
// and decoded with encoding/json. The body itself is never held.
func (c *Client) decode(op Op, status int, body *bodyReader, resp *graphql.Response) *Error {
	bad := func(msg string, err error) *Error {
		return c.newError(Error{Op: op, Code: CodeBadResponse, Status: status, Err: err, Message: msg})
	}
	notObject := func() *Error { return bad("response is not a JSON object: "+excerpt(body.fullHead()), nil) }
	s := newJSONScanner(body)
	switch first, err := s.peek(); {
	case err == io.EOF:
		return bad("empty response body", nil)
	case err != nil || first != '{':
		return notObject()
	}
	var w wireResponse
	hasData := false
	err := s.object("response", func(key []byte) error {
		var field any
		switch string(key) {
		case "data":
			hasData = true
			err := decodeData(s, resp.Data)
			if err != nil && !malformed(err) {
				err = dataMismatch{err}
			}
			return err
		case "errors":
			field = &w.Errors
		case "error":
			field = &w.Error
		case "message":
			field = &w.Message
		case "detail":
			field = &w.Detail
		case "extensions":
			field = &w.Extensions
		default:
			return s.skip()
		}
		raw, err := s.raw()
		if err != nil {
			return err
		}
		return json.Unmarshal(raw, field)
	})
	if err == nil {
		err = s.end()
	}
	var mismatch dataMismatch
	switch {
	case body.err != nil:
		return nil // the attempt reports the failed read
	case errors.As(err, &mismatch):
		return bad("response data does not match the operation: "+mismatch.err.Error(), mismatch.err)
	case err != nil:
		return notObject()
	}
	resp.Extensions = w.Extensions
	list := parseGraphQLErrors(w.Errors)
	if len(list) > 0 {
		resp.Errors = list
		return c.newError(Error{Op: op, Code: graphQLCode(list), Status: status, Message: joinGraphQLErrors(list)})
	}
	// A backend error beside data is still an error: its text must reach
	// the caller, with whatever data came (as for GraphQL errors).
	if msg := backendMessage(w); msg != "" {
		return c.newError(Error{Op: op, Code: CodeInternal, Status: status, Message: msg})
	}
	if !hasData {
		return bad("response has no data: "+excerpt(body.fullHead()), nil)
	}
	return nil
}

// dataMismatch is data that is JSON but not the operation's shape.
type dataMismatch struct{ err error }

func (e dataMismatch) Error() string { return e.err.Error() }

// malformed reports whether err says the input is not JSON (or ended
// early), rather than JSON of another shape.
func malformed(err error) bool {
	var syntax *json.SyntaxError
	return errors.Is(err, errJSONSyntax) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &syntax)
}

// streamedData is a response's Data that decodes itself from the stream,
// so that a large answer is converted item by item instead of held whole.
// decodeFrom reads exactly one JSON value (null included) from s, and
// starts afresh each time it is called (a retried attempt calls it again).
type streamedData interface {
	decodeFrom(s *jsonScanner) error
}

// decodeData decodes the "data" value into data: a streamedData decodes
// itself; anything else (genqlient's generated response types) is zeroed
// first, so a retried attempt leaves nothing of a failed one, and decoded
// by encoding/json.
func decodeData(s *jsonScanner, data any) error {
	if sd, ok := data.(streamedData); ok {
		return sd.decodeFrom(s)
	}
	if v := reflect.ValueOf(data); v.Kind() == reflect.Pointer && !v.IsNil() {
		v.Elem().SetZero()
	}
	raw, err := s.raw()
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, data)
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

// joinGraphQLErrors formats errors as one line, their messages joined with
// "; ". The path of each error in the operation ("users.edges[0]") is left
// out: it names the query's fields, which mean nothing to the person
// reading the message.
func joinGraphQLErrors(list gqlerror.List) string {
	parts := make([]string, 0, len(list))
	for _, e := range list {
		parts = append(parts, strings.TrimSpace(e.Message))
	}
	return strings.Join(parts, "; ")
}

// permissionError reports whether body holds GraphQL errors the first of
// which has extensions.code PERMISSION_ERROR, W&B's code for a permission
// failure.
func permissionError(body []byte) bool {
	var w wireResponse
	if json.Unmarshal(body, &w) != nil {
		return false
	}
	list := parseGraphQLErrors(w.Errors)
	return len(list) > 0 && extensionCode(list[0]) == "PERMISSION_ERROR"
}

// extensionCode is e's extensions.code, upper-cased; "" when it has none.
func extensionCode(e *gqlerror.Error) string {
	code, _ := e.Extensions["code"].(string)
	return strings.ToUpper(code)
}

// graphQLCode classifies GraphQL errors in a 200 by the first error's
// extensions.code, else by its wording.
func graphQLCode(list gqlerror.List) Code {
	e := list[0]
	if code := extensionCode(e); code != "" {
		switch code {
		case "UNAUTHENTICATED", "UNAUTHORIZED":
			return CodeUnauthorized
		case "FORBIDDEN", "PERMISSION_DENIED", "PERMISSION_ERROR":
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

// backendMessage reads {"error": "msg"}, {"error": {"message": "msg"}},
// {"message": "msg"} and SCIM's {"detail": "msg"}.
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
	if json.Unmarshal(w.Detail, &s) == nil && s != "" {
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

// notDeleted is the error for a delete mutation's answer that did not
// confirm the deletion of what: the transport's err if there was one, or
// else an error saying what the server answered: success false (a
// definite failure), or a null result or success, which leaves unsure
// whether it was deleted (see settle).
func (c *Client) notDeleted(op Op, what string, answered bool, success *bool, err error) error {
	if err != nil {
		return err
	}
	msg := "the server did not confirm the deletion (result: null)"
	switch {
	case answered && success == nil:
		msg = "the server did not confirm the deletion (success: null)"
	case answered:
		// A definite no.
		return c.newError(Error{Op: op, Code: CodeInternal, Status: 200, Message: "the server did not delete the " + what + " (success: false)"})
	}
	// No answer either way: whether it was deleted is for a check to say.
	return c.newError(Error{Op: op, Code: CodeInternal, Status: 200, Message: msg, unsure: true})
}

// warn logs err, the server's error beside a confirmed success of op
// (GraphQL errors next to the data saying it was done), as a warning: the
// call succeeded, so it returns nil, and the server's words are not lost.
func (c *Client) warn(ctx context.Context, op Op, err error) {
	if err != nil {
		c.logger.WarnContext(ctx, "wandb server error beside a success", "op", op, "error", c.redactErr(err))
	}
}

// apiNotFound reports whether a 404's body is the API's own answer (GraphQL
// errors, or a SCIM error naming what it did not find): something does not
// exist. Anything else (a web server's page, a proxy's, an empty body) says
// the URL is not an API at all.
func apiNotFound(body []byte) bool {
	var w struct {
		Errors  []json.RawMessage `json:"errors"`
		Schemas []string          `json:"schemas"`
		Detail  string            `json:"detail"`
	}
	if json.Unmarshal(body, &w) != nil {
		return false
	}
	return len(w.Errors) > 0 || len(w.Schemas) > 0 || w.Detail != ""
}

// noAPIAt is the error for a 404 that is not the API's: the base URL (or
// the SCIM base URL) is wrong. Not CodeNotFound, which a script reads as
// "no such user" and would act on (create everyone, say).
func (c *Client) noAPIAt(op Op, req request) *Error {
	if req.url == c.endpoint {
		hint := "check the base URL: it is the server's root, such as https://api.wandb.ai or https://wandb.example.com"
		if strings.HasSuffix(c.cfg.BaseURL, "/graphql") {
			hint = "drop /graphql from the base URL: requests go to <base url>/graphql"
		}
		return c.newError(Error{Op: op, Code: CodeBadResponse, Status: http.StatusNotFound, Message: fmt.Sprintf(
			"there is no W&B API at %s; %s", req.url, hint)})
	}
	return c.newError(Error{Op: op, Code: CodeBadResponse, Status: http.StatusNotFound, Message: fmt.Sprintf(
		"there is no SCIM API at %s; check WANDB_SCIM_BASE_URL (default: the base URL + /scim; some deployments serve it at /scim/v2)", c.scimBase)})
}
