package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/google/go-cmp/cmp"

	"github.com/wandb-lua/wandb-lua/wandb"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// Safe runs from the command line: --dry-run, --read-only, --audit, the
// summary on interrupt, and wandb.parallel's progress line on a terminal.

// exampleRuns are the example scripts with arguments that make them change
// something on the seeded server.
var exampleRuns = [][]string{
	{"scripts/examples/quickstart.lua"},
	{"scripts/examples/key_audit.lua", "example.com"},
	{"scripts/examples/onboard.lua", "testdata/users.csv"},
	{"scripts/examples/team_onboard.lua", "testdata/team_members.csv"},
	{"scripts/examples/offboard.lua", "alice@example.com"},
	{"scripts/examples/rotate_keys.lua", "new.key"},
	{"scripts/examples/server_check.lua"},
	{"scripts/examples/sync.lua", "testdata/team_members.csv"},
	{"scripts/examples/key_report.lua", "report.csv"},
	{"scripts/examples/reclaim_seats.lua", "365", "--report", "report.csv"},
}

// serverMutations counts the changes srv was asked for.
func serverMutations(srv *wandbtest.Server) int {
	n := 0
	for _, op := range []string{"CreateUserFromAdmin", "GenerateApiKey", "DeleteApiKey", "CreateTeam", "CreateInvite",
		"DeleteInvite", "CreateServiceAccount", "SCIMPatchUser", "SCIMDeleteUser", "SCIMPatchGroup"} {
		n += srv.Requests(op)
	}
	return n
}

func TestEveryExampleUnderDryRun(t *testing.T) {
	t.Parallel()
	for _, run := range exampleRuns {
		name := filepath.Base(run[0])
		t.Run(name, func(t *testing.T) {
			srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
			users := srv.Users()
			teams := map[string]wandbtest.TeamInfo{}
			for _, team := range []string{"ml-research", "platform"} {
				teams[team], _ = srv.Team(team)
			}
			dir := t.TempDir()
			args := append([]string{"--dry-run"}, run...)
			switch name {
			case "rotate_keys.lua": // a secret: not written in a dry run
				args[len(args)-1] = filepath.Join(dir, "new.key")
			case "key_report.lua", "reclaim_seats.lua": // a report: written, in a dry run too
				args[slices.Index(args, "report.csv")] = filepath.Join(t.TempDir(), "report.csv")
			}
			r := runBinary(t, serverEnv(srv), "", args...)
			if r.code != 0 {
				t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", r.code, masked(r.stdout), masked(r.stderr))
			}
			if n := serverMutations(srv); n != 0 {
				t.Errorf("%d changes were sent", n)
			}
			if diff := cmp.Diff(users, srv.Users()); diff != "" {
				t.Errorf("users changed (-before +after):\n%s", diff)
			}
			for team, before := range teams {
				if after, _ := srv.Team(team); !cmp.Equal(before, after) {
					t.Errorf("team %s changed", team)
				}
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Error("a file was written")
			}
			if name == "rotate_keys.lua" {
				// It says what it would do, not what it did.
				want := "rotating the keys of <User admin@example.com>: 1 old key\n" +
					"dry run: " + args[len(args)-1] + " not written (no key was generated)\n" +
					"  would delete old key <key name>\n" +
					"dry run: 1 old key would be deleted, nothing changed\n"
				if got := keyNameRE.ReplaceAllString(r.stdout, "<key name>"); got != want {
					t.Errorf("rotate_keys.lua printed:\n%s\nwant:\n%s", masked(got), want)
				}
			}
			for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
				if line != "" && !strings.HasPrefix(line, "dry-run: ") {
					t.Errorf("stderr line %q is not a plan line", masked(line))
				}
			}
			if !slices.Contains([]string{"quickstart.lua", "key_audit.lua", "server_check.lua", "key_report.lua"}, name) && !strings.Contains(r.stderr, "dry-run: ") {
				t.Error("no plan line")
			}
			// And with --local, as the README shows.
			local := append([]string{"--local", "--seed", "testdata/seed.json"}, args...)
			if r := runBinary(t, nil, "", local...); r.code != 0 {
				t.Errorf("--local --dry-run: exit code %d\nstderr:\n%s", r.code, masked(r.stderr))
			}
		})
	}
}

func TestDryRunPlanLines(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	r := runBinary(t, serverEnv(srv), "", "--dry-run", "scripts/examples/onboard.lua", "testdata/users.csv")
	check(t, r, 0, nil)
	// Only what the server lacks: the users there are not planned.
	want := "dry-run: create_user erin@example.com admin=false\n" +
		"dry-run: create_user frank@example.com admin=true\n" +
		"dry-run: create_user grace@example.org admin=false\n" +
		"dry-run: create_user heidi@example.com admin=true\n"
	// The changes run concurrently: their plan lines come in the order sent.
	got := strings.Split(r.stderr, "\n")
	wantLines := strings.Split(want, "\n")
	if diff := cmp.Diff(slices.Sorted(slices.Values(wantLines)), slices.Sorted(slices.Values(got))); diff != "" {
		t.Errorf("plan (-want +got):\n%s", masked(diff))
	}
	if !strings.Contains(r.stdout, "dry run: 4 change(s) planned for 6 user(s), nothing changed") {
		t.Errorf("stdout:\n%s", masked(r.stdout))
	}
	check(t, runBinary(t, serverEnv(srv), "", "--dry-run", "--read-only", "-e", "return"), 2, ptr(""), "--dry-run and --read-only: choose one")
}

func TestReadOnlyFlag(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	r := runBinary(t, serverEnv(srv), "", "--read-only", "scripts/examples/onboard.lua", "testdata/users.csv")
	check(t, r, 1, nil, "4 change(s) failed: run the script again to finish")
	if !strings.Contains(r.stdout, "read-only mode: create_user of erin@example.com was not sent") {
		t.Errorf("stdout:\n%s", masked(r.stdout))
	}
	if n := serverMutations(srv); n != 0 {
		t.Errorf("%d changes were sent", n)
	}
	check(t, runBinary(t, serverEnv(srv), "", "--read-only", "scripts/examples/key_audit.lua", "example.com"), 0, nil)
}

func TestAuditFlag(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	check(t, runBinary(t, serverEnv(srv), "", "--audit", audit, "scripts/examples/onboard.lua", "testdata/users.csv"), 0, nil)
	dir := t.TempDir()
	env := keyEnv(t, srv, "bob@example.com")
	check(t, runBinary(t, env, "", "--audit", audit, "scripts/examples/rotate_keys.lua", filepath.Join(dir, "new.key")), 0, nil)
	check(t, runBinary(t, serverEnv(srv), "", "--audit", audit, "--dry-run", "-e", `require("wandb").create_user("z@example.com")`), 0, nil)

	b, err := os.ReadFile(audit)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := os.ReadFile(filepath.Join(dir, "new.key"))
	if err != nil {
		t.Fatal(err)
	}
	if masked(string(b)) != string(b) || bytes.Contains(b, bytes.TrimSpace(secret)) {
		t.Fatal("the audit log holds a secret")
	}
	var got []string
	for _, r := range auditOutcomes(t, b) {
		if ts, err := time.Parse(time.RFC3339, r.Time); err != nil || ts.Location() != time.UTC {
			t.Errorf("time %q", r.Time)
		}
		if r.Op == "delete_api_key" {
			r.Target = "<key>"
		}
		got = append(got, strings.TrimSpace(r.Actor+" "+r.Op+" "+r.Target+" "+r.Outcome+" "+r.Code))
	}
	want := []string{
		"admin create_user erin@example.com ok",
		"admin create_user frank@example.com ok",
		"admin create_user grace@example.org ok",
		"admin create_user heidi@example.com ok",
		"bob delete_api_key <key> ok",
		"bob delete_api_key <key> ok",
		"bob generate_api_key bob@example.com ok",
		"admin create_user z@example.com dry_run",
	}
	// The onboarding ran concurrently: compare its lines as a set. The key
	// written to a file on this machine is no change to W&B: no line.
	if diff := cmp.Diff(slices.Sorted(slices.Values(want[:7])), slices.Sorted(slices.Values(got[:7]))); diff != "" || len(got) != 8 || got[7] != want[7] {
		t.Errorf("audit (-want +got):\n%s\ngot:\n%s", masked(diff), masked(strings.Join(got, "\n")))
	}
	if fi, err := os.Stat(audit); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("audit file mode %v, %v", fi.Mode(), err)
	}
	check(t, runBinary(t, serverEnv(srv), "", "--audit", filepath.Join(dir, "no", "such", "dir"), "-e", "return"), 2, ptr(""), "--audit: audit log: ")

	// When a change's intent line cannot be written, the change is not
	// sent, while write_private still writes (a minted secret is kept);
	// the run fails at the end, naming the write error.
	if _, err := os.Stat("/dev/full"); err == nil {
		kept := filepath.Join(dir, "kept.key")
		sent := serverMutations(srv)
		r := runBinary(t, serverEnv(srv), "", "--audit", "/dev/full", "-e", `local w = require("wandb")
			assert(w.write_private(`+strconv.Quote(kept)+`, "kept"))
			local u, err = w.create_user("rec2@example.com")
			print(u, err.code)`)
		check(t, r, 1, ptr("nil\tread_only\n"), "--audit /dev/full: a record could not be written: ", "no space left on device")
		if b, err := os.ReadFile(kept); err != nil || string(b) != "kept" {
			t.Errorf("write_private did not write: %v", err)
		}
		if n := serverMutations(srv); n != sent {
			t.Errorf("%d changes were sent without their intent line", n-sent)
		}
	}
}

// auditRecord is a line of an --audit file.
type auditRecord struct {
	ID, Time, Actor, Op, Target, Outcome, Code string
}

// auditLines parses the lines of an --audit file.
func auditLines(t *testing.T, b []byte) []auditRecord {
	t.Helper()
	var recs []auditRecord
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var r auditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit line %q: %v", masked(line), err)
		}
		recs = append(recs, r)
	}
	return recs
}

// auditOutcomes returns the outcome lines of an --audit file, and checks
// that each follows its change's intent line (the same id, op and target)
// and that every intent has at most one outcome. Dry-run lines have no
// intent.
func auditOutcomes(t *testing.T, b []byte) []auditRecord {
	t.Helper()
	intents := map[string]auditRecord{}
	var out []auditRecord
	for _, r := range auditLines(t, b) {
		if r.ID == "" {
			t.Errorf("a line without an id: %+v", r)
		}
		in, ok := intents[r.ID]
		switch {
		case r.Outcome == "pending" && !ok:
			intents[r.ID] = r
			continue
		case r.Outcome == "dry_run" && !ok:
		case r.Outcome == "pending" || !ok || in.Outcome != "pending" || in.Op != r.Op || in.Target != r.Target:
			t.Errorf("line %+v does not follow its intent (%+v)", r, in)
		}
		intents[r.ID] = r
		out = append(out, r)
	}
	return out
}

// TestAuditSurvivesSIGKILL: a run killed with changes in flight leaves an
// intent line for every change the server made, and its outcome lines
// match the server.
func TestAuditSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no SIGKILL on windows")
	}
	srv := wandbtest.Start(t, wandbtest.WithLatency(20*time.Millisecond))
	// Of 40 creations at concurrency 8, the 9th to 11th are applied and
	// never answered: the run is killed while they wait for their answers.
	faults := make([]wandbtest.Fault, 11)
	for i := 8; i < 11; i++ {
		faults[i] = wandbtest.Fault{AfterApply: true, Stall: true}
	}
	srv.FailNext("CreateUserFromAdmin", faults...)
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	c := cmd(t, serverEnv(srv), "--audit", audit, "-e", `local w = require("wandb")
		local items = {}
		for i = 1, 40 do items[i] = i end
		w.parallel(items, function(i) assert(w.create_user("k" .. i .. "@example.com")) end, { concurrency = 8 })`)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "three stalled creations and others in flight", func() bool {
		return srv.Stalled() == 3 && srv.Requests("CreateUserFromAdmin") >= 16 && srv.InFlight() > srv.Stalled()
	})
	if err := c.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = c.Wait() // killed
	waitFor(t, "the server to finish the killed run's requests", func() bool { return srv.InFlight() == 0 })

	b, err := os.ReadFile(audit)
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]string{}
	for _, r := range auditOutcomes(t, b) {
		outcomes[r.Target] = r.Outcome
	}
	intents := map[string]bool{}
	for _, r := range auditLines(t, b) {
		if r.Outcome == "pending" {
			intents[r.Target] = true
		}
	}
	created, unanswered := 0, 0
	for i := 1; i <= 40; i++ {
		email := "k" + strconv.Itoa(i) + "@example.com"
		_, exists := srv.UserByEmail(email)
		if exists {
			created++
			if !intents[email] {
				t.Errorf("%s was created without an intent line", email)
			}
			if outcomes[email] == "" {
				unanswered++
			}
		}
		switch o := outcomes[email]; {
		case o == "ok" && !exists:
			t.Errorf("%s: recorded ok, but the server has no such user", email)
		case o == "failed" && exists:
			t.Errorf("%s: recorded failed, but the server created it", email)
		case o != "" && o != "ok" && o != "failed" && o != "unknown":
			t.Errorf("%s: outcome %q", email, o)
		}
	}
	// Of 16 or more requests, at most 5 were still waiting out the latency
	// (unapplied); the 3 stalled ones were applied without an answer.
	if created < 11 || unanswered < 3 {
		t.Errorf("%d users created, %d of them without an outcome line: want at least 11 and 3", created, unanswered)
	}
}

func TestInterruptSummary(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT on windows")
	}
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	// Three creations go through; the fourth waits until interrupted.
	srv.FailNext("CreateUserFromAdmin", wandbtest.Fault{}, wandbtest.Fault{}, wandbtest.Fault{}, wandbtest.Fault{Delay: time.Hour})
	c := cmd(t, serverEnv(srv), "-e", `local w = require("wandb") w.create_user("bob@example.com") for i = 1, 10 do assert(w.create_user("n" .. i .. "@example.com")) end`)
	var errb bytes.Buffer
	c.Stderr = &errb
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the fourth creation", func() bool { return srv.Requests("CreateUserFromAdmin") == 4 && srv.InFlight() == 1 })
	if err := c.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := c.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Errorf("exit: %v", err)
	}
	// The first creation was a conflict; the one cut off in flight was
	// checked: the server had not applied it.
	if want := "wandb-lua: interrupted\nwandb-lua: changes so far: 2 ok, 2 failed\n"; errb.String() != want {
		t.Errorf("stderr %q, want %q", masked(errb.String()), want)
	}

	srv2 := wandbtest.Start(t)
	// Cut off after the server applied it: checked, and found there, which
	// cannot be told from a user another program created: unknown.
	srv2.FailNext("CreateUserFromAdmin", wandbtest.Fault{}, wandbtest.Fault{AfterApply: true, Stall: true})
	// The timeout is generous so that, on a loaded machine, it still ends
	// the run while b's request stalls and not before.
	r := runBinary(t, serverEnv(srv2), "", "--timeout", "1500ms", "-e", `local w = require("wandb") assert(w.create_user("a@example.com")) w.create_user("b@example.com")`)
	check(t, r, exitTimeout, ptr(""), "wandb-lua: the run took longer than --timeout 1.5s and was stopped\nwandb-lua: changes so far: 1 ok, 1 unknown\n")
	if _, ok := srv2.UserByEmail("b@example.com"); !ok {
		t.Error("b was not created")
	}
	r = runBinary(t, serverEnv(srv2), "", "--timeout", "200ms", "-e", `local w = require("wandb") w.viewer() while true do end`)
	check(t, r, exitTimeout, ptr(""), "wandb-lua: no changes were made")
}

// runOnTerminal runs the binary with stderr on a pseudo-terminal and
// returns what the terminal showed.
func runOnTerminal(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	c := cmd(t, env, args...)
	c.Stderr = slave
	var out bytes.Buffer
	c.Stdout = &out
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	var tty bytes.Buffer
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(&tty, master) // ends with EIO once the process exits
		close(done)
	}()
	err = c.Wait()
	<-done
	return tty.String(), err
}

func TestProgressOnATerminal(t *testing.T) {
	t.Parallel()
	script := `local w = require("wandb") w.parallel({1, 2, 3, 4}, function(x) assert(w.users("x")) end, { concurrency = 2 })`
	got, err := runOnTerminal(t, nil, "--local", "--latency", "400ms", "-e", script)
	if err != nil {
		t.Fatalf("%v\n%s", err, masked(got))
	}
	if !strings.Contains(got, "\r\x1b[Kwandb.parallel: ") || !strings.Contains(got, "4/4 done") || !strings.HasSuffix(got, "\r\n") {
		t.Errorf("the terminal showed %q", masked(got))
	}
	got, err = runOnTerminal(t, nil, "--quiet", "--local", "--latency", "400ms", "-e", script)
	if err != nil || got != "" {
		t.Errorf("with --quiet the terminal showed %q (%v)", masked(got), err)
	}
	// Not a terminal: nothing.
	r := runBinary(t, nil, "", "--local", "--latency", "400ms", "-e", script)
	check(t, r, 0, ptr(""))
	if r.stderr != "" {
		t.Errorf("stderr %q", masked(r.stderr))
	}
}

// TestRetryNoticeOnATerminal: a wait of more than 2s before a retry is
// said on a terminal, in one line; not with --quiet, and not when stderr
// is no terminal. The three runs wait at once.
func TestRetryNoticeOnATerminal(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	later := wandbtest.Fault{Status: 503, Header: http.Header{"Retry-After": {"2.5"}}}
	srv.FailNext("GetViewer", later, later, later)
	const script = `print(assert(require("wandb").viewer()).email)`
	var terminal, quiet string
	var plain result
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); terminal, _ = runOnTerminal(t, serverEnv(srv), "-e", script) }()
	go func() { defer wg.Done(); quiet, _ = runOnTerminal(t, serverEnv(srv), "--quiet", "-e", script) }()
	go func() { defer wg.Done(); plain = runBinary(t, serverEnv(srv), "", "-e", script) }()
	wg.Wait()
	want := "wandb-lua: viewer: HTTP 503 with Retry-After (" + srv.URL + "); trying again in 2.5s, as the server's Retry-After asks (attempt 2 of 6)\r\n"
	if terminal != want {
		t.Errorf("the terminal showed %q\nwant %q", masked(terminal), want)
	}
	if quiet != "" {
		t.Errorf("with --quiet the terminal showed %q", masked(quiet))
	}
	check(t, plain, 0, ptr(wandbtest.AdminEmail+"\n"))
	if plain.stderr != "" {
		t.Errorf("not a terminal, stderr %q", masked(plain.stderr))
	}
}

func TestRetryNotice(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	notice := retryNotice(&b)
	notice(wandb.RetryEvent{Op: "users", Server: "https://w.example.com", Attempt: 1, MaxAttempts: 6, Reason: "could not connect", Wait: 2 * time.Second})
	if b.Len() != 0 {
		t.Errorf("a wait of 2s was said: %q", b.String())
	}
	notice(wandb.RetryEvent{Op: "users", Server: "https://w.example.com", Attempt: 3, MaxAttempts: 6, Reason: "could not connect", Wait: 4100 * time.Millisecond})
	if want := "wandb-lua: users: could not connect (https://w.example.com); trying again in 4.1s (attempt 4 of 6)\n"; b.String() != want {
		t.Errorf("notice %q, want %q", b.String(), want)
	}
}
