package wandb

import (
	"context"
	"errors"
	"time"
)

// Definite outcomes for mutations that are idempotent in effect (create a
// team, invite, remove a member): when the answer to one is lost after the
// request reached the server, the server's state says whether it took
// effect.

// defaultOutcomeCheckTimeout is Config.OutcomeCheckTimeout's default.
const defaultOutcomeCheckTimeout = 5 * time.Second

// settle runs the mutation do. When do fails in a way that leaves unsure
// whether the server applied it (see Error.unsure), check looks at the
// server's state (with ctx, or a short context of its own when ctx has
// ended): applied, the call succeeds; not applied, do runs once more, and
// after a second failure, or when ctx has ended, the failure is returned
// as definite. A check that fails, or that cannot see what it must read
// (notShown), leaves the error unsure (Client.change makes it
// CodeUnknownOutcome); a check that finds a conflict (the change is
// there, but not this call's doing) returns that.
func (c *Client) settle(ctx context.Context, op Op, do func() error, check func(context.Context) (applied bool, err error)) error {
	return c.settleN(ctx, op, 2, false, do, check)
}

// settleReplace is settle for a change that replaces a value (a role):
// sending it again is harmless, so when the check cannot see the value,
// do is sent once more and its answer decides. A second failure leaves
// the outcome unknown.
func (c *Client) settleReplace(ctx context.Context, op Op, do func() error, check func(context.Context) (applied bool, err error)) error {
	return c.settleN(ctx, op, 2, true, do, check)
}

// notShown is what a check returns when what the server shows cannot tell
// applied from not applied: a field it must read is left out (W&B's SCIM
// reads leave out the roles), or what it finds could be another's doing.
// why says which.
type notShown struct{ why string }

func (n notShown) Error() string { return n.why }

// settleN is settle with up to sends sends of do; resend sends do again
// when the check cannot see (see settleReplace).
func (c *Client) settleN(ctx context.Context, op Op, sends int, resend bool, do func() error, check func(context.Context) (applied bool, err error)) error {
	var blind error // the unsure failure whose check could not see, when do was sent again
	for attempt := 1; ; attempt++ {
		err := do()
		switch {
		case err == nil:
			return nil
		case blind != nil:
			// The first attempt may have applied it: this one's failure
			// does not say it was not.
			return unsettled(c, blind, "could not check: sent again, which failed", err)
		case attempt > 1 && (errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound)) && !isUnsure(err):
			// Sent again because a check found it not applied, and now
			// there already (or its target gone): the first send may have
			// been applied after that check, as a slow server does. Look
			// again rather than take it as the verdict.
			err = asUnsure(err)
		case !isUnsure(err):
			return err
		}
		cctx, cancel := c.checkContext(ctx)
		applied, cerr := check(cctx)
		cancel()
		var ns notShown
		switch {
		case cerr != nil && errors.Is(cerr, ErrConflict):
			return cerr
		case errors.As(cerr, &ns) && resend && attempt < sends && ctx.Err() == nil:
			c.logger.InfoContext(ctx, "wandb outcome unseen, sending again", "op", op, "reason", ns.Error())
			blind = err
			continue
		case errors.As(cerr, &ns):
			return unsettled(c, err, "could not check: "+ns.Error(), nil)
		case cerr != nil:
			return unsettled(c, err, "checking failed", cerr)
		case applied:
			c.logger.InfoContext(ctx, "wandb outcome checked", "op", op, "applied", true)
			return nil
		case ctx.Err() != nil || attempt >= sends:
			return notApplied(c, err)
		}
		c.logger.InfoContext(ctx, "wandb outcome checked", "op", op, "applied", false)
	}
}

// checkContext returns the context to check a mutation's outcome with:
// ctx, or when ctx has ended one without its cancellation, bounded by
// Config.OutcomeCheckTimeout (already done when that is negative). It is
// marked as a check's (see isOutcomeCheck): the circuit breaker never
// refuses its requests without one attempt.
func (c *Client) checkContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return context.WithValue(ctx, outcomeCheckKey{}, true), func() {}
	}
	ctx = context.WithValue(ctx, outcomeCheckKey{}, true)
	d := c.cfg.OutcomeCheckTimeout
	switch {
	case d == 0:
		d = defaultOutcomeCheckTimeout
	case d < 0:
		d = 0
	}
	return context.WithTimeout(context.WithoutCancel(ctx), d)
}

// unconfirmed is the error of a change the server answered 2xx to
// without showing it done (an empty answer, or one that says otherwise):
// unsure, so that settle looks at the server's state. why says what the
// answer lacks.
func (c *Client) unconfirmed(op Op, why string) error {
	return c.newError(Error{Op: op, Code: CodeBadResponse, Status: 200, Message: why, unsure: true})
}

// outcomeCheckKey marks the context of an outcome check.
type outcomeCheckKey struct{}

// isOutcomeCheck reports whether ctx is an outcome check's (see
// checkContext).
func isOutcomeCheck(ctx context.Context) bool {
	v, _ := ctx.Value(outcomeCheckKey{}).(bool)
	return v
}

// notApplied returns err, an unsure failure, as a definite one: the server
// was checked and the change is not there.
func notApplied(c *Client, err error) error {
	return definite(c, err, "checked: the change was not applied")
}

// definite returns err, an unsure failure, as a definite one, with note
// saying how that was established.
func definite(c *Client, err error, note string) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	cp := *e
	cp.unsure = false
	cp.Message += " (" + note + ")"
	return c.newError(cp)
}

// asUnsure returns err, an *Error, marked unsure.
func asUnsure(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	cp := *e
	cp.unsure = true
	return &cp
}

// isUnsure reports whether err is a failure of a mutation that may have
// taken effect.
func isUnsure(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.unsure
}

// isNotFound reports whether err matches ErrNotFound.
func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// unsettled returns err, a failure whose effect is not known, with note
// (and the error of the check, if any) added to its message.
func unsettled(c *Client, err error, note string, checkErr error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	cp := *e
	cp.Message += " (" + note
	var ce *Error
	if errors.As(checkErr, &ce) {
		cp.Message += ": " + ce.Message
		if cp.Hint == "" { // the check's hint, which its message leaves out
			cp.Hint, cp.HintValue = ce.Hint, ce.HintValue
		}
	}
	cp.Message += ")"
	return c.newError(cp)
}

// withCandidates returns err, an *Error, with Candidates set to names.
func withCandidates(c *Client, err error, names []string) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	cp := *e
	cp.Candidates = names
	return c.newError(cp)
}

// ptrTo returns a pointer to v.
func ptrTo[T any](v T) *T { return &v }

// deref returns *p, or the zero value for nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
