package luamod

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// Benchmarks for BENCHMARKS.md. They run only with -bench; see that file for
// the commands. Nothing here runs under a plain "go test".

// runLoop compiles body into function(u, n) for i = 1, n do <body> end end
// and calls it once with b.N, timing only the loop.
func runLoop(b *testing.B, L *lua.LState, u lua.LValue, body string) {
	b.Helper()
	fn, err := L.LoadString(`local u, n = ... for i = 1, n do ` + body + ` end`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	if err := L.CallByParam(lua.P{Fn: fn, NRet: 0, Protect: true}, u, lua.LNumber(b.N)); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkUserField is the Lua-to-Go cost of reading a field of a User
// (one __index call into Go), per read.
func BenchmarkUserField(b *testing.B) {
	srv := wandbtest.NewServer()
	b.Cleanup(srv.Close)
	L := newModuleState(b, srv.URL, srv.AdminKey)
	if err := L.DoString(`me = assert(wandb.viewer())`); err != nil {
		b.Fatal(err)
	}
	me := L.GetGlobal("me")
	for _, tc := range []struct{ name, body string }{
		{"baseline-table-field", `local _ = u.email`}, // a plain Lua table, for the loop's own cost
		{"email", `local _ = u.email`},
		{"id", `local _ = u.id`},
		{"admin", `local _ = u.admin`},
		{"method-lookup", `local _ = u.generate_api_key`},
		{"api_keys", `local _ = u.api_keys`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			u := me
			if strings.HasPrefix(tc.name, "baseline") {
				t := L.NewTable()
				t.RawSetString("email", lua.LString("admin@example.com"))
				u = t
			}
			runLoop(b, L, u, tc.body)
		})
	}
}

// BenchmarkParallelOverhead is the scheduler's own cost per item, with ops
// that return at once (no network): one suspension and resume per item.
// "blocking" is the same call in the main chunk, for comparison.
func BenchmarkParallelOverhead(b *testing.B) {
	for _, o := range []struct {
		name string
		opts lua.Options
	}{
		{"default-options", lua.Options{}},
		{"small-registry", lua.Options{RegistrySize: 256, RegistryMaxSize: 1 << 20, MinimizeStackMemory: true}},
	} {
		b.Run(o.name+"/blocking", func(b *testing.B) {
			h := newAsyncHarness(b, o.opts)
			fn, err := h.L.LoadString(`local n = ... for i = 1, n do local v = fetch(i) end`)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			if err := h.L.CallByParam(lua.P{Fn: fn, Protect: true}, lua.LNumber(b.N)); err != nil {
				b.Fatal(err)
			}
		})
		for _, conc := range []int{16, 256} {
			b.Run(fmt.Sprintf("%s/parallel-c%d", o.name, conc), func(b *testing.B) {
				h := newAsyncHarness(b, o.opts)
				fn, err := h.L.LoadString(`local n, c = ...
					local items = {} for i = 1, n do items[i] = i end
					collectgarbage()
					return function() wandb.parallel(items, function(x) return fetch(x) end, { concurrency = c }) end`)
				if err != nil {
					b.Fatal(err)
				}
				if err := h.L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, lua.LNumber(b.N), lua.LNumber(conc)); err != nil {
					b.Fatal(err)
				}
				run := h.L.Get(-1)
				h.L.Pop(1)
				b.ReportAllocs()
				b.ResetTimer()
				if err := h.L.CallByParam(lua.P{Fn: run, Protect: true}); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// BenchmarkRoundTrip is one request on loopback with no added latency:
// "lua" from a Lua script through the module, the client and wandbtest;
// "raw-http" the same request (body and headers as the client sent them)
// with a bare keep-alive http.Client, so lua − raw-http is the share of the
// module and the client; "handler" wandbtest's handler alone (no network).
// wandb's BenchmarkGetViewer, BenchmarkCreateUser and BenchmarkClientOnly
// measure the Go client alone.
func BenchmarkRoundTrip(b *testing.B) {
	srv := wandbtest.NewServer()
	b.Cleanup(srv.Close)
	L := newModuleState(b, srv.URL, srv.AdminKey)
	var n atomic.Int64
	L.SetGlobal("next_email", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(fmt.Sprintf("rt%d@example.com", n.Add(1))))
		return 1
	}))
	if err := L.DoString(`assert(wandb.user("admin@example.com")) assert(wandb.create_user(next_email()))`); err != nil {
		b.Fatal(err) // requests to replay
	}
	sameVars := func(map[string]any) {}
	newEmail := func(vars map[string]any) { vars["email"] = fmt.Sprintf("rt%d@example.com", n.Add(1)) }
	hc := &http.Client{}
	b.Cleanup(hc.CloseIdleConnections)

	// replay sends the last request of op again, through the handler alone
	// or over HTTP.
	replay := func(b *testing.B, op string, vary func(map[string]any), overHTTP bool) {
		last, ok := srv.LastRequest(op)
		if !ok {
			b.Fatalf("no %s request to replay", op)
		}
		b.ReportAllocs()
		for b.Loop() {
			vars := maps.Clone(last.Variables)
			vary(vars)
			body, err := json.Marshal(map[string]any{"query": last.Query, "variables": vars, "operationName": ""})
			if err != nil {
				b.Fatal(err)
			}
			var code int
			if overHTTP {
				req, err := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				req.Header = last.Header.Clone()
				req.SetBasicAuth("api", srv.AdminKey)
				resp, err := hc.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				code = resp.StatusCode
			} else {
				req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
				req.Header = last.Header.Clone()
				req.SetBasicAuth("api", srv.AdminKey)
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, req)
				code = w.Code
			}
			if code != http.StatusOK {
				b.Fatalf("%s: HTTP %d", op, code)
			}
		}
	}
	// user() before any create_user: its search scans every user.
	b.Run("lua/user", func(b *testing.B) { runLoop(b, L, lua.LNil, `assert(wandb.user("admin@example.com"))`) })
	b.Run("raw-http/user", func(b *testing.B) { replay(b, "SearchUsers", sameVars, true) })
	b.Run("handler/user", func(b *testing.B) { replay(b, "SearchUsers", sameVars, false) })
	b.Run("lua/create_user", func(b *testing.B) { runLoop(b, L, lua.LNil, `assert(wandb.create_user(next_email()))`) })
	b.Run("raw-http/create_user", func(b *testing.B) { replay(b, "CreateUserFromAdmin", newEmail, true) })
	b.Run("handler/create_user", func(b *testing.B) { replay(b, "CreateUserFromAdmin", newEmail, false) })
}

// BenchmarkParallelThread is the memory of one coroutine, which each item
// running at once needs (the scheduler reuses them for the next items): one
// iteration is a parallel call over 64 items at concurrency 64. Threads take
// the main LState's Options, so they are the embedder's to choose.
func BenchmarkParallelThread(b *testing.B) {
	const n = 64
	for _, o := range []struct {
		name string
		opts lua.Options
	}{
		{"default-options", lua.Options{}},
		{"small-registry", lua.Options{RegistrySize: 256, RegistryMaxSize: 1 << 20, MinimizeStackMemory: true}},
	} {
		b.Run(o.name, func(b *testing.B) {
			h := newAsyncHarness(b, o.opts)
			fn, err := h.L.LoadString(fmt.Sprintf(`local items = {} for i = 1, %d do items[i] = i end
				return function() wandb.parallel(items, function(x) return fetch(x) end, { concurrency = %d }) end`, n, n))
			if err != nil {
				b.Fatal(err)
			}
			if err := h.L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}); err != nil {
				b.Fatal(err)
			}
			run := h.L.Get(-1)
			h.L.Pop(1)
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			before := ms.TotalAlloc
			b.ResetTimer()
			for range b.N {
				if err := h.L.CallByParam(lua.P{Fn: run, Protect: true}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.TotalAlloc-before)/float64(b.N)/n/1024, "KiB/thread")
		})
	}
}

// bulkUsers is the number of users each bulk iteration creates.
const bulkUsers = 1000

// bulkLatency is the latency wandbtest adds to every request in the bulk
// benchmark.
const bulkLatency = 20 * time.Millisecond

// BenchmarkBulkCreateUsers creates 1,000 users through a Lua script against a
// server that adds 20 ms to every request: one at a time in a loop, and with
// wandb.parallel at several concurrencies. One iteration is 1,000 users;
// "x-floor" is the time over the floor 1000 × 20 ms / concurrency.
func BenchmarkBulkCreateUsers(b *testing.B) {
	srv := wandbtest.NewServer(wandbtest.WithLatency(bulkLatency))
	b.Cleanup(srv.Close)
	L := newModuleState(b, srv.URL, srv.AdminKey)
	var run atomic.Int64 // a fresh e-mail prefix per iteration

	script := func(conc int) string {
		head := fmt.Sprintf(`local p = ... local emails = {} for i = 1, %d do emails[i] = p .. i .. "@example.com" end `, bulkUsers)
		if conc == 0 {
			return head + `for i = 1, #emails do assert(wandb.create_user(emails[i])) end`
		}
		return head + fmt.Sprintf(`local r = wandb.parallel(emails, function(e) return assert(wandb.create_user(e)).email end, { concurrency = %d })
			assert(#r == #emails)`, conc)
	}
	bench := func(b *testing.B, conc int) {
		fn, err := L.LoadString(script(conc))
		if err != nil {
			b.Fatal(err)
		}
		floor := bulkUsers * bulkLatency
		if conc > 0 {
			floor /= time.Duration(conc)
		}
		var total time.Duration
		b.ResetTimer()
		for range b.N {
			prefix := fmt.Sprintf("b%d-%d-", conc, run.Add(1))
			start := time.Now()
			if err := L.CallByParam(lua.P{Fn: fn, Protect: true}, lua.LString(prefix)); err != nil {
				b.Fatal(err)
			}
			total += time.Since(start)
		}
		b.ReportMetric(float64(total)/float64(b.N)/float64(floor), "x-floor")
		b.ReportMetric(float64(bulkUsers)*float64(b.N)/total.Seconds(), "users/s")
	}
	b.Run("sequential", func(b *testing.B) { bench(b, 0) })
	for _, conc := range []int{1, 2, 4, 8, 16, 32} {
		b.Run(fmt.Sprintf("parallel-c%d", conc), func(b *testing.B) { bench(b, conc) })
	}
}

// buildBinary builds cmd/wandb-lua into a temporary directory.
func buildBinary(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "wandb-lua")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/wandb-lua")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// BenchmarkStartup is the wall time of `wandb-lua -e 'return'` (a process
// that starts, sets up the module and runs an empty chunk) and reports the
// binary's size.
func BenchmarkStartup(b *testing.B) {
	bin := buildBinary(b)
	fi, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}
	env := append(os.Environ(), "WANDB_API_KEY="+strings.Repeat("0", 40), "WANDB_BASE_URL=http://127.0.0.1:9")
	b.Run("exec", func(b *testing.B) {
		for b.Loop() {
			cmd := exec.Command(bin, "-e", "return")
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
		}
		b.ReportMetric(float64(fi.Size())/(1<<20), "binary-MiB")
	})
}

// usersSeed is the number of users BenchmarkUsers10k lists.
const usersSeed = 10000

// BenchmarkUsers10k is one users() call that returns 10,000 users, which the
// script then holds. The server runs in another process (wandb-lua serve),
// so the heap measured is the client's and Lua's alone: peak-heap-MiB is the
// highest heap occupancy sampled during the call over the heap before it,
// retained-KiB/user what the held array costs after a GC.
func BenchmarkUsers10k(b *testing.B) {
	bin := buildBinary(b)
	seed := wandbtest.Seed{}
	for i := range usersSeed {
		seed.Users = append(seed.Users, wandbtest.SeedUser{
			Email: fmt.Sprintf("user%05d@example.com", i), Username: fmt.Sprintf("user%05d", i),
			Name: fmt.Sprintf("User %d", i), Teams: []string{"team-a"},
		})
	}
	seedFile := filepath.Join(b.TempDir(), "seed.json")
	data, err := json.Marshal(seed)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(seedFile, data, 0o600); err != nil {
		b.Fatal(err)
	}
	url, key := startServe(b, bin, "--addr", "127.0.0.1:0", "--seed", seedFile)
	L := newModuleState(b, url, key)
	fn, err := L.LoadString(`held = assert(wandb.users("user")) assert(#held == ` + fmt.Sprint(usersSeed) + `)`)
	if err != nil {
		b.Fatal(err)
	}

	var peak, retained, allocated float64
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		L.SetGlobal("held", lua.LNil)
		runtime.GC()
		before := heapBytes()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		allocBefore := ms.TotalAlloc
		stop := sampleHeap()
		b.StartTimer()

		if err := L.CallByParam(lua.P{Fn: fn, Protect: true}); err != nil {
			b.Fatal(err)
		}

		b.StopTimer()
		top := stop()
		runtime.ReadMemStats(&ms)
		allocated += float64(ms.TotalAlloc - allocBefore)
		runtime.GC()
		peak += float64(max(top, heapBytes()) - before)
		retained += float64(heapBytes() - before)
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(peak/n/(1<<20), "peak-heap-MiB")
	b.ReportMetric(retained/n/(1<<20), "retained-MiB")
	b.ReportMetric(retained/n/usersSeed/1024, "retained-KiB/user")
	b.ReportMetric(allocated/n/(1<<20), "allocated-MiB")
}

// startServe runs `wandb-lua serve args...` until the benchmark ends and
// returns the URL and admin key it prints.
func startServe(b *testing.B, bin string, args ...string) (url, key string) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, append([]string{"serve"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	for (url == "" || key == "") && sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "WANDB_BASE_URL="); ok {
			url = v
		}
		if v, ok := strings.CutPrefix(sc.Text(), "WANDB_API_KEY="); ok {
			key = v
		}
	}
	if url == "" || key == "" {
		b.Fatal("wandb-lua serve did not print its URL and key")
	}
	go func() { _, _ = bufio.NewReader(stdout).WriteTo(devNull{}) }()
	return url, key
}

type devNull struct{}

func (devNull) Write(p []byte) (int, error) { return len(p), nil }

// heapBytes is the heap's current occupancy: live objects and those not yet
// swept.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// sampleHeap samples heapBytes every 100µs until the returned function is
// called, which returns the highest value seen.
func sampleHeap() (stop func() uint64) {
	done := make(chan struct{})
	result := make(chan uint64)
	go func() {
		var top uint64
		t := time.NewTicker(100 * time.Microsecond)
		defer t.Stop()
		for {
			top = max(top, heapBytes())
			select {
			case <-done:
				result <- max(top, heapBytes())
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		return <-result
	}
}
