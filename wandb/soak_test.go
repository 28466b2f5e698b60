package wandb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest"
)

// TestFaultSoak sends 2,000 changes through a server that answers one
// request to a mutation in five with a fault, before or after applying
// it (a 429 or 503 with Retry-After after applying it included: a server
// that breaks the promise those answers are assumed to make), and checks
// that the server's state is exactly what the calls reported: every user
// reported created exists and no other, every key reported deleted is
// gone, every key reported generated is there and its secret works, and
// every key whose secret was not returned is named by an unknown outcome
// of a generation. An unknown outcome is allowed only where the calls
// cannot tell: a creation whose lost answer leaves the user there (this
// call's, or another program's?) and a generation that leaves a new key.
// The faults are drawn from a seeded generator and the calls made one at
// a time, on the bubble's clock (see bubbleServer), so every run is the
// same run: a stall costs the attempt timeout and nothing else ever does,
// however busy the machine.
func TestFaultSoak(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testFaultSoak)
}

func testFaultSoak(t *testing.T) {
	const calls = 2000
	rng := rand.New(rand.NewPCG(7, 11))
	var mu sync.Mutex
	faults := soakFaults()
	faulted := map[string]int{}
	pick := func(op string) (wandbtest.Fault, bool) {
		mu.Lock()
		defer mu.Unlock()
		if !soakMutation(op) || rng.IntN(5) != 0 {
			return wandbtest.Fault{}, false
		}
		f := faults[rng.IntN(len(faults))]
		faulted[fmt.Sprintf("%s %+v", op, f)]++
		return f, true
	}
	srv, viaPipe := bubbleServer(t, wandbtest.WithFaults(pick))
	c := testClient(t, srv, viaPipe, func(cfg *Config) {
		cfg.Retry = RetryPolicy{MaxAttempts: 4, MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond, MaxRetryAfter: time.Second}
		cfg.attemptTimeout = 50 * time.Millisecond // what a stalled answer costs
	})
	ctx := context.Background()
	me := mustViewer(t, c)
	initial := map[string]bool{} // the admin's keys before the soak
	for _, k := range me.APIKeys() {
		initial[k.Name] = true
	}
	choose := func(n int) int {
		mu.Lock()
		defer mu.Unlock()
		return rng.IntN(n)
	}

	created := map[string]bool{} // email -> reported created
	maybe := map[string]bool{}   // email -> found after a lost answer (unknown outcome)
	held := map[string]string{}  // key name -> secret returned
	named := map[string]bool{}   // key names an unknown generation named
	deleted := map[string]bool{} // key names reported deleted
	outcomes := map[string]int{}
	note := func(op string, err error) {
		var e *Error
		switch {
		case err == nil:
			outcomes[op+" ok"]++
		case errors.As(err, &e) && e.Code == CodeUnknownOutcome && op == "generate_api_key" && len(e.Candidates) > 0:
			outcomes[op+" unknown, keys named"]++
			for _, n := range e.Candidates {
				named[n] = true
			}
		case errors.As(err, &e) && e.Code == CodeUnknownOutcome && op == "create_user" && strings.Contains(e.Message, "exists now"):
			outcomes[op+" unknown, user there"]++
		case errors.Is(err, ErrUnknownOutcome):
			outcomes[op+" unknown"]++
			t.Errorf("%s: %v", op, err)
		default:
			var e *Error
			errors.As(err, &e)
			outcomes[op+" failed "+string(e.Code)]++
		}
	}
	for i := range calls {
		switch r := choose(10); {
		case r < 5:
			email := fmt.Sprintf("u%d@example.com", i)
			_, err := c.CreateUser(ctx, email, false)
			note("create_user", err)
			created[email] = err == nil
			maybe[email] = errors.Is(err, ErrUnknownOutcome)
		case r < 8 || len(held) == 0:
			secret, err := me.GenerateAPIKey(ctx, "soak")
			note("generate_api_key", err)
			if err == nil {
				held[listedKeyName(secret)] = secret
			}
		default:
			names := make([]string, 0, len(held))
			for n := range held {
				names = append(names, n)
			}
			slices.Sort(names)
			name := names[choose(len(names))]
			err := me.DeleteAPIKey(ctx, name)
			note("delete_api_key", err)
			switch {
			case err == nil:
				delete(held, name)
				deleted[name] = true
			case errors.Is(err, ErrUnknownOutcome):
				held[name] = "" // gone or not: not checked below
			}
		}
	}
	t.Logf("outcomes: %v", outcomes)
	if len(faulted) < len(faults)*2 {
		t.Errorf("only %d kinds of fault met; the soak is too small", len(faulted))
	}

	// The server's state is what was reported.
	for email, ok := range created {
		if _, exists := srv.UserByEmail(email); exists != (ok || maybe[email]) {
			t.Errorf("%s: reported created %v (found after a lost answer %v), on the server %v", email, ok, maybe[email], exists)
		}
	}
	onServer := map[string]bool{}
	for _, n := range serverKeyNames(t, srv, wandbtest.AdminEmail) {
		onServer[n] = true
	}
	for n := range deleted {
		if onServer[n] {
			t.Errorf("key %s reported deleted is on the server", n)
		}
	}
	verify := testClient(t, srv, viaPipe)
	for n, secret := range held {
		if secret == "" {
			continue
		}
		if !onServer[n] {
			t.Errorf("key %s reported generated is not on the server", n)
			continue
		}
		kc, err := verify.WithAPIKey(secret)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := kc.Viewer(ctx); err != nil || v.ID != me.ID {
			t.Errorf("key %s: its secret does not authenticate: %v", n, err)
		}
	}
	for n := range onServer {
		if _, ok := held[n]; !ok && !initial[n] && !named[n] {
			t.Errorf("key %s is on the server, but no secret for it was returned, and no unknown outcome names it", n)
		}
	}
	if n := srv.Requests("DeleteApiKey"); n == 0 {
		t.Error("no deletion was sent: the soak is too small")
	}
}

// TestFaultSoakConcurrent is TestFaultSoak with 16 calls at a time: key
// generations with one description racing each other, and creations of
// a few emails, each asked for by several calls at once. Which request
// meets which fault depends on the schedule, but what must hold does
// not: no email is reported created twice, every email reported created
// exists, no key is deleted but those reported deleted, every secret
// returned works, and every key without a returned secret is named by an
// unknown outcome.
func TestFaultSoakConcurrent(t *testing.T) {
	t.Parallel()
	const calls, concurrency = 600, 16
	rng := rand.New(rand.NewPCG(13, 17))
	var mu sync.Mutex
	faults := []wandbtest.Fault{
		wandbtest.RateLimited(0),
		{Status: http.StatusBadGateway},
		{Status: http.StatusBadGateway, AfterApply: true},
		{Drop: true},
		{Drop: true, AfterApply: true},
		{Status: http.StatusTooManyRequests, Body: `{"error":"rate limit exceeded"}`, AfterApply: true},
		{Status: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"0"}}, AfterApply: true},
	}
	mutations := map[string]bool{"CreateUserFromAdmin": true, "GenerateApiKey": true, "DeleteApiKey": true}
	srv := wandbtest.Start(t, wandbtest.WithFaults(func(op string) (wandbtest.Fault, bool) {
		mu.Lock()
		defer mu.Unlock()
		if !mutations[op] || rng.IntN(5) != 0 {
			return wandbtest.Fault{}, false
		}
		return faults[rng.IntN(len(faults))], true
	}))
	c := testClient(t, srv, func(cfg *Config) {
		cfg.Retry = RetryPolicy{MaxAttempts: 4, MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond, MaxRetryAfter: time.Second}
	})
	ctx := context.Background()
	me := mustViewer(t, c)
	initial := map[string]bool{}
	for _, k := range me.APIKeys() {
		initial[k.Name] = true
	}
	var (
		rmu      sync.Mutex
		claimed  = map[string]int{}    // email -> calls reporting it created
		held     = map[string]string{} // key name -> secret
		named    = map[string]bool{}   // key names an unknown generation named
		deleted  = map[string]bool{}
		outcomes = map[string]int{}
	)
	note := func(op string, err error) {
		rmu.Lock()
		defer rmu.Unlock()
		var e *Error
		switch {
		case err == nil:
			outcomes[op+" ok"]++
		case errors.As(err, &e):
			outcomes[op+" "+string(e.Code)]++
			if e.Code == CodeUnknownOutcome {
				for _, n := range e.Candidates {
					named[n] = true
				}
			}
		}
	}
	var wg sync.WaitGroup
	work := make(chan int)
	for range concurrency {
		wg.Go(func() {
			for range work {
				mu.Lock()
				r, email := rng.IntN(10), fmt.Sprintf("u%d@example.com", rng.IntN(40))
				mu.Unlock()
				switch {
				case r < 4:
					_, err := c.CreateUser(ctx, email, false)
					note("create_user", err)
					if err == nil {
						rmu.Lock()
						claimed[email]++
						rmu.Unlock()
					}
				case r < 8:
					secret, err := me.GenerateAPIKey(ctx, "soak")
					note("generate_api_key", err)
					if err == nil {
						rmu.Lock()
						held[listedKeyName(secret)] = secret
						rmu.Unlock()
					}
				default:
					rmu.Lock()
					name := ""
					for n := range held { // any one
						name = n
						break
					}
					delete(held, name) // no other call deletes it
					rmu.Unlock()
					if name == "" {
						continue
					}
					err := me.DeleteAPIKey(ctx, name)
					note("delete_api_key", err)
					rmu.Lock()
					if err == nil {
						deleted[name] = true
					} else {
						held[name] = "" // not known deleted: no longer checked for its secret
					}
					rmu.Unlock()
				}
			}
		})
	}
	for i := range calls {
		work <- i
	}
	close(work)
	wg.Wait()
	t.Logf("outcomes: %v", outcomes)

	for email, n := range claimed {
		if n > 1 {
			t.Errorf("%s reported created by %d calls", email, n)
		}
		if _, ok := srv.UserByEmail(email); !ok {
			t.Errorf("%s reported created, not on the server", email)
		}
	}
	onServer := map[string]bool{}
	for _, n := range serverKeyNames(t, srv, wandbtest.AdminEmail) {
		onServer[n] = true
	}
	for n := range deleted {
		if onServer[n] {
			t.Errorf("key %s reported deleted is on the server", n)
		}
	}
	for n, secret := range held {
		if secret == "" {
			continue
		}
		if !onServer[n] {
			t.Errorf("key %s, whose secret was returned, is not on the server", n)
		}
	}
	for n := range onServer {
		if _, ok := held[n]; !ok && !initial[n] && !named[n] {
			t.Errorf("key %s is on the server, but no secret for it was returned, and no unknown outcome names it", n)
		}
	}
}

// soakFaults is the soaks' mix of faults, one of each kind a server or
// the network in front of it shows.
func soakFaults() []wandbtest.Fault {
	return []wandbtest.Fault{
		wandbtest.RateLimited(0), // as W&B documents it: RateLimit-Reset, no Retry-After
		{Status: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"0"}}}, // a refusal only by its Retry-After
		{Status: http.StatusBadGateway},
		{Status: http.StatusBadGateway, AfterApply: true},
		{Status: http.StatusInternalServerError, Body: `{"error":"boom"}`},
		{Drop: true},
		{Drop: true, AfterApply: true},
		{Stall: true, AfterApply: true},
		{Body: `{"data":{"result":`, AfterApply: true}, // cut off
		{Body: `{"data":{"result":null}}`},
		// Promises broken: "later" after applying the change.
		{Status: http.StatusTooManyRequests, Body: `{"error":"rate limit exceeded"}`, AfterApply: true},
		{Status: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"0"}}, AfterApply: true},
	}
}

// soakMutation reports whether op is one of the mutations the soaks send
// faults to.
func soakMutation(op string) bool {
	switch op {
	case "CreateUserFromAdmin", "GenerateApiKey", "DeleteApiKey":
		return true
	}
	return false
}

// TestFaultSoakAtThirtyPercent sends 750 changes from 16 goroutines at once
// through a server that answers three requests to a mutation in ten with
// a fault of the soaks' mix, and checks that a server which answers most
// requests is treated as up: fewer than 5% of the calls fail with
// CodeUnavailable, and no call meets the circuit breaker, so no outcome
// is left unknown because the breaker refused its check. The server's
// state must be what the calls reported, as in TestFaultSoak, except for
// the outcomes reported unknown: at this share of faults, the deletion of
// a key whose secret was lost can itself fail. Each goroutine manages
// keys as a user of its own, through a client derived from the admin's
// (one family: one breaker, one bound on requests in flight). Which
// request meets which fault depends on the goroutines' timing; how many
// faults there are, and of which kinds, on the seed alone. It runs on the
// bubble's clock (see bubbleServer): a busy machine slows it down, but
// changes nothing the breaker or the attempt timeout sees.
func TestFaultSoakAtThirtyPercent(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testFaultSoakAtThirtyPercent)
}

func testFaultSoakAtThirtyPercent(t *testing.T) {
	const calls, workers = 750, 16
	rng := rand.New(rand.NewPCG(7, 11))
	var mu sync.Mutex
	faults := soakFaults()
	pick := func(op string) (wandbtest.Fault, bool) {
		mu.Lock()
		defer mu.Unlock()
		if !soakMutation(op) || rng.IntN(10) >= 3 {
			return wandbtest.Fault{}, false
		}
		return faults[rng.IntN(len(faults))], true
	}
	srv, viaPipe := bubbleServer(t, wandbtest.WithFaults(pick))
	c := testClient(t, srv, viaPipe, func(cfg *Config) {
		cfg.Retry = RetryPolicy{MaxAttempts: 4, MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond, MaxRetryAfter: time.Second}
		cfg.attemptTimeout = time.Second // what a stalled answer costs
	})
	ctx := context.Background()
	users := make([]*User, workers)
	initial := map[string]bool{} // the users' keys before the soak
	for w := range users {
		email := fmt.Sprintf("worker%d@example.com", w)
		if _, err := srv.AddUser(wandbtest.SeedUser{Email: email}); err != nil {
			t.Fatal(err)
		}
		var err error
		if users[w], err = clientFor(t, srv, c, email).Viewer(ctx); err != nil {
			t.Fatal(err)
		}
		for _, k := range users[w].APIKeys() {
			initial[k.Name] = true
		}
	}

	// The plan: which change each call makes (a delete takes one of the
	// keys its goroutine generated, or generates one when it has none).
	plan := rand.New(rand.NewPCG(13, 17))
	kinds := make([]int, calls)
	for i := range kinds {
		kinds[i] = plan.IntN(10)
	}
	type report struct {
		op, email, name, secret string
		user                    *User
		err                     error
	}
	reports := make([]report, calls)
	var next atomic.Int64
	var wg sync.WaitGroup
	for _, me := range users {
		wg.Go(func() {
			var mine []string // names of the keys this goroutine generated and holds
			for {
				i := int(next.Add(1)) - 1
				if i >= calls {
					return
				}
				r := &reports[i]
				r.user = me
				switch k := kinds[i]; {
				case k < 5:
					r.op, r.email = "create_user", fmt.Sprintf("u%d@example.com", i)
					_, r.err = c.CreateUser(ctx, r.email, false)
				case k < 8 || len(mine) == 0:
					r.op = "generate_api_key"
					r.secret, r.err = me.GenerateAPIKey(ctx, "soak")
					if r.err == nil {
						r.name = listedKeyName(r.secret)
						mine = append(mine, r.name)
					}
				default:
					r.op, r.name = "delete_api_key", mine[len(mine)-1]
					if r.err = me.DeleteAPIKey(ctx, r.name); r.err == nil {
						mine = mine[:len(mine)-1]
					}
				}
			}
		})
	}
	wg.Wait()

	outcomes := map[string]int{}
	unavailable, unknown, refused := 0, 0, 0 // refused: calls that met the breaker
	created := map[string]bool{}             // email -> reported created, when known
	held := map[string]string{}              // key name -> secret returned
	owner := map[string]*User{}              // key name -> its user
	deleted := map[string]bool{}             // key names reported deleted
	unsure := map[string]bool{}              // key names whose deletion's outcome is unknown
	orphans := map[*User]int{}               // generations whose outcome is unknown, by user
	for _, r := range reports {
		var e *Error
		switch {
		case r.err == nil:
			outcomes[r.op+" ok"]++
		case errors.As(r.err, &e):
			outcomes[r.op+" failed "+string(e.Code)]++
			if e.Code == CodeUnavailable {
				unavailable++
			}
			// The breaker's words, refusing a call or a check (after the
			// probe that check waited for got no answer).
			if strings.Contains(e.Message, "looks down") || strings.Contains(e.Message, "this check waited for") {
				if refused++; refused == 1 {
					t.Errorf("%s met the breaker: %v", r.op, r.err)
				}
			}
		default:
			t.Errorf("%s: %T %v", r.op, r.err, r.err)
		}
		if errors.Is(r.err, ErrUnknownOutcome) {
			unknown++
			switch r.op {
			case "generate_api_key":
				orphans[r.user]++
			case "delete_api_key":
				unsure[r.name] = true
			}
			continue
		}
		switch {
		case r.op == "create_user":
			created[r.email] = r.err == nil
		case r.op == "generate_api_key" && r.err == nil:
			held[r.name], owner[r.name] = r.secret, r.user
		case r.op == "delete_api_key" && r.err == nil:
			deleted[r.name] = true
		}
	}
	for n := range deleted {
		delete(held, n)
	}
	for n := range unsure {
		delete(held, n)
	}
	t.Logf("outcomes: %v", outcomes)
	t.Logf("of %d calls: %d failed with CodeUnavailable, %d met the breaker, %d have an unknown outcome", calls, unavailable, refused, unknown)
	if unavailable*20 >= calls {
		t.Errorf("%d of %d calls failed with CodeUnavailable, want fewer than 5%%", unavailable, calls)
	}

	// The server's state is what was reported.
	for email, ok := range created {
		if _, exists := srv.UserByEmail(email); exists != ok {
			t.Errorf("%s: reported created %v, on the server %v", email, ok, exists)
		}
	}
	onServer := map[string]*User{}
	for _, u := range users {
		for _, n := range serverKeyNames(t, srv, *u.Email) {
			onServer[n] = u
		}
	}
	for n := range deleted {
		if onServer[n] != nil {
			t.Errorf("key %s reported deleted is on the server", n)
		}
	}
	for n, secret := range held {
		if onServer[n] != owner[n] {
			t.Errorf("key %s reported generated is not on the server", n)
			continue
		}
		kc, err := c.WithAPIKey(secret)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := kc.Viewer(ctx); err != nil || v.ID != owner[n].ID {
			t.Errorf("key %s: its secret does not authenticate its user: %v", n, err)
		}
	}
	for n, u := range onServer {
		if _, ok := held[n]; ok || initial[n] || unsure[n] {
			continue
		}
		if orphans[u] == 0 {
			t.Errorf("key %s is on the server, but no secret for it was returned", n)
		}
		orphans[u]-- // one key a generation of unknown outcome may have left
	}
}
