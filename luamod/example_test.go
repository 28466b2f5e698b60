package luamod_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/luamod"
	"github.com/wandb-lua/wandb-lua/wandb"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// Embedding the module in a Go program: preload it with a client, bound
// the run with a context, and read an error value a script raised.
func Example() {
	srv := wandbtest.NewServer() // a W&B-compatible server; use your W&B URL and key instead
	defer srv.Close()
	client, err := wandb.NewClient(wandb.Config{BaseURL: srv.URL, APIKey: wandb.NewSecret(srv.AdminKey())})
	if err != nil {
		log.Fatal(err)
	}

	L := lua.NewState()
	defer L.Close()
	L.PreloadModule("wandb", luamod.Loader(client))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	L.SetContext(ctx) // every request the script makes stops when ctx ends

	err = L.DoString(`
		local wandb = require("wandb")
		local me = assert(wandb.viewer())
		print(me, me.admin)

		local bob = assert(wandb.create_user("bob@example.com"))
		print(bob.username, #bob.api_keys)

		local u, err = wandb.user("nobody@example.com")
		print(u, err.code)
		assert(wandb.user("nobody@example.com")) -- raises err itself
	`)

	// WrapError makes the raised error value printable and reachable.
	err = luamod.WrapError(L, err)
	var we *wandb.Error
	if errors.As(err, &we) {
		fmt.Println("script failed:", we.Code, we.Op)
	}
	// Output:
	// <User admin@example.com>	true
	// bob	0
	// nil	not_found
	// script failed: not_found user
}

// Bulk work with wandb.parallel, and what a Go program sees when an item
// fails.
func ExampleWrapError() {
	srv := wandbtest.NewServer()
	defer srv.Close()
	client, err := wandb.NewClient(wandb.Config{BaseURL: srv.URL, APIKey: wandb.NewSecret(srv.AdminKey())})
	if err != nil {
		log.Fatal(err)
	}
	L := lua.NewState()
	defer L.Close()
	L.PreloadModule("wandb", luamod.Loader(client))

	err = L.DoString(`
		local wandb = require("wandb")
		local emails = { "a@example.com", "b@example.com", "a@example.com" }
		-- "collect": failures are returned, the other items go on
		local created, failures = wandb.parallel(emails, function(email)
			return assert(wandb.create_user(email)).username
		end, { concurrency = 1, on_error = "collect" })
		print(created[1], created[2], failures[1].index, failures[1].code)
		-- "raise" (the default): the first failure stops the run
		wandb.parallel(emails, function(email)
			return assert(wandb.create_user(email))
		end, { concurrency = 1 })
	`)
	var se *luamod.ScriptError
	if errors.As(luamod.WrapError(L, err), &se) {
		fmt.Println("item", se.Item, "failed:", se.Err.Code)
		fmt.Println(se.Value)
	}
	// Output:
	// a	b	3	conflict
	// item 1 failed: conflict
	// wandb.parallel: item 1: wandb: create_user: user with email a@example.com already exists (HTTP 409)
}

// Running a script you do not trust: a sandboxed, read-only state with a
// deadline. The script can read users but not change them, nor reach the
// environment, files or other servers.
func ExampleNewSandbox() {
	srv := wandbtest.NewServer()
	defer srv.Close()
	client, err := wandb.NewClient(wandb.Config{BaseURL: srv.URL, APIKey: wandb.NewSecret(srv.AdminKey())})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// What the script prints goes to Output; without one, nowhere.
	L := luamod.NewSandbox(ctx, luamod.SandboxOptions{Client: client, ReadOnly: true, Output: os.Stdout})
	defer L.Close()

	err = L.DoString(`
		print(wandb.viewer().email)
		local u, err = wandb.create_user("eve@example.com")
		print(u, err.code)
		print(os, io, rawget(wandb, "api"), rawget(wandb, "write_private"))
	`)
	fmt.Println("error:", err)
	// Output:
	// admin@example.com
	// nil	read_only
	// nil	nil	nil	nil
	// error: <nil>
}
