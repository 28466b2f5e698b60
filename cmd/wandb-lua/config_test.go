package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// TestConfigErrors: each configuration error says what applies to it, and
// only the one for missing credentials suggests --api-key-file.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	key := strings.Repeat("a", 40)
	dir := t.TempDir()
	netrc := filepath.Join(dir, "netrc")
	if err := os.WriteFile(netrc, []byte("machine other.example.com password \"x\nmachine api.wandb.ai password "+key+" junk\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	twoLines := filepath.Join(dir, "two-lines")
	if err := os.WriteFile(twoLines, []byte("\n"+key+"\n\n"+key+"-other\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		env     []string
		args    []string
		want    []string
		notWant string
	}{
		{"no scheme, local", []string{"WANDB_API_KEY=" + key}, []string{"--base-url", "127.0.0.1:8080"},
			[]string{`base url "127.0.0.1:8080": must start with http:// or https://; use http://127.0.0.1:8080`}, "--api-key-file"},
		{"no scheme, remote", []string{"WANDB_API_KEY=" + key, "WANDB_BASE_URL=api.example.com"}, nil,
			[]string{"WANDB_BASE_URL: ", "use https://api.example.com"}, "--api-key-file"},
		{"empty WANDB_API_KEY", []string{"WANDB_API_KEY="}, nil,
			[]string{"WANDB_API_KEY is set but empty", "or pass --api-key-file PATH"}, "(unset)"},
		{"both credentials", []string{"WANDB_API_KEY=" + key, "WANDB_IDENTITY_TOKEN_FILE=/jwt"}, nil,
			[]string{"WANDB_API_KEY and WANDB_IDENTITY_TOKEN_FILE are both set, which is not allowed; unset one of them"}, "--api-key-file"},
		{"broken netrc entry", []string{"NETRC=" + netrc}, nil,
			[]string{"netrc file " + netrc + ": line 2: unexpected token in the entry for machine api.wandb.ai; fix or remove that entry"}, "--api-key-file"},
		{"key file with two lines", nil, []string{"--api-key-file", twoLines},
			[]string{"--api-key-file " + twoLines + ": line 4 is not empty: the file may only contain the key, on one line"}, key},
		{"bad header variable", []string{"WANDB_API_KEY=" + key, `WANDB__EXTRA_HTTP_HEADERS={"X": 1}`}, nil,
			[]string{"WANDB__EXTRA_HTTP_HEADERS: not a JSON object of strings"}, "--api-key-file"},
		{"missing identity token file", []string{"WANDB_IDENTITY_TOKEN_FILE=" + filepath.Join(dir, "none")}, nil,
			[]string{"identity token file " + filepath.Join(dir, "none") + ": cannot read it"}, "--api-key-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runBinary(t, tc.env, "", append(tc.args, "-e", "x=1")...)
			check(t, r, 2, ptr(""), tc.want...)
			if strings.Contains(r.stderr, tc.notWant) {
				t.Errorf("stderr contains %q:\n%s", tc.notWant, masked(r.stderr))
			}
			if strings.Contains(r.stderr, key) {
				t.Error("stderr contains the key")
			}
		})
	}
}

// TestConfigInsecureWarning: with TLS verification off, the binary warns
// on stderr, and runs.
func TestConfigInsecureWarning(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	env := append(serverEnv(srv), "WANDB_INSECURE_DISABLE_SSL=true")
	r := runBinary(t, env, "", "-e", "print(assert(require('wandb').viewer()).email)")
	check(t, r, 0, ptr(wandbtest.AdminEmail+"\n"), "wandb-lua: warning: WANDB_INSECURE_DISABLE_SSL is set: TLS certificates are not verified")
	r = runBinary(t, serverEnv(srv), "", "-e", "x=1")
	check(t, r, 0, ptr(""))
	if r.stderr != "" {
		t.Errorf("a warning without WANDB_INSECURE_DISABLE_SSL: %s", masked(r.stderr))
	}
	r = runBinary(t, append(serverEnv(srv), "WANDB_INSECURE_DISABLE_SSL=maybe"), "", "-e", "x=1")
	check(t, r, 2, ptr(""), `WANDB_INSECURE_DISABLE_SSL "maybe": not a boolean; use true or false`)
}

// TestConfigNetrcWarning: a netrc file others can read is used, with a
// warning on stderr naming it and what to do.
func TestConfigNetrcWarning(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	netrc := filepath.Join(t.TempDir(), "netrc")
	text := "machine " + strings.TrimPrefix(srv.URL, "http://") + " password " + srv.AdminKey() + "\n"
	if err := os.WriteFile(netrc, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(netrc, 0o644); err != nil { // past the umask
		t.Fatal(err)
	}
	r := runBinary(t, []string{"WANDB_BASE_URL=" + srv.URL, "NETRC=" + netrc}, "", "-e", "print(assert(require('wandb').viewer()).email)")
	check(t, r, 0, ptr(wandbtest.AdminEmail+"\n"), "wandb-lua: warning: the netrc file "+netrc+" can be read by others than you (mode 0644): it holds API keys; run chmod 600 "+netrc)
}

// TestConfigIdentityToken: the binary authenticates with an identity
// token from the environment, and caches the access token; --api-key-file
// wins over it.
func TestConfigIdentityToken(t *testing.T) {
	t.Parallel()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv := wandbtest.Start(t, wandbtest.WithOIDC(wandbtest.OIDC{Key: pub, Subjects: map[string]string{"ci": wandbtest.AdminEmail}}))
	jwt, err := wandbtest.SignIdentityToken(priv, map[string]any{"sub": "ci", "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "jwt")
	if err := os.WriteFile(tokenFile, []byte(jwt+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"WANDB_BASE_URL=" + srv.URL, "WANDB_IDENTITY_TOKEN_FILE=" + tokenFile, "WANDB_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials.json")}
	const who = "print(assert(require('wandb').viewer()).email)"
	for range 2 {
		r := runBinary(t, env, "", "-e", who)
		check(t, r, 0, ptr(wandbtest.AdminEmail+"\n"))
		if strings.Contains(r.stderr, jwt) {
			t.Error("stderr contains the identity token")
		}
	}
	if n := srv.Requests("OIDCToken"); n != 1 {
		t.Errorf("%d exchanges, want 1: the second run uses the cached token", n)
	}

	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte(srv.AdminKey()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check(t, runBinary(t, env, "", "--api-key-file", keyFile, "-e", who), 0, ptr(wandbtest.AdminEmail+"\n"))
	if req, _ := srv.LastRequest("GetViewer"); req.Header.Get("Authorization") != "Basic [redacted]" {
		t.Errorf("with --api-key-file the binary sent %q", masked(req.Header.Get("Authorization")))
	}
}
