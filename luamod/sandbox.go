package luamod

import (
	"context"
	"io"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
)

// SandboxOptions configure NewSandbox. Its zero value (but for Client) is
// the strictest sandbox.
type SandboxOptions struct {
	// Client is the module's client; its settings apply.
	Client *wandb.Client
	// ReadOnly refuses every change (with err.code "read_only") before
	// anything is sent, whatever Client's settings.
	ReadOnly bool
	// AllowAPI lets the script use wandb.api{...} for other identities on
	// Client's server (never another server); without it wandb.api is
	// absent.
	AllowAPI bool
	// CallStackSize bounds the depth of Lua calls (a runaway recursion
	// fails with "stack overflow"); 0 means 200.
	CallStackSize int
	// RegistryMaxSize bounds the value stack of each Lua thread, in slots;
	// 0 means 1 << 16.
	RegistryMaxSize int
	// MaxString is the longest string the script may build, in bytes (see
	// Limits.MaxString); 0 means 64 MiB, a negative value no limit.
	MaxString int64
	// MaxCallLevels bounds the levels of calls, tail calls included (see
	// Limits.MaxCallLevels); 0 means 1,000,000, a negative value no limit.
	MaxCallLevels int
	// MaxResponseBytes is the largest response the script's wandb.api
	// objects may read: a larger max_response is lowered to it. 0 means
	// Client's limit (wandb.DefaultMaxResponseBytes without a Client).
	MaxResponseBytes int64
	// MaxConcurrency bounds wandb.parallel: the concurrency of a call and
	// the requests in flight at once across all calls, nested ones
	// included; and p:apply's concurrency (see Options.MaxConcurrency). 0
	// means 8.
	MaxConcurrency int
	// Output receives what the script prints with print; nil discards it.
	// It is written as the script wrote it, control characters included:
	// escape it (termtext.Escape, in package wandb/termtext) before it
	// reaches a terminal.
	Output io.Writer
}

// Defaults of SandboxOptions.
const (
	sandboxMaxString      = 64 << 20
	sandboxMaxCallLevels  = 1_000_000
	sandboxMaxConcurrency = 8
)

// NewSandbox returns an LState for a script that is not trusted, with the
// module loaded as the global wandb (require("wandb") returns it too, and
// is the only module require knows). The state has only Lua's safe
// standard libraries: the base library without dofile, loadfile, load,
// loadstring, module, require of files and collectgarbage; table, string,
// math and coroutine; no os, io, package or debug. So a script cannot read
// the environment (and the key in it), read or write files, run commands
// or load code. The module has no write_private, csv.read, csv.write or
// json.write, and wandb.api only as SandboxOptions.AllowAPI says, and
// then only for Client's server, with responses of at most
// MaxResponseBytes. print writes to Output. ctx
// bounds the run: its deadline or cancellation stops the script, a request
// in flight and the string functions included (see SetLimits). Calls nest
// at most CallStackSize deep, and MaxCallLevels deep with tail calls;
// strings are at most MaxString long; wandb.parallel, and p:apply, have
// at most MaxConcurrency requests in flight.
//
// What it cannot bound: the memory the script allocates otherwise
// (gopher-lua has no heap limit: a growing table can exhaust the process),
// and the time of the few functions written in Go that do not look at the
// context (table.sort of a huge table, say) and of the library's own code
// between two looks. Run untrusted scripts in a process of their own with
// a memory limit (a container, ulimit -v, or cgroups), and keep the
// deadline short.
//
// The state's context is ctx with the limits' checks (see SetContext): to
// give it another, call SetContext, not L.SetContext, which drops them.
// The caller closes the state.
func NewSandbox(ctx context.Context, opts SandboxOptions) *lua.LState {
	if opts.CallStackSize <= 0 {
		opts.CallStackSize = 200
	}
	if opts.RegistryMaxSize <= 0 {
		opts.RegistryMaxSize = 1 << 16
	}
	lim := Limits{MaxString: opts.MaxString, MaxCallLevels: opts.MaxCallLevels}
	if lim.MaxString == 0 {
		lim.MaxString = sandboxMaxString
	}
	if lim.MaxCallLevels == 0 {
		lim.MaxCallLevels = sandboxMaxCallLevels
	}
	lim.MaxString, lim.MaxCallLevels = max(lim.MaxString, 0), max(lim.MaxCallLevels, 0)
	if opts.MaxConcurrency <= 0 {
		opts.MaxConcurrency = sandboxMaxConcurrency
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = wandb.DefaultMaxResponseBytes
		if opts.Client != nil {
			opts.MaxResponseBytes = opts.Client.MaxResponseBytes()
		}
	}
	L := lua.NewState(lua.Options{
		SkipOpenLibs:        true,
		CallStackSize:       opts.CallStackSize,
		RegistrySize:        256,
		RegistryMaxSize:     opts.RegistryMaxSize,
		MinimizeStackMemory: true,
	})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	// The base library's functions that reach the file system, load code
	// from strings or files, or inspect gopher-lua's internals.
	for _, name := range []string{"dofile", "loadfile", "load", "loadstring", "module", "require", "_printregs", "collectgarbage"} {
		L.SetGlobal(name, lua.LNil)
	}
	L.SetGlobal("print", L.NewFunction(PrintTo(opts.Output)))
	SetLimits(L, lim)

	c := opts.Client
	if c != nil && opts.ReadOnly {
		c = c.WithReadOnly()
	}
	policy := APIOff
	if opts.AllowAPI {
		policy = APISameServer
	}
	L.Push(L.NewFunction(LoaderWith(Options{Client: c, NoFiles: true, API: policy,
		MaxResponseBytes: opts.MaxResponseBytes, MaxConcurrency: opts.MaxConcurrency})))
	L.Call(0, 1)
	mod := L.Get(-1)
	L.Pop(1)
	L.SetGlobal("wandb", mod)
	L.SetGlobal("require", L.NewFunction(func(L *lua.LState) int {
		if name := L.CheckString(1); name != "wandb" {
			L.RaiseError("module %q not found: this sandbox provides only \"wandb\"", name)
		}
		L.Push(mod)
		return 1
	}))
	SetContext(L, ctx)
	return L
}

// PrintTo returns a print function writing to w (nil: nowhere): its
// arguments as tostring shows them, separated by tabs, and a newline, in
// one write, so that lines printed by concurrent items never mix. The
// sandbox's print is one; a host gives its states another with
// L.SetGlobal("print", L.NewFunction(luamod.PrintTo(w))).
func PrintTo(w io.Writer) lua.LGFunction {
	return func(L *lua.LState) int {
		if w == nil {
			return 0
		}
		var b strings.Builder
		for i := 1; i <= L.GetTop(); i++ {
			if i > 1 {
				b.WriteByte('\t')
			}
			b.WriteString(L.ToStringMeta(L.Get(i)).String())
		}
		b.WriteByte('\n')
		_, _ = io.WriteString(w, b.String())
		return 0
	}
}
