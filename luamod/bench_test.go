package luamod

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"runtime"
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
	L, _ := newState(b, newClient(b, srv.URL, srv.AdminKey()))
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

// echoState returns a module state (no client) with the global fetch(v): a
// network function whose op returns v at once, so that a benchmark
// measures the module's own cost of a call, not a request's.
func echoState(b *testing.B, opts lua.Options) *lua.LState {
	L, _ := newState(b, nil, opts)
	L.SetGlobal("fetch", L.NewFunction(func(L *lua.LState) int {
		v := L.Get(1)
		return netcall(L, func(context.Context) result {
			return func(*lua.LState) (lua.LValue, lua.LValue) { return v, lua.LNil }
		})
	}))
	return L
}

// benchOptions are the LState options the benchmarks compare: gopher-lua's
// defaults, and the small registry wandb-lua uses.
var benchOptions = []struct {
	name string
	opts lua.Options
}{
	{"default-options", lua.Options{}},
	{"small-registry", lua.Options{RegistrySize: 256, RegistryMaxSize: 1 << 20, MinimizeStackMemory: true}},
}

// BenchmarkParallelOverhead is wandb.parallel's own cost per item, with
// network calls that return at once: one handoff of the lock per item.
// "blocking" is the same call in the main chunk, for comparison.
func BenchmarkParallelOverhead(b *testing.B) {
	for _, o := range benchOptions {
		b.Run(o.name+"/blocking", func(b *testing.B) {
			L := echoState(b, o.opts)
			fn, err := L.LoadString(`local n = ... for i = 1, n do local v = fetch(i) end`)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			if err := L.CallByParam(lua.P{Fn: fn, Protect: true}, lua.LNumber(b.N)); err != nil {
				b.Fatal(err)
			}
		})
		for _, conc := range []int{16, 256} {
			b.Run(fmt.Sprintf("%s/parallel-c%d", o.name, conc), func(b *testing.B) {
				L := echoState(b, o.opts)
				fn, err := L.LoadString(`local n, c = ...
					local items = {} for i = 1, n do items[i] = i end
					collectgarbage()
					return function() wandb.parallel(items, function(x) return fetch(x) end, { concurrency = c }) end`)
				if err != nil {
					b.Fatal(err)
				}
				if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, lua.LNumber(b.N), lua.LNumber(conc)); err != nil {
					b.Fatal(err)
				}
				run := L.Get(-1)
				L.Pop(1)
				b.ReportAllocs()
				b.ResetTimer()
				if err := L.CallByParam(lua.P{Fn: run, Protect: true}); err != nil {
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
	L, _ := newState(b, newClient(b, srv.URL, srv.AdminKey()))
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
				req.SetBasicAuth("api", srv.AdminKey())
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
				req.SetBasicAuth("api", srv.AdminKey())
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

// BenchmarkParallelThread is the memory of one worker's thread, which each
// item running at once needs (a worker runs item after item in it): one
// iteration is a parallel call over 64 items at concurrency 64. Threads
// take the main LState's Options, so they are the embedder's to choose.
func BenchmarkParallelThread(b *testing.B) {
	const n = 64
	for _, o := range benchOptions {
		b.Run(o.name, func(b *testing.B) {
			L := echoState(b, o.opts)
			fn, err := L.LoadString(fmt.Sprintf(`local items = {} for i = 1, %d do items[i] = i end
				return function() wandb.parallel(items, function(x) return fetch(x) end, { concurrency = %d }) end`, n, n))
			if err != nil {
				b.Fatal(err)
			}
			if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}); err != nil {
				b.Fatal(err)
			}
			run := L.Get(-1)
			L.Pop(1)
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			before := ms.TotalAlloc
			b.ResetTimer()
			for range b.N {
				if err := L.CallByParam(lua.P{Fn: run, Protect: true}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.TotalAlloc-before)/float64(b.N)/n/1024, "KiB/thread")
		})
	}
}

// BenchmarkParallelIndexLatency is a script whose 16 items each make a
// request from inside an __index metamethod, against a server that adds
// 200 ms to every request, at concurrency 16: one iteration is the whole
// parallel call, which takes about 200 ms when the requests overlap and
// 3.2 s when they block each other.
func BenchmarkParallelIndexLatency(b *testing.B) {
	srv := wandbtest.NewServer(wandbtest.WithLatency(200 * time.Millisecond))
	b.Cleanup(srv.Close)
	L, _ := newState(b, newClient(b, srv.URL, srv.AdminKey()))
	fn, err := L.LoadString(`
		local items = {} for i = 1, 16 do items[i] = i end
		local lazy = setmetatable({}, { __index = function(_, k) return assert(wandb.user("admin@example.com")).email .. k end })
		local r = wandb.parallel(items, function(i) return lazy[i] end, { concurrency = 16 })
		assert(#r == 16)`)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := L.CallByParam(lua.P{Fn: fn, Protect: true}); err != nil {
			b.Fatal(err)
		}
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
	L, _ := newState(b, newClient(b, srv.URL, srv.AdminKey()))
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
