package wandb

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Version is this project's version. It is part of the User-Agent.
const Version = "0.1.0"

// DefaultBaseURL is the W&B multi-tenant cloud API, used when Config.BaseURL is empty.
const DefaultBaseURL = "https://api.wandb.ai"

const (
	defaultMaxResponseBytes = 8 << 20
	defaultAttemptTimeout   = 30 * time.Second
	// defaultMaxConnsPerHost sizes the default pool for wandb.parallel's
	// concurrency, so bulk runs reuse connections instead of opening one per request.
	defaultMaxConnsPerHost = 64
)

// Config configures a [Client]. Only APIKey is required.
type Config struct {
	// BaseURL is the server's API URL; "" means https://api.wandb.ai.
	// It must be http or https; a trailing "/" is stripped. Requests go to
	// BaseURL + "/graphql".
	BaseURL string
	// APIKey is the secret key the client authenticates with (required). It
	// is sent only to BaseURL's scheme and host:port, and encoding/json
	// leaves it out, so a Config logged inside another value stays keyless.
	APIKey string `json:"-"`
	// HTTPClient sends the requests; nil means a tuned default that keeps
	// connections alive with up to 64 idle connections per host. Its
	// Timeout, if set, applies as well as AttemptTimeout.
	HTTPClient *http.Client
	// UserAgent is an extra product token appended after
	// "W&B Public Client wandb-lua/<Version>".
	UserAgent string
	// Logger receives a debug line per attempt and an info line per retry;
	// nil discards them. It never receives a key.
	Logger *slog.Logger
	// Retry bounds the retries; zero fields take DefaultRetryPolicy()'s values.
	Retry RetryPolicy
	// MaxResponseBytes caps the size of a response body; 0 means 8 MiB.
	MaxResponseBytes int64
	// AttemptTimeout bounds each attempt, the response body included; 0 means 30s.
	AttemptTimeout time.Duration
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
	// DryRunOutput receives the plan lines of a dry run; nil discards them.
	DryRunOutput io.Writer `json:"-"`
	// ReadOnly refuses every change before anything is sent, with an error
	// matching ErrReadOnly.
	ReadOnly bool
	// OnChange, if set, is called with the record of every change the
	// client attempts (dry-run and refused ones included) before the call
	// returns: AuditLog.Record writes an audit log.
	OnChange func(ChangeRecord) `json:"-"`
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
	redactor  // removes the key and its Basic credentials from errors and logs

	mu       sync.Mutex
	viewer   *User  // cached after the first successful Viewer
	scimAuth string // the SCIM Authorization header, once known (see scimCredentials)
}

// NewClient checks cfg and returns a client. It sends nothing.
func NewClient(cfg Config) (*Client, error) {
	base, err := normalizeBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	cfg.BaseURL = base
	if err := checkAPIKey(cfg.APIKey, "config"); err != nil {
		return nil, err
	}
	if err := checkSCIM(&cfg); err != nil {
		return nil, err
	}
	return newClient(cfg, defaultHTTPClient(cfg.HTTPClient))
}

// newClient builds a client over hc (already wrapped or the caller's own)
// from a checked cfg.
func newClient(cfg Config, hc *http.Client) (*Client, error) {
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
		userAgent: "W&B Public Client wandb-lua/" + Version,
		logger:    cfg.Logger,
		retry:     cfg.Retry.withDefaults(),
		maxBody:   cfg.MaxResponseBytes,
		timeout:   cfg.AttemptTimeout,
		redactor:  newRedactor(cfg.APIKey),
	}
	if cfg.UserAgent != "" {
		c.userAgent += " " + cfg.UserAgent
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.maxBody <= 0 {
		c.maxBody = defaultMaxResponseBytes
	}
	if c.timeout <= 0 {
		c.timeout = defaultAttemptTimeout
	}
	c.inner = hc
	graphQLAuth := "Basic " + basicCredentials(cfg.APIKey)
	c.http = withCredentials(hc,
		newScope(su, c.scimCredentials),
		newScope(u, func() string { return graphQLAuth }))
	return c, nil
}

// defaultHTTPClient returns hc, or when it is nil a client with a pool sized
// for concurrent use.
func defaultHTTPClient(hc *http.Client) *http.Client {
	if hc != nil {
		return hc
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 4 * defaultMaxConnsPerHost
	t.MaxIdleConnsPerHost = defaultMaxConnsPerHost
	t.IdleConnTimeout = 90 * time.Second
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return &http.Client{Transport: t}
}

// BaseURL returns the normalised base URL, e.g. "https://api.wandb.ai".
func (c *Client) BaseURL() string { return c.cfg.BaseURL }

// WithAPIKey returns a client for the same server with the same settings
// (and connection pool) that authenticates with key instead. The new
// client has its own viewer cache. The key's format is checked. On a
// dry-run client, DryRunKey gives a client of the same identity.
func (c *Client) WithAPIKey(key string) (*Client, error) {
	if c.cfg.DryRun && key == DryRunKey {
		// The key a dry run pretended to generate stands for its owner,
		// the viewer: the client's own identity.
		return newClient(c.cfg, c.inner)
	}
	if err := checkAPIKey(key, ""); err != nil {
		return nil, err
	}
	cfg := c.cfg
	cfg.APIKey = key
	return newClient(cfg, c.inner)
}

// WithReadOnly returns a client like c (same server, identity, settings
// and connection pool) that refuses every change (Config.ReadOnly).
func (c *Client) WithReadOnly() *Client {
	cfg := c.cfg
	cfg.ReadOnly = true
	ro, err := newClient(cfg, c.inner)
	if err != nil { // c's configuration was checked when c was made
		panic(fmt.Sprintf("wandb: WithReadOnly: %v", err))
	}
	return ro
}

// WithServer returns a client for another server, baseURL ("" means
// https://api.wandb.ai), that authenticates with key and keeps c's other
// settings: HTTP client and connection pool, User-Agent, logger, retry
// policy, limits and SCIM authentication. The key is sent only to baseURL,
// never to c's server; the SCIM API is the new server's, at baseURL +
// "/scim". It has its own viewer cache.
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
	cfg.APIKey = key
	cfg.SCIMBaseURL = ""
	return newClient(cfg, c.inner)
}

// String describes the client without its key, e.g.
// "<wandb.Client https://api.wandb.ai>".
func (c *Client) String() string { return fmt.Sprintf("<wandb.Client %s>", c.cfg.BaseURL) }

// GoString is like String, so %#v does not print the key either.
func (c *Client) GoString() string { return c.String() }

// String describes the configuration without its key.
func (cfg Config) String() string {
	key := "unset"
	if cfg.APIKey != "" {
		key = "set"
	}
	return fmt.Sprintf("wandb.Config{BaseURL: %q, APIKey: %s}", cfg.BaseURL, key)
}

// GoString is like String, so %#v does not print the key either.
func (cfg Config) GoString() string { return cfg.String() }

// LogValue keeps the key out of structured logs.
func (cfg Config) LogValue() slog.Value { return slog.StringValue(cfg.String()) }
