package wandbtest_test

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

const jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// idp is an identity provider for tests: a key pair.
type idp struct {
	pub  crypto.PublicKey
	priv crypto.Signer
}

func newIDP(t *testing.T) idp {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return idp{pub: pub, priv: priv}
}

// jwt signs claims, with exp an hour from now unless claims set it.
func (p idp) jwt(t *testing.T, claims map[string]any) string {
	t.Helper()
	if _, ok := claims["exp"]; !ok {
		claims["exp"] = time.Now().Add(time.Hour).Unix()
	}
	tok, err := wandbtest.SignIdentityToken(p.priv, claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// tokenAnswer is the decoded answer of /oidc/token.
type tokenAnswer struct {
	Status      int
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// exchange posts form to srv's /oidc/token.
func exchange(t *testing.T, srv *wandbtest.Server, method string, form url.Values) tokenAnswer {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+"/oidc/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := tokenAnswer{Status: resp.StatusCode}
	_ = json.Unmarshal(b, &a)
	return a
}

func grant(jwt string) url.Values {
	return url.Values{"grant_type": {jwtBearer}, "assertion": {jwt}}
}

func TestOIDCExchange(t *testing.T) {
	t.Parallel()
	p := newIDP(t)
	srv := wandbtest.Start(t, wandbtest.WithOIDC(wandbtest.OIDC{
		Key: p.pub, Issuer: "https://idp.example.com", Audience: "wandb",
		Subjects: map[string]string{"repo:ci": "ci@example.com"},
	}))
	addUser(t, srv, "ci@example.com", false)
	addUser(t, srv, "dev@example.com", false)
	good := map[string]any{"iss": "https://idp.example.com", "aud": "wandb", "sub": "repo:ci"}

	a := exchange(t, srv, http.MethodPost, grant(p.jwt(t, good)))
	if a.Status != http.StatusOK || a.AccessToken == "" || a.TokenType != "Bearer" || a.ExpiresIn != 3600 {
		t.Fatalf("exchange: HTTP %d, type %q, expires_in %d, error %q (%s)", a.Status, a.TokenType, a.ExpiresIn, a.Error, a.Description)
	}
	if rec, _ := srv.LastRequest("OIDCToken"); rec.Caller != "ci@example.com" || !strings.Contains(rec.Body, "assertion=%5Bredacted%5D") {
		t.Errorf("recorded caller %q, body %q; want ci@example.com and the assertion redacted", rec.Caller, rec.Body)
	}

	// The access token authenticates GraphQL and SCIM requests as its user.
	res := post(t, srv, call{query: "query GetViewer { viewer { email } }", header: map[string]string{"Authorization": "Bearer " + a.AccessToken}})
	var v struct{ Viewer struct{ Email string } }
	res.wantOK(t).decode(t, &v)
	if v.Viewer.Email != "ci@example.com" {
		t.Errorf("viewer = %q, want ci@example.com", v.Viewer.Email)
	}
	if res := post(t, srv, call{query: "query GetViewer { viewer { email } }", header: map[string]string{"Authorization": "Bearer wrong"}}); res.Status != http.StatusUnauthorized {
		t.Errorf("an unknown access token: HTTP %d, want 401", res.Status)
	}

	// The email claim names a user the subjects do not map.
	byEmail := map[string]any{"iss": "https://idp.example.com", "aud": []string{"other", "wandb"}, "sub": "x", "email": "dev@example.com"}
	if a := exchange(t, srv, http.MethodPost, grant(p.jwt(t, byEmail))); a.Status != http.StatusOK {
		t.Errorf("email claim: HTTP %d %s", a.Status, a.Description)
	}

	other := newIDP(t)
	for _, tc := range []struct {
		name   string
		method string
		form   url.Values
		status int
		code   string
	}{
		{"expired", "POST", grant(p.jwt(t, map[string]any{"iss": "https://idp.example.com", "aud": "wandb", "sub": "repo:ci", "exp": time.Now().Add(-time.Minute).Unix()})), 400, "invalid_grant"},
		{"no exp", "POST", grant(p.jwt(t, map[string]any{"iss": "https://idp.example.com", "aud": "wandb", "sub": "repo:ci", "exp": nil})), 400, "invalid_grant"},
		{"not yet", "POST", grant(p.jwt(t, map[string]any{"iss": "https://idp.example.com", "aud": "wandb", "sub": "repo:ci", "nbf": time.Now().Add(time.Hour).Unix()})), 400, "invalid_grant"},
		{"another key", "POST", grant(other.jwt(t, good)), 400, "invalid_grant"},
		{"wrong issuer", "POST", grant(p.jwt(t, map[string]any{"iss": "https://evil.example.com", "aud": "wandb", "sub": "repo:ci"})), 400, "invalid_grant"},
		{"wrong audience", "POST", grant(p.jwt(t, map[string]any{"iss": "https://idp.example.com", "aud": "other", "sub": "repo:ci"})), 400, "invalid_grant"},
		{"unknown user", "POST", grant(p.jwt(t, map[string]any{"iss": "https://idp.example.com", "aud": "wandb", "sub": "nobody"})), 400, "invalid_grant"},
		{"not a jwt", "POST", grant("abc.def"), 400, "invalid_grant"},
		{"bad aud", "POST", grant(p.jwt(t, map[string]any{"iss": "https://idp.example.com", "aud": 7, "sub": "repo:ci"})), 400, "invalid_grant"},
		{"no assertion", "POST", url.Values{"grant_type": {jwtBearer}}, 400, "invalid_request"},
		{"wrong grant", "POST", url.Values{"grant_type": {"password"}}, 400, "unsupported_grant_type"},
		{"GET", "GET", nil, 405, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := exchange(t, srv, tc.method, tc.form)
			if a.Status != tc.status || a.Error != tc.code || a.AccessToken != "" {
				t.Errorf("HTTP %d, error %q (%s); want %d %q and no token", a.Status, a.Error, a.Description, tc.status, tc.code)
			}
		})
	}
}

func TestOIDCUsers(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := idp{pub: &rsaKey.PublicKey, priv: rsaKey}
	srv := wandbtest.Start(t, wandbtest.WithOIDC(wandbtest.OIDC{Key: p.pub, TokenTTL: time.Nanosecond}))
	adminJWT := p.jwt(t, map[string]any{"email": wandbtest.AdminEmail})

	// RS256 verifies; a token that lives a nanosecond has expired by the
	// time it is used.
	a := exchange(t, srv, http.MethodPost, grant(adminJWT))
	if a.Status != http.StatusOK {
		t.Fatalf("RS256 exchange: HTTP %d %s", a.Status, a.Description)
	}
	if res := post(t, srv, call{query: "query GetViewer { viewer { email } }", header: map[string]string{"Authorization": "Bearer " + a.AccessToken}}); res.Status != http.StatusUnauthorized {
		t.Errorf("an expired access token: HTTP %d, want 401", res.Status)
	}

	// A deactivated or deleted user cannot exchange, nor use a token.
	srv2 := wandbtest.Start(t, wandbtest.WithOIDC(wandbtest.OIDC{Key: p.pub}))
	addUser(t, srv2, "gone@example.com", false)
	tok := exchange(t, srv2, http.MethodPost, grant(p.jwt(t, map[string]any{"email": "gone@example.com"}))).AccessToken
	admin := exchange(t, srv2, http.MethodPost, grant(adminJWT)).AccessToken
	u, _ := srv2.UserByEmail("gone@example.com")
	scim := func(method, path, body string) int {
		req, _ := http.NewRequest(method, srv2.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := srv2.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := scim("GET", "/scim/Users", ""); s != http.StatusOK {
		t.Fatalf("SCIM with the admin's access token: HTTP %d", s)
	}
	scimID := "scim-u" + strings.TrimPrefix(decodeID(t, u.ID), "User:")
	if s := scim("PATCH", "/scim/Users/"+scimID, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`); s != http.StatusOK {
		t.Fatalf("deactivate: HTTP %d", s)
	}
	if res := post(t, srv2, call{query: "query GetViewer { viewer { email } }", header: map[string]string{"Authorization": "Bearer " + tok}}); res.Status != http.StatusUnauthorized {
		t.Errorf("a deactivated user's token: HTTP %d, want 401", res.Status)
	}
	if a := exchange(t, srv2, http.MethodPost, grant(p.jwt(t, map[string]any{"email": "gone@example.com"}))); a.Error != "invalid_grant" {
		t.Errorf("a deactivated user's exchange: HTTP %d %q, want invalid_grant", a.Status, a.Error)
	}
}

func TestOIDCOff(t *testing.T) {
	t.Parallel()
	srv := wandbtest.Start(t)
	if a := exchange(t, srv, http.MethodPost, grant("a.b.c")); a.Status != http.StatusNotFound {
		t.Errorf("without WithOIDC: HTTP %d, want 404", a.Status)
	}
	if _, err := wandbtest.NewHandler(wandbtest.WithOIDC(wandbtest.OIDC{Key: "not a key"})); err == nil {
		t.Error("a bad key was accepted")
	}
	if _, err := wandbtest.SignIdentityToken(badSigner{}, nil); err == nil {
		t.Error("an unsupported signer was accepted")
	}
}

func TestOIDCFaultAndForm(t *testing.T) {
	t.Parallel()
	p := newIDP(t)
	srv := wandbtest.Start(t, wandbtest.WithOIDC(wandbtest.OIDC{Key: p.pub}))
	srv.FailNext("OIDCToken", wandbtest.Fault{Status: http.StatusServiceUnavailable, Body: `{"error":"busy"}`})
	if a := exchange(t, srv, http.MethodPost, grant(p.jwt(t, map[string]any{"email": wandbtest.AdminEmail}))); a.Status != http.StatusServiceUnavailable {
		t.Errorf("fault: HTTP %d, want 503", a.Status)
	}
	if n := srv.Requests("OIDCToken"); n != 1 {
		t.Errorf("Requests(OIDCToken) = %d, want 1", n)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/oidc/token", strings.NewReader(`{"assertion":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a JSON body: HTTP %d, want 400", resp.StatusCode)
	}
}

type badSigner struct{}

func (badSigner) Public() crypto.PublicKey                                  { return nil }
func (badSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { return nil, nil }
