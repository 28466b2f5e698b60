package luamod

import (
	"io"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
)

// Loader returns the loader of the module "wandb" for client c, for
// L.PreloadModule("wandb", Loader(c)). With a nil c the module functions
// raise an error, and only wandb.api{...} objects can make requests. It is
// LoaderWith(Options{Client: c}).
func Loader(c *wandb.Client) lua.LGFunction {
	return LoaderWith(Options{Client: c})
}

// Options configure the module. The zero value (but for Client) is what
// Loader gives. The client's own settings (wandb.Config.DryRun, ReadOnly,
// OnChange) apply to everything the module changes.
type Options struct {
	// Client is the module functions' client; nil leaves only wandb.api
	// objects able to make requests.
	Client *wandb.Client
	// Progress, when set, receives the progress of wandb.parallel calls (not
	// nested ones): one line redrawn in place with "\r" and cleared with
	// the ANSI sequence ESC [K, so give it a terminal (wandb-lua gives its
	// stderr when that is one, and not with --quiet); a writer that
	// implements StatusLine draws the line itself instead. A call's
	// opts.progress = false turns it off.
	Progress io.Writer
	// NoFiles leaves out the functions that read or write files:
	// wandb.write_private, wandb.csv.read, wandb.csv.write and
	// wandb.json.write.
	NoFiles bool
	// API says what wandb.api{...} may do: APIAnyServer (the default),
	// APISameServer or APIOff.
	API APIPolicy
	// MaxResponseBytes, if positive, is the largest response an api object
	// may read: a larger wandb.api{max_response = ...} is lowered to it, and
	// so is the limit of an api object whose client would read more.
	MaxResponseBytes int64
	// MaxConcurrency, if positive, bounds wandb.parallel: a larger
	// opts.concurrency is lowered to it, and the requests in flight at once
	// in all the state's parallel calls, nested ones included, are at most
	// that many. It lowers p:apply's concurrency too, whose changes go out
	// together under one request's slot: an apply inside wandb.parallel
	// adds up to that many less one to the parallel calls' requests.
	MaxConcurrency int
	// WordHint, if set, words the hint of an error (wandb.Error.Hint) for
	// the program's users, e.g. with its flags; "" leaves it to the
	// module, which words it with Lua calls (wandb.api{max_response =
	// ...}). The words join the error's message, which scripts see as
	// err.message, and the error keeps no hint. The state's first module
	// load with a WordHint sets it.
	WordHint func(*wandb.Error) string
}

// APIPolicy says what wandb.api{...} may do.
type APIPolicy int

const (
	// APIAnyServer: another identity on any server (base_url).
	APIAnyServer APIPolicy = iota
	// APISameServer: another identity, on the client's server only; a
	// base_url naming another server gives nil, err ("forbidden").
	APISameServer
	// APIOff: wandb.api is left out of the module.
	APIOff
)

// LoaderWith returns the loader of the module "wandb" configured by opts,
// for L.PreloadModule("wandb", LoaderWith(opts)).
func LoaderWith(opts Options) lua.LGFunction {
	c := opts.Client
	return func(L *lua.LState) int {
		f := setup(L)
		f.limitConcurrency(opts.MaxConcurrency)
		if f.wordHint == nil {
			f.wordHint = opts.WordHint
		}
		mod := L.NewTable()
		for name, fn := range clientFuncs() {
			mod.RawSetString(name, L.NewFunction(moduleFunc(name, c, fn)))
		}
		if opts.API != APIOff {
			mod.RawSetString("api", L.NewFunction(newAPIFunc(c, opts.API, opts.MaxResponseBytes)))
		}
		mod.RawSetString("parallel", L.NewFunction(f.parallelFunc(opts.Progress)))
		mod.RawSetString("check_email", L.NewFunction(checkEmail))
		if !opts.NoFiles {
			mod.RawSetString("write_private", L.NewFunction(writePrivate(c)))
		}
		csvT := L.NewTable()
		L.SetFuncs(csvT, csvFuncs(!opts.NoFiles))
		mod.RawSetString("csv", strict(L, csvT, "wandb.csv"))
		mod.RawSetString("json", strict(L, jsonModule(L, !opts.NoFiles), "wandb.json"))
		mod.RawSetString("version", lua.LString(wandb.Version))
		// Whether changes are only planned (wandb.Config.DryRun), so that a
		// script can word its report.
		mod.RawSetString("dry_run", lua.LBool(c != nil && c.DryRun()))
		L.Push(strict(L, mod, "wandb"))
		return 1
	}
}

// familyKey is the registry key of the module's per-family data. An LState
// and the threads made from it share one registry.
const familyKey = "wandb.module"

// setup registers the module's metatables and its per-family data in L the
// first time, replaces the global assert, and returns the family's data.
// Loading the module a second time (say with another client under another
// name) reuses them.
func setup(L *lua.LState) *family {
	if f := familyOf(L); f != nil {
		return f
	}
	userM := L.NewTable()
	L.SetFuncs(userM, userMethods())
	registerUserType(L, userM)

	apiM := L.NewTable()
	L.SetFuncs(apiM, apiSelf.bind(clientFuncs()))
	registerAPIType(L, apiM)
	registerTeamTypes(L)
	registerPlanType(L)
	registerErrorType(L)
	registerFailureType(L)
	registerJSONTypes(L)
	installAssert(L)
	installPairs(L)

	f := &family{}
	ud := L.NewUserData()
	ud.Value = f
	L.G.Registry.RawSetString(familyKey, ud)
	return f
}

// familyOf returns L's family data, or nil before the module is loaded.
func familyOf(L *lua.LState) *family {
	ud, ok := L.G.Registry.RawGetString(familyKey).(*lua.LUserData)
	if !ok {
		return nil
	}
	f, _ := ud.Value.(*family)
	return f
}

// installAssert replaces the global assert, if there is one, by one that
// raises a non-string message unchanged (Lua 5.2 semantics), so that
// assert(wandb.user(x)) raises the error value. String and number
// messages and the default message behave as before.
func installAssert(L *lua.LState) {
	if L.GetGlobal("assert") == lua.LNil {
		return
	}
	L.SetGlobal("assert", L.NewFunction(func(L *lua.LState) int {
		if L.ToBool(1) {
			return L.GetTop()
		}
		switch msg := L.Get(2).(type) {
		case *lua.LNilType:
			L.RaiseError("assertion failed!")
		case lua.LString, lua.LNumber:
			L.RaiseError("%s", msg.String())
		default:
			L.Error(msg, 0)
		}
		return 0
	}))
}
