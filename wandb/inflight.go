package wandb

import "context"

// The bound on requests in flight: a client and the clients derived from
// it for the same server (the family that shares a circuit breaker) send
// at most Config.MaxInFlight requests at once, however many goroutines
// call them (nested wandb.parallel calls multiply theirs). An attempt
// waits for a place before it is sent and gives it back once its answer
// is read; the waits between retries hold none.

// defaultMaxInFlight is Config.MaxInFlight's default: as many requests as
// the default transport keeps idle connections to one host
// (MaxIdleConnsPerHost; it sets no MaxConnsPerHost, so the transport
// itself never makes a request wait for a connection). With no more
// requests in flight than that, every connection they open can be kept
// for the next request when its answer is read, instead of being closed
// and dialled again.
const defaultMaxInFlight = defaultIdleConnsPerHost

// More requests than MaxInFlightLimit in flight is no bound at all.

// MaxInFlightLimit is the largest Config.MaxInFlight: a larger one is
// taken as this, and WANDB_MAX_IN_FLIGHT refuses it.
const MaxInFlightLimit = 10000

// inFlight holds a place for each request in flight.
type inFlight chan struct{}

// newInFlight returns a bound of n requests; n <= 0 means the default.
func newInFlight(n int) inFlight {
	if n <= 0 {
		n = defaultMaxInFlight
	}
	return make(inFlight, n)
}

// acquire waits for a place, or for ctx to end, and returns ctx's error
// then.
func (s inFlight) acquire(ctx context.Context) error {
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release gives back a place that acquire took.
func (s inFlight) release() { <-s }
