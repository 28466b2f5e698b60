package main

import (
	"net"
	"strings"
	"testing"
)

// TestServeDefaultsToLoopback checks serve's default address without
// binding it (port 8080 may be taken): its host is a loopback IP, and the
// help text states it.
func TestServeDefaultsToLoopback(t *testing.T) {
	t.Parallel()
	host, _, err := net.SplitHostPort(defaultServeAddr)
	if err != nil {
		t.Fatal(err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		t.Errorf("serve listens on %q by default, want a loopback IP", defaultServeAddr)
	}
	if want := "(default " + defaultServeAddr + ", loopback only)"; !strings.Contains(usage, want) {
		t.Errorf("the help text does not say %q", want)
	}
}
