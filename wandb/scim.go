package wandb

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// W&B's SCIM API (/scim/Users, /scim/Groups): its base URL, how requests
// authenticate, how they are sent (through the same transport as GraphQL:
// credentials only to the configured server, retries, redaction, context)
// and the resources as W&B returns them, which depart from RFC 7643 in
// places (emails as one object with capitalised keys, for one).

// scimAuthMode says how SCIM requests authenticate (WANDB_SCIM_AUTH).
type scimAuthMode string

const (
	// scimBasic is HTTP Basic with the viewer's username and the key,
	// base64("<username>:<key>") (an empty username for an organisation
	// service account), as W&B documents it for every deployment. The
	// viewer is fetched once to learn the username. The default.
	scimBasic scimAuthMode = "basic"
	// scimBearer is "Authorization: Bearer <key>": Multi-tenant Cloud,
	// and Dedicated Cloud and Self-Managed from v0.79.0.
	scimBearer scimAuthMode = "bearer"
)

// scimContentType is what SCIM requests send and accept.
const scimContentType = "application/scim+json"

// URNs of the SCIM messages the client sends.
const patchOpURN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// scimLogin is how SCIM requests authenticate with Basic: W&B documents
// base64("<username>:<key>") for a user and base64(":<key>"), an empty
// username, for an organisation service account. Nothing public says how
// to tell a service account's key from a user's, so the user's form is
// sent first and, when the SCIM API refuses it (401), the service
// account's; a 401 means the request was not processed, so nothing is
// applied twice. The first form answered otherwise is kept.
type scimLogin struct {
	header  string // the Authorization header in use; "" until scimReady
	user    string // the user's header, base64("<username>:<key>")
	service string // the service account's header, base64(":<key>")
	settled bool   // an answer other than 401 came with header
	refused bool   // both forms were refused: header is the user's again, for good
}

// scimCredentials returns the Authorization header of SCIM requests:
// Bearer <access token> with an identity token, Bearer <key>, or Basic
// once scimReady has learnt the viewer's username; "" before that.
func (c *Client) scimCredentials(ctx context.Context) (string, error) {
	switch {
	case c.tokens != nil:
		return c.bearerToken(ctx)
	case c.cfg.scimAuth == scimBearer:
		return "Bearer " + c.cfg.APIKey.Reveal(), nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.scim.header, nil
}

// scimReady makes SCIM requests able to authenticate: with Basic, it
// fetches the viewer (cached) for its username.
func (c *Client) scimReady(ctx context.Context, op Op) error {
	c.mu.Lock()
	ready := c.cfg.scimAuth == scimBearer || c.tokens != nil || c.scim.header != ""
	c.mu.Unlock()
	if ready {
		return nil
	}
	v, err := c.Viewer(ctx)
	if err != nil {
		return c.renamed(err, op, "cannot fetch the viewer, whose username SCIM's Basic authentication needs: ")
	}
	user := base64.StdEncoding.EncodeToString([]byte(deref(v.Username) + ":" + c.cfg.APIKey.Reveal()))
	service := base64.StdEncoding.EncodeToString([]byte(":" + c.cfg.APIKey.Reveal()))
	c.redactor.add(user)
	c.redactor.add(service)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.scim.header == "" {
		c.scim.header, c.scim.user, c.scim.service = "Basic "+user, "Basic "+user, "Basic "+service
	}
	return nil
}

// scimSwitch is called when a SCIM request was refused with 401: it
// reports whether to send it again, with the service account's Basic
// form (see scimLogin).
func (c *Client) scimSwitch() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := &c.scim
	if l.settled || l.refused || l.service == "" {
		return false
	}
	l.header = l.service
	return true
}

// scimAnswered notes how a SCIM request was answered: an answer other
// than 401 settles the Basic form in use; a 401 with the service
// account's form means neither is accepted.
func (c *Client) scimAnswered(err error) {
	var e *Error
	answered := err == nil || (errors.As(err, &e) && e.Status != 0)
	if !answered {
		return
	}
	if err == nil {
		c.fam.scimSeen.Store(true)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	l := &c.scim
	switch {
	case l.settled || l.refused:
	case !errors.Is(err, ErrUnauthorized):
		l.settled = true
	case l.header == l.service && l.service != "":
		l.header, l.refused = l.user, true
	}
}

// scimDo sends one SCIM request: method on path (under the SCIM base URL,
// e.g. "/Users/abc") with query and, unless nil, body as JSON, and decodes
// a 2xx answer's JSON into out (unless nil or the answer is empty).
func (c *Client) scimDo(ctx context.Context, op Op, method, path string, query url.Values, body, out any) error {
	if err := c.scimReady(ctx, op); err != nil {
		return err
	}
	err := c.scimSend(ctx, op, method, path, query, body, out)
	c.scimAnswered(err)
	if errors.Is(err, ErrUnauthorized) && c.scimSwitch() {
		c.logger.InfoContext(ctx, "wandb scim auth", "op", op,
			"note", "Basic with the viewer's username was refused: trying an organisation service account's, an empty username")
		err = c.scimSend(ctx, op, method, path, query, body, out)
		c.scimAnswered(err)
	}
	return err
}

// scimSend sends one SCIM request (see scimDo) with the credentials in use.
func (c *Client) scimSend(ctx context.Context, op Op, method, path string, query url.Values, body, out any) error {
	u := c.scimBase + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	r := request{op: op, name: method + " " + scimPathName(path), method: method, url: u,
		contentType: scimContentType, mutation: method != http.MethodGet,
		byID: strings.Contains(strings.TrimPrefix(path, "/"), "/")}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return c.newError(Error{Op: op, Code: CodeInvalidArgument, Message: "cannot encode the request", Err: err})
		}
		r.body = b
	}
	if e := c.send(ctx, r, func(status int, body *bodyReader) *Error {
		if sd, ok := out.(streamedData); ok { // a list (scimscan.go)
			s := newJSONScanner(body)
			err := sd.decodeFrom(s)
			if err == nil {
				err = s.end()
			}
			if err != nil && body.err == nil { // a failed read fails the attempt
				return c.newError(Error{Op: op, Code: CodeBadResponse, Status: status, Err: err,
					Message: "the SCIM answer is not what was expected: " + err.Error() + ": " + excerpt(body.fullHead())})
			}
			return nil
		}
		b, err := io.ReadAll(body)
		if err != nil || out == nil || len(bytes.TrimSpace(b)) == 0 {
			return nil // a failed read fails the attempt
		}
		if err := json.Unmarshal(b, out); err != nil {
			return c.newError(Error{Op: op, Code: CodeBadResponse, Status: status, Err: err,
				Message: "the SCIM answer is not what was expected: " + excerpt(b)})
		}
		return nil
	}); e != nil {
		return e
	}
	return nil
}

// scimPathName is path for log lines, without the resource's id.
func scimPathName(path string) string {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 2)
	if len(parts) == 2 {
		return "/" + parts[0] + "/{id}"
	}
	return path
}

// eqFilter is the SCIM filter `attr eq "value"`.
func eqFilter(attr, value string) url.Values {
	return url.Values{"filter": {fmt.Sprintf(`%s eq "%s"`, attr, strings.ReplaceAll(value, `"`, `\"`))}}
}

// patchOp is a SCIM PatchOp with one operation: W&B applies one per
// request.
func patchOp(op, path string, value any) map[string]any {
	operation := map[string]any{"op": op}
	if path != "" {
		operation["path"] = path
	}
	if value != nil {
		operation["value"] = value
	}
	return map[string]any{"schemas": []string{patchOpURN}, "Operations": []any{operation}}
}

// scimList is a SCIM ListResponse.
type scimList[T any] struct {
	Resources    []T `json:"Resources"`
	TotalResults int `json:"totalResults"`
	StartIndex   int `json:"startIndex"` // 1-based; 0 when the server does not say
}

// scimUser is a SCIM User as W&B returns it. Keys match case-insensitively
// (encoding/json), which covers W&B's capitalised emails object.
type scimUser struct {
	ID               string         `json:"id"`
	UserName         string         `json:"userName"`
	DisplayName      string         `json:"displayName"`
	Active           *bool          `json:"active"`
	Emails           scimEmails     `json:"emails"`
	OrganizationRole *string        `json:"organizationRole"`
	TeamRoles        []scimTeamRole `json:"teamRoles"`
	DaysActive       *int           `json:"daysActive"`
	LastActiveAt     *string        `json:"lastActiveAt"`
	Meta             struct {
		Created string `json:"created"`
	} `json:"meta"`
}

// scimTeamRole is one of a user's team roles.
type scimTeamRole struct {
	TeamName string `json:"teamName"`
	RoleName string `json:"roleName"`
}

// scimEmails reads emails as W&B sends it, one object ({"Value": ...}),
// or as RFC 7643 does, an array of objects.
type scimEmails []string

// UnmarshalJSON implements json.Unmarshaler.
func (e *scimEmails) UnmarshalJSON(b []byte) error {
	type email struct {
		Value string `json:"value"`
	}
	var one email
	if err := json.Unmarshal(b, &one); err == nil {
		if one.Value != "" {
			*e = scimEmails{one.Value}
		}
		return nil
	}
	var many []email
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	for _, m := range many {
		if m.Value != "" {
			*e = append(*e, m.Value)
		}
	}
	return nil
}

// scimGroup is a SCIM Group (a W&B team). members may be null.
type scimGroup struct {
	ID          string       `json:"id"`
	DisplayName string       `json:"displayName"`
	Members     []scimMember `json:"members"`
}

// scimMember is a member of a SCIM Group: Value is the user's SCIM id (or
// the email it was added by).
type scimMember struct {
	Value   string `json:"value"`
	Display string `json:"display"`
}

// has reports whether g lists su.
func (g *scimGroup) has(su *scimUser) bool {
	for _, m := range g.Members {
		if m.Value == su.ID || (m.Value != "" && su.hasEmail(m.Value)) {
			return true
		}
	}
	return false
}

// hasEmail reports whether email is one of su's addresses.
func (su *scimUser) hasEmail(email string) bool {
	for _, e := range su.Emails {
		if strings.EqualFold(e, email) {
			return true
		}
	}
	return false
}

// UserStatus is a user's standing in the organisation as W&B's SCIM API
// reports it ([User.Status], [User.OrgStatus]).
type UserStatus struct {
	Active       bool       // false once deactivated
	Role         string     // the organisation role ("admin", "member", ...) where the SCIM API shows it; "" where it does not, as W&B documents Get User and List Users (User.Admin, from GraphQL, says who is an instance admin)
	DaysActive   *int       // nil when the server does not say
	LastActiveAt *time.Time // nil for a user never active, or when the server does not say
	Created      *time.Time // when the user was added (meta.created); nil when the server does not say
}

// status converts su.
func (su *scimUser) status() UserStatus {
	st := UserStatus{Active: su.Active == nil || *su.Active, Role: strings.ToLower(deref(su.OrganizationRole)), DaysActive: su.DaysActive,
		LastActiveAt: parseTime(deref(su.LastActiveAt)), Created: parseTime(su.Meta.Created)}
	return st
}

// parseTime reads an RFC 3339 time, as SCIM writes them; nil for "" or
// anything else.
func parseTime(s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil
	}
	return &t
}
