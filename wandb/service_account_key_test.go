package wandb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// A service account's API key: returned once, by CreateServiceAccount,
// usable, and never shown anywhere else.

// TestServiceAccountKey: the Member CreateServiceAccount returns carries
// the key the reloaded team's answer carried, the key authenticates as the
// service account, and the members the team lists carry none, in both
// member ID modes.
func TestServiceAccountKey(t *testing.T) {
	t.Parallel()
	inBothMemberIDModes(t, testServiceAccountKey)
}

func testServiceAccountKey(t *testing.T, opts ...wandbtest.Option) {
	srv, admin, team := mlAsAlice(t, opts...)
	ctx := context.Background()
	sa, err := team.CreateServiceAccount(ctx, "CI bot")
	if err != nil {
		t.Fatal(err)
	}
	key, ok := sa.APIKey()
	if !ok || key == "" {
		t.Fatal("CreateServiceAccount returned no API key")
	}
	bot, err := admin.WithAPIKey(key)
	if err != nil {
		t.Fatal(err)
	}
	v, err := bot.Viewer(ctx)
	if err != nil || v.ID != serviceUserID(t, srv, "CI bot") || deref(v.Username) != "ml-service" {
		t.Errorf("the key's viewer = %v, %v; want the service account", v, err)
	}
	listed := func(where string, ms []*Member) {
		t.Helper()
		found := false
		for _, m := range ms {
			if _, ok := m.APIKey(); ok {
				t.Errorf("%s: member %s carries an API key", where, m)
			}
			found = found || m.Name == "CI bot"
		}
		if !found {
			t.Errorf("%s: the service account is not listed", where)
		}
	}
	listed("after the creation", team.Members())
	if err := team.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	listed("after a reload", team.Members())
	again, err := admin.Team(ctx, "ml")
	if err != nil {
		t.Fatal(err)
	}
	listed("fetched again", again.Members())
	// The member returned is the one listed, with the key.
	if err := sa.Delete(ctx); err != nil {
		t.Errorf("deleting the service account: %v", err)
	}
}

// TestServiceAccountKeyNeverShown: the key is in no fmt verb, slog line
// or JSON of the Member, no change record or plan, no error (also one
// that echoes it, from another client of the program) and no log line.
func TestServiceAccountKeyNeverShown(t *testing.T) {
	t.Parallel()
	srv := teamServer(t)
	ctx := context.Background()
	var logs logBuffer
	var records bytes.Buffer
	audit := NewAuditLog(&records)
	admin := testClient(t, srv, func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		cfg.OnChange = audit.Record
		cfg.Retry.MaxAttempts = 1
	})
	team := mustTeam(t, admin, "ml")
	sa, err := team.CreateServiceAccount(ctx, "CI bot")
	if err != nil {
		t.Fatal(err)
	}
	key, ok := sa.APIKey()
	if !ok {
		t.Fatal("no key")
	}
	var shown []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%T"} {
		shown = append(shown, fmt.Sprintf(verb, sa), fmt.Sprintf(verb, *sa), fmt.Sprintf(verb, sa.key))
	}
	shown = append(shown, sa.String(), fmt.Sprint([]*Member{sa}), fmt.Sprintf("%+v", map[string]any{"m": sa}))
	for _, v := range []any{sa, *sa} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		shown = append(shown, string(b))
		var text, js bytes.Buffer
		slog.New(slog.NewTextHandler(&text, nil)).Info("m", "member", v)
		slog.New(slog.NewJSONHandler(&js, nil)).Info("m", "member", v)
		shown = append(shown, text.String(), js.String())
	}

	// Errors: a key passed where an email belongs, and a server echoing it,
	// to this client and to others of the program.
	_, err = admin.CreateUser(ctx, key, false)
	shown = append(shown, fmt.Sprint(err))
	echo := wandbtest.Fault{Status: 400, Body: `{"errors":[{"message":"unknown key ` + strings.ToUpper(key) + `"}]}`}
	for _, c := range []*Client{admin, admin.WithReadOnly(), clientFor(t, srv, admin, "bob@example.com")} {
		srv.FailNext("GetViewer", echo)
		_, err := c.WithReadOnly().Viewer(ctx)
		if err == nil {
			t.Fatal("the echo fault was not met")
		}
		shown = append(shown, err.Error(), fmt.Sprintf("%+v", err))
	}
	// A team's answer carrying the key beside an error that echoes it, to
	// a client of another family, which has not seen the key before.
	body := `{"data":{"entity":{"id":"RW50aXR5OjE=","name":"ml","readOnlyAdmin":false,"isTeam":true,"privateOnly":false,` +
		`"storageBytes":0,"codeSavingEnabled":true,"defaultAccess":"MEMBERS","members":[{"id":"x","name":"CI bot",` +
		`"accountType":"SERVICE","apiKey":"` + key + `"}]}},"errors":[{"message":"member key ` + key + `"}]}`
	srv.FailNext("GetTeamEntity", wandbtest.Fault{Body: body})
	stranger := testClient(t, srv, func(cfg *Config) { cfg.Retry.MaxAttempts = 1 })
	if _, err := stranger.Team(ctx, "ml"); err == nil {
		t.Error("the team loaded beside an error")
	} else {
		shown = append(shown, err.Error())
	}
	_, err = stranger.CreateUser(ctx, key, false)
	shown = append(shown, fmt.Sprint(err))
	shown = append(shown, logs.String(), records.String())
	for _, s := range shown {
		if showsKey(s, key) {
			t.Errorf("the service account's key is shown: %s", newRedactor(key).redact(s))
		}
	}
	if !strings.Contains(records.String(), `"op":"create_service_account"`) {
		t.Errorf("the audit log has no record of the creation:\n%s", records.String())
	}
}

// TestServiceAccountWithoutKey: a server that does not fill
// members[].apiKey (WithoutMemberKeys), a dry run and a creation whose
// account the reload does not show: the account is returned without a
// key and the call succeeds; when the server gave none, a warning says
// where to create one.
func TestServiceAccountWithoutKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := teamServer(t, wandbtest.WithoutMemberKeys())
	var logs logBuffer
	admin := testClient(t, srv, func(cfg *Config) { cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	team := mustTeam(t, admin, "ml")
	sa, err := team.CreateServiceAccount(ctx, "CI bot")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sa.APIKey(); ok {
		t.Error("a key without the server giving one")
	}
	if sa.ID != serverIDs(t, srv, "ml")["CI bot"] {
		t.Errorf("service account %s is not the server's", sa)
	}
	if logs.count("returned no API key") != 1 || logs.count("Service Accounts") != 1 {
		t.Errorf("no warning saying where to create the key:\n%s", logs.String())
	}

	// Dry run: planned, no key, no warning.
	logs = logBuffer{}
	dry := testClient(t, teamServer(t), func(cfg *Config) {
		cfg.DryRun = true
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	team, err = dry.Team(ctx, "ml")
	if err != nil {
		t.Fatal(err)
	}
	if sa, err := team.CreateServiceAccount(ctx, "CI bot"); err != nil || !sa.DryRun {
		t.Fatalf("dry run: %v, %v", sa, err)
	} else if _, ok := sa.APIKey(); ok {
		t.Error("a dry run's service account has a key")
	}
	if logs.String() != "" {
		t.Errorf("a dry run logged:\n%s", logs.String())
	}

	// The reload fails: the account is returned as the server created it,
	// without a key, with both warnings.
	srv = teamServer(t)
	logs = logBuffer{}
	admin = testClient(t, srv, func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		cfg.Retry.MaxAttempts = 1
	})
	if team, err = admin.Team(ctx, "ml"); err != nil {
		t.Fatal(err)
	}
	srv.FailNext("GetTeamEntity", wandbtest.Fault{Status: 503})
	sa, err = team.CreateServiceAccount(ctx, "CI bot")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sa.APIKey(); ok {
		t.Error("a key from a reload that failed")
	}
	if logs.count("not found among the team's members") != 1 || logs.count("returned no API key") != 1 {
		t.Errorf("warnings:\n%s", logs.String())
	}
}

// TestServiceAccountKeyAfterLostAnswer: the creation's answer is lost
// after the server applied it; the check finds the account, which comes
// with the key the check's reload carried and an unknown outcome (the
// account may be another program's).
func TestServiceAccountKeyAfterLostAnswer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := teamServer(t)
	admin := testClient(t, srv)
	team := mustTeam(t, admin, "ml")
	srv.FailNext("CreateServiceAccount", wandbtest.Fault{Drop: true, AfterApply: true})
	sa, err := team.CreateServiceAccount(ctx, "CI bot")
	if e := asError(t, err, "create_service_account", CodeUnknownOutcome); sa == nil || len(e.Candidates) != 1 {
		t.Fatalf("CreateServiceAccount = %v, %v; want the account found, named in the error", sa, err)
	}
	key, ok := sa.APIKey()
	if !ok {
		t.Fatal("no key after a lost answer")
	}
	bot, err := admin.WithAPIKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := bot.Viewer(ctx); err != nil || deref(v.Username) != "ml-service" {
		t.Errorf("the key's viewer = %v, %v", v, err)
	}
}

// TestServiceAccountKeysConcurrently: service accounts created at once in
// one team each get their own key (run with -race).
func TestServiceAccountKeysConcurrently(t *testing.T) {
	t.Parallel()
	srv, admin, team := mlAsAlice(t)
	ctx := context.Background()
	const n = 6
	keys := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sa, err := team.CreateServiceAccount(ctx, fmt.Sprintf("bot %d", i))
			if err != nil {
				t.Error(err)
				return
			}
			keys[i], _ = sa.APIKey()
		})
	}
	wg.Wait()
	for i, key := range keys {
		if key == "" {
			t.Errorf("bot %d: no key", i)
			continue
		}
		bot, err := admin.WithAPIKey(key)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := bot.Viewer(ctx); err != nil || v.ID != serviceUserID(t, srv, fmt.Sprintf("bot %d", i)) {
			t.Errorf("bot %d: the key's viewer is %v, %v", i, v, err)
		}
	}
}

// TestServiceAccountOfAnotherAfterLostAnswer: a creation whose answer is
// lost before the server applied it, while another program created an
// account of the same description, does not claim that account as its
// own.
func TestServiceAccountOfAnotherAfterLostAnswer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := teamServer(t)
	admin := testClient(t, srv)
	team := mustTeam(t, admin, "ml")
	if _, err := mustTeam(t, testClient(t, srv), "ml").CreateServiceAccount(ctx, "CI bot"); err != nil {
		t.Fatal(err)
	}
	srv.FailNext("CreateServiceAccount", wandbtest.Fault{Drop: true})
	_, err := team.CreateServiceAccount(ctx, "CI bot")
	asError(t, err, "create_service_account", CodeUnknownOutcome)
	if n := srv.Requests("CreateServiceAccount"); n != 2 {
		t.Errorf("%d creations sent, want 2 (one each)", n)
	}
}
