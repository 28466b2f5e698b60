package main

import (
	"os"
	"os/exec"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
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
				b.Fatalf("%v: %s", err, masked(string(out)))
			}
		}
		b.ReportMetric(float64(fi.Size())/(1<<20), "binary-MiB")
	})
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
