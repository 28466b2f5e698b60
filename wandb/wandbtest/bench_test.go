package wandbtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// BenchmarkViewer measures one GetViewer round trip on loopback, the server's
// share of every client benchmark.
func BenchmarkViewer(b *testing.B) {
	srv := wandbtest.Start(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := postErr(b.Context(), srv, call{key: srv.AdminKey(), query: gql.GetViewer_Operation}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearchUsers is the SDK's SearchUsers listing 10,000 and
// 200,000 users (each in one team) on loopback, the answer read and
// dropped: the server's share of users().
func BenchmarkSearchUsers(b *testing.B) {
	for _, n := range []int{10_000, 200_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			srv := wandbtest.Start(b, wandbtest.WithSeed(wandbtest.ManyUsers(n, "team-a")))
			benchSearchUsers(b, srv)
		})
	}
}

// benchSearchUsers lists every user of srv with the SDK's SearchUsers, as
// the admin, once per iteration.
func benchSearchUsers(b *testing.B, srv *wandbtest.Server) {
	body, err := json.Marshal(map[string]any{"query": gql.SearchUsers_Operation, "variables": map[string]any{"query": ""}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.SetBasicAuth("api", srv.AdminKey())
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", publicUA)
		resp, err := srv.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatal(resp.StatusCode, err)
		}
	}
}

// BenchmarkCreateUserWithState is one createUser mutation on loopback
// against a server of 50,000 users that keeps a state file: what saving
// one change costs at that size.
func BenchmarkCreateUserWithState(b *testing.B) {
	srv := wandbtest.Start(b, wandbtest.WithSeed(wandbtest.ManyUsers(50000)),
		wandbtest.WithStateFile(filepath.Join(b.TempDir(), "state.json")))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		r, err := postErr(b.Context(), srv, call{key: srv.AdminKey(), query: gql.CreateUserFromAdmin_Operation,
			vars: map[string]any{"email": fmt.Sprintf("new%d@example.com", i), "admin": false}})
		if err != nil || r.Status != http.StatusOK {
			b.Fatal(r.Status, err)
		}
	}
}

// BenchmarkSeed is NewHandler with a seed of many users: 200,000 in one
// team (wandbtest.ManyUsers), and 20,000 whose emails share a local part,
// so that every username is derived (alice, alice-2, ...).
func BenchmarkSeed(b *testing.B) {
	shared := wandbtest.Seed{}
	for i := range 20000 {
		shared.Users = append(shared.Users, wandbtest.SeedUser{Email: fmt.Sprintf("alice@d%d.example.com", i)})
	}
	for name, seed := range map[string]wandbtest.Seed{
		"200k-one-team":         wandbtest.ManyUsers(200000, "team-a"),
		"20k-shared-local-part": shared,
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := wandbtest.NewHandler(wandbtest.WithSeed(seed)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRestartWithState is what `wandb-lua serve --state` does when it
// starts on the state file of an instance of 50,000 users: NewHandler
// loads the file (compacting the journal line the last start appended),
// then the admin's key of the last run is replaced by a new one.
func BenchmarkRestartWithState(b *testing.B) {
	path := filepath.Join(b.TempDir(), "state.json")
	if _, err := wandbtest.NewHandler(wandbtest.WithSeed(wandbtest.ManyUsers(50000, "team-a")),
		wandbtest.WithStateFile(path)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		h, err := wandbtest.NewHandler(wandbtest.WithStateFile(path))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := h.RevokeAPIKeys(wandbtest.AdminEmail, "restart"); err != nil {
			b.Fatal(err)
		}
		if _, err := h.AddAPIKey(wandbtest.AdminEmail, "restart"); err != nil {
			b.Fatal(err)
		}
	}
}
