package wandbtest_test

import (
	"testing"

	"github.com/wandb-lua/wandb-lua/wandb/internal/gql"
	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// BenchmarkViewer measures one GetViewer round trip on loopback, the server's
// share of every client benchmark.
func BenchmarkViewer(b *testing.B) {
	srv := wandbtest.Start(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := postErr(b.Context(), srv, call{key: srv.AdminKey(), query: gql.GetViewer_Operation}); err != nil {
			b.Fatal(err)
		}
	}
}
