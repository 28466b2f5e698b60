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

// users() at scale. gqlgen executes a list field by starting a goroutine
// for each item and each of its fields' resolutions: answering the SDK's
// SearchUsers for 10,000 users took it 250 ms and 150 MB of allocations,
// for 200,000 users seconds and gigabytes. The SDK sends exactly one
// document for users() and user(); when that document comes from an
// instance admin with the public client's User-Agent, the handler writes
// the answer itself, byte for byte as gqlgen would (TestSearchUsersAnswer
// compares them). Any other document, caller or variables go through
// gqlgen as before.

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
// document. Answers are cached by document, as clients send the same few.
func (h *Handler) isSDKSearchUsers(query string) bool {
	return byDocument(h, h.sdkDocs, query, func(query string) bool {
		return canonicalDocument(query) == h.sdkSearchUsers
	})
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
	if !h.isSDKSearchUsers(rec.Query) {
		return false
	}
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ex.caller.admin || h.assumed.userSearchDenied {
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	found := s.search(query)
	w.body.Grow(len(found) * 256) // about what a user without keys takes
	b := w.body.AvailableBuffer()
	b = append(b, `{"data":{"users":{"edges":[`...)
	for i, u := range found {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendUserNode(b, u)
		if len(b) > 64<<10 {
			_, _ = w.Write(b)
			b = w.body.AvailableBuffer()
		}
	}
	b = append(b, "]}}}"...)
	_, _ = w.Write(b)
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
