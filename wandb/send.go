package wandb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/Khan/genqlient/graphql"
)

// Sending: the one place requests leave the client, GraphQL (MakeRequest)
// and SCIM (scimDo) alike. send runs the attempt loop (retry.go decides what
// is retried and how long to wait, response.go reads what came back);
// attempt sends once with the per-attempt timeout.

// gqlClient is the genqlient graphql.Client for one call of the public
// API: op is the call, which every error carries.
type gqlClient struct {
	c      *Client
	op     Op
	strict bool // see request.strict
}

// MakeRequest implements graphql.Client.
func (g gqlClient) MakeRequest(ctx context.Context, req *graphql.Request, resp *graphql.Response) error {
	c := g.c
	body, err := json.Marshal(req)
	if err != nil {
		return c.newError(Error{Op: g.op, Code: CodeInvalidArgument, Message: "cannot encode the request", Err: err})
	}
	r := request{
		op:          g.op,
		name:        req.OpName,
		method:      http.MethodPost,
		url:         c.endpoint,
		body:        body,
		contentType: "application/json",
		mutation:    strings.HasPrefix(strings.TrimSpace(req.Query), "mutation"),
		strict:      g.strict,
	}
	if e := c.send(ctx, r, func(status int, body *bodyReader) *Error { return c.decode(g.op, status, body, resp) }); e != nil {
		return e
	}
	return nil // not a typed nil
}

// request is one request the client sends, with retries.
type request struct {
	op          Op     // the call, which every error carries
	name        string // the operation, for log lines: "GetViewer", "PATCH /Users"
	method      string
	url         string
	body        []byte // nil for none
	contentType string // of the body, and what is accepted in return
	mutation    bool   // it changes the server's state: retried only where it surely did not take effect
	byID        bool   // a SCIM request for one resource by its id: once the SCIM API has answered, a 404 means the resource is not there
	// strict: a mutation that must never be sent twice blindly (a new key,
	// a service account): a 429 or a 503 with Retry-After, which may
	// follow the change being applied, makes it unsure instead of retried.
	strict bool
}

// gql returns the graphql.Client for the call named op.
func (c *Client) gql(op Op) graphql.Client { return gqlClient{c: c, op: op} }

// gqlStrict is gql for a mutation that must never be sent twice blindly
// (see request.strict).
func (c *Client) gqlStrict(op Op) graphql.Client { return gqlClient{c: c, op: op, strict: true} }

// attemptResult is what one attempt produced.
type attemptResult struct {
	status    int
	header    http.Header
	body      []byte      // a failed answer's body (its first maxBody bytes); a 2xx answer's is streamed to the decoder
	err       error       // the transport or body-read error, if any
	notSent   bool        // the request surely never reached the server (it could not connect)
	timedOut  bool        // the per-attempt timeout passed
	tooLarge  bool        // the body exceeded maxBody
	redirect  bool        // a redirect was refused (see redirect.go); err says where to
	token     *tokenError // no access token could be had: nothing was sent
	mismatch  int         // the URL's scheme is not the server's (see schemeMismatch): the request was not taken
	decodeErr *Error      // a 2xx answer: what its decoder returned
}

// A decoder reads a 2xx answer's body as it arrives, within the attempt's
// time. If reading the body fails (the connection, the attempt timeout,
// the size limit), the attempt fails with that and what the decoder
// returned does not count, so a decoder may simply give up on any read
// error. A retried attempt calls the decoder again from the start.
type decoder func(status int, body *bodyReader) *Error

// send sends req with retries and hands a 2xx answer to decode. Every
// error it returns is an *Error for req.op.
//
// Each attempt waits for a place among the requests the client family may
// have in flight (Config.MaxInFlight), then for the circuit breaker's
// leave (breaker.go; an outcome check's attempts, see checkContext, wait
// for a probe in flight rather than being refused). The waits the server
// asks for are summed over the call: one that would take the sum past
// RetryPolicy.MaxRetryAfter ends the call instead.
func (c *Client) send(ctx context.Context, req request, decode decoder) (failed *Error) {
	op, mutation := req.op, req.mutation
	p := c.retry
	check := isOutcomeCheck(ctx)
	var (
		last   *Error        // the previous attempt's failure
		probed bool          // an attempt of this call probed the server
		asked  time.Duration // the waits the server asked for so far
	)
	// blindlyResent: a mutation was sent again after an answer that said
	// "later", which a server may give after applying it; whatever the
	// last send's answer, the first's outcome is then for the caller to
	// check (a conflict or not found may be the first send's doing).
	blindlyResent := false
	defer func() {
		// Whatever ends the call (its context while it waits to retry,
		// a misconfiguration found on a resend, ...), a mutation that may
		// have been applied by an earlier send is for the caller to check.
		if failed != nil && mutation && (blindlyResent || last != nil && last.unsure) {
			failed.unsure = true
		}
	}()
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return c.ctxError(op, err, last)
		}
		if err := c.inFlight.acquire(ctx); err != nil {
			return c.ctxError(op, err, last)
		}
		pm, refused, err := c.admit(ctx, op, check, probed)
		if err != nil || refused != nil {
			c.inFlight.release()
			if err != nil {
				return c.ctxError(op, err, last)
			}
			if last != nil {
				last.Message += " (the server looks down: no further attempts)"
				return last
			}
			return refused
		}
		probed = probed || pm.probe
		start := time.Now()
		r := c.attemptAllowed(ctx, req, decode, pm)
		c.logger.DebugContext(ctx, "wandb request",
			"op", op, "operation", req.name, "attempt", attempt,
			"status", r.status, "duration", time.Since(start), "error", c.redactErr(r.err))
		if r.err == nil && !r.tooLarge && r.status >= 200 && r.status < 300 {
			if e := r.decodeErr; e != nil {
				// The server answered 2xx: it applied the mutation, whatever
				// the body failed to say.
				e.unsure = mutation && (e.Code == CodeBadResponse || blindlyResent)
				return e
			}
			return nil
		}
		if err := ctx.Err(); err != nil {
			e := c.ctxError(op, err, nil)
			e.unsure = mutation && mayHaveApplied(r)
			return e
		}
		failure := c.failure(op, r)
		last = failure
		if msg, ok := c.misconfiguration(req, r, c.brk.hasAnswered()); ok {
			// Waiting cannot help: the URL is wrong, or nothing runs there.
			failure.Code, failure.Message = CodeTransport, c.clean(msg)
			return failure
		}
		if r.status == http.StatusNotFound && !apiNotFound(r.body) && !(req.byID && c.fam.scimSeen.Load()) {
			// Not the API's answer: the URL is wrong. (W&B documents no
			// body for SCIM's 404s, so once its collection answered, a
			// resource's 404 is read as "not there", whatever the body.)
			return c.noAPIAt(op, req)
		}
		failure.unsure = mutation && (mayHaveApplied(r) || blindlyResent)
		if failure.unsure && r.status == 0 && !r.timedOut {
			// Not "cannot reach the server": it may have been reached.
			failure.Message = "the connection was lost after the request was sent: " + c.redact(r.err.Error())
		}
		why, retry := retryable(mutation, r)
		later := mutation && retry && r.err == nil // a 429 or 503 with Retry-After: assumed refused
		if later && req.strict {
			// It may have followed the change; this one is never sent twice
			// blindly: the caller looks at the server instead.
			failure.unsure = true
			return failure
		}
		if !retry {
			return failure
		}
		if attempt >= p.MaxAttempts {
			if attempt > 1 {
				failure.Message += fmt.Sprintf(" (gave up after %d attempts)", attempt)
			}
			return failure
		}
		wait, header, ok := c.backoff(attempt, r)
		switch {
		case !ok:
			failure.Message += fmt.Sprintf(" (the server's %s asks for a wait of %s, longer than the %s this client waits)",
				header, wait, p.MaxRetryAfter)
			return failure
		case header != "" && asked+wait > p.MaxRetryAfter:
			// A server that keeps asking for long waits is not sat out
			// attempt after attempt: the caller hears what it asks for.
			failure.Message += fmt.Sprintf(" (the server's %s asks for a wait of %s; after the %s it asked for before, that is more than the %s this client waits in all)",
				header, wait, asked, p.MaxRetryAfter)
			return failure
		case header != "":
			asked += wait
		}
		if dl, has := ctx.Deadline(); has && time.Until(dl) < wait {
			failure.Message += " (the deadline leaves no time for another attempt)"
			return failure
		}
		attrs := []any{"op", op, "operation", req.name, "attempt", attempt, "reason", why, "wait", wait}
		if header != "" {
			attrs = append(attrs, "header", header) // the wait is the server's, not computed
		}
		blindlyResent = blindlyResent || later
		c.logger.InfoContext(ctx, "wandb retry", attrs...)
		if c.cfg.OnRetry != nil {
			c.cfg.OnRetry(RetryEvent{Op: op, Server: c.BaseURL(), Attempt: attempt, MaxAttempts: p.MaxAttempts, Reason: why, Header: header, Wait: wait})
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return c.ctxError(op, ctx.Err(), failure)
		case <-t.C:
		}
	}
}

// admit asks the circuit breaker for leave to send an attempt of the call
// op: an outcome check's attempt (check) waits for a probe in flight and
// takes its result, or probes itself (see breaker.allowCheck). It returns
// the permit, or the error of a refusal, or ctx's error.
func (c *Client) admit(ctx context.Context, op Op, check, probed bool) (permit, *Error, error) {
	if check {
		pm, ok, err := c.brk.allowCheck(ctx, probed)
		if err != nil || ok {
			return pm, nil, err
		}
		return permit{}, c.newError(Error{Op: op, Code: CodeUnavailable, Message: fmt.Sprintf(
			"the server at %s could not be reached just now: the attempt this check waited for got no answer", c.cfg.BaseURL)}), nil
	}
	pm, ok, wait := c.brk.allow()
	if ok {
		return pm, nil, nil
	}
	return permit{}, c.newError(Error{Op: op, Code: CodeUnavailable, Message: fmt.Sprintf(
		"the server at %s looks down: %d attempts in a row could not reach it; nothing is sent to it for the next %s",
		c.cfg.BaseURL, breakerThreshold, wait.Round(100*time.Millisecond))}), nil
}

// attemptAllowed sends one attempt under the breaker's permit pm, with a
// place in flight taken, then gives the place back and tells the breaker
// what the attempt found out, whatever happens: a probe that ends without
// an answer (the caller cancelled it, a decoder panicked) must not keep
// the probe's place, or the breaker would never close.
func (c *Client) attemptAllowed(ctx context.Context, req request, decode decoder, pm permit) (r attemptResult) {
	ev := noEvidence
	defer func() {
		c.inFlight.release()
		c.brk.record(pm, ev)
	}()
	r = c.attempt(ctx, req, decode)
	ev = reachedServer(r, ctx.Err() != nil)
	return r
}

// attempt sends req once and reads the answer, within the per-attempt
// timeout: a 2xx answer through decode, any other whole (up to maxBody).
func (c *Client) attempt(ctx context.Context, req request, decode decoder) attemptResult {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hreq, err := http.NewRequestWithContext(actx, req.method, req.url, body)
	if err != nil {
		return attemptResult{err: err, notSent: true}
	}
	if req.body != nil {
		hreq.Header.Set("Content-Type", req.contentType)
	}
	hreq.Header.Set("Accept", req.contentType)
	hreq.Header.Set("User-Agent", c.userAgent)
	hreq.Header.Set("Use-Admin-Privileges", "true")
	hresp, err := c.http.Do(hreq)
	if err != nil {
		if re, ok := asRedirect(err); ok {
			// The server answered with a redirect: it did not take the
			// request, and a retry would meet the same.
			return attemptResult{status: re.status, err: re, redirect: true}
		}
		r := attemptResult{err: err, notSent: isDialError(err), timedOut: timedOut(ctx, actx), mismatch: schemeMismatch(err, 0, nil)}
		if r.mismatch != mismatchNone {
			r.notSent = true // the server could not read it as a request
		}
		var ce *credentialsError
		if errors.As(err, &ce) {
			r.notSent = true
			errors.As(err, &r.token)
		}
		return r
	}
	defer hresp.Body.Close()
	r := attemptResult{status: hresp.StatusCode, header: hresp.Header}
	if r.status >= 200 && r.status < 300 {
		body := newBodyReader(hresp.Body, c.maxBody)
		r.decodeErr = decode(r.status, body)
		r.err, r.tooLarge = body.err, body.tooLarge
		switch {
		case r.tooLarge:
			r.err, r.decodeErr = nil, nil
		case r.err != nil:
			r.decodeErr, r.timedOut = nil, timedOut(ctx, actx)
		default:
			body.drain(drainBytes)
		}
		return r
	}
	// Another answer is read for its message only: its first
	// errorBodyBytes are enough, and a hostile or broken server's huge
	// error page costs no more than that. Its status still decides.
	r.body, err = io.ReadAll(io.LimitReader(hresp.Body, min(c.maxBody, errorBodyBytes)))
	if err != nil {
		r.err, r.timedOut = err, timedOut(ctx, actx)
	}
	r.mismatch = schemeMismatch(nil, r.status, r.body)
	return r
}

// errorBodyBytes is how much of an answer that is not 2xx is read.
const errorBodyBytes = 1 << 20

// timedOut reports whether the attempt's own timeout (not the caller's) passed.
func timedOut(parent, attempt context.Context) bool {
	return parent.Err() == nil && errors.Is(attempt.Err(), context.DeadlineExceeded)
}

// isDialError reports whether err happened while connecting, so the
// request never reached the server.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// ctxError is the error for a cancelled or expired caller context; last is
// the failure that was about to be retried, if any.
func (c *Client) ctxError(op Op, err error, last *Error) *Error {
	code, msg, status := CodeCanceled, "canceled", 0
	if errors.Is(err, context.DeadlineExceeded) {
		code, msg = CodeTimeout, "deadline exceeded"
	}
	if last != nil {
		msg += " while waiting to retry after: " + last.Message
		status = last.Status
	}
	return c.newError(Error{Op: op, Code: code, Status: status, Message: msg, Err: err})
}

// redactErr is err's text without secrets, for a log line; "" for nil.
func (c *Client) redactErr(err error) string {
	if err == nil {
		return ""
	}
	return c.redact(err.Error())
}
