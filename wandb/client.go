package wandb

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Version is this project's version. It is part of the User-Agent.
const Version = "0.1.0"

// SDKVersion is the W&B SDK release whose behaviour this package follows;
// the User-Agent carries it as the SDK's does ("W&B Public Client
// <version>").
//
// The backend gates admin-capable access and first-party fields such as
// User.apiKeys on a public-client User-Agent with a version it recognises.
const SDKVersion = "0.28.2"

// defaultBaseURL is the W&B multi-tenant cloud API, used when Config.BaseURL is empty.
const defaultBaseURL = "https://api.wandb.ai"

// The response limit bounds how much a hostile or broken server can make
// the client read. users() is one answer, not paginated: about 250 bytes a
// user without keys, 460 with two keys and two teams, so 200,000 users take
// 50 to 90 MiB; 256 MiB leaves room for more keys and teams, or for twice
// as many users. Answers are decoded as they are read, never held whole, so
// the limit is not memory the client holds; what the client keeps of the
// largest answer allowed is its users (about 0.3 KiB each in Go).

// DefaultMaxResponseBytes is the largest response a client reads unless
// Config.MaxResponseBytes says otherwise: enough for Client.Users on an
// instance of 200,000 users with a few keys and teams each.
const DefaultMaxResponseBytes = 256 << 20

const (
	defaultAttemptTimeout = 30 * time.Second
	// defaultIdleConnsPerHost sizes the default transport's pool of idle
	// connections for wandb.parallel's concurrency, so bulk runs reuse
	// connections instead of opening one per request.
	defaultIdleConnsPerHost = 64
)

// Client talks to one W&B server as one identity. It is safe for
// concurrent use by multiple goroutines.
type Client struct {
	cfg       Config       // normalised; cfg.HTTPClient is the caller's (or nil)
	base      *url.URL     // parsed cfg.BaseURL
	endpoint  string       // cfg.BaseURL + "/graphql"
	scimBase  string       // cfg.scimBaseURL, or cfg.BaseURL + "/scim"
	inner     *http.Client // the caller's client or the default; shared by WithAPIKey clients
	http      *http.Client // inner with the credential layer added
	userAgent string
	logger    *slog.Logger
	retry     RetryPolicy
	maxBody   int64
	timeout   time.Duration
	redactor               // removes the key and its Basic credentials, or the identity's tokens, from errors and logs
	tokens    *tokenSource // the access tokens of the identity token file; nil with an API key
	brk       *breaker     // the server's circuit breaker, shared with clients derived for the same server
	fam       *family      // shared with the clients derived for the same server, like brk
	inFlight  inFlight     // the places for requests in flight, shared like brk

	mu     sync.Mutex
	viewer *User     // cached after the first successful Viewer
	scim   scimLogin // how SCIM requests authenticate with Basic, once known (see scimCredentials)

	callerPerson bool // SCIM lists the viewer as an active user (see callerIsAnotherPerson)
}

// NewClient checks cfg and returns a client. It sends nothing; with an
// identity token (see ConfigFromEnv), it reads the token's file.
func NewClient(cfg Config) (*Client, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return newClient(cfg, defaultHTTPClient(cfg), nil)
}

// newClient builds a client over hc (the default or the caller's own) from
// a checked cfg. tokens is the token source of cfg's identity if a client
// of that identity has one already; else, for an identity token file, a new
// one is made.
func newClient(cfg Config, hc *http.Client, tokens *tokenSource) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, configError("base url: not a url")
	}
	scimBase := cfg.scimBaseURL
	if scimBase == "" {
		scimBase = cfg.BaseURL + "/scim"
	}
	su, err := url.Parse(scimBase)
	if err != nil {
		return nil, configError("WANDB_SCIM_BASE_URL: not a url")
	}
	c := &Client{
		cfg:       cfg,
		base:      u,
		endpoint:  cfg.BaseURL + "/graphql",
		scimBase:  scimBase,
		userAgent: "W&B Public Client " + SDKVersion + " wandb-lua/" + Version,
		logger:    cfg.Logger,
		retry:     cfg.Retry.withDefaults(),
		maxBody:   cfg.MaxResponseBytes,
		timeout:   cfg.attemptTimeout,
		brk:       &breaker{},
		fam:       newFamily(),
		inFlight:  newInFlight(min(cfg.MaxInFlight, MaxInFlightLimit)),
	}
	if cfg.userAgentOverride != "" {
		c.userAgent = cfg.userAgentOverride
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxResponseBytes
	}
	if c.timeout <= 0 {
		c.timeout = defaultAttemptTimeout
	}
	c.inner = hc
	graphQLAuth := func(context.Context) (string, error) { return "Basic " + basicCredentials(cfg.APIKey.Reveal()), nil }
	if cfg.identityTokenFile != "" {
		if tokens == nil {
			// The exchange carries the extra headers, as the SDK's does,
			// but no credentials and no X-WANDB headers.
			exchange := cfg
			exchange.username, exchange.userEmail = "", ""
			if tokens, err = newTokenSource(cfg, withHeaders(hc, exchange), c.userAgent, c.logger); err != nil {
				return nil, err
			}
		}
		c.tokens, c.redactor = tokens, tokens.redactor
		graphQLAuth = c.bearerToken
	} else {
		c.redactor = newRedactor(cfg.APIKey.Reveal())
	}
	c.redactor.learned = c.fam.secrets
	c.redactor.add(proxySecret(cfg.httpProxy.Reveal()))
	c.redactor.add(proxySecret(cfg.httpsProxy.Reveal()))
	for _, v := range cfg.extraHeaders {
		// A gateway token, a Proxy-Authorization: a server or proxy that
		// echoes it does not get it shown. The credential after a scheme
		// ("Basic ...") is removed on its own too.
		c.redactor.add(v.Reveal())
		if _, cred, ok := strings.Cut(v.Reveal(), " "); ok {
			c.redactor.add(strings.TrimSpace(cred))
		}
	}
	c.http = withRedirectPolicy(withHeaders(withCredentials(hc,
		newScope(su, c.scimCredentials),
		newScope(u, graphQLAuth)), cfg))
	return c, nil
}

// bearerToken returns "Bearer <access token>" for an identity token.
func (c *Client) bearerToken(ctx context.Context) (string, error) {
	tok, err := c.tokens.accessToken(ctx)
	if err != nil {
		return "", err
	}
	return "Bearer " + tok, nil
}

// BaseURL returns the normalised base URL, e.g. "https://api.wandb.ai",
// for showing: a key pasted into it shows as [redacted].
func (c *Client) BaseURL() string { return c.redact(c.cfg.BaseURL) }

// SameServer reports whether o talks to the same server as c (the same
// base URL).
func (c *Client) SameServer(o *Client) bool { return o != nil && c.cfg.BaseURL == o.cfg.BaseURL }

// WithAPIKey returns a client for the same server with the same settings
// (and connection pool, extra headers and proxies) that authenticates
// with key instead; from a client with an identity token, the new one
// authenticates with the key alone and uses the default SCIM
// authentication. The new client has its own viewer cache. The key's
// format is checked. On a dry-run client, the placeholder GenerateAPIKey
// returned in place of a key gives a client of the same identity.
func (c *Client) WithAPIKey(key string) (*Client, error) {
	if c.cfg.DryRun && key == dryRunKey {
		// The key a dry run pretended to generate stands for its owner,
		// the viewer: the client's own identity.
		return c.sameServer(c.cfg, c.tokens)
	}
	cfg := c.cfg
	cfg.APIKey = NewSecret(key)
	cfg.identityTokenFile = ""
	cfg.KeySource = "" // the caller's: c's source is not this key's
	if c.tokens != nil {
		cfg.scimAuth = scimBasic // as for any key: the default
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return c.sameServer(cfg, nil)
}

// sameServer returns a client for cfg, a configuration for c's server,
// over c's HTTP client and sharing c's circuit breaker (the server's
// state is the same whoever asks) and c's bound on requests in flight.
func (c *Client) sameServer(cfg Config, tokens *tokenSource) (*Client, error) {
	nc, err := newClient(cfg, c.inner, tokens)
	if err != nil {
		return nil, err
	}
	nc.brk, nc.fam, nc.inFlight = c.brk, c.fam, c.inFlight
	nc.redactor.learned = c.fam.secrets
	return nc, nil
}

// WithReadOnly returns a client like c (same server, identity, settings
// and connection pool) that refuses every change (Config.ReadOnly).
func (c *Client) WithReadOnly() *Client {
	return c.with("WithReadOnly", func(cfg *Config) { cfg.ReadOnly = true })
}

// MaxResponseBytes returns the largest response c reads, in bytes
// (Config.MaxResponseBytes, or DefaultMaxResponseBytes).
func (c *Client) MaxResponseBytes() int64 { return c.maxBody }

// WithMaxResponseBytes returns a client like c (same server, identity,
// settings and connection pool) whose responses may be up to n bytes
// (Config.MaxResponseBytes; n <= 0 means the default, 256 MiB).
func (c *Client) WithMaxResponseBytes(n int64) *Client {
	return c.with("WithMaxResponseBytes", func(cfg *Config) { cfg.MaxResponseBytes = n })
}

// with returns a client like c, of the same identity, with a setting
// changed by set that needs no check.
func (c *Client) with(name string, set func(*Config)) *Client {
	cfg := c.cfg
	set(&cfg)
	d, err := c.sameServer(cfg, c.tokens)
	if err != nil { // c's configuration was checked when c was made
		panic(fmt.Sprintf("wandb: %s: %v", name, err))
	}
	return d
}

// WithServer returns a client for another server, baseURL ("" means
// https://api.wandb.ai), that authenticates with key and keeps c's other
// settings (HTTP client, headers, limits, hooks), but for the SCIM API:
// the new server's, at baseURL + "/scim", with the default authentication
// from a client with an identity token. The key is sent only to baseURL.
// It has its own viewer cache; a baseURL that names c's server
// (SameServer) gives a client of c's family, as WithAPIKey does: it shares
// c's circuit breaker, bound on requests in flight, last-admin guard, dry
// run and the secrets c learned.
func (c *Client) WithServer(baseURL, key string) (*Client, error) {
	cfg := c.cfg
	cfg.BaseURL = baseURL
	cfg.APIKey = NewSecret(key)
	cfg.identityTokenFile = ""
	cfg.KeySource = ""
	cfg.scimBaseURL = ""
	if c.tokens != nil {
		cfg.scimAuth = scimBasic // as for any key: the default
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.BaseURL == c.cfg.BaseURL {
		// c's server after all (SameServer): one family, as WithAPIKey's.
		return c.sameServer(cfg, nil)
	}
	return newClient(cfg, c.inner, nil)
}

// String describes the client without its key, e.g.
// "<wandb.Client https://api.wandb.ai>" (a key in the base URL's path
// shows as [redacted]).
func (c *Client) String() string {
	return fmt.Sprintf("<wandb.Client %s>", c.redact(shownURL(c.cfg.BaseURL)))
}

// GoString is like String, so %#v does not print the key either.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb: fmt would otherwise print the
// client's fields, its configuration's key among them, for verbs such as
// %d or %+v.
func (c *Client) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, c.String()) }
