package main

import (
	"io"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/luamod"
)

// A script's standard output and error through the terminal's one writer
// (screen.go). gopher-lua's print and io library write to the process's
// os.Stdout and os.Stderr themselves, so the state gets its own print,
// io.stdout, io.stderr and io.write instead; a file the script opens is
// its own. io.stdout and io.stderr are userdata of their own type: files
// that can be written, flushed and not closed, which io.type calls
// "file", and which io.output accepts.

// stdFileTypeName is the registry name of the metatable of io.stdout and
// io.stderr.
const stdFileTypeName = "wandb-lua.stdfile"

// stdFile is the Value of io.stdout and io.stderr: where they write, and
// gopher-lua's own file, which io.output and io.write know.
type stdFile struct {
	w    io.Writer
	orig lua.LValue
}

// installOutput makes the script's print, io.write (to the default output
// while it is io.stdout or io.stderr), io.stdout and io.stderr write to out
// and errw. It does nothing in a state without the io library.
func installOutput(L *lua.LState, out, errw io.Writer) {
	L.SetGlobal("print", L.NewFunction(luamod.PrintTo(out)))
	iolib, ok := L.GetGlobal("io").(*lua.LTable)
	if !ok {
		return
	}
	origOutput, ok1 := iolib.RawGetString("output").(*lua.LFunction)
	origWrite, ok2 := iolib.RawGetString("write").(*lua.LFunction)
	origType, ok3 := iolib.RawGetString("type").(*lua.LFunction)
	origClose, ok4 := iolib.RawGetString("close").(*lua.LFunction)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return
	}
	mt := L.NewTypeMetatable(stdFileTypeName)
	methods := L.NewTable()
	L.SetFuncs(methods, map[string]lua.LGFunction{
		"write": func(L *lua.LState) int {
			f := checkStdFile(L)
			return writeArgs(L, f.w, 2)
		},
		"flush":   func(L *lua.LState) int { checkStdFile(L); L.Push(lua.LTrue); return 1 },
		"setvbuf": func(L *lua.LState) int { checkStdFile(L); L.Push(lua.LTrue); return 1 },
		"close":   func(L *lua.LState) int { checkStdFile(L); return failWith(L, "cannot close standard file") },
		"read":    func(L *lua.LState) int { checkStdFile(L); return failWith(L, "the file is open for writing only") },
		"lines":   func(L *lua.LState) int { checkStdFile(L); return failWith(L, "the file is open for writing only") },
		"seek":    func(L *lua.LState) int { checkStdFile(L); return failWith(L, "cannot seek on a standard file") },
	})
	mt.RawSetString("__index", methods)
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int { L.Push(lua.LString("file")); return 1 }))

	newStd := func(w io.Writer, orig lua.LValue) *lua.LUserData {
		ud := L.NewUserData()
		ud.Value = &stdFile{w: w, orig: orig}
		L.SetMetatable(ud, mt)
		return ud
	}
	stdout := newStd(out, iolib.RawGetString("stdout"))
	stderr := newStd(errw, iolib.RawGetString("stderr"))
	std := []*lua.LUserData{stdout, stderr}
	// ours maps gopher-lua's file to ours; theirs the other way.
	ours := func(v lua.LValue) lua.LValue {
		for _, f := range std {
			if f.Value.(*stdFile).orig == v {
				return f
			}
		}
		return v
	}
	theirs := func(v lua.LValue) lua.LValue {
		if ud, ok := v.(*lua.LUserData); ok {
			if f, ok := ud.Value.(*stdFile); ok {
				return f.orig
			}
		}
		return v
	}
	// call calls gopher-lua's fn with the arguments from index 1 (mapped
	// to its files) and returns its results (mapped to ours).
	call := func(L *lua.LState, fn *lua.LFunction) int {
		n := L.GetTop()
		L.Push(fn)
		for i := 1; i <= n; i++ {
			L.Push(theirs(L.Get(i)))
		}
		L.Call(n, lua.MultRet)
		for i := n + 1; i <= L.GetTop(); i++ {
			L.Replace(i, ours(L.Get(i)))
		}
		return L.GetTop() - n
	}
	defaultOutput := func(L *lua.LState) lua.LValue {
		L.Push(origOutput)
		L.Call(0, 1)
		v := L.Get(-1)
		L.Pop(1)
		return ours(v)
	}
	iolib.RawSetString("stdout", stdout)
	iolib.RawSetString("stderr", stderr)
	iolib.RawSetString("output", L.NewFunction(func(L *lua.LState) int { return call(L, origOutput) }))
	iolib.RawSetString("type", L.NewFunction(func(L *lua.LState) int {
		if ud, ok := L.Get(1).(*lua.LUserData); ok {
			if _, ok := ud.Value.(*stdFile); ok {
				L.Push(lua.LString("file"))
				return 1
			}
		}
		return call(L, origType)
	}))
	iolib.RawSetString("write", L.NewFunction(func(L *lua.LState) int {
		if ud, ok := defaultOutput(L).(*lua.LUserData); ok {
			if f, ok := ud.Value.(*stdFile); ok {
				return writeArgs(L, f.w, 1)
			}
		}
		return call(L, origWrite)
	}))
	iolib.RawSetString("close", L.NewFunction(func(L *lua.LState) int {
		target := L.Get(1)
		if L.GetTop() == 0 {
			target = defaultOutput(L)
		}
		if ud, ok := target.(*lua.LUserData); ok {
			if _, ok := ud.Value.(*stdFile); ok {
				return failWith(L, "cannot close standard file")
			}
		}
		return call(L, origClose)
	}))
}

// checkStdFile returns the receiver of a method of io.stdout or io.stderr.
func checkStdFile(L *lua.LState) *stdFile {
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if f, ok := ud.Value.(*stdFile); ok {
			return f
		}
	}
	L.ArgError(1, "file expected")
	return nil
}

// writeArgs writes the arguments from index n on (strings or numbers, as
// Lua's write takes them) to w in one write: true, or nil and the error.
func writeArgs(L *lua.LState, w io.Writer, n int) int {
	var b strings.Builder
	for i := n; i <= L.GetTop(); i++ {
		L.CheckTypes(i, lua.LTNumber, lua.LTString)
		b.WriteString(lua.LVAsString(L.Get(i)))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return failWith(L, err.Error())
	}
	L.Push(lua.LTrue)
	return 1
}

// failWith returns nil and msg, as Lua's io functions fail.
func failWith(L *lua.LState, msg string) int {
	L.Push(lua.LNil)
	L.Push(lua.LString(msg))
	return 2
}
