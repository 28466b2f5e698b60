package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// terminal is the binary running on a pseudo-terminal (stdin, stdout and
// stderr), as a person at a prompt sees it.
type terminal struct {
	t      *testing.T
	master *os.File
	cmd    *exec.Cmd
	mu     sync.Mutex
	screen bytes.Buffer // everything the terminal showed
	// Where expect has consumed the text up to: a line and a column, since
	// readline redraws the last line as it is edited.
	seenLine, seenCol int
	done              chan struct{}
}

func startTerminal(t *testing.T, env []string, args ...string) *terminal {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	// A terminal has a size; the line editor completes only on one.
	if err := pty.Setsize(master, &pty.Winsize{Rows: 50, Cols: 200}); err != nil {
		t.Fatal(err)
	}
	c := cmd(t, env, args...)
	c.Stdin, c.Stdout, c.Stderr = slave, slave, slave
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	term := &terminal{t: t, master: master, cmd: c, done: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			term.mu.Lock()
			term.screen.Write(buf[:n])
			term.mu.Unlock()
			if err != nil { // EIO once the process has exited
				close(term.done)
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = c.Process.Kill()
		<-term.done
		master.Close()
	})
	return term
}

// text returns what the terminal shows, rendered as a terminal would
// (see render).
func (term *terminal) text() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return render(term.screen.String())
}

// raw returns the bytes the terminal received so far, as a string.
func (term *terminal) raw() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.screen.String()
}

// render returns what a terminal shows of the output s: a carriage return
// moves to the start of the line, a backspace one column left, ESC [ J
// clears to the end of the screen, ESC [ K to the end of the line, and
// other control sequences are ignored.
func render(s string) string {
	raw := []rune(s)
	lines := [][]rune{nil}
	row, col := 0, 0
	for i := 0; i < len(raw); i++ {
		switch r := raw[i]; r {
		case '\r':
			col = 0
		case '\n':
			row++
			col = 0
			if row == len(lines) {
				lines = append(lines, nil)
			}
		case '\b':
			col = max(col-1, 0)
		case 0x1b:
			j := i + 1
			if j < len(raw) && raw[j] == '[' {
				for j++; j < len(raw) && !(raw[j] >= 'A' && raw[j] <= 'Z' || raw[j] >= 'a' && raw[j] <= 'z'); j++ {
				}
				if j < len(raw) && raw[j] == 'J' {
					lines[row] = lines[row][:min(col, len(lines[row]))]
					lines = lines[:row+1]
				}
				if j < len(raw) && raw[j] == 'K' {
					lines[row] = lines[row][:min(col, len(lines[row]))]
				}
			}
			i = j
		default:
			for len(lines[row]) < col {
				lines[row] = append(lines[row], ' ')
			}
			if col < len(lines[row]) {
				lines[row][col] = r
			} else {
				lines[row] = append(lines[row], r)
			}
			col++
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = string(l)
	}
	return strings.Join(out, "\n")
}

// expect waits until the terminal's text shows want after what earlier
// expects consumed, and consumes up to its end. The deadline only bounds
// a test that would otherwise hang.
func (term *terminal) expect(want string) {
	term.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		ended := false
		select {
		case <-term.done:
			ended = true
		default:
		}
		s := term.text()
		lines := strings.Split(s, "\n")
		start := 0
		for _, l := range lines[:min(term.seenLine, len(lines)-1)] {
			start += len(l) + 1
		}
		start += min(term.seenCol, len(lines[min(term.seenLine, len(lines)-1)]))
		if i := strings.Index(s[start:], want); i >= 0 {
			end := start + i + len(want)
			term.seenLine = strings.Count(s[:end], "\n")
			term.seenCol = end - (strings.LastIndex(s[:end], "\n") + 1)
			return
		}
		if ended {
			term.t.Fatalf("the program ended without showing %q; the terminal showed:\n%s", want, masked(s[start:]))
		}
		select {
		case <-deadline:
			term.t.Fatalf("the terminal did not show %q; it showed:\n%s", want, masked(s[start:]))
		case <-term.done:
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// send types s.
func (term *terminal) send(s string) {
	term.t.Helper()
	if _, err := term.master.Write([]byte(s)); err != nil {
		term.t.Fatal(err)
	}
}

// wait waits for the program to exit and returns its exit code.
func (term *terminal) wait() int {
	term.t.Helper()
	err := term.cmd.Wait()
	<-term.done
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		term.t.Fatal(err)
	}
	return 0
}

func TestPrompt(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, nil, "--local", "--seed", "testdata/seed.json")
	term.expect("The module is the global wandb; help() says more; Ctrl-D exits.")
	term.expect("> ")

	// An expression prints its values; a statement prints nothing.
	term.send("wandb.viewer().email\r")
	term.expect(wandbtest.AdminEmail + "\n> ")
	term.send("n = #wandb.users()\r")
	term.expect("> ")
	term.send("n, n + 1\r")
	term.expect("6\t7\n> ")

	// An unfinished statement continues on the next line.
	term.send("function twice(x)\r")
	term.expect(">> ")
	term.send("  return 2 * x\r")
	term.expect(">> ")
	term.send("end\r")
	term.expect("> ")
	term.send("=twice(21)\r")
	term.expect("42\n> ")

	// Errors are printed, their message without a traceback, and the
	// session goes on.
	term.send("assert(wandb.user('nobody@example.com'))\r")
	term.expect("wandb: user: no user matches \"nobody@example.com\"\n> ")
	term.send("nil .. 1\r")
	term.expect("stdin:1: cannot perform concat operation between nil and number\n> ")
	term.send("x = = 1\r")
	term.expect("stdin:1: syntax error near '='")
	term.expect("> ")

	// History: the up arrow brings back the last line.
	term.send("'again' .. 1\r")
	term.expect("again1\n> ")
	term.send("\x1b[A\r")
	term.expect("again1\n> ")

	// Ctrl-C clears the line being typed.
	term.send("this is not lua")
	term.send("\x03")
	term.expect("^C")
	term.send("'cleared'\r")
	term.expect("cleared\n> ")

	// Ctrl-D ends the session.
	term.send("\x04")
	if code := term.wait(); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}

func TestPromptCtrlCStopsTheStatement(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, nil, "--local", "--latency", "1h")
	term.expect("> ")
	term.send("print('sending') wandb.viewer()\r")
	term.expect("sending\n") // the statement runs: Ctrl-C is a signal now
	term.send("\x03")
	term.expect("interrupted\n> ")
	term.send("'still here'\r")
	term.expect("still here\n> ")
	term.send("\x04")
	if code := term.wait(); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}

// TestPromptSIGTERM: SIGTERM ends the session, at the prompt or in a
// statement, with 143 and the summary of the changes made, as it ends a
// script, even after a Ctrl-C stopped an earlier statement.
func TestPromptSIGTERM(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		running bool
	}{{"at the prompt", false}, {"in a statement", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			term := startTerminal(t, nil, "--local")
			term.expect("> ")
			term.send("print('looping') while true do end\r")
			term.expect("looping\n")
			term.send("\x03")
			term.expect("interrupted\n> ")
			term.send("wandb.create_user('new@example.com') ~= nil\r")
			term.expect("true\n> ")
			if tc.running {
				term.send("print('looping') while true do end\r")
				term.expect("looping\n")
			}
			if err := term.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			term.expect("wandb-lua: interrupted\nwandb-lua: changes so far: 1 ok\n")
			if code := term.wait(); code != 143 {
				t.Errorf("exit code %d, want 143", code)
			}
		})
	}
}

func TestPromptAfterScript(t *testing.T) {
	t.Parallel()
	p := writeScript(t, "setup.lua", "greeting = 'hello from the script'\n")
	term := startTerminal(t, nil, "--local", "--dry-run", "-i", p)
	term.expect("(dry run: changes are printed, not sent)")
	term.send("greeting\r")
	term.expect("hello from the script\n> ")
	term.send("wandb.create_user('new@example.com') ~= nil\r")
	term.expect("dry-run: create_user new@example.com admin=false")
	term.expect("true\n> ")
	term.send("\x04")
	if code := term.wait(); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}

// TestNoPromptWithoutTerminal: without a script and without a terminal on
// stdin there is nothing to run.
func TestNoPromptWithoutTerminal(t *testing.T) {
	t.Parallel()
	check(t, runBinary(t, nil, "", "--local"), 2, ptr(""), "no script: give a script file, - for stdin, or -e 'chunk' (on a terminal, no script starts a prompt)")
}

func TestPromptExplores(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, nil, "--local", "--seed", "testdata/seed.json")
	term.expect("Ctrl-D exits.")
	term.expect("> ")

	// Results print readably: tables, the module's values with their
	// fields, the module itself.
	term.send("u = wandb.user('alice@example.com')\r")
	term.expect("> ")
	term.send("#u.api_keys, u.teams\r")
	term.expect("2\t{ \"ml-research\" }\n> ")
	term.send("u.keys\r")
	term.expect("{\n  { description = \"laptop\", name = ")
	term.expect("> ")
	term.send("u:status()\r")
	term.expect("{ active = true, days_active = 40, last_active_at = \"2025-03-01T12:00:00Z\" }\n> ")
	term.send("wandb.team('platform').members\r")
	term.expect("{\n  <Member Alice Smith (USER)>,\n  <Member Bob Builder (USER)>,\n  <Member Carol Ops (USER)>,\n}\n> ")
	term.send("wandb.users('alice')\r")
	term.expect("{ <User alice@example.com>, <User alice.smith@example.com> }\n> ")
	term.send("u\r")
	term.expect("<User alice@example.com> {\n  id = ")
	term.expect("  teams = { \"ml-research\" },\n")
	term.expect("> ")
	term.send("wandb\r")
	term.expect("  create_user = <function wandb.create_user>,\n")
	term.expect("  csv = <wandb.csv>,\n")
	term.expect("> ")
	term.send("for k, v in pairs(u) do io.write(k, ' ') end print()\r")
	term.expect("id name username email instance_admin admin entity api_keys keys teams user_api dry_run \n> ")

	// A service account's key is never shown.
	term.send("bot = assert(wandb.team('platform'):create_service_account('bot'))\r")
	term.expect("> ")
	term.send("bot\r")
	term.expect("<Member ")
	term.expect("> ")
	term.send("{ bot }\r")
	term.expect("> ")

	// help lists fields and methods, one line each.
	term.send("help(u)\r")
	term.expect("wandb.User: A W&B user.")
	term.expect("\n  email           string?\n")
	term.expect("\n  :delete_api_key(name) -> boolean, wandb.Error?  Deletes the key with this name")
	term.expect("> ")
	term.send("help(wandb.users)\r")
	term.expect("wandb.users(query?, opts?) -> wandb.User[]?, wandb.Error?\n")
	term.expect("> ")
	term.send("help()\r")
	term.expect("help(x) lists what x has")
	term.expect("> ")
	term.send("help({})\r")
	term.expect("a table of 0 entries\n> ")

	// Tab completes globals, module fields, and after . and : a value's.
	// (expect consumes what it saw: each looks for the completed rest.)
	term.send("wand\t")
	term.expect("wandb")
	term.send(".vie\t")
	term.expect(".viewer")
	term.send("().email\r")
	term.expect("admin@example.com\n> ")
	term.send("u.api_k\t")
	term.expect("u.api_keys")
	term.send("[1] ~= nil\r")
	term.expect("true\n> ")
	term.send("u:generate\t")
	term.expect("u:generate_api_key")
	term.send("\x03") // clears the line
	term.expect("^C")
	term.send("u.user_api.base\t")
	term.expect("u.user_api.base_url")
	term.send(" ~= nil\r")
	term.expect("true\n> ")

	// An error is its message; the next line is not affected.
	term.send("error('boom')\r")
	term.expect("stdin:1: boom\n> ")

	term.send("\x04")
	if code := term.wait(); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if strings.Contains(term.raw(), "stack traceback") {
		t.Error("a traceback was shown without -v")
	}
	if masked(term.raw()) != term.raw() {
		t.Error("the terminal showed a secret")
	}

	// -v keeps the traceback.
	term = startTerminal(t, nil, "-v", "--local")
	term.expect("> ")
	term.send("error('boom')\r")
	term.expect("stdin:1: boom\nstack traceback:")
	term.expect("> ")
	term.send("\x04")
	term.wait()
}

func TestCompletions(t *testing.T) {
	t.Parallel()
	L := newState(nil, stateOutput{}, 0)
	defer L.Close()
	if err := L.DoString(`t = { alpha = 1, beta = function() end, ["not a name"] = 2, nested = { deep = 1 } }`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text, word string
		names      []string
	}{
		{"wan", "wan", []string{"wandb"}},
		{"x = wandb.js", "js", []string{"json"}},
		{"wandb.json.enc", "enc", []string{"encode"}},
		{"t.", "", []string{"alpha", "beta", "nested"}},
		{"t:", "", []string{"beta"}},
		{"t.nested.d", "d", []string{"deep"}},
		{"t.nope.d", "d", nil},
		{"t:beta.x", "", nil},
		{"1.5", "", nil},
		{`print("wan`, "", nil},
		{"a1.x", "x", nil},
	} {
		names, word := completions(L, tc.text)
		if word != tc.word || strings.Join(names, ",") != strings.Join(tc.names, ",") {
			t.Errorf("completions(%q) = %q, %q; want %q, %q", tc.text, names, word, tc.names, tc.word)
		}
	}
}
