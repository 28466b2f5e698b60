package wandb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/wandb-lua/wandb-lua/wandb"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// The admin flow: find a user, list their keys, delete one. The test server
// stands in for W&B; against a real instance, use ConfigFromEnv.
func Example() {
	srv := wandbtest.NewServer(wandbtest.WithSeed(wandbtest.Seed{Users: []wandbtest.SeedUser{{
		Email: "alice@example.com",
		Keys:  []wandbtest.SeedKey{{Description: "laptop"}, {Description: "old ci runner"}},
	}}}))
	defer srv.Close()

	client, err := wandb.NewClient(wandb.Config{BaseURL: srv.URL, APIKey: wandb.NewSecret(srv.AdminKey())})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	alice, err := client.User(ctx, "alice@example.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("found", alice)
	for _, k := range alice.APIKeys() {
		fmt.Printf("key %d chars: %s\n", len(k.Name), *k.Description)
	}

	for _, k := range alice.APIKeys() {
		if *k.Description == "old ci runner" {
			if err := alice.DeleteAPIKey(ctx, k.Name); err != nil {
				log.Fatal(err)
			}
		}
	}
	fmt.Println("keys left:", len(alice.APIKeys()))

	_, err = client.User(ctx, "mallory@example.com")
	fmt.Println("mallory not found:", errors.Is(err, wandb.ErrNotFound))
	// Output:
	// found <User alice@example.com>
	// key 20 chars: laptop
	// key 20 chars: old ci runner
	// keys left: 1
	// mallory not found: true
}

// A client from the environment, as the W&B SDK reads it: WANDB_API_KEY,
// WANDB_BASE_URL, then the netrc file.
func ExampleConfigFromEnv() {
	// For the example only; a program leaves the environment as it is.
	restore := setenv(map[string]string{
		"WANDB_API_KEY":  "0123456789abcdef0123456789abcdef01234567",
		"WANDB_BASE_URL": "https://wandb.example.com/",
	})
	defer restore()

	cfg, err := wandb.ConfigFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	client, err := wandb.NewClient(cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg) // never shows the key
	fmt.Println(client)
	// Output:
	// wandb.Config{BaseURL: "https://wandb.example.com", APIKey: set, KeySource: "WANDB_API_KEY"}
	// <wandb.Client https://wandb.example.com>
}

func setenv(vars map[string]string) (restore func()) {
	old := map[string]*string{}
	for k, v := range vars {
		if prev, ok := os.LookupEnv(k); ok {
			old[k] = &prev
		} else {
			old[k] = nil
		}
		os.Setenv(k, v)
	}
	return func() {
		for k, v := range old {
			if v == nil {
				os.Unsetenv(k)
			} else {
				os.Setenv(k, *v)
			}
		}
	}
}

// Keys are issued to the identity a client authenticates as: to give bob
// a key, use a client with bob's key.
func ExampleUser_GenerateAPIKey() {
	srv := wandbtest.NewServer(wandbtest.WithSeed(wandbtest.Seed{Users: []wandbtest.SeedUser{{Email: "bob@example.com"}}}))
	defer srv.Close()
	admin, err := wandb.NewClient(wandb.Config{BaseURL: srv.URL, APIKey: wandb.NewSecret(srv.AdminKey())})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	bob, err := admin.User(ctx, "bob")
	if err != nil {
		log.Fatal(err)
	}
	_, err = bob.GenerateAPIKey(ctx, "bob's laptop")
	fmt.Println(errors.Is(err, wandb.ErrInvalidArgument))

	me, err := admin.Viewer(ctx)
	if err != nil {
		log.Fatal(err)
	}
	secret, err := me.GenerateAPIKey(ctx, "ci runner")
	if err != nil {
		log.Fatal(err)
	}
	keys := me.APIKeys()
	last := keys[len(keys)-1]
	fmt.Println(len(secret), "character secret, listed as its first", len(last.Name), "characters:", *last.Description)
	// Output:
	// true
	// 40 character secret, listed as its first 20 characters: ci runner
}

// Errors carry a code, the HTTP status and the server's text.
func ExampleError() {
	srv := wandbtest.NewServer()
	defer srv.Close()
	client, err := wandb.NewClient(wandb.Config{BaseURL: srv.URL, APIKey: wandb.NewSecret(srv.AdminKey())})
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.CreateUser(context.Background(), wandbtest.AdminEmail, false)
	var e *wandb.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.Status, errors.Is(err, wandb.ErrConflict))
	}
	_, err = client.CreateUser(context.Background(), "not an email", false)
	fmt.Println(err)
	// Output:
	// conflict 409 true
	// wandb: create_user: invalid email address "not an email": want a bare address such as "name@example.com"
}

// Onboarding into a team: create it (the caller becomes its admin), invite
// a user by username and an address by email, add a service account, and
// withdraw an invite.
func ExampleTeam_Invite() {
	srv := wandbtest.NewServer(wandbtest.WithSeed(wandbtest.Seed{Users: []wandbtest.SeedUser{{Email: "bob@example.com"}}}))
	defer srv.Close()
	client, err := wandb.NewClient(wandb.Config{BaseURL: srv.URL, APIKey: wandb.NewSecret(srv.AdminKey())})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	team, err := client.CreateTeam(ctx, "vision", "")
	if err != nil {
		log.Fatal(err)
	}
	bob, err := team.Invite(ctx, wandb.ByUsername("bob"), true)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := team.Invite(ctx, wandb.ByEmail("erin@example.org"), false); err != nil {
		log.Fatal(err)
	}
	bot, err := team.CreateServiceAccount(ctx, "CI bot")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(bot, *bot.Pending)
	if err := bob.Delete(ctx); err != nil {
		log.Fatal(err)
	}
	for _, m := range team.Members() {
		fmt.Println(m, m.Email != nil, *m.Pending)
	}
	_, err = team.Invite(ctx, wandb.ByUsername("nobody"), false)
	fmt.Println("nobody:", errors.Is(err, wandb.ErrNotFound))
	// Output:
	// <Member CI bot (SERVICE)> false
	// <Member admin (USER)> true false
	// <Member CI bot (SERVICE)> false false
	// <Member erin@example.org (USER)> true true
	// nobody: true
}

// Offboarding over W&B's SCIM API: deactivate a user, take them out of a
// team, and see the result. The only active instance admin is never
// deactivated.
func ExampleUser_Deactivate() {
	srv := wandbtest.NewServer(wandbtest.WithSeed(wandbtest.Seed{
		Users: []wandbtest.SeedUser{{Email: "bob@example.com", Teams: []string{"ml"}}},
	}))
	defer srv.Close()
	client, err := wandb.NewClient(wandb.Config{BaseURL: srv.URL, APIKey: wandb.NewSecret(srv.AdminKey())})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	bob, err := client.User(ctx, "bob@example.com")
	if err != nil {
		log.Fatal(err)
	}
	if err := bob.Deactivate(ctx); err != nil {
		log.Fatal(err)
	}
	team, err := client.Team(ctx, "ml")
	if err != nil {
		log.Fatal(err)
	}
	if err := team.RemoveMember(ctx, bob); err != nil {
		log.Fatal(err)
	}
	st, err := bob.Status(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("bob active:", st.Active, "days active:", *st.DaysActive)

	me, err := client.Viewer(ctx)
	if err != nil {
		log.Fatal(err)
	}
	err = me.Deactivate(ctx)
	fmt.Println("last admin refused:", errors.Is(err, wandb.ErrLastAdmin))
	// Output:
	// bob active: false days active: 0
	// last admin refused: true
}

// A safe run: plan the changes with a dry run, then make them with an
// audit log that refuses further changes if it cannot be written.
func ExampleNewAuditLog() {
	srv := wandbtest.NewServer()
	defer srv.Close()
	ctx := context.Background()

	plan, err := wandb.NewClient(wandb.Config{BaseURL: srv.URL, APIKey: wandb.NewSecret(srv.AdminKey()), DryRun: true, DryRunOutput: os.Stdout})
	if err != nil {
		log.Fatal(err)
	}
	u, err := plan.CreateUser(ctx, "carol@example.com", false)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("simulated:", u.DryRun)

	var lines bytes.Buffer // a program would use OpenAuditLog(path)
	audit := wandb.NewAuditLog(&lines)
	client, err := wandb.NewClient(wandb.Config{BaseURL: srv.URL, APIKey: wandb.NewSecret(srv.AdminKey()),
		OnChange: audit.Record, BeforeChange: audit.Check})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.CreateUser(ctx, "carol@example.com", false); err != nil {
		log.Fatal(err)
	}
	// An intent line before the change was sent, an outcome line after.
	dec := json.NewDecoder(&lines)
	for dec.More() {
		var rec wandb.ChangeRecord
		if err := dec.Decode(&rec); err != nil {
			log.Fatal(err)
		}
		fmt.Println("recorded:", rec.Actor, rec.Op, rec.Target, rec.Outcome)
	}
	// Output:
	// dry-run: create_user carol@example.com admin=false
	// simulated: true
	// recorded: admin create_user carol@example.com pending
	// recorded: admin create_user carol@example.com ok
}
