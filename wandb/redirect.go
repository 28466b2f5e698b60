package wandb

import (
	"errors"
	"fmt"
	"net/http"
)

// Redirects: a W&B API does not redirect its requests. One that does is
// usually a wrong base URL (http:// for an https:// server, an old host
// name), and following it could send a change to a host that was never
// configured, send it over plain http, or, for 301, 302 and 303, turn the
// POST into a GET. So a redirect is followed only when it keeps the
// method, the scheme and the host (307 and 308 on the same server, such
// as a trailing-slash fix); any other ends the call with an error saying
// where the server tried to send it.

// redirectError is a redirect the client refused.
type redirectError struct {
	status int
	to     string // the Location, as the server gave it
}

func (e *redirectError) Error() string {
	return fmt.Sprintf("the server redirected the request to %s (HTTP %d), which is not followed: "+
		"a request is not sent on to another host, from https to http, or as a GET; if the API is there, use that as the base URL",
		e.to, e.status)
}

// withRedirectPolicy returns a copy of hc that follows only the redirects
// described above, and then hc's own policy, if any.
func withRedirectPolicy(hc *http.Client) *http.Client {
	copied := *hc
	theirs := hc.CheckRedirect
	copied.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		prev := via[len(via)-1]
		status := 0
		if req.Response != nil {
			status = req.Response.StatusCode
		}
		if req.Method != prev.Method || req.URL.Scheme != prev.URL.Scheme || hostPort(req.URL) != hostPort(prev.URL) {
			return &redirectError{status: status, to: req.URL.String()}
		}
		if len(via) >= 5 {
			return &redirectError{status: status, to: req.URL.String()}
		}
		if theirs != nil {
			return theirs(req, via)
		}
		return nil
	}
	return &copied
}

// asRedirect returns the redirect the client refused in err, if any.
func asRedirect(err error) (*redirectError, bool) {
	var re *redirectError
	ok := errors.As(err, &re)
	return re, ok
}
