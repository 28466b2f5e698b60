package main

import (
	"io"
	"strings"
	"sync"

	"github.com/wandb-lua/wandb-lua/wandb/termtext"
)

// The terminal's one writer. Everything the program writes to its stdout
// and stderr during a run goes through a screen: what the script prints
// (print, io.write, io.stderr:write), plan lines, -v logs, warnings,
// errors and summaries, and wandb.parallel's progress line, which it
// draws as a status line at the bottom of stderr. So:
//
//   - nothing lands on the progress line: a write clears it first and
//     draws it again after, once every line written is complete;
//   - nothing from data moves the cursor: on a terminal, control
//     characters, escape sequences and bidirectional overrides are shown
//     escaped (termtext.Escape: ESC as \x1b, U+202E as \u202e), whoever
//     wrote them. A stream that is not a terminal (a pipe, a file) gets
//     the bytes exactly as written: a script that needs raw bytes, colours
//     of its own say, writes to a pipe or a file (wandb-lua script.lua |
//     cat), or opens /dev/tty itself.
//
// The prompt's line editor (readline) writes its own escape sequences to
// the terminal directly (rawOut, rawErr): it draws only while no statement
// runs.
type screen struct {
	mu             sync.Mutex
	rawOut, rawErr io.Writer
	outTTY, errTTY bool
	status         string // the status line to show at the bottom of stderr; "" for none
	drawn          bool   // status is on the screen
	closed         bool   // the run is over: no status line any more
	// Whether the last write to a terminal stream left its line unfinished
	// (io.write("working...")): the status line waits for the line's end.
	midOut, midErr bool
}

// newScreen returns the screen writing to out and err, each a terminal or
// not as outTTY and errTTY say.
func newScreen(out, err io.Writer, outTTY, errTTY bool) *screen {
	return &screen{rawOut: out, rawErr: err, outTTY: outTTY, errTTY: errTTY}
}

// stdout returns the writer of the program's standard output.
func (s *screen) stdout() io.Writer { return screenStream{s, false} }

// stderr returns the writer of the program's standard error; it is also
// the status line's (luamod.StatusLine), for wandb.parallel's progress.
func (s *screen) stderr() io.Writer { return screenStream{s, true} }

// screenStream is one of the screen's streams.
type screenStream struct {
	s     *screen
	isErr bool
}

// Write writes p, escaped on a terminal, with the status line out of its
// way. It reports len(p) written when the stream took everything.
func (w screenStream) Write(p []byte) (int, error) {
	return w.s.write(w.isErr, p)
}

// SetStatus shows line as the status line at the bottom of stderr, in
// place of the one shown; "" removes it. Only on a terminal.
func (w screenStream) SetStatus(line string) { w.s.setStatus(line) }

func (s *screen) write(isErr bool, p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dst, tty, mid := s.rawOut, s.outTTY, &s.midOut
	if isErr {
		dst, tty, mid = s.rawErr, s.errTTY, &s.midErr
	}
	if !tty {
		return dst.Write(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	s.clear()
	if _, err := io.WriteString(dst, termtext.Escape(string(p))); err != nil {
		return 0, err
	}
	*mid = p[len(p)-1] != '\n'
	s.draw()
	return len(p), nil
}

func (s *screen) setStatus(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.errTTY || s.closed {
		return
	}
	line = termtext.Escape(strings.ReplaceAll(line, "\n", " "))
	if line == "" {
		s.clear()
		s.status = ""
		return
	}
	s.status = line
	if s.drawn {
		_, _ = io.WriteString(s.rawErr, "\r\x1b[K"+line)
		return
	}
	s.draw()
}

// clear removes the status line from the screen, if drawn; the cursor is
// then at the start of the line where it was.
func (s *screen) clear() {
	if s.drawn {
		_, _ = io.WriteString(s.rawErr, "\r\x1b[K")
		s.drawn = false
	}
}

// draw draws the status line, if there is one and every line written is
// complete.
func (s *screen) draw() {
	if s.status != "" && !s.drawn && !s.midOut && !s.midErr {
		_, _ = io.WriteString(s.rawErr, "\r\x1b[K"+s.status)
		s.drawn = true
	}
}

// end removes the status line, before the prompt's editor takes the
// terminal.
func (s *screen) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clear()
	s.status = ""
}

// close removes the status line for good, and shows none from then on:
// before the program's last words, which a script abandoned after its
// deadline, still running, must not draw over.
func (s *screen) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clear()
	s.status, s.closed = "", true
}

// lineStart tells the screen that the terminal's cursor is at the start
// of a line, as after the prompt's editor has read a line.
func (s *screen) lineStart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.midOut, s.midErr = false, false
}
