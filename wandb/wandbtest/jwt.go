package wandbtest

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// JSON Web Tokens (RFC 7519) as an identity provider issues them, signed
// with EdDSA (Ed25519) or RS256, with the standard library only.

// SignIdentityToken returns a JWT with claims, signed with key: an
// ed25519.PrivateKey (alg EdDSA) or an *rsa.PrivateKey (alg RS256). A test
// uses it to play the identity provider whose public key it gives
// WithOIDC. Claims are JSON: numbers such as exp are seconds since the
// epoch.
func SignIdentityToken(key crypto.Signer, claims map[string]any) (string, error) {
	var alg string
	switch key.(type) {
	case ed25519.PrivateKey:
		alg = "EdDSA"
	case *rsa.PrivateKey:
		alg = "RS256"
	default:
		return "", fmt.Errorf("wandbtest: sign identity token: unsupported key %T", key)
	}
	header, err := json.Marshal(map[string]string{"alg": alg, "typ": "JWT"})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("wandbtest: sign identity token: %w", err)
	}
	input := b64(header) + "." + b64(payload)
	var sig []byte
	if alg == "EdDSA" {
		sig, err = key.Sign(rand.Reader, []byte(input), crypto.Hash(0))
	} else {
		sum := sha256.Sum256([]byte(input))
		sig, err = key.Sign(rand.Reader, sum[:], crypto.SHA256)
	}
	if err != nil {
		return "", fmt.Errorf("wandbtest: sign identity token: %w", err)
	}
	return input + "." + b64(sig), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwtClaims are the claims the server checks and maps.
type jwtClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Email    string   `json:"email"`
	Audience audience `json:"aud"`
	Expires  *float64 `json:"exp"`
	NotUntil *float64 `json:"nbf"`
}

// audience is the aud claim: one string or a list.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New(`"aud" is neither a string nor a list of strings`)
	}
	*a = many
	return nil
}

// verifyJWT checks token's signature with key, its expiry and not-before
// times against now, and returns its claims. The errors are the
// error_description of an invalid_grant answer.
func verifyJWT(token string, key crypto.PublicKey, now time.Time) (jwtClaims, error) {
	var c jwtClaims
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return c, errors.New("the assertion is not a JWT")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	pb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil || json.Unmarshal(hb, &header) != nil {
		return c, errors.New("the assertion is not a JWT")
	}
	input := []byte(parts[0] + "." + parts[1])
	ok := false
	switch k := key.(type) {
	case ed25519.PublicKey:
		ok = header.Alg == "EdDSA" && ed25519.Verify(k, input, sig)
	case *rsa.PublicKey:
		sum := sha256.Sum256(input)
		ok = header.Alg == "RS256" && rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig) == nil
	}
	if !ok {
		return c, errors.New("the JWT's signature does not verify")
	}
	if err := json.Unmarshal(pb, &c); err != nil {
		return c, errors.New("the JWT's claims are not valid JSON claims")
	}
	sec := float64(now.UnixNano()) / 1e9
	switch {
	case c.Expires == nil:
		return c, errors.New("the JWT has no exp claim")
	case sec >= *c.Expires:
		return c, errors.New("the JWT has expired")
	case c.NotUntil != nil && sec < *c.NotUntil:
		return c, errors.New("the JWT is not valid yet (nbf)")
	}
	return c, nil
}
