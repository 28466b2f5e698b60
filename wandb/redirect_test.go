package wandb

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRedirects: a redirect is followed only when it keeps the method, the
// scheme and the host; otherwise the call fails, saying where the server
// tried to send the request, and nothing reaches the other place.
func TestRedirects(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	viewer := `{"data":{"viewer":{"id":"VXNlcjox","name":"A","username":"a","email":"a@example.com"}}}`
	mux := http.NewServeMux()
	mux.HandleFunc("/moved/graphql", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Authorization") == "" {
			http.Error(w, "not the request sent", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(viewer))
	})
	var status atomic.Int32
	var target atomic.Value
	mux.HandleFunc("/graphql", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.Load().(string), int(status.Load()))
	})
	for _, tc := range []struct {
		name   string
		tls    bool
		status int
		target func(self string) string
		ok     bool
	}{
		{"307 on the same server", false, 307, func(self string) string { return "/moved/graphql" }, true},
		{"308 on the same server", false, 308, func(self string) string { return self + "/moved/graphql" }, true},
		{"301 would turn the POST into a GET", false, 301, func(self string) string { return "/moved/graphql" }, false},
		{"302 would turn the POST into a GET", false, 302, func(self string) string { return "/moved/graphql" }, false},
		{"307 to another host", false, 307, func(string) string { return other.URL + "/graphql" }, false},
		{"308 from https to http", true, 308, func(self string) string { return strings.Replace(self, "https://", "http://", 1) + "/moved/graphql" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(mux)
			if tc.tls {
				srv.Close()
				srv = httptest.NewTLSServer(mux)
			}
			defer srv.Close()
			status.Store(int32(tc.status))
			target.Store(tc.target(srv.URL))
			cfg := Config{BaseURL: srv.URL, APIKey: NewSecret(strings.Repeat("a", 40)), Retry: fastRetry}
			if tc.tls {
				cfg.HTTPClient = srv.Client()
			}
			c, err := NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			v, err := c.Viewer(context.Background())
			if tc.ok {
				if err != nil || deref(v.Email) != "a@example.com" {
					t.Fatalf("Viewer = %v, %v; want the redirect followed", v, err)
				}
				return
			}
			e := asError(t, err, "viewer", CodeBadResponse)
			want := "the server redirected the request to " + target.Load().(string)
			if strings.HasPrefix(target.Load().(string), "/") {
				want = "the server redirected the request to " + srv.URL + target.Load().(string)
			}
			if !strings.HasPrefix(e.Message, want) || e.Status != tc.status {
				t.Errorf("error = %v, want it to start %q", e, want)
			}
		})
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the other host got %d requests", n)
	}
}
