// Package bytesize reads and writes sizes as people write them: the
// response size limit (wandb.Config.MaxResponseBytes,
// WANDB_MAX_RESPONSE_BYTES, wandb.api{max_response = ...} in Lua,
// wandb-lua's --max-response) and the messages about it.
package bytesize

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Parse parses a positive size: a number of bytes, or a number with the
// unit KiB, MiB or GiB (KB, MB and GB mean the same here; case and a space
// before the unit do not matter), e.g. "1048576", "64MiB", "1GiB". It
// reports false for anything else, zero and sizes that overflow an int64
// included.
func Parse(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	num := strings.TrimRightFunc(s, unicode.IsLetter)
	unit := strings.ToLower(strings.TrimSpace(s[len(num):]))
	shift := map[string]uint{"": 0, "b": 0, "kib": 10, "kb": 10, "mib": 20, "mb": 20, "gib": 30, "gb": 30}
	sh, ok := shift[unit]
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if !ok || err != nil || n <= 0 || n > math.MaxInt64>>sh {
		return 0, false
	}
	return n << sh, true
}

// Format writes n bytes for people: "8 MiB", "512 KiB", "100 bytes".
func Format(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Larger suggests a limit to replace limit with, written as Parse reads
// it: twice as much, in whole MiB, e.g. "512MiB", "2GiB".
func Larger(limit int64) string {
	mib := limit >> 19 // twice limit, in MiB, rounded up
	if limit&(1<<19-1) != 0 || mib == 0 {
		mib++
	}
	if mib%1024 == 0 {
		return fmt.Sprintf("%dGiB", mib/1024)
	}
	return fmt.Sprintf("%dMiB", mib)
}
