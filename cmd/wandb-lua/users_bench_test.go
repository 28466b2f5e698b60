package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// usersSizes are the numbers of seeded users BenchmarkUsers lists.
var usersSizes = []int{10_000, 50_000, 200_000}

// BenchmarkUsers is users() with no query on instances of 10k, 50k and
// 200k users, each listing every user, from two servers:
//
//   - served: wandb-lua serve in another process (so that the heap
//     measured is the client's and Lua's alone);
//   - replayed: the same answer, taken once from that server, written by
//     a handler in this process that does nothing else: what is left is
//     the client's whole path (reading the body, decoding, the Users and
//     the Lua values), which is what the Python floor is compared with.
//
// and four clients:
//
//   - raw: a bare POST of the SDK's request that reads and discards the
//     body (the server's and the transfer's share of every other case);
//   - go: Client.Users(ctx, "");
//   - lua: held = wandb.users(), in the state wandb-lua runs scripts in;
//   - python: the Python SDK's floor (requests and json.loads of the same
//     body, wandb/testdata/users_floor.py), timed by the script itself;
//     skipped without python3 and requests.
//
// go and lua report peak-heap-KiB/user (the highest heap occupancy
// sampled during the call over the heap before it), retained-KiB/user
// (what the result costs after a GC), transient-KiB/user (the difference:
// the heap beyond the result) and allocated-KiB/user, each per listed user.
func BenchmarkUsers(b *testing.B) {
	for _, n := range usersSizes {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			url, key := serveUsers(b, n)
			b.Run("served", func(b *testing.B) { benchUsersFrom(b, url, key, n) })
			answer := searchUsersAnswer(b, url, key)
			replay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(answer)
			}))
			b.Cleanup(replay.Close)
			b.Run("replayed", func(b *testing.B) { benchUsersFrom(b, replay.URL, key, n) })
		})
	}
}

// benchUsersFrom runs the four clients of BenchmarkUsers against the
// server at url, which lists n users and the admin.
func benchUsersFrom(b *testing.B, url, key string, n int) {
	b.Run("raw", func(b *testing.B) { benchRawUsers(b, url, key) })
	client, err := wandb.NewClient(wandb.Config{BaseURL: url, APIKey: wandb.NewSecret(key)})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("go", func(b *testing.B) {
		var held []*wandb.User
		benchHeap(b, n, func() { held = nil }, func() {
			var err error
			if held, err = client.Users(context.Background(), ""); err != nil || len(held) != n+1 {
				b.Fatalf("%d users, %v", len(held), err)
			}
		})
	})
	b.Run("lua", func(b *testing.B) {
		L := newState(client, stateOutput{}, 0) // the state wandb-lua runs scripts in
		b.Cleanup(L.Close)
		fn, err := L.LoadString(fmt.Sprintf(`held = assert(wandb.users()) assert(#held == %d)`, n+1))
		if err != nil {
			b.Fatal(err)
		}
		benchHeap(b, n, func() { L.SetGlobal("held", lua.LNil) }, func() {
			if err := L.CallByParam(lua.P{Fn: fn, Protect: true}); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("python", func(b *testing.B) { benchPythonFloor(b, url, key, n) })
}

// serveUsers starts wandb-lua serve with n users besides the admin
// (wandbtest.ManyUsers: a username, a name and the team team-a each) and
// returns its URL and admin key.
func serveUsers(b *testing.B, n int) (url, key string) {
	seedFile := filepath.Join(b.TempDir(), "seed.json")
	data, err := json.Marshal(wandbtest.ManyUsers(n, "team-a"))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(seedFile, data, 0o600); err != nil {
		b.Fatal(err)
	}
	url, key, _ = startServe(b, "--seed", seedFile)
	return url, key
}

// searchUsersRequest is the body of the SDK's SearchUsers request for
// all users.
func searchUsersRequest(b *testing.B) []byte {
	doc, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "sdk", "SearchUsers.graphql"))
	if err != nil {
		b.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{"query": string(doc), "variables": map[string]any{"query": ""}, "operationName": ""})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// postSearchUsers sends the SDK's SearchUsers request and copies the
// answer to w.
func postSearchUsers(b *testing.B, hc *http.Client, url, key string, body []byte, w io.Writer) {
	req, err := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.SetBasicAuth("api", key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "W&B Public Client "+wandb.SDKVersion)
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("HTTP %d, %v", resp.StatusCode, err)
	}
}

// searchUsersAnswer returns the server's answer to the SDK's SearchUsers
// request for all users.
func searchUsersAnswer(b *testing.B, url, key string) []byte {
	var answer bytes.Buffer
	postSearchUsers(b, &http.Client{}, url, key, searchUsersRequest(b), &answer)
	return answer.Bytes()
}

// benchRawUsers is a bare POST of the SDK's SearchUsers request whose
// answer is read and discarded.
func benchRawUsers(b *testing.B, url, key string) {
	body := searchUsersRequest(b)
	hc := &http.Client{}
	var size countingWriter
	for b.Loop() {
		size = 0
		postSearchUsers(b, hc, url, key, body, &size)
	}
	b.ReportMetric(float64(size)/(1<<20), "body-MiB")
}

// countingWriter counts what is written to it.
type countingWriter int64

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}

// benchHeap times run, b.N times, and reports its heap per listed user
// (see BenchmarkUsers); drop lets go of the previous run's result.
func benchHeap(b *testing.B, n int, drop, run func()) {
	var peak, retained, allocated float64
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		drop()
		runtime.GC()
		before := heapBytes()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		allocBefore := ms.TotalAlloc
		stop := sampleHeap()
		b.StartTimer()

		run()

		b.StopTimer()
		top := stop()
		runtime.ReadMemStats(&ms)
		allocated += float64(ms.TotalAlloc - allocBefore)
		runtime.GC()
		after := heapBytes()
		peak += float64(max(top, after) - before)
		retained += float64(after - before)
		b.StartTimer()
	}
	per := float64(b.N) * float64(n) * 1024
	b.ReportMetric(peak/per, "peak-heap-KiB/user")
	b.ReportMetric(retained/per, "retained-KiB/user")
	b.ReportMetric((peak-retained)/per, "transient-KiB/user")
	b.ReportMetric(allocated/per, "allocated-KiB/user")
}

// benchPythonFloor runs wandb/testdata/users_floor.py for b.N requests and
// reports the time the script measured as ns/op, and its peak RSS.
func benchPythonFloor(b *testing.B, url, key string, n int) {
	if err := exec.Command("python3", "-c", "import requests").Run(); err != nil {
		b.Skip("python3 with requests is not installed")
	}
	c := exec.Command("python3", filepath.Join(repoRoot, "wandb", "testdata", "users_floor.py"), strconv.Itoa(b.N))
	c.Env = append(os.Environ(), "WANDB_BASE_URL="+url, "WANDB_API_KEY="+key)
	out, err := c.Output()
	if err != nil {
		b.Fatalf("users_floor.py: %v: %s", err, masked(string(out)))
	}
	fields := map[string]string{}
	for _, f := range strings.Fields(string(out)) {
		k, v, _ := strings.Cut(f, "=")
		fields[k] = v
	}
	if fields["users"] != strconv.Itoa(n+1) {
		b.Fatalf("users_floor.py listed %s users, want %d: %s", fields["users"], n+1, masked(string(out)))
	}
	total, err := strconv.ParseFloat(fields["total"], 64)
	if err != nil {
		b.Fatalf("users_floor.py: %s", masked(string(out)))
	}
	rss, _ := strconv.ParseFloat(fields["maxrss"], 64)
	b.ReportMetric(total*1e9/float64(b.N), "ns/op")
	b.ReportMetric(rss/1024, "maxrss-MiB")
}
