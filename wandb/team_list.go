package wandb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// teamsConcurrency is how many teams Teams loads at once: enough to hide
// the latency of a far server, few enough not to look like a flood.
const teamsConcurrency = 8

// Teams returns every team of the instance, in the order W&B's SCIM API
// lists them, each loaded as [Client.Team] loads it, up to 8 at once. It
// needs an admin key. A team listed but gone when it is loaded (SCIM no
// longer has it either) is left out; one SCIM still has but the GraphQL
// API does not show is left out too, and named in an error with
// CodeIncomplete. A server that does not page past its first answer gives the teams
// it listed, loaded, with an error with CodeIncomplete. Any other failure,
// of the list or of a team's load, fails the call: nil and the first
// error.
func (c *Client) Teams(ctx context.Context) ([]*Team, error) {
	// The SCIM API lists them (GET /scim/Groups, a request per page): the
	// GraphQL API the SDK uses lists only the caller's own teams. W&B
	// documents at most 9,999 per answer.
	const op = OpTeams
	groups, incomplete := scimListAll(ctx, c, op, "/Groups", "teams", func(g *scimGroup) string { return g.ID })
	if groups == nil && incomplete != nil {
		return nil, incomplete
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	loaded := make([]*Team, len(groups))
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		first  error
		unseen []string // teams SCIM has that GraphQL does not show
	)
	slots := make(chan struct{}, teamsConcurrency)
	for i := range groups {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(i int, g *scimGroup) {
			defer func() { <-slots; wg.Done() }()
			t := &Team{Name: g.DisplayName, client: c, scimID: g.ID}
			err := t.load(ctx, op)
			switch {
			case err == nil:
				loaded[i] = t
			case errors.Is(err, ErrNotFound):
				// Gone since it was listed, or a team this key may not see
				// through GraphQL: SCIM, which listed it, settles which.
				if _, gerr := t.scimGroup(ctx, op); isNotFound(gerr) {
					c.logger.InfoContext(ctx, "wandb team listed but gone", "op", op, "team", g.DisplayName)
					return
				}
				mu.Lock()
				unseen = append(unseen, g.DisplayName)
				mu.Unlock()
			default:
				mu.Lock()
				if first == nil {
					first = err
					cancel()
				}
				mu.Unlock()
			}
		}(i, &groups[i])
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = c.ctxError(op, ctx.Err(), nil)
	}
	if first != nil {
		return nil, first
	}
	teams := make([]*Team, 0, len(loaded))
	for _, t := range loaded {
		if t != nil {
			teams = append(teams, t)
		}
	}
	if len(unseen) > 0 && incomplete == nil {
		slices.Sort(unseen)
		incomplete = c.newError(Error{Op: op, Code: CodeIncomplete, Message: fmt.Sprintf(
			"could not load %s: the SCIM API lists it, but the GraphQL API shows no team of that name", strings.Join(unseen, ", "))})
	}
	return teams, incomplete
}
