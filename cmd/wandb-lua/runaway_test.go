package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Runaway scripts: --timeout, SIGTERM and Ctrl-C end the run within a
// second or two whatever the script does. The bounds on how long a run
// took (10 s) are not performance checks: they are far above the 2 s
// deadline plus the 1 s grace, and only tell a run that stopped from one
// that ran on.

// runaway is a script that would run for minutes or forever.
const (
	backtracking = `string.find(("a"):rep(5000) .. "b", ("a*"):rep(20) .. "c")`
	// started is printed before the runaway part, so that a test knows
	// the script is running.
	started = `io.stdout:write("started\n") io.stdout:flush() `
)

// fifo returns a named pipe nobody writes to: opening it blocks in Go,
// where nothing can interrupt it.
func fifo(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("no named pipes")
	}
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	return p
}

func TestRunawaysEndAtTheTimeout(t *testing.T) {
	t.Parallel()
	blocked := fifo(t)
	for _, tc := range []struct {
		name, script string
		code         int
		stderr       string
	}{
		{"a pattern that backtracks", backtracking, exitTimeout, "the run took longer than --timeout 2s and was stopped\nwandb-lua: no changes were made\n"},
		{"gsub that backtracks over 200,000 characters", `(("a"):rep(200000)):gsub(("a*"):rep(10) .. "b", "")`, exitTimeout, "--timeout 2s"},
		{"gmatch", `for x in ("a"):rep(5000):gmatch(("a*"):rep(20) .. "c") do end`, exitTimeout, "--timeout 2s"},
		{"a Go call that cannot be interrupted", `io.open("` + blocked + `"):read()`, exitTimeout, "--timeout 2s"},
		{"string.rep of 4 GiB", `string.rep("ab", 2^31)`, exitError, "rep: resulting string too large (a string of 4 GiB; the limit is 256 MiB)"},
		// A million tail calls take a second or more under -race: the
		// deadline of this case is a minute, so that the limit is met
		// first.
		{"endless tail calls", `local function f(n) return f(n + 1) end f(1)`, exitError, "stack overflow (more than 1000000 levels of calls, tail calls included)"},
		{"a string doubled without end", `local s = "x" for i = 1, 40 do s = s .. s end`, exitError, "string too large (2 MiB; the limit is 1 MiB)"},
		// Once 37 s (gopher-lua's gsub copies the subject for every match).
		{"gsub over 200,000 characters", `local s, n = (("ab"):rep(100000)):gsub("(a)(b)", "%2%1") assert(n == 100000)`, exitOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			timeout, bound := "2s", 10*time.Second
			if strings.Contains(tc.name, "tail calls") {
				timeout, bound = "1m", time.Minute
			}
			args := []string{"--local", "--timeout", timeout, "-e", tc.script}
			if strings.Contains(tc.name, "doubled") {
				args = append([]string{"--max-string", "1MiB"}, args...)
			}
			start := time.Now()
			r := runBinary(t, nil, "", args...)
			took := time.Since(start)
			check(t, r, tc.code, ptr(""), tc.stderr)
			if took > bound {
				t.Errorf("the run ended after %v", took)
			}
			t.Logf("ended after %v", took.Round(10*time.Millisecond))
		})
	}
}

// startRunaway starts the binary on script (which prints "started" first)
// and returns once it has; the caller signals it and waits.
func startRunaway(t *testing.T, script string) (c *exec.Cmd, stderr *bytes.Buffer) {
	t.Helper()
	c = cmd(t, nil, "--local", "-e", started+script)
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr = &bytes.Buffer{}
	c.Stderr = stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Process.Kill() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "started\n" {
		t.Fatalf("the script did not start: %q, %v; stderr:\n%s", line, err, masked(stderr.String()))
	}
	return c, stderr
}

// exitOf waits for c and returns its exit code and how long that took.
func exitOf(t *testing.T, c *exec.Cmd, since time.Time) (int, time.Duration) {
	t.Helper()
	err := c.Wait()
	took := time.Since(since)
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("exit: %v", err)
	}
	return ee.ExitCode(), took
}

// TestSignalsEndRunaways: one SIGTERM ends a runaway with 143, one Ctrl-C
// with 130, whether the script can be interrupted (a pattern that
// backtracks) or not (a blocked open); a second Ctrl-C ends it at once.
func TestSignalsEndRunaways(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no signals on windows")
	}
	blocked := fifo(t)
	for _, tc := range []struct {
		name, script string
		signals      []os.Signal
		code         int
	}{
		{"SIGTERM, backtracking", backtracking, []os.Signal{syscall.SIGTERM}, 143},
		{"SIGTERM, blocked", `io.open("` + blocked + `")`, []os.Signal{syscall.SIGTERM}, 143},
		{"Ctrl-C, backtracking", backtracking, []os.Signal{os.Interrupt}, 130},
		{"Ctrl-C, blocked", `io.open("` + blocked + `")`, []os.Signal{os.Interrupt}, 130},
		{"Ctrl-C twice, blocked", `io.open("` + blocked + `")`, []os.Signal{os.Interrupt, os.Interrupt}, 130},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, stderr := startRunaway(t, tc.script)
			start := time.Now()
			for _, s := range tc.signals {
				if err := c.Process.Signal(s); err != nil {
					t.Fatal(err)
				}
				time.Sleep(50 * time.Millisecond) // the second arrives apart from the first
			}
			code, took := exitOf(t, c, start)
			if code != tc.code || took > 10*time.Second {
				t.Errorf("exit code %d after %v, want %d", code, took, tc.code)
			}
			if want := "wandb-lua: interrupted\nwandb-lua: no changes were made\n"; stderr.String() != want {
				t.Errorf("stderr %q, want %q", masked(stderr.String()), want)
			}
			t.Logf("ended after %v", took.Round(10*time.Millisecond))
		})
	}
}

// TestPromptSurvivesRunaways: at the prompt, one Ctrl-C stops a statement
// that runs away; one that cannot be stopped is abandoned with its Lua
// state, and the prompt goes on with a new one.
func TestPromptSurvivesRunaways(t *testing.T) {
	t.Parallel()
	blocked := fifo(t)
	term := startTerminal(t, nil, "--local")
	term.expect("> ")
	term.send("kept = 'still here'\r")
	term.expect("> ")

	term.send("print('running') " + backtracking + "\r")
	term.expect("running\n")
	term.send("\x03")
	term.expect("interrupted\n> ")
	term.send("kept\r")
	term.expect("still here\n> ")

	term.send("print('blocked') io.open('" + blocked + "')\r")
	term.expect("blocked\n")
	term.send("\x03")
	term.expect("the statement did not stop within 1s of being told to")
	term.expect("the prompt goes on with a new one, without the globals defined so far\n> ")
	term.send("kept\r")
	term.expect("nil\n> ")
	term.send("wandb.viewer().email\r")
	term.expect("admin@example.com\n> ")
	term.send("\x04")
	if code := term.wait(); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}
