package main

import (
	"context"
	"errors"
	"os"
	"sync"
	"syscall"
)

// Signals: Ctrl-C and SIGTERM stop what runs now. For a script or serve
// that is the whole run: the first signal cancels its context (the request
// in flight stops, the script ends, the changes so far are summed up; a
// script that does not stop is abandoned after stopGrace, see stop.go) and
// a second one exits at once, after the summary. At the interactive prompt
// Ctrl-C stops the statement running and the prompt comes back; SIGTERM
// ends the session, with the summary. The exit code is that of the signal
// that ended the run or the session.

// signalWatch delivers the signals of a run to its current handler.
type signalWatch struct {
	mu      sync.Mutex
	handler func(os.Signal)
	stop    chan struct{}
	last    func() // run before a second signal exits; nil for nothing
}

// watchSignals starts delivering the signals from ch (nil: none) to the
// handler set with handle. The caller calls stop when the run ends.
func watchSignals(ch <-chan os.Signal) *signalWatch {
	w := &signalWatch{stop: make(chan struct{})}
	go func() {
		for {
			select {
			case s := <-ch:
				w.mu.Lock()
				h := w.handler
				w.mu.Unlock()
				if h != nil {
					h(s)
				}
			case <-w.stop:
				return
			}
		}
	}()
	return w
}

// handle makes h the handler of the signals from now on.
func (w *signalWatch) handle(h func(os.Signal)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.handler = h
}

// cancelRun returns a context that the first signal cancels, with that
// signal as its cause (signalOf); a second signal exits the process at
// once. It becomes the handler.
func (w *signalWatch) cancelRun(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	var first os.Signal // only the watch goroutine calls handlers
	w.handle(func(s os.Signal) {
		if first != nil {
			w.mu.Lock()
			last := w.last
			w.mu.Unlock()
			if last != nil {
				last()
			}
			os.Exit(exitCodeFor(first))
		}
		first = s
		cancel(&signalCause{sig: s})
	})
	return ctx, func() { cancel(nil) }
}

// signalCause is the cause of a context canceled by a signal.
type signalCause struct{ sig os.Signal }

func (c *signalCause) Error() string { return "stopped by " + c.sig.String() }

// signalOf returns the signal that canceled ctx (or a context it derives
// from) through cancelRun, or nil.
func signalOf(ctx context.Context) os.Signal {
	var c *signalCause
	if errors.As(context.Cause(ctx), &c) {
		return c.sig
	}
	return nil
}

// lastWords makes f what a second signal runs before it exits the
// process: the run's summary.
func (w *signalWatch) lastWords(f func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = f
}

// close stops the delivery.
func (w *signalWatch) close() { close(w.stop) }

// exitCodeFor returns the shell's exit status for a process ended by s
// (nil: by Ctrl-C).
func exitCodeFor(s os.Signal) int {
	if s == syscall.SIGTERM {
		return 128 + int(syscall.SIGTERM)
	}
	return exitInterrupted
}
