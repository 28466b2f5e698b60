package wandb

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Version is this project's version. It is part of the User-Agent.
const Version = "0.1.0"

// SDKVersion is the W&B SDK release whose behaviour this package follows.
// The User-Agent carries it as the SDK's public API does ("W&B Public
// Client <version>"): the backend gates admin-capable access and
// first-party fields such as User.apiKeys on a public-client User-Agent
// with a version it recognises.
const SDKVersion = "0.28.2"

// DefaultBaseURL is the W&B multi-tenant cloud API, used when Config.BaseURL is empty.
const DefaultBaseURL = "https://api.wandb.ai"

// DefaultMaxResponseBytes is the largest response a client reads unless
// Config.MaxResponseBytes says otherwise. It bounds how much a hostile or
// broken server can make the client read. users() is one answer, not
// paginated: about 250 bytes a user without keys, 460 with two keys and
// two teams, so 200,000 users take 50 to 90 MiB; 256 MiB leaves room for
// more keys and teams, or for twice as many users. Answers are decoded as
// they are read, never held whole, so the limit is not memory the client
// holds; what the client keeps of the largest answer allowed is its users
// (about 0.3 KiB each in Go).
const DefaultMaxResponseBytes = 256 << 20

const (
	defaultAttemptTimeout = 30 * time.Second
	// defaultMaxConnsPerHost sizes the default pool for wandb.parallel's
	// concurrency, so bulk runs reuse connections instead of opening one per request.
	defaultMaxConnsPerHost = 64
)

// Config configures a [Client]. It needs credentials: exactly one of
// APIKey and IdentityTokenFile.
type Config struct {
	// BaseURL is the server's API URL; "" means https://api.wandb.ai.
	// It must be http or https; a trailing "/" is stripped. Requests go to
	// BaseURL + "/graphql".
	BaseURL string
	// APIKey is the secret key the client authenticates with, unless
	// IdentityTokenFile is set: wandb.NewSecret(key). It is sent only to
	// BaseURL's scheme and host:port. A Secret prints as [redacted] under
	// every fmt verb, slog handler and encoding/json, also inside another
	// value, through exported and unexported fields alike.
	APIKey Secret `json:"-"`
	// IdentityTokenFile, instead of APIKey, is a file holding an identity
	// token (a JWT) that the client exchanges at BaseURL + "/oidc/token" for
	// an access token, sent as "Authorization: Bearer <token>" to GraphQL
	// and SCIM alike (SCIMAuth must then be "" or bearer). The file is read
	// when the client is made, to fail early, and again for every exchange
	// (tokens are re-minted to the same path). A token is exchanged anew
	// when 5 minutes or less of it remain, one exchange at a time. Neither
	// the JWT nor the access token ever appears in an error, log or String.
	IdentityTokenFile string
	// KeySource says where APIKey (or IdentityTokenFile) came from, for
	// messages: when the server rejects the credentials (HTTP 401), the
	// error names it, never the key. ConfigFromEnv sets it, e.g.
	// "WANDB_API_KEY" or "the netrc file /home/me/.netrc, the entry for
	// machine api.wandb.ai"; "" names no source.
	KeySource string
	// Warnings are what ConfigFromEnv noticed that does not stop it but
	// that the user should hear of, one sentence each (a netrc file that
	// others can read, say). The package prints nothing: a program should
	// show them.
	Warnings []string
	// CredentialsFile caches access tokens across processes (the SDK's
	// credentials file); "" means ~/.config/wandb/credentials.json. See
	// IdentityTokenFile.
	CredentialsFile string
	// TokenRetry bounds the retries of the identity token exchange: 429,
	// 5xx (but 501) and transport errors are retried, another 4xx never.
	// Zero fields take 4 attempts, waits from 1s to 5s and Retry-After (or
	// RateLimit-Reset) up to 60s; each attempt has 10s and the whole exchange 60s.
	TokenRetry RetryPolicy
	// ExtraHeaders are added to every request that does not have them
	// (WANDB__EXTRA_HTTP_HEADERS). They replace the X-WANDB-USERNAME and
	// X-WANDB-USER-EMAIL headers, but not the client's User-Agent,
	// Use-Admin-Privileges, Content-Type and Accept, and an Authorization
	// among them is never sent: the credentials replace it. A
	// Proxy-Authorization is also sent to proxies on CONNECT. Values may be
	// secrets (a gateway token, Proxy-Authorization), so they are Secrets:
	// never shown; the names are.
	ExtraHeaders map[string]Secret `json:"-"`
	// Username and UserEmail are sent as X-WANDB-USERNAME and
	// X-WANDB-USER-EMAIL (WANDB_USERNAME, WANDB_USER_EMAIL), which W&B uses
	// to attribute a service account's requests to a user; each is left
	// out when empty.
	Username  string
	UserEmail string
	// HTTPProxy and HTTPSProxy are proxies for the client's http:// and
	// https:// requests (WANDB_HTTP_PROXY, WANDB_HTTPS_PROXY); where one is
	// empty, HTTP_PROXY, HTTPS_PROXY and NO_PROXY apply. They configure the
	// default transport, so they cannot be combined with HTTPClient. They
	// may hold a password, so they are Secrets: String shows them with the
	// password masked, and nothing else shows them.
	HTTPProxy  Secret `json:"-"`
	HTTPSProxy Secret `json:"-"`
	// InsecureSkipVerify turns off TLS certificate verification
	// (WANDB_INSECURE_DISABLE_SSL): anyone on the network path can then read
	// and change the traffic, the credentials included. It configures the
	// default transport, so it cannot be combined with HTTPClient. The
	// package prints nothing; a program should warn its user.
	InsecureSkipVerify bool
	// HTTPClient sends the requests; nil means a tuned default that keeps
	// connections alive with up to 64 idle connections per host. Its
	// Timeout, if set, applies as well as AttemptTimeout.
	HTTPClient *http.Client
	// UserAgent is an extra product token appended after
	// "W&B Public Client <SDKVersion> wandb-lua/<Version>".
	UserAgent string
	// UserAgentOverride, if not "", is the User-Agent of every request
	// (the identity token exchange's included) exactly as given, in place
	// of the default and UserAgent: for a server or proxy that refuses the
	// default. ConfigFromEnv reads WANDB_USER_AGENT. The W&B backend serves
	// first-party fields such as User.apiKeys only to a User-Agent that
	// starts with "W&B Public Client"; without that they fail with
	// "relogin required".
	UserAgentOverride string
	// Logger receives a debug line per attempt and an info line per retry;
	// nil discards them. It never receives a key.
	Logger *slog.Logger
	// OnRetry, if set, is called before each wait between two attempts of
	// a call, with the wait and its reason, so that a program can tell its
	// user why nothing seems to happen (wandb-lua says so on a terminal
	// for a wait of more than 2s). It may be called from several
	// goroutines at once, and must return soon.
	OnRetry func(RetryEvent) `json:"-"`
	// Retry bounds the retries; zero fields take DefaultRetryPolicy()'s
	// values. ConfigFromEnv reads WANDB__GRAPHQL_RETRY_MAX and
	// WANDB__GRAPHQL_RETRY_WAIT_MIN_SECONDS / _MAX_SECONDS.
	Retry RetryPolicy
	// MaxResponseBytes caps the size of a response body; 0 means 256 MiB,
	// enough for users() on an instance of 200,000 users with a few keys
	// and teams each (about 90 MiB with two of each). A larger answer fails with
	// CodeBadResponse, without retries. ConfigFromEnv reads
	// WANDB_MAX_RESPONSE_BYTES; see also Client.WithMaxResponseBytes.
	MaxResponseBytes int64
	// AttemptTimeout bounds each attempt, the response body included; 0
	// means 30s. ConfigFromEnv reads WANDB__GRAPHQL_TIMEOUT_SECONDS, else
	// WANDB_HTTP_TIMEOUT (seconds), as the SDK names it.
	AttemptTimeout time.Duration
	// MaxInFlight bounds the requests the client, and the clients derived
	// from it for the same server (WithAPIKey, WithReadOnly,
	// WithMaxResponseBytes), have in flight at once, however many
	// goroutines call them; 0 means 64, the default transport's
	// connections per host, and more than 10,000 is taken as 10,000. An
	// attempt waits for a place before it is sent, honouring its context
	// (a wait cut short sends nothing). ConfigFromEnv reads
	// WANDB_MAX_IN_FLIGHT.
	MaxInFlight int
	// OutcomeCheckTimeout bounds the check of a change whose caller's
	// context ended while its request was in flight (Ctrl-C, a deadline,
	// wandb.parallel stopping on another item's failure): the server is
	// asked whether the change was applied, so that even a stopped call
	// reports a definite outcome. 0 means 5s; a negative value skips the
	// check, and such a change ends with CodeUnknownOutcome.
	OutcomeCheckTimeout time.Duration
	// SCIMBaseURL is where the server's SCIM API is (user lifecycle, see
	// User.Deactivate); "" means BaseURL + "/scim". Deployments differ:
	// ConfigFromEnv reads it from WANDB_SCIM_BASE_URL. The key is sent to
	// it as SCIMAuth says.
	SCIMBaseURL string
	// SCIMAuth is how SCIM requests authenticate: SCIMAuthBasic (the
	// default, "") or SCIMAuthBearer. ConfigFromEnv reads WANDB_SCIM_AUTH.
	SCIMAuth SCIMAuth

	// DryRun sends no change (no GraphQL mutation, no SCIM change): each
	// is planned instead, a line to DryRunOutput, and returns a simulated
	// success (see Client.Change). Queries are sent as usual.
	DryRun bool
	// DryRunOutput receives the plan lines of a dry run, one whole line per
	// write, never two at once; nil discards them.
	DryRunOutput io.Writer `json:"-"`
	// ReadOnly refuses every change before anything is sent, with an error
	// matching ErrReadOnly.
	ReadOnly bool
	// OnChange, if set, is called with the record of every change the
	// client attempts (dry-run and refused ones included) before the call
	// returns, and, for a change that runs (not in a dry run or
	// read-only), with its intent record (OutcomePending, the same ID)
	// before it starts. It may be called from several goroutines at once.
	// AuditLog.Record writes an audit log.
	OnChange func(ChangeRecord) `json:"-"`
	// BeforeChange, if set, is called before each change is sent to the
	// server (not in a dry run or read-only: those send nothing; not for
	// Client.Change, a program's own change). An error refuses the change:
	// nothing is sent, and the call fails with an error matching
	// ErrReadOnly and the returned error, its message saying why. It is
	// asked after OnChange got the change's intent record: with
	// AuditLog.Check here, no change is sent whose intent line could not
	// be written, nor any after it.
	BeforeChange func(op, target string) error `json:"-"`
}

// Client talks to one W&B server as one identity. It is safe for
// concurrent use by multiple goroutines.
type Client struct {
	cfg       Config       // normalised; cfg.HTTPClient is the caller's (or nil)
	base      *url.URL     // parsed cfg.BaseURL
	endpoint  string       // cfg.BaseURL + "/graphql"
	scimBase  string       // cfg.SCIMBaseURL, or cfg.BaseURL + "/scim"
	inner     *http.Client // the caller's client or the default; shared by WithAPIKey clients
	http      *http.Client // inner with the credential layer added
	userAgent string
	logger    *slog.Logger
	retry     RetryPolicy
	maxBody   int64
	timeout   time.Duration
	redactor               // removes the key and its Basic credentials, or the identity's tokens, from errors and logs
	tokens    *tokenSource // the access tokens of IdentityTokenFile; nil with an API key
	brk       *breaker     // the server's circuit breaker, shared with clients derived for the same server
	fam       *family      // shared with the clients derived for the same server, like brk
	inFlight  inFlight     // the places for requests in flight, shared like brk

	mu     sync.Mutex
	viewer *User     // cached after the first successful Viewer
	scim   scimLogin // how SCIM requests authenticate with Basic, once known (see scimCredentials)

	callerPerson bool // SCIM lists the viewer as an active user (see callerIsAnotherPerson)
}

// NewClient checks cfg and returns a client. It sends nothing; with
// IdentityTokenFile, it reads that file.
func NewClient(cfg Config) (*Client, error) {
	base, err := normalizeBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, redactKeys(err, cfg.APIKey.Reveal())
	}
	cfg.BaseURL = base
	switch {
	case cfg.IdentityTokenFile != "" && cfg.APIKey.IsSet():
		return nil, configError("both an api key and an identity token file are set, which is not allowed; set one of them")
	case cfg.IdentityTokenFile == "":
		if err := checkAPIKey(cfg.APIKey.Reveal(), "config"); err != nil {
			return nil, err
		}
	}
	if err := checkSCIM(&cfg); err != nil {
		return nil, err
	}
	if err := checkHeaders(cfg); err != nil {
		return nil, err
	}
	if err := checkTransport(cfg); err != nil {
		return nil, err
	}
	cfg.ExtraHeaders = maps.Clone(cfg.ExtraHeaders) // the caller may change its map later
	return newClient(cfg, defaultHTTPClient(cfg), nil)
}

// newClient builds a client over hc (the default or the caller's own) from
// a checked cfg. tokens is the token source of cfg's identity if a client
// of that identity has one already; else, for an IdentityTokenFile, a new
// one is made.
func newClient(cfg Config, hc *http.Client, tokens *tokenSource) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, configError("base url: not a url")
	}
	scimBase := cfg.SCIMBaseURL
	if scimBase == "" {
		scimBase = cfg.BaseURL + "/scim"
	}
	su, err := url.Parse(scimBase)
	if err != nil {
		return nil, configError("scim base url: not a url")
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
		timeout:   cfg.AttemptTimeout,
		brk:       &breaker{},
		fam:       newFamily(),
		inFlight:  newInFlight(min(cfg.MaxInFlight, MaxInFlightLimit)),
	}
	if cfg.UserAgent != "" {
		c.userAgent += " " + cfg.UserAgent
	}
	if cfg.UserAgentOverride != "" {
		c.userAgent = cfg.UserAgentOverride
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
	if cfg.IdentityTokenFile != "" {
		if tokens == nil {
			// The exchange carries the extra headers, as the SDK's does,
			// but no credentials and no X-WANDB headers.
			exchange := cfg
			exchange.Username, exchange.UserEmail = "", ""
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
	c.redactor.add(proxySecret(cfg.HTTPProxy.Reveal()))
	c.redactor.add(proxySecret(cfg.HTTPSProxy.Reveal()))
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
// format is checked. On a dry-run client, DryRunKey gives a client of the
// same identity.
func (c *Client) WithAPIKey(key string) (*Client, error) {
	if c.cfg.DryRun && key == DryRunKey {
		// The key a dry run pretended to generate stands for its owner,
		// the viewer: the client's own identity.
		return c.sameServer(c.cfg, c.tokens)
	}
	if err := checkAPIKey(key, ""); err != nil {
		return nil, err
	}
	cfg := c.cfg
	cfg.APIKey = NewSecret(key)
	cfg.IdentityTokenFile = ""
	cfg.KeySource = "" // the caller's: c's source is not this key's
	if c.tokens != nil {
		cfg.SCIMAuth = SCIMAuthBasic // as for any key: the default
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
// settings: HTTP client and connection pool, proxies, extra headers,
// User-Agent, logger, retry policy, limits and SCIM authentication (the
// default, Basic, from a client with an identity token, which the new
// client does not use). The key is sent only to baseURL, never to c's
// server; the SCIM API is the new server's, at baseURL + "/scim". It has
// its own viewer cache. A baseURL that names c's server (SameServer)
// gives a client that shares c's circuit breaker and bound on requests
// in flight, as WithAPIKey does.
func (c *Client) WithServer(baseURL, key string) (*Client, error) {
	base, err := normalizeBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	if err := checkAPIKey(key, ""); err != nil {
		return nil, err
	}
	cfg := c.cfg
	cfg.BaseURL = base
	cfg.APIKey = NewSecret(key)
	cfg.IdentityTokenFile = ""
	cfg.KeySource = ""
	cfg.SCIMBaseURL = ""
	if c.tokens != nil {
		cfg.SCIMAuth = SCIMAuthBasic // as for any key: the default
	}
	nc, err := newClient(cfg, c.inner, nil)
	if err == nil && nc.SameServer(c) {
		// c's server after all: its state is the same whoever asks.
		nc.brk, nc.inFlight = c.brk, c.inFlight
	}
	return nc, err
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

// String describes the configuration without its secrets: whether the
// key is set, the identity token file and the transport settings that
// are not the defaults, never a header value or a proxy password.
func (cfg Config) String() string {
	key := "unset"
	if cfg.APIKey.IsSet() {
		key = "set"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "wandb.Config{BaseURL: %q, APIKey: %s", newRedactor(cfg.APIKey.Reveal()).redact(shownURL(cfg.BaseURL)), key)
	if cfg.IdentityTokenFile != "" {
		fmt.Fprintf(&b, ", IdentityTokenFile: %q", cfg.IdentityTokenFile)
	}
	if cfg.KeySource != "" {
		fmt.Fprintf(&b, ", KeySource: %q", cfg.KeySource)
	}
	if cfg.CredentialsFile != "" {
		fmt.Fprintf(&b, ", CredentialsFile: %q", cfg.CredentialsFile)
	}
	if len(cfg.ExtraHeaders) > 0 {
		names := slices.Sorted(maps.Keys(cfg.ExtraHeaders))
		fmt.Fprintf(&b, ", ExtraHeaders: [%s]", strings.Join(names, " "))
	}
	if cfg.Username != "" {
		fmt.Fprintf(&b, ", Username: %q", cfg.Username)
	}
	if cfg.UserEmail != "" {
		fmt.Fprintf(&b, ", UserEmail: %q", cfg.UserEmail)
	}
	if cfg.HTTPProxy.IsSet() {
		fmt.Fprintf(&b, ", HTTPProxy: %q", shownURL(cfg.HTTPProxy.Reveal()))
	}
	if cfg.HTTPSProxy.IsSet() {
		fmt.Fprintf(&b, ", HTTPSProxy: %q", shownURL(cfg.HTTPSProxy.Reveal()))
	}
	if cfg.InsecureSkipVerify {
		b.WriteString(", InsecureSkipVerify: true")
	}
	if cfg.UserAgentOverride != "" {
		fmt.Fprintf(&b, ", UserAgentOverride: %q", cfg.UserAgentOverride)
	}
	b.WriteString("}")
	return b.String()
}

// GoString is like String, so %#v does not print a secret either.
func (cfg Config) GoString() string { return cfg.String() }

// Format prints String for every verb: fmt would print the fields of the
// struct, the key among them, for verbs such as %d, %t or %x.
func (cfg Config) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, cfg.String()) }

// LogValue keeps the secrets out of structured logs.
func (cfg Config) LogValue() slog.Value { return slog.StringValue(cfg.String()) }
