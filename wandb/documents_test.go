package wandb

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"
)

// TestDocumentsAreTheSDKs runs every operation and checks that the document
// the server received is the one the W&B SDK sends (testdata/sdk, copied
// from the SDK's operations.py): the same operation name, variables and
// their types, aliases, arguments and selections, and the same fragments.
// Only layout (white space, line breaks, the order of fragment
// definitions) may differ.
func TestDocumentsAreTheSDKs(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	c := testClient(t, srv)
	ctx := context.Background()
	mustDo := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	me, err := c.Viewer(ctx)
	mustDo(err)
	_, err = c.User(ctx, "alice")
	mustDo(err)
	_, err = c.CreateUser(ctx, "new@example.com", false)
	mustDo(err)
	secret, err := me.GenerateAPIKey(ctx, "docs")
	mustDo(err)
	mustDo(me.DeleteAPIKey(ctx, listedKeyName(secret)))
	team, err := c.CreateTeam(ctx, "docs", "")
	mustDo(err)
	inv, err := team.Invite(ctx, ByEmail("x@example.org"), false)
	mustDo(err)
	mustDo(inv.Delete(ctx))
	_, err = team.CreateServiceAccount(ctx, "docs bot")
	mustDo(err)

	files, err := filepath.Glob("../testdata/sdk/*.graphql")
	if err != nil || len(files) != 10 {
		t.Fatalf("found %d SDK documents (%v), want 10", len(files), err)
	}
	for _, f := range files {
		op := strings.TrimSuffix(filepath.Base(f), ".graphql")
		t.Run(op, func(t *testing.T) {
			sdk, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			req, ok := srv.LastRequest(op)
			if !ok {
				t.Fatalf("%s was never sent", op)
			}
			want, got := canonical(t, string(sdk)), canonical(t, req.Query)
			if want != got {
				t.Errorf("sent document differs from the SDK's:\nSDK:\n%s\nsent:\n%s", want, got)
			}
		})
	}
}

// canonical formats a GraphQL document in a fixed layout: its operations in
// order, then its fragments sorted by name.
func canonical(t *testing.T, doc string) string {
	t.Helper()
	parsed, err := parser.ParseQuery(&ast.Source{Input: doc})
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, doc)
	}
	frags := slices.Clone(parsed.Fragments)
	slices.SortFunc(frags, func(a, b *ast.FragmentDefinition) int { return strings.Compare(a.Name, b.Name) })
	var buf bytes.Buffer
	formatter.NewFormatter(&buf).FormatQueryDocument(&ast.QueryDocument{Operations: parsed.Operations, Fragments: frags})
	return buf.String()
}
