package wandbtest

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Fault is a misbehaviour to answer one request with; see FailNext.
//
// A fault waits Delay first. Then, if Drop is set, the handler closes the
// connection without answering; otherwise it answers with Status (200 when
// 0), the extra Header and the raw Body (Content-Type application/json when
// Body is valid JSON and Header sets no Content-Type). With AfterApply the
// operation runs for real first (so a mutation takes effect) and the fault
// replaces its answer. A Fault that sets none of Status, Header, Body and Drop
// only delays the request, which then proceeds normally.
type Fault struct {
	Status     int           // answer with this HTTP status (0: 200 unless Drop)
	Header     http.Header   // extra response headers, e.g. Retry-After
	Body       string        // raw response body
	Delay      time.Duration // wait first (request-context aware)
	Drop       bool          // hijack and close the connection without any answer
	AfterApply bool          // run the real operation first, then answer with the fault instead
	Stall      bool          // answer nothing until the client gives up (with AfterApply: after applying)
	Trickle    time.Duration // send Body one byte at a time, this far apart (a slow or stuck server)
}

// RateLimited is the answer W&B documents for a request over its rate
// limit (W&B docs models/track/limits.mdx, "Rate limits"): HTTP 429 with
// the headers RateLimit-Limit, RateLimit-Remaining (0) and RateLimit-Reset,
// the seconds until the quota resets, which the page tells clients to
// wait; and no Retry-After, which the page never mentions. The body is
// {"error":"rate limit exceeded"}, as wandb/wandb#2696 shows. Assumed, as
// no public source settles them: RateLimit-Limit is 1000 (the page scales
// quota from 0 to 1000), and RateLimit-Reset is whole seconds (reset
// rounded up), as in the IETF draft the headers come from. A test of a
// server that also sends Retry-After adds it to the Fault's Header.
func RateLimited(reset time.Duration) Fault {
	secs := int64(math.Ceil(max(reset, 0).Seconds()))
	return Fault{
		Status: http.StatusTooManyRequests,
		Header: http.Header{
			"Ratelimit-Limit":     {"1000"},
			"Ratelimit-Remaining": {"0"},
			"Ratelimit-Reset":     {strconv.FormatInt(secs, 10)},
		},
		Body: `{"error":"rate limit exceeded"}`,
	}
}

// FailNext queues faults for the next requests of operation op (as read from
// the query text, e.g. "GetViewer"); op "" queues them for requests of any
// operation. Each request takes at most one fault, in the order queued: first
// from its operation's queue, else from the "" queue. Faults apply before
// authentication, so they answer requests with any credentials or none.
func (h *Handler) FailNext(op string, faults ...Fault) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.faults[op] = append(h.faults[op], faults...)
}

// PendingFaults returns how many faults queued for op ("" = the any-operation
// queue) no request has taken yet.
func (h *Handler) PendingFaults(op string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.faults[op])
}

func (h *Handler) takeFault(op string) (Fault, bool) {
	if f, ok := h.takeQueuedFault(op); ok {
		return f, true
	}
	if h.pickFault != nil {
		return h.pickFault(op)
	}
	return Fault{}, false
}

func (h *Handler) takeQueuedFault(op string) (Fault, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, key := range []string{op, ""} {
		if q := h.faults[key]; len(q) > 0 {
			f := q[0]
			if len(q) == 1 {
				delete(h.faults, key)
			} else {
				h.faults[key] = q[1:]
			}
			return f, true
		}
		if op == "" {
			break
		}
	}
	return Fault{}, false
}

func (f Fault) delayOnly() bool {
	return f.Status == 0 && f.Header == nil && f.Body == "" && !f.Drop && !f.Stall && f.Trickle == 0
}

// write answers with the fault, drops the connection, or stalls until the
// request's context ends (the client gave up).
func (f Fault) write(w http.ResponseWriter, r *http.Request) {
	if f.Stall {
		<-r.Context().Done()
		return
	}
	if f.Drop {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			// HTTP/2 or a wrapped writer: abort the response instead.
			panic(http.ErrAbortHandler)
		}
		_ = conn.Close()
		return
	}
	for k, vs := range f.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if w.Header().Get("Content-Type") == "" && json.Valid([]byte(f.Body)) {
		w.Header().Set("Content-Type", "application/json")
	}
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	if f.Trickle <= 0 {
		_, _ = w.Write([]byte(f.Body))
		return
	}
	rc := http.NewResponseController(w)
	for i := range len(f.Body) {
		if _, err := w.Write([]byte{f.Body[i]}); err != nil || rc.Flush() != nil || !sleep(r.Context(), f.Trickle) {
			return
		}
	}
}
