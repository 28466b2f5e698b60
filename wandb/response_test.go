package wandb

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// TestErrorBodies: every body shape the facts list keeps the server's text.
// TestNoAPIAtTheURL: a 404 that is not the API's own answer means the base
// URL is wrong; it must not read as "no such user" (a script would then
// create everyone), and the message says what to fix.
func TestNoAPIAtTheURL(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	for _, tc := range []struct{ base, want string }{
		{srv.URL + "/graphql", "there is no W&B API at " + srv.URL + "/graphql/graphql; drop /graphql from the base URL: requests go to <base url>/graphql"},
		{srv.URL + "/api", "there is no W&B API at " + srv.URL + "/api/graphql; check the base URL: it is the server's root, such as https://api.wandb.ai or https://wandb.example.com"},
	} {
		c := testClient(t, srv, func(cfg *Config) { cfg.BaseURL = tc.base })
		_, err := c.User(context.Background(), "alice")
		e := asError(t, err, "user", CodeBadResponse)
		if e.Message != tc.want || e.Status != 404 || errors.Is(err, ErrNotFound) {
			t.Errorf("base %s: %v, want %q", tc.base, e, tc.want)
		}
		_, err = c.CreateUser(context.Background(), "x@example.com", false)
		asError(t, err, "create_user", CodeBadResponse)
	}
	if n := srv.Requests("CreateUserFromAdmin"); n != 0 {
		t.Errorf("%d creations reached the API", n)
	}
	c := testClient(t, srv, func(cfg *Config) { cfg.scimBaseURL = srv.URL + "/scimm" })
	me, err := c.Viewer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, err = me.Status(context.Background())
	if e := asError(t, err, "status", CodeBadResponse); !strings.HasPrefix(e.Message, "there is no SCIM API at "+srv.URL+"/scimm; check WANDB_SCIM_BASE_URL") {
		t.Errorf("message = %q", e.Message)
	}
}

func TestErrorBodies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		fault   wandbtest.Fault
		code    Code
		status  int
		message string // exact Error.Message
	}{
		{"graphql errors in a 200", wandbtest.Fault{Body: `{"data":{"viewer":null},"errors":[{"message":"user is deactivated","extensions":{"code":"FORBIDDEN"}}]}`},
			CodeForbidden, 200, "user is deactivated"},
		{"several graphql errors", wandbtest.Fault{Body: `{"errors":[{"message":"a not found"},{"message":"b"}]}`},
			CodeNotFound, 200, "a not found; b"},
		{"errors with a status", wandbtest.Fault{Status: 409, Body: `{"errors":["taken", {"message":"really"}]}`},
			CodeConflict, 409, "taken; really"},
		{"error string", wandbtest.Fault{Status: 400, Body: `{"error":"bad input: email"}`},
			CodeInvalidArgument, 400, "bad input: email"},
		{"error object", wandbtest.Fault{Status: 403, Body: `{"error":{"message":"not in this org"}}`},
			CodeForbidden, 403, "not in this org"},
		{"message field", wandbtest.Fault{Status: 403, Body: `{"message":"no route"}`},
			CodeForbidden, 403, "no route"},
		{"404 from the API", wandbtest.Fault{Status: 404, Body: `{"errors":[{"message":"no such key"}]}`},
			CodeNotFound, 404, "no such key"},
		{"odd error value", wandbtest.Fault{Status: 422, Body: `{"error": 42}`},
			CodeInvalidArgument, 422, "42"},
		{"other JSON", wandbtest.Fault{Status: 400, Body: "{\"reason\": \"expired\"}"},
			CodeInvalidArgument, 400, `{"reason":"expired"}`},
		{"SCIM error", wandbtest.Fault{Status: 400, Body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"bad filter","status":"400"}`},
			CodeInvalidArgument, 400, "bad filter"},
		{"precondition failed", wandbtest.Fault{Status: 412, Body: `{"detail":"the resource changed"}`},
			CodeConflict, 412, "the resource changed"},
		{"HTML 502", wandbtest.Fault{Status: 502, Body: nginx502},
			CodeUnavailable, 502, "502 Bad Gateway 502 Bad Gateway nginx/1.25.3"},
		{"plain text", wandbtest.Fault{Status: 504, Body: "upstream timed out\r\n"},
			CodeUnavailable, 504, "upstream timed out"},
		{"empty body", wandbtest.Fault{Status: 500},
			CodeInternal, 500, "internal server error (empty response body)"},
		{"unknown status, empty body", wandbtest.Fault{Status: 599},
			CodeInternal, 599, "unexpected response (empty response body)"},
		{"501", wandbtest.Fault{Status: 501, Body: `{"error":"not here"}`},
			CodeInternal, 501, "not here"},
		{"empty 200", wandbtest.Fault{Status: 200},
			CodeBadResponse, 200, "empty response body"},
		{"HTML 200", wandbtest.Fault{Body: "<html><body>Sign in &amp; continue</body></html>"},
			CodeBadResponse, 200, "response is not a JSON object: Sign in & continue"},
		{"200 without data", wandbtest.Fault{Body: `{"ok":true}`},
			CodeBadResponse, 200, `response has no data: {"ok":true}`},
		{"200 with error", wandbtest.Fault{Body: `{"error":"maintenance"}`},
			CodeInternal, 200, "maintenance"},
		{"200 with data and error", wandbtest.Fault{Body: `{"data":{"viewer":null},"error":"read-only maintenance window"}`},
			CodeInternal, 200, "read-only maintenance window"},
		{"200 with mistyped data", wandbtest.Fault{Body: `{"data":{"viewer":{"id":7}}}`},
			CodeBadResponse, 200, ""},
		{"a viewer without an id", wandbtest.Fault{Body: `{"data":{"viewer":{"id":null,"name":"A"}}}`},
			CodeBadResponse, 0, "the server returned the viewer without an id"},
		{"redirect not followed", wandbtest.Fault{Status: 304},
			CodeBadResponse, 304, "not modified (empty response body)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := wandbtest.Start(t)
			c := testClient(t, srv, func(cfg *Config) { cfg.Retry.MaxAttempts = 1 })
			srv.FailNext("GetViewer", tc.fault)
			_, err := c.Viewer(context.Background())
			e := asError(t, err, "viewer", tc.code)
			if e.Status != tc.status {
				t.Errorf("status = %d, want %d", e.Status, tc.status)
			}
			if tc.message != "" && e.Message != tc.message {
				t.Errorf("message = %q, want %q", e.Message, tc.message)
			}
			if strings.Contains(e.Message, "invalid character") || strings.Contains(e.Message, "<") && tc.code != CodeBadResponse {
				t.Errorf("message leaks a parse error or markup: %q", e.Message)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("Error() is not one line: %q", err)
			}
		})
	}
}

func TestResponseTooLarge(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	c := testClient(t, srv, func(cfg *Config) { cfg.MaxResponseBytes = 64 })
	srv.FailNext("GetViewer", wandbtest.Fault{Body: `{"data":{"viewer":null},"pad":"` + strings.Repeat("x", 1000) + `"}`})
	_, err := c.Viewer(context.Background())
	e := asError(t, err, "viewer", CodeBadResponse)
	// The hint is data, for the program to word; Error words it with the
	// package's own names.
	if e.Message != "the response is larger than the limit of 64 bytes and was cut off" || e.Hint != HintMaxResponse || e.HintValue != "1MiB" {
		t.Errorf("message = %q, hint %q %q", e.Message, e.Hint, e.HintValue)
	}
	if want := "wandb: viewer: the response is larger than the limit of 64 bytes and was cut off; " +
		"raise the limit with WANDB_MAX_RESPONSE_BYTES or Config.MaxResponseBytes (e.g. 1MiB) (HTTP 200)"; e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
	if n := srv.Requests("GetViewer"); n != 1 {
		t.Errorf("an oversized response was retried (%d attempts)", n)
	}
}

// An answer that is not 2xx is read for its message only: its first MiB,
// whatever the response limit, and its status decides what the call does.
func TestErrorBodyIsReadInPart(t *testing.T) {
	t.Parallel()
	huge := `{"errors":[{"message":"` + strings.Repeat("x", 2<<20) + `"}]}`
	srv := wandbtest.Start(t)
	c := testClient(t, srv, func(cfg *Config) { cfg.Retry.MaxAttempts = 2 })
	srv.FailNext("GetViewer", wandbtest.Fault{Status: 502, Body: huge}, wandbtest.Fault{Status: 502, Body: huge})
	_, err := c.Viewer(context.Background())
	e := asError(t, err, "viewer", CodeUnavailable)
	// Read whole, the body would parse and give the message "xxx…"; its
	// first MiB does not, and is shown as an excerpt.
	if !strings.HasPrefix(e.Message, `{"errors":[{"message":"xxx`) {
		t.Errorf("message = %.80q…, want an excerpt of the body's start", e.Message)
	}
	if n := srv.Requests("GetViewer"); n != 2 {
		t.Errorf("%d attempts, want 2: a 502 is retried however large its page", n)
	}

	// Under a smaller response limit, an error page is cut to it, not
	// reported as too large.
	c = testClient(t, srv, func(cfg *Config) { cfg.MaxResponseBytes = 64; cfg.Retry.MaxAttempts = 1 })
	srv.FailNext("GetViewer", wandbtest.Fault{Status: 403, Body: `{"errors":[{"message":"` + strings.Repeat("y", 1000) + `"}]}`})
	_, err = c.Viewer(context.Background())
	if e := asError(t, err, "viewer", CodeForbidden); !strings.HasPrefix(e.Message, `{"errors":[{"message":"yyy`) {
		t.Errorf("message = %.80q…", e.Message)
	}
}

func TestStatusCodes(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]Code{
		400: CodeInvalidArgument, 401: CodeUnauthorized, 403: CodeForbidden, 404: CodeNotFound, 405: CodeInvalidArgument,
		408: CodeTimeout, 409: CodeConflict, 410: CodeNotFound, 413: CodeInvalidArgument, 422: CodeInvalidArgument,
		429: CodeRateLimited, 500: CodeInternal, 501: CodeInternal, 502: CodeUnavailable, 503: CodeUnavailable,
		504: CodeUnavailable, 507: CodeInternal, 302: CodeBadResponse,
	} {
		if got := statusCode(status); got != want {
			t.Errorf("statusCode(%d) = %s, want %s", status, got, want)
		}
	}
}

func TestGraphQLCodes(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	c := testClient(t, srv)
	for body, want := range map[string]Code{
		`{"errors":[{"message":"x","extensions":{"code":"UNAUTHENTICATED"}}]}`:           CodeUnauthorized,
		`{"errors":[{"message":"x","extensions":{"code":"NOT_FOUND"}}]}`:                 CodeNotFound,
		`{"errors":[{"message":"x","extensions":{"code":"ALREADY_EXISTS"}}]}`:            CodeConflict,
		`{"errors":[{"message":"x","extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}`: CodeInvalidArgument,
		`{"errors":[{"message":"x","extensions":{"code":"RATE_LIMITED"}}]}`:              CodeRateLimited,
		`{"errors":[{"message":"x","extensions":{"code":"PERMISSION_ERROR"}}]}`:          CodeForbidden,
		`{"errors":[{"message":"x","extensions":{"code":"SOMETHING"}}]}`:                 CodeInternal,
		`{"errors":[{"message":"relogin required"}]}`:                                    CodeUnauthorized,
		`{"errors":[{"message":"permission denied"}]}`:                                   CodeForbidden,
		`{"errors":[{"message":"user already exists"}]}`:                                 CodeConflict,
		`{"errors":[{"message":"entity does not exist"}]}`:                               CodeNotFound,
		`{"errors":[{"message":"oops"}]}`:                                                CodeInternal,
		`{"errors":[7]}`:                                                                 CodeInternal,
	} {
		srv.FailNext("GetViewer", wandbtest.Fault{Body: body})
		_, err := c.Viewer(context.Background())
		asError(t, err, "viewer", want)
	}
}

// TestPermissionError: W&B marks a permission failure with
// extensions.code PERMISSION_ERROR, under HTTP 403 or 401 (wandb/wandb
// #8609, #1239), or in a 200: it is CodeForbidden whatever the status; a
// 401 without the code is CodeUnauthorized.
func TestPermissionError(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusForbidden, http.StatusUnauthorized, http.StatusOK} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := wandbtest.Start(t, wandbtest.WithPermissionErrorStatus(status))
			if _, err := srv.AddUser(wandbtest.SeedUser{Email: "bob@example.com"}); err != nil {
				t.Fatal(err)
			}
			c := clientFor(t, srv, testClient(t, srv), "bob@example.com")
			_, err := c.Users(context.Background(), "a")
			e := asError(t, err, "users", CodeForbidden)
			if e.Status != status || !strings.HasPrefix(e.Message, "permission denied") {
				t.Errorf("error %q, status %d; want permission denied, %d", e.Message, e.Status, status)
			}
		})
	}
	srv := wandbtest.Start(t)
	c := testClient(t, srv, func(cfg *Config) { cfg.Retry.MaxAttempts = 1 })
	for _, tc := range []struct {
		fault wandbtest.Fault
		want  Code
	}{
		{wandbtest.Fault{Status: 401, Body: `{"errors":[{"message":"nope","path":["viewer"],"extensions":{"code":"PERMISSION_ERROR"}}],"data":{"viewer":null}}`}, CodeForbidden},
		{wandbtest.Fault{Status: 401, Body: `{"errors":[{"message":"nope","extensions":{"code":"permission_error"}}]}`}, CodeForbidden},
		{wandbtest.Fault{Status: 401, Body: `{"errors":[{"message":"permission denied"}]}`}, CodeUnauthorized},
		{wandbtest.Fault{Status: 401, Body: `{"errors":[{"message":"nope","extensions":{"code":"UNAUTHENTICATED"}}]}`}, CodeUnauthorized},
		{wandbtest.Fault{Status: 401, Body: `{"error":"PERMISSION_ERROR"}`}, CodeUnauthorized},
		{wandbtest.Fault{Status: 400, Body: `{"errors":[{"message":"nope","extensions":{"code":"PERMISSION_ERROR"}}]}`}, CodeForbidden},
		// A 5xx is the server's failure whatever its body says; its status
		// decides (and retries).
		{wandbtest.Fault{Status: 500, Body: `{"errors":[{"message":"nope","extensions":{"code":"PERMISSION_ERROR"}}]}`}, CodeInternal},
	} {
		srv.FailNext("GetViewer", tc.fault)
		_, err := c.Viewer(context.Background())
		if e := asError(t, err, "viewer", tc.want); e.Status != tc.fault.Status {
			t.Errorf("%s: status %d", tc.fault.Body, e.Status)
		}
	}
	// wandbtest's own 401, for an unknown key, has no code.
	bad, err := NewClient(Config{BaseURL: srv.URL, APIKey: NewSecret(strings.Repeat("b", 40)), Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Viewer(context.Background())
	asError(t, err, "viewer", CodeUnauthorized)
}

func TestExcerpt(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 300)
	if got := excerpt([]byte(long)); !strings.HasSuffix(got, "…") || len([]rune(got)) != excerptRunes+1 {
		t.Errorf("long excerpt has %d runes", len([]rune(got)))
	}
	if got := excerpt([]byte("\xff\x00ok")); got != "\uFFFD ok" {
		t.Errorf("excerpt of bad bytes = %q", got)
	}
	if got := excerpt([]byte("<p></p>")); got != "(no readable text)" {
		t.Errorf("excerpt of empty HTML = %q", got)
	}
}

const nginx502 = `<html>
<head><title>502 Bad Gateway</title><style>body { color: red }</style></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx/1.25.3</center>
<script>var x = "<b>";</script>
</body>
</html>`

// TestUsersWithoutAnID: a listed user without an id is left out, and the
// call says so beside the others.
func TestUsersWithoutAnID(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	c := testClient(t, srv)
	srv.FailNext("SearchUsers", wandbtest.Fault{Body: `{"data":{"users":{"edges":[` +
		`{"node":{"id":"VXNlcjox","name":"A","email":"a@x.org"}},{"node":{"id":null,"name":"B","email":"b@x.org"}},{"node":{"name":"C"}}]}}}`})
	users, err := c.Users(context.Background(), "")
	e := asError(t, err, "users", CodeBadResponse)
	if e.Message != "the server listed 2 user(s) without an id, which are left out" || len(users) != 1 || users[0].ID != "VXNlcjox" {
		t.Errorf("Users = %v, %v", users, err)
	}
	srv.FailNext("SearchUsers", wandbtest.Fault{Body: `{"data":{"users":{"edges":[{"node":{"name":"C"}}]}}}`})
	if users, err := c.Users(context.Background(), ""); users != nil || !errors.Is(err, &Error{Code: CodeBadResponse}) {
		t.Errorf("Users = %v, %v; want no users and the error", users, err)
	}
}
