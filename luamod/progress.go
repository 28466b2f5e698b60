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

// startProgress draws the progress of total items, of which done have
// finished and failures failed, to w until the returned stop is called,
// which draws the last line (if any was drawn) and ends it.
func startProgress(w io.Writer, total int, done, failures *atomic.Int64) (stop func()) {
	start := time.Now()
	quit, finished := make(chan struct{}), make(chan struct{})
	drawn := false
	draw := func() {
		drawn = true
		fmt.Fprint(w, "\r\x1b[K"+progressLine(total, int(done.Load()), int(failures.Load()), time.Since(start)))
	}
	go func() {
		defer close(finished)
		t := time.NewTimer(progressDelay)
		defer t.Stop()
		for {
			select {
			case <-quit:
				if drawn {
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
