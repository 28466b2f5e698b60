package wandbtest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// Fuzz targets. Their seeds run as ordinary tests; run one for longer with
//
//	go test ./wandb/wandbtest -run '^$' -fuzz FuzzHandler -fuzztime 10m

// FuzzLoadSeed loads any bytes as a seed: no panic, and a seed that loads
// either starts a handler or is refused with an error.
func FuzzLoadSeed(f *testing.F) {
	b, err := os.ReadFile(exampleSeed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"users":[{"email":"a@b.c","username":"a","keys":[{"description":"d","secret":"` + strings.Repeat("k", 40) + `"}]}],"teams":[{"name":"t","admins":["a@b.c"],"invites":["x@y.z"],"service_accounts":[{"description":"ci"}]}]}`))
	f.Add([]byte(`{"users":[{"email":"a@b.c"},{"email":"A@B.C"}]}`))
	f.Add([]byte(`{"users":[{"email":""}]} trailing`))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "seed.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		seed, err := wandbtest.LoadSeed(path)
		if err != nil {
			return
		}
		h, err := wandbtest.NewHandler(wandbtest.WithSeed(seed))
		if err == nil && len(h.Users()) < 1 {
			t.Fatal("a handler without its admin")
		}
	})
}

// FuzzLoadState starts a handler from any bytes as its state file: no
// panic; a state that loads serves, and survives a save and a reload.
func FuzzLoadState(f *testing.F) {
	dir := f.TempDir()
	good := filepath.Join(dir, "state.json")
	h, err := wandbtest.NewHandler(wandbtest.WithSeedFile(exampleSeed), wandbtest.WithStateFile(good))
	if err != nil {
		f.Fatal(err)
	}
	if _, err := h.AddAPIKey("bob@example.com", "more"); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(good)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte(`{"version":4,"users":[]}`))
	f.Add([]byte(`{"version":3,"next_user":1,"next_key":1,"users":[{"id":5,"email":"a@b.c","keys":[{"id":9,"sha256":"x"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "state.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		h, err := wandbtest.NewHandler(wandbtest.WithStateFile(path))
		if err != nil {
			return
		}
		users := len(h.Users())
		if _, err := h.AddAPIKey(wandbtest.AdminEmail, "after load"); err != nil {
			t.Fatalf("a loaded state does not take a key: %v", err)
		}
		again, err := wandbtest.NewHandler(wandbtest.WithStateFile(path))
		if err != nil {
			t.Fatalf("a state this handler saved does not load: %v", err)
		}
		if n := len(again.Users()); n != users {
			t.Fatalf("%d users saved, %d loaded", users, n)
		}
	})
}

// FuzzHandler sends any request to the handler: no panic, a valid status,
// and a JSON body where the answer says JSON.
func FuzzHandler(f *testing.F) {
	for _, seed := range []struct{ method, path, body string }{
		{"POST", "/graphql", `{"query":"query GetViewer { viewer { id username email apiKeys { edges { node { id name } } } } }","variables":{},"operationName":""}`},
		{"POST", "/graphql", `{"query":"mutation CreateUserFromAdmin($email: String!, $admin: Boolean) { result: createUser(input: {email: $email, admin: $admin}) { user { id } } }","variables":{"email":"x@y.z","admin":true}}`},
		{"POST", "/graphql", `{"query":"{ users(query: \"a\") { edges { node { id } } } }"}`},
		{"POST", "/graphql", `not json`},
		{"GET", "/graphql", ``},
		{"GET", "/scim/Users?filter=userName%20eq%20%22alice%22", ``},
		{"PATCH", "/scim/Users/scim-u2", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`},
		{"DELETE", "/scim/Groups/scim-t1", ``},
		{"POST", "/oidc/token", `grant_type=x&assertion=y`},
	} {
		f.Add(seed.method, seed.path, []byte(seed.body))
	}
	h, err := wandbtest.NewHandler(wandbtest.WithSeedFile(exampleSeed))
	if err != nil {
		f.Fatal(err)
	}
	methods := []string{"GET", "POST", "PATCH", "PUT", "DELETE"}
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t\r\n#") || len(path) > 512 {
			path = "/graphql"
		}
		m := "POST"
		for _, x := range methods {
			if strings.EqualFold(x, method) {
				m = x
			}
		}
		req, err := http.NewRequest(m, "http://wandbtest"+path, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.SetBasicAuth("api", h.AdminKey())
		req.Header.Set("User-Agent", "W&B Public Client fuzz")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code < 100 || rec.Code > 599 {
			t.Fatalf("status %d", rec.Code)
		}
		if strings.Contains(rec.Header().Get("Content-Type"), "json") && rec.Body.Len() > 0 && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("invalid JSON answer: %q", rec.Body.String())
		}
	})
}
