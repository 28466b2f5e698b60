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

	"github.com/Khan/genqlient/graphql"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// BenchmarkGetViewer is one uncached viewer query round trip on loopback
// (the client's work plus wandbtest's handler).
func BenchmarkGetViewer(b *testing.B) {
	srv := wandbtest.Start(b)
	c, err := NewClient(Config{BaseURL: srv.URL, APIKey: srv.AdminKey()})
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
	c, err := NewClient(Config{BaseURL: srv.URL, APIKey: srv.AdminKey()})
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
	c, err := NewClient(Config{BaseURL: hs.URL, APIKey: strings.Repeat("a", 40)})
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
