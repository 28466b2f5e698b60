package main

import (
	"io"
	"net"
	"net/http"
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

// TestServeStopLetsRequestsFinish: once serve is stopped it takes no new
// connection, a request in flight still gets its answer, and shutdown returns
// once it has (so the activity serve then saves includes it).
func TestServeStopLetsRequestsFinish(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	s, err := listen("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	}))
	if err != nil {
		t.Fatal(err)
	}
	answer := make(chan string, 1)
	go func() {
		resp, err := http.Get(s.url)
		if err != nil {
			answer <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answer <- string(b)
	}()
	<-entered
	closed := make(chan bool, 1)
	go func() { closed <- s.shutdown() }()
	waitFor(t, "the server to refuse new connections", func() bool {
		c, err := net.Dial("tcp", s.ln.Addr().String())
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case <-closed:
		t.Fatal("shutdown returned while a request was running")
	default:
	}
	close(release)
	if got := <-answer; got != "done" {
		t.Errorf("the request in flight got %q, want its answer", got)
	}
	if all := <-closed; !all {
		t.Error("shutdown reports requests cut off")
	}
}

// TestServeStopCutsOffLongRequests: a request still running shutdownGrace
// after serve is stopped is cut off (its context ends), and shutdown does
// not wait for it any longer.
func TestServeStopCutsOffLongRequests(t *testing.T) {
	t.Parallel()
	entered, ended := make(chan struct{}), make(chan struct{})
	s, err := listen("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
		close(ended)
	}))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		if resp, err := http.Get(s.url); err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	if all := s.shutdown(); all {
		t.Error("shutdown reports every request finished")
	}
	<-ended // the deadline of the test bounds it
}
