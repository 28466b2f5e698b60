package wandb

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// The circuit breaker: a server that is clearly down is not tried again
// for a while, so that a bulk run whose server dies ends in seconds, every
// call with CodeUnavailable, instead of each call retrying for half a
// minute. It is shared by a client and the clients derived from it for
// the same server.
//
// Clearly down takes evidence that a flaky server does not give, since
// opening fails calls that a server answering most requests would have
// served: breakerThreshold attempts in a row got no answer from the
// server, with no answer to any caller in between, and either one of them
// could not even connect (nothing listens there: a server that is up,
// however flaky, accepts connections, and a gateway in front of one
// answers 502 instead), or the run of failures has gone on for
// breakerWindow. Any answer ends the run, an error (500, 429, 503 with
// Retry-After) included: a server that answers is up. So a server that
// answers, say, 85 requests in 100 and drops or times out the rest never
// opens it, however many calls are in flight, while one that is gone
// opens it after five attempts.
//
// After a pause one attempt probes the server (half-open): an answer
// closes the breaker, no answer opens it again for a longer pause, and a
// probe that ends saying nothing (its caller cancelled it, no access
// token could be had) gives its place to the next attempt. The check of
// a change's outcome is never refused on the breaker's word alone (see
// allowCheck): it waits for the probe in flight and takes its result, or
// probes the server itself, pause or not. An outcome left unknown must be
// the server's doing, found by an attempt, not the breaker's guess.

const (
	// breakerThreshold is how many attempts in a row must fail to reach
	// the server before it can count as down.
	breakerThreshold = 5
	// breakerWindow is how long attempts must have been failing, with no
	// answer in between, before failures that a flaky server also shows
	// (lost connections, attempt timeouts, a gateway's 502), with no
	// refused connection among them, open the breaker.
	breakerWindow = 5 * time.Second
	// breakerMinPause and breakerMaxPause bound the pause before a probe;
	// it doubles with each failed probe.
	breakerMinPause = 2 * time.Second
	breakerMaxPause = 30 * time.Second
)

// evidence is what one attempt says about the server.
type evidence int

const (
	// noEvidence: nothing (the caller gave up, no access token could be
	// had, a redirect was refused).
	noEvidence evidence = iota
	// answered: the server answered, whatever it said.
	answered
	// noAnswer: a connection was made, but no answer from the server came
	// back (the connection was lost, the attempt timed out, a gateway
	// answered 502, 504 or 503 without Retry-After).
	noAnswer
	// noConnection: no connection could be made.
	noConnection
)

// breaker is the state of one server's circuit breaker.
type breaker struct {
	mu        sync.Mutex
	failures  int           // attempts in a row that got no answer
	refused   int           // how many of those could not connect
	since     time.Time     // when the first of those was recorded
	open      bool          // attempts are refused, but for probes
	openUntil time.Time     // the pause: no probe before then
	pause     time.Duration // the current pause, doubled by each failed probe
	probe     chan struct{} // non-nil while a probe is out; closed when it ends
	failed    bool          // the last probe to end got no answer
	answered  bool          // the server has answered an attempt since the breaker was made: see hasAnswered
}

// hasAnswered reports whether the server has answered any attempt of the
// clients sharing b (this run, for a program). Until it has, a refused
// connection or a URL of the wrong scheme is taken for a mistake in the
// configuration and not retried (failfast.go).
func (b *breaker) hasAnswered() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.answered
}

// permit is the breaker's leave for one attempt, to hand back to record.
type permit struct {
	probe bool // the attempt probes the server
}

// allow reports whether an attempt may be sent now (and whether it is the
// probe); if not, how long until the next probe.
func (b *breaker) allow() (p permit, ok bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		return permit{}, true, 0
	}
	if d := time.Until(b.openUntil); d > 0 {
		return permit{}, false, d
	}
	if b.probe != nil {
		return permit{}, false, b.pause
	}
	b.probe = make(chan struct{})
	return permit{probe: true}, true, 0
}

// allowCheck is allow for an attempt of an outcome check (see
// checkContext). While a probe is out, it waits for the probe's end, or
// ctx's, and takes its result: the probe got an answer, the attempt is
// sent; it got none, the attempt is refused (the server was tried just
// now). When no probe is out, or the one it waited for ended saying
// nothing, the attempt probes the server itself, pause or not. A call
// that has probed already (probed) is refused while the breaker is open,
// as any other attempt. It returns ctx's error if ctx ended first.
func (b *breaker) allowCheck(ctx context.Context, probed bool) (p permit, ok bool, err error) {
	waited := false // for a probe, which has ended since
	for {
		b.mu.Lock()
		switch {
		case !b.open:
			b.mu.Unlock()
			return permit{}, true, nil
		case probed, b.probe == nil && waited && b.failed:
			b.mu.Unlock()
			return permit{}, false, nil
		case b.probe == nil:
			b.probe = make(chan struct{})
			b.mu.Unlock()
			return permit{probe: true}, true, nil
		}
		done := b.probe
		b.mu.Unlock()
		select {
		case <-done:
			waited = true
		case <-ctx.Done():
			return permit{}, false, ctx.Err()
		}
	}
}

// record counts what an attempt sent under p says about the server, and
// ends p's probe: an answer closes the breaker; no answer counts towards
// opening it (see the top of this file), or, from a probe, opens it again
// for a longer pause; noEvidence only frees the probe's place.
func (b *breaker) record(p permit, ev evidence) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p.probe && b.probe != nil {
		b.failed = ev == noAnswer || ev == noConnection
		close(b.probe)
		b.probe = nil
	}
	switch ev {
	case noEvidence:
		return
	case answered:
		b.failures, b.refused, b.open, b.pause, b.openUntil = 0, 0, false, 0, time.Time{}
		b.answered = true
		return
	}
	now := time.Now()
	if b.failures == 0 {
		b.since = now
	}
	b.failures++
	if ev == noConnection {
		b.refused++
	}
	switch {
	case b.open && p.probe:
		b.pause = min(2*b.pause, breakerMaxPause)
		b.openUntil = now.Add(b.pause)
	case !b.open && b.failures >= breakerThreshold && (b.refused > 0 || now.Sub(b.since) >= breakerWindow):
		b.open, b.pause = true, breakerMinPause
		b.openUntil = now.Add(b.pause)
	}
}

// reachedServer says what an attempt's result r tells about the server;
// callerDone reports that the caller's context has ended, so that the
// attempt's failure may be the caller's doing.
func reachedServer(r attemptResult, callerDone bool) evidence {
	switch {
	case callerDone || r.token != nil || r.redirect || r.mismatch != mismatchNone:
		return noEvidence // a wrong scheme says nothing of the server's health
	case r.err != nil && r.notSent && isDialError(r.err):
		return noConnection
	case r.err != nil || r.timedOut:
		return noAnswer
	case r.status == http.StatusBadGateway || r.status == http.StatusGatewayTimeout:
		return noAnswer // a gateway that cannot reach the server behind it
	case r.status == http.StatusServiceUnavailable && len(r.header.Values("Retry-After")) == 0:
		return noAnswer // down, not asking to come back later
	}
	return answered
}
