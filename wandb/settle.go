package wandb

import (
	"context"
	"errors"
)

// Definite outcomes for mutations that are idempotent in effect (create a
// team, invite, remove a member): when the answer to one is lost after the
// request reached the server, the server's state says whether it took
// effect.

// settle runs the mutation do. When do fails in a way that leaves unsure
// whether the server applied it (see Error.unsure), check looks at the
// server's state: applied, the call succeeds; not applied, do runs once
// more. A check that fails leaves the original error, saying that the
// change may have been applied; a check that finds a conflict (the change
// is there, but not this call's doing) returns that.
func (c *Client) settle(ctx context.Context, op string, do func() error, check func() (applied bool, err error)) error {
	for attempt := 1; ; attempt++ {
		err := do()
		if err == nil || !isUnsure(err) {
			return err
		}
		if ctx.Err() != nil {
			return unsettled(c, err, "the change may have been applied", nil)
		}
		applied, cerr := check()
		switch {
		case cerr != nil && errors.Is(cerr, ErrConflict):
			return cerr
		case cerr != nil:
			return unsettled(c, err, "the change may have been applied, and checking failed", cerr)
		case applied:
			c.logger.InfoContext(ctx, "wandb outcome checked", "op", op, "applied", true)
			return nil
		case attempt == 2:
			return err
		}
		c.logger.InfoContext(ctx, "wandb outcome checked", "op", op, "applied", false)
	}
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
	}
	cp.Message += ")"
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
