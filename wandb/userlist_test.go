package wandb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/Khan/genqlient/graphql"
	"github.com/google/go-cmp/cmp"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// shownUser is what a test compares of a User.
type shownUser struct {
	ID, Name                           string
	Username, Email, Entity, DeletedAt *string
	Admin                              *bool
	Loaded                             bool
	Keys                               []APIKey
	Teams                              []string
}

func show(users []*User) []shownUser {
	out := []shownUser{}
	for _, u := range users {
		out = append(out, shownUser{ID: u.ID, Name: u.Name, Username: u.Username, Email: u.Email, Entity: u.Entity,
			DeletedAt: u.DeletedAt, Admin: u.Admin, Loaded: u.loaded, Keys: u.APIKeys(), Teams: u.Teams()})
	}
	return out
}

// streamUsers decodes a SearchUsers answer as the client does, read in
// pieces of chunk bytes.
func streamUsers(c *Client, body []byte, chunk int) ([]*User, *Error) {
	list := &userList{c: c}
	r := io.Reader(bytes.NewReader(body))
	if chunk > 0 {
		r = &chunkReader{data: body, n: chunk}
	}
	err := c.decode("users", 200, newBodyReader(r, 1<<30), &graphql.Response{Data: list})
	return dedupUsers(list.users), err
}

// chunkReader returns data n bytes at a time.
type chunkReader struct {
	data []byte
	n    int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.n)], r.data)
	r.data = r.data[n:]
	return n, nil
}

// referenceUsers decodes a SearchUsers answer with encoding/json into
// genqlient's generated types, as the client did before it streamed.
func referenceUsers(c *Client, body []byte) ([]*User, error) {
	var resp struct {
		Data *gql.SearchUsersResponse `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, err
	}
	var users []*User
	seen := map[string]bool{}
	if resp.Data != nil && resp.Data.Users != nil {
		for _, e := range resp.Data.Users.Edges {
			if e.Node == nil || e.Node.Id == "" || seen[e.Node.Id] {
				continue // a node without an id is left out, as searchUsers does
			}
			seen[e.Node.Id] = true
			users = append(users, newUser(c, &e.Node.UserFragment))
		}
	}
	return users, nil
}

// userListBodies are SearchUsers answers of every shape the decoder must
// take: nulls at each level, unknown fields, escapes, duplicates.
var userListBodies = []string{
	`{"data":{"users":{"edges":[]}}}`,
	`{"data":{"users":null}}`,
	`{"data":null}`,
	`{"data":{}}`,
	`{"data":{"users":{"edges":null}}}`,
	`{"data":{"users":{"edges":[{"node":null},{}]}}}`,
	`{"data":{"users":{"edges":[{"node":{"id":"VXNlcjox","name":"Ann","username":"ann","email":"ann@example.com","admin":true,` +
		`"flags":null,"entity":"ann","deletedAt":null,"apiKeys":{"edges":[{"node":{"id":"QXBpS2V5OjE=","name":"0123456789abcdef0123",` +
		`"description":"laptop"}},{"node":{"id":"QXBpS2V5OjI=","name":"k2","description":null}},{"node":null}]},` +
		`"teams":{"edges":[{"node":{"name":"ml"}},{"node":null},{"node":{"name":"ops"}}]}}}]}}}`,
	`{"data":{"users":{"edges":[{"node":{"id":"1","name":"A","apiKeys":null,"teams":null}},{"node":{"id":"1","name":"dup"}},` +
		`{"node":{"id":"2","name":"B","apiKeys":{"edges":[]},"teams":{"edges":[]}}}]}}}`,
	`{"extensions":{"x":1},"data":{"x":[1,{"a":"b"}],"users":{"total":3,"edges":[{"cursor":"c1","node":{"id":"3",` +
		`"name":"Zo\u00eb \"Z\" \\ \/ \b\f\n\r\t \ud83d\ude00 \ud800 \u0000 caf\u00e9","extra":{"deep":[[[]]]},"username":"zo\u00eb",` +
		`"email":"z@example.com","entity":"other","admin":false,"deletedAt":"2026-01-01T00:00:00Z"}}]},"more":null}}`,
	"{\"data\":{\"users\":{\"edges\":[{\"node\":{\"id\":\"4\",\"name\":\"bad \xff\xfe utf8 \xe2\x82\"}}]}}}",
	` { "data" : { "users" : { "edges" : [ { "node" : { "id" : "5" , "name" : "spaced" } } ] } } } `,
	`{"data":{"users":{"edges":[{"node":{"id":"6","name":"n","username":"same","entity":"same"}}]}}}`,
	`{"data":{"users":{"edges":[{"node":{"id":"7","name":"n","id":"8","admin":true,"admin":null,"username":"u","username":null}}]}}}`,
	// Own entities among the teams, as a real server lists them: the
	// username first (the SDK's order) or after the teams, in another
	// case, and as the last of a repeated key.
	`{"data":{"users":{"edges":[{"node":{"id":"9","username":"Bo","teams":{"edges":[{"node":{"name":"bo"}},{"node":{"name":"ml"}}]}}},` +
		`{"node":{"id":"10","username":"cy","teams":{"edges":[{"node":{"name":"ml"}},{"node":{"name":"cy"}}]}}},` +
		`{"node":{"id":"11","teams":{"edges":[{"node":{"name":"di"}},{"node":{"name":"ml"}}]},"username":"di"}},` +
		`{"node":{"id":"12","username":"ed","teams":{"edges":[{"node":{"name":"ml"},"node":{"name":"ed"}},{"node":{"name":"ed"},"node":{"name":"ops"}}]}}}]}}}`,
}

// TestUserListSharesTeamListsPastOwnEntities: users in the same teams
// share one list although a real server lists each one's own entity among
// them (which would make every list unique): at 200,000 users that is a
// third of the listing's memory and nearly half its time.
func TestUserListSharesTeamListsPastOwnEntities(t *testing.T) {
	t.Parallel()
	body := `{"data":{"users":{"edges":[` +
		`{"node":{"id":"1","username":"ann","teams":{"edges":[{"node":{"name":"ann"}},{"node":{"name":"ml"}}]}}},` +
		`{"node":{"id":"2","username":"bob","teams":{"edges":[{"node":{"name":"bob"}},{"node":{"name":"ml"}}]}}},` +
		`{"node":{"id":"3","username":"cy","teams":{"edges":[{"node":{"name":"ops"}},{"node":{"name":"cy"}}]}}},` +
		`{"node":{"id":"4","username":"di","teams":{"edges":[{"node":{"name":"ml"}},{"node":{"name":"di"}}]}}}]}}}`
	users, err := streamUsers(&Client{}, []byte(body), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 4 {
		t.Fatalf("%d users, want 4", len(users))
	}
	for i, want := range [][]string{{"ml"}, {"ml"}, {"ops"}, {"ml"}} {
		if d := cmp.Diff(want, users[i].Teams()); d != "" {
			t.Errorf("user %d's teams (-want +got):\n%s", i+1, d)
		}
	}
	if &users[0].teams[0] != &users[1].teams[0] || &users[0].teams[0] != &users[3].teams[0] {
		t.Error("users in the same teams do not share one team list")
	}
}

func TestUserListMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	c := &Client{}
	for _, body := range userListBodies {
		want, err := referenceUsers(c, []byte(body))
		if err != nil {
			t.Fatalf("reference: %v\n%s", err, body)
		}
		for _, chunk := range []int{0, 1, 7} {
			got, e := streamUsers(c, []byte(body), chunk)
			if e != nil {
				t.Fatalf("chunk %d: %v\n%s", chunk, e, body)
			}
			if d := cmp.Diff(show(want), show(got)); d != "" {
				t.Errorf("chunk %d: users differ from encoding/json's (-want +got):\n%s\n%s", chunk, d, body)
			}
		}
	}
}

func TestUserListErrors(t *testing.T) {
	t.Parallel()
	c := &Client{}
	for _, tc := range []struct{ body, want string }{
		{`{"data":{"users":{"edges":{}}}}`, "response data does not match the operation: users.edges is an object, not an array"},
		{`{"data":{"users":"x"}}`, "response data does not match the operation: users is a string, not an object"},
		{`{"data":{"users":{"edges":[{"node":{"id":1}}]}}}`, "response data does not match the operation: users.edges[].node.id is a number, not a string"},
		{`{"data":{"users":{"edges":[{"node":{"admin":"yes"}}]}}}`, "response data does not match the operation: users.edges[].node.admin is a string, not a boolean"},
		{`{"data":{"users":{"edges":[{"node":{"teams":{"edges":[{"node":{"name":[]}}]}}}]}}}`,
			"response data does not match the operation: users.edges[].node.teams.edges[].node.name is an array, not a string"},
		{`{"data":{"users":{"edges":[{"node":{"id":"1"}}`, "response is not a JSON object: " + `{"data":{"users":{"edges":[{"node":{"id":"1"}}`},
		{`{"data":{"users":{"edges":[{"node":{"id":"1",}}]}}}`, "response is not a JSON object: " + `{"data":{"users":{"edges":[{"node":{"id":"1",}}]}}}`},
		{`{"data":{"users":null}} x`, "response is not a JSON object: " + `{"data":{"users":null}} x`},
		{`{"errors":[{"message":"boom"}],"data":{"users":null}}`, "boom"},
	} {
		for _, chunk := range []int{0, 1} {
			_, e := streamUsers(c, []byte(tc.body), chunk)
			if e == nil || e.Message != tc.want {
				t.Errorf("chunk %d: %s: error %v, want %q", chunk, tc.body, e, tc.want)
			}
		}
	}
}

// FuzzUserList checks the streamed decoder against encoding/json on any
// input without duplicate or case-variant keys (where encoding/json
// merges or matches case-insensitively, which GraphQL answers never need):
// both fail, or both give the same users.
func FuzzUserList(f *testing.F) {
	for _, b := range userListBodies {
		f.Add([]byte(b))
	}
	c := &Client{}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !plainKeys(body) {
			return
		}
		want, wantErr := referenceUsers(c, body)
		got, gotErr := streamUsers(c, body, 3)
		if wantErr != nil || gotErr != nil {
			if (wantErr == nil) != (gotErr == nil) && !onlyEnvelope(wantErr, gotErr) {
				t.Fatalf("%q: encoding/json: %v; streamed: %v", body, wantErr, gotErr)
			}
			return
		}
		if d := cmp.Diff(show(want), show(got)); d != "" {
			t.Fatalf("%q: users differ (-want +got):\n%s", body, d)
		}
	})
}

// onlyEnvelope reports whether the streamed decoder failed on what the
// reference does not check: a body without "data", GraphQL errors, a
// backend error.
func onlyEnvelope(wantErr error, gotErr *Error) bool {
	return wantErr == nil && gotErr != nil && !strings.HasPrefix(gotErr.Message, "response is not a JSON object") &&
		!strings.HasPrefix(gotErr.Message, "response data does not match")
}

// plainKeys reports whether body is JSON in which no object repeats a key
// or has a key that matches one of the fragment's names in another case.
func plainKeys(body []byte) bool {
	names := map[string]bool{}
	for _, n := range []string{"data", "users", "edges", "node", "id", "name", "username", "email", "admin", "flags",
		"entity", "deletedAt", "apiKeys", "teams", "description", "errors", "error", "message", "detail", "extensions"} {
		names[strings.ToLower(n)] = true
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return true // not JSON: both must fail
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var walk func() bool
	walk = func() bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				kt, _ := dec.Token()
				k := kt.(string)
				lower := strings.ToLower(k)
				if seen[lower] || names[lower] && !names[k] && k != "deletedAt" && k != "apiKeys" {
					return false
				}
				if !strings.EqualFold(k, lower) || strings.ContainsFunc(k, func(r rune) bool { return r > 0x7f }) {
					return false // encoding/json folds some non-ASCII letters too
				}
				seen[lower] = true
				if !walk() {
					return false
				}
			}
			_, err = dec.Token()
		case json.Delim('['):
			for dec.More() {
				if !walk() {
					return false
				}
			}
			_, err = dec.Token()
		}
		return err == nil
	}
	return walk()
}

// seedVaried returns a seed with users of every kind the server lists:
// keys with and without descriptions, teams, admins, names that need
// escaping.
func seedVaried(n int) wandbtest.Seed {
	var seed wandbtest.Seed
	for i := range n {
		u := wandbtest.SeedUser{Email: fmt.Sprintf("user%04d@example.com", i), Name: fmt.Sprintf("Üser \"%d\"\t<%d>", i, i)}
		switch i % 4 {
		case 0:
			u.Keys = []wandbtest.SeedKey{{Description: "laptop"}, {}}
		case 1:
			u.Teams = []string{"ml", "ops"}
			u.Admin = true
		case 2:
			u.Username = fmt.Sprintf("named-%d", i)
		}
		seed.Users = append(seed.Users, u)
	}
	seed.Teams = []wandbtest.SeedTeam{{Name: "ml", ServiceAccounts: []wandbtest.SeedServiceAccount{{Description: "ci bot"}}}}
	return seed
}

// rawSearchUsers returns the server's SearchUsers answer for query, as
// sent.
func rawSearchUsers(t testing.TB, srv *wandbtest.Server, query string) []byte {
	t.Helper()
	req, err := json.Marshal(map[string]any{"query": gql.SearchUsers_Operation, "variables": map[string]any{"query": query}, "operationName": ""})
	if err != nil {
		t.Fatal(err)
	}
	hreq, err := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	hreq.SetBasicAuth("api", srv.AdminKey())
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("User-Agent", "W&B Public Client "+SDKVersion)
	resp, err := srv.Client().Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("HTTP %d, %v", resp.StatusCode, err)
	}
	return body
}

func TestUsersStreamedFromServer(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeed(seedVaried(200)))
	c := testClient(t, srv)
	got, err := c.Users(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	want, err := referenceUsers(c, rawSearchUsers(t, srv, ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(srv.Users()) {
		t.Errorf("listed %d users, the server has %d", len(got), len(srv.Users()))
	}
	if d := cmp.Diff(show(want), show(got)); d != "" {
		t.Errorf("users differ from encoding/json's (-want +got):\n%s", d)
	}
}

// TestUsersSizeLimit lists more users than the limit allows: the error says
// how large the limit is and which settings raise it; just above the
// answer's size the same call succeeds.
func TestUsersSizeLimit(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithSeed(seedVaried(300)))
	size := int64(len(rawSearchUsers(t, srv, "")))
	sent := srv.Requests("SearchUsers")
	c := testClient(t, srv, func(cfg *Config) { cfg.MaxResponseBytes = 32 << 10 })
	if size <= 32<<10 {
		t.Fatalf("the answer is %d bytes, too small for the test", size)
	}
	users, err := c.Users(context.Background(), "")
	e := asError(t, err, "users", CodeBadResponse)
	want := "the response is larger than the limit of 32 KiB and was cut off"
	if e.Message != want || e.Hint != HintMaxResponse || e.HintValue != "1MiB" || users != nil {
		t.Errorf("got %d users, message %q; want none and %q", len(users), e.Message, want)
	}
	if n := srv.Requests("SearchUsers") - sent; n != 1 {
		t.Errorf("an oversized answer was retried (%d attempts)", n)
	}
	for limit, ok := range map[int64]bool{size - 1: false, size: true} {
		c := testClient(t, srv, func(cfg *Config) { cfg.MaxResponseBytes = limit })
		users, err := c.Users(context.Background(), "")
		if ok != (err == nil) || ok && len(users) != len(srv.Users()) {
			t.Errorf("limit %d for an answer of %d bytes: %d users, %v", limit, size, len(users), err)
		}
	}
	// WithMaxResponseBytes raises the limit for a client of the same
	// identity; the original keeps its own.
	larger := c.WithMaxResponseBytes(size)
	if users, err := larger.Users(context.Background(), ""); err != nil || len(users) != len(srv.Users()) {
		t.Errorf("WithMaxResponseBytes(%d): %d users, %v", size, len(users), err)
	}
	if _, err := c.Users(context.Background(), ""); err == nil {
		t.Error("WithMaxResponseBytes changed the original client's limit")
	}
	if _, err := c.WithMaxResponseBytes(0).Users(context.Background(), ""); err != nil {
		t.Errorf("WithMaxResponseBytes(0), the default: %v", err)
	}
}

// TestUsersNeverHoldsTheBody lists users whose nodes carry a field the
// client skips, padding the answer to 16 MiB: streamed, the client
// allocates a small fraction of that (reading the body whole would take
// all of it at least once).
func TestUsersNeverHoldsTheBody(t *testing.T) {
	const users, pad = 1024, 16 << 10
	var body bytes.Buffer
	body.WriteString(`{"data":{"users":{"edges":[`)
	for i := range users {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"node":{"id":"%d","name":"u%d","padding":"%s"}}`, i, i, strings.Repeat("x", pad))
	}
	body.WriteString(`]}}}`)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body.Bytes())
	}))
	t.Cleanup(hs.Close)
	c, err := NewClient(Config{BaseURL: hs.URL, APIKey: NewSecret(strings.Repeat("a", 40)), Retry: fastRetry}) // the default limit
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	list, err := c.Users(context.Background(), "")
	runtime.ReadMemStats(&after)
	if err != nil || len(list) != users {
		t.Fatalf("%d users, %v", len(list), err)
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > uint64(body.Len()/4) {
		t.Errorf("listing allocated %d bytes for an answer of %d: the body is held, not streamed", allocated, body.Len())
	}
}
