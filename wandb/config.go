package wandb

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Config configures a [Client]: the server, the key, and how the client
// sends, retries, bounds and records its calls. The SDK's settings of the
// environment (an identity token instead of a key, extra headers, proxies,
// the User-Agent, the attempt timeout, the SCIM API's location and
// authentication) come with ConfigFromEnv, which a program can give an
// environment of its own (EnvOptions.Lookup).
type Config struct {
	// BaseURL is the server's API URL; "" means https://api.wandb.ai.
	// It must be http or https; a trailing "/" is stripped. Requests go to
	// BaseURL + "/graphql".
	BaseURL string
	// APIKey is the secret key the client authenticates with, unless
	// ConfigFromEnv found an identity token (WANDB_IDENTITY_TOKEN_FILE):
	// wandb.NewSecret(key). It is sent only to BaseURL's scheme and
	// host:port.
	APIKey Secret `json:"-"`
	// KeySource says where the credentials came from, for messages: when
	// the server rejects them (HTTP 401), the error names it, never the
	// key. ConfigFromEnv sets it, e.g. "WANDB_API_KEY" or "the netrc file
	// /home/me/.netrc, the entry for machine api.wandb.ai"; "" names no
	// source.
	KeySource string
	// Warnings are what ConfigFromEnv noticed that does not stop it but
	// that the user should hear of, one sentence each (a netrc file that
	// others can read, say). The package prints nothing: a program should
	// show them.
	Warnings []string
	// InsecureSkipVerify turns off TLS certificate verification
	// (WANDB_INSECURE_DISABLE_SSL): anyone on the network path can then read
	// and change the traffic, the credentials included. It configures the
	// default transport, so it cannot be combined with HTTPClient. The
	// package prints nothing; a program should warn its user.
	InsecureSkipVerify bool
	// HTTPClient sends the requests; nil means a tuned default that keeps
	// connections alive with up to 64 idle connections per host, through
	// the proxies of the environment. Its Timeout, if set, applies as well
	// as the attempt timeout.
	HTTPClient *http.Client
	// Logger receives a debug line per attempt and an info line per retry;
	// nil discards them. It never receives a key.
	Logger *slog.Logger
	// OnRetry, if set, is called before each wait between two attempts of
	// a call, with the wait and its reason, so that a program can tell its
	// user why nothing seems to happen. It may be called from several
	// goroutines at once, and must return soon.
	OnRetry func(RetryEvent) `json:"-"`
	// Retry bounds the retries; zero fields take 6 attempts, waits from 1s
	// doubling up to 30s (plus up to 25% jitter), and a server's
	// Retry-After or RateLimit-Reset honoured up to 60s in all over a
	// call's retries. ConfigFromEnv reads WANDB__GRAPHQL_RETRY_MAX and
	// WANDB__GRAPHQL_RETRY_WAIT_MIN_SECONDS / _MAX_SECONDS.
	Retry RetryPolicy
	// MaxResponseBytes caps the size of a response body; 0 means
	// DefaultMaxResponseBytes. A larger answer fails with CodeBadResponse
	// and HintMaxResponse, without retries. ConfigFromEnv reads
	// WANDB_MAX_RESPONSE_BYTES; see also Client.WithMaxResponseBytes.
	MaxResponseBytes int64
	// MaxInFlight bounds the requests the client, and the clients derived
	// from it for the same server (WithAPIKey, WithReadOnly,
	// WithMaxResponseBytes), have in flight at once, however many
	// goroutines call them; 0 means 64, the idle connections the default
	// transport keeps to one host (it sets no limit on open ones), and
	// more than MaxInFlightLimit is taken as that. An attempt waits for a place before it is sent, honouring its
	// context (a wait cut short sends nothing). ConfigFromEnv reads
	// WANDB_MAX_IN_FLIGHT.
	MaxInFlight int
	// OutcomeCheckTimeout bounds the check of a change whose caller's
	// context ended while its request was in flight (Ctrl-C, a deadline,
	// a batch stopping on another item's failure): the server is
	// asked whether the change was applied, so that even a stopped call
	// reports a definite outcome. 0 means 5s; a negative value skips the
	// check, and such a change ends with CodeUnknownOutcome.
	OutcomeCheckTimeout time.Duration

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
	BeforeChange func(op Op, target string) error `json:"-"`

	// The SDK's settings that only ConfigFromEnv sets (and this package's
	// tests), and tokenRetry, which only the tests set.

	// identityTokenFile (WANDB_IDENTITY_TOKEN_FILE), instead of APIKey, is
	// a file holding an identity token (a JWT) that the client exchanges at
	// BaseURL + "/oidc/token" for an access token, sent as "Authorization:
	// Bearer <token>" to GraphQL and SCIM alike (scimAuth must then be ""
	// or bearer). The file is read when the client is made, to fail early,
	// and again for every exchange (tokens are re-minted to the same path).
	// A token is exchanged anew when 5 minutes or less of it remain, one
	// exchange at a time. Neither the JWT nor the access token ever
	// appears in an error, log or String.
	identityTokenFile string
	// credentialsFile (WANDB_CREDENTIALS_FILE) caches access tokens across
	// processes (the SDK's credentials file); "" means
	// ~/.config/wandb/credentials.json.
	credentialsFile string
	// tokenRetry bounds the retries of the identity token exchange: 429,
	// 5xx (but 501) and transport errors are retried, another 4xx never.
	// Zero fields take 4 attempts, waits from 1s to 5s and Retry-After (or
	// RateLimit-Reset) up to 60s; each attempt has 10s and the whole
	// exchange 60s. Only tests set it (ConfigFromEnv leaves it zero), to
	// make the exchange's retries quick.
	tokenRetry RetryPolicy
	// extraHeaders (WANDB__EXTRA_HTTP_HEADERS) are added to every request
	// that does not have them. They replace the X-WANDB-USERNAME and
	// X-WANDB-USER-EMAIL headers, but not the client's User-Agent,
	// Use-Admin-Privileges, Content-Type and Accept, and an Authorization
	// among them is never sent: the credentials replace it. A
	// Proxy-Authorization is also sent to proxies on CONNECT. Values may be
	// secrets (a gateway token, Proxy-Authorization), so they are Secrets:
	// never shown, and removed from errors and logs as keys are (those of
	// 8 characters or more); the names are shown.
	extraHeaders map[string]Secret
	// username and userEmail are sent as X-WANDB-USERNAME and
	// X-WANDB-USER-EMAIL (WANDB_USERNAME, WANDB_USER_EMAIL), which W&B uses
	// to attribute a service account's requests to a user; each is left
	// out when empty.
	username  string
	userEmail string
	// httpProxy and httpsProxy are proxies for the client's http:// and
	// https:// requests (WANDB_HTTP_PROXY, WANDB_HTTPS_PROXY); where one is
	// empty, HTTP_PROXY, HTTPS_PROXY and NO_PROXY apply. They configure the
	// default transport, so they cannot be combined with HTTPClient. They
	// may hold a password, so they are Secrets: String shows them with the
	// password masked, and nothing else shows them.
	httpProxy  Secret
	httpsProxy Secret
	// userAgentOverride (WANDB_USER_AGENT), if not "", is the User-Agent of
	// every request (the identity token exchange's included) exactly as
	// given, in place of the default ("W&B Public Client <SDKVersion>
	// wandb-lua/<Version>"): for a server or proxy
	// that refuses the default. The W&B backend serves first-party fields
	// such as User.apiKeys only to a User-Agent that starts with "W&B
	// Public Client"; without that they fail with "relogin required".
	userAgentOverride string
	// attemptTimeout bounds each attempt, the response body included; 0
	// means 30s (WANDB__GRAPHQL_TIMEOUT_SECONDS, else WANDB_HTTP_TIMEOUT, in
	// seconds, as the SDK names it).
	attemptTimeout time.Duration
	// scimBaseURL (WANDB_SCIM_BASE_URL) is where the server's SCIM API is
	// (user lifecycle, see User.Deactivate); "" means BaseURL + "/scim".
	// Deployments differ. The key is sent to it as scimAuth says.
	scimBaseURL string
	// scimAuth (WANDB_SCIM_AUTH) is how SCIM requests authenticate:
	// scimBasic (the default, "") or scimBearer.
	scimAuth scimAuthMode
}

// check normalises cfg and checks it: the one step every configuration
// goes through, whether made in Go (NewClient, Client.WithAPIKey,
// Client.WithServer) or read from the environment (ConfigFromEnv). In
// order: the base URL, by the SDK's rules; the headers (every extra header
// with a valid name, no value with a control character); the proxies,
// without a trailing "/", and the settings of the default transport
// without a caller's HTTPClient; the credentials, exactly one of APIKey
// and the identity token file, the key in the SDK's format; the SCIM
// settings.
// The first problem is the error, which never shows a secret, and names
// the environment's variable of a setting that only ConfigFromEnv sets
// (WANDB__EXTRA_HTTP_HEADERS, WANDB_USERNAME, WANDB_SCIM_AUTH, ...): that
// variable is what its user can change.
func (cfg *Config) check() error {
	if err := cfg.checkBaseURL(""); err != nil {
		return redactKeys(err, cfg.APIKey.Reveal())
	}
	for name, value := range cfg.extraHeaders {
		if !validHeaderName(name) {
			return configError("WANDB__EXTRA_HTTP_HEADERS: header %q: not a valid header name", name)
		}
		if badHeaderValue(value.Reveal()) {
			return configError("WANDB__EXTRA_HTTP_HEADERS: header %s: the value has a control character such as a newline; remove it", name)
		}
	}
	if badHeaderValue(cfg.username) {
		return configError("WANDB_USERNAME: has a control character such as a newline; remove it")
	}
	if badHeaderValue(cfg.userEmail) {
		return configError("WANDB_USER_EMAIL: has a control character such as a newline; remove it")
	}
	if badHeaderValue(cfg.userAgentOverride) {
		return configError("WANDB_USER_AGENT: has a control character such as a newline; remove it")
	}
	for _, p := range []struct {
		name  string
		proxy *Secret
	}{{"WANDB_HTTP_PROXY", &cfg.httpProxy}, {"WANDB_HTTPS_PROXY", &cfg.httpsProxy}} {
		raw := p.proxy.Reveal()
		if _, err := parseProxyURL(raw); err != nil {
			return configError("%s %q: %v", p.name, shownURL(raw), err)
		}
		*p.proxy = NewSecret(strings.TrimRight(raw, "/"))
	}
	if cfg.HTTPClient != nil && (cfg.httpProxy.IsSet() || cfg.httpsProxy.IsSet() || cfg.InsecureSkipVerify) {
		return configError("WANDB_HTTP_PROXY, WANDB_HTTPS_PROXY and InsecureSkipVerify configure the default transport: " +
			"set them on the transport of Config.HTTPClient instead, or leave HTTPClient nil")
	}
	switch {
	case cfg.identityTokenFile != "" && cfg.APIKey.IsSet():
		return configError("both an api key and WANDB_IDENTITY_TOKEN_FILE are set, which is not allowed; set one of them")
	case cfg.identityTokenFile == "":
		if err := checkAPIKey(cfg.APIKey.Reveal(), cfg.KeySource); err != nil {
			return err
		}
	}
	if err := cfg.checkSCIM(); err != nil {
		return err
	}
	return nil
}

// checkBaseURL normalises cfg.BaseURL by the SDK's rules (see
// normalizeBaseURL); from, if not "", names the setting it came from in
// the error.
func (cfg *Config) checkBaseURL(from string) error {
	base, err := normalizeBaseURL(cfg.BaseURL)
	var e *Error
	switch {
	case err != nil && from != "" && errors.As(err, &e):
		return configError("%s: %s", from, e.Message)
	case err != nil:
		return err
	}
	cfg.BaseURL = base
	return nil
}

// checkSCIM normalises the SCIM settings of cfg: the base URL as BaseURL
// is checked, the authentication "" as basic, or as bearer with an
// identity token, whose access token SCIM takes as Bearer (Basic needs a
// key).
func (cfg *Config) checkSCIM() error {
	switch auth := scimAuthMode(strings.ToLower(string(cfg.scimAuth))); {
	case auth != "" && auth != scimBasic && auth != scimBearer:
		return configError("WANDB_SCIM_AUTH %q: want %q or %q", cfg.scimAuth, scimBasic, scimBearer)
	case cfg.identityTokenFile != "" && auth == scimBasic:
		return configError("WANDB_SCIM_AUTH %q needs an api key; with an identity token SCIM authenticates with bearer: drop the setting or set it to %q",
			cfg.scimAuth, scimBearer)
	case cfg.identityTokenFile != "" || auth == scimBearer:
		cfg.scimAuth = scimBearer
	default:
		cfg.scimAuth = scimBasic
	}
	if cfg.scimBaseURL == "" {
		return nil
	}
	base, err := normalizeBaseURL(cfg.scimBaseURL)
	var e *Error
	if errors.As(err, &e) {
		return configError("WANDB_SCIM_BASE_URL: %s", e.Message)
	}
	cfg.scimBaseURL = base
	return err
}

var (
	jwtPattern       = regexp.MustCompile(`^[\w-]+\.[\w-]+\.[\w-]+$`)
	keySecretPattern = regexp.MustCompile(`^[\w-]+$`)
)

// checkAPIKey applies the SDK's key format check (wandb/sdk/lib/wbauth/
// validation.py): not empty, no white space around it, and either shaped
// like a JWT or an optional prefix and "-" (such as "local-") followed by
// 40 or more letters, digits, underscores or hyphens. source names where
// the key came from (Config.KeySource; "" names none); the key itself
// never appears in the error.
func checkAPIKey(key, source string) error {
	bad := func(msg string) error {
		prefix := "api key: "
		if source != "" {
			prefix = "api key from " + source + ": "
		}
		return newRedactor(key).newError(Error{Op: OpConfig, Code: CodeInvalidArgument, Message: prefix + msg})
	}
	if key == "" {
		return bad("is empty")
	}
	if strings.TrimFunc(key, unicode.IsSpace) != key {
		return bad("has leading or trailing white space")
	}
	if jwtPattern.MatchString(key) {
		return nil
	}
	secret := key
	if _, after, ok := strings.Cut(key, "-"); ok {
		secret = after // an on-prem prefix such as "local-"
	}
	if !keySecretPattern.MatchString(secret) {
		return bad("may only contain letters A-Z, digits, underscores and hyphens")
	}
	if n := len(secret); n < 40 {
		return bad(fmt.Sprintf("must have 40+ characters, has %d", n))
	}
	return nil
}

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
	if cfg.identityTokenFile != "" {
		fmt.Fprintf(&b, ", IdentityTokenFile: %q", cfg.identityTokenFile)
	}
	if cfg.KeySource != "" {
		fmt.Fprintf(&b, ", KeySource: %q", cfg.KeySource)
	}
	if cfg.credentialsFile != "" {
		fmt.Fprintf(&b, ", CredentialsFile: %q", cfg.credentialsFile)
	}
	if len(cfg.extraHeaders) > 0 {
		names := slices.Sorted(maps.Keys(cfg.extraHeaders))
		fmt.Fprintf(&b, ", ExtraHeaders: [%s]", strings.Join(names, " "))
	}
	if cfg.username != "" {
		fmt.Fprintf(&b, ", Username: %q", cfg.username)
	}
	if cfg.userEmail != "" {
		fmt.Fprintf(&b, ", UserEmail: %q", cfg.userEmail)
	}
	if cfg.httpProxy.IsSet() {
		fmt.Fprintf(&b, ", HTTPProxy: %q", shownURL(cfg.httpProxy.Reveal()))
	}
	if cfg.httpsProxy.IsSet() {
		fmt.Fprintf(&b, ", HTTPSProxy: %q", shownURL(cfg.httpsProxy.Reveal()))
	}
	if cfg.InsecureSkipVerify {
		b.WriteString(", InsecureSkipVerify: true")
	}
	if cfg.userAgentOverride != "" {
		fmt.Fprintf(&b, ", UserAgentOverride: %q", cfg.userAgentOverride)
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
