package main

// usage is the --help text. luamod/README.md shows it verbatim (a test
// keeps the two identical).
const usage = `wandb-lua runs Lua scripts that manage W&B users and API keys.

Usage:
  wandb-lua [options] script.lua [args...]   run a script (- reads it from stdin)
  wandb-lua [options] -e 'chunk'             run a string of Lua
  wandb-lua [options]                        an interactive prompt (on a terminal)
  wandb-lua serve [serve options]            run a W&B-compatible test server
  wandb-lua defs                             print the module's definitions for editors (LuaLS)

Options:
  -e chunk             run chunk before the script (may be repeated)
  -i                   after the script and chunks, start the prompt
  --base-url URL       the W&B server (default: $WANDB_BASE_URL, else the SDK's
                       settings files, else https://api.wandb.ai)
  --api-key-file PATH  read the API key from PATH (default: $WANDB_API_KEY or
                       $WANDB_IDENTITY_TOKEN_FILE, else netrc)
  --local              run against an in-process test server, as its admin
  --seed FILE          with --local: add the users, keys and teams in FILE (JSON)
  --latency DURATION   with --local: delay every request by DURATION
  --timeout DURATION   stop the run after DURATION (e.g. 30s, 10m)
  --dry-run            send no change: print each planned change to stderr,
                       and let the script run on as if it had succeeded
  --read-only          refuse every change before it is sent; queries work
  --audit FILE         append JSON lines to FILE recording each change: one
                       before it is sent, one with its outcome
  --max-response SIZE  the largest answer to read, e.g. 1GiB (default:
                       $WANDB_MAX_RESPONSE_BYTES, else 256MiB)
  --max-in-flight N    send at most N requests at once, however wandb.parallel
                       calls nest (default: $WANDB_MAX_IN_FLIGHT, else 64)
  --max-string SIZE    the longest string the script may build, e.g. 1GiB
                       (default 256MiB)
  -q, --quiet          no progress line from wandb.parallel, and no notice
                       of a long wait to retry, on a terminal
  -v, --verbose        log each retry and its reason, and each check of a
                       change's outcome, to stderr; show a traceback for
                       every failure
  --version            print the version
  -h, --help           print this help

Serve options:
  --addr HOST:PORT     where to listen (default 127.0.0.1:8080, loopback only)
  --seed FILE          add the users, keys and teams in FILE (JSON); with a
                       --state FILE that exists, only those not in it
  --state FILE         keep the server's data in FILE across restarts
  --latency DURATION   delay every request by DURATION (e.g. 50ms)

A key is never taken on the command line. Scripts find their arguments in
the global table arg (arg[0] is the script) and load the module with
require("wandb"); -e chunks and the prompt find it as the global wandb.

Example:
  wandb-lua --local scripts/examples/quickstart.lua
  wandb-lua --local --seed testdata/seed.json scripts/examples/key_audit.lua example.com

Exit status: 0 success, 1 the script raised an error, 2 usage or
configuration error, 124 stopped by --timeout, 130 interrupted (Ctrl-C),
143 terminated (SIGTERM).
`
