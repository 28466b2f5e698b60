package luamod

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wandb-lua/wandb-lua/wandb"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

func TestToWandbError(t *testing.T) {
	t.Parallel()
	plain := errors.New("something broke")
	withOp := &wandb.Error{Op: "users", Code: wandb.CodeForbidden, Status: 403, Message: "admins only"}
	tests := []struct {
		name string
		err  error
		want *wandb.Error
	}{
		// The op is the name the script called, whatever call of package
		// wandb failed inside it.
		{"wandb error takes the script's op", withOp, &wandb.Error{Op: "user", Code: wandb.CodeForbidden, Status: 403, Message: "admins only"}},
		{"wandb error gets the op", &wandb.Error{Code: wandb.CodeNotFound, Message: "gone"},
			&wandb.Error{Op: "user", Code: wandb.CodeNotFound, Message: "gone"}},
		{"wrapped wandb error", fmt.Errorf("context: %w", withOp), &wandb.Error{Op: "user", Code: wandb.CodeForbidden, Status: 403, Message: "admins only"}},
		{"canceled", context.Canceled, &wandb.Error{Op: "user", Code: wandb.CodeCanceled, Message: "context canceled", Err: context.Canceled}},
		{"deadline", fmt.Errorf("waiting: %w", context.DeadlineExceeded),
			&wandb.Error{Op: "user", Code: wandb.CodeTimeout, Message: "waiting: context deadline exceeded"}},
		{"other", plain, &wandb.Error{Op: "user", Code: wandb.CodeInternal, Message: "something broke", Err: plain}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := toWandbError("user", tt.err)
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(wandb.Error{}, "Err"), cmpopts.IgnoreUnexported(wandb.Error{})); diff != "" {
				t.Errorf("toWandbError (-want +got):\n%s", diff)
			}
			if !errors.Is(got, tt.err) && got != tt.err && !errors.Is(tt.err, got) {
				t.Errorf("the result %v does not match the cause %v", got, tt.err)
			}
		})
	}
}

// TestNothingReturned: a call of package wandb that returns neither a
// value nor an error (nil, nil) gives the script nil, err with
// "bad_response", where reading the missing error's message panicked.
func TestNothingReturned(t *testing.T) {
	t.Parallel()
	want := &wandb.Error{Op: "teams", Code: wandb.CodeBadResponse, Message: "the server returned nothing"}
	if diff := cmp.Diff(want, toWandbError("teams", nil), cmpopts.IgnoreUnexported(wandb.Error{})); diff != "" {
		t.Errorf("toWandbError(op, nil) (-want +got):\n%s", diff)
	}
	L, _ := newState(t, nil)
	v, err := valueResult("team", (*wandb.Team)(nil), nil, newTeam)(L)
	if v != lua.LNil {
		t.Errorf("value %v, want nil", v)
	}
	if we, ok := toValue[wandb.Error](err); !ok || we.Code != wandb.CodeBadResponse || we.Op != "team" {
		t.Errorf("error %v, want a bad_response error of team", err)
	}
	v, err = listResult("teams", []*wandb.Team(nil), nil, newTeamArray)(L)
	if we, ok := toValue[wandb.Error](err); v != lua.LNil || !ok || we.Code != wandb.CodeBadResponse {
		t.Errorf("no list: %v, %v; want nil and a bad_response error", v, err)
	}
	// An empty list is a success.
	v, err = listResult("teams", []*wandb.Team{}, nil, newTeamArray)(L)
	if tb, ok := v.(*lua.LTable); !ok || tb.Len() != 0 || err != lua.LNil {
		t.Errorf("an empty list: %v, %v; want an empty table alone", v, err)
	}
}

func TestWrapError(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	for _, tc := range []struct {
		name      string
		script    string
		first     string // the first line of Error()
		item      int
		code      wandb.Code // "" when no wandb error is raised
		traceback []string   // lines the traceback contains
		none      bool       // no traceback at all
	}{
		{
			name:      "wandb error",
			script:    `assert(wandb.user("nobody@example.com"))`,
			first:     `wandb: user: no user matches "nobody@example.com" [not_found]`,
			code:      wandb.CodeNotFound,
			traceback: []string{"stack traceback:", "<string>:1: in main chunk"},
		},
		{
			name: "parallel item's wandb error",
			script: `wandb.parallel({ "new@example.com", "bob@example.com" }, function(email)
				return assert(wandb.create_user(email))
			end, { concurrency = 1 })`,
			first:     "wandb.parallel: item 2: wandb: create_user: user with email bob@example.com already exists (HTTP 409) [conflict]",
			item:      2,
			code:      wandb.CodeConflict,
			traceback: []string{"<string>:2: in the function given to wandb.parallel", "wandb.parallel called from:", "<string>:1: in main chunk"},
		},
		{
			name:   "parallel item's string",
			script: `wandb.parallel({ 1, 2, 3 }, function(x) if x == 3 then error("boom") end end)`,
			first:  "wandb.parallel: item 3: <string>:1: boom",
			item:   3,
		},
		{
			name: "nested parallel",
			script: `wandb.parallel({ 1, 2 }, function(x)
				if x == 2 then wandb.parallel({ "bob@example.com" }, function(e) return assert(wandb.create_user(e)) end) end
			end)`,
			first: "wandb.parallel: item 2: wandb.parallel: item 1: wandb: create_user: user with email bob@example.com already exists (HTTP 409) [conflict]",
			item:  2,
			code:  wandb.CodeConflict,
		},
		{
			name:   "table with __tostring",
			script: `error(setmetatable({}, { __tostring = function() return "custom failure" end }))`,
			first:  "custom failure",
		},
		{
			name:      "plain error",
			script:    `error("plain")`,
			first:     "<string>:1: plain",
			traceback: []string{"stack traceback:", "[G]: in function 'error'", "<string>:1: in main chunk"},
		},
		{
			name:   "message for the user",
			script: `error("usage: x.lua FILE", 0)`,
			first:  "usage: x.lua FILE",
			none:   true,
		},
		{
			name:   "message for the user that names a line",
			script: `error("users.csv:3: no email", 0)`,
			first:  "users.csv:3: no email",
			none:   true,
		},
		{
			name:   "parallel item's message for the user",
			script: `wandb.parallel({ 1, 2 }, function(x) if x == 2 then wandb.parallel({ 1 }, function() error("stop", 0) end) end end)`,
			first:  "wandb.parallel: item 2: wandb.parallel: item 1: stop",
			item:   2,
			none:   true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			L, _ := newState(t, newClient(t, srv.URL, srv.AdminKey()))
			err := WrapError(L, L.DoString(tc.script))
			var se *ScriptError
			if !errors.As(err, &se) {
				t.Fatalf("WrapError = %#v, want a *ScriptError", err)
			}
			first, rest, _ := strings.Cut(err.Error(), "\n")
			if first != tc.first {
				t.Errorf("first line = %q, want %q", first, tc.first)
			}
			if tc.none && se.Traceback != "" {
				t.Errorf("Traceback = %q, want none", se.Traceback)
			}
			if !tc.none && se.Traceback == "" {
				t.Error("no traceback")
			}
			if strings.Contains(se.Traceback, "[G]: ?") {
				t.Errorf("traceback %q shows the Go caller", se.Traceback)
			}
			for _, want := range tc.traceback {
				if !strings.Contains(rest, want) {
					t.Errorf("traceback %q does not contain %q", rest, want)
				}
			}
			if se.Item != tc.item {
				t.Errorf("Item = %d, want %d", se.Item, tc.item)
			}
			var we *wandb.Error
			switch {
			case tc.code == "" && errors.As(err, &we):
				t.Errorf("errors.As found %v, want no wandb error", we)
			case tc.code != "" && (!errors.As(err, &we) || we.Code != tc.code):
				t.Errorf("errors.As found %v, want a wandb error with code %s", we, tc.code)
			case tc.code != "" && !errors.Is(err, &wandb.Error{Code: tc.code}):
				t.Errorf("errors.Is does not match code %s", tc.code)
			}
			var ae *lua.ApiError
			if !errors.As(err, &ae) || ae != se.Lua {
				t.Error("errors.As does not find gopher-lua's error")
			}
		})
	}
}

func TestWrapErrorLeavesOtherErrors(t *testing.T) {
	t.Parallel()
	L, _ := newState(t, nil)
	if WrapError(L, nil) != nil {
		t.Error("WrapError(nil) is not nil")
	}
	syntax := L.DoString(`local x = `)
	if got := WrapError(L, syntax); got != syntax {
		t.Errorf("a syntax error became %#v", got)
	}
	plain := errors.New("not from Lua")
	if got := WrapError(L, plain); got != plain {
		t.Errorf("a Go error became %#v", got)
	}
	// Without an LState, values other than the module's show as gopher-lua
	// shows them.
	err := L.DoString(`error(setmetatable({}, { __tostring = function() return "custom" end }))`)
	if got := WrapError(nil, err).Error(); !strings.HasPrefix(got, "table: 0x") {
		t.Errorf("WrapError(nil, ...) = %q", got)
	}
}

// TestWordHint: an error's hint joins its message in the host's words
// (Options.WordHint), else in the module's, and no hint is left for Error
// to word again; the host's "" leaves a hint to the module.
func TestWordHint(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	c, err := wandb.NewClient(wandb.Config{BaseURL: srv.URL, APIKey: wandb.NewSecret(srv.AdminKey()), MaxResponseBytes: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	host := func(e *wandb.Error) string {
		if e.Hint == wandb.HintMaxResponse {
			return "pass --max " + e.HintValue
		}
		return ""
	}
	const script = `local _, err = wandb.users() return err.message, tostring(err)`
	for _, tc := range []struct {
		name  string
		words func(*wandb.Error) string
		want  string
	}{
		{"the host's", host, "; pass --max 1MiB"},
		{"the module's", nil, `; raise the limit with wandb.api{api_key = ..., max_response = "1MiB"}`},
		{"the module's when the host has none", func(*wandb.Error) string { return "" }, `; raise the limit with wandb.api{api_key = ..., max_response = "1MiB"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			L := lua.NewState()
			defer L.Close()
			L.PreloadModule("wandb", LoaderWith(Options{Client: c, WordHint: tc.words}))
			if err := L.DoString(`wandb = require("wandb") ` + script); err != nil {
				t.Fatal(err)
			}
			msg, str := L.Get(-2).String(), L.Get(-1).String()
			if !strings.HasSuffix(msg, tc.want) || !strings.Contains(str, msg) || strings.Contains(str, "Config.MaxResponseBytes") {
				t.Errorf("err.message %q, tostring %q; want the message to end %q, once", msg, str, tc.want)
			}
		})
	}
}
