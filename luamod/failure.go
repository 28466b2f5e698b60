package luamod

import (
	"errors"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
)

// failureTypeName names the metatable of wandb.parallel's failure records,
// in the registry and in messages.
const failureTypeName = "wandb.parallel.failure"

// codeScript is a failure record's code when the item raised something
// other than a wandb error: a string from error(...), a runtime error in
// the script, a value of the script's own.
const codeScript = "script"

// A failure record is the table that wandb.parallel puts in a failed
// item's slot ("collect") or raises ("raise"):
//
//	index      the item's index
//	error      the value the item raised, unchanged
//	code       the wandb error's code ("conflict", "not_found", ...) when
//	           error is a wandb error, or a nested parallel call's failure
//	           record that has one; else "script"
//	traceback  the Lua traceback where the item raised
//
// tostring(rec), and rec in a concatenation, give
// "wandb.parallel: item <index>: <tostring(error)>".

// registerFailureType creates the metatable of failure records.
func registerFailureType(L *lua.LState) {
	mt := L.NewTypeMetatable(failureTypeName)
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(failureMessage(L, L.CheckTable(1))))
		return 1
	}))
	mt.RawSetString("__concat", L.NewFunction(concat))
	mt.RawSetString("__metatable", lua.LString(failureTypeName))
}

// newFailureRecord builds the failure record of item i from err, what the
// protected call of fn returned.
func newFailureRecord(L *lua.LState, i int, err error) *lua.LTable {
	value := lua.LValue(lua.LString(err.Error()))
	traceback := ""
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		value, traceback = ae.Object, itemTraceback(ae.StackTrace)
	}
	code := codeScript
	if we := wandbErrorIn(value); we != nil {
		code = string(we.Code)
	}
	rec := L.CreateTable(0, 4)
	rec.RawSetString("index", lua.LNumber(i))
	rec.RawSetString("error", value)
	rec.RawSetString("code", lua.LString(code))
	rec.RawSetString("traceback", lua.LString(traceback))
	L.SetMetatable(rec, L.GetTypeMetatable(failureTypeName))
	return rec
}

// isFailureRecord reports whether t is one of wandb.parallel's failure
// records.
func isFailureRecord(t *lua.LTable) bool {
	mt, ok := t.Metatable.(*lua.LTable)
	return ok && mt.RawGetString("__metatable") == lua.LString(failureTypeName)
}

// failureMessage is tostring(rec).
func failureMessage(L *lua.LState, rec *lua.LTable) string {
	return fmt.Sprintf("wandb.parallel: item %s: %s", rec.RawGetString("index"), L.ToStringMeta(rec.RawGetString("error")))
}

// maxNesting bounds how deep wandbErrorIn looks through failure records:
// records are plain tables, and a script could make one hold itself.
const maxNesting = 64

// wandbErrorIn returns the wandb error that v is, or that the failure
// record v holds (through nested parallel calls), or nil.
func wandbErrorIn(v lua.LValue) *wandb.Error {
	for range maxNesting {
		switch x := v.(type) {
		case *lua.LUserData:
			we, _ := x.Value.(*wandb.Error)
			return we
		case *lua.LTable:
			if !isFailureRecord(x) {
				return nil
			}
			v = x.RawGetString("error")
		default:
			return nil
		}
	}
	return nil
}

// itemTraceback returns the traceback of an item's failure with its last
// frame, the function given to wandb.parallel, named as such: gopher-lua
// calls the first frame of a thread "main chunk", which here it is not.
func itemTraceback(tb string) string {
	tb = cleanTraceback(tb)
	i := strings.LastIndexByte(tb, '\n') + 1
	if last, ok := strings.CutSuffix(tb[i:], ": in main chunk"); ok {
		return tb[:i] + last + ": in the function given to wandb.parallel"
	}
	return tb
}
