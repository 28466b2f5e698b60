package luamod

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// The progress line of wandb.parallel (Options.Progress): done/total,
// failures, rate and time left, redrawn in place. It runs on a goroutine of
// its own and reads only counters: never a Lua value.

// Timing of the progress line: the first draw waits progressDelay, so that
// short runs print nothing; it is then redrawn every progressEvery.
const (
	progressDelay = 500 * time.Millisecond
	progressEvery = 200 * time.Millisecond
)

// StatusLine is what an Options.Progress writer implements to draw the
// progress line itself, when other output shares the terminal: a program
// with one writer for its terminal (wandb-lua's) clears the line before
// anything else is written and draws it again after, so that nothing is
// written over it. Without it, the line is drawn on the writer with "\r"
// and ESC [K.
type StatusLine interface {
	io.Writer
	// SetStatus shows line in place of the status line shown, if any;
	// "" removes the line from the screen.
	SetStatus(line string)
}

// startProgress draws the progress of total items, of which done have
// finished and failures failed, to w until the returned stop is called,
// which draws the last line (if any was drawn) and ends it: it stays on
// the screen as a line of output.
func startProgress(w io.Writer, total int, done, failures *atomic.Int64) (stop func()) {
	start := time.Now()
	quit, finished := make(chan struct{}), make(chan struct{})
	drawn := false
	status, _ := w.(StatusLine)
	line := func() string {
		return progressLine(total, int(done.Load()), int(failures.Load()), time.Since(start))
	}
	draw := func() {
		drawn = true
		if status != nil {
			status.SetStatus(line())
			return
		}
		fmt.Fprint(w, "\r\x1b[K"+line())
	}
	go func() {
		defer close(finished)
		t := time.NewTimer(progressDelay)
		defer t.Stop()
		for {
			select {
			case <-quit:
				switch {
				case drawn && status != nil:
					status.SetStatus("")
					fmt.Fprintln(w, line())
				case drawn:
					draw()
					fmt.Fprint(w, "\n")
				}
				return
			case <-t.C:
				draw()
				t.Reset(progressEvery)
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}

// progressLine formats the progress after elapsed: e.g.
// "wandb.parallel: 120/500 done, 2 failed, 35.2/s, 11s left".
func progressLine(total, done, failed int, elapsed time.Duration) string {
	s := fmt.Sprintf("wandb.parallel: %d/%d done", done, total)
	if failed > 0 {
		s += fmt.Sprintf(", %d failed", failed)
	}
	if secs := elapsed.Seconds(); done > 0 && secs > 0 {
		rate := float64(done) / secs
		s += fmt.Sprintf(", %.1f/s", rate)
		if left := total - done; left > 0 {
			s += ", " + (time.Duration(float64(left) / rate * float64(time.Second))).Round(time.Second).String() + " left"
		}
	}
	return s
}
