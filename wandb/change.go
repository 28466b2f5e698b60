package wandb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/termtext"
)

// Changes: every mutation the client can send (GraphQL or SCIM) goes
// through Client.Change, the one place where dry runs, read-only mode and
// the record of changes (Config.OnChange, AuditLog) are decided.
//
// A change that is carried out is recorded twice: an intent record
// (OutcomePending) before it starts and an outcome record after, with the
// same ID. A crash between the two leaves the intent alone, which a
// reader takes as OutcomeUnknown: the change may have been applied.

// Outcome is how a change ended.
type Outcome string

// The outcomes of a change.
const (
	OutcomeOK      Outcome = "ok"      // applied
	OutcomeFailed  Outcome = "failed"  // not applied; ChangeRecord.Code says why
	OutcomeUnknown Outcome = "unknown" // it may have been applied, and the server could not tell
	OutcomeDryRun  Outcome = "dry_run" // not sent: Config.DryRun
	// OutcomePending marks the intent record, written before the change
	// starts; the outcome record with the same ID follows. Alone, after a
	// crash, it means the change may have been applied.
	OutcomePending Outcome = "pending"
)

// ChangeRecord is one change the client attempted, as Config.OnChange and
// the audit log see it. It never holds a secret.
type ChangeRecord struct {
	ID      string    `json:"id"`                // the change's: its intent and outcome records share it
	Time    time.Time `json:"time"`              // when the change started (OutcomePending) or ended, UTC
	Actor   string    `json:"actor"`             // who made it: the viewer's username, else email ("" if unknown)
	Op      Op        `json:"op"`                // the call, e.g. OpCreateUser, or a program's own (Client.Change)
	Target  string    `json:"target"`            // what it changed: an email, a key name, a team...
	Details string    `json:"details,omitempty"` // more of what was asked, e.g. "admin=false", `to team "deep learning" admin=true` (a value quoted unless a plain word)
	Outcome Outcome   `json:"outcome"`
	Code    Code      `json:"code,omitempty"` // the error's code for OutcomeFailed and OutcomeUnknown
}

// dryRunKey is what GenerateAPIKey returns under Config.DryRun instead of a
// secret: not a valid key, and plainly not one. A dry-run client given it
// (WithAPIKey) stands for the key's owner, the viewer, so that a program
// rotating keys runs on.
const dryRunKey = "(dry run: no key was generated)"

// errDryRun is what Change returns when it did not run a change because
// of a dry run; callers then return their simulated result.
var errDryRun = errors.New("dry run")

// Change runs do, a change of the server's state named op on target (with
// details), under the client's safety settings:
//
//   - Config.ReadOnly: do does not run; the error matches ErrReadOnly.
//   - Config.DryRun: do does not run; the plan line "dry-run: <op> <target>
//     <details>" goes to Config.DryRunOutput and Change returns nil. The
//     target is quoted (Go syntax) unless it is a plain word, and any
//     character of details that is not printable is escaped, so that a
//     line is one change whatever the data holds; quote the values in
//     details of your own the same way when they may hold spaces.
//   - otherwise do runs, and its error is returned.
//
// Either way Config.OnChange gets the record of the change before Change
// returns; when do runs, it gets the change's intent record
// (OutcomePending) before. Config.BeforeChange is not asked: do runs even
// when its intent record could not be written. It reports whether do ran.
func (c *Client) Change(ctx context.Context, op Op, target, details string, do func() error) (ran bool, err error) {
	// Every mutation of this package goes through gate too. BeforeChange
	// guards the changes this package sends to the server, while a
	// program's own change is often the local end of one (the secret
	// GenerateAPIKey returned, written to a file), which refusing would
	// lose.
	err = c.gate(ctx, op, target, details, false, func() error {
		ran = true
		return do()
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	return ran, err
}

// DryRun reports whether the client plans changes instead of sending them
// (Config.DryRun).
func (c *Client) DryRun() bool { return c.cfg.DryRun }

// change is Change for this package's mutations, the changes it sends to
// the server: a dry run returns errDryRun, so that the caller can build
// its simulated result.
func (c *Client) change(ctx context.Context, op Op, target, details string, do func() error) error {
	return c.gate(ctx, op, target, details, true, do)
}

// gate runs change op under the client's safety settings; Config.BeforeChange
// is asked only for a change sent to the server, after Config.OnChange got
// its intent record, so that AuditLog.Check refuses a change whose intent
// could not be written.
func (c *Client) gate(ctx context.Context, op Op, target, details string, toServer bool, do func() error) error {
	// Targets and details come from the server's data too (a user's email,
	// a key's name): its plan lines and records carry no secret either.
	target, details = c.redact(target), c.redact(details)
	rec := ChangeRecord{Op: op, Target: target, Details: details}
	if c.cfg.OnChange != nil {
		rec.ID = newChangeID()
		rec.Actor = c.redact(c.actor(ctx))
	}
	var err error
	switch {
	case c.cfg.ReadOnly:
		err = c.newError(Error{Op: op, Code: CodeReadOnly, Message: fmt.Sprintf("read-only mode: %s of %s was not sent", op, target)})
	case c.cfg.DryRun:
		line := planLine("dry-run: "+string(op), target, details)
		if w := c.cfg.DryRunOutput; w != nil {
			c.fam.outMu.Lock() // concurrent calls write whole lines, one at a time
			fmt.Fprintln(w, line)
			c.fam.outMu.Unlock()
		}
		rec.Outcome = OutcomeDryRun
		err = errDryRun
	default:
		if c.cfg.OnChange != nil {
			intent := rec
			intent.Outcome, intent.Time = OutcomePending, time.Now().UTC()
			c.cfg.OnChange(intent)
		}
		if toServer {
			if err = c.refused(op, target); err != nil {
				break
			}
		}
		err = do()
		if isUnsure(err) {
			err = c.unknownOutcome(op, err)
		}
	}
	if c.cfg.OnChange != nil {
		switch {
		case rec.Outcome == OutcomeDryRun:
		case err == nil:
			rec.Outcome = OutcomeOK
		case errors.Is(err, ErrUnknownOutcome):
			rec.Outcome, rec.Code = OutcomeUnknown, CodeUnknownOutcome
		default:
			rec.Outcome, rec.Code = OutcomeFailed, codeOf(err)
		}
		rec.Time = time.Now().UTC()
		c.cfg.OnChange(rec)
	}
	return err
}

// planLine returns the line of a change for people and programs to read:
// head (e.g. "dry-run: invite"), then target as one word (quoted when it
// is not a plain word, see termtext.Quote) and details with any character
// that is not printable escaped (callers quote the values in them). So a
// line is one change, whatever the server's data or a CSV file holds: a
// name with a newline, a carriage return or an escape sequence can neither
// start another line nor rewrite one on a terminal.
func planLine(head, target, details string) string {
	line := head + " " + termtext.Quote(target)
	if details != "" {
		line += " " + termtext.QuoteLine(details)
	}
	return line
}

// newChangeID returns a new ChangeRecord.ID: 16 random hex digits, so
// that records from runs appending to one file do not collide.
func newChangeID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails: crypto/rand crashes the program instead
	return hex.EncodeToString(b[:])
}

// refused asks Config.BeforeChange whether change op of target may be
// sent; nil if it may.
func (c *Client) refused(op Op, target string) error {
	if c.cfg.BeforeChange == nil {
		return nil
	}
	herr := c.cfg.BeforeChange(op, target)
	if herr == nil {
		return nil
	}
	return c.newError(Error{Op: op, Code: CodeReadOnly, Err: herr,
		Message: fmt.Sprintf("%s of %s was not sent: %v", op, target, herr)})
}

// unknownOutcome turns err, the failure of change op that may have been
// applied and could not be checked, into an error with
// CodeUnknownOutcome saying so and what to look at.
func (c *Client) unknownOutcome(op Op, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	return c.newError(Error{Op: e.Op, Code: CodeUnknownOutcome, Status: e.Status, Err: err, Candidates: e.Candidates, Hint: e.Hint, HintValue: e.HintValue,
		Message: fmt.Sprintf("the change may have been applied: %s; %s", e.Message, outcomeHint(op))})
}

// outcomeHint says what to look at after a change of op whose outcome is
// unknown.
func outcomeHint(op Op) string {
	switch op {
	case OpCreateUser:
		return "look the user up by email before creating it again"
	case OpGenerateAPIKey:
		return "list the keys: a new key whose secret nobody received is unusable; delete it"
	case OpDeleteAPIKey:
		return "look at the user's keys before deleting again"
	case OpCreateTeam:
		return "look the team up before creating it again"
	case OpInvite, OpDeleteMember, OpCreateServiceAccount, OpAddMember, OpRemoveMember, OpSetTeamRole:
		return "reload the team and look at its members before trying again"
	case OpDeactivate, OpReactivate, OpDeleteUser, OpSetRole:
		return "look at the user's status before trying again"
	}
	return "look at the server's state before trying again"
}

// changed is change for calls whose only result is their error: a dry run
// is a success.
func (c *Client) changed(ctx context.Context, op Op, target, details string, do func() error) error {
	err := c.change(ctx, op, target, details, do)
	if errors.Is(err, errDryRun) {
		return nil
	}
	return err
}

// actor names the viewer for change records, fetching it if needed (a
// query, sent even in a dry run, before the change); "" when it cannot be
// fetched.
func (c *Client) actor(ctx context.Context) string {
	v := c.cachedViewer()
	if v == nil {
		var err error
		if v, err = c.Viewer(ctx); err != nil {
			return ""
		}
	}
	if s := deref(v.Username); s != "" {
		return s
	}
	return deref(v.Email)
}

// codeOf returns err's Code, or CodeInternal.
func codeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
