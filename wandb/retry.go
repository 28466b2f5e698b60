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

// RetryPolicy bounds how a request is retried. Zero fields take the
// defaults (see Config.Retry); MaxAttempts 1 disables retries.
type RetryPolicy struct {
	MaxAttempts   int           // attempts in total, the first included
	MinWait       time.Duration // wait before the first retry; doubled for each further one
	MaxWait       time.Duration // cap on the computed wait (before up to 25% jitter)
	MaxRetryAfter time.Duration // most a call waits at the server's request (Retry-After, RateLimit-Reset), summed over its retries; a wait that would pass it ends the retries
}

// RetryEvent is what Config.OnRetry hears before the client waits to
// send an attempt again.
type RetryEvent struct {
	Op          Op            // the call, e.g. OpUser, OpCreateUser
	Server      string        // the base URL, as Client.BaseURL shows it
	Attempt     int           // the attempt that failed, from 1
	MaxAttempts int           // the attempts the call may make in all
	Reason      string        // why it is retried: "HTTP 503", "could not connect", "attempt timed out"...
	Header      string        // the header the wait came from ("Retry-After", "RateLimit-Reset"), or "" for a computed wait
	Wait        time.Duration // how long the client waits before the next attempt
}

// defaultRetryPolicy returns the policy used for zero fields of
// Config.Retry, as Config.Retry documents it.
func defaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 6, MinWait: time.Second, MaxWait: 30 * time.Second, MaxRetryAfter: time.Minute}
}

// withDefaults fills zero fields from defaultRetryPolicy.
func (p RetryPolicy) withDefaults() RetryPolicy { return p.withDefaultsFrom(defaultRetryPolicy()) }

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
// failed connection, and 503 with Retry-After. A 503 with RateLimit-Reset
// but no Retry-After is not a refusal: W&B documents the RateLimit headers
// as its quota's state, sent with 429, and a 503 beside them may still
// come from a gateway after the server applied the change.
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

// backoff returns the wait before the retry that follows attempt (1-based)
// and the header it came from: the wait the server asked for, if it did
// (see serverWait; ok is false when that alone exceeds MaxRetryAfter), else
// MinWait doubled per attempt, capped at MaxWait, plus up to 25% jitter,
// and header "".
func (c *Client) backoff(attempt int, r attemptResult) (wait time.Duration, header string, ok bool) {
	return c.retry.backoff(attempt, r.status, r.header)
}

// backoff is Client.backoff under the policy p, for an answer with status
// and header (0 and nil when there was none).
func (p RetryPolicy) backoff(attempt, status int, header http.Header) (wait time.Duration, from string, ok bool) {
	if d, from, has := serverWait(status, header, time.Now()); has {
		return d, from, d <= p.MaxRetryAfter
	}
	wait = p.MaxWait
	if attempt-1 < 32 {
		if d := p.MinWait << (attempt - 1); d > 0 && d < p.MaxWait {
			wait = d
		}
	}
	return wait + rand.N(wait/4+1), "", true
}

// serverWait returns the wait an answer asks for and the header that
// says so: a Retry-After, on any answer; else, on a 429 or an answer with
// RateLimit-Remaining 0, a RateLimit-Reset. W&B documents the second
// (docs models/track/limits.mdx: on a 429, or with RateLimit-Remaining 0,
// wait RateLimit-Reset seconds) and never mentions Retry-After, which the
// SDK's core reads. On other answers RateLimit-Reset only says when a
// quota that is not used up renews, which is no reason to wait.
func serverWait(status int, h http.Header, now time.Time) (wait time.Duration, header string, ok bool) {
	if d, ok := retryAfter(h, now); ok {
		return d, "Retry-After", true
	}
	limited := status == http.StatusTooManyRequests
	if v, ok := single(h, "RateLimit-Remaining"); ok && !limited {
		n, err := strconv.ParseFloat(v, 64)
		limited = err == nil && n == 0
	}
	if v, ok := single(h, "RateLimit-Reset"); ok && limited {
		if d, ok := seconds(v); ok {
			return d, "RateLimit-Reset", true
		}
	}
	return 0, "", false
}

// retryAfter parses a single Retry-After header: seconds (possibly
// fractional) or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v, ok := single(h, "Retry-After")
	if !ok {
		return 0, false
	}
	if d, ok := seconds(v); ok {
		return d, true
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return 0, false // a number, but not a usable one
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// single returns the value of a header that appears exactly once, trimmed.
func single(h http.Header, name string) (string, bool) {
	vals := h.Values(name)
	if len(vals) != 1 {
		return "", false
	}
	return strings.TrimSpace(vals[0]), true
}

// seconds parses a non-negative number of seconds, possibly fractional, up
// to 1e9.
func seconds(v string) (time.Duration, bool) {
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil || !(secs >= 0 && secs <= 1e9) { // NaN included
		return 0, false
	}
	return time.Duration(secs * float64(time.Second)), true
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
