package wandb

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// The base URL rules of the SDK (wandb/sdk/lib/urls.py and the base_url
// validator in wandb/sdk/wandb_settings.py), with errors that say what to
// write instead.

// wandbAIPattern is the SDK's test for a W&B cloud URL (wandb/sdk/lib/urls.py).
var wandbAIPattern = regexp.MustCompile(`.*wandb\.ai[^.]*$`)

// normalizeBaseURL applies the SDK's base-URL rules: "" means the default,
// http(s) only, a host is required, trailing slashes are stripped, and a
// wandb.ai URL must be https://api.wandb.ai-like.
func normalizeBaseURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return defaultBaseURL, nil
	}
	bad := func(format string, args ...any) error {
		return configError("base url %q: %s", shownURL(raw), fmt.Sprintf(format, args...))
	}
	u, err := url.Parse(raw)
	if (err != nil || u.Scheme != "http" && u.Scheme != "https") && !strings.Contains(raw, "://") {
		if s := schemeSuggestion(raw); s != "" {
			return "", bad("must start with http:// or https://; use %s", s)
		}
	}
	if err != nil {
		return "", bad("not a url")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", bad("must start with http:// or https://")
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", bad("has no host")
	}
	if u.User != nil {
		return "", bad("must not contain credentials; set the api key instead")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", bad("must not have a query or fragment")
	}
	s := strings.TrimRight(u.String(), "/")
	if wandbAIPattern.MatchString(s) {
		if !strings.Contains(s, "api.") {
			return "", bad("not the api url of W&B cloud; use https://api.wandb.ai")
		}
		if u.Scheme != "https" {
			return "", bad("W&B cloud must be reached over https; use https://api.wandb.ai")
		}
	}
	return s, nil
}

// schemeSuggestion returns the URL raw (written without a scheme, such as
// "127.0.0.1:8080" or "wandb.example.com") probably stands for: http:// for
// localhost and IP addresses that are loopback, private or link-local
// (a server there rarely has a certificate), https:// for anything else.
// It returns "" when raw does not look like host[:port][/path] or would
// echo credentials.
func schemeSuggestion(raw string) string {
	if strings.ContainsAny(raw, "@ \t") {
		return ""
	}
	u, err := url.Parse("https://" + raw)
	if err != nil || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	scheme := "https"
	ip := net.ParseIP(host)
	switch {
	case host == "localhost" || strings.HasSuffix(host, ".localhost"):
		scheme = "http"
	case ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified()):
		scheme = "http"
	}
	s := scheme + "://" + strings.TrimRight(raw, "/")
	if wandbAIPattern.MatchString(s) {
		return defaultBaseURL
	}
	return s
}

// shownURL is raw as a message may show it: with the user information, if
// any, replaced by "xxxxx", since a key pasted into a URL must not be
// echoed.
func shownURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err == nil && (u.User != nil || u.RawQuery != "" || u.Fragment != ""):
		// user:key@, ?key=..., #...: shown as there, not what they hold.
		if u.User != nil {
			u.User = url.User("xxxxx")
		}
		if u.RawQuery != "" {
			u.RawQuery = "xxxxx"
		}
		if u.Fragment != "" {
			u.Fragment = "xxxxx"
		}
		return u.String()
	case strings.ContainsAny(raw, "@?#"):
		// Not parsed ("user:key@host" without a scheme, or no URL at
		// all): it may still hold a key.
		return "(a url with an @, ? or #, not shown)"
	}
	return raw
}
