package wandbtest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// W&B's SCIM API: /scim/Users and /scim/Groups (also under /scim/v2), on
// the same store as GraphQL. See the package doc for the semantics and the
// choices made where W&B's documentation is silent.

// URNs of SCIM schemas and messages.
const (
	scimUserURN  = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimGroupURN = "urn:ietf:params:scim:schemas:core:2.0:Group"
	scimListURN  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	scimPatchURN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	scimErrorURN = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// scimMaxItems is the most resources a list returns (W&B: 9999 per request).
const scimMaxItems = 9999

// scimOp names a SCIM request for FailNext, Requests and LastRequest, e.g.
// "SCIMListUsers", "SCIMPatchGroup"; "" for a path that is not SCIM's.
func scimOp(method, path string) (op, resource, id string) {
	rest, ok := strings.CutPrefix(path, "/scim/v2/")
	if !ok {
		if rest, ok = strings.CutPrefix(path, "/scim/"); !ok {
			return "", "", ""
		}
	}
	resource, id, _ = strings.Cut(rest, "/")
	var kind string
	switch resource {
	case "Users":
		kind = "User"
	case "Groups":
		kind = "Group"
	default:
		return "SCIM" + resource, resource, id
	}
	verb := map[string]string{http.MethodGet: "Get", http.MethodPost: "Create", http.MethodPatch: "Patch",
		http.MethodPut: "Replace", http.MethodDelete: "Delete"}[method]
	switch {
	case verb == "":
		return "SCIM" + method + kind, resource, id
	case id == "" && method == http.MethodGet:
		return "SCIMList" + kind + "s", resource, id
	}
	return "SCIM" + verb + kind, resource, id
}

// scimError is the SCIM Error message W&B answers with; status is a
// string, as in W&B's documented example.
type scimError struct {
	status int
	detail string
}

func (e *scimError) Error() string { return e.detail }

func scimErr(status int, format string, args ...any) *scimError {
	return &scimError{status: status, detail: fmt.Sprintf(format, args...)}
}

// writeSCIM answers with status and v as application/scim+json.
func writeSCIM(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("wandbtest: encode scim answer: %v", err)) // only our own types are written
		}
		_, _ = w.Write(b)
	}
}

// writeSCIMError answers with e: a SCIM Error message for a 400 (the one
// error body W&B documents, a refused reactivation) or, with
// WithSCIMErrorBodies, for any status; otherwise the plain status text,
// since W&B's other SCIM error bodies are not public.
func (h *Handler) writeSCIMError(w http.ResponseWriter, e *scimError) {
	if e.status != http.StatusBadRequest && !h.assumed.scimErrorBodies {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(e.status)
		_, _ = io.WriteString(w, http.StatusText(e.status)+"\n")
		return
	}
	writeSCIM(w, e.status, map[string]any{"schemas": []string{scimErrorURN}, "detail": e.detail, "status": strconv.Itoa(e.status)})
}

// scimCaller authenticates a SCIM request: Basic with the username and the
// key, or for a service account with an empty username and the key, or
// Bearer with the key or an access token (see WithOIDC).
func (h *Handler) scimCaller(r *http.Request) *user {
	auth := r.Header.Get("Authorization")
	var name, secret string
	basic := false
	if k, ok := strings.CutPrefix(auth, "Bearer "); ok {
		secret = k
	} else if enc, ok := strings.CutPrefix(auth, "Basic "); ok {
		b, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return nil
		}
		name, secret, ok = strings.Cut(string(b), ":")
		if !ok {
			return nil
		}
		basic = true
	}
	if secret == "" {
		return nil
	}
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if !basic {
		if u := h.userByAccessToken(secret); u != nil {
			return u
		}
	}
	u := s.userBySecret(secret)
	switch {
	case u == nil:
		return nil
	case basic && u.service && name != "":
		// W&B's SCIM docs: an organisation service account sends an empty
		// username, base64(":" + key).
		return nil
	case basic && !u.service && !strings.EqualFold(name, u.username):
		return nil
	}
	return u
}

// serveSCIM serves a SCIM request of caller (an instance admin) on
// resource ("Users", "Groups") and id ("" for the collection).
func (h *Handler) serveSCIM(w http.ResponseWriter, r *http.Request, body []byte, resource, id string) {
	var (
		status int
		out    any
		err    *scimError
	)
	s := h.store
	s.mu.Lock()
	switch resource {
	case "Users":
		status, out, err = h.scimUsers(r, body, id)
	case "Groups":
		status, out, err = h.scimGroups(r, body, id)
	default:
		err = scimErr(http.StatusNotFound, "wandbtest serves no SCIM resource %q (only Users and Groups)", resource)
	}
	etag := ""
	if u, ok := out.(scimUserJSON); ok {
		etag = u.Meta.Version
	}
	s.mu.Unlock()
	if err == nil { // a change, or the caller's first request of the day (see store.seen)
		if perr := h.persist(); perr != nil {
			err = scimErr(http.StatusInternalServerError, "%v", perr)
		}
	}
	if err != nil {
		h.writeSCIMError(w, err)
		return
	}
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	writeSCIM(w, status, out)
}

// listFilter reads the filter parameter `attr eq "value"`; "" for none.
var listFilter = regexp.MustCompile(`^\s*([A-Za-z.]+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$`)

func parseFilter(r *http.Request, attrs ...string) (attr, value string, err *scimError) {
	f := r.URL.Query().Get("filter")
	if f == "" {
		return "", "", nil
	}
	m := listFilter.FindStringSubmatch(f)
	if m == nil {
		return "", "", scimErr(http.StatusBadRequest, `invalid filter %q: wandbtest supports only attr eq "value"`, f)
	}
	for _, a := range attrs {
		if strings.EqualFold(m[1], a) {
			return a, strings.ReplaceAll(m[2], `\"`, `"`), nil
		}
	}
	return "", "", scimErr(http.StatusBadRequest, "invalid filter %q: the attributes are %s", f, strings.Join(attrs, ", "))
}

// listPage is the page of a list a request asks for: RFC 7644's
// startIndex (1-based; less than 1 counts as 1) and count (the most to
// return; negative counts as 0), at most scimMaxItems. W&B documents
// neither parameter, only "maximum 9999 items per request", and shows
// startIndex 1 and itemsPerPage 9999 in every answer; honouring them is
// assumed. With WithSCIMPagingIgnored the parameters are ignored: every
// answer is the first page.
type listPage struct {
	start, size int // startIndex, and the page's size limit (itemsPerPage)
}

// page reads the page r asks for.
func (h *Handler) page(r *http.Request) (listPage, *scimError) {
	p := listPage{start: 1, size: scimMaxItems}
	if h.assumed.scimPagingIgnored {
		return p, nil
	}
	q := r.URL.Query()
	for _, param := range []struct {
		name string
		into *int
	}{{"startIndex", &p.start}, {"count", &p.size}} {
		v := q.Get(param.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, scimErr(http.StatusBadRequest, "invalid %s %q: want an integer", param.name, v)
		}
		*param.into = n
	}
	p.start = max(p.start, 1)
	p.size = min(max(p.size, 0), scimMaxItems)
	return p, nil
}

// of returns the part of n listed items the page holds: items [from, to).
func (p listPage) of(n int) (from, to int) {
	from = min(p.start-1, n)
	return from, min(from+p.size, n)
}

// listResponse is a SCIM ListResponse of a page of a list of total items.
func listResponse[T any](items []T, total int, p listPage) map[string]any {
	return map[string]any{"schemas": []string{scimListURN}, "Resources": items, "totalResults": total,
		"startIndex": p.start, "itemsPerPage": p.size}
}

// readPatch decodes a PatchOp with exactly one operation: W&B applies one
// per request.
func readPatch(body []byte) (op, path string, value json.RawMessage, err *scimError) {
	var p struct {
		Schemas    []string `json:"schemas"`
		Operations []struct {
			Op    string          `json:"op"`
			Path  string          `json:"path"`
			Value json.RawMessage `json:"value"`
		} `json:"Operations"`
	}
	if jerr := json.Unmarshal(body, &p); jerr != nil {
		return "", "", nil, scimErr(http.StatusBadRequest, "invalid PatchOp: %v", jerr)
	}
	if len(p.Schemas) != 1 || p.Schemas[0] != scimPatchURN {
		return "", "", nil, scimErr(http.StatusBadRequest, "invalid PatchOp: schemas must be [%q]", scimPatchURN)
	}
	if len(p.Operations) != 1 {
		return "", "", nil, scimErr(http.StatusBadRequest, "invalid PatchOp: %d operations; W&B applies exactly one per request", len(p.Operations))
	}
	o := p.Operations[0]
	return strings.ToLower(o.Op), o.Path, o.Value, nil
}

// scimUserJSON is a SCIM User as W&B returns it: emails as one object with
// capitalised keys.
type scimUserJSON struct {
	Schemas          []string        `json:"schemas"`
	ID               string          `json:"id"`
	UserName         string          `json:"userName"`
	DisplayName      string          `json:"displayName"`
	Active           bool            `json:"active"`
	Emails           scimEmailJSON   `json:"emails"`
	Meta             scimMetaJSON    `json:"meta"`
	DaysActive       int             `json:"daysActive"`
	LastActiveAt     *string         `json:"lastActiveAt"`
	OrganizationRole string          `json:"organizationRole,omitempty"`
	TeamRoles        *[]scimTeamRole `json:"teamRoles,omitempty"`
	ModelsSeat       string          `json:"modelsSeat,omitempty"`
	WeaveRole        string          `json:"weaveRole,omitempty"`
}

type scimEmailJSON struct {
	Value   string `json:"Value"`
	Display string `json:"Display"`
	Type    string `json:"Type"`
	Primary bool   `json:"Primary"`
}

type scimMetaJSON struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created"`
	LastModified string `json:"lastModified"`
	Location     string `json:"location"`
	Version      string `json:"version,omitempty"`
}

type scimTeamRole struct {
	TeamName string `json:"teamName"`
	RoleName string `json:"roleName"`
}

// scimUserID is u's SCIM id: not its GraphQL ID, so that a client cannot
// mistake one for the other.
func scimUserID(u *user) string { return "scim-u" + strconv.Itoa(u.id) }

func scimGroupID(t *team) string { return "scim-t" + strconv.Itoa(t.id) }

// scimUser returns the SCIM view of u; s.mu must be held. The roles
// (organizationRole, teamRoles) are shown only when withRoles: W&B's docs
// show them on the answers of role PATCHes (and Multi-tenant creation),
// not on Get User or List Users (see WithSCIMRolesOnRead).
func (h *Handler) scimUser(u *user, withRoles bool) scimUserJSON {
	out := scimUserJSON{
		Schemas:     []string{scimUserURN},
		ID:          scimUserID(u),
		UserName:    u.username,
		DisplayName: u.name,
		Active:      !u.inactive,
		Emails:      scimEmailJSON{Value: u.email, Primary: true},
		Meta:        scimMetaJSON{ResourceType: "User", Created: u.created.Format(time.RFC3339), LastModified: u.modified.Format(time.RFC3339), Location: "Users/" + scimUserID(u), Version: fmt.Sprintf(`W/"%d"`, u.version)},
		DaysActive:  u.activeDays,
	}
	if !u.lastActive.IsZero() {
		at := u.lastActive.Format(time.RFC3339)
		out.LastActiveAt = &at
	}
	if withRoles || h.assumed.scimRolesOnRead {
		out.OrganizationRole = teamRole(u.admin)
		roles := []scimTeamRole{}
		for _, t := range u.teams {
			roles = append(roles, scimTeamRole{TeamName: t.name, RoleName: t.member(u).role})
		}
		out.TeamRoles = &roles
	}
	return out
}

// scimUserByID returns the user with SCIM id id (never a service account).
func (s *store) scimUserByID(id string) (*user, *scimError) {
	n, err := strconv.Atoi(strings.TrimPrefix(id, "scim-u"))
	if err == nil && strings.HasPrefix(id, "scim-u") {
		for _, u := range s.users {
			if u.id == n && !u.service {
				return u, nil
			}
		}
	}
	return nil, scimErr(http.StatusNotFound, "no user with id %q", id)
}

// scimUsers serves /scim/Users; s.mu is held.
func (h *Handler) scimUsers(r *http.Request, body []byte, id string) (int, any, *scimError) {
	s := h.store
	switch {
	case id == "" && r.Method == http.MethodGet:
		attr, value, err := parseFilter(r, "userName", "emails.value")
		if err != nil {
			return 0, nil, err
		}
		p, err := h.page(r)
		if err != nil {
			return 0, nil, err
		}
		var listed []*user
		for _, u := range s.users {
			switch {
			case u.service:
			case attr == "userName" && !strings.EqualFold(u.username, value):
			case attr == "emails.value" && !strings.EqualFold(u.email, value):
			default:
				listed = append(listed, u)
			}
		}
		from, to := p.of(len(listed))
		items := make([]scimUserJSON, 0, to-from)
		for _, u := range listed[from:to] {
			items = append(items, h.scimUser(u, false))
		}
		return http.StatusOK, listResponse(items, len(listed), p), nil
	case id == "" && r.Method == http.MethodPost:
		return h.scimCreateUser(body)
	case id == "":
		return 0, nil, scimErr(http.StatusMethodNotAllowed, "method %s not allowed on Users", r.Method)
	}
	u, err := s.scimUserByID(id)
	if err != nil {
		return 0, nil, err
	}
	switch r.Method {
	case http.MethodGet:
		return http.StatusOK, h.scimUser(u, false), nil
	case http.MethodDelete:
		s.deleteUser(u)
		return http.StatusNoContent, nil, nil
	case http.MethodPatch:
		if v := h.scimUser(u, false).Meta.Version; r.Header.Get("If-Match") != "" && r.Header.Get("If-Match") != v {
			return 0, nil, scimErr(http.StatusPreconditionFailed, "the user changed: its version is %s, not %s", v, r.Header.Get("If-Match"))
		}
		path, err := h.scimPatchUser(u, body)
		if err != nil {
			return 0, nil, err
		}
		// The answers of role changes show the roles (W&B's docs).
		roles := path == "organizationrole" || path == "teamroles"
		if s.byUsername[strings.ToLower(u.username)] != u { // removed (Multi-tenant deactivation)
			return http.StatusOK, h.scimUser(u, roles), nil
		}
		s.touch(u)
		return http.StatusOK, h.scimUser(u, roles), nil
	}
	return 0, nil, scimErr(http.StatusMethodNotAllowed, "method %s not allowed on a User", r.Method)
}

// scimCreateUser serves POST /scim/Users.
func (h *Handler) scimCreateUser(body []byte) (int, any, *scimError) {
	var in struct {
		Schemas  []string `json:"schemas"`
		UserName string   `json:"userName"`
		Emails   []struct {
			Value   string `json:"value"`
			Primary bool   `json:"primary"`
		} `json:"emails"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return 0, nil, scimErr(http.StatusBadRequest, "invalid User: %v", err)
	}
	email := ""
	for _, e := range in.Emails {
		if e.Primary {
			email = e.Value
		}
	}
	if strings.TrimSpace(in.UserName) == "" || email == "" {
		return 0, nil, scimErr(http.StatusBadRequest, "invalid User: userName and a primary email are required")
	}
	u, err := h.store.insertUser(email, in.UserName, "", false)
	switch {
	case errors.Is(err, errExists):
		return 0, nil, scimErr(http.StatusConflict, "%v", err)
	case err != nil:
		return 0, nil, scimErr(http.StatusBadRequest, "%v", err)
	}
	out := h.scimUser(u, h.multiTenant) // Multi-tenant's documented answer shows the roles
	if !h.multiTenant {
		out.ModelsSeat, out.WeaveRole = "full", "full" // Dedicated Cloud's answer echoes the defaults
	}
	return http.StatusCreated, out, nil
}

// scimPatchUser applies a PatchOp to u and returns its path, lower-cased.
func (h *Handler) scimPatchUser(u *user, body []byte) (string, *scimError) {
	op, path, value, err := readPatch(body)
	if err != nil {
		return "", err
	}
	if op != "replace" {
		return "", scimErr(http.StatusBadRequest, "unsupported operation %q on a User", op)
	}
	path = strings.ToLower(path)
	return path, h.scimPatchUserPath(u, path, value)
}

// scimPatchUserPath replaces what path (lower-cased) names of u with value.
func (h *Handler) scimPatchUserPath(u *user, path string, value json.RawMessage) *scimError {
	s := h.store
	switch path {
	case "":
		var v struct {
			Active *bool `json:"active"`
		}
		if json.Unmarshal(value, &v) != nil || v.Active == nil {
			return scimErr(http.StatusBadRequest, `invalid value: want {"active": true|false}`)
		}
		switch {
		case h.multiTenant && *v.Active:
			return scimErr(http.StatusBadRequest, "User reactivation operations are not supported in SaaS Cloud")
		case h.multiTenant:
			u.inactive = true
			s.deleteUser(u) // Multi-tenant deactivation removes the user from the organisation
		default:
			u.inactive = !*v.Active
		}
	case "organizationrole":
		var role string
		if json.Unmarshal(value, &role) != nil {
			return scimErr(http.StatusBadRequest, "invalid organizationRole: want a string")
		}
		switch strings.ToLower(role) {
		case roleAdmin:
			u.admin, u.viewer = true, false
		case roleMember:
			u.admin, u.viewer = false, false
		case roleViewer: // deprecated: member, with viewer seats and team roles
			u.admin, u.viewer = false, true
			for _, t := range u.teams {
				t.member(u).role = roleViewer
				s.teamChanged(t)
			}
		default:
			return scimErr(http.StatusBadRequest, "invalid organizationRole %q: want admin, member or viewer", role)
		}
	case "teamroles":
		var roles []scimTeamRole
		if json.Unmarshal(value, &roles) != nil || len(roles) != 1 {
			return scimErr(http.StatusBadRequest, "invalid teamRoles: want one {teamName, roleName}")
		}
		t := s.teamByName[roles[0].TeamName]
		if t == nil {
			return scimErr(http.StatusNotFound, "no team named %q", roles[0].TeamName)
		}
		m := t.member(u)
		if m == nil {
			return scimErr(http.StatusNotFound, "%s is not a member of %s", u.username, t.name)
		}
		role := strings.ToLower(roles[0].RoleName)
		if role != roleAdmin && role != roleMember && role != roleViewer {
			return scimErr(http.StatusBadRequest, "unknown team role %q: want admin, member, viewer or a custom role (wandbtest has none)", roles[0].RoleName)
		}
		m.role = role
		s.teamChanged(t)
	case "displayname", "emails":
		if h.multiTenant {
			return scimErr(http.StatusBadRequest, "updating %s is not supported in SaaS Cloud", path)
		}
		return h.scimPatchProfile(u, path, value)
	default:
		return scimErr(http.StatusBadRequest, "unsupported path %q on a User", path)
	}
	return nil
}

// scimPatchProfile replaces u's display name or email (Dedicated Cloud and
// Self-Managed).
func (h *Handler) scimPatchProfile(u *user, path string, value json.RawMessage) *scimError {
	s := h.store
	if path == "displayname" {
		var name string
		if json.Unmarshal(value, &name) != nil || strings.TrimSpace(name) == "" {
			return scimErr(http.StatusBadRequest, "invalid displayName")
		}
		u.name = name
		return nil
	}
	var emails []struct {
		Value string `json:"value"`
	}
	if json.Unmarshal(value, &emails) != nil || len(emails) != 1 {
		return scimErr(http.StatusBadRequest, "invalid emails: want one {value, primary}")
	}
	email := emails[0].Value
	if _, err := splitEmail(email); err != nil {
		return scimErr(http.StatusBadRequest, "%v", err)
	}
	if o := s.byEmail[strings.ToLower(email)]; o != nil && o != u {
		return scimErr(http.StatusConflict, "user with email %s already exists", email)
	}
	delete(s.byEmail, strings.ToLower(u.email))
	u.email = email
	s.byEmail[strings.ToLower(email)] = u
	return nil
}

// scimGroupJSON is a SCIM Group (a team) as W&B returns it; members is null
// when the team has none.
type scimGroupJSON struct {
	Schemas     []string          `json:"schemas"`
	ID          string            `json:"id"`
	DisplayName string            `json:"displayName"`
	Members     []scimGroupMember `json:"members"`
	Meta        scimMetaJSON      `json:"meta"`
}

type scimGroupMember struct {
	Value   string `json:"Value"`
	Ref     string `json:"Ref"`
	Type    string `json:"Type"`
	Display string `json:"Display"`
}

func scimGroup(t *team) scimGroupJSON {
	g := scimGroupJSON{Schemas: []string{scimGroupURN}, ID: scimGroupID(t), DisplayName: t.name,
		Meta: scimMetaJSON{ResourceType: "Group", Location: "Groups/" + scimGroupID(t)}}
	for _, m := range t.members {
		if !m.user.service {
			g.Members = append(g.Members, scimGroupMember{Value: scimUserID(m.user), Display: m.user.username})
		}
	}
	return g
}

// scimGroups serves /scim/Groups; s.mu is held.
func (h *Handler) scimGroups(r *http.Request, body []byte, id string) (int, any, *scimError) {
	s := h.store
	if id == "" {
		switch r.Method {
		case http.MethodGet:
			_, value, err := parseFilter(r, "displayName")
			if err != nil {
				return 0, nil, err
			}
			p, err := h.page(r)
			if err != nil {
				return 0, nil, err
			}
			var listed []*team
			for _, t := range s.teams {
				if value == "" || t.name == value {
					listed = append(listed, t)
				}
			}
			from, to := p.of(len(listed))
			items := make([]scimGroupJSON, 0, to-from)
			for _, t := range listed[from:to] {
				items = append(items, scimGroup(t))
			}
			return http.StatusOK, listResponse(items, len(listed), p), nil
		case http.MethodPost:
			return h.scimCreateGroup(body)
		}
		return 0, nil, scimErr(http.StatusMethodNotAllowed, "method %s not allowed on Groups", r.Method)
	}
	var t *team
	for _, o := range s.teams {
		if scimGroupID(o) == id {
			t = o
		}
	}
	if t == nil {
		return 0, nil, scimErr(http.StatusNotFound, "no group with id %q", id)
	}
	switch r.Method {
	case http.MethodGet:
		return http.StatusOK, scimGroup(t), nil
	case http.MethodPatch:
		if err := h.scimPatchGroup(t, body); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, scimGroup(t), nil
	case http.MethodPut:
		var in struct {
			Members memberRefs `json:"members"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return 0, nil, scimErr(http.StatusBadRequest, "invalid Group: %v", err)
		}
		keep, err := s.scimMembers(in.Members)
		if err != nil {
			return 0, nil, err
		}
		for _, m := range append([]*membership(nil), t.members...) {
			if !m.user.service && !containsUser(keep, m.user) {
				s.removeMember(t, m.user)
			}
		}
		for _, u := range keep {
			if t.member(u) == nil {
				s.addMember(t, u, false)
			}
		}
		return http.StatusOK, scimGroup(t), nil
	case http.MethodDelete:
		return 0, nil, scimErr(http.StatusMethodNotAllowed, "deleting a team is not supported through SCIM: delete it in the W&B app")
	}
	return 0, nil, scimErr(http.StatusMethodNotAllowed, "method %s not allowed on a Group", r.Method)
}

func containsUser(us []*user, u *user) bool {
	for _, o := range us {
		if o == u {
			return true
		}
	}
	return false
}

// memberRefs is a Group's members as SCIM writes them: [{"value": id or
// email}].
type memberRefs []struct {
	Value string `json:"value"`
}

// scimMembers returns the users refs name (see scimMember), in order.
func (s *store) scimMembers(refs memberRefs) ([]*user, *scimError) {
	var us []*user
	for _, m := range refs {
		u, err := s.scimMember(m.Value)
		if err != nil {
			return nil, err
		}
		us = append(us, u)
	}
	return us, nil
}

// scimMember returns the user a group member value names: a SCIM user id
// or an email address.
func (s *store) scimMember(value string) (*user, *scimError) {
	if strings.Contains(value, "@") {
		if u := s.byEmail[strings.ToLower(value)]; u != nil {
			return u, nil
		}
		return nil, scimErr(http.StatusNotFound, "no user with email %q", value)
	}
	return s.scimUserByID(value)
}

// memberFilterPath matches members[value eq "x"].
var memberFilterPath = regexp.MustCompile(`^members\[\s*value\s+eq\s+\\?"(.*?)\\?"\s*\]$`)

// scimPatchGroup applies a PatchOp to t's members.
func (h *Handler) scimPatchGroup(t *team, body []byte) *scimError {
	s := h.store
	op, path, value, err := readPatch(body)
	if err != nil {
		return err
	}
	var listed []*user
	if len(value) > 0 && string(value) != "null" {
		var refs memberRefs
		if json.Unmarshal(value, &refs) != nil {
			return scimErr(http.StatusBadRequest, "invalid members: want [{value}]")
		}
		if listed, err = s.scimMembers(refs); err != nil {
			return err
		}
	}
	switch {
	case (op == "add" || op == "replace") && path == "members":
		if op == "replace" {
			for _, m := range append([]*membership(nil), t.members...) {
				if !m.user.service {
					s.removeMember(t, m.user)
				}
			}
		}
		for _, u := range listed {
			if t.member(u) == nil {
				s.addMember(t, u, false)
			}
		}
	case op == "remove" && path == "members" && listed == nil: // remove all
		for _, m := range append([]*membership(nil), t.members...) {
			if !m.user.service {
				s.removeMember(t, m.user)
			}
		}
	case op == "remove" && path == "members": // the legacy form: the listed ones
		for _, u := range listed {
			if t.member(u) != nil {
				s.removeMember(t, u)
			}
		}
	case op == "remove" && memberFilterPath.MatchString(path):
		u, err := s.scimMember(memberFilterPath.FindStringSubmatch(path)[1])
		if err != nil {
			return err
		}
		if t.member(u) != nil {
			s.removeMember(t, u)
		}
	default:
		return scimErr(http.StatusBadRequest, "unsupported operation %q with path %q on a Group", op, path)
	}
	return nil
}

// scimCreateGroup serves POST /scim/Groups: a team with the listed members.
func (h *Handler) scimCreateGroup(body []byte) (int, any, *scimError) {
	s := h.store
	var in struct {
		DisplayName string     `json:"displayName"`
		Members     memberRefs `json:"members"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return 0, nil, scimErr(http.StatusBadRequest, "invalid Group: %v", err)
	}
	members, serr := s.scimMembers(in.Members)
	if serr != nil {
		return 0, nil, serr
	}
	if !teamName.MatchString(in.DisplayName) {
		return 0, nil, scimErr(http.StatusBadRequest, "%v %q", errBadName, in.DisplayName)
	}
	if s.teamByName[in.DisplayName] != nil || s.byUsername[in.DisplayName] != nil {
		return 0, nil, scimErr(http.StatusConflict, "entity name %s already exists", in.DisplayName)
	}
	t := s.newTeam(in.DisplayName)
	for _, u := range members {
		if t.member(u) == nil {
			s.addMember(t, u, false)
		}
	}
	return http.StatusCreated, scimGroup(t), nil
}

// readSCIMBody reads a SCIM request's body.
func readSCIMBody(w http.ResponseWriter, r *http.Request) ([]byte, *scimError) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return nil, scimErr(http.StatusBadRequest, "could not read the request body: %v", err)
	}
	return b, nil
}
