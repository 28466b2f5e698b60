package luamod

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// Safe runs from Lua: dry runs, read-only mode, exact lookups, progress.

func TestDryRunInLua(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	var plan bytes.Buffer
	c, err := wandb.NewClient(wandb.Config{BaseURL: srv.URL, APIKey: wandb.NewSecret(srv.AdminKey()), DryRun: true, DryRunOutput: &plan})
	if err != nil {
		t.Fatal(err)
	}
	L, _ := newState(t, c)
	path := filepath.Join(t.TempDir(), "new.key")
	L.SetGlobal("PATH", lua.LString(path))
	if err := L.DoString(`
		assert(wandb.dry_run == true, "wandb.dry_run")
		local u = assert(wandb.create_user("new@example.com"))
		assert(u.dry_run == true and u.email == "new@example.com" and u.id == "dry-run:new@example.com", "simulated user")
		local me = assert(wandb.viewer())
		assert(me.dry_run == false, "a real user")
		local secret = assert(me:generate_api_key("x"))
		assert(not secret:match("^%x+$"), "the placeholder is no key: " .. secret)
		-- Files in a dry run: a secret is not written (write_private says
		-- so with false), reports are.
		local wrote, why = wandb.write_private(PATH, secret)
		assert(wrote == false and why == "dry run: " .. PATH .. " not written", "write_private: " .. tostring(why))
		assert(wandb.csv.write(PATH .. ".csv", {{email = "new@example.com"}}, {"email"}) == true, "csv.write")
		assert(wandb.json.write(PATH .. ".json", {email = "new@example.com"}) == true, "json.write")
		local same = assert(wandb.api{ api_key = secret }):viewer()
		assert(same == me, "the dry-run key stands for the viewer")
		local t = assert(wandb.create_team("vision"))
		assert(t.dry_run == true, "simulated team")
		local m = assert(t:invite("x@example.org"))
		assert(m.dry_run == true and m.pending == true, "simulated member")
		assert(m:delete() == true)
		local sa = assert(t:create_service_account("bot"))
		assert(sa.dry_run == true and sa.account_type == "SERVICE" and sa.api_key == nil, "a simulated service account, without a key")
		assert(u:deactivate() == true)
		assert(me:delete_api_key(me.api_keys[1]) == true)
	`); err != nil {
		t.Fatal(WrapError(L, err))
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("write_private wrote in a dry run: %v", err)
	}
	for _, report := range []string{path + ".csv", path + ".json"} {
		if _, err := os.Stat(report); err != nil {
			t.Errorf("a report was not written in a dry run: %v", err)
		}
	}
	want := []string{
		"dry-run: create_user new@example.com admin=false",
		`dry-run: generate_api_key admin@example.com description="x"`,
		"dry-run: create_team vision admin=you",
		"dry-run: invite x@example.org to team vision admin=false",
		"dry-run: delete_member x@example.org from team vision",
		`dry-run: create_service_account vision description="bot"`,
		"dry-run: deactivate new@example.com",
	}
	lines := strings.Split(strings.TrimSpace(plan.String()), "\n")
	if len(lines) != len(want)+1 || strings.Join(lines[:len(want)], "\n") != strings.Join(want, "\n") ||
		!strings.HasPrefix(lines[len(want)], "dry-run: delete_api_key ") {
		t.Errorf("plan:\n%s\nwant:\n%s\n(then delete_api_key)", plan.String(), strings.Join(want, "\n"))
	}
	for _, op := range []string{"CreateUserFromAdmin", "GenerateApiKey", "DeleteApiKey", "CreateTeam", "SCIMPatchUser"} {
		if n := srv.Requests(op); n != 0 {
			t.Errorf("%s sent %d times", op, n)
		}
	}
}

func TestReadOnlyInLua(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	c, err := wandb.NewClient(wandb.Config{BaseURL: srv.URL, APIKey: wandb.NewSecret(srv.AdminKey()), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	L, _ := newState(t, c)
	path := filepath.Join(t.TempDir(), "x")
	L.SetGlobal("PATH", lua.LString(path))
	if err := L.DoString(`
		assert(wandb.dry_run == false)
		-- A file written here is no change to W&B: it is not refused.
		assert(wandb.write_private(PATH, "x") == true, "write_private")
		local u, err = wandb.create_user("x@example.com")
		assert(u == nil and err.code == "read_only")
		assert(#wandb.users() > 1, "queries work")
	`); err != nil {
		t.Fatal(WrapError(L, err))
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("write_private did not write in read-only mode: %v", err)
	}
}

// fillingDisk accepts room writes, then fails every one: a disk that
// fills up during a run.
type fillingDisk struct {
	mu   sync.Mutex
	room int
}

func (d *fillingDisk) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.room == 0 {
		return 0, errors.New("no space left on device")
	}
	d.room--
	return len(p), nil
}

// TestAuditFailureKeepsMintedSecret: the disk fills after a new key's
// intent line; the key was made, write_private still keeps its secret
// (it is no change, so nothing refuses it), and the next change to the
// server is refused.
func TestAuditFailureKeepsMintedSecret(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	log := wandb.NewAuditLog(&fillingDisk{room: 1})
	c, err := wandb.NewClient(wandb.Config{BaseURL: srv.URL, APIKey: wandb.NewSecret(srv.AdminKey()), OnChange: log.Record, BeforeChange: log.Check})
	if err != nil {
		t.Fatal(err)
	}
	L, _ := newState(t, c)
	path := filepath.Join(t.TempDir(), "new.key")
	L.SetGlobal("PATH", lua.LString(path))
	if err := L.DoString(`
		local secret = assert(assert(wandb.viewer()):generate_api_key("rotated"))
		assert(wandb.write_private(PATH, secret))
		local u, err = wandb.create_user("x@example.com")
		assert(u == nil and err.code == "read_only", tostring(err))
	`); err != nil {
		t.Fatal(WrapError(L, err))
	}
	if b, err := os.ReadFile(path); err != nil || len(b) != 40 {
		t.Errorf("the secret was not kept: %d bytes, %v", len(b), err)
	}
	if log.Err() == nil {
		t.Error("the audit log reports no write error")
	}
	if n := srv.Requests("CreateUserFromAdmin"); n != 0 {
		t.Errorf("%d creations sent", n)
	}
}

func TestExactLookupInLua(t *testing.T) {
	t.Parallel()
	_, L := seededState(t)
	if err := L.DoString(`
		assert(wandb.user("smith").email == "alice.smith@example.com", "a single partial match")
		local u, err = wandb.user("smith", { exact = true })
		assert(u == nil and err.code == "not_found", "exact refuses it")
		assert(err.message:find("1 partly matches", 1, true), err.message)
		assert(wandb.user("BOB", { exact = true }).email == "bob@example.com")
		assert(wandb.user("bob", { exact = false }).email == "bob@example.com")
		local v, e2 = wandb.user(" bob")
		assert(v == nil and e2.code == "invalid_argument" and e2.message:find("white space", 1, true))
	`); err != nil {
		t.Fatal(WrapError(L, err))
	}
	for call, want := range map[string]string{
		`wandb.user("bob", true)`:               "bad argument #2 to 'user' (table expected, got boolean)",
		`wandb.user("bob", { exactly = true })`: `bad argument #2 to 'user' (unknown option "exactly" (known: "exact"))`,
		`wandb.user("bob", { exact = "yes" })`:  "bad argument #2 to 'user' (exact must be a boolean, got string)",
	} {
		err := L.DoString(call)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", call, err, want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the progress goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestParallelProgress(t *testing.T) {
	srv := wandbtest.Start(t, wandbtest.WithLatency(150*time.Millisecond))
	var out syncBuffer
	L := lua.NewState()
	t.Cleanup(L.Close)
	L.PreloadModule("wandb", LoaderWith(Options{Client: newClient(t, srv.URL, srv.AdminKey()), Progress: &out}))
	if err := L.DoString(`wandb = require("wandb")`); err != nil {
		t.Fatal(err)
	}
	// Eight items at concurrency 2: four rounds of 150 ms, past the delay
	// before the first draw. Item 3 fails.
	if err := L.DoString(`
		wandb.parallel({1, 2, 3, 4, 5, 6, 7, 8}, function(x)
			assert(wandb.users("x" .. x))
			if x == 3 then error("boom") end
		end, { concurrency = 2, on_error = "collect" })
	`); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.HasPrefix(got, "\r\x1b[Kwandb.parallel: ") || !strings.HasSuffix(got, "\r\x1b[Kwandb.parallel: 8/8 done, 1 failed, "+lastRate(got)+"/s\n") {
		t.Errorf("progress output %q", got)
	}
	// Nothing for a short run; nothing for a long one with progress =
	// false, nor for a nested call (its outer call has the line).
	srv.SetLatency(0)
	out.mu.Lock()
	out.buf.Reset()
	out.mu.Unlock()
	if err := L.DoString(`wandb.parallel({1, 2}, function(x) assert(wandb.users("x")) end)`); err != nil {
		t.Fatal(err)
	}
	srv.SetLatency(600 * time.Millisecond)
	if err := L.DoString(`
		wandb.parallel({1, 2}, function(x) assert(wandb.users("x")) end, { progress = false })
		wandb.parallel({1}, function()
			wandb.parallel({1, 2}, function(x) assert(wandb.users("x")) end)
		end, { progress = false })
	`); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "" {
		t.Errorf("progress printed %q", got)
	}
}

// lastRate returns the rate in the last progress line of out, e.g. "13.2".
func lastRate(out string) string {
	i := strings.LastIndex(out, ", ")
	j := strings.LastIndex(out, "/s")
	if i < 0 || j < i {
		return "?"
	}
	return out[i+2 : j]
}

func TestProgressLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		total, done, failed int
		elapsed             time.Duration
		want                string
	}{
		{10, 0, 0, time.Second, "wandb.parallel: 0/10 done"},
		{10, 5, 0, 2 * time.Second, "wandb.parallel: 5/10 done, 2.5/s, 2s left"},
		{500, 120, 2, 4 * time.Second, "wandb.parallel: 120/500 done, 2 failed, 30.0/s, 13s left"},
		{8, 8, 1, time.Second, "wandb.parallel: 8/8 done, 1 failed, 8.0/s"},
	} {
		if got := progressLine(tc.total, tc.done, tc.failed, tc.elapsed); got != tc.want {
			t.Errorf("progressLine(%d, %d, %d, %v) = %q, want %q", tc.total, tc.done, tc.failed, tc.elapsed, got, tc.want)
		}
	}
}

// TestProgressTiming runs the progress line on synctest's clock: nothing
// for a run shorter than progressDelay, then a draw at progressDelay and
// every progressEvery after, each with the rate since the start, and at
// the stop the last line, ended. A writer that is a StatusLine gets the
// same lines as statuses, and the last as a line of output.
func TestProgressTiming(t *testing.T) {
	t.Parallel()
	const total = 20
	// run starts the line on w and moves the counters and the clock as a
	// run of 20 items, one of them failed, calling check with the lines
	// that must have been drawn by then; then it stops the line.
	run := func(w io.Writer, check func(when string, drawn ...string)) {
		var done, failures atomic.Int64
		stop := startProgress(w, total, &done, &failures)
		done.Store(5)
		time.Sleep(progressDelay - time.Nanosecond)
		synctest.Wait()
		check("just before progressDelay")
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		check("at progressDelay", "wandb.parallel: 5/20 done, 10.0/s, 2s left")
		done.Store(7)
		failures.Store(1)
		time.Sleep(progressEvery)
		synctest.Wait()
		check("progressEvery later", "wandb.parallel: 5/20 done, 10.0/s, 2s left", "wandb.parallel: 7/20 done, 1 failed, 10.0/s, 1s left")
		done.Store(total)
		time.Sleep(progressEvery / 2)
		stop()
	}
	const last = "wandb.parallel: 20/20 done, 1 failed, 25.0/s"
	redrawn := func(lines ...string) string {
		var b strings.Builder
		for _, l := range lines {
			b.WriteString("\r\x1b[K" + l)
		}
		return b.String()
	}
	synctest.Test(t, func(t *testing.T) {
		var out syncBuffer
		var drawn []string
		run(&out, func(when string, lines ...string) {
			drawn = lines
			if got, want := out.String(), redrawn(lines...); got != want {
				t.Errorf("%s: drew %q, want %q", when, got, want)
			}
		})
		if got, want := out.String(), redrawn(append(drawn, last)...)+"\n"; got != want {
			t.Errorf("after the stop: %q, want %q", got, want)
		}

		// Stopped before progressDelay: nothing, then or later.
		var short syncBuffer
		var done, failures atomic.Int64
		stop := startProgress(&short, total, &done, &failures)
		time.Sleep(progressDelay - time.Nanosecond)
		stop()
		time.Sleep(time.Hour)
		if got := short.String(); got != "" {
			t.Errorf("a run shorter than progressDelay drew %q", got)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		rec := &statusRecorder{}
		var want []string
		run(rec, func(when string, lines ...string) {
			want = want[:0]
			for _, l := range lines {
				want = append(want, "status "+l)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if !slices.Equal(rec.events, want) {
				t.Errorf("%s: %q, want %q", when, rec.events, want)
			}
		})
		want = append(want, "status ", "write "+last+"\n")
		if !slices.Equal(rec.events, want) {
			t.Errorf("after the stop: %q, want %q", rec.events, want)
		}
	})
}
