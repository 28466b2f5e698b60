package wandb

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/wandb-lua/wandb-lua/wandb/atomicfile"
)

// AuditLog writes change records as JSON lines, one per record, and
// counts the changes by outcome. Each line is one write to w, made before
// the client goes on: the intent line before the change starts, the
// outcome line before the change's call returns, so an interrupted or
// crashed run leaves an intent line for every change it started. When w
// is a regular file, each intent line is also synced to the disk before
// the change starts (File.Sync), so that a power loss cannot lose the
// intent of a change that was sent; outcome lines are not synced on their
// own (a lost one reads as unknown). It is safe for concurrent use, and
// lines written concurrently never interleave. Use its Record method as
// Config.OnChange and its Check method as Config.BeforeChange.
type AuditLog struct {
	mu     sync.Mutex
	w      io.Writer
	sync   func() error // syncs w to the disk; nil when w is not a regular file
	close  func() error // closes the file OpenAuditLog opened; nil for NewAuditLog's
	err    error        // the first write error
	counts map[Outcome]int
}

// NewAuditLog returns an audit log writing to w; nil w only counts. An
// *os.File that is a regular file has its intent lines synced.
func NewAuditLog(w io.Writer) *AuditLog {
	a := &AuditLog{w: w, counts: map[Outcome]int{}}
	if f, ok := w.(*os.File); ok {
		// A terminal, a pipe or /dev/full cannot be synced: their lines
		// are written, as to any other writer.
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			a.sync = f.Sync
		}
	}
	return a
}

// OpenAuditLog opens the file at path for appending, creating it readable
// by its owner only (mode 0600), and returns an audit log writing to it,
// which the caller closes (Close).
//
// An existing regular file that its group or others can write is refused,
// not changed: anyone who can write it can forge or erase the record.
func OpenAuditLog(path string) (*AuditLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o022 != 0 {
		f.Close()
		return nil, fmt.Errorf("audit log %s: its group or others can write it (mode %04o), so its record could be forged; "+
			"make it writable by you alone (chmod go-w %s) or name a new file", path, fi.Mode().Perm(), path)
	}
	a := NewAuditLog(f)
	a.close = f.Close
	if a.sync != nil {
		// The new file's entry must survive a power loss as its synced
		// intent lines do.
		atomicfile.SyncDir(filepath.Dir(path))
	}
	return a, nil
}

// Close closes the file OpenAuditLog opened; for an audit log of
// NewAuditLog, whose writer is the caller's, it does nothing. Records
// after Close are counted, not written (see Err).
func (a *AuditLog) Close() error {
	if a.close == nil {
		return nil
	}
	return a.close()
}

// Record writes r as one JSON line and counts it (an intent record,
// OutcomePending, is not counted: its outcome will be). A write error is
// kept (see Err), and from then on nothing is written; the record is
// still counted.
func (a *AuditLog) Record(r ChangeRecord) {
	if !a.write(r) || r.Outcome != OutcomePending || a.sync == nil {
		return
	}
	// Outside the lock: concurrent syncs of one file are sound, and the
	// kernel may make one disk flush serve several.
	if err := a.sync(); err != nil {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.err == nil {
			a.err = fmt.Errorf("sync: %w", err)
		}
	}
}

// write writes and counts r, and reports whether its line was written.
func (a *AuditLog) write(r ChangeRecord) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.Outcome != OutcomePending {
		a.counts[r.Outcome]++
	}
	if a.w == nil || a.err != nil {
		return false
	}
	b, err := json.Marshal(r)
	if err == nil {
		_, err = a.w.Write(append(b, '\n'))
	}
	a.err = err
	return err == nil
}

// Counts returns how many changes ended with each outcome.
func (a *AuditLog) Counts() map[Outcome]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[Outcome]int, len(a.counts))
	for k, v := range a.counts {
		out[k] = v
	}
	return out
}

// Check returns an error once a record could not be written (see Err),
// nil until then. As Config.BeforeChange, asked after Record got the
// change's intent record, it refuses a change to the server whose intent
// line could not be written, and every one after the first record that
// could not be written, so that none is sent without its intent line. A
// change whose outcome line could not be written was made, and its intent
// line records it.
func (a *AuditLog) Check(op Op, target string) error {
	if err := a.Err(); err != nil {
		return fmt.Errorf("the audit log cannot be written (%w): no change is sent without its record", err)
	}
	return nil
}

// Err returns the first error writing a record, if any.
func (a *AuditLog) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}
