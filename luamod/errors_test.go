package luamod

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wandb-lua/wandb-lua/wandb"
)

func TestToWandbError(t *testing.T) {
	plain := errors.New("something broke")
	withOp := &wandb.Error{Op: "users", Code: wandb.CodeForbidden, Status: 403, Message: "admins only"}
	tests := []struct {
		name string
		err  error
		want *wandb.Error
	}{
		{"wandb error keeps its op", withOp, withOp},
		{"wandb error gets the op", &wandb.Error{Code: wandb.CodeNotFound, Message: "gone"},
			&wandb.Error{Op: "user", Code: wandb.CodeNotFound, Message: "gone"}},
		{"wrapped wandb error", fmt.Errorf("context: %w", withOp), withOp},
		{"canceled", context.Canceled, &wandb.Error{Op: "user", Code: wandb.CodeCanceled, Message: "context canceled", Err: context.Canceled}},
		{"deadline", fmt.Errorf("waiting: %w", context.DeadlineExceeded),
			&wandb.Error{Op: "user", Code: wandb.CodeTimeout, Message: "waiting: context deadline exceeded"}},
		{"other", plain, &wandb.Error{Op: "user", Code: wandb.CodeInternal, Message: "something broke", Err: plain}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := toWandbError("user", tt.err)
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(wandb.Error{}, "Err")); diff != "" {
				t.Errorf("toWandbError (-want +got):\n%s", diff)
			}
			if !errors.Is(got, tt.err) && got != tt.err && !errors.Is(tt.err, got) {
				t.Errorf("the result %v does not match the cause %v", got, tt.err)
			}
		})
	}
}
