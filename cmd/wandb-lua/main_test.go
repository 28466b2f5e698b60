package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wandb-lua/wandb-lua/luamod"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// The binary is tested as a process: TestMain builds it once, and each
// test runs it with a controlled environment and checks its stdout,
// stderr and exit code.

// binary is the path of the wandb-lua TestMain provides.
var binary string

// baseEnv is the environment every run of the binary starts from, besides
// PATH and HOME: noExitSleep and, when the tests run with -cover, what
// makes the run count towards this package's coverage (see TestMain).
var baseEnv = []string{noExitSleep}

// asProgram, set to 1 in its environment, makes the test binary run as
// wandb-lua (see TestMain).
const asProgram = "WANDB_LUA_TEST_BINARY_IS_THE_PROGRAM"

// repoRoot is the repository's top directory (tests run in cmd/wandb-lua).
var repoRoot = filepath.Join("..", "..")

// seedFile is the seed the tests' servers and the README's examples use.
var seedFile = filepath.Join(repoRoot, "testdata", "seed.json")

// TestMain provides the binary the tests run: wandb-lua built with go
// build (with -race when the tests have it), or, under go test -cover,
// this test binary itself, which runs main when asProgram is set. Its
// runs then write their coverage counters where the test binary writes
// its own (Go's -test.gocoverdir, passed as GOCOVERDIR), and go test
// counts them, so the coverage reported is that of the program the tests
// run, not only of the few functions they call in-process. (A binary
// built with go build -cover would not do: go test counts only counters of
// its own test binary's instrumentation, which depends on the packages
// the go test command names.)
func TestMain(m *testing.M) {
	if os.Getenv(asProgram) == "1" {
		main()
		return
	}
	flag.Parse()
	dir, err := os.MkdirTemp("", "wandb-lua-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "wandb-lua")
	if err := provideBinary(); err != nil {
		fmt.Fprintln(os.Stderr, "building wandb-lua:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// provideBinary puts the program at binary (see TestMain).
func provideBinary() error {
	if testing.CoverMode() != "" {
		f := flag.Lookup("test.gocoverdir")
		self, err := os.Executable()
		if f != nil && f.Value.String() != "" && err == nil {
			baseEnv = append(baseEnv, asProgram+"=1", "GOCOVERDIR="+f.Value.String())
			return os.Symlink(self, binary)
		}
	}
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stderr = os.Stderr
	return build.Run()
}

// result is the outcome of a run of the binary.
type result struct {
	stdout, stderr string
	code           int
}

// noExitSleep stops a binary built with -race from sleeping a second as
// it exits (the race runtime's default, to let goroutines report), which
// made most of this package's test time.
const noExitSleep = "GORACE=atexit_sleep_ms=0"

// cmd prepares a run of the binary in the repository root with a clean
// environment: no WANDB_* variables, HOME in a temporary directory (so no
// ~/.netrc is found), plus env.
func cmd(t testing.TB, env []string, args ...string) *exec.Cmd {
	t.Helper()
	c := exec.Command(binary, args...)
	c.Dir = repoRoot
	c.Env = append(append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, baseEnv...), env...)
	return c
}

// runBinary runs the binary to completion with stdin as its input.
func runBinary(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	c := cmd(t, env, args...)
	c.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	var ee *exec.ExitError
	code := 0
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running wandb-lua %v: %v", args, err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// serverEnv returns the environment that points the binary at srv as the
// admin.
func serverEnv(srv *wandbtest.Server) []string {
	return []string{"WANDB_BASE_URL=" + srv.URL, "WANDB_API_KEY=" + srv.AdminKey()}
}

// masked returns a process's output for a failure message, with anything
// shaped like a secret replaced: a failing test must not print a key.
func masked(out string) string { return wandbtest.MaskSecrets(out) }

// check compares a run's exit code and output with the expectations:
// stdout exactly (unless nil), stderr containing each of wantErr.
func check(t *testing.T, r result, code int, stdout *string, wantErr ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, masked(r.stdout), masked(r.stderr))
	}
	if stdout != nil && r.stdout != *stdout {
		t.Errorf("stdout:\n%s\nwant:\n%s", masked(r.stdout), *stdout)
	}
	for _, w := range wantErr {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr does not contain %q:\n%s", w, masked(r.stderr))
		}
	}
}

func ptr(s string) *string { return &s }

func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"-help"}, {"serve", "--help"}} {
		check(t, runBinary(t, nil, "", args...), 0, ptr(usage))
	}
	check(t, runBinary(t, nil, "", "--version"), 0, ptr("wandb-lua 0.1.0\n"))
}

// TestDefs: "wandb-lua defs" prints the module's LuaLS definitions.
func TestDefs(t *testing.T) {
	t.Parallel()
	check(t, runBinary(t, nil, "", "defs"), 0, ptr(luamod.Definitions()))
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	oldState := filepath.Join(t.TempDir(), "state.json") // as an older wandb-lua wrote it
	if err := os.WriteFile(oldState, []byte(`{"version":3,"next_user":1,"next_key":1,"next_team":1,"users":[],"teams":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"no script", nil, nil, "no script: give a script file, - for stdin, or -e 'chunk'"},
		{"missing script", nil, []string{"--local", "no/such/script.lua"}, "cannot read script no/such/script.lua: no such file or directory"},
		{"unknown flag", nil, []string{"--verbos", "x.lua"}, "wandb-lua: unknown option --verbos\n"},
		{"no key on the command line", nil, []string{"--api-key", srv.AdminKey(), "-e", "x=1"}, "wandb-lua: unknown option --api-key\n"},
		{"flag without value", nil, []string{"--timeout"}, "wandb-lua: --timeout needs a value\n"},
		{"bad duration", nil, []string{"--timeout", "soon", "x.lua"}, "wandb-lua: --timeout soon: not a duration (e.g. 30s, 10m, 1h30m)\n"},
		{"duration without a unit", nil, []string{"--timeout", "5", "x.lua"}, "wandb-lua: --timeout 5: a duration needs a unit, e.g. 5s or 5m\n"},
		{"negative duration", nil, []string{"--timeout=-1s", "x.lua"}, "wandb-lua: --timeout -1s: a duration must not be negative\n"},
		{"bad size", nil, []string{"--max-response", "lots", "x.lua"}, "wandb-lua: --max-response lots: not a size; use a number of bytes or e.g. 64MiB, 1GiB\n"},
		{"zero size", nil, []string{"--max-response=0", "x.lua"}, "wandb-lua: --max-response 0: not a size"},
		{"no requests in flight", nil, []string{"--max-in-flight", "0", "x.lua"}, "wandb-lua: --max-in-flight 0: not a number of requests; use a whole number from 1 to 10000, e.g. 16\n"},
		{"bad requests in flight", nil, []string{"--max-in-flight=many", "x.lua"}, "wandb-lua: --max-in-flight many: not a number of requests"},
		{"bad WANDB_MAX_IN_FLIGHT", []string{"WANDB_API_KEY=" + srv.AdminKey(), "WANDB_MAX_IN_FLIGHT=many"}, []string{"-e", "x=1"}, `WANDB_MAX_IN_FLIGHT "many": not a number of requests`},
		{"unknown option", nil, []string{"--dryrun", "x.lua"}, "wandb-lua: unknown option --dryrun\n"},
		{"local and base url", nil, []string{"--local", "--base-url", srv.URL, "-e", "x=1"}, "--local runs its own server: drop --base-url"},
		{"local and key file", nil, []string{"--local", "--api-key-file", "k", "-e", "x=1"}, "--local uses the local server's admin key: drop --api-key-file"},
		{"seed without local", nil, []string{"--seed", "testdata/seed.json", "-e", "x=1"}, "--seed needs --local"},
		{"latency without local", nil, []string{"--latency", "5ms", "-e", "x=1"}, "--latency needs --local"},
		{"bad seed", nil, []string{"--local", "--seed", "no/such/seed.json", "-e", "x=1"}, "--seed: wandbtest: load seed"},
		{"no key", nil, []string{"-e", "x=1"}, "(machine api.wandb.ai, password <key>); or pass --api-key-file PATH (--local runs against a built-in test server)"},
		{"bad base url", []string{"WANDB_API_KEY=" + srv.AdminKey()}, []string{"--base-url", "ftp://example.com", "-e", "x=1"}, "must start with http:// or https://"},
		{"missing key file", nil, []string{"--api-key-file", "no/such/key", "-e", "x=1"}, "--api-key-file: open no/such/key: no such file or directory"},
		{"serve bad flag", nil, []string{"serve", "--port", "1"}, "serve: unknown option --port"},
		{"serve extra argument", nil, []string{"serve", "x"}, `serve: unexpected argument "x"`},
		{"serve bad address", nil, []string{"serve", "--addr", "256.0.0.1:99999"}, "serve: listen tcp"},
		{"serve old state", nil, []string{"serve", "--state", oldState}, "serve: wandbtest: load state " + oldState +
			": written by an older wandb-lua (version 3; this one reads 4): delete it to start afresh, or start without a state file\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBinary(t, tt.env, "", tt.args...)
			check(t, r, 2, ptr(""), "wandb-lua: ", tt.want, "Run 'wandb-lua --help' for usage.")
			if strings.Contains(r.stderr, srv.AdminKey()) {
				t.Error("stderr contains the API key")
			}
		})
	}
	if n := srv.Requests(""); n != 0 {
		t.Errorf("usage errors sent %d requests", n)
	}
}

func TestBadKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The file's form is the binary's to check, the key's format the
	// configuration's: both name the file.
	for _, tt := range []struct{ name, content, prefix, want string }{
		{"empty", "\n", "wandb-lua: --api-key-file ", "is empty"},
		{"short", strings.Repeat("b", 39) + "\n", "wandb-lua: wandb: config: api key from --api-key-file ", ": must have 40+ characters, has 39"},
		{"two lines", strings.Repeat("d", 40) + "\nsecond line\n", "wandb-lua: --api-key-file ", "may only contain"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			keyFile := filepath.Join(dir, tt.name)
			if err := os.WriteFile(keyFile, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			r := runBinary(t, nil, "", "--api-key-file", keyFile, "-e", "x=1")
			check(t, r, 2, ptr(""), tt.prefix+keyFile, tt.want)
			if key := strings.TrimSpace(tt.content); key != "" && strings.Contains(r.stderr, key) {
				t.Error("stderr contains the key")
			}
		})
	}
}

// writeScript writes a script into a temporary directory and returns its path.
func writeScript(t *testing.T, name, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSyntaxError(t *testing.T) {
	t.Parallel()
	p := writeScript(t, "bad.lua", "print('fine')\nlocal x = = 1\n")
	check(t, runBinary(t, nil, "", "--local", p), 1, ptr(""), "wandb-lua: "+p+":2: syntax error near '='")
	p = writeScript(t, "open.lua", "local t = {\n")
	check(t, runBinary(t, nil, "", "--local", p), 1, ptr(""), "wandb-lua: "+p+": syntax error at end of file")
	check(t, runBinary(t, nil, "", "--local", "-e", "x = = 1"), 1, ptr(""), "wandb-lua: (command line):1: syntax error near '='")
}

func TestScriptErrorIsKeyFree(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	p := writeScript(t, "fail.lua", "local wandb = require('wandb')\nlocal function f()\n  assert(wandb.user('nobody@example.com'))\nend\nf()\n")
	r := runBinary(t, serverEnv(srv), "", p)
	// An operational failure: one line, no traceback.
	check(t, r, 1, ptr(""))
	if want := "wandb-lua: wandb: user: no user matches \"nobody@example.com\"\n"; r.stderr != want {
		t.Errorf("stderr = %q, want %q", masked(r.stderr), want)
	}
	// With -v, its traceback too.
	r = runBinary(t, serverEnv(srv), "", "-v", p)
	check(t, r, 1, ptr(""),
		`wandb-lua: wandb: user: no user matches "nobody@example.com"`,
		"stack traceback:",
		p+":3: in function 'f'",
		p+":5: in main chunk")
	if strings.Contains(r.stderr, srv.AdminKey()) {
		t.Error("stderr contains the API key")
	}

	p = writeScript(t, "raise.lua", "error('plain failure')\n")
	check(t, runBinary(t, serverEnv(srv), "", p), 1, ptr(""), "wandb-lua: "+p+":1: plain failure\nstack traceback:")
	p = writeScript(t, "table.lua", "error(setmetatable({}, {__tostring = function() return 'custom error' end}))\n")
	check(t, runBinary(t, serverEnv(srv), "", p), 1, ptr(""), "wandb-lua: custom error\n")
}

// TestScriptErrorOutput: a message raised for the user with error(msg, 0)
// is printed alone; other failures have a traceback of the script's own
// frames, without the host's.
func TestScriptErrorOutput(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	p := writeScript(t, "usage.lua", "if not arg[1] then\n  error('usage: usage.lua FILE', 0)\nend\n")
	check(t, runBinary(t, serverEnv(srv), "", p), 1, ptr(""))
	if r := runBinary(t, serverEnv(srv), "", p); r.stderr != "wandb-lua: usage: usage.lua FILE\n" {
		t.Errorf("stderr = %q, want the message alone", masked(r.stderr))
	}
	p = writeScript(t, "items.lua", "require('wandb').parallel({1, 2}, function(i)\n  if i == 2 then error('item two is bad', 0) end\nend)\n")
	if r := runBinary(t, serverEnv(srv), "", p); r.stderr != "wandb-lua: wandb.parallel: item 2: item two is bad\n" {
		t.Errorf("stderr = %q, want the message alone", masked(r.stderr))
	}
	p = writeScript(t, "runtime.lua", "local t\nprint(t.x)\n")
	r := runBinary(t, serverEnv(srv), "", p)
	want := "wandb-lua: " + p + ":2: attempt to index a non-table object(nil) with key 'x'\nstack traceback:\n\t" + p + ":2: in main chunk\n"
	if r.stderr != want {
		t.Errorf("stderr = %q, want %q", masked(r.stderr), want)
	}
	// A wandb error raised, directly or by an item: one line.
	p = writeScript(t, "value.lua", "local wandb = require('wandb')\nlocal u, err = wandb.user('nobody@example.com')\nif not u then error(err, 0) end\n")
	if r := runBinary(t, serverEnv(srv), "", p); r.stderr != "wandb-lua: wandb: user: no user matches \"nobody@example.com\"\n" {
		t.Errorf("stderr = %q, want the message alone", masked(r.stderr))
	}
	p = writeScript(t, "item.lua", "local wandb = require('wandb')\nwandb.parallel({'a@example.com', 'admin@example.com'}, function(e)\n  assert(wandb.create_user(e))\nend)\n")
	if r := runBinary(t, serverEnv(srv), "", p); !strings.HasPrefix(r.stderr, "wandb-lua: wandb.parallel: item 2: wandb: create_user: ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr = %q, want the message alone", masked(r.stderr))
	}
	// With -v, a message raised for the user has its traceback too.
	r = runBinary(t, serverEnv(srv), "", "-v", writeScript(t, "usage2.lua", "if not arg[1] then\n  error('usage: usage.lua FILE', 0)\nend\n"))
	if want := "wandb-lua: usage: usage.lua FILE\nstack traceback:\n"; !strings.HasPrefix(r.stderr, want) || strings.Contains(r.stderr, "[G]: ?") {
		t.Errorf("with -v stderr = %q, want it to start with %q", masked(r.stderr), want)
	}
}

// TestVerbose: -v logs each retry with its reason on stderr, and no key;
// without it, retries are silent.
func TestVerbose(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	env := append(serverEnv(srv), "WANDB__GRAPHQL_RETRY_WAIT_MIN_SECONDS=0.01")
	srv.FailNext("GetViewer", wandbtest.Fault{Status: 503, Body: `{"error":"` + srv.AdminKey() + `"}`})
	r := runBinary(t, env, "", "-v", "-e", "print(wandb.viewer().email)")
	check(t, r, 0, ptr(wandbtest.AdminEmail+"\n"), `level=INFO msg="wandb retry" op=viewer operation=GetViewer attempt=1 reason="HTTP 503"`)
	if strings.Contains(r.stderr, srv.AdminKey()) || strings.Contains(r.stderr, "time=") {
		t.Errorf("stderr shows the key or timestamps:\n%s", masked(r.stderr))
	}
	srv.FailNext("GetViewer", wandbtest.Fault{Status: 503})
	r = runBinary(t, env, "", "-e", "print(wandb.viewer().email)")
	check(t, r, 0, ptr(wandbtest.AdminEmail+"\n"))
	if r.stderr != "" {
		t.Errorf("without -v stderr = %q", masked(r.stderr))
	}
}

// TestOneResultOnSuccess: print(wandb.viewer()) prints the user, not a
// trailing nil for the absent error.
func TestOneResultOnSuccess(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	check(t, runBinary(t, serverEnv(srv), "", "-e", "print(require('wandb').viewer())"), 0, ptr("<User "+wandbtest.AdminEmail+">\n"))
}

func TestArgsShebangStdinAndChunks(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	p := writeScript(t, "args.lua", "#!/usr/bin/env wandb-lua\nprint(arg[0], arg[1], arg[2], #arg, select('#', ...), ...)\nprint(arg[-1], arg[-2], arg[-3])\nerror('line 4')\n")
	r := runBinary(t, serverEnv(srv), "", "--timeout", "1m", p, "one", "--two")
	check(t, r, 1, ptr(p+"\tone\t--two\t2\t2\tone\t--two\n1m\t--timeout\twandb-lua\n"), p+":4: line 4")

	r = runBinary(t, serverEnv(srv), "print('from stdin', arg[0], arg[1])\nprint((assert(require('wandb').viewer())))\n", "-", "x")
	check(t, r, 0, ptr("from stdin\t-\tx\n<User admin@example.com>\n"))

	r = runBinary(t, serverEnv(srv), "", "-e", "n = 1", "-e", "n = n * 10", "-e", "print(n)")
	check(t, r, 0, ptr("10\n"))

	p = writeScript(t, "after.lua", "print('script sees', n)\n")
	r = runBinary(t, serverEnv(srv), "", "-e", "n = 42", p)
	check(t, r, 0, ptr("script sees\t42\n"))
}

func TestConfiguration(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	bobKey, err := srv.AddAPIKey("bob@example.com", "config test")
	if err != nil {
		t.Fatal(err)
	}
	const who = "print(assert(require('wandb').viewer()).email)"

	t.Run("environment", func(t *testing.T) {
		check(t, runBinary(t, serverEnv(srv), "", "-e", who), 0, ptr("admin@example.com\n"))
	})
	t.Run("base url flag overrides the environment", func(t *testing.T) {
		env := []string{"WANDB_BASE_URL=http://127.0.0.1:1", "WANDB_API_KEY=" + srv.AdminKey()}
		check(t, runBinary(t, env, "", "--base-url", srv.URL, "-e", who), 0, ptr("admin@example.com\n"))
	})
	t.Run("key file", func(t *testing.T) {
		keyFile := filepath.Join(t.TempDir(), "key")
		if err := os.WriteFile(keyFile, []byte(bobKey+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		env := []string{"WANDB_API_KEY=" + srv.AdminKey()} // the file wins
		check(t, runBinary(t, env, "", "--base-url", srv.URL, "--api-key-file", keyFile, "-e", who), 0, ptr("bob@example.com\n"))
	})
	t.Run("netrc for the base url flag's host", func(t *testing.T) {
		netrc := filepath.Join(t.TempDir(), "netrc")
		host := strings.TrimPrefix(srv.URL, "http://")
		text := fmt.Sprintf("machine api.wandb.ai\n  login user\n  password %s\nmachine %s\n  login user\n  password %s\n", strings.Repeat("f", 40), host, bobKey)
		if err := os.WriteFile(netrc, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		check(t, runBinary(t, []string{"NETRC=" + netrc}, "", "--base-url", srv.URL, "-e", who), 0, ptr("bob@example.com\n"))
	})
	t.Run("local", func(t *testing.T) {
		check(t, runBinary(t, nil, "", "--local", "-e", who), 0, ptr("admin@example.com\n"))
		check(t, runBinary(t, nil, "", "--local", "--seed", "testdata/seed.json", "--latency", "1ms", "-e", "print(#assert(require('wandb').users()))"), 0, ptr("6\n"))
	})
}

// TestMaxResponse lists the users of a server whose answer is larger than
// --max-response: the error names the flag; a larger --max-response lists
// them, over WANDB_MAX_RESPONSE_BYTES, which the flag overrides.
func TestMaxResponse(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeed(wandbtest.ManyUsers(300, "team-a")))
	script := `local list, err = wandb.users() print(list and #list or err.message)`
	r := runBinary(t, serverEnv(srv), "", "--max-response", "16KiB", "-e", script)
	check(t, r, 0, ptr("the response is larger than the limit of 16 KiB and was cut off; "+
		"raise the limit with --max-response or WANDB_MAX_RESPONSE_BYTES (e.g. 1MiB)\n"))
	env := append(serverEnv(srv), "WANDB_MAX_RESPONSE_BYTES=16KiB")
	check(t, runBinary(t, env, "", "-e", script), 0, ptr("the response is larger than the limit of 16 KiB and was cut off; "+
		"raise the limit with --max-response or WANDB_MAX_RESPONSE_BYTES (e.g. 1MiB)\n"))
	check(t, runBinary(t, env, "", "--max-response", "1MiB", "-e", script), 0, ptr("301\n"))
	check(t, runBinary(t, nil, "", "--local", "--seed", "testdata/seed.json", "--max-response", "1KiB", "-e", script), 0,
		ptr("the response is larger than the limit of 1 KiB and was cut off; "+
			"raise the limit with --max-response or WANDB_MAX_RESPONSE_BYTES (e.g. 1MiB)\n"))
}

// TestMaxInFlight runs nested wandb.parallel calls that could have 16
// requests in flight: --max-in-flight, over WANDB_MAX_IN_FLIGHT, bounds
// them. The first requests wait at the server until as many as the bound
// have arrived, so the server sees exactly that many at once.
func TestMaxInFlight(t *testing.T) {
	t.Parallel()
	script := `wandb.parallel({1, 2, 3, 4}, function(i)
		wandb.parallel({1, 2, 3, 4}, function(j) assert(wandb.users("nobody" .. i .. j)) end, { concurrency = 4 })
	end, { concurrency = 4, progress = false })`
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want int
	}{
		{"flag", []string{"WANDB_MAX_IN_FLIGHT=1"}, []string{"--max-in-flight", "3"}, 3},
		{"environment", []string{"WANDB_MAX_IN_FLIGHT=2"}, nil, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var arrived atomic.Int32
			gathered := make(chan struct{})
			srv := wandbtest.Start(t, wandbtest.WithFaults(func(string) (wandbtest.Fault, bool) {
				if arrived.Add(1) == int32(tc.want) {
					close(gathered)
				}
				select {
				case <-gathered:
				case <-time.After(10 * time.Second): // fewer in flight than wanted: reported below
				}
				return wandbtest.Fault{}, false
			}))
			args := append(tc.args, "-e", script)
			check(t, runBinary(t, append(serverEnv(srv), tc.env...), "", args...), 0, ptr(""))
			if got := srv.MaxInFlight(); got != tc.want {
				t.Errorf("the server held at most %d requests at once, want %d", got, tc.want)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	srv.FailNext("GetViewer", wandbtest.Fault{Delay: time.Hour})
	r := runBinary(t, serverEnv(srv), "", "--timeout", "200ms", "-e", "require('wandb').viewer()")
	check(t, r, exitTimeout, ptr(""), "wandb-lua: the run took longer than --timeout 200ms and was stopped")
}

// waitFor polls cond until it holds; the test's own deadline bounds it.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if t.Context().Err() != nil {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestInterruptCancelsRequest(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT on windows")
	}
	for _, tt := range []struct {
		sig  os.Signal
		code int
	}{{os.Interrupt, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tt.sig.String(), func(t *testing.T) {
			srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
			srv.FailNext("SearchUsers", wandbtest.Fault{Delay: time.Hour})
			c := cmd(t, serverEnv(srv), "-e", "local u, err = require('wandb').user('alice') print('not reached', u, err)")
			var out, errb bytes.Buffer
			c.Stdout, c.Stderr = &out, &errb
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the request to reach the server", func() bool { return srv.InFlight() == 1 })
			if err := c.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			err := c.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tt.code {
				t.Errorf("exit: %v, want code %d", err, tt.code)
			}
			if out.String() != "" {
				t.Errorf("stdout %q, want nothing: the script must stop at the interrupted call", masked(out.String()))
			}
			if !strings.Contains(errb.String(), "wandb-lua: interrupted") {
				t.Errorf("stderr %q does not say interrupted", masked(errb.String()))
			}
			waitFor(t, "the server to see the request end", func() bool { return srv.InFlight() == 0 })
		})
	}
}

// startServe starts "wandb-lua serve" with args and returns its URL and
// admin key, and a function that interrupts it and returns its exit code.
func startServe(t testing.TB, args ...string) (url, key string, stop func() int) {
	t.Helper()
	url, key, stop, _ = startServeStderr(t, args...)
	return url, key, stop
}

// startServeStderr is startServe that also returns what serve wrote to
// stderr, complete once stop has returned.
func startServeStderr(t testing.TB, args ...string) (url, key string, stop func() int, stderr func() string) {
	t.Helper()
	c := cmd(t, nil, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	c.Stderr = &errb
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for (url == "" || key == "") && sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "export WANDB_BASE_URL="); ok {
			url = v
		}
		if v, ok := strings.CutPrefix(line, "export WANDB_API_KEY="); ok {
			key = v
		}
	}
	if url == "" || key == "" {
		c.Process.Kill()
		c.Wait()
		t.Fatalf("serve did not print its URL and key; stderr:\n%s", masked(errb.String()))
	}
	go io.Copy(io.Discard, stdout)
	stopped := false
	stop = func() int {
		if stopped {
			return -1
		}
		stopped = true
		c.Process.Signal(syscall.SIGINT)
		err := c.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		return 0
	}
	t.Cleanup(func() { stop() })
	return url, key, stop, errb.String
}

func TestServe(t *testing.T) {
	t.Parallel()
	url, key, stop := startServe(t, "--seed", "testdata/seed.json", "--latency", "1ms")
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Errorf("URL %q is not on loopback", url)
	}
	env := []string{"WANDB_BASE_URL=" + url, "WANDB_API_KEY=" + key}
	r := runBinary(t, env, "", "scripts/examples/key_audit.lua", "alice")
	check(t, r, 0, ptr("2 users matching \"alice\"\n  alice.smith@example.com       1 key\n  alice@example.com             2 keys\n3 keys in all\n"))
	if code := stop(); code != 0 {
		t.Errorf("serve exited with %d after Ctrl-C, want 0", code)
	}
}

func TestServeStateSurvivesRestart(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state.json")
	url, key, stop := startServe(t, "--state", state)
	env := []string{"WANDB_BASE_URL=" + url, "WANDB_API_KEY=" + key}
	check(t, runBinary(t, env, "", "-e", "assert(require('wandb').create_user('kept@example.com'))"), 0, ptr(""))
	if code := stop(); code != 0 {
		t.Fatalf("serve exited with %d", code)
	}
	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(key)) {
		t.Error("the state file contains the admin key")
	}

	url, key2, stop := startServe(t, "--state", state)
	if key2 == key {
		t.Error("serve printed the old admin key after a restart; the state file cannot hold it")
	}
	env = []string{"WANDB_BASE_URL=" + url, "WANDB_API_KEY=" + key2}
	check(t, runBinary(t, env, "", "-e", "print(assert(require('wandb').user('kept@example.com')).email)"), 0, ptr("kept@example.com\n"))
	stop()

	// Restarting again replaces the key the last restart minted instead
	// of adding one: the admin has the first run's key and this run's.
	url, key3, _ := startServe(t, "--state", state)
	countKeys := "print(#wandb.viewer().api_keys)"
	check(t, runBinary(t, []string{"WANDB_BASE_URL=" + url, "WANDB_API_KEY=" + key3}, "", "-e", countKeys), 0, ptr("2\n"))
	check(t, runBinary(t, []string{"WANDB_BASE_URL=" + url, "WANDB_API_KEY=" + key}, "", "-e", countKeys), 0, ptr("2\n"))
	r := runBinary(t, []string{"WANDB_BASE_URL=" + url, "WANDB_API_KEY=" + key2}, "", "-e", "assert(wandb.viewer())")
	check(t, r, 1, ptr(""), "(HTTP 401)")
}

// TestServeMergesSeedIntoState: --seed with a --state file that exists
// adds the seed's users and teams the state does not have, leaves the
// others as the state keeps them, and says so; the users' activity is
// kept across the restart.
func TestServeMergesSeedIntoState(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state.json")
	bobKey := strings.Repeat("b", 40)
	first := writeScript(t, "first.json", `{"users": [{"email": "bob@example.com", "name": "Bob", "keys": [{"secret": "`+bobKey+`"}]}]}`)
	url, _, stop, stderr := startServeStderr(t, "--state", state, "--seed", first)
	check(t, runBinary(t, []string{"WANDB_BASE_URL=" + url, "WANDB_API_KEY=" + bobKey}, "", "-e", "assert(wandb.viewer())"), 0, ptr(""))
	if code := stop(); code != 0 || strings.Contains(stderr(), "merged") {
		t.Fatalf("a fresh state: exit %d, stderr %q", code, masked(stderr()))
	}

	second := writeScript(t, "second.json", `{"users": [{"email": "bob@example.com", "name": "Someone Else"}, {"email": "carol@example.com"}],
		"teams": [{"name": "ml", "invites": [{"email": "bob@example.com", "admin": true}]}]}`)
	url, key, stop, stderr := startServeStderr(t, "--state", state, "--seed", second)
	script := `local by = {}
		for _, u in ipairs(assert(wandb.users("", {status = true}))) do by[u.email] = u end
		print(by["bob@example.com"].name, by["bob@example.com"].last_active_at ~= nil, by["carol@example.com"] ~= nil,
			by["carol@example.com"].last_active_at)
		local inv = assert(wandb.team("ml")).members[1]
		print(inv.email, inv.admin, inv.pending)`
	check(t, runBinary(t, []string{"WANDB_BASE_URL=" + url, "WANDB_API_KEY=" + key}, "", "-e", script), 0,
		ptr("Bob\ttrue\ttrue\tnil\nbob@example.com\ttrue\ttrue\n"))
	stop()
	if want := "wandb-lua serve: merged " + second + " into " + state + ": its users and teams the state did not have were added"; !strings.Contains(stderr(), want) {
		t.Errorf("stderr %q, want %q", masked(stderr()), want)
	}
}

// TestServeOutput: the banner goes to stderr, and stdout has only lines a
// shell can source.
func TestServeOutput(t *testing.T) {
	t.Parallel()
	c := cmd(t, nil, "serve", "--addr", "127.0.0.1:0")
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	c.Stderr = &errb
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(stdout)
	var out strings.Builder
	for range 2 {
		line, err := rd.ReadString('\n')
		out.WriteString(line)
		if err != nil {
			break
		}
	}
	c.Process.Signal(syscall.SIGINT)
	rest, _ := io.ReadAll(rd)
	out.Write(rest)
	c.Wait()
	re := regexp.MustCompile(`^export WANDB_BASE_URL=http://127\.0\.0\.1:\d+\nexport WANDB_API_KEY=[0-9a-f]{40}\n$`)
	if !re.MatchString(out.String()) {
		t.Errorf("stdout = %q, want two export lines", masked(out.String()))
	}
	if !strings.HasPrefix(errb.String(), "wandb-lua serve: a W&B-compatible test server on http://127.0.0.1:") {
		t.Errorf("stderr = %q, want the banner", masked(errb.String()))
	}
}

// TestServeKnownKeys: a seed's known secrets let scripts run, from the
// command line, as a user who is not an admin and as a service account.
func TestServeKnownKeys(t *testing.T) {
	t.Parallel()
	bobKey, botKey := strings.Repeat("b", 40), strings.Repeat("5", 40)
	seed := writeScript(t, "seed.json", `{"users": [{"email": "bob@example.com", "keys": [{"description": "cli", "secret": "`+bobKey+`"}]}],
		"teams": [{"name": "ml", "service_accounts": [{"description": "ci bot", "secret": "`+botKey+`"}]}]}`)
	url, _, _ := startServe(t, "--seed", seed)
	who := "local me = assert(wandb.viewer()) print(me.username, me.admin)"
	check(t, runBinary(t, []string{"WANDB_BASE_URL=" + url, "WANDB_API_KEY=" + bobKey}, "", "-e", who), 0, ptr("bob\tfalse\n"))
	check(t, runBinary(t, []string{"WANDB_BASE_URL=" + url, "WANDB_API_KEY=" + botKey}, "", "-e", who), 0, ptr("ml-service\tfalse\n"))
	r := runBinary(t, []string{"WANDB_BASE_URL=" + url, "WANDB_API_KEY=" + bobKey}, "", "-e", "assert(wandb.create_user('x@example.com'))")
	check(t, r, 1, ptr(""), "(HTTP 403)")
}

// TestLocalIsFreshEachRun checks that --local's server lives and dies
// with the process: the next run gets a fresh one.
func TestLocalIsFreshEachRun(t *testing.T) {
	t.Parallel()
	const create = "print(assert(require('wandb').create_user('once@example.com')).email)"
	for i := 0; i < 2; i++ {
		check(t, runBinary(t, nil, "", "--local", "-e", create), 0, ptr("once@example.com\n"))
	}
}
