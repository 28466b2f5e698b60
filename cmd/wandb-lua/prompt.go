package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/chzyer/readline"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/wandb-lua/wandb-lua/luamod"
	"github.com/wandb-lua/wandb-lua/wandb"
)

// The interactive prompt: wandb-lua with no script on a terminal, or -i
// after the script, as lua -i. The module is the global wandb. A line
// that is an expression prints its values (as lua 5.3 does; "=expr" as in
// lua 5.1 too); an unfinished statement continues on the next line (">>").
// Line editing and history come from github.com/chzyer/readline. History
// is kept in memory only, never written to a file: a line may hold a key
// (wandb.api{api_key = ...}). Ctrl-C clears the line being typed, or stops
// the statement running and returns to the prompt; Ctrl-D ends the session.
// Values print as luamod.Inspect writes them, help(x) describes x, Tab
// completes names (explore.go), and an error shows its message (with the
// traceback under -v).
// A statement that does not stop within stopGrace (it runs Go code that
// cannot be interrupted, such as os.execute) is abandoned, and the prompt
// goes on with a new Lua state, which it says.

// prompt runs the prompt on st's Lua state until the end of input. Each
// statement runs with a context of its own from ctx (and --timeout, if
// given). SIGTERM ends the session, at the prompt or in a statement, with
// the summary of changes, the changes of the whole run.
func prompt(ctx context.Context, st *session, o *options, std stdio, sigs *signalWatch, c *wandb.Client, changes *wandb.AuditLog) error {
	cfg := &readline.Config{
		Prompt:          "> ",
		HistoryLimit:    1000,
		InterruptPrompt: "^C",
		EOFPrompt:       "\n", // readline's way of saying: nothing
		// The editor draws the line with escape sequences of its own: it
		// writes to the terminal itself, and only while no statement runs.
		Stdout:       std.screen.rawOut,
		Stderr:       std.screen.rawErr,
		AutoComplete: &completer{st: st},
	}
	if std.in != os.Stdin {
		cfg.Stdin = io.NopCloser(std.in)
	}
	rl, err := readline.NewEx(cfg)
	if err != nil {
		return fmt.Errorf("the prompt: %w", err)
	}
	defer rl.Close()

	var terminated atomic.Bool
	atPrompt := func(s os.Signal) {
		if s == syscall.SIGTERM {
			terminated.Store(true)
			_ = rl.Close()
		}
		// Ctrl-C at the prompt is a key that readline reads.
	}
	sigs.handle(atPrompt)

	mode := ""
	switch {
	case o.dryRun:
		mode = " (dry run: changes are printed, not sent)"
	case o.readOnly:
		mode = " (read-only)"
	}
	fmt.Fprintf(std.out, "wandb-lua %s on %s%s. The module is the global wandb; help() says more; Ctrl-D exits.\n", wandb.Version, c.BaseURL(), mode)

	var pending []string // the lines of an unfinished statement
	for {
		if len(pending) == 0 {
			rl.SetPrompt("> ")
		} else {
			rl.SetPrompt(">> ")
		}
		std.screen.end()
		line, err := rl.Readline()
		std.screen.lineStart()
		switch {
		case terminated.Load():
			return promptTerminated(changes)
		case errors.Is(err, readline.ErrInterrupt):
			pending = nil
			continue
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return fmt.Errorf("the prompt: %w", err)
		}
		pending = append(pending, line)
		st.mu.Lock()
		fn, incomplete, msg := compileLine(st.L, strings.Join(pending, "\n"))
		switch {
		case incomplete:
		case msg != "":
			fmt.Fprintln(std.err, msg)
		default:
			runLine(ctx, st, fn, o, std, sigs, &terminated)
		}
		st.mu.Unlock()
		if incomplete {
			continue
		}
		pending = nil
		sigs.handle(atPrompt)
		if terminated.Load() {
			return promptTerminated(changes)
		}
	}
}

// promptTerminated is the error of a session SIGTERM ended (Ctrl-C never
// ends one): the exit code is SIGTERM's, and the summary the changes of
// the run, as for a script.
func promptTerminated(changes *wandb.AuditLog) error {
	return &interruptedError{sig: syscall.SIGTERM, summary: changeSummary(changes)}
}

// compileLine compiles src as an expression whose values are printed, or
// else as a statement. incomplete means src is an unfinished statement
// (more lines are needed); msg is a syntax error to show.
func compileLine(L *lua.LState, src string) (fn *lua.LFunction, incomplete bool, msg string) {
	if rest, ok := strings.CutPrefix(src, "="); ok {
		src = "return " + rest
	}
	if fn, err := L.Load(strings.NewReader("return "+src), "stdin"); err == nil {
		return fn, false, ""
	}
	fn, err := L.Load(strings.NewReader(src), "stdin")
	if err == nil {
		return fn, false, ""
	}
	var ae *lua.ApiError
	var pe *parse.Error
	if errors.As(err, &ae) && errors.As(ae.Cause, &pe) && pe.Pos.Line == parse.EOF {
		return nil, true, ""
	}
	return nil, false, syntaxMessage("stdin", err)
}

// runLine runs fn, a compiled line of the prompt, and prints its values or
// its error. Ctrl-C stops it; SIGTERM stops it and sets terminated, which
// ends the session. A statement that does not stop is abandoned with its
// state, and st gets a new one unless the session ends.
func runLine(ctx context.Context, st *session, fn *lua.LFunction, o *options, std stdio, sigs *signalWatch, terminated *atomic.Bool) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigs.handle(func(s os.Signal) {
		if s == syscall.SIGTERM {
			terminated.Store(true)
		}
		cancel()
	})
	if o.timeout > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, o.timeout)
		defer stop()
	}
	L := st.L
	luamod.SetContext(L, ctx)
	top := L.GetTop()
	err := runStoppable(ctx, func() error {
		L.Push(fn)
		return L.PCall(0, lua.MultRet, nil)
	})
	if errors.Is(err, errAbandoned) {
		st.abandon()
		if terminated.Load() {
			return
		}
		st.restart()
		fmt.Fprintf(std.err, "the statement did not stop within %v of being told to (it runs Go code that cannot be interrupted, and may run on in the background): "+
			"it was abandoned with its Lua state, and the prompt goes on with a new one, without the globals defined so far\n", stopGrace)
		return
	}
	defer L.RemoveContext()
	if err == nil && ctx.Err() != nil {
		// Stopped in a request, which returned nil, err ("canceled") to a
		// statement that then ended: its values are not what was asked.
		err = ctx.Err()
	}
	if err == nil && L.GetTop() > top {
		var text string
		text, err = showValues(L, top+1)
		if err == nil {
			fmt.Fprintln(std.out, text)
		}
	}
	L.SetTop(top)
	switch {
	case err == nil:
	case terminated.Load():
		// The session ends: its summary follows.
	case errors.Is(ctx.Err(), context.Canceled):
		fmt.Fprintln(std.err, "interrupted")
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		fmt.Fprintf(std.err, "stopped: the statement took longer than --timeout %v\n", o.timeout)
	case o.verbose:
		fmt.Fprintln(std.err, scriptMessage(L, err, true))
	default:
		// The traceback of a line typed at the prompt is "stdin:1: in main
		// chunk" and the module's Go functions: the message says it all.
		fmt.Fprintln(std.err, promptMessage(L, err))
	}
}

// promptMessage is the message of a statement's failure at the prompt:
// the raised value as tostring shows it, without the traceback.
func promptMessage(L *lua.LState, err error) string {
	var se *luamod.ScriptError
	if !errors.As(luamod.WrapError(L, err), &se) {
		return err.Error()
	}
	return se.Value
}
