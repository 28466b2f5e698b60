package wandb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// scanList decodes body as scimSend decodes a list, read in pieces of
// chunk bytes.
func scanList[T any](body []byte, chunk int) (scimList[T], error) {
	var l scimList[T]
	s := newJSONScanner(&chunkReader{data: body, n: chunk})
	err := l.decodeFrom(s)
	if err == nil {
		err = s.end()
	}
	return l, err
}

// FuzzSCIMList: the streaming decoder of SCIM lists gives what
// encoding/json gives, for users (decoded field by field) and groups
// (decoded by encoding/json, one at a time), and fails where it fails.
func FuzzSCIMList(f *testing.F) {
	for _, seed := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"Resources":[{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],` +
			`"id":"u1","userName":"alice","displayName":"Alice","active":true,"emails":{"Value":"a@x.io","Display":"","Type":"","Primary":true},` +
			`"meta":{"resourceType":"User","created":"2024-01-01T00:00:00Z","lastModified":"2024-01-01T00:00:00Z","location":"Users/u1"},` +
			`"daysActive":0,"lastActiveAt":null}],"totalResults":1,"startIndex":1,"itemsPerPage":9999}`,
		`{"Resources":[{"id":"u2","emails":[{"value":"b@x.io","primary":true},{"value":""},null],"active":false,"daysActive":12,` +
			`"lastActiveAt":"2025-03-01T12:00:00Z","organizationRole":"admin","teamRoles":[{"teamName":"ml","roleName":"admin"}]},null],"totalResults":7}`,
		`{"resources":[{"ID":"x","USERNAME":"y","emails":null,"Meta":null,"active":null,"daysActive":null,"organizationRole":null}],"TotalResults":null}`,
		`{"Resources":[{"id":"a","id":"b","emails":{"value":"1@x.io"},"emails":[{"value":"2@x.io"}],"emails":{"value":""}}],"Resources":[{"id":"c"}]}`,
		`{"Resources":[{"displayName":"ml","members":[{"Value":"u1","Display":"alice"}],"id":"g1"}]}`,
		`{"Resources":[{"daysActive":1.5}]}`,
		`{"Resources":[{"daysActive":"3"}]}`,
		`{"Resources":[{"emails":"a@x.io"}]}`,
		`{"Resources":[{"emails":{"value":5}}]}`,
		`{"Resources":[{"\u0069d":"esc\u00e9","userName":"\ud800"}],"startIndex":99999999999999999999}`,
		`{"Resources":{}}`,
		`null`,
		`{"Resources":[{"id":"a"}]} x`,
		`[`,
	} {
		f.Add([]byte(seed), 7)
	}
	f.Fuzz(func(t *testing.T, body []byte, chunk int) {
		chunk = 1 + max(chunk, -chunk)%64
		sameAsJSON[scimUser](t, "users", body, chunk)
		sameAsJSON[scimGroup](t, "groups", body, chunk)
	})
}

// sameAsJSON fails t unless the scanner decodes body (a list of what)
// as encoding/json does, or fails where it fails.
func sameAsJSON[T any](t *testing.T, what string, body []byte, chunk int) {
	t.Helper()
	var want scimList[T]
	werr := json.Unmarshal(body, &want)
	got, gerr := scanList[T](body, chunk)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%s: encoding/json error %v, scanner error %v, for %q", what, werr, gerr, body)
	}
	if werr == nil {
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("%s (-encoding/json +scanner) for %q:\n%s", what, body, diff)
		}
	}
}

// BenchmarkDecodeSCIMUsers decodes a page of 9,999 SCIM users from memory,
// with the scanner and with encoding/json.
func BenchmarkDecodeSCIMUsers(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"Resources":[`)
	for i := range 9999 {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"scim-u` + itoaTest(i) + `","userName":"user` + itoaTest(i) +
			`","displayName":"User","active":true,"emails":{"Value":"user` + itoaTest(i) + `@example.com","Display":"","Type":"","Primary":true},` +
			`"meta":{"resourceType":"User","created":"2024-01-15T09:00:00Z","lastModified":"2024-01-15T09:00:00Z","location":"Users/scim-u1","version":"W/\"0\""},` +
			`"daysActive":12,"lastActiveAt":"2025-03-01T12:00:00Z"}`)
	}
	buf.WriteString(`],"totalResults":9999,"startIndex":1,"itemsPerPage":9999}`)
	body := buf.Bytes()
	b.Run("scanner", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var l scimList[scimUser]
			if err := l.decodeFrom(newJSONScanner(bytes.NewReader(body))); err != nil || len(l.Resources) != 9999 {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var l scimList[scimUser]
			if err := json.Unmarshal(body, &l); err != nil || len(l.Resources) != 9999 {
				b.Fatal(err)
			}
		}
	})
}

func itoaTest(i int) string { return string(fmt.Appendf(nil, "%d", i)) }
