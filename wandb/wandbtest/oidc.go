package wandbtest

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// The identity-token exchange (W&B's federated identity): POST /oidc/token
// with the RFC 7523 JWT bearer grant, as wandb-core sends it, answers an
// access token that /graphql and the SCIM API accept as
// "Authorization: Bearer <token>".

// OIDC configures the token exchange; see WithOIDC.
type OIDC struct {
	// Key verifies the identity tokens' signatures: an ed25519.PublicKey
	// (alg EdDSA) or an *rsa.PublicKey (alg RS256). SignIdentityToken signs
	// with the private key.
	Key crypto.PublicKey
	// Issuer, if not "", must be the tokens' iss claim.
	Issuer string
	// Audience, if not "", must be among the tokens' aud claim.
	Audience string
	// Subjects maps a token's sub claim to the email of the user it
	// stands for. A sub it does not list stands for the user whose email
	// is the token's email claim.
	Subjects map[string]string
	// TokenTTL is how long an access token is valid, the answer's
	// expires_in; 0 means one hour. Access tokens are not kept in a state
	// file.
	TokenTTL time.Duration
}

// tokenOp is the operation name of token requests, for FailNext, Requests
// and LastRequest.
const tokenOp = "OIDCToken"

// WithOIDC serves the identity-token exchange at POST /oidc/token (without
// it, that path is 404): a form with
// grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and an assertion,
// a JWT that o.Key verifies, that has not expired (exp is required) and
// that names an active user, is answered with
// {"access_token", "token_type": "Bearer", "expires_in"}; anything else
// with HTTP 400 and an OAuth error body ({"error": "invalid_grant" or
// "unsupported_grant_type" or "invalid_request", "error_description"}).
// FailNext, Requests and LastRequest name these requests "OIDCToken";
// LastRequest's Body shows the assertion as "[redacted]".
func WithOIDC(o OIDC) Option {
	return func(opts *options) {
		o.Subjects = maps.Clone(o.Subjects)
		opts.oidc = &o
	}
}

// accessTokens are the access tokens the server minted.
type accessTokens struct {
	mu     sync.Mutex
	byHash map[string]accessToken
}

type accessToken struct {
	user    *user
	expires time.Time
}

// userByAccessToken returns the user of a valid access token, or nil. The
// caller holds the store's lock.
func (h *Handler) userByAccessToken(token string) *user {
	h.tokens.mu.Lock()
	t, ok := h.tokens.byHash[hashSecret(token)]
	h.tokens.mu.Unlock()
	if !ok || !time.Now().Before(t.expires) || t.user.inactive ||
		h.store.byUsername[strings.ToLower(t.user.username)] != t.user { // deleted
		return nil
	}
	return h.store.seen(t.user)
}

// serveOIDCToken serves POST /oidc/token as ServeHTTP serves GraphQL:
// record, latency, fault, then the exchange.
func (h *Handler) serveOIDCToken(w http.ResponseWriter, r *http.Request) {
	form, berr := readForm(w, r)
	rec := Request{Op: tokenOp, Method: r.Method, Path: r.URL.Path, Header: redact(r.Header)}
	if form != nil {
		shown := maps.Clone(form)
		if shown.Has("assertion") {
			shown.Set("assertion", "[redacted]")
		}
		rec.Body = shown.Encode()
	}
	var caller *user
	var status int
	var answer map[string]any
	if berr == nil && h.oidc != nil && r.Method == http.MethodPost {
		caller, status, answer = h.exchangeToken(form)
		if caller != nil {
			rec.Caller = caller.email
		}
	}
	h.record(rec)
	if !sleep(r.Context(), time.Duration(h.latency.Load())) {
		return
	}
	// The exchange ran already: a fault is a lost answer, AfterApply or not.
	after, answered := h.faultBefore(w, r, tokenOp)
	if answered {
		return
	}
	if after != nil {
		h.writeFault(w, r, *after)
		return
	}
	switch {
	case h.oidc == nil:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found: " + r.URL.Path})
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, oauthError("invalid_request", "use POST"))
	case berr != nil:
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_request", berr.Error()))
	default:
		if status == http.StatusOK {
			w.Header().Set("Cache-Control", "no-store")
		}
		writeJSON(w, status, answer)
	}
}

// exchangeToken checks the grant in form and mints an access token for
// its user. It runs before the fault, so that a fault after the exchange
// (a lost answer) is like the real thing: the token was minted.
func (h *Handler) exchangeToken(form url.Values) (*user, int, map[string]any) {
	if gt := form.Get("grant_type"); gt != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		return nil, http.StatusBadRequest, oauthError("unsupported_grant_type",
			"grant_type must be urn:ietf:params:oauth:grant-type:jwt-bearer")
	}
	assertion := form.Get("assertion")
	if assertion == "" {
		return nil, http.StatusBadRequest, oauthError("invalid_request", "no assertion")
	}
	o := h.oidc
	claims, err := verifyJWT(assertion, o.Key, time.Now())
	if err != nil {
		return nil, http.StatusBadRequest, oauthError("invalid_grant", err.Error())
	}
	switch {
	case o.Issuer != "" && claims.Issuer != o.Issuer:
		return nil, http.StatusBadRequest, oauthError("invalid_grant", "the JWT's issuer is not trusted")
	case o.Audience != "" && !slices.Contains(claims.Audience, o.Audience):
		return nil, http.StatusBadRequest, oauthError("invalid_grant", "the JWT's audience is not this server")
	}
	email, mapped := o.Subjects[claims.Subject]
	if !mapped {
		email = claims.Email
	}
	s := h.store
	s.mu.Lock()
	u, err := s.userByEmail(email)
	if err == nil && u.inactive {
		err = errNoUser
	}
	s.mu.Unlock()
	if email == "" || err != nil {
		return nil, http.StatusBadRequest, oauthError("invalid_grant", "the JWT names no active user")
	}
	ttl := o.TokenTTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	token := "wbat_" + hex.EncodeToString(b[:])
	h.tokens.mu.Lock()
	h.tokens.byHash[hashSecret(token)] = accessToken{user: u, expires: time.Now().Add(ttl)}
	h.tokens.mu.Unlock()
	return u, http.StatusOK, map[string]any{
		"access_token": token,
		"token_type":   "Bearer",
		"expires_in":   int(ttl / time.Second),
	}
}

// readForm reads a form-encoded request body.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return url.Values{}, fmt.Errorf("the body must be application/x-www-form-urlencoded, not %q", ct)
	}
	if err := r.ParseForm(); err != nil {
		return nil, fmt.Errorf("cannot read the form: %v", err)
	}
	return r.PostForm, nil
}

func oauthError(code, description string) map[string]any {
	return map[string]any{"error": code, "error_description": description}
}

// checkOIDCKey checks that o has a key the server can verify with.
func checkOIDCKey(o *OIDC) error {
	switch o.Key.(type) {
	case ed25519.PublicKey, *rsa.PublicKey:
		return nil
	}
	return fmt.Errorf("wandbtest: WithOIDC: the key must be an ed25519.PublicKey or an *rsa.PublicKey, not %T", o.Key)
}
