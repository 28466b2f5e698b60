package bytesize

import (
	"math"
	"testing"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]int64{
		"1": 1, "1048576": 1 << 20, "64MiB": 64 << 20, "64 MiB": 64 << 20, " 1gib ": 1 << 30, "2GB": 2 << 30,
		"512kib": 512 << 10, "512KB": 512 << 10, "10b": 10, "8589934591GiB": 8589934591 << 30,
		"0": 0, "-1": 0, "": 0, "MiB": 0, "1.5GiB": 0, "1TiB": 0, "64 MiB x": 0, "8589934592GiB": 0, "9223372036854775808": 0,
	} {
		got, ok := Parse(in)
		if got != want || ok != (want > 0) {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
}

func TestLargerLimit(t *testing.T) {
	for limit, want := range map[int64]string{
		1: "1MiB", 64: "1MiB", 32 << 10: "1MiB", 512 << 10: "1MiB", 513 << 10: "2MiB", 8 << 20: "16MiB",
		256 << 20: "512MiB", 512 << 20: "1GiB", 1 << 30: "2GiB", 3 << 30: "6GiB", math.MaxInt64: "17179869184GiB",
	} {
		if got := Larger(limit); got != want {
			t.Errorf("Larger(%d) = %s, want %s", limit, got, want)
		}
		if n, ok := Parse(Larger(limit)); limit < math.MaxInt64/2 && (!ok || n < 2*limit) {
			t.Errorf("Larger(%d) = %s, which is not a size of at least twice the limit", limit, Larger(limit))
		}
	}
}

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{
		100: "100 bytes", 1 << 10: "1 KiB", 1536: "1536 bytes", 512 << 10: "512 KiB", 8 << 20: "8 MiB", 1 << 30: "1 GiB", 3 << 30: "3 GiB",
	} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %s, want %s", n, got, want)
		}
	}
}
