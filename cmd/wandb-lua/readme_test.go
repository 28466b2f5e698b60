package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// The documentation cannot go stale: every command in the ```sh blocks of
// README.md and of the other documents that give commands (docs) is run
// here or by .ci/run, the reference's copy of the --help text is the real
// one, and every link between the documents leads somewhere.
//
// Commands of the form "[VAR=value ...] go run ./cmd/wandb-lua ARGS" run
// with the test's binary in the repository root against a wandbtest
// server that stands in for "your W&B server", with these substitutions:
//
//	https://wandb.example.com   the test server's URL
//	admin.key                   a file holding the test server's admin key
//	new.key, wandb-state.json,  files in a temporary directory
//	wandb-env.sh, audit.jsonl
//
// and with NETRC pointing at the README's own netrc example (its machine
// and password substituted the same way). "serve" commands listen on a
// free loopback port, are used by a script, and are stopped with Ctrl-C.
// A block that starts serve in the background ("... serve ... &") is run
// whole by bash, and then a script must work with the environment it set.
// The other commands must be lines of .ci/run.

// docs are the documents whose ```sh blocks TestREADMECommandsRun runs:
// README.md, the admin's first page, and those that README's material
// moved to. A document that gives commands in ```sh blocks belongs here.
var docs = []string{"README.md", "luamod/README.md", "CONTRIBUTING.md"}

// helpDoc is the document that shows the --help text.
const helpDoc = "luamod/README.md"

// readmeBlocks returns the lines of README.md's fenced blocks whose info
// string is lang.
func readmeBlocks(t *testing.T, lang string) [][]string {
	t.Helper()
	return docBlocks(t, "README.md", lang)
}

// docBlocks returns the lines of the fenced blocks of doc (a path from the
// repository root) whose info string is lang, indented ones (in a list
// item) included, without the fence's indentation.
func docBlocks(t *testing.T, doc, lang string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, filepath.FromSlash(doc)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks [][]string
	var cur []string
	in, want, indent := false, false, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case !in && strings.HasPrefix(trimmed, "```"):
			in, want, cur = true, trimmed == "```"+lang, []string{}
			indent = line[:len(line)-len(strings.TrimLeft(line, " "))]
		case in && trimmed == "```":
			in = false
			if want {
				blocks = append(blocks, cur)
			}
		case in:
			cur = append(cur, strings.TrimPrefix(line, indent))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return blocks
}

// ciLines returns the lines of .ci/run, trimmed.
func ciLines(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	return lines
}

// ciRuns reports whether one of ci's lines runs command: the command
// itself, or the command piped on (tee) with its arguments unchanged.
func ciRuns(ci map[string]bool, command string) bool {
	for line := range ci {
		if line == command || strings.HasPrefix(line, command+" |") || strings.HasPrefix(line, command+" 2>&1 |") {
			return true
		}
	}
	return false
}

func TestREADMEShowsTheRealHelp(t *testing.T) {
	t.Parallel()
	want := strings.Split(strings.TrimSuffix(usage, "\n"), "\n")
	for _, b := range docBlocks(t, helpDoc, "text") {
		if strings.Join(b, "\n") == strings.Join(want, "\n") {
			return
		}
	}
	t.Error(helpDoc + " has no ```text block equal to the --help text (cmd/wandb-lua/usage.go)")
}

const (
	quickstartCommand = "go run ./cmd/wandb-lua --local scripts/examples/quickstart.lua"
	testCommand       = "go test -race -cover ./..."
	runPrefix         = "go run ./cmd/wandb-lua"
)

var envAssignment = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`)

// planLines matches the plan lines of a dry run.
var planLines = regexp.MustCompile(`(?m)^dry-run: .*\n`)

func TestREADMECommandsRun(t *testing.T) {
	t.Parallel()
	ci := ciLines(t)
	srv := wandbtest.Start(t, wandbtest.WithSeedFile(seedFile))
	dir := t.TempDir()
	host := strings.TrimPrefix(srv.URL, "http://")
	replacer := strings.NewReplacer(
		"https://wandb.example.com", srv.URL,
		"admin.key", filepath.Join(dir, "admin.key"),
		"new.key", filepath.Join(dir, "new.key"),
		"wandb-state.json", filepath.Join(dir, "wandb-state.json"),
		"audit.jsonl", filepath.Join(dir, "audit.jsonl"),
		"./wandb-env.sh", filepath.Join(dir, "wandb-env.sh"),
		"wandb-env.sh", filepath.Join(dir, "wandb-env.sh"),
	)
	if err := os.WriteFile(filepath.Join(dir, "admin.key"), []byte(srv.AdminKey()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// The README's netrc example, for this server.
	netrc := ""
	for _, b := range readmeBlocks(t, "text") {
		if len(b) > 0 && strings.HasPrefix(b[0], "machine wandb.example.com") {
			netrc = strings.NewReplacer("wandb.example.com", host, "<your API key>", srv.AdminKey()).Replace(strings.Join(b, "\n") + "\n")
		}
	}
	if netrc == "" {
		t.Fatal("README.md has no netrc example (a ```text block starting with \"machine wandb.example.com\")")
	}
	netrcPath := filepath.Join(dir, "netrc")
	if err := os.WriteFile(netrcPath, []byte(netrc), 0o600); err != nil {
		t.Fatal(err)
	}

	seen := map[string]bool{} // README.md's commands
	for _, doc := range docs {
		for _, block := range docBlocks(t, doc, "sh") {
			runDocBlock(t, doc, block, replacer, ci, netrcPath, seen)
		}
	}
	for _, must := range []string{quickstartCommand, testCommand} {
		if !seen[must] {
			t.Errorf("README.md does not show %q in a ```sh block", must)
		}
	}
}

// runDocBlock runs the commands of block, a ```sh block of doc, and
// records those of README.md in seen.
func runDocBlock(t *testing.T, doc string, block []string, replacer *strings.Replacer, ci map[string]bool, netrcPath string, seen map[string]bool) {
	t.Helper()
	readme := doc == "README.md"
	if isServeSession(block) {
		runServeSession(t, doc, block, replacer)
		for _, line := range block {
			if readme {
				seen[strings.TrimSpace(line)] = true
			}
		}
		return
	}
	for _, line := range block {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if readme {
			seen[line] = true
		}
		if line == testCommand || line == quickstartCommand {
			if !ciRuns(ci, line) {
				t.Errorf(".ci/run does not run %s's command %q", doc, line)
			}
		}
		if line == testCommand {
			continue
		}
		words := strings.Fields(replacer.Replace(line))
		env := []string{"NETRC=" + netrcPath}
		for len(words) > 0 && envAssignment.MatchString(words[0]) {
			env = append(env, words[0])
			words = words[1:]
		}
		rest, ok := strings.CutPrefix(strings.Join(words, " "), runPrefix)
		if !ok || strings.ContainsAny(line, `'"$`+"`") {
			t.Errorf("%s command %q is not run by any test: add it to .ci/run or teach this test to run it", doc, line)
			continue
		}
		args := strings.Fields(rest)
		t.Run(line, func(t *testing.T) {
			if len(args) > 0 && args[0] == "serve" {
				url, key, stop := startServe(t, args[1:]...)
				check(t, runBinary(t, []string{"WANDB_BASE_URL=" + url, "WANDB_API_KEY=" + key}, "", "-e", "assert(require('wandb').viewer())"), 0, ptr(""))
				if code := stop(); code != 0 {
					t.Errorf("exit code %d after Ctrl-C, want 0", code)
				}
				return
			}
			r := runBinary(t, env, "", args...)
			check(t, r, 0, nil)
			stderr := r.stderr
			if slices.Contains(args, "--dry-run") { // its plan lines
				stderr = planLines.ReplaceAllString(stderr, "")
			}
			if stderr != "" {
				t.Errorf("stderr:\n%s", masked(r.stderr))
			}
		})
	}
}

// isServeSession reports whether block starts serve in the background.
func isServeSession(block []string) bool {
	return len(block) > 0 && strings.HasPrefix(block[0], runPrefix+" serve ") && strings.Contains(block[0], " &")
}

// runServeSession runs block with bash, serve on a free loopback port, and
// checks that a script then reaches the server as its admin through the
// environment the block set.
func runServeSession(t *testing.T, doc string, block []string, replacer *strings.Replacer) {
	t.Helper()
	script := []string{"set -e"}
	for i, line := range block {
		line = replacer.Replace(line)
		line = strings.Replace(line, runPrefix+" serve ", `"$WANDB_LUA" serve --addr 127.0.0.1:0 `, 1)
		script = append(script, strings.ReplaceAll(line, runPrefix, `"$WANDB_LUA"`))
		if i == 0 { // serve, in the background: stopped however the session ends
			script = append(script, "serve=$!", `trap 'kill $serve; wait $serve' EXIT`)
		}
	}
	script = append(script, `"$WANDB_LUA" -e 'print(assert(wandb.viewer()).email)'`)
	// The deadline only bounds a session that would otherwise hang (serve
	// failing to start leaves the block's wait loop waiting).
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "bash", "-c", strings.Join(script, "\n"))
	c.WaitDelay = time.Second
	c.Dir = repoRoot
	c.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "WANDB_LUA=" + binary}, baseEnv...)
	var stderr strings.Builder
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil || string(out) != wandbtest.AdminEmail+"\n" {
		t.Errorf("%s's serve session (%v) printed:\n%s\nstderr:\n%s", doc, err, masked(string(out)), masked(stderr.String()))
	}
}

// linkedDocs are the documents whose links TestDocLinks follows.
var linkedDocs = []string{"README.md", "luamod/README.md", "CONTRIBUTING.md", "BENCHMARKS.md"}

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocLinks: every relative link of the documents leads to a file or
// directory of the repository, and every #anchor to a heading of its
// document, as GitHub spells heading anchors.
func TestDocLinks(t *testing.T) {
	t.Parallel()
	for _, doc := range linkedDocs {
		text, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(doc)))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range outsideFences(string(text)) {
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				file, anchor, _ := strings.Cut(target, "#")
				path := doc
				if file != "" {
					path = filepath.ToSlash(filepath.Join(filepath.Dir(doc), file))
				}
				if _, err := os.Stat(filepath.Join(repoRoot, filepath.FromSlash(path))); err != nil {
					t.Errorf("%s: link %q: %v", doc, target, err)
					continue
				}
				if anchor != "" && !slices.Contains(anchors(t, path), anchor) {
					t.Errorf("%s: link %q: %s has no heading with the anchor #%s", doc, target, path, anchor)
				}
			}
		}
	}
}

// outsideFences returns the lines of a markdown text that are not in a
// fenced block.
func outsideFences(text string) []string {
	var lines []string
	in := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			in = !in
			continue
		}
		if !in {
			lines = append(lines, line)
		}
	}
	return lines
}

// anchors returns the anchors GitHub gives the headings of the markdown
// file at path (from the repository root): the heading in lower case,
// without punctuation, spaces as hyphens, a repeated one numbered.
func anchors(t *testing.T, path string) []string {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	count := map[string]int{}
	for _, line := range outsideFences(string(text)) {
		hashes := len(line) - len(strings.TrimLeft(line, "#"))
		if hashes == 0 || hashes > 6 || !strings.HasPrefix(line[hashes:], " ") {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(strings.TrimRight(line[hashes:], "# "))) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		a := b.String()
		if n := count[a]; n > 0 {
			list = append(list, fmt.Sprintf("%s-%d", a, n))
		} else {
			list = append(list, a)
		}
		count[a]++
	}
	return list
}
