package wandb

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Khan/genqlient/graphql"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// BenchmarkGetViewer is one uncached viewer query round trip on loopback
// (the client's work plus wandbtest's handler).
func BenchmarkGetViewer(b *testing.B) {
	srv := wandbtest.Start(b)
	c, err := NewClient(Config{BaseURL: srv.URL, APIKey: NewSecret(srv.AdminKey())})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gql.GetViewer(ctx, c.gql("viewer")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateUser is one createUser mutation round trip on loopback.
func BenchmarkCreateUser(b *testing.B) {
	srv := wandbtest.Start(b)
	c, err := NewClient(Config{BaseURL: srv.URL, APIKey: NewSecret(srv.AdminKey())})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := c.CreateUser(ctx, fmt.Sprintf("bench%d@example.com", i), false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClientOnly measures the client's own share of a request: the
// server is a static handler answering with a canned viewer.
func BenchmarkClientOnly(b *testing.B) {
	body := []byte(`{"data":{"viewer":{"id":"VXNlcjox","name":"admin","username":"admin","email":"admin@example.com",` +
		`"admin":true,"flags":null,"entity":"admin","deletedAt":null,"apiKeys":{"edges":[{"node":{"id":"QXBpS2V5OjE=",` +
		`"name":"0123456789abcdef0123","description":null}}]},"teams":{"edges":[]}}}}`)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer hs.Close()
	c, err := NewClient(Config{BaseURL: hs.URL, APIKey: NewSecret(strings.Repeat("a", 40))})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gql.GetViewer(ctx, c.gql("viewer")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeUsers is the client's decoding alone of a SearchUsers
// answer listing 10,000 users (taken from wandbtest): from the body's
// bytes to the Users, with no network.
func BenchmarkDecodeUsers(b *testing.B) {
	body := rawSearchUsers(b, wandbtest.Start(b, wandbtest.WithSeed(wandbtest.ManyUsers(10000, "team-a"))), "")
	c := &Client{}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		list := &userList{c: c}
		if e := c.decode("users", 200, newBodyReader(bytes.NewReader(body), int64(len(body))), &graphql.Response{Data: list}); e != nil || len(list.users) != 10001 {
			b.Fatalf("%d users, %v", len(list.users), e)
		}
	}
}

// BenchmarkUsersWithStatus is UsersWithStatus("") on an instance of
// 50,000 users (wandbtest.ManyUsers, each with a standing) at 20 ms of
// latency per request: the search and six SCIM pages of up to 9,999
// users, joined. Reported: users/s. Also Users("") alone, for comparison.
func BenchmarkUsersWithStatus(b *testing.B) {
	const n = 50_000
	seed := wandbtest.ManyUsers(n, "team-a")
	for i := range seed.Users {
		seed.Users[i].CreatedAt = "2024-01-15T09:00:00Z"
		if i%3 != 0 {
			seed.Users[i].LastActiveAt = "2025-03-01T12:00:00Z"
			seed.Users[i].DaysActive = i % 400
		}
	}
	srv := wandbtest.Start(b, wandbtest.WithSeed(seed), wandbtest.WithLatency(20*time.Millisecond))
	c, err := NewClient(Config{BaseURL: srv.URL, APIKey: NewSecret(srv.AdminKey())})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Viewer(ctx); err != nil { // SCIM's Basic auth: the username, once
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		list func(context.Context, string) ([]*User, error)
	}{{"status", c.UsersWithStatus}, {"plain", c.Users}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				users, err := bc.list(ctx, "")
				if err != nil || len(users) != n+1 {
					b.Fatalf("%d users, %v", len(users), err)
				}
				if bc.name == "status" && users[n].OrgStatus == nil {
					b.Fatal("the last user has no standing")
				}
			}
			b.ReportMetric(float64(b.N*(n+1))/b.Elapsed().Seconds(), "users/s")
		})
	}
}
