package wandb

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// A test server for tests inside a testing/synctest bubble. A goroutine
// blocked on a socket is not durably blocked, so a bubble's fake clock
// would never move while a client waited for wandbtest over loopback;
// here the client dials net.Pipe connections, whose other ends an
// http.Server serves with a wandbtest handler. Every goroutine involved
// (the client's, the transport's, the server's) belongs to the bubble and
// blocks on its channels, so the fake clock runs the client's timers
// (retry waits, attempt timeouts, deadlines) and the server's (latency,
// fault delays, trickled bodies) alike, and a test of them is exact and
// waits for nothing.

// pipeListener is a net.Listener whose connections its dial makes.
type pipeListener struct {
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// dial connects to the listener, as a transport's DialContext.
func (l *pipeListener) dial(ctx context.Context, network, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		err := errors.New("connection refused")
		return nil, &net.OpError{Op: "dial", Net: network, Addr: pipeAddr{}, Err: err}
	case <-ctx.Done():
		return nil, &net.OpError{Op: "dial", Net: network, Addr: pipeAddr{}, Err: ctx.Err()}
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "wandbtest.pipe" }

// bubbleServer starts a wandbtest handler with opts on an in-memory
// network; it must be called inside synctest.Test, and the server is closed
// when the bubble's test ends. It returns the server, whose Close and
// Client must not be used (the handler's methods and URL may), and the
// change to a Config that sends the client's requests to it: testClient(t,
// srv, viaPipe).
func bubbleServer(t *testing.T, opts ...wandbtest.Option) (srv *wandbtest.Server, viaPipe func(*Config)) {
	t.Helper()
	h, err := wandbtest.NewHandler(opts...)
	if err != nil {
		t.Fatal(err)
	}
	l := &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
	hs := &http.Server{Handler: h}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = hs.Serve(l)
	}()
	tr := &http.Transport{DialContext: l.dial}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		_ = hs.Close()
		<-served
	})
	hc := &http.Client{Transport: tr}
	return &wandbtest.Server{Handler: h, URL: "http://" + pipeAddr{}.String()},
		func(cfg *Config) { cfg.HTTPClient = hc }
}
