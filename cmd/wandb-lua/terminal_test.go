package main

import (
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// The terminal as people see it: one writer (nothing lands on the
// progress line), nothing from data moves the cursor, and a prompt for
// exploring.

// hostileName holds what would retitle the window, clear a line and move
// the cursor up, and then reverse the text after it.
const hostileName = "\x1b]0;PWNED\x07\x1b[2K\x1b[1AEve\u202eliam"

// hostileTeam is a team name from a CSV file that would replace the plan
// line above it with a forged one.
const hostileTeam = "evil \x1b[1A\x1b[2K\r dry-run: invite carol@example.org to team ok-team admin=false"

// hostileSeed writes a seed with a user whose name, username, team and
// key description are hostile, and returns its path and the user's key (a
// new random one, for the test server only).
func hostileSeed(t *testing.T) (path, eveKey string) {
	t.Helper()
	eveKey = rand.Text() + rand.Text()
	seed := map[string]any{"users": []map[string]any{
		{"email": "eve@example.com", "name": hostileName, "username": "eve\x1b[2K", "teams": []string{"ops\u202eteam"},
			"keys": []map[string]string{{"description": "cli\x1b[2K", "secret": eveKey}}},
		{"email": "alice@example.com", "name": "Alice Example"},
	}}
	b, err := json.Marshal(seed)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "hostile.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, eveKey
}

// noRawControls fails unless the terminal's raw output out holds no
// escape sequence, no C1 control, no bidirectional override and no
// carriage return but before a newline (the terminal adds one to each).
func noRawControls(t *testing.T, what, out string) {
	t.Helper()
	for i, r := range out {
		bad := false
		switch {
		case r == '\r':
			bad = !strings.HasPrefix(out[i:], "\r\n")
		case r == '\n' || r == '\t':
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			bad = true
		case r == utf8.RuneError:
			bad = true
		}
		if bad {
			t.Errorf("%s: a raw %U at byte %d reached the terminal:\n%q", what, r, i, masked(out))
			return
		}
	}
}

// TestNothingFromDataMovesTheCursor: a hostile name printed by a script
// and by the examples, in tostring, an error and a plan line, and a
// hostile team from a CSV file in a dry run's plan lines, reach the
// terminal escaped; through a pipe the same script gets its bytes as they
// are.
func TestNothingFromDataMovesTheCursor(t *testing.T) {
	t.Parallel()
	seed, eveKey := hostileSeed(t)
	script := `local w = require("wandb")
		local eve = assert(w.user("eve@example.com"))
		print(eve.name)
		print(eve)
		io.write(eve.username, "\n")
		io.stderr:write("warning: ", eve.name, "\n")
		print(w.json.encode(eve.teams))
		w.create_team(eve.name)
		local u, err = w.user(eve.name)
		print(err)
		error("stopped at " .. eve.name, 0)`
	term := startTerminal(t, nil, "--local", "--seed", seed, "--dry-run", "-e", script)
	if code := term.wait(); code != 1 {
		t.Errorf("exit code %d", code)
	}
	raw := term.raw()
	noRawControls(t, "the script", raw)
	for _, want := range []string{
		`\x1b]0;PWNED\a\x1b[2K\x1b[1AEve\u202eliam` + "\r\n",
		"<User eve@example.com>\r\n",
		`eve\x1b[2K` + "\r\n",
		`warning: \x1b]0;PWNED\a`,
		`["ops\u202eteam"]`,
		`dry-run: create_team "\x1b]0;PWNED\a\x1b[2K\x1b[1AEve\u202eliam" admin=you` + "\r\n",
		`wandb-lua: stopped at \x1b]0;PWNED\a`,
	} {
		if !strings.Contains(raw, want) {
			t.Errorf("the terminal does not show %q:\n%s", want, masked(raw))
		}
	}

	// The examples, as the admin and as eve (a key of her own).
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seed))
	eve := []string{"WANDB_BASE_URL=" + srv.URL, "WANDB_API_KEY=" + eveKey}
	for _, run := range []struct {
		env  []string
		args []string
		want string
	}{
		{eve, []string{"scripts/examples/quickstart.lua"}, `You are eve\x1b[2K (eve@example.com).` + "\r\n"},
		{eve, []string{"scripts/examples/quickstart.lua"}, `Teams: ops\u202eteam` + "\r\n"},
		{serverEnv(srv), []string{"scripts/examples/key_audit.lua"}, "eve@example.com"},
		{serverEnv(srv), []string{"-e", `for _, u in ipairs(assert(require("wandb").users(""))) do print(u.name, u.username, u.keys[1] and u.keys[1].description) end`},
			`\x1b]0;PWNED\a\x1b[2K\x1b[1AEve\u202eliam` + "\t" + `eve\x1b[2K` + "\t" + `cli\x1b[2K` + "\r\n"},
	} {
		term := startTerminal(t, run.env, run.args...)
		if code := term.wait(); code != 0 {
			t.Errorf("%v: exit code %d\n%s", run.args, code, masked(term.raw()))
		}
		noRawControls(t, strings.Join(run.args, " "), term.raw())
		if !strings.Contains(term.raw(), run.want) {
			t.Errorf("%v: the terminal does not show %q:\n%s", run.args, run.want, masked(term.raw()))
		}
	}

	// A team name from a CSV file, in a dry run's plan lines: each line is
	// one change, and none replaces another on the screen.
	csv := filepath.Join(t.TempDir(), "members.csv")
	if err := os.WriteFile(csv, []byte("email,team,role\nalice@example.com,\""+hostileTeam+"\",member\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	term = startTerminal(t, nil, "--local", "--seed", seed, "--dry-run", "scripts/examples/team_onboard.lua", csv)
	if code := term.wait(); code != 0 {
		t.Errorf("team_onboard.lua: exit code %d\n%s", code, masked(term.raw()))
	}
	raw = term.raw()
	noRawControls(t, "team_onboard.lua", raw)
	q := `"evil \x1b[1A\x1b[2K\r dry-run: invite carol@example.org to team ok-team admin=false"`
	shown := render(raw)
	for _, want := range []string{"dry-run: create_team " + q + " admin=you\n", "dry-run: invite alice@example.com to team " + q + " admin=false\n"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the terminal does not show %q:\n%s", want, masked(shown))
		}
	}
	if n := len(regexp.MustCompile(`(?m)^dry-run: `).FindAllString(shown, -1)); n != 2 {
		t.Errorf("%d plan lines on the screen, want 2:\n%s", n, masked(shown))
	}

	// Not a terminal: the bytes as the script wrote them; the audit log
	// keeps the data exactly.
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	r := runBinary(t, nil, "", "--local", "--seed", seed, "--audit", audit, "-e", `print(require("wandb").user("eve@example.com").name) require("wandb").create_team("x y")`)
	check(t, r, 0, ptr(hostileName+"\n"))
	if b, err := os.ReadFile(audit); err != nil || !strings.Contains(string(b), `"target":"x y"`) {
		t.Errorf("audit log: %s, %v", masked(string(b)), err)
	}
}

// TestOneWriterWithProgress: plan lines, -v logs, print and warnings
// written while wandb.parallel's progress line is drawn each land on a
// line of their own, and the progress line is drawn again below them.
func TestOneWriterWithProgress(t *testing.T) {
	script := `local w = require("wandb")
		local items = {}
		for i = 1, 16 do items[i] = i end
		w.parallel(items, function(i)
			assert(w.users("x"))
			w.create_user("user" .. i .. "@example.com")
			print("item " .. i)
			io.stderr:write("warning " .. i .. "\n")
		end, { concurrency = 4 })
		print("all done")`
	term := startTerminal(t, nil, "--local", "--latency", "200ms", "--dry-run", "-e", script)
	if code := term.wait(); code != 0 {
		t.Fatalf("exit code %d\n%s", code, masked(term.raw()))
	}
	raw := term.raw()
	if !strings.Contains(raw, "\x1b[Kwandb.parallel: ") {
		t.Fatalf("no progress line was drawn:\n%q", masked(raw))
	}
	plans, items, warnings := 0, 0, 0
	lines := strings.Split(strings.TrimSuffix(render(raw), "\n"), "\n")
	for _, line := range lines {
		switch {
		case strings.HasPrefix(line, "dry-run: create_user user") && strings.HasSuffix(line, "@example.com admin=false"):
			plans++
		case regexp.MustCompile(`^item \d+$`).MatchString(line):
			items++
		case regexp.MustCompile(`^warning \d+$`).MatchString(line):
			warnings++
		case regexp.MustCompile(`^wandb\.parallel: 16/16 done, [\d.]+/s$`).MatchString(line), line == "all done":
		default:
			t.Errorf("the line %q mixes outputs", masked(line))
		}
	}
	if plans != 16 || items != 16 || warnings != 16 {
		t.Errorf("%d plan lines, %d printed, %d warnings, want 16 each:\n%s", plans, items, warnings, masked(render(raw)))
	}
	if lines[len(lines)-1] != "all done" || !strings.HasPrefix(lines[len(lines)-2], "wandb.parallel: 16/16 done") {
		t.Errorf("the last lines:\n%s", masked(strings.Join(lines[max(len(lines)-3, 0):], "\n")))
	}

	// -v logs too: each retry's line, with the progress line.
	srv := wandbtest.Start(t, wandbtest.WithLatency(200*time.Millisecond))
	// The faults answer after the progress line's first draw (500 ms).
	late := wandbtest.Fault{Status: 503, Delay: 700 * time.Millisecond}
	srv.FailNext("SearchUsers", late, late, late)
	env := append(serverEnv(srv), "WANDB__GRAPHQL_RETRY_WAIT_MIN_SECONDS=0.01", "WANDB__GRAPHQL_RETRY_WAIT_MAX_SECONDS=0.02")
	term = startTerminal(t, env, "-v", "-e", `local w = require("wandb")
		w.parallel({1, 2, 3, 4, 5, 6, 7, 8}, function(i) assert(w.users("x")) end, { concurrency = 2 })`)
	if code := term.wait(); code != 0 {
		t.Fatalf("-v: exit code %d\n%s", code, masked(term.raw()))
	}
	retries := 0
	for _, line := range strings.Split(render(term.raw()), "\n") {
		switch {
		case strings.HasPrefix(line, "level=INFO ") && strings.Contains(line, "retry"):
			retries++
		case strings.Contains(line, "wandb.parallel: ") && !strings.HasPrefix(line, "wandb.parallel: "):
			t.Errorf("the line %q mixes outputs", masked(line))
		}
	}
	if !strings.Contains(term.raw(), "\r\x1b[Klevel=INFO ") {
		t.Errorf("no log line cleared the progress line:\n%q", masked(term.raw()))
	}
	if retries != 3 {
		t.Errorf("%d retry lines, want 3:\n%s", retries, masked(render(term.raw())))
	}
}
