package wandbtest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// SCIM lists page by RFC 7644's startIndex and count (assumed), unless
// WithSCIMPagingIgnored.

// listNames lists path (a SCIM list with its query) and returns the
// envelope's numbers and the resources' userName or displayName.
func listNames(t *testing.T, srv *wandbtest.Server, path string) (total, start, perPage int, names []string) {
	t.Helper()
	r := scim(t, srv, http.MethodGet, path, nil).want(t, http.StatusOK)
	var l struct {
		TotalResults, StartIndex, ItemsPerPage int
		Resources                              []struct{ UserName, DisplayName string }
	}
	if err := json.Unmarshal(r.Body, &l); err != nil {
		t.Fatal(err)
	}
	for _, res := range l.Resources {
		name := res.UserName // a user's; a group's is its displayName
		if name == "" {
			name = res.DisplayName
		}
		names = append(names, name)
	}
	return l.TotalResults, l.StartIndex, l.ItemsPerPage, names
}

func TestSCIMPaging(t *testing.T) {
	t.Parallel()
	seed := wandbtest.ManyUsers(4)
	seed.Teams = []wandbtest.SeedTeam{{Name: "t1"}, {Name: "t2"}, {Name: "t3"}}
	srv := wandbtest.Start(t, wandbtest.WithSeed(seed))
	ignoring := wandbtest.Start(t, wandbtest.WithSeed(seed), wandbtest.WithSCIMPagingIgnored())
	all := []string{"admin", "user000000", "user000001", "user000002", "user000003"}
	for _, tc := range []struct {
		query               string
		total, start, limit int
		want                []string
	}{
		{"", 5, 1, 9999, all},
		{"?startIndex=2&count=2", 5, 2, 2, all[1:3]},
		{"?startIndex=4", 5, 4, 9999, all[3:]},
		{"?count=1", 5, 1, 1, all[:1]},
		{"?startIndex=0&count=-3", 5, 1, 0, nil}, // RFC 7644: less than 1 is 1; negative is 0
		{"?startIndex=9&count=2", 5, 9, 2, nil},  // past the end
		{"?count=20000", 5, 1, 9999, all},        // at most W&B's 9,999
		{"?filter=userName%20eq%20%22admin%22&startIndex=2", 1, 2, 9999, nil},
	} {
		total, start, limit, names := listNames(t, srv, "/scim/Users"+tc.query)
		if total != tc.total || start != tc.start || limit != tc.limit || !cmp.Equal(names, tc.want) {
			t.Errorf("%q: total %d, startIndex %d, itemsPerPage %d, %v; want %d, %d, %d, %v",
				tc.query, total, start, limit, names, tc.total, tc.start, tc.limit, tc.want)
		}
		// WithSCIMPagingIgnored: the first page, whatever is asked.
		total, start, limit, names = listNames(t, ignoring, "/scim/Users"+tc.query)
		if wantAll := !strings.Contains(tc.query, "filter"); total != tc.total || start != 1 || limit != 9999 || (wantAll && !cmp.Equal(names, all)) {
			t.Errorf("paging ignored, %q: total %d, startIndex %d, itemsPerPage %d, %v", tc.query, total, start, limit, names)
		}
	}
	if _, start, _, names := listNames(t, srv, "/scim/Groups?startIndex=2&count=1"); start != 2 || !cmp.Equal(names, []string{"t2"}) {
		t.Errorf("groups, second page of one: startIndex %d, %v", start, names)
	}
	if _, start, _, names := listNames(t, ignoring, "/scim/Groups?startIndex=2&count=1"); start != 1 || len(names) != 3 {
		t.Errorf("groups, paging ignored: startIndex %d, %v", start, names)
	}
	for _, q := range []string{"startIndex=x", "count=1.5"} {
		scim(t, srv, http.MethodGet, "/scim/Users?"+q, nil).wantSCIMError(t, http.StatusBadRequest, "want an integer")
		scim(t, srv, http.MethodGet, "/scim/Groups?"+q, nil).wantSCIMError(t, http.StatusBadRequest, "want an integer")
	}
}

// TestSCIMPageLimit: an answer lists at most 9,999 users, as W&B
// documents; the rest are on the next page, unless paging is ignored.
func TestSCIMPageLimit(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("lists 10,000 users")
	}
	seed := wandbtest.ManyUsers(10_000)
	for _, opts := range [][]wandbtest.Option{nil, {wandbtest.WithSCIMPagingIgnored()}} {
		srv := wandbtest.Start(t, append(opts, wandbtest.WithSeed(seed))...)
		total, _, _, names := listNames(t, srv, "/scim/Users")
		if total != 10_001 || len(names) != 9999 {
			t.Errorf("first page: %d of %d users, want 9999 of 10001", len(names), total)
		}
		_, start, _, names := listNames(t, srv, "/scim/Users?startIndex=10000&count=9999")
		switch {
		case opts == nil && (start != 10_000 || !cmp.Equal(names, []string{"user009998", "user009999"})):
			t.Errorf("second page: startIndex %d, %v", start, names)
		case opts != nil && (start != 1 || len(names) != 9999 || names[0] != "admin"):
			t.Errorf("second page, paging ignored: startIndex %d, %d users from %s", start, len(names), names[0])
		}
	}
}
