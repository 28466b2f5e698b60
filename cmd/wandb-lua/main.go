// Command wandb-lua runs Lua scripts that administer W&B users and API
// keys, with the module "wandb" (package luamod) preloaded.
//
//	wandb-lua [options] script.lua [args...]
//	wandb-lua [options] -e 'chunk'
//	wandb-lua serve [--addr 127.0.0.1:8080] [--seed FILE] [--state FILE] [--latency D]
//
// The key comes from --api-key-file, WANDB_API_KEY or netrc; --local runs
// against an in-process test server instead. Run "wandb-lua --help" for
// the options. Exit status: 0 success, 1 the script raised an error, 2 a
// usage or configuration error, 124 stopped by --timeout, 130 interrupted
// (Ctrl-C), 143 terminated (SIGTERM).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The first Ctrl-C cancels the run: the request in flight stops and
	// the script ends. A second one exits at once.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	got := make(chan os.Signal, 1)
	go func() {
		s := <-sigs
		got <- s
		cancel()
		<-sigs
		os.Exit(exitCodeFor(s))
	}()

	code := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	select {
	case s := <-got:
		if code != exitOK {
			code = exitCodeFor(s)
		}
	default:
	}
	os.Exit(code)
}

// exitCodeFor returns the shell's exit status for a process ended by s.
func exitCodeFor(s os.Signal) int {
	if s == syscall.SIGTERM {
		return 128 + int(syscall.SIGTERM)
	}
	return exitInterrupted
}
