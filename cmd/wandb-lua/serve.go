package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// serveKeyDescription describes the admin keys serve mints after a
// restart.
const serveKeyDescription = "wandb-lua serve"

// defaultServeAddr is where serve listens without --addr: loopback only,
// so a test server with a printed admin key is not reachable from other
// machines unless asked for.
const defaultServeAddr = "127.0.0.1:8080"

// serve runs "wandb-lua serve": a wandbtest server standing alone until
// ctx ends (Ctrl-C), printing its URL and an admin key.
func serve(ctx context.Context, args []string, std stdio) error {
	fs := flag.NewFlagSet("wandb-lua serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", defaultServeAddr, "")
	seedFile := fs.String("seed", "", "")
	stateFile := fs.String("state", "", "")
	var latency time.Duration
	fs.Var(durationFlag{&latency}, "latency", "")
	help := fs.Bool("help", false, "")
	fs.BoolVar(help, "h", false, "")
	if err := fs.Parse(args); err != nil {
		return usagef("serve: %v", flagError(err))
	}
	if *help {
		fmt.Fprint(std.out, usage)
		return nil
	}
	if fs.NArg() > 0 {
		return usagef("serve: unexpected argument %q", fs.Arg(0))
	}

	// A seed given with a state file that exists is merged into it (see
	// wandbtest.WithSeed): say so, since the seed is not applied whole.
	merged := false
	if *seedFile != "" && *stateFile != "" {
		_, err := os.Stat(*stateFile)
		merged = err == nil
	}
	var opts []wandbtest.Option
	if *seedFile != "" {
		seed, err := wandbtest.LoadSeed(*seedFile)
		if err != nil {
			return usagef("serve: --seed: %v", err)
		}
		opts = append(opts, wandbtest.WithSeed(seed))
	}
	if *stateFile != "" {
		opts = append(opts, wandbtest.WithStateFile(*stateFile))
	}
	if latency > 0 {
		opts = append(opts, wandbtest.WithLatency(latency))
	}
	h, err := wandbtest.NewHandler(opts...)
	if err != nil {
		return usagef("serve: %v", err)
	}
	key := h.AdminKey()
	if key == "" {
		// Restored from --state, which keeps only hashes of secrets: mint
		// an admin key for this run, in place of the one the last run
		// minted (whose secret is gone with it), so restarts do not pile
		// keys up. A key that stays the same: a seed's known secret.
		if _, err := h.RevokeAPIKeys(wandbtest.AdminEmail, serveKeyDescription); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		if key, err = h.AddAPIKey(wandbtest.AdminEmail, serveKeyDescription); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}
	srv, err := listen(*addr, h)
	if err != nil {
		return usagef("serve: %v", err)
	}
	if !isLoopback(srv.ln.Addr()) {
		fmt.Fprintf(std.err, "wandb-lua serve: warning: listening on %s, reachable from other machines, without TLS\n", srv.ln.Addr())
	}
	// The banner on stderr; on stdout only lines a shell can source.
	if merged {
		fmt.Fprintf(std.err, "wandb-lua serve: merged %s into %s: its users and teams the state did not have were added; the others are as the state keeps them\n",
			*seedFile, *stateFile)
	}
	fmt.Fprintf(std.err, "wandb-lua serve: a W&B-compatible test server on %s; Ctrl-C stops it\n", srv.url)
	fmt.Fprintf(std.out, "export WANDB_BASE_URL=%s\n", shellQuote(srv.url))
	fmt.Fprintf(std.out, "export WANDB_API_KEY=%s\n", shellQuote(key))

	var stopped error
	select {
	case <-ctx.Done():
	case err := <-srv.done:
		stopped = fmt.Errorf("serve: %w", err)
	}
	// Save the last activity (who was active when) the state file does
	// not hold yet, once the requests in flight have finished. One still
	// running after shutdownGrace is cut off and may still be ending: its
	// activity may miss the file.
	srv.shutdown()
	if err := h.Flush(); err != nil && stopped == nil {
		stopped = fmt.Errorf("serve: %w", err)
	}
	return stopped
}

// server is an HTTP server on a listener.
type server struct {
	ln   net.Listener
	url  string
	srv  *http.Server
	done chan error // receives the error that ended Serve
}

// listen starts serving h on addr.
func listen(addr string, h http.Handler) (*server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &server{
		ln:   ln,
		url:  "http://" + ln.Addr().String(),
		srv:  &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second},
		done: make(chan error, 1),
	}
	go func() {
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.done <- err
		}
	}()
	return s, nil
}

// shutdownGrace is how long a stopped serve lets the requests in flight
// finish, so that their answers and the activity they record are not
// lost; a request that waits longer (--latency) is cut off.
const shutdownGrace = time.Second

// shutdown stops the server: it takes no new connection, and waits up to
// shutdownGrace for the requests in flight to finish. Those still running
// then are cut off, as close does, without waiting for them. It reports
// whether every request had finished.
func (s *server) shutdown() bool {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if s.srv.Shutdown(ctx) == nil {
		return true
	}
	s.close()
	return false
}

// close stops the server at once, ending requests in flight (their
// contexts end, so waits such as --latency stop at once): --local's
// server, whose run is over, has nothing to save.
func (s *server) close() {
	_ = s.srv.Close()
}

// isLoopback reports whether a is a loopback address.
func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// shellQuote returns s as a POSIX shell word: as it is when it has only
// characters no shell treats specially, else in single quotes.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:/._-@+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
