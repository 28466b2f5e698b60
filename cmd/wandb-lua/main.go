// Command wandb-lua runs Lua scripts that administer W&B users and API
// keys, with the module "wandb" (package luamod) preloaded.
//
//	wandb-lua [options] script.lua [args...]
//	wandb-lua [options] -e 'chunk'
//	wandb-lua [options]                 (an interactive prompt, on a terminal)
//	wandb-lua serve [--addr 127.0.0.1:8080] [--seed FILE] [--state FILE] [--latency D]
//
// The credentials come from --api-key-file, WANDB_API_KEY,
// WANDB_IDENTITY_TOKEN_FILE or netrc, as the W&B SDK reads them; --local
// runs against an in-process test server instead. Run "wandb-lua --help" for
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
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	os.Exit(run(context.Background(), os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr, signals: sigs}))
}
