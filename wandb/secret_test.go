package wandb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestSecretAtAnyDepth: a Config held by another value, in an exported or
// an unexported field, by value or by pointer, in a slice, a map or an
// interface, shows neither its key, nor an extra header's value, nor its
// proxy's password under fmt's verbs and slog's handlers. fmt cannot call
// the methods of a value it reaches through an unexported field and
// prints it by its kind instead: the Secrets keep their strings behind a
// pointer, which it shows as an address.
func TestSecretAtAnyDepth(t *testing.T) {
	t.Parallel()
	key := strings.Repeat("k3y", 14)
	header := strings.Repeat("h3ad", 10)
	password := strings.Repeat("pr0xy", 8)
	cfg := Config{
		BaseURL:      "https://wandb.example.com",
		APIKey:       NewSecret(key),
		extraHeaders: map[string]Secret{"X-Gateway-Token": NewSecret(header)},
		httpProxy:    NewSecret("http://u:" + password + "@proxy:3128"),
		httpsProxy:   NewSecret("http://u:" + password + "@proxy:3129"),
	}
	type inner struct {
		Exported   Config
		unexported Config
	}
	type holder struct {
		In      inner
		in      inner
		Ptr     *Config
		ptr     *Config
		Slice   []Config
		slice   []Config
		Map     map[string]Config
		m       map[string]Config
		Any     any
		anyCfg  any
		Key     Secret
		key     Secret
		Options EnvOptions
		options EnvOptions
	}
	env := EnvOptions{APIKey: NewSecret(key)}
	h := holder{
		In: inner{cfg, cfg}, in: inner{cfg, cfg}, Ptr: &cfg, ptr: &cfg,
		Slice: []Config{cfg}, slice: []Config{cfg}, Map: map[string]Config{"a": cfg}, m: map[string]Config{"a": cfg},
		Any: cfg, anyCfg: cfg, Key: cfg.APIKey, key: cfg.APIKey, Options: env, options: env,
	}
	values := map[string]any{"holder": h, "*holder": &h, "[]holder": []holder{h}, "nested": struct{ h holder }{h}}
	secrets := map[string]string{"the key": key, "a header value": header, "the proxy password": password}
	check := func(what, out string) {
		t.Helper()
		for name, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s shows %s", what, name)
			}
		}
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			check(verb+" of "+name, fmt.Sprintf(verb, v))
		}
		for _, handler := range []struct {
			name string
			new  func(*bytes.Buffer) slog.Handler
		}{
			{"text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
			{"json", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
		} {
			var b bytes.Buffer
			slog.New(handler.new(&b)).Info("config", "value", v, "group", slog.GroupValue(slog.Any("inner", v)))
			if b.Len() == 0 {
				t.Fatalf("slog %s handler wrote nothing", handler.name)
			}
			check("slog's "+handler.name+" handler on "+name, b.String())
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		check("encoding/json of "+name, string(b))
	}
	// What the printers show where they can call the methods.
	if got := fmt.Sprintf("%v %q %#v %x", h.Key, h.Key, h.Key, h.Key); got != `[redacted] "[redacted]" wandb.NewSecret("[redacted]") [redacted]` {
		t.Errorf("a Secret prints as %s", got)
	}
	var unset Secret
	if got := fmt.Sprintf("%v|%q|%#v", unset, unset, unset); got != `|""|wandb.Secret{}` {
		t.Errorf("an unset Secret prints as %s", got)
	}
}

func TestSecret(t *testing.T) {
	t.Parallel()
	s := NewSecret("value")
	if s.Reveal() != "value" || !s.IsSet() || s.String() != "[redacted]" {
		t.Errorf("NewSecret: %q %v %q", s.Reveal(), s.IsSet(), s.String())
	}
	if z := NewSecret(""); z != (Secret{}) || z.IsSet() || z.Reveal() != "" {
		t.Error(`NewSecret("") is not the zero Secret`)
	}
	b, err := json.Marshal(map[string]Secret{"k": s})
	if err != nil || string(b) != `{"k":"[redacted]"}` {
		t.Errorf("json: %s %v", b, err)
	}
	text, _ := s.MarshalText()
	if string(text) != "[redacted]" || s.LogValue().String() != "[redacted]" {
		t.Errorf("MarshalText %q, LogValue %q", text, s.LogValue())
	}
}
