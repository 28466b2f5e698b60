package luamod

import (
	"context"

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
}

// NewSandbox returns an LState for a script that is not trusted, with the
// module loaded as the global wandb (require("wandb") returns it too, and
// is the only module require knows). The state has only Lua's safe
// standard libraries: the base library without dofile, loadfile, load,
// loadstring, module, require of files and collectgarbage; table, string,
// math and coroutine; no os, io, package or debug. So a script cannot read
// the environment (and the key in it), read or write files, run commands
// or load code. The module has no write_private, and wandb.api only as
// SandboxOptions.AllowAPI says, and then only for Client's server. ctx
// bounds the run: its deadline or cancellation stops the script, a request
// in flight included. Calls nest at most CallStackSize deep.
//
// What it cannot bound: the memory the script allocates (gopher-lua has no
// heap limit; a string.rep or a growing table can exhaust the process).
// Run untrusted scripts in a process of their own with a memory limit (a
// container, ulimit -v, or cgroups), and keep the deadline short.
//
// The caller closes the state.
func NewSandbox(ctx context.Context, opts SandboxOptions) *lua.LState {
	if opts.CallStackSize <= 0 {
		opts.CallStackSize = 200
	}
	if opts.RegistryMaxSize <= 0 {
		opts.RegistryMaxSize = 1 << 16
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

	c := opts.Client
	if c != nil && opts.ReadOnly {
		c = c.WithReadOnly()
	}
	policy := APIOff
	if opts.AllowAPI {
		policy = APISameServer
	}
	L.Push(L.NewFunction(LoaderWith(Options{Client: c, NoFiles: true, API: policy})))
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
	L.SetContext(ctx)
	return L
}
