package wandb

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/atomicfile"
)

// The access-token cache, the SDK's credentials file (WANDB_CREDENTIALS_FILE,
// default ~/.config/wandb/credentials.json), shared with the SDK and other
// processes:
//
//	{
//	  "credentials": {
//	    "<base url>": {
//	      "access_token": "...",
//	      "expires_at": "2026-08-21 10:00:00"
//	    }
//	  }
//	}
//
// expires_at is UTC without a zone. The file is written with mode 0600 as
// indented JSON. Where wandb-core rewrites the file from what it understood
// of it, this keeps every other key and every other server's entry as it
// found them; a file that cannot be parsed is replaced by one holding only
// the new entry, as wandb-core does. The file is replaced atomically
// (wandb/atomicfile), so a concurrent reader never sees half of it.

// expiresAtLayout is the format of expires_at.
const expiresAtLayout = "2006-01-02 15:04:05"

// defaultCredentialsFile returns ~/.config/wandb/credentials.json, or ""
// when there is no home directory (then tokens are not cached).
func defaultCredentialsFile() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".config", "wandb", "credentials.json")
}

// tokenCache is the content of a credentials file, kept as found.
type tokenCache struct {
	top         map[string]json.RawMessage // every top-level key
	credentials map[string]json.RawMessage // "credentials", by base URL
}

// cachedToken is one entry of "credentials".
type cachedToken struct {
	AccessToken string `json:"access_token"`
	ExpiresAt   string `json:"expires_at"`
}

// readTokenCache reads the credentials file at path. A missing file is an
// empty cache; so is one that cannot be read or parsed, with problem
// saying why (never its content).
func readTokenCache(path string) (c tokenCache, problem string) {
	c = tokenCache{top: map[string]json.RawMessage{}, credentials: map[string]json.RawMessage{}}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return c, ""
	case err != nil:
		return c, "cannot read file"
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		return c, "not a JSON object"
	}
	var creds map[string]json.RawMessage
	if raw, ok := top["credentials"]; ok {
		if err := json.Unmarshal(raw, &creds); err != nil {
			return c, `"credentials" is not a JSON object`
		}
	}
	if creds == nil {
		creds = map[string]json.RawMessage{}
	}
	return tokenCache{top: top, credentials: creds}, ""
}

// get returns the token cached for baseURL and when it expires.
func (c tokenCache) get(baseURL string) (token string, expires time.Time, ok bool) {
	raw, found := c.credentials[baseURL]
	if !found {
		return "", time.Time{}, false
	}
	var e cachedToken
	if json.Unmarshal(raw, &e) != nil || e.AccessToken == "" {
		return "", time.Time{}, false
	}
	t, err := time.Parse(expiresAtLayout, e.ExpiresAt) // UTC
	if err != nil {
		return "", time.Time{}, false
	}
	return e.AccessToken, t, true
}

// put sets baseURL's entry.
func (c tokenCache) put(baseURL, token string, expires time.Time) {
	raw, _ := json.Marshal(cachedToken{AccessToken: token, ExpiresAt: expires.UTC().Format(expiresAtLayout)})
	c.credentials[baseURL] = raw
}

// write replaces the file at path with c, mode 0600, creating its
// directory (mode 0700) if needed.
func (c tokenCache) write(path string) error {
	creds, err := json.Marshal(c.credentials)
	if err != nil {
		return err
	}
	c.top["credentials"] = creds
	data, err := json.MarshalIndent(c.top, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o600)
}
