package wandb

import (
	"net/http"
	"sync"
	"time"
)

// The circuit breaker: a server that is clearly down (several attempts in a
// row, across the client and the clients derived from it, could not reach
// it) is not tried again for a while, so that a bulk run whose server dies
// ends in seconds, every call with CodeUnavailable, instead of each call
// retrying for half a minute. After the pause one attempt probes the
// server (half-open): its success closes the breaker, its failure opens it
// again for a longer pause.

const (
	// breakerThreshold is how many attempts in a row must fail to reach
	// the server before it counts as down.
	breakerThreshold = 5
	// breakerMinPause and breakerMaxPause bound the pause before a probe;
	// it doubles with each failed probe.
	breakerMinPause = 2 * time.Second
	breakerMaxPause = 30 * time.Second
)

// breaker is the state of one server's circuit breaker. It is shared by a
// client and the clients derived from it for the same server.
type breaker struct {
	mu        sync.Mutex
	failures  int       // attempts in a row that could not reach the server
	openUntil time.Time // the breaker is open (calls fail at once) until then
	pause     time.Duration
	probing   bool // an attempt is probing the server after a pause
}

// allow reports whether an attempt may be sent now; if not, how long until
// the next probe.
func (b *breaker) allow() (ok bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures < breakerThreshold {
		return true, 0
	}
	if d := time.Until(b.openUntil); d > 0 {
		return false, d
	}
	if b.probing {
		return false, b.pause
	}
	b.probing = true // this attempt probes the server
	return true, 0
}

// record counts an attempt's outcome: reached the server or not.
func (b *breaker) record(reached bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if reached {
		b.failures, b.probing, b.pause, b.openUntil = 0, false, 0, time.Time{}
		return
	}
	b.failures++
	if b.failures < breakerThreshold {
		return
	}
	if b.probing || b.pause == 0 {
		// Opened now, or a probe failed: pause, longer each time.
		switch {
		case b.pause == 0:
			b.pause = breakerMinPause
		case b.probing:
			b.pause = min(2*b.pause, breakerMaxPause)
		}
		b.openUntil = time.Now().Add(b.pause)
		b.probing = false
	}
}

// reachedServer classifies an attempt for the breaker: ok is false for an
// attempt that says nothing about the server (the caller gave up, the
// token exchange failed, a redirect was refused).
func reachedServer(r attemptResult, callerDone bool) (reached, ok bool) {
	switch {
	case callerDone || r.token != nil || r.redirect:
		return false, false
	case r.err != nil || r.timedOut:
		return false, true
	case r.status == http.StatusBadGateway || r.status == http.StatusGatewayTimeout:
		return false, true // a gateway that cannot reach the server behind it
	case r.status == http.StatusServiceUnavailable && len(r.header.Values("Retry-After")) == 0:
		return false, true // down, not asking to come back later
	}
	return true, true
}
