package wandbtest

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"
)

// SearchUsers without gqlgen, for `wandb-lua serve` with many users.
//
// The SDK's users() and user() send one document, SearchUsers; users() with
// no query lists every user. gqlgen executes a list by starting a goroutine
// for each item, and resolves each field of each item through the field
// middleware: listing 10,000 users took it 450-500 ms and 180 MB of
// allocations (3.4 million), and 200,000 users 12-19 s and 3.6 GB (68
// million) per users() (BenchmarkSearchUsers, 2 vCPUs): under `wandb-lua
// serve` with 200,000 users, each users() of a script would take gigabytes
// and up to two thirds of the client's 30 s attempt timeout, before the
// client read a byte. So when that document (in any layout) comes from an
// instance admin with the public client's User-Agent and a string or null
// $query, the handler writes the answer itself: 10,000 users in 12-15 ms
// and 7 MB, 200,000 in 0.25-0.3 s and 210 MB. Any other document, caller
// or variables (errors included) go through gqlgen.
//
// The answer is byte for byte gqlgen's, as TestSearchUsersAnswer checks for
// every field, null or not, and strings that need escapes: a change to the
// schema's User or to user.model must be made here too, and that test fails
// until it is. This stays while gqlgen starts a goroutine per list item
// (graphql.MarshalSliceConcurrently in v0.17.98; its worker_limit only
// bounds how many run at once).

// sdkSearchUsers is the SDK's SearchUsers document (testdata/sdk), which
// both the Python SDK and wandb-lua send, in any layout.
const sdkSearchUsers = `query SearchUsers($query: String) {
  users(query: $query) { edges { node { ...UserFragment } } }
}
fragment ApiKeyFragment on ApiKey { id name description }
fragment UserFragment on User {
  id name username email admin flags entity deletedAt
  apiKeys { edges { node { ...ApiKeyFragment } } }
  teams { edges { node { name } } }
}`

// sdkSearchUsersLayout is sdkSearchUsers as canonicalDocument lays it out.
var sdkSearchUsersLayout = canonicalDocument(sdkSearchUsers)

// canonicalDocument formats a GraphQL document in a fixed layout (its
// operations, then its fragments sorted by name), or "" if it does not
// parse.
func canonicalDocument(doc string) string {
	parsed, err := parser.ParseQuery(&ast.Source{Input: doc})
	if err != nil {
		return ""
	}
	frags := slices.Clone(parsed.Fragments)
	slices.SortFunc(frags, func(a, b *ast.FragmentDefinition) int { return strings.Compare(a.Name, b.Name) })
	var buf bytes.Buffer
	formatter.NewFormatter(&buf).FormatQueryDocument(&ast.QueryDocument{Operations: parsed.Operations, Fragments: frags})
	return buf.String()
}

// isSDKSearchUsers reports whether query is the SDK's SearchUsers
// document, in any layout.
func isSDKSearchUsers(query string) bool {
	return canonicalDocument(query) == sdkSearchUsersLayout
}

// searchUsersAnswer writes the answer to rec, a SearchUsers request
// (rec.Op is the operation the body names, else the document's first) by
// ex's caller, into w and reports true; it reports false, writing
// nothing, for a request gqlgen must answer.
func (h *Handler) searchUsersAnswer(w *bufferedResponse, rec Request, ex *exchange) bool {
	if rec.Op != "SearchUsers" || !ex.publicClient {
		return false
	}
	query := ""
	for k, v := range rec.Variables {
		s, isString := v.(string)
		switch {
		case k != "query" || (v != nil && !isString):
			return false
		case isString:
			query = s
		}
	}
	if !isSDKSearchUsers(rec.Query) {
		return false
	}
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ex.caller.admin || h.assumed.userSearchDenied {
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	b := []byte(`{"data":{"users":{"edges":[`)
	for i, u := range s.search(query) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendUserNode(b, u)
		_, _ = w.Write(b)
		b = b[:0]
	}
	_, _ = w.Write(append(b, "]}}}"...))
	return true
}

// appendUserNode appends u as a UserFragment edge, as gqlgen writes
// u.model().
func appendUserNode(b []byte, u *user) []byte {
	b = append(b, `{"node":{"id":`...)
	b = appendGQLID(b, "User:", u.id)
	b = append(b, `,"name":`...)
	b = appendGQLString(b, u.name)
	b = append(b, `,"username":`...)
	b = appendGQLString(b, u.username)
	b = append(b, `,"email":`...)
	if u.email == "" {
		b = append(b, "null"...)
	} else {
		b = appendGQLString(b, u.email)
	}
	b = append(b, `,"admin":`...)
	b = strconv.AppendBool(b, u.admin)
	b = append(b, `,"flags":null,"entity":`...)
	b = appendGQLString(b, u.username)
	b = append(b, `,"deletedAt":null,"apiKeys":{"edges":[`...)
	for i, k := range u.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"node":{"id":`...)
		b = appendGQLID(b, "ApiKey:", k.id)
		b = append(b, `,"name":`...)
		b = appendGQLString(b, k.name)
		b = append(b, `,"description":`...)
		if k.description == nil {
			b = append(b, "null"...)
		} else {
			b = appendGQLString(b, *k.description)
		}
		b = append(b, "}}"...)
	}
	b = append(b, `]},"teams":{"edges":[{"node":{"name":`...)
	b = appendGQLString(b, u.username) // the user's own entity, as in model
	b = append(b, "}}"...)
	for _, t := range u.teams {
		b = append(b, `,{"node":{"name":`...)
		b = appendGQLString(b, t.name)
		b = append(b, "}}"...)
	}
	return append(b, "]}}}"...)
}

// appendGQLID appends gqlID's ID for kind (with its colon) and n, quoted.
func appendGQLID(b []byte, kind string, n int) []byte {
	var raw [32]byte
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, strconv.AppendInt(append(raw[:0], kind...), int64(n), 10))
	return append(b, '"')
}

// appendGQLString appends s quoted as gqlgen writes a string and
// encoding/json then re-encodes it (gqlgen marshals its answer with
// json.Marshal): ", \ and control characters escaped by gqlgen (\u001F),
// and <, >, &, U+2028 and U+2029 by encoding/json (\u003c).
func appendGQLString(b []byte, s string) []byte {
	const upper, hex = "0123456789ABCDEF", "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			var esc string
			switch {
			case c == '"':
				esc = `\"`
			case c == '\\':
				esc = `\\`
			case c == '\n':
				esc = `\n`
			case c == '\r':
				esc = `\r`
			case c == '\t':
				esc = `\t`
			case c < 0x20:
				esc = `\u00` + string(upper[c>>4]) + string(upper[c&0xf])
			case c == '<', c == '>', c == '&':
				esc = `\u00` + string(hex[c>>4]) + string(hex[c&0xf])
			default:
				i++
				continue
			}
			b = append(append(b, s[start:i]...), esc...)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\u2028' || r == '\u2029' {
			b = append(append(b, s[start:i]...), `\u202`...)
			b = append(b, hex[r&0xf])
			start = i + size
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
