package wandbtest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// TestPermissionErrors: every GraphQL permission failure answers as W&B's
// do (wandb/wandb#8609, #1239): an error "permission denied..." with
// extensions.code PERMISSION_ERROR, its path, and a null field; with the
// status WithPermissionErrorStatus chooses, 403 by default. Other errors
// carry no such code.
func TestPermissionErrors(t *testing.T) {
	t.Parallel()
	for _, status := range []int{0, http.StatusUnauthorized, http.StatusOK} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			var opts []wandbtest.Option
			want := http.StatusForbidden
			if status != 0 {
				opts, want = append(opts, wandbtest.WithPermissionErrorStatus(status)), status
			}
			srv := wandbtest.Start(t, opts...)
			aliceKey := addUser(t, srv, "alice@example.com", false)
			bobKey := addUser(t, srv, "bob@example.com", false)
			aliceKeyID := generateKey(t, srv, aliceKey, "x").ID
			createTeam(t, srv, aliceKey, "ml", nil).wantOK(t)
			for _, tc := range []struct {
				name  string
				r     result
				field string
			}{
				{"users", searchUsers(t, srv, bobKey, "a"), "users"},
				{"createUser", createUser(t, srv, bobKey, "new@example.com", false), "result"},
				{"deleteApiKey of another user's key", deleteKey(t, srv, bobKey, aliceKeyID), "result"},
				{"createTeam for someone else", createTeam(t, srv, bobKey, "other", "alice"), "result"},
				{"createInvite by a non-admin", invite(t, srv, bobKey, "ml", map[string]any{"email": "x@example.com"}), "result"},
			} {
				r := tc.r
				if r.Status != want || len(r.Errors) != 1 {
					t.Errorf("%s: HTTP %d, errors %v; want %d and one error", tc.name, r.Status, r.Errors, want)
					continue
				}
				e := r.Errors[0]
				if !strings.HasPrefix(e.Message, "permission denied") || e.Extensions["code"] != "PERMISSION_ERROR" ||
					len(e.Path) != 1 || e.Path[0] != tc.field {
					t.Errorf("%s: error %+v, want permission denied, PERMISSION_ERROR, path [%s]", tc.name, e, tc.field)
				}
				var data map[string]any
				r.decode(t, &data)
				if v, ok := data[tc.field]; !ok || v != nil {
					t.Errorf("%s: data %v, want %s: null", tc.name, data, tc.field)
				}
			}
			// Not a permission failure: no code, and not its status.
			r := deleteKey(t, srv, aliceKey, "QXBpS2V5Ojk5OQ==") // ApiKey:999
			if r.Status != http.StatusOK || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != nil {
				t.Errorf("deleteApiKey of no key: HTTP %d, errors %+v; want 200 and an error without a code", r.Status, r.Errors)
			}
		})
	}
}

func TestPermissionErrorStatusChecked(t *testing.T) {
	t.Parallel()
	for _, status := range []int{-1, 99, 600} {
		if _, err := wandbtest.NewHandler(wandbtest.WithPermissionErrorStatus(status)); err == nil {
			t.Errorf("WithPermissionErrorStatus(%d): NewHandler succeeded", status)
		}
	}
}

// TestUserSearchDenied: WithUserSearchDenied refuses users(...) to every
// caller, an instance admin included, as a permission failure, in the
// SDK's SearchUsers document and in any other.
func TestUserSearchDenied(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t, wandbtest.WithUserSearchDenied())
	for _, r := range []result{
		searchUsers(t, srv, srv.AdminKey(), ""),
		post(t, srv, call{key: srv.AdminKey(), query: `query Mine { users(query: "a") { edges { node { id } } } }`}),
	} {
		if r.Status != http.StatusForbidden || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "PERMISSION_ERROR" ||
			!strings.Contains(r.Errors[0].Message, "searching users is for local administrators only") {
			t.Errorf("HTTP %d, errors %+v", r.Status, r.Errors)
		}
	}
	viewer(t, srv, srv.AdminKey()) // the rest works
}
