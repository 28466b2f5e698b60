package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
	"golang.org/x/term"

	"github.com/wandb-lua/wandb-lua/luamod"
	"github.com/wandb-lua/wandb-lua/wandb"
)

// Exit codes.
const (
	exitOK          = 0
	exitError       = 1   // the script raised an error
	exitUsage       = 2   // usage or configuration error
	exitTimeout     = 124 // the run took longer than --timeout (as timeout(1) exits)
	exitInterrupted = 130 // Ctrl-C; SIGTERM gives 143
)

// stdio is where the program reads and writes, and the signals it gets.
// run makes out and err the streams of a screen (screen.go), the one
// writer of the terminal, and the script's print and io library write to
// them too.
type stdio struct {
	in       io.Reader
	out, err io.Writer
	signals  <-chan os.Signal // Ctrl-C and SIGTERM; nil for none
	screen   *screen          // set by run: out and err are its streams
}

// usageError is a mistake in the command line or the configuration: the
// message says what to fix, and the exit code is 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// options are the parsed command line of a script run.
type options struct {
	chunks      []string // -e, in order
	baseURL     string
	keyFile     string
	local       bool
	seed        string
	latency     time.Duration
	timeout     time.Duration
	dryRun      bool
	readOnly    bool
	audit       string // --audit FILE
	maxResponse int64  // --max-response SIZE; 0 for the environment's or the default
	maxInFlight int    // --max-in-flight N; 0 for the environment's or the default
	maxString   int64  // --max-string SIZE; 0 for defaultMaxString
	quiet       bool
	verbose     bool // -v: retries, outcome checks and server warnings on stderr
	interactive bool // -i, or no script on a terminal
	version     bool
	help        bool
	script      string   // "" with only -e; "-" for stdin
	scriptArgs  []string // after the script
	before      []string // the arguments before the script, for arg[-n]
}

// chunkFlag collects repeated -e options.
type chunkFlag struct{ chunks *[]string }

func (c chunkFlag) String() string     { return "" }
func (c chunkFlag) Set(v string) error { *c.chunks = append(*c.chunks, v); return nil }

// parseArgs parses the command line of a script run.
func parseArgs(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("wandb-lua", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(chunkFlag{&o.chunks}, "e", "")
	fs.StringVar(&o.baseURL, "base-url", "", "")
	fs.StringVar(&o.keyFile, "api-key-file", "", "")
	fs.BoolVar(&o.local, "local", false, "")
	fs.StringVar(&o.seed, "seed", "", "")
	fs.Var(durationFlag{&o.latency}, "latency", "")
	fs.Var(durationFlag{&o.timeout}, "timeout", "")
	fs.BoolVar(&o.dryRun, "dry-run", false, "")
	fs.BoolVar(&o.readOnly, "read-only", false, "")
	fs.StringVar(&o.audit, "audit", "", "")
	fs.Var(sizeFlag{&o.maxResponse}, "max-response", "")
	fs.Var(requestsFlag{&o.maxInFlight, wandb.MaxInFlightLimit}, "max-in-flight", "")
	fs.Var(sizeFlag{&o.maxString}, "max-string", "")
	fs.BoolVar(&o.quiet, "quiet", false, "")
	fs.BoolVar(&o.quiet, "q", false, "")
	fs.BoolVar(&o.verbose, "verbose", false, "")
	fs.BoolVar(&o.verbose, "v", false, "")
	fs.BoolVar(&o.interactive, "i", false, "")
	fs.BoolVar(&o.version, "version", false, "")
	fs.BoolVar(&o.help, "help", false, "")
	fs.BoolVar(&o.help, "h", false, "")
	if err := fs.Parse(args); err != nil {
		return nil, flagError(err)
	}
	if o.help || o.version {
		return o, nil
	}
	rest := fs.Args()
	o.before = args[:len(args)-len(rest)]
	if len(rest) > 0 {
		o.script, o.scriptArgs = rest[0], rest[1:]
	}
	switch {
	case o.local && o.baseURL != "":
		return nil, usagef("--local runs its own server: drop --base-url")
	case o.local && o.keyFile != "":
		return nil, usagef("--local uses the local server's admin key: drop --api-key-file")
	case !o.local && o.seed != "":
		return nil, usagef("--seed needs --local (or use: wandb-lua serve --seed FILE)")
	case !o.local && o.latency != 0:
		return nil, usagef("--latency needs --local (or use: wandb-lua serve --latency D)")
	case o.dryRun && o.readOnly:
		return nil, usagef("--dry-run and --read-only: choose one (a dry run sends no change already)")
	}
	return o, nil
}

// run runs the program with the command-line arguments args (without the
// program name) and returns the exit code.
func run(ctx context.Context, args []string, std stdio) int {
	std.screen = newScreen(std.out, std.err, isTerminal(std.out), isTerminal(std.err))
	std.out, std.err = std.screen.stdout(), std.screen.stderr()
	defer std.screen.close()
	sigs := watchSignals(std.signals)
	defer sigs.close()
	return runWith(ctx, args, std, sigs)
}

// runWith is run with the signals watched by sigs.
func runWith(ctx context.Context, args []string, std stdio, sigs *signalWatch) int {
	if len(args) == 1 && args[0] == "defs" {
		fmt.Fprint(std.out, luamod.Definitions())
		return exitOK
	}
	if len(args) > 0 && args[0] == "serve" {
		ctx, cancel := sigs.cancelRun(ctx)
		defer cancel()
		return report(std, serve(ctx, args[1:], std))
	}
	o, err := parseArgs(args)
	if err != nil {
		return report(std, err)
	}
	switch {
	case o.help:
		fmt.Fprint(std.out, usage)
		return exitOK
	case o.version:
		fmt.Fprintf(std.out, "wandb-lua %s\n", wandb.Version)
		return exitOK
	case o.script == "" && len(o.chunks) == 0 && !o.interactive:
		if !isTerminal(std.in) {
			return report(std, usagef("no script: give a script file, - for stdin, or -e 'chunk' (on a terminal, no script starts a prompt)"))
		}
		o.interactive = true
	}
	return report(std, runScript(ctx, o, std, sigs))
}

// isTerminal reports whether f is a terminal.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// report prints err, if any, and returns the exit code for it.
func report(std stdio, err error) int {
	var ue *usageError
	var se *scriptError
	var ie *interruptedError
	var te *timeoutError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(std.err, "wandb-lua: %s\nRun 'wandb-lua --help' for usage.\n", ue.msg)
		return exitUsage
	case errors.As(err, &ie):
		reportInterrupted(std.err, ie.summary)
		return exitCodeFor(ie.sig)
	case errors.As(err, &te):
		fmt.Fprintf(std.err, "wandb-lua: the run took longer than --timeout %v and was stopped\nwandb-lua: %s\n", te.timeout, te.summary)
		return exitTimeout
	case errors.As(err, &se):
		fmt.Fprintf(std.err, "wandb-lua: %s\n", se.msg)
		return exitError
	}
	fmt.Fprintf(std.err, "wandb-lua: %v\n", err)
	return exitError
}

// reportInterrupted writes the last words of a run stopped by a signal,
// summary its changes: the same whether the run stopped or a second
// signal ended it at once.
func reportInterrupted(w io.Writer, summary string) {
	fmt.Fprintf(w, "wandb-lua: interrupted\nwandb-lua: %s\n", summary)
}

// scriptError is an error raised by the script (or a syntax error in it),
// formatted for the terminal; the exit code is 1.
type scriptError struct{ msg string }

func (e *scriptError) Error() string { return e.msg }

// interruptedError is a run or a prompt session stopped by a signal, sig
// (Ctrl-C or SIGTERM), which gives the exit code; summary says what it
// changed.
type interruptedError struct {
	sig     os.Signal
	summary string
}

func (e *interruptedError) Error() string { return "interrupted" }

// timeoutError is a run stopped by --timeout; summary says what it
// changed.
type timeoutError struct {
	timeout time.Duration
	summary string
}

func (e *timeoutError) Error() string { return "timed out" }

// changeSummary sums up the changes counted: "changes so far: 20 ok,
// 1 failed, 1 unknown", or that there were none.
func changeSummary(changes *wandb.AuditLog) string {
	counts := changes.Counts()
	var parts []string
	for _, o := range []wandb.Outcome{wandb.OutcomeOK, wandb.OutcomeFailed, wandb.OutcomeUnknown, wandb.OutcomeDryRun} {
		if n := counts[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, o))
		}
	}
	if len(parts) == 0 {
		return "no changes were made"
	}
	return "changes so far: " + strings.Join(parts, ", ")
}

// runScript sets up the client and the Lua state and runs the -e chunks
// and the script, and then the prompt if asked for. sigs stops them.
func runScript(ctx context.Context, o *options, std stdio, sigs *signalWatch) error {
	// Read and compile everything first: a missing file or a syntax error
	// is reported before any request is sent.
	type chunk struct {
		name string
		src  []byte
	}
	var chunks []chunk
	for _, c := range o.chunks {
		chunks = append(chunks, chunk{"(command line)", []byte(c)})
	}
	if o.script != "" {
		src, name, err := readScript(o.script, std.in)
		if err != nil {
			return err
		}
		chunks = append(chunks, chunk{name, src})
	}

	changes := wandb.NewAuditLog(nil) // counts changes for the summary on interrupt
	if o.audit != "" {
		log, err := wandb.OpenAuditLog(o.audit)
		if err != nil {
			return usagef("--audit: %v", err)
		}
		defer log.Close()
		changes = log
	}
	var beforeChange func(op wandb.Op, target string) error
	if o.audit != "" {
		beforeChange = changes.Check // no change sent without its intent line
	}
	flags := func(cfg *wandb.Config) {
		cfg.DryRun, cfg.ReadOnly, cfg.DryRunOutput, cfg.OnChange = o.dryRun, o.readOnly, std.err, changes.Record
		cfg.BeforeChange = beforeChange
		if o.verbose {
			cfg.Logger = verboseLogger(std.err) // it logs every retry already
		} else if !o.quiet && std.screen.errTTY {
			cfg.OnRetry = retryNotice(std.err)
		}
		if o.maxResponse > 0 {
			cfg.MaxResponseBytes = o.maxResponse
		}
		if o.maxInFlight > 0 {
			cfg.MaxInFlight = o.maxInFlight
		}
	}
	client, closeServer, err := newClient(o, std, flags)
	if err != nil {
		return err
	}
	defer closeServer()

	var progress io.Writer
	if !o.quiet && std.screen.errTTY {
		progress = std.err // a luamod.StatusLine: the screen draws the line
	}
	st := &session{make: func() *lua.LState {
		L := newState(client, stateOutput{out: std.out, err: std.err, progress: progress}, o.maxString)
		L.SetGlobal("arg", argTable(L, o))
		if o.interactive {
			installHelp(L, std.out)
		}
		return L
	}}
	st.L = st.make()
	defer st.close()
	L := st.L
	base := ctx // the prompt's statements each have their own
	ctx, cancel := sigs.cancelRun(ctx)
	defer cancel()
	// A second signal ends the process at once, after the summary.
	sigs.lastWords(func() {
		std.screen.close()
		reportInterrupted(std.err, changeSummary(changes))
	})
	if o.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}

	fns := make([]*lua.LFunction, len(chunks))
	for i, c := range chunks {
		fn, err := L.Load(bytes.NewReader(c.src), c.name)
		if err != nil {
			return &scriptError{msg: syntaxMessage(c.name, err)}
		}
		fns[i] = fn
	}
	luamod.SetContext(L, ctx)
	err = runStoppable(ctx, func() error {
		for i, fn := range fns {
			L.Push(fn)
			var err error
			if i == len(fns)-1 && o.script != "" {
				for _, a := range o.scriptArgs {
					L.Push(lua.LString(a)) // the script's ... as in lua
				}
				err = L.PCall(len(o.scriptArgs), lua.MultRet, nil)
			} else {
				err = L.PCall(0, lua.MultRet, nil)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errAbandoned) {
		st.abandon()
		std.screen.close() // the script may still run: its progress line is over
		return stopped(ctx, o, changes)
	}
	if err != nil {
		return runError(ctx, o, L, err, changes)
	}
	if o.interactive {
		L.RemoveContext()
		if err := prompt(base, st, o, std, sigs, client, changes); err != nil {
			return err
		}
	}
	if err := changes.Err(); err != nil {
		return &scriptError{msg: fmt.Sprintf("--audit %s: a record could not be written: %v", o.audit, err)}
	}
	return nil
}

// Limits of what a script's Lua does (see luamod.Limits): strings of up to
// 256 MiB (--max-string), as long as the largest answer read by default,
// which no admin script needs to exceed (a .. past the limit still makes
// its string, twice as long at most, before it fails: memory and time
// grow with the limit); and a million levels of calls, tail calls
// included (an endless loop of tail calls fails within a second instead
// of running to the deadline and building a traceback of a gigabyte).
const (
	defaultMaxString = 256 << 20
	maxCallLevels    = 1_000_000
)

// stateOutput is where a Lua state's script writes: print and io.write to
// out, io.stderr to err (both nil: gopher-lua's own, the process's
// stdout and stderr), and wandb.parallel's progress line to progress (nil:
// none).
type stateOutput struct {
	out, err, progress io.Writer
}

// newState returns a Lua state with the standard libraries and the wandb
// module loaded, as the global wandb, so that require("wandb") returns it and assert passes
// error values through from the first line of a script on, even in
// assert(require("wandb").viewer()). A small initial registry and an
// auto-growing call stack keep each thread of wandb.parallel cheap.
// The script writes where output says. Strings are
// at most maxString bytes (0: defaultMaxString), and the string functions
// stop at the run's deadline (luamod.SetLimits): give the state its
// context with luamod.SetContext.
func newState(c *wandb.Client, output stateOutput, maxString int64) *lua.LState {
	if maxString <= 0 {
		maxString = defaultMaxString
	}
	L := lua.NewState(lua.Options{RegistrySize: 256, RegistryMaxSize: 1 << 20, MinimizeStackMemory: true})
	if output.out != nil && output.err != nil {
		installOutput(L, output.out, output.err)
	}
	luamod.SetLimits(L, luamod.Limits{MaxString: maxString, MaxCallLevels: maxCallLevels})
	L.PreloadModule("wandb", luamod.LoaderWith(luamod.Options{Client: c, Progress: output.progress, WordHint: wordHint}))
	if err := L.CallByParam(lua.P{Fn: L.GetGlobal("require"), NRet: 1, Protect: true}, lua.LString("wandb")); err != nil {
		panic(fmt.Sprintf("loading the wandb module: %v", err)) // a bug: the loader does not fail
	}
	// As lua -l would: -e chunks and the prompt use it without require.
	L.SetGlobal("wandb", L.Get(-1))
	L.Pop(1)
	return L
}

// wordHint words the hint of a wandb error for wandb-lua's users: the flag
// that raises the response limit, beside the variable; "" leaves the
// others to luamod's words (its Lua calls).
func wordHint(e *wandb.Error) string {
	if e.Hint == wandb.HintMaxResponse {
		return "raise the limit with --max-response or WANDB_MAX_RESPONSE_BYTES (e.g. " + e.HintValue + ")"
	}
	return ""
}

// runError turns an error from running a chunk into the error to report;
// changes are the changes made so far, which an interrupted run sums up.
func runError(ctx context.Context, o *options, L *lua.LState, err error, changes *wandb.AuditLog) error {
	if ctx.Err() != nil {
		return stopped(ctx, o, changes)
	}
	return &scriptError{msg: scriptMessage(L, err, o.verbose)}
}

// stopped is the error to report for a run whose context ended: a
// signal's (interrupted) or --timeout's.
func stopped(ctx context.Context, o *options, changes *wandb.AuditLog) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &timeoutError{timeout: o.timeout, summary: changeSummary(changes)}
	}
	return &interruptedError{sig: signalOf(ctx), summary: changeSummary(changes)}
}

// scriptMessage is the message of a script's failure, err from L.PCall:
// the raised value as tostring shows it, then its traceback for a bug in
// the script (a runtime error, error(msg) with a position). An
// operational failure is one line for the admin to act on, without a
// traceback: a wandb error value raised (assert(wandb.user(x)), error(err),
// a wandb.parallel item's), or a message raised with error(msg, 0). With
// verbose (-v) every failure has its traceback.
func scriptMessage(L *lua.LState, err error, verbose bool) string {
	var se *luamod.ScriptError
	if !errors.As(luamod.WrapError(L, err), &se) {
		return err.Error()
	}
	tb := se.Traceback
	switch {
	case verbose && tb == "" && se.Lua != nil:
		tb = scriptFrames(se.Lua.StackTrace)
	case !verbose && se.Err != nil:
		tb = ""
	}
	if tb == "" {
		return se.Value
	}
	return se.Value + "\n" + tb
}

// scriptFrames returns the traceback tb without the frame of the host,
// "[G]: ?", at its bottom.
func scriptFrames(tb string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(tb), "\n") {
		if strings.TrimSpace(l) != "[G]: ?" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// readScript reads the script at path ("-" for stdin) and blanks a first
// line starting with "#" (a #! line), keeping the line count.
func readScript(path string, stdin io.Reader) (src []byte, name string, err error) {
	if path == "-" {
		src, err = io.ReadAll(stdin)
		name = "stdin"
	} else {
		src, err = os.ReadFile(path)
		name = path
	}
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, "", usagef("cannot read script %s: %v", path, err)
	}
	if bytes.HasPrefix(src, []byte("#")) {
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			src = src[i:]
		} else {
			src = nil
		}
	}
	return src, name, nil
}

// syntaxMessage formats a compile error as Lua does: "file:line: message".
func syntaxMessage(name string, err error) string {
	var ae *lua.ApiError
	if errors.As(err, &ae) && ae.Cause != nil {
		err = ae.Cause
	}
	var pe *parse.Error
	if errors.As(err, &pe) {
		if pe.Pos.Line == parse.EOF {
			return fmt.Sprintf("%s: %s at end of file", name, strings.TrimSpace(pe.Message))
		}
		return fmt.Sprintf("%s:%d: %s near '%s'", name, pe.Pos.Line, strings.TrimSpace(pe.Message), pe.Token)
	}
	return fmt.Sprintf("%s: %s", name, strings.TrimSpace(err.Error()))
}

// argTable builds the global arg as the standalone lua sets it: arg[0] is
// the script, arg[1..n] its arguments, and arg[-n..-1] the program and the
// options before the script.
func argTable(L *lua.LState, o *options) *lua.LTable {
	t := L.NewTable()
	pre := append([]string{"wandb-lua"}, o.before...)
	for i, a := range pre {
		t.RawSetInt(i-len(pre), lua.LString(a))
	}
	if o.script != "" {
		t.RawSetInt(0, lua.LString(o.script))
		for i, a := range o.scriptArgs {
			t.RawSetInt(i+1, lua.LString(a))
		}
	}
	return t
}

// verboseLogger is -v's logger: the client's info lines (each retry and
// why, each check of a change's outcome, warnings) on w, one per line,
// without timestamps. The client never logs a secret.
func verboseLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: slog.LevelInfo,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
}
