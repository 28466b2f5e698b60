package wandb

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The retry policy: which failed attempts are retried (a mutation only
// where it surely did not take effect) and how long to wait before each.

// RetryPolicy bounds how a request is retried. Zero fields take the value
// from [DefaultRetryPolicy]; MaxAttempts 1 disables retries.
type RetryPolicy struct {
	MaxAttempts   int           // attempts in total, the first included
	MinWait       time.Duration // wait before the first retry; doubled for each further one
	MaxWait       time.Duration // cap on the computed wait (before up to 25% jitter)
	MaxRetryAfter time.Duration // longest Retry-After the client will wait; a longer one ends the retries
}

// DefaultRetryPolicy returns the policy used for zero fields of Config.Retry:
// 6 attempts, waits from 1s doubling up to 30s (plus up to 25% jitter), and
// Retry-After honoured up to 60s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 6, MinWait: time.Second, MaxWait: 30 * time.Second, MaxRetryAfter: time.Minute}
}

// withDefaults fills zero fields from DefaultRetryPolicy.
func (p RetryPolicy) withDefaults() RetryPolicy { return p.withDefaultsFrom(DefaultRetryPolicy()) }

// withDefaultsFrom fills zero fields from d.
func (p RetryPolicy) withDefaultsFrom(d RetryPolicy) RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.MinWait <= 0 {
		p.MinWait = d.MinWait
	}
	if p.MaxWait <= 0 {
		p.MaxWait = d.MaxWait
	}
	if p.MaxWait < p.MinWait {
		p.MaxWait = p.MinWait
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = d.MaxRetryAfter
	}
	return p
}

// permanentTransportError reports transport errors that a retry cannot fix
// (as go-retryablehttp's default policy).
var permanentTransportError = regexp.MustCompile(`stopped after \d+ redirects|unsupported protocol scheme|invalid header|certificate|x509`)

// hostNotFound reports whether err says the base URL's host name does not
// exist, usually a typo in the URL: retrying would only make the user wait
// for the whole backoff schedule before seeing it.
func hostNotFound(err error) bool {
	var dns *net.DNSError
	return errors.As(err, &dns) && dns.IsNotFound
}

// retryable decides whether a failed attempt may be retried, and why.
// Queries are retried on transport errors, 408, 429 and 5xx except 501. A
// mutation is retried only where it surely did not take effect: 429, a
// failed connection, and 503 with Retry-After.
func retryable(mutation bool, r attemptResult) (why string, ok bool) {
	if r.tooLarge || r.token != nil || r.redirect { // the token exchange did its own retries
		return "", false
	}
	if r.err != nil {
		if permanentTransportError.MatchString(r.err.Error()) || hostNotFound(r.err) {
			return "", false
		}
		switch {
		case r.notSent:
			return "could not connect", true
		case mutation:
			return "", false // it may have been applied
		case r.timedOut:
			return "attempt timed out", true
		default:
			return "transport error", true
		}
	}
	s := r.status
	switch {
	case s == http.StatusTooManyRequests:
		return "HTTP 429", true
	case s == http.StatusServiceUnavailable && len(r.header.Values("Retry-After")) > 0:
		return "HTTP 503 with Retry-After", true
	case mutation:
		return "", false
	case s == http.StatusRequestTimeout, s >= 500 && s != http.StatusNotImplemented:
		return fmt.Sprintf("HTTP %d", s), true
	}
	return "", false
}

// backoff returns the wait before the retry that follows attempt (1-based):
// the server's Retry-After if it sent one (ok is false when that exceeds
// MaxRetryAfter), else MinWait doubled per attempt, capped at MaxWait, plus
// up to 25% jitter.
func (c *Client) backoff(attempt int, r attemptResult) (wait time.Duration, ok bool) {
	return c.retry.backoff(attempt, r.header)
}

// backoff is Client.backoff under the policy p, for an answer with header
// (nil when there was none).
func (p RetryPolicy) backoff(attempt int, header http.Header) (wait time.Duration, ok bool) {
	if d, has := retryAfter(header, time.Now()); has {
		return d, d <= p.MaxRetryAfter
	}
	wait = p.MaxWait
	if attempt-1 < 32 {
		if d := p.MinWait << (attempt - 1); d > 0 && d < p.MaxWait {
			wait = d
		}
	}
	return wait + rand.N(wait/4+1), true
}

// retryAfter parses a single Retry-After header: seconds (possibly
// fractional) or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	vals := h.Values("Retry-After")
	if len(vals) != 1 {
		return 0, false
	}
	v := strings.TrimSpace(vals[0])
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || secs > 1e9 {
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// mayHaveApplied reports whether a failed attempt of a mutation may have
// taken effect: the request reached the server, and the answer is not one
// that says it was refused (a 4xx, 429 or 503 with Retry-After included).
func mayHaveApplied(r attemptResult) bool {
	switch {
	case r.redirect:
		return false // a redirect is not an answer to the request
	case r.err != nil:
		return !r.notSent
	case r.tooLarge:
		return true
	case r.status == http.StatusServiceUnavailable && len(r.header.Values("Retry-After")) > 0:
		return false
	}
	return r.status >= 500
}
