package luamod_test

import (
	"context"
	"fmt"
	"log"
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
	client, err := wandb.NewClient(wandb.Config{BaseURL: srv.URL, APIKey: srv.AdminKey})
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

	// A raised error value reaches Go as the *wandb.Error.
	if ae, ok := err.(*lua.ApiError); ok {
		if ud, ok := ae.Object.(*lua.LUserData); ok {
			if we, ok := ud.Value.(*wandb.Error); ok {
				fmt.Println("script failed:", we.Code, we.Op)
			}
		}
	}
	// Output:
	// <User admin@example.com>	true
	// bob	0
	// nil	not_found
	// script failed: not_found user
}
