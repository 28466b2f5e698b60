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

// text returns what the terminal shows, rendered as a terminal would:
// a carriage return moves to the start of the line, a backspace one
// column left, ESC [ J clears to the end of the screen, and other control
// sequences are ignored.
func (term *terminal) text() string {
	term.mu.Lock()
	raw := []rune(term.screen.String())
	term.mu.Unlock()
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
	term := startTerminal(t, nil, "--local", "--seed", "testdata/seed.json")
	term.expect("The module is the global wandb; Ctrl-D exits.")
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

	// Errors are printed and the session goes on.
	// A wandb error is one line; a bug in the line has its traceback.
	term.send("assert(wandb.user('nobody@example.com'))\r")
	term.expect(`wandb: user: no user matches "nobody@example.com"` + "\n> ")
	term.send("local t; print(t.x)\r")
	term.expect("stdin:1: in main chunk")
	term.expect("> ")
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

func TestPromptAfterScript(t *testing.T) {
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
	check(t, runBinary(t, nil, "", "--local"), 2, ptr(""), "no script: give a script file, - for stdin, or -e 'chunk' (on a terminal, no script starts a prompt)")
}
