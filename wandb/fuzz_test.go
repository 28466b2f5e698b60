package wandb

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/Khan/genqlient/graphql"
)

// Fuzz targets. Their seeds run as ordinary tests; run one for longer with
//
//	go test ./wandb -run '^$' -fuzz FuzzResponse -fuzztime 10m

// fuzzKey is the key of the fuzzed client: inputs that carry it must not
// get it into an error.
const fuzzKey = "local-0123456789abcdef0123456789abcdef01234567"

// FuzzResponse feeds any status and body to the code that reads answers:
// it must not panic, and what it returns must hold no key, no control
// character or escape sequence, and stay short.
func FuzzResponse(f *testing.F) {
	for _, seed := range []struct {
		status int
		body   string
	}{
		{200, `{"data":{"viewer":{"id":"VXNlcjox","name":"A","apiKeys":{"edges":[{"node":{"id":"k","name":"n"}}]}}}}`},
		{200, `{"data":null,"errors":[{"message":"bad ` + fuzzKey + `","path":["viewer",0]}]}`},
		{200, `{"error":{"message":"\u001b[31m` + strings.ToUpper(fuzzKey) + `"}}`},
		{400, `{"errors":["plain",{"message":"obj"}]}`},
		{404, `<html><body>nope</body></html>`},
		{404, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"no user"}`},
		{502, ""},
		{503, "upstream \x00 down \x1b]0;t\x07"},
		{200, `{"data":{"viewer":{"id":7}}}`},
		{299, `[`},
	} {
		f.Add(seed.status, []byte(seed.body))
	}
	c, err := NewClient(Config{BaseURL: "https://wandb.example.com", APIKey: NewSecret(fuzzKey)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		status = 100 + abs(status)%500
		r := attemptResult{status: status, body: body, header: http.Header{}}
		var msgs []string
		if status >= 200 && status < 300 {
			var data struct {
				Viewer *struct {
					ID string `json:"id"`
				} `json:"viewer"`
			}
			if e := c.decode("viewer", status, newBodyReader(bytes.NewReader(body), 1<<20), &graphql.Response{Data: &data}); e != nil {
				msgs = append(msgs, e.Message, e.Error())
			}
		} else {
			e := c.failure("viewer", r)
			msgs = append(msgs, e.Message, e.Error())
		}
		msgs = append(msgs, bodyMessage(body))
		for _, m := range msgs[:max(0, len(msgs)-1)] { // bodyMessage is not yet cleaned
			checkShown(t, m)
		}
	})
}

// checkShown fails t when m, a message for people, shows the fuzzed key,
// a control character, or is too long.
func checkShown(t *testing.T, m string) {
	t.Helper()
	if showsKey(m, fuzzKey) {
		t.Fatalf("message shows the key: %q", m)
	}
	for _, r := range m {
		if unicode.IsControl(r) {
			t.Fatalf("message has control character %U: %q", r, m)
		}
	}
	if n := utf8.RuneCountInString(m); n > maxMessageRunes+200 {
		t.Fatalf("message is %d runes long", n)
	}
}

func abs(n int) int {
	if n < 0 {
		if n == -n { // the smallest int
			return 0
		}
		return -n
	}
	return n
}
