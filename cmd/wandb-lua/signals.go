package main

import (
	"context"
	"os"
	"sync"
	"syscall"
)

// Signals: Ctrl-C and SIGTERM stop what runs now. For a script or serve
// that is the whole run: the first signal cancels its context (the request
// in flight stops, the script ends, the changes so far are summed up; a
// script that does not stop is abandoned after stopGrace, see stop.go) and
// a second one exits at once, after the summary. At the interactive prompt
// it is the statement running: the prompt comes back.

// signalWatch delivers the signals of a run to its current handler.
type signalWatch struct {
	mu      sync.Mutex
	handler func(os.Signal)
	first   os.Signal // the first signal received, if any
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
				if w.first == nil {
					w.first = s
				}
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

// cancelRun returns a context that the first signal cancels; a second
// signal exits the process at once. It becomes the handler.
func (w *signalWatch) cancelRun(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	count := 0
	w.handle(func(os.Signal) {
		count++ // only the watch goroutine calls handlers
		if count > 1 {
			w.mu.Lock()
			last := w.last
			w.mu.Unlock()
			if last != nil {
				last()
			}
			os.Exit(exitCodeFor(w.received()))
		}
		cancel()
	})
	return ctx, cancel
}

// lastWords makes f what a second signal runs before it exits the
// process: the run's summary.
func (w *signalWatch) lastWords(f func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = f
}

// received returns the first signal received, or nil.
func (w *signalWatch) received() os.Signal {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.first
}

// close stops the delivery.
func (w *signalWatch) close() { close(w.stop) }

// exitCodeFor returns the shell's exit status for a process ended by s.
func exitCodeFor(s os.Signal) int {
	if s == syscall.SIGTERM {
		return 128 + int(syscall.SIGTERM)
	}
	return exitInterrupted
}
