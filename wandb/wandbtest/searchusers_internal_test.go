package wandbtest

import (
	"os"
	"testing"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
)

// TestSDKSearchUsersDocuments checks which documents the handler answers
// itself: the SDK's, in its own layout and in genqlient's, and no other.
func TestSDKSearchUsersDocuments(t *testing.T) {
	t.Parallel()
	sdk, err := os.ReadFile("../../testdata/sdk/SearchUsers.graphql")
	if err != nil {
		t.Fatal(err)
	}
	for doc, want := range map[string]bool{
		string(sdk):                 true,
		gql.SearchUsers_Operation:   true,
		sdkSearchUsers:              true,
		gql.GetViewer_Operation:     false,
		"query SearchUsers { x }":   false,
		"not graphql":               false,
		string(sdk) + " query X{y}": false,
		"query SearchUsers($query: String) { users(query: $query) { edges { node { id } } } }": false,
	} {
		if got := isSDKSearchUsers(doc); got != want {
			t.Errorf("isSDKSearchUsers(%.60q) = %v, want %v", doc, got, want)
		}
	}
}
