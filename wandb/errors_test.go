package wandb

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wandb-lua/wandb-lua/wandb/termtext"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// TestNoErrorPathLeaksTheKey builds every kind of error the package
// returns with the key (or its Basic credentials) in the inputs or in what
// the server sends back, and checks that no error text, field, cause or
// log line shows it.
func TestNoErrorPathLeaksTheKey(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	key := srv.AdminKey()
	basic := basicCredentials(key)
	scimBasic := base64.StdEncoding.EncodeToString([]byte(wandbtest.AdminUsername + ":" + key))
	ctx := context.Background()
	var logs logBuffer
	c := testClient(t, srv, func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	// Users whose emails hold the key: their String() does too.
	for _, domain := range []string{"a.example", "b.example"} {
		if _, err := srv.AddUser(wandbtest.SeedUser{Email: key + "@" + domain}); err != nil {
			t.Fatal(err)
		}
	}
	echo := func(op string, f wandbtest.Fault, times int) {
		for range times {
			srv.FailNext(op, f)
		}
	}
	keyed, err := c.User(ctx, key+"@a.example")
	if err != nil {
		t.Fatal(err)
	}
	tooLong := http.Header{"Retry-After": {"3600"}}
	soon := http.Header{"Retry-After": {"0.2"}}

	for _, tc := range []struct {
		name string
		run  func() error
	}{
		{"4xx GraphQL errors echo the key", func() error {
			echo("SearchUsers", wandbtest.Fault{Status: 400, Body: `{"errors":[{"message":"bad key ` + key + `"}]}`}, 1)
			_, err := c.Users(ctx, "x")
			return err
		}},
		{"4xx backend error echoes the credentials", func() error {
			echo("SearchUsers", wandbtest.Fault{Status: 403, Body: `{"error":"Basic ` + basic + ` refused"}`}, 1)
			_, err := c.Users(ctx, "x")
			return err
		}},
		{"5xx HTML page, retries exhausted", func() error {
			echo("SearchUsers", wandbtest.Fault{Status: 502, Body: "<html><body>upstream " + key + "</body></html>"}, fastRetry.MaxAttempts)
			_, err := c.Users(ctx, "x")
			return err
		}},
		{"200 with GraphQL errors", func() error {
			echo("SearchUsers", wandbtest.Fault{Body: `{"data":null,"errors":[{"message":"` + key + `","path":["users"]}]}`}, 1)
			_, err := c.Users(ctx, "x")
			return err
		}},
		{"200 with a backend error beside data", func() error {
			echo("SearchUsers", wandbtest.Fault{Body: `{"data":{"users":null},"error":{"message":"` + key + `"}}`}, 1)
			_, err := c.Users(ctx, "x")
			return err
		}},
		{"200 that is not JSON", func() error {
			echo("SearchUsers", wandbtest.Fault{Body: "oops " + key}, 1)
			_, err := c.Users(ctx, "x")
			return err
		}},
		{"200 whose data does not match", func() error {
			echo("SearchUsers", wandbtest.Fault{Body: `{"data":{"users":"` + key + `"}}`}, 1)
			_, err := c.Users(ctx, "x")
			return err
		}},
		{"connection dropped during a mutation, and the check fails", func() error {
			echo("CreateUserFromAdmin", wandbtest.Fault{Drop: true}, 1)
			echo("SearchUsers", wandbtest.Fault{Status: 400, Body: `{"error":"` + key + `"}`}, 1)
			_, err := c.CreateUser(ctx, key+"@dropped.example", false)
			return err
		}},
		{"Retry-After beyond the limit", func() error {
			echo("SearchUsers", wandbtest.Fault{Status: 429, Header: tooLong, Body: `{"error":"` + key + `"}`}, 1)
			_, err := c.Users(ctx, "x")
			return err
		}},
		{"cancelled while waiting to retry", func() error {
			echo("SearchUsers", wandbtest.Fault{Status: 503, Header: soon, Body: `{"error":"` + key + `"}`}, 1)
			cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			_, err := c.Users(cctx, "x")
			return err
		}},
		{"SCIM error echoes the SCIM credentials", func() error {
			me, err := c.Viewer(ctx)
			if err != nil {
				return err
			}
			echo("SCIMListUsers", wandbtest.Fault{Status: 400, Body: `{"detail":"Basic ` + scimBasic + ` rejected","status":"400"}`}, 1)
			_, err = me.Status(ctx)
			return err
		}},
		{"SCIM error echoes the key as a bearer token", func() error {
			bearer, err := NewClient(Config{BaseURL: srv.URL, APIKey: NewSecret(key), scimAuth: scimBearer, Retry: fastRetry})
			if err != nil {
				return err
			}
			echo("SCIMListUsers", wandbtest.Fault{Status: 401, Body: `{"detail":"Bearer ` + key + ` rejected"}`}, 1)
			_, err = (&User{ID: "x", Email: ptrTo("a@example.com"), client: bearer}).Status(ctx)
			return err
		}},
		{"lookup of a name in nobody's email", func() error {
			_, err := c.User(ctx, "nobody-"+key)
			return err
		}},
		{"ambiguous lookup with the key in the candidates", func() error {
			// The query is part of the key; the candidates hold all of it.
			_, err := c.User(ctx, key[:30])
			return err
		}},
		{"the key as an email", func() error {
			_, err := c.CreateUser(ctx, key, false)
			return err
		}},
		{"conflict on an email holding the key", func() error {
			_, err := c.CreateUser(ctx, key+"@a.example", false)
			return err
		}},
		{"a key generated for another user", func() error {
			_, err := keyed.GenerateAPIKey(ctx, key)
			return err
		}},
		{"the viewer check fails with an echo", func() error {
			other, err := c.WithAPIKey(key)
			if err != nil {
				return err
			}
			u, err := other.User(ctx, key+"@b.example")
			if err != nil {
				return err
			}
			echo("GetViewer", wandbtest.Fault{Status: 401, Body: `{"error":"` + key + `"}`}, 1)
			_, err = u.GenerateAPIKey(ctx, "x")
			return err
		}},
		{"delete a key named like the key", func() error {
			return keyed.DeleteAPIKey(ctx, key)
		}},
		{"base URL with the key as password", func() error {
			_, err := NewClient(Config{BaseURL: "https://api:" + key + "@wandb.example.com", APIKey: NewSecret(key)})
			return err
		}},
		{"base URL with the key as user", func() error {
			_, err := c.WithServer("https://"+key+"@wandb.example.com", key)
			return err
		}},
		{"key with white space", func() error {
			_, err := NewClient(Config{APIKey: NewSecret(key + " ")})
			return err
		}},
		{"key too short", func() error {
			_, err := c.WithAPIKey(key[:30])
			return err
		}},
		{"key from the environment with a bad character", func() error {
			e := newTestEnv(t)
			e.set("WANDB_API_KEY", key+"!")
			_, err := e.config(EnvOptions{})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil {
				t.Fatal("no error")
			}
			var texts []string
			for e := err; e != nil; e = errors.Unwrap(e) {
				texts = append(texts, e.Error(), fmt.Sprintf("%v|%+v|%#v|%s|%q", e, e, e, e, e))
			}
			var we *Error
			if !errors.As(err, &we) {
				t.Fatalf("%T is not an *Error", err)
			}
			texts = append(texts, we.Message)
			texts = append(texts, we.Candidates...)
			for _, s := range texts {
				if strings.Contains(s, key) || strings.Contains(s, basic) || strings.Contains(s, scimBasic) {
					t.Fatalf("an error text shows the key (code %s, op %s)", we.Code, we.Op)
				}
			}
		})
	}
	if out := logs.String(); strings.Contains(out, key) || strings.Contains(out, basic) || strings.Contains(out, scimBasic) {
		t.Error("a log line shows the key")
	}
	if logs.count("wandb request") == 0 {
		t.Error("nothing was logged: the log check checked nothing")
	}
}

func TestErrorType(t *testing.T) {
	t.Parallel()
	cause := errors.New("cause")
	e := &Error{Op: "user", Code: CodeConflict, Status: 409, Message: "line one\n  line two", Err: cause}
	if got, want := e.Error(), "wandb: user: line one line two (HTTP 409)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, ErrConflict) || errors.Is(e, ErrNotFound) || !errors.Is(e, cause) {
		t.Error("errors.Is by code or cause does not work")
	}
	wrapped := fmt.Errorf("creating: %w", e)
	var got *Error
	if !errors.As(wrapped, &got) || got != e || !errors.Is(wrapped, ErrConflict) {
		t.Error("errors.As/Is through wrapping does not work")
	}
	if got := ErrNotFound.Error(); got != "wandb: not_found" {
		t.Errorf("sentinel Error() = %q", got)
	}
	for _, s := range []error{ErrNotFound, ErrUnauthorized, ErrForbidden, ErrConflict, ErrRateLimited,
		ErrUnavailable, ErrInvalidArgument, ErrAmbiguous, ErrInternal} {
		var se *Error
		if !errors.As(s, &se) || !errors.Is(&Error{Code: se.Code}, s) {
			t.Errorf("%v does not match its own code", s)
		}
	}
	if errors.Is(&Error{}, &Error{}) {
		t.Error("errors without a code match each other")
	}
}

// TestErrorsOnlyFromNewError keeps redaction structural: outside errors.go
// (the sentinels and the constructor), every Error literal in the package
// is the argument of a newError call, which redacts it.
func TestErrorsOnlyFromNewError(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || name == "errors.go" {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		var stack []ast.Node
		ast.Inspect(f, func(n ast.Node) bool {
			if n == nil {
				stack = stack[:len(stack)-1]
				return true
			}
			if lit, ok := n.(*ast.CompositeLit); ok {
				if id, ok := lit.Type.(*ast.Ident); ok && id.Name == "Error" {
					checked++
					if !isNewErrorArg(stack[len(stack)-1], lit) {
						t.Errorf("%s: an Error literal that is not the argument of newError", fset.Position(lit.Pos()))
					}
				}
			}
			stack = append(stack, n)
			return true
		})
	}
	if checked < 20 {
		t.Errorf("found only %d Error literals: the check does not see them", checked)
	}
}

// isNewErrorArg reports whether lit is the argument of a call x.newError(lit).
func isNewErrorArg(parent ast.Node, lit *ast.CompositeLit) bool {
	call, ok := parent.(*ast.CallExpr)
	if !ok || len(call.Args) != 1 || call.Args[0] != lit {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "newError"
}

// TestRedactorLearnedSecrets: a client removes its own secrets and those
// its family learned, the longest first across both sets (a learned
// secret that contains the client's key goes whole), while secrets are
// added concurrently (run with -race).
func TestRedactorLearnedSecrets(t *testing.T) {
	t.Parallel()
	own := strings.Repeat("a1", 20)
	longer := "local-" + own + strings.Repeat("b", 10)
	r := newRedactor(own)
	r.learned = &secretSet{}
	r.learned.add(longer)
	if got := r.redact("x " + longer + " y " + own); got != "x [redacted] y [redacted]" {
		t.Errorf("redact = %q", newRedactor(own).redact(got))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			r.learned.add(fmt.Sprintf("%040d", i))
		}
	}()
	for range 200 {
		if s := r.redact(own); s != "[redacted]" {
			t.Fatalf("redact = %q", newRedactor(own).redact(s))
		}
	}
	<-done
	if got := r.redact(fmt.Sprintf("%040d", 199)); got != "[redacted]" {
		t.Error("a learned secret is kept")
	}
	var zero redactor
	if got := zero.redact(own); got != own {
		t.Error("the zero redactor changed a string")
	}
}

// TestCleanRemovesWhatTermtextCallsUnsafe: an error message holds no rune
// termtext.Unsafe reports, so a server's text cannot reorder what a
// terminal shows with a bidirectional override ("user \u202emoc.live"
// shown as "user evil.com") any more than move the cursor.
func TestCleanRemovesWhatTermtextCallsUnsafe(t *testing.T) {
	t.Parallel()
	var r redactor
	if got, want := r.clean("user \u202emoc.live\u202c"), "user  moc.live "; got != want {
		t.Errorf("clean(bidi override) = %q, want %q", got, want)
	}
	for c := rune(0); c <= 0x2100; c++ {
		if !termtext.Unsafe(c) {
			continue
		}
		if got := r.clean("a" + string(c) + "b"); strings.ContainsRune(got, c) {
			t.Errorf("clean keeps %U: %q", c, got)
		}
	}
	// Directional marks are not unsafe and right-to-left text uses them.
	if got := r.clean("a\u200fb"); got != "a\u200fb" {
		t.Errorf("clean(a RLM b) = %q", got)
	}
}

// TestFoldMatchesSkeleton: fold is skeletonOf's folding, except that a
// byte that is not valid UTF-8 folds to U+FFFD, as JSON decoding turns it,
// where skeletonOf keeps it for the text's offsets.
func TestFoldMatchesSkeleton(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]string{
		"AbC\u200b d\u0301\ufffd": "abcd\ufffd",
		"a\xff\xfeB":              "a\ufffd\ufffdb",
		"":                        "",
	} {
		if got := fold(s); got != want {
			t.Errorf("fold(%q) = %q, want %q", s, got, want)
		}
		if utf8.ValidString(s) && skeletonOf(s).folded != fold(s) {
			t.Errorf("fold(%q) = %q, skeletonOf folds it to %q", s, fold(s), skeletonOf(s).folded)
		}
	}
	if got := skeletonOf("a\xffB").folded; got != "a\xffb" {
		t.Errorf("skeletonOf keeps no invalid byte: %q", got)
	}
}
