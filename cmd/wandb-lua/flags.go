package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/bytesize"
)

// durationFlag is a flag.Value for a duration that must carry its unit:
// "--timeout 5" is refused with a hint instead of time.ParseDuration's
// bare "invalid duration".
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return errors.New("a duration needs a unit, e.g. " + s + "s or " + s + "m")
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("not a duration (e.g. 30s, 10m, 1h30m)")
	}
	if d < 0 {
		return errors.New("a duration must not be negative")
	}
	*f.d = d
	return nil
}

// sizeFlag is a flag.Value for a size as bytesize.Parse reads it:
// "--max-response 1GiB".
type sizeFlag struct{ n *int64 }

func (f sizeFlag) String() string {
	if f.n == nil {
		return ""
	}
	return strconv.FormatInt(*f.n, 10)
}

func (f sizeFlag) Set(s string) error {
	n, ok := bytesize.Parse(s)
	if !ok {
		return errors.New("not a size; use a number of bytes or e.g. 64MiB, 1GiB")
	}
	*f.n = n
	return nil
}

// requestsFlag is a flag.Value for a number of requests from 1 to max:
// "--max-in-flight 16".
type requestsFlag struct {
	n   *int
	max int
}

func (f requestsFlag) String() string {
	if f.n == nil {
		return ""
	}
	return strconv.Itoa(*f.n)
}

func (f requestsFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > f.max {
		return fmt.Errorf("not a number of requests; use a whole number from 1 to %d, e.g. 16", f.max)
	}
	*f.n = n
	return nil
}

// The flag package's messages for a value its flag refused, an unknown
// flag and a missing value.
var (
	badValueRE = regexp.MustCompile(`^invalid value "(.*)" for flag -(\S+): (.*)$`)
	unknownRE  = regexp.MustCompile(`^flag provided but not defined: -(\S+)$`)
	noValueRE  = regexp.MustCompile(`^flag needs an argument: -(\S+)$`)
)

// flagError turns an error of FlagSet.Parse into a usage error worded as
// the command line is written: `--timeout 5: a duration needs a unit, ...`
// rather than `invalid value "5" for flag -timeout: ...`.
func flagError(err error) error {
	msg := err.Error()
	if m := badValueRE.FindStringSubmatch(msg); m != nil {
		return usagef("%s %s: %s", dashed(m[2]), m[1], m[3])
	}
	if m := unknownRE.FindStringSubmatch(msg); m != nil {
		return usagef("unknown option %s", dashed(m[1]))
	}
	if m := noValueRE.FindStringSubmatch(msg); m != nil {
		return usagef("%s needs a value", dashed(m[1]))
	}
	return usagef("%s", msg)
}

// dashed writes the flag name as the help does: -e, --timeout.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}
