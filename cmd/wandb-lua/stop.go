package main

import (
	"context"
	"errors"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Stopping a run whatever its script does. The Lua state's context stops
// the VM between instructions, requests in flight, and the string
// functions luamod checks; what runs in Go without looking at it (an
// os.execute, a read from a pipe that never ends, gopher-lua's own
// library functions) cannot be interrupted. So the Lua code runs on a
// goroutine of its own: once the run's context is done (Ctrl-C, SIGTERM,
// --timeout), it has stopGrace to return, and is then abandoned: the run
// is reported as stopped, with its summary, and the process exits, or the
// prompt goes on with a new Lua state.

// stopGrace is how long a run whose context ended has to stop. A change
// whose request was cut off is checked meanwhile (whether the server
// applied it); one still unsettled when the grace ends is in the audit
// log as an intent without an outcome, which reads as unknown.
const stopGrace = time.Second

// errAbandoned is runStoppable's error for a run that did not stop.
var errAbandoned = errors.New("the run did not stop")

// runStoppable runs fn on a goroutine of its own and returns its error,
// or errAbandoned when ctx ends and fn has not returned stopGrace later:
// fn then goes on running, and the caller must not touch what it uses
// (its Lua state) again.
func runStoppable(ctx context.Context, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	grace := time.NewTimer(stopGrace)
	defer grace.Stop()
	select {
	case err := <-done:
		return err
	case <-grace.C:
		return errAbandoned
	}
}

// session is the Lua state of a run, which the prompt replaces when it
// abandons a statement that did not stop. mu is held while a line of the
// prompt is compiled and run: completion, which runs on the line
// editor's goroutine, reads L only when it can take mu.
type session struct {
	mu        sync.Mutex
	L         *lua.LState
	make      func() *lua.LState // a new state, set up as the first was
	abandoned bool               // L is still in use by an abandoned run
}

// abandon leaves L to the run that did not stop.
func (s *session) abandon() { s.abandoned = true }

// restart replaces an abandoned L by a new state.
func (s *session) restart() {
	s.L, s.abandoned = s.make(), false
}

// close closes L, unless an abandoned run still uses it.
func (s *session) close() {
	if !s.abandoned {
		s.L.Close()
	}
}
