package wandb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// Dry runs, read-only mode and the record of changes: every change goes
// through Client.Change.

// everyChange runs every change this package can make, against the
// users and team of teamServer, in the order of everyOp, and passes
// each change's op and error to check.
func everyChange(t *testing.T, c *Client, check func(op Op, err error)) {
	t.Helper()
	ctx := context.Background()
	me := mustViewer(t, c)
	bob := mustUser(t, c, "bob")
	team := mustTeam(t, c, "ml")
	_, err := c.CreateUser(ctx, "new@example.com", true)
	check("create_user", err)
	_, err = me.GenerateAPIKey(ctx, "ci")
	check("generate_api_key", err)
	check("delete_api_key", me.DeleteAPIKey(ctx, me.APIKeys()[0].Name))
	_, err = c.CreateTeam(ctx, "vision", "")
	check("create_team", err)
	_, err = team.Invite(ctx, ByEmail("erin@example.org"), false)
	check("invite", err)
	_, err = team.CreateServiceAccount(ctx, "bot")
	check("create_service_account", err)
	check("delete_member", team.Members()[2].Delete(ctx)) // carol's invite
	check("deactivate", bob.Deactivate(ctx))
	check("reactivate", bob.Reactivate(ctx))
	check("set_role", bob.SetRole(ctx, "admin"))
	check("set_team_role", bob.SetTeamRole(ctx, "ml", "viewer"))
	check("add_member", team.AddMember(ctx, mustUser(t, c, "dave"), ""))
	check("remove_member", team.RemoveMember(ctx, bob))
	check("delete_user", mustUser(t, c, "carol").Delete(ctx))
}

// everyOp is the ops everyChange runs, in order.
var everyOp = []Op{"create_user", "generate_api_key", "delete_api_key", "create_team", "invite", "create_service_account",
	"delete_member", "deactivate", "reactivate", "set_role", "set_team_role", "add_member", "remove_member", "delete_user"}

// mutations counts the mutating requests srv received.
func mutations(srv *wandbtest.Server) int {
	n := 0
	for _, op := range []string{"CreateUserFromAdmin", "GenerateApiKey", "DeleteApiKey", "CreateTeam", "CreateInvite",
		"DeleteInvite", "CreateServiceAccount", "SCIMPatchUser", "SCIMDeleteUser", "SCIMPatchGroup"} {
		n += srv.Requests(op)
	}
	return n
}

func TestDryRun(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	var plan bytes.Buffer
	var records []ChangeRecord
	c := testClient(t, srv, func(cfg *Config) {
		cfg.DryRun, cfg.DryRunOutput = true, &plan
		cfg.OnChange = func(r ChangeRecord) { records = append(records, r) }
	})
	before := srv.Users()
	var ops []Op
	everyChange(t, c, func(op Op, err error) {
		ops = append(ops, op)
		if err != nil {
			t.Errorf("%s in a dry run: %v", op, err)
		}
	})
	if diff := cmp.Diff(everyOp, ops); diff != "" {
		t.Fatalf("ops (-want +got):\n%s", diff)
	}
	if n := mutations(srv); n != 0 {
		t.Errorf("a dry run sent %d mutations", n)
	}
	if diff := cmp.Diff(before, srv.Users()); diff != "" {
		t.Errorf("the server changed (-before +after):\n%s", diff)
	}
	lines := strings.Split(strings.TrimSuffix(plan.String(), "\n"), "\n")
	if len(lines) != len(everyOp) {
		t.Fatalf("%d plan lines for %d changes:\n%s", len(lines), len(everyOp), plan.String())
	}
	for i, op := range everyOp {
		if !strings.HasPrefix(lines[i], "dry-run: "+string(op)+" ") {
			t.Errorf("plan line %d = %q, want it to plan %s", i+1, lines[i], op)
		}
		if records[i].Op != op || records[i].Outcome != OutcomeDryRun || records[i].Actor != "admin" {
			t.Errorf("record %d = %+v", i+1, records[i])
		}
	}
	if lines[0] != "dry-run: create_user new@example.com admin=true" {
		t.Errorf("plan line 1 = %q", lines[0])
	}
}

func TestDryRunResults(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	c := testClient(t, srv, func(cfg *Config) { cfg.DryRun = true })
	ctx := context.Background()
	u, err := c.CreateUser(ctx, "new@example.com", true)
	if err != nil || !u.DryRun || deref(u.Email) != "new@example.com" || !deref(u.Admin) || u.ID != "dry-run:new@example.com" {
		t.Errorf("simulated user = %+v, %v", u, err)
	}
	me, err := c.Viewer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := me.GenerateAPIKey(ctx, "")
	if err != nil || secret != dryRunKey || checkAPIKey(secret, "") == nil {
		t.Errorf("simulated key = %q, %v: must not pass for a key", secret, err)
	}
	// The simulated key stands for the viewer.
	same, err := c.WithAPIKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := same.Viewer(ctx); err != nil || v.ID != me.ID {
		t.Errorf("the dry-run key's client is %v, %v", v, err)
	}
	if _, err := testClient(t, srv).WithAPIKey(dryRunKey); err == nil {
		t.Error("a client not in a dry run accepted the dry-run key")
	}
	team, err := c.CreateTeam(ctx, "vision", "")
	if err != nil || !team.DryRun || team.Name != "vision" {
		t.Errorf("simulated team = %+v, %v", team, err)
	}
	// Changes on simulated objects are planned without asking the server.
	n := srv.Requests("")
	m, err := team.Invite(ctx, ByUsername("bob"), true)
	if err != nil || !m.DryRun || !deref(m.Pending) || deref(m.Username) != "bob" {
		t.Errorf("simulated invite = %+v, %v", m, err)
	}
	sa, err := team.CreateServiceAccount(ctx, "bot")
	if err != nil || !sa.DryRun || deref(sa.AccountType) != "SERVICE" {
		t.Errorf("simulated service account = %+v, %v", sa, err)
	}
	for name, err := range map[string]error{
		"reload": team.Reload(ctx), "delete": m.Delete(ctx), "add": team.AddMember(ctx, u, "admin"),
		"remove": team.RemoveMember(ctx, u), "deactivate": u.Deactivate(ctx), "set_role": u.SetRole(ctx, "member"),
		"set_team_role": u.SetTeamRole(ctx, "vision", "admin"), "delete_user": u.Delete(ctx),
	} {
		if err != nil {
			t.Errorf("%s on a simulated object: %v", name, err)
		}
	}
	if st, err := u.Status(ctx); err != nil || !st.Active || st.Role != "admin" {
		t.Errorf("status of a simulated user = %+v, %v", st, err)
	}
	if got := srv.Requests(""); got != n {
		t.Errorf("%d requests for simulated objects", got-n)
	}
	// The guard still applies in a dry run: the plan is what a real run does.
	asError(t, me.Deactivate(ctx), "deactivate", CodeLastAdmin)
}

func TestReadOnly(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	var records []ChangeRecord
	c := testClient(t, srv, func(cfg *Config) {
		cfg.ReadOnly = true
		cfg.OnChange = func(r ChangeRecord) { records = append(records, r) }
	})
	var ops []Op
	everyChange(t, c, func(op Op, err error) {
		ops = append(ops, op)
		if e := asError(t, err, op, CodeReadOnly); !errors.Is(e, ErrReadOnly) || !strings.Contains(e.Message, "read-only mode") {
			t.Errorf("%s: %v", op, e)
		}
	})
	if n := mutations(srv); n != 0 {
		t.Errorf("read-only mode sent %d mutations", n)
	}
	if len(records) != len(everyOp) || records[0].Outcome != OutcomeFailed || records[0].Code != CodeReadOnly {
		t.Errorf("records = %+v", records)
	}
	// A client made read-only from a writable one.
	rw := testClient(t, srv)
	_, err := rw.WithReadOnly().CreateUser(context.Background(), "x@example.com", false)
	asError(t, err, "create_user", CodeReadOnly)
	if _, err := rw.CreateUser(context.Background(), "x@example.com", false); err != nil {
		t.Errorf("the original client became read-only: %v", err)
	}
}

func TestChangeRecords(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	log, err := OpenAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	c := testClient(t, srv, func(cfg *Config) { cfg.OnChange = log.Record; cfg.Retry.MaxAttempts = 1 })
	ctx := context.Background()
	if _, err := c.CreateUser(ctx, "new@example.com", false); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateUser(ctx, "bob@example.com", false) // exists
	asError(t, err, "create_user", CodeConflict)
	me, err := c.Viewer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := me.GenerateAPIKey(ctx, "ci")
	if err != nil {
		t.Fatal(err)
	}
	team, err := c.CreateTeam(ctx, "vision", "")
	if err != nil {
		t.Fatal(err)
	}
	// Lost after the server applied it, and the check fails too.
	srv.FailNext("CreateInvite", wandbtest.Fault{Drop: true, AfterApply: true})
	srv.FailNext("GetTeamEntity", wandbtest.Fault{Status: 503})
	_, err = team.Invite(ctx, ByUsername("bob"), false)
	if !errors.Is(err, ErrUnknownOutcome) {
		t.Fatalf("the invite's outcome should be unknown: %v", err)
	}
	// A change of the program's own.
	ran, err := c.Change(ctx, "write_report", "/tmp/report", "", func() error { return nil })
	if !ran || err != nil {
		t.Errorf("Change = %v, %v", ran, err)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) || strings.Contains(string(b), srv.AdminKey()) {
		t.Fatal("the audit log holds a secret")
	}
	// Each change has its intent line, then its outcome line, with the
	// same id, actor, op and target.
	var got []string
	var intent ChangeRecord
	seen := map[string]bool{}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r ChangeRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if r.Actor != "admin" || r.Time.IsZero() || r.Time.Location().String() != "UTC" || len(r.ID) != 16 {
			t.Errorf("record %+v", r)
		}
		if i%2 == 0 {
			if r.Outcome != OutcomePending || seen[r.ID] {
				t.Errorf("line %d = %+v, want the intent of a new change", i+1, r)
			}
			seen[r.ID], intent = true, r
			continue
		}
		if r.ID != intent.ID || r.Op != intent.Op || r.Target != intent.Target || r.Details != intent.Details || r.Time.Before(intent.Time) {
			t.Errorf("outcome %+v does not follow its intent %+v", r, intent)
		}
		got = append(got, strings.TrimSpace(string(r.Op)+" "+r.Target+" "+string(r.Outcome)+" "+string(r.Code)))
	}
	want := []string{
		"create_user new@example.com ok",
		"create_user bob@example.com failed conflict",
		"generate_api_key admin@example.com ok",
		"create_team vision ok",
		"invite bob unknown unknown_outcome",
		"write_report /tmp/report ok",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit outcome lines (-want +got):\n%s", diff)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %v, %v", fi.Mode(), err)
	}
	if diff := cmp.Diff(map[Outcome]int{OutcomeOK: 4, OutcomeFailed: 1, OutcomeUnknown: 1}, log.Counts()); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	// Appended to, not replaced.
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	log2, err := OpenAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	log2.Record(ChangeRecord{Op: "x", Outcome: OutcomeOK})
	if err := log2.Close(); err != nil {
		t.Fatal(err)
	}
	// Closed, it counts the records it can no longer write.
	log2.Record(ChangeRecord{Op: "y", Outcome: OutcomeOK})
	if log2.Err() == nil || log2.Counts()[OutcomeOK] != 2 {
		t.Errorf("a record after Close: error %v, counts %v", log2.Err(), log2.Counts())
	}
	if b2, _ := os.ReadFile(path); !bytes.HasPrefix(b2, b) || bytes.Count(b2, []byte("\n")) != 2*len(want)+1 {
		t.Error("reopening the audit log did not append")
	}
	if _, err := OpenAuditLog(filepath.Join(t.TempDir(), "no", "such", "dir")); err == nil {
		t.Error("an audit log in a missing directory opened")
	}
	// A file others can write is refused and left as it is.
	for _, mode := range []os.FileMode{0o620, 0o602, 0o666} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := OpenAuditLog(path)
		if err == nil || !strings.Contains(err.Error(), "its group or others can write it") || !strings.Contains(err.Error(), "chmod go-w "+path) {
			t.Errorf("mode %04o: %v", mode, err)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != mode {
			t.Errorf("mode %04o changed to %04o", mode, fi.Mode().Perm())
		}
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if log, err := OpenAuditLog(path); err != nil {
		t.Errorf("mode 0640: %v", err)
	} else {
		log.Close()
	}
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestAuditLogWriteError(t *testing.T) {
	t.Parallel()
	log := NewAuditLog(errWriter{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { log.Record(ChangeRecord{Op: "x", Outcome: OutcomeOK}) })
	}
	wg.Wait()
	if err := log.Err(); err == nil || err.Error() != "disk full" {
		t.Errorf("Err = %v", err)
	}
	if log.Counts()[OutcomeOK] != 4 {
		t.Error("records after a write error were not counted")
	}
}

func TestExactLookup(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	c := testClient(t, srv)
	ctx := context.Background()
	if u, err := c.User(ctx, "BOB", Exact()); err != nil || deref(u.Email) != "bob@example.com" {
		t.Errorf("exact username: %v, %v", u, err)
	}
	if u, err := c.User(ctx, "bob@EXAMPLE.com", Exact()); err != nil || deref(u.Username) != "bob" {
		t.Errorf("exact email: %v, %v", u, err)
	}
	// A single partial match is found without Exact, refused with it.
	if u, err := c.User(ctx, "bob@example.co"); err != nil || deref(u.Username) != "bob" {
		t.Errorf("partial match without Exact: %v, %v", u, err)
	}
	e := asError(t, func() error { _, err := c.User(ctx, "bob@example.co", Exact()); return err }(), "user", CodeNotFound)
	if !strings.Contains(e.Message, `no user's username or email is exactly "bob@example.co"; 1 partly matches: <User bob@example.com>`) {
		t.Errorf("error = %v", e)
	}
	_, err := c.User(ctx, "nobody", Exact())
	asError(t, err, "user", CodeNotFound)
	n := srv.Requests("SearchUsers")
	for _, bad := range []string{" bob", "bob\n", "\tbob"} {
		e := asError(t, func() error { _, err := c.User(ctx, bad); return err }(), "user", CodeInvalidArgument)
		if !strings.Contains(e.Message, "leading or trailing white space") {
			t.Errorf("%q: %v", bad, e)
		}
	}
	if srv.Requests("SearchUsers") != n {
		t.Error("a lookup with white space was sent")
	}
}

// TestAuditLogFailureRefusesFurtherChanges: a change whose intent line
// cannot be written is refused before anything is sent, by AuditLog.Check
// as Config.BeforeChange, for the client and those derived from it: on a
// full disk not one change reaches the server, one at a time or many at
// once.
func TestAuditLogFailureRefusesFurtherChanges(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	log := NewAuditLog(full)
	c := testClient(t, srv, func(cfg *Config) { cfg.OnChange, cfg.BeforeChange = log.Record, log.Check })
	ctx := context.Background()
	derived, err := c.WithAPIKey(srv.AdminKey())
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*Client{c, derived} {
		_, err = cl.CreateUser(ctx, "second@example.com", false)
		e := asError(t, err, "create_user", CodeReadOnly)
		if !errors.Is(err, ErrReadOnly) || !errors.Is(err, log.Err()) {
			t.Errorf("the refusal does not match ErrReadOnly and the write error: %v", err)
		}
		if want := "create_user of second@example.com was not sent: the audit log cannot be written"; !strings.HasPrefix(e.Message, want) {
			t.Errorf("message = %q, want it to start %q", e.Message, want)
		}
		// A program's own change is not refused: it may be the local end of
		// a change already made, such as a new key's secret to keep.
		ran, err := cl.Change(ctx, "write_secret", "/tmp/new.key", "", func() error { return nil })
		if !ran || err != nil {
			t.Errorf("Change = %v, %v; want it run", ran, err)
		}
	}
	if log.Err() == nil || !strings.Contains(log.Err().Error(), "no space left on device") {
		t.Fatalf("Err = %v, want the write error", log.Err())
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			_, err := c.CreateUser(ctx, fmt.Sprintf("p%d@example.com", i), false)
			if !errors.Is(err, ErrReadOnly) {
				t.Errorf("parallel create %d: %v, want it refused", i, err)
			}
		})
	}
	wg.Wait()
	if n := mutations(srv); n != 0 {
		t.Errorf("%d changes reached the server without their intent line", n)
	}
	if n := srv.Requests("CreateUserFromAdmin"); n != 0 {
		t.Errorf("%d creations reached the server", n)
	}
	if got := log.Counts(); got[OutcomeOK] != 2 || got[OutcomeFailed] != 18 || got[OutcomePending] != 0 {
		t.Errorf("counts = %v, want 2 ok and 18 refused", got)
	}
	// Queries still work: a read-only run can go on.
	if _, err := c.Viewer(ctx); err != nil {
		t.Error(err)
	}
}

// lineLimit accepts n writes, then fails every one: a disk that fills up.
type lineLimit struct {
	mu    sync.Mutex
	n     int
	lines bytes.Buffer
}

func (w *lineLimit) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == 0 {
		return 0, errors.New("no space left on device")
	}
	w.n--
	return w.lines.Write(p)
}

// TestAuditLogFillsBetweenIntentAndOutcome: the change whose outcome line
// could not be written was made, and its intent line says so; no change
// is sent after it.
func TestAuditLogFillsBetweenIntentAndOutcome(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	w := &lineLimit{n: 1}
	log := NewAuditLog(w)
	c := testClient(t, srv, func(cfg *Config) { cfg.OnChange, cfg.BeforeChange = log.Record, log.Check })
	ctx := context.Background()
	if _, err := c.CreateUser(ctx, "first@example.com", false); err != nil {
		t.Fatal(err)
	}
	var intent ChangeRecord
	if err := json.Unmarshal(w.lines.Bytes(), &intent); err != nil || intent.Outcome != OutcomePending || intent.Target != "first@example.com" {
		t.Errorf("the intent line is %q (%v)", w.lines.String(), err)
	}
	if _, ok := srv.UserByEmail("first@example.com"); !ok {
		t.Error("the change whose outcome line failed was not made")
	}
	_, err := c.CreateUser(ctx, "second@example.com", false)
	asError(t, err, "create_user", CodeReadOnly)
	if n := srv.Requests("CreateUserFromAdmin"); n != 1 {
		t.Errorf("%d creations sent, want 1", n)
	}
}

// TestAuditLogSyncFailure: an intent line the disk would not keep (a
// failed sync) refuses its change like one that could not be written.
func TestAuditLogSyncFailure(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	var lines bytes.Buffer
	log := NewAuditLog(&lines)
	log.sync = func() error { return errors.New("input/output error") } // what fsync says of a failing disk
	c := testClient(t, srv, func(cfg *Config) { cfg.OnChange, cfg.BeforeChange = log.Record, log.Check })
	_, err := c.CreateUser(context.Background(), "first@example.com", false)
	asError(t, err, "create_user", CodeReadOnly)
	if err := log.Err(); err == nil || err.Error() != "sync: input/output error" {
		t.Errorf("Err = %v", err)
	}
	if n := mutations(srv); n != 0 {
		t.Errorf("%d changes sent", n)
	}
}

// TestAuditLogConcurrentLines: changes made at once write whole lines,
// each change an intent line and, after it, an outcome line with the same
// id; an audit log on a regular file syncs its intent lines.
func TestAuditLogConcurrentLines(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	log, err := OpenAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	if log.sync == nil {
		t.Error("an audit log on a regular file does not sync")
	}
	c := testClient(t, srv, func(cfg *Config) { cfg.OnChange, cfg.BeforeChange = log.Record, log.Check })
	const n = 32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := c.CreateUser(context.Background(), fmt.Sprintf("c%d@example.com", i), false); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]Outcome{} // by id: the last line's outcome
	targets := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var r ChangeRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		switch prev, ok := state[r.ID]; {
		case !ok && r.Outcome == OutcomePending:
			targets[r.Target] = true
		case ok && prev == OutcomePending && r.Outcome == OutcomeOK:
		default:
			t.Errorf("line %q after %q for its id", line, prev)
		}
		state[r.ID] = r.Outcome
	}
	if len(state) != n || len(targets) != n {
		t.Errorf("%d ids for %d targets, want %d", len(state), len(targets), n)
	}
	for id, o := range state {
		if o != OutcomeOK {
			t.Errorf("change %s ended %s", id, o)
		}
	}
	if got := log.Counts(); got[OutcomeOK] != n || len(got) != 1 {
		t.Errorf("counts = %v", got)
	}
	if full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0); err == nil {
		defer full.Close()
		a := NewAuditLog(full)
		if a.sync != nil {
			t.Error("an audit log on a device syncs")
		}
		// The writer is the caller's: Close leaves it open.
		var closer io.Closer = a
		if err := closer.Close(); err != nil {
			t.Errorf("Close of NewAuditLog's: %v", err)
		}
		if _, err := full.Stat(); err != nil {
			t.Errorf("Close closed the caller's file: %v", err)
		}
	}
}
