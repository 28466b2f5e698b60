package wandbtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// TestConcurrentRequests runs every operation from many goroutines at once,
// with the helpers called alongside; -race checks the locking, the counts
// check that no change was lost.
func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithStateFile(filepath.Join(t.TempDir(), "state.json")))
	const workers, rounds = 8, 5
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				if err := exercise(srv, fmt.Sprintf("user-%d-%d@example.com", w, i), fmt.Sprintf("team-%d", i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	users := srv.Users()
	if len(users) != 1+workers*rounds {
		t.Fatalf("%d users, want %d", len(users), 1+workers*rounds)
	}
	for _, u := range users[1:] {
		if len(u.Keys) != 1 || u.Keys[0].Description != "helper" || len(u.Teams) != 1 {
			t.Errorf("%s: keys %+v teams %v, want the helper key and one team", u.Email, u.Keys, u.Teams)
		}
	}
	for _, op := range []string{"CreateUserFromAdmin", "GenerateApiKey", "GetViewer", "DeleteApiKey", "SearchUsers"} {
		if got := srv.Requests(op); got != workers*rounds {
			t.Errorf("Requests(%s) = %d, want %d", op, got, workers*rounds)
		}
	}
	if got := srv.MaxInFlight(); got < 1 || got > workers {
		t.Errorf("MaxInFlight = %d, want between 1 and %d", got, workers)
	}
	if got := srv.PendingFaults("NoSuchOperation"); got != workers*rounds {
		t.Errorf("PendingFaults = %d, want %d", got, workers*rounds)
	}
}

// exercise runs one round of every operation for a new user; it returns an
// error instead of failing the test, as it runs off the test's goroutine.
func exercise(srv *wandbtest.Server, email, team string) error {
	ctx := context.Background()
	send := func(key, query string, vars map[string]any, into any) error {
		r, err := postErr(ctx, srv, call{key: key, query: query, vars: vars})
		if err != nil {
			return err
		}
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			return fmt.Errorf("%s for %s: HTTP %d %s", query[:20], email, r.Status, r.shown())
		}
		if into == nil {
			return nil
		}
		return json.Unmarshal(r.Data, into)
	}
	if err := send(srv.AdminKey(), gql.CreateUserFromAdmin_Operation, map[string]any{"email": email, "admin": false}, nil); err != nil {
		return err
	}
	key, err := srv.AddAPIKey(email, "helper")
	if err != nil {
		return err
	}
	var gen struct{ Result struct{ APIKey keyJSON } }
	if err := send(key, gql.GenerateApiKey_Operation, map[string]any{"description": "mine"}, &gen); err != nil {
		return err
	}
	k := gen.Result.APIKey
	var v struct{ Viewer userJSON }
	if err := send(k.Name, gql.GetViewer_Operation, nil, &v); err != nil {
		return err
	}
	if *v.Viewer.Email != email || len(v.Viewer.keyNames()) != 2 {
		return fmt.Errorf("viewer of %s: %s with %d keys", email, *v.Viewer.Email, len(v.Viewer.keyNames()))
	}
	if err := send(k.Name, gql.DeleteApiKey_Operation, map[string]any{"id": k.ID}, nil); err != nil {
		return err
	}
	if err := send(srv.AdminKey(), gql.SearchUsers_Operation, map[string]any{"query": "user-"}, nil); err != nil {
		return err
	}
	if err := srv.AddTeam(team, email); err != nil {
		return err
	}
	srv.UserByEmail(email)
	srv.Requests("GetViewer")
	srv.LastRequest("")
	srv.FailNext("NoSuchOperation", wandbtest.Fault{Status: 500})
	return nil
}
