package main

import (
	"fmt"
	"io"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb"
)

// noticeWait is the longest wait before a retry that passes without a
// word on a terminal: a longer one looks like a hang to the person
// watching, so they are told what is being waited for.
const noticeWait = 2 * time.Second

// retryNotice returns the wandb.Config.OnRetry of a run whose stderr, w,
// is a terminal: one line for each wait longer than noticeWait, saying
// what failed, where, and when the next attempt comes. w is the run's
// screen (screen.go), which clears wandb.parallel's progress line before
// the notice and draws it again after. Calls come from many goroutines:
// each notice is one Write (fmt.Fprintf writes its line at once), and the
// screen takes its lock for each, so lines do not mix.
func retryNotice(w io.Writer) func(wandb.RetryEvent) {
	return func(e wandb.RetryEvent) {
		if e.Wait <= noticeWait {
			return
		}
		why := ""
		if e.Header != "" {
			why = ", as the server's " + e.Header + " asks"
		}
		wait := e.Wait.Round(time.Second)
		if e.Wait < 10*time.Second {
			wait = e.Wait.Round(100 * time.Millisecond)
		}
		fmt.Fprintf(w, "wandb-lua: %s: %s (%s); trying again in %s%s (attempt %d of %d)\n",
			e.Op, e.Reason, e.Server, wait, why, e.Attempt+1, e.MaxAttempts)
	}
}
