package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/luamod"
)

func TestScreen(t *testing.T) {
	t.Parallel()
	var term bytes.Buffer // stdout and stderr on one terminal
	s := newScreen(&term, &term, true, true)
	out, errw := s.stdout(), s.stderr()
	status := errw.(luamod.StatusLine)
	step := func(do func(), want string) {
		t.Helper()
		term.Reset()
		do()
		if got := term.String(); got != want {
			t.Errorf("wrote %q, want %q", got, want)
		}
	}
	step(func() { io.WriteString(out, "before\n") }, "before\n")
	step(func() { status.SetStatus("wandb.parallel: 1/4 done") }, "\r\x1b[Kwandb.parallel: 1/4 done")
	step(func() { status.SetStatus("wandb.parallel: 2/4 done") }, "\r\x1b[Kwandb.parallel: 2/4 done")
	// A line written clears the status line and draws it again after.
	step(func() { io.WriteString(errw, "dry-run: create_user a@example.com admin=false\n") },
		"\r\x1b[Kdry-run: create_user a@example.com admin=false\n\r\x1b[Kwandb.parallel: 2/4 done")
	// Data is escaped on a terminal.
	step(func() { io.WriteString(out, "evil \x1b[1A\x1b[2K\r name\u202e\n") },
		"\r\x1b[K"+`evil \x1b[1A\x1b[2K\r name\u202e`+"\n\r\x1b[Kwandb.parallel: 2/4 done")
	// A line left unfinished keeps the status line away until it ends.
	step(func() { io.WriteString(out, "working...") }, "\r\x1b[Kworking...")
	step(func() { status.SetStatus("wandb.parallel: 3/4 done") }, "")
	step(func() { io.WriteString(out, " done\n") }, " done\n\r\x1b[Kwandb.parallel: 3/4 done")
	// Removed, then the last line written as output.
	step(func() { status.SetStatus(""); io.WriteString(errw, "wandb.parallel: 4/4 done\n") }, "\r\x1b[Kwandb.parallel: 4/4 done\n")
	step(func() { io.WriteString(out, "after\n") }, "after\n")
	step(func() { status.SetStatus("x"); s.end() }, "\r\x1b[Kx\r\x1b[K")
	step(func() { io.WriteString(out, "") }, "")
	// Closed: no status line any more, output as before.
	step(func() { status.SetStatus("y"); s.close(); status.SetStatus("z"); io.WriteString(errw, "last words\n") },
		"\r\x1b[Ky\r\x1b[Klast words\n")

	// Not a terminal: the bytes as written, and no status line.
	var pipe bytes.Buffer
	p := newScreen(&pipe, &pipe, false, false)
	p.stderr().(luamod.StatusLine).SetStatus("wandb.parallel: 1/4 done")
	io.WriteString(p.stdout(), "raw \x1b[2K\r\n")
	if got := pipe.String(); got != "raw \x1b[2K\r\n" {
		t.Errorf("a pipe got %q", got)
	}
	// stdout to a pipe, stderr to a terminal: stdout's bytes do not touch
	// the status line.
	var tty bytes.Buffer
	pipe.Reset()
	m := newScreen(&pipe, &tty, false, true)
	m.stderr().(luamod.StatusLine).SetStatus("progress")
	io.WriteString(m.stdout(), "row\n")
	if pipe.String() != "row\n" || tty.String() != "\r\x1b[Kprogress" {
		t.Errorf("pipe %q, terminal %q", pipe.String(), tty.String())
	}
}

// TestScriptOutput: print, io.write, io.stdout and io.stderr write through
// the given writers; io.output and files of the script's own work as in
// Lua.
func TestScriptOutput(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	L := newState(nil, stateOutput{out: &out, err: &errb}, 0)
	defer L.Close()
	path := filepath.Join(t.TempDir(), "f.txt")
	L.SetGlobal("PATH", lua.LString(path))
	if err := L.DoString(`
		print("a", 1, nil, true)
		io.write("b", 2, "\n")
		assert(io.stdout:write("c\n") == true)
		io.stderr:write("d", "\n")
		assert(io.type(io.stdout) == "file" and io.type(io.stderr) == "file" and io.type(42) == nil)
		assert(tostring(io.stdout) == "file")
		assert(io.output() == io.stdout, "the default output")
		assert(io.stdout:flush() and io.stdout:setvbuf("no"))
		local ok, msg = io.stdout:close()
		assert(ok == nil and msg == "cannot close standard file")
		ok, msg = io.close()
		assert(ok == nil and msg == "cannot close standard file")
		assert(io.stdout:read() == nil and io.stdout:lines() == nil and io.stdout:seek() == nil)
		assert(io.output(io.stderr) == io.stderr)
		io.write("e\n")
		local f = assert(io.open(PATH, "w"))
		io.output(f)
		assert(io.output() == f)
		io.write("to the file")
		io.close()
		io.output(io.stdout)
		io.write("f\n")
		local good, err = pcall(io.write, {})
		assert(not good and err:find("bad argument #1", 1, true), err)
		good, err = pcall(io.stdout.write, 42)
		assert(not good and err:find("file expected", 1, true), err)
	`); err != nil {
		t.Fatal(err)
	}
	if out.String() != "a\t1\tnil\ttrue\nb2\nc\nf\n" || errb.String() != "d\ne\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), errb.String())
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "to the file" {
		t.Errorf("the file: %q, %v", b, err)
	}
}
