package wandb

import (
	"strings"
	"testing"
)

// TestBaseURLSuggestions: a base URL without a scheme gets the one it
// probably needs; a key in it is never echoed.
func TestBaseURLSuggestions(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"127.0.0.1:8080":          `base url "127.0.0.1:8080": must start with http:// or https://; use http://127.0.0.1:8080`,
		"localhost:8080":          "use http://localhost:8080",
		"wandb.localhost":         "use http://wandb.localhost",
		"10.1.2.3":                "use http://10.1.2.3",
		"[::1]:8080/":             "use http://[::1]:8080",
		"api.example.com":         `base url "api.example.com": must start with http:// or https://; use https://api.example.com`,
		"wandb.example.com/api":   "use https://wandb.example.com/api",
		"8.8.8.8":                 "use https://8.8.8.8",
		"app.wandb.ai":            "use https://api.wandb.ai",
		"ftp://example.com":       `base url "ftp://example.com": must start with http:// or https://`,
		"https://wandb.ai":        "not the api url of W&B cloud; use https://api.wandb.ai",
		"http://api.wandb.ai":     "W&B cloud must be reached over https; use https://api.wandb.ai",
		"api:secretkey@host:8080": `base url "(a url with an @, ? or #, not shown)": must start with http:// or https://`,
		"host name":               "must start with http:// or https://",
	} {
		_, err := normalizeBaseURL(raw)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("normalizeBaseURL(%q) = %v, want %q", raw, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "secretkey") {
			t.Errorf("normalizeBaseURL(%q) shows the key", raw)
		}
	}
	for _, raw := range []string{"ftp://example.com", "host name", "api:secretkey@host:8080"} {
		if _, err := normalizeBaseURL(raw); err != nil && strings.Contains(err.Error(), "; use") {
			t.Errorf("normalizeBaseURL(%q) suggests a url: %v", raw, err)
		}
	}
}
