package luamod

import (
	"context"
	"errors"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
)

// errorTypeName is the type name of error values in messages and the
// registry key of their metatable.
const errorTypeName = "wandb.Error"

// toWandbError returns err as a *wandb.Error with Op set, classifying
// errors that did not come from package wandb (a cancelled context, for
// instance) so every error a script sees has a code.
func toWandbError(op string, err error) *wandb.Error {
	var we *wandb.Error
	if errors.As(err, &we) {
		if we.Op != "" {
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
// the *wandb.Error.
func newError(L *lua.LState, op string, err error) lua.LValue {
	ud := L.NewUserData()
	ud.Value = toWandbError(op, err)
	L.SetMetatable(ud, L.GetTypeMetatable(errorTypeName))
	return ud
}

// checkError returns argument 1 of a metamethod of error values.
func checkError(L *lua.LState) *wandb.Error {
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if e, ok := ud.Value.(*wandb.Error); ok {
			return e
		}
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
// descriptions for code "ambiguous", else nil).
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
		noField(L, errorTypeName, "code, message, status, op, candidates")
	}
	return 1
}
