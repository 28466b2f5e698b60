package wandb

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// Version is this project's version. It is part of the User-Agent.
const Version = "0.1.0"

// DefaultBaseURL is the W&B multi-tenant cloud API, used when Config.BaseURL is empty.
const DefaultBaseURL = "https://api.wandb.ai"

// Config configures a [Client]. Only APIKey is required.
type Config struct {
	// BaseURL is the server's API URL; "" means https://api.wandb.ai.
	// It must be http or https; a trailing "/" is stripped.
	BaseURL string
	// APIKey is the secret key the client authenticates with (required).
	APIKey string
	// HTTPClient sends the requests; nil means a tuned default that keeps
	// connections alive with up to 64 idle connections per host.
	HTTPClient *http.Client
	// UserAgent is an extra product token appended after
	// "W&B Public Client wandb-lua/<Version>".
	UserAgent string
	// Logger receives a debug line per attempt and an info line per retry;
	// nil discards them. It never receives a key.
	Logger *slog.Logger
	// Retry bounds the retries; the zero value means DefaultRetryPolicy().
	Retry RetryPolicy
	// MaxResponseBytes caps the size of a response body; 0 means 8 MiB.
	MaxResponseBytes int64
	// AttemptTimeout bounds each attempt, the response body included; 0 means 30s.
	AttemptTimeout time.Duration
}

// RetryPolicy bounds how a request is retried. Zero fields take the value
// from [DefaultRetryPolicy]; MaxAttempts 1 disables retries.
type RetryPolicy struct {
	MaxAttempts   int           // attempts in total, the first included
	MinWait       time.Duration // wait before the first retry; doubled for each further one
	MaxWait       time.Duration // cap on the computed wait
	MaxRetryAfter time.Duration // longest Retry-After the client will honour; a longer one ends the retries
}

// DefaultRetryPolicy returns the policy used for zero fields of Config.Retry:
// 6 attempts, waits from 1s doubling up to 30s (plus up to 25% jitter), and
// Retry-After honoured up to 60s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 6, MinWait: time.Second, MaxWait: 30 * time.Second, MaxRetryAfter: time.Minute}
}

// Client talks to one W&B server as one identity. It is safe for
// concurrent use by multiple goroutines.
type Client struct {
	cfg Config
}

var errTODO = errors.New("not implemented yet")

// NewClient checks cfg and returns a client. It sends nothing.
func NewClient(cfg Config) (*Client, error) {
	return &Client{cfg: cfg}, nil
}

// BaseURL returns the normalised base URL, e.g. "https://api.wandb.ai".
func (c *Client) BaseURL() string { return c.cfg.BaseURL }

// WithAPIKey returns a client for the same server with the same settings
// (and connection pool) that authenticates with key instead. The new
// client has its own viewer cache.
func (c *Client) WithAPIKey(key string) (*Client, error) {
	cfg := c.cfg
	cfg.APIKey = key
	return NewClient(cfg)
}

// Viewer returns the user the client's key belongs to. The result is
// cached after the first success, so later calls send nothing.
func (c *Client) Viewer(ctx context.Context) (*User, error) { return nil, errTODO }

// User returns the one user whose username or email is usernameOrEmail
// (compared case-insensitively), or the only user the server's search
// returns. Several matches give an error with code CodeAmbiguous listing
// the candidates; none gives ErrNotFound. It needs an admin key.
func (c *Client) User(ctx context.Context, usernameOrEmail string) (*User, error) {
	return nil, errTODO
}

// Users returns the users whose username or email contains query
// (case-insensitively; "" means all users), de-duplicated by ID. It needs
// an admin key.
func (c *Client) Users(ctx context.Context, query string) ([]*User, error) { return nil, errTODO }

// CreateUser creates a user with the given email, an instance admin when
// admin is true. The email is checked before anything is sent. An existing
// email gives an error with code CodeConflict. It needs an admin key.
func (c *Client) CreateUser(ctx context.Context, email string, admin bool) (*User, error) {
	return nil, errTODO
}

// String describes the client without its key, e.g.
// "<wandb.Client https://api.wandb.ai>".
func (c *Client) String() string { return "<wandb.Client " + c.cfg.BaseURL + ">" }
