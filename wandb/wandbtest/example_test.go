package wandbtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// ExampleNewServer starts a server, adds a user and queries it over HTTP as
// a W&B client would: a POST to /graphql with HTTP Basic auth.
func ExampleNewServer() {
	srv := wandbtest.NewServer()
	defer srv.Close()

	if _, err := srv.AddUser(wandbtest.SeedUser{Email: "alice@example.com", Teams: []string{"ml"}}); err != nil {
		panic(err)
	}
	key, err := srv.AddAPIKey("alice@example.com", "laptop")
	if err != nil {
		panic(err)
	}

	body, _ := json.Marshal(map[string]any{
		"query":         `query GetViewer { viewer { username email admin teams { edges { node { name } } } } }`,
		"operationName": "",
	})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("api", key)
	resp, err := srv.Client().Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)

	fmt.Println(resp.StatusCode)
	fmt.Println(string(out))
	fmt.Println(srv.Requests("GetViewer"))
	// Output:
	// 200
	// {"data":{"viewer":{"username":"alice","email":"alice@example.com","admin":false,"teams":{"edges":[{"node":{"name":"alice"}},{"node":{"name":"ml"}}]}}}}
	// 1
}
