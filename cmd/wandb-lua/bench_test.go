package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// Benchmarks of the program as a whole, for BENCHMARKS.md. They run only
// with -bench, on the binary TestMain builds.

// BenchmarkStartup is the wall time of `wandb-lua -e 'return'` (a process
// that starts, sets up the module and runs an empty chunk) and reports the
// binary's size.
func BenchmarkStartup(b *testing.B) {
	bin := binary
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
	url, key, _ := startServe(b, "--seed", seedFile)
	client, err := wandb.NewClient(wandb.Config{BaseURL: url, APIKey: key})
	if err != nil {
		b.Fatal(err)
	}
	L := newState(client, nil) // the state wandb-lua runs scripts in
	b.Cleanup(L.Close)
	fn, err := L.LoadString(`held = assert(require("wandb").users("user")) assert(#held == ` + fmt.Sprint(usersSeed) + `)`)
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
