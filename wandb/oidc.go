package wandb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Identity-token (JWT) federation, as wandb-core does it
// (core/internal/api/credentials.go): the client exchanges the JWT in
// the identity token file (Config.identityTokenFile) for an access token at <base url>/oidc/token
// (the RFC 7523 JWT bearer grant) and authenticates with
// "Authorization: Bearer <access token>". The token is cached in memory
// and in the credentials file (tokencache.go), and replaced when 5 minutes
// or less remain; one exchange runs at a time.

const (
	// tokenRefreshMargin: a token with this little time left is replaced.
	tokenRefreshMargin = 5 * time.Minute
	// tokenAttemptTimeout bounds each exchange attempt.
	tokenAttemptTimeout = 10 * time.Second
	// tokenExchangeTimeout bounds an exchange, its retries included (the
	// request that needs the token may bound it sooner).
	tokenExchangeTimeout = 60 * time.Second
	// maxTokenAnswerBytes bounds the token endpoint's answer.
	maxTokenAnswerBytes = 1 << 20
)

// defaultTokenRetry is the exchange's retry policy: 3 retries, 1s to 5s
// apart (fewer and shorter than a request's: the request that needs the
// token is itself retried, and every other request waits on the exchange).
func defaultTokenRetry() RetryPolicy {
	return RetryPolicy{MaxAttempts: 4, MinWait: time.Second, MaxWait: 5 * time.Second, MaxRetryAfter: tokenExchangeTimeout}
}

// tokenSource provides the access token of one identity. Clients of the
// same identity (WithReadOnly) share it.
type tokenSource struct {
	baseURL   string // the cache's key: the normalised base URL
	tokenFile string
	cacheFile string       // "" for no cache
	hc        *http.Client // with the default headers, without credentials
	userAgent string
	retry     RetryPolicy
	logger    *slog.Logger
	redactor  // the identity's: the JWTs and access tokens seen

	lock chan struct{} // held (one slot) while a token is looked for

	mu      sync.Mutex // guards token and expires
	token   string
	expires time.Time

	answered atomic.Bool // the token endpoint has answered: see misconfigured
}

// newTokenSource returns the token source of cfg, whose identity token
// file it reads once, to fail early when it is missing or empty.
func newTokenSource(cfg Config, hc *http.Client, userAgent string, logger *slog.Logger) (*tokenSource, error) {
	r := newRedactor("")
	jwt, err := readIdentityToken(cfg.identityTokenFile)
	if err != nil {
		return nil, configError("%s", err.msg)
	}
	r.add(jwt)
	cacheFile := cfg.credentialsFile
	if cacheFile == "" {
		cacheFile = defaultCredentialsFile()
	}
	return &tokenSource{
		baseURL:   cfg.BaseURL,
		tokenFile: cfg.identityTokenFile,
		cacheFile: cacheFile,
		hc:        hc,
		userAgent: userAgent,
		retry:     cfg.tokenRetry.withDefaultsFrom(defaultTokenRetry()),
		logger:    logger,
		redactor:  r,
		lock:      make(chan struct{}, 1),
	}, nil
}

// readIdentityToken reads the JWT in the file at path, without the white
// space around it (the newline an editor or echo adds).
func readIdentityToken(path string) (string, *tokenError) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in the message already
		}
		return "", &tokenError{code: CodeUnauthorized, err: err,
			msg: fmt.Sprintf("identity token file %s: cannot read it: %v", path, err)}
	}
	jwt := strings.TrimSpace(string(b))
	if jwt == "" {
		return "", &tokenError{code: CodeUnauthorized,
			msg: fmt.Sprintf("identity token file %s is empty; write the identity token (a JWT) to it", path)}
	}
	return jwt, nil
}

// tokenError is a failure to get an access token. Its text never holds a
// secret: the endpoint's answer is redacted before it is kept.
type tokenError struct {
	code      Code
	msg       string
	retryable bool // worth another exchange attempt
	err       error
}

func (e *tokenError) Error() string { return e.msg }
func (e *tokenError) Unwrap() error { return e.err }

// current returns the token in memory, if it has more than
// tokenRefreshMargin left.
func (ts *tokenSource) current() (string, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.token, ts.token != "" && time.Until(ts.expires) > tokenRefreshMargin
}

func (ts *tokenSource) set(token string, expires time.Time) {
	ts.redactor.add(token)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.token, ts.expires = token, expires
}

// accessToken returns a valid access token: the one in memory, else the
// credentials file's, else a new one from an exchange, which it caches.
// One caller at a time looks; the others wait (while ctx lets them) and
// then find its token in memory.
func (ts *tokenSource) accessToken(ctx context.Context) (string, error) {
	if tok, ok := ts.current(); ok {
		return tok, nil
	}
	select {
	case ts.lock <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-ts.lock }()
	if tok, ok := ts.current(); ok {
		return tok, nil
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	var cache tokenCache
	if ts.cacheFile != "" {
		var problem string
		cache, problem = readTokenCache(ts.cacheFile)
		if problem != "" {
			ts.logger.WarnContext(ctx, "wandb credentials file unusable; it will be replaced",
				"file", ts.cacheFile, "problem", problem)
		}
		if tok, exp, ok := cache.get(ts.baseURL); ok && time.Until(exp) > tokenRefreshMargin {
			ts.set(tok, exp)
			return tok, nil
		}
	}
	tok, exp, err := ts.exchange(ctx)
	if err != nil {
		return "", err
	}
	ts.set(tok, exp)
	if ts.cacheFile != "" {
		cache.put(ts.baseURL, tok, exp)
		if err := cache.write(ts.cacheFile); err != nil {
			ts.logger.WarnContext(ctx, "wandb cannot write the credentials file", "file", ts.cacheFile, "error", ts.redact(err.Error()))
		}
	}
	return tok, nil
}

// exchange trades the identity token, read from its file now (it may have
// been re-minted since), for an access token, with retries.
func (ts *tokenSource) exchange(parent context.Context) (string, time.Time, error) {
	jwt, terr := readIdentityToken(ts.tokenFile)
	if terr != nil {
		return "", time.Time{}, terr
	}
	ts.redactor.add(jwt)
	ctx, cancel := context.WithTimeout(parent, tokenExchangeTimeout)
	defer cancel()
	body := "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=" + url.QueryEscape(jwt)
	for attempt := 1; ; attempt++ {
		a := ts.post(ctx, body)
		if err := parent.Err(); err != nil {
			return "", time.Time{}, err
		}
		tok, exp, te := ts.answer(a)
		if te == nil {
			return tok, exp, nil
		}
		if ctx.Err() != nil {
			te = &tokenError{code: CodeTimeout, err: ctx.Err(),
				msg: fmt.Sprintf("failed to retrieve access token: no access token within %s", tokenExchangeTimeout)}
		}
		if !te.retryable || attempt >= ts.retry.MaxAttempts {
			return "", time.Time{}, te
		}
		wait, header, ok := ts.retry.backoff(attempt, a.status, a.header)
		if dl, has := ctx.Deadline(); !ok || has && time.Until(dl) < wait {
			return "", time.Time{}, te
		}
		attrs := []any{"attempt", attempt, "reason", te.msg, "wait", wait}
		if header != "" {
			attrs = append(attrs, "header", header)
		}
		ts.logger.InfoContext(ctx, "wandb token exchange retry", attrs...)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			if err := parent.Err(); err != nil {
				return "", time.Time{}, err
			}
			return "", time.Time{}, te
		case <-t.C:
		}
	}
}

// post sends one exchange request.
func (ts *tokenSource) post(ctx context.Context, body string) attemptResult {
	actx, cancel := context.WithTimeout(ctx, tokenAttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, ts.baseURL+"/oidc/token", strings.NewReader(body))
	if err != nil {
		return attemptResult{err: err, notSent: true}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", ts.userAgent)
	resp, err := ts.hc.Do(req)
	if err != nil {
		return attemptResult{err: err, timedOut: timedOut(ctx, actx), mismatch: schemeMismatch(err, 0, nil)}
	}
	defer resp.Body.Close()
	a := attemptResult{status: resp.StatusCode, header: resp.Header}
	a.body, a.err = io.ReadAll(io.LimitReader(resp.Body, maxTokenAnswerBytes))
	a.timedOut = a.err != nil && timedOut(ctx, actx)
	if a.mismatch = schemeMismatch(nil, a.status, a.body); a.mismatch == mismatchNone {
		ts.answered.Store(true)
	}
	return a
}

// answer reads an exchange attempt's outcome: the token and its expiry,
// or the error.
func (ts *tokenSource) answer(a attemptResult) (string, time.Time, *tokenError) {
	const prefix = "failed to retrieve access token: "
	if msg, ok := misconfigured(ts.redact(shownURL(ts.baseURL)), ts.baseURL+"/oidc/token", a, ts.answered.Load()); ok {
		// Waiting cannot help: the URL is wrong, or nothing runs there.
		return "", time.Time{}, &tokenError{code: CodeTransport, err: a.err, msg: prefix + msg}
	}
	switch {
	case a.timedOut:
		return "", time.Time{}, &tokenError{code: CodeTimeout, retryable: true, err: a.err,
			msg: fmt.Sprintf(prefix+"no answer from %s/oidc/token within %s", ts.baseURL, tokenAttemptTimeout)}
	case a.err != nil:
		retry := !permanentTransportError.MatchString(a.err.Error()) && !hostNotFound(a.err)
		return "", time.Time{}, &tokenError{code: CodeTransport, retryable: retry, err: a.err,
			msg: prefix + ts.redact(a.err.Error())}
	case a.status != http.StatusOK:
		te := &tokenError{msg: fmt.Sprintf(prefix+"HTTP %d: %s", a.status, excerpt([]byte(ts.redact(string(a.body)))))}
		switch s := a.status; {
		case s == http.StatusTooManyRequests:
			te.code, te.retryable = CodeRateLimited, true
		case s >= 500:
			te.code, te.retryable = statusCode(s), s != http.StatusNotImplemented
		case s >= 400:
			// A rejection (an invalid or expired token, an unknown
			// user, a wrong audience): no retry can change it.
			te.code = CodeUnauthorized
			te.msg += fmt.Sprintf("; check that the identity token in %s is current and meant for %s", ts.tokenFile, ts.baseURL)
		default:
			te.code = CodeBadResponse
		}
		return "", time.Time{}, te
	}
	var v struct {
		AccessToken string  `json:"access_token"`
		ExpiresIn   float64 `json:"expires_in"`
	}
	if err := json.Unmarshal(a.body, &v); err != nil || v.AccessToken == "" {
		return "", time.Time{}, &tokenError{code: CodeBadResponse,
			msg: prefix + "the answer of " + ts.baseURL + "/oidc/token has no access_token"}
	}
	return v.AccessToken, time.Now().UTC().Add(time.Duration(v.ExpiresIn * float64(time.Second))), nil
}

// tokenFailure is the error of the call op whose request could not get an
// access token.
func (c *Client) tokenFailure(op Op, te *tokenError) *Error {
	return c.newError(Error{Op: op, Code: te.code, Message: te.msg, Err: te.err})
}
