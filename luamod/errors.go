package luamod

import (
	"context"
	"errors"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
)

// errorTypeName is the type name of error values in messages and the
// registry key of their metatable.
const errorTypeName = "wandb.Error"

// errorFields lists the fields of error values, for messages.
const errorFields = "code, message, status, op, candidates"

// toWandbError returns err as a *wandb.Error whose Op is op, the name
// of the function or method the script called: wandb's constant where
// that is the call's name (wandb.OpCreateUser for wandb.create_user), the
// module's own name where the script called something else ("delete" for
// u:delete(), whichever call of package wandb failed inside it,
// "set_role" from a Team as from a User). It classifies errors that did
// not come from package wandb (a cancelled context, for instance) so every
// error a script sees has a code. A nil err is a call that returned
// neither its value nor an error: the script gets nil and a
// "bad_response" error, never a panic, whichever result converts it.
func toWandbError(op wandb.Op, err error) *wandb.Error {
	if err == nil {
		return &wandb.Error{Op: op, Code: wandb.CodeBadResponse, Message: "the server returned nothing"}
	}
	var we *wandb.Error
	if errors.As(err, &we) {
		if we.Op == op {
			return we
		}
		c := *we
		c.Op = op
		return &c
	}
	code := wandb.CodeInternal
	switch {
	case errors.Is(err, context.Canceled):
		code = wandb.CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		code = wandb.CodeTimeout
	}
	return &wandb.Error{Op: op, Code: code, Message: err.Error(), Err: err}
}

// newError returns the Lua error value for err, a userdata whose Value is
// the *wandb.Error, its hint worded into its message (see worded).
func newError(L *lua.LState, op wandb.Op, err error) lua.LValue {
	return newValue(L, errorTypeName, familyOf(L).worded(toWandbError(op, err)))
}

// worded returns e with its hint (wandb.Error.Hint) worded into its
// message for the script's user, by Options.WordHint or else in the
// module's words (hintWords), and no hint left for Error to word again;
// e itself when it has no hint, or one neither can word.
func (f *family) worded(e *wandb.Error) *wandb.Error {
	if e.Hint == "" {
		return e
	}
	var words string
	if f != nil && f.wordHint != nil {
		words = f.wordHint(e)
	}
	if words == "" {
		words = hintWords(e)
	}
	if words == "" {
		return e
	}
	c := *e
	c.Message, c.Hint, c.HintValue = c.Message+"; "+words, "", ""
	return &c
}

// hintWords words e's hint with the module's calls: "" for a hint it does
// not know.
func hintWords(e *wandb.Error) string {
	switch e.Hint {
	case wandb.HintMaxResponse:
		return fmt.Sprintf("raise the limit with wandb.api{api_key = ..., max_response = %q}", e.HintValue)
	case wandb.HintAuthenticateAs:
		return "authenticate as that user (wandb.api{api_key = ...}) and generate the key on its own viewer"
	}
	return ""
}

// checkError returns argument 1 of a metamethod of error values.
func checkError(L *lua.LState) *wandb.Error {
	if e, ok := toValue[wandb.Error](L.Get(1)); ok {
		return e
	}
	argError(L, 1, "?", errorTypeName+" expected, got "+typeName(L, 1))
	return nil
}

// registerErrorType creates the metatable of error values.
func registerErrorType(L *lua.LState) {
	registerType(L, errorTypeName, errorIndex, L.NewTable(), map[string]lua.LGFunction{
		"__tostring": func(L *lua.LState) int {
			L.Push(lua.LString(checkError(L).Error()))
			return 1
		},
	})
}

// errorIndex reads the fields of an error value: code, message, status
// (nil without an HTTP status), op and candidates (an array of
// descriptions: the matches for code "ambiguous", the partial matches of
// an exact lookup for "not_found", else nil).
func errorIndex(L *lua.LState) int {
	e := checkError(L)
	switch key(L) {
	case "code":
		L.Push(lua.LString(e.Code))
	case "message":
		msg := e.Message
		if msg == "" {
			msg = string(e.Code)
		}
		L.Push(lua.LString(msg))
	case "status":
		if e.Status == 0 {
			L.Push(lua.LNil)
		} else {
			L.Push(lua.LNumber(e.Status))
		}
	case "op":
		L.Push(lua.LString(e.Op))
	case "candidates":
		if e.Candidates == nil {
			L.Push(lua.LNil)
		} else {
			L.Push(stringArray(L, e.Candidates))
		}
	default:
		noField(L, errorTypeName, errorFields)
	}
	return 1
}

// ScriptError is a failure of Lua code run with the module loaded, as a Go
// program can use it: see [WrapError].
type ScriptError struct {
	// Value is the raised value as the script's tostring shows it, e.g.
	// `wandb: user: no user matches "x"`, or for wandb.parallel
	// "wandb.parallel: item 3: wandb: create_user: ... (HTTP 409)".
	Value string
	// Item is the index of the wandb.parallel item whose failure was raised
	// (the outermost call's, when calls are nested), or 0.
	Item int
	// Err is the wandb error raised, directly or by a wandb.parallel item,
	// or nil when the script raised something else.
	Err *wandb.Error
	// Traceback is the Lua traceback of the failure, or "". For a failure of
	// a wandb.parallel item it is the item's traceback, followed by the
	// traceback of the parallel call under "wandb.parallel called from:".
	// A message raised without a position, by error(msg, 0), has none: it
	// is meant for the user as it is.
	Traceback string
	// Lua is gopher-lua's error, as L.DoString returned it.
	Lua *lua.ApiError
}

// Error returns Value, followed by " [<code>]" when a wandb error was
// raised, and the traceback on the next lines, e.g.
//
//	wandb.parallel: item 2: wandb: create_user: user with email bob@example.com already exists (HTTP 409) [conflict]
//	stack traceback: ...
func (e *ScriptError) Error() string {
	msg := e.Value
	if e.Err != nil {
		msg += " [" + string(e.Err.Code) + "]"
	}
	if e.Traceback != "" {
		msg += "\n" + e.Traceback
	}
	return msg
}

// Unwrap returns the wandb error, if any, and gopher-lua's error, so that
// errors.As finds either and errors.Is(err, wandb.ErrNotFound) works.
func (e *ScriptError) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Err, e.Lua}
	}
	return []error{e.Lua}
}

// WrapError turns err, as returned by L.DoString, L.DoFile, L.PCall or
// L.CallByParam with Protect in a state where the module is loaded, into an
// error a Go program can print and inspect:
//
//	if err := L.DoString(script); err != nil {
//		err = luamod.WrapError(L, err)
//		var we *wandb.Error
//		if errors.As(err, &we) { ... we.Code ... }
//	}
//
// A runtime error (a *lua.ApiError) becomes a *ScriptError; other errors,
// such as syntax errors, and nil are returned unchanged. A raised value
// other than the module's own is shown with its __tostring metamethod,
// called through L in protected mode with no context, so after the script
// has ended; with a nil L, or when __tostring fails, with gopher-lua's
// String.
func WrapError(L *lua.LState, err error) error {
	var ae *lua.ApiError
	if !errors.As(err, &ae) || ae.Type == lua.ApiErrorSyntax || ae.Type == lua.ApiErrorFile {
		return err
	}
	se := &ScriptError{Value: describe(L, ae.Object), Err: wandbErrorIn(ae.Object), Traceback: cleanTraceback(ae.StackTrace), Lua: ae}
	raised, where := ae.Object, ae.StackTrace // the innermost failure
	if rec, ok := ae.Object.(*lua.LTable); ok && isFailureRecord(rec) {
		if i, ok := rec.RawGetString("index").(lua.LNumber); ok {
			se.Item = int(i)
		}
		// Where the item failed comes first, then where parallel was called.
		if tb, ok := rec.RawGetString("traceback").(lua.LString); ok && tb != "" {
			se.Traceback = cleanTraceback(string(tb)) + "\n" + strings.Replace(se.Traceback, "stack traceback:", "wandb.parallel called from:", 1)
		}
		for range maxNesting {
			raised, where = rec.RawGetString("error"), rec.RawGetString("traceback").String()
			if rec, ok = raised.(*lua.LTable); !ok || !isFailureRecord(rec) {
				break
			}
		}
	}
	if s, ok := raised.(lua.LString); ok && unpositioned(string(s), where) {
		se.Traceback = ""
	}
	return se
}

// cleanTraceback returns gopher-lua's traceback tb without the frames that
// are no code of the script's: "[G]: ?", the Go caller at its bottom.
func cleanTraceback(tb string) string {
	lines := strings.Split(strings.TrimSpace(tb), "\n")
	out := lines[:0]
	for _, l := range lines {
		if strings.TrimSpace(l) != "[G]: ?" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// unpositioned reports whether msg, a string raised where the traceback
// tb says, carries no position: error(msg, 0), a message meant for the
// user as it is (a usage line, a summary), rather than a failure to trace.
// A message from error(msg) or a runtime error starts with the position of
// one of tb's frames ("script.lua:12:").
func unpositioned(msg, tb string) bool {
	if tb == "" {
		return false
	}
	for _, l := range strings.Split(tb, "\n") {
		pos, _, found := strings.Cut(strings.TrimSpace(l), ": in ")
		if found && !strings.HasPrefix(pos, "[G]") && strings.HasPrefix(msg, pos+":") {
			return false
		}
	}
	return true
}

// describe returns v as tostring shows it.
func describe(L *lua.LState, v lua.LValue) string {
	switch x := v.(type) {
	case lua.LString:
		return string(x)
	case *lua.LUserData:
		if we, ok := x.Value.(*wandb.Error); ok {
			return we.Error()
		}
	}
	if L == nil || L.GetMetaField(v, "__tostring") == lua.LNil {
		return v.String()
	}
	saved := L.Context()
	L.RemoveContext() // the run's context may be done
	defer func() {
		if saved != nil {
			L.SetContext(saved)
		}
	}()
	tostring := L.NewFunction(func(L *lua.LState) int {
		L.Push(L.ToStringMeta(L.Get(1)))
		return 1
	})
	if err := L.CallByParam(lua.P{Fn: tostring, NRet: 1, Protect: true}, v); err != nil {
		return v.String()
	}
	defer L.Pop(1)
	return L.Get(-1).String()
}
