package wandbtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/wandb-lua/wandb-lua/wandb/wandbtest/internal/graph"
)

// newGraphQL builds the gqlgen server: POST only, as W&B serves it.
func newGraphQL(h *Handler) *handler.Server {
	srv := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: &resolver{h: h}}))
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](100))
	srv.AroundFields(gateFirstPartyFields)
	srv.SetErrorPresenter(presentError)
	return srv
}

// presentError marks a permission failure as W&B does (wandb/wandb#8609,
// #1239): "permission denied" with extensions.code PERMISSION_ERROR.
func presentError(ctx context.Context, err error) *gqlerror.Error {
	e := graphql.DefaultErrorPresenter(ctx, err)
	if errors.Is(err, errDenied) {
		if e.Extensions == nil {
			e.Extensions = map[string]any{}
		}
		e.Extensions["code"] = "PERMISSION_ERROR"
	}
	return e
}

// gateFirstPartyFields fails User.apiKeys for clients whose User-Agent is not
// the public client's, as the W&B backend does.
func gateFirstPartyFields(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc != nil && fc.Object == "User" && fc.Field.Name == "apiKeys" && !exchangeFrom(ctx).publicClient {
		return nil, errors.New("relogin required")
	}
	return next(ctx)
}

type resolver struct{ h *Handler }

func (r *resolver) Query() graph.QueryResolver       { return queryResolver{r} }
func (r *resolver) Mutation() graph.MutationResolver { return mutationResolver{r} }

type queryResolver struct{ *resolver }
type mutationResolver struct{ *resolver }

// errDenied is the root of every permission failure: its message starts
// them all, and it earns them extensions.code PERMISSION_ERROR and the
// status of WithPermissionErrorStatus (see exchange.deny).
var errDenied = errors.New("permission denied")

var errPermission = fmt.Errorf("%w: this operation needs an instance admin", errDenied)

// errSearchDenied is the refusal of WithUserSearchDenied.
var errSearchDenied = fmt.Errorf("%w: searching users is for local administrators only", errDenied)

func (q queryResolver) Viewer(ctx context.Context) (*graph.User, error) {
	ex := exchangeFrom(ctx)
	s := q.h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	return ex.caller.model(), nil
}

func (q queryResolver) Users(ctx context.Context, query *string) (*graph.UserConnection, error) {
	ex := exchangeFrom(ctx)
	s := q.h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case !ex.caller.admin:
		return nil, ex.deny(errPermission)
	case q.h.assumed.userSearchDenied:
		return nil, ex.deny(errSearchDenied)
	}
	var qs string
	if query != nil {
		qs = *query
	}
	conn := &graph.UserConnection{Edges: []*graph.UserEdge{}}
	for _, u := range s.search(qs) {
		conn.Edges = append(conn.Edges, &graph.UserEdge{Node: u.model()})
	}
	return conn, nil
}

func (m mutationResolver) CreateUser(ctx context.Context, in graph.CreateUserInput) (*graph.CreateUserPayload, error) {
	ex := exchangeFrom(ctx)
	s := m.h.store
	s.mu.Lock()
	if !ex.caller.admin {
		s.mu.Unlock()
		return nil, ex.deny(errPermission)
	}
	u, err := s.insertUser(strings.TrimSpace(in.Email), "", "", in.Admin != nil && *in.Admin)
	var out *graph.User
	if err == nil {
		out = u.model()
	}
	s.mu.Unlock()
	switch {
	case errors.Is(err, errExists):
		ex.failPlain(http.StatusConflict, err.Error())
		return nil, err
	case err != nil:
		return nil, err
	}
	if err := m.h.persist(); err != nil {
		ex.fail(http.StatusInternalServerError)
		return nil, err
	}
	return &graph.CreateUserPayload{User: out}, nil
}

func (m mutationResolver) GenerateAPIKey(ctx context.Context, in graph.GenerateAPIKeyInput) (*graph.GenerateAPIKeyPayload, error) {
	ex := exchangeFrom(ctx)
	s := m.h.store
	s.mu.Lock()
	var desc *string
	if in.Description != nil {
		d := *in.Description
		desc = &d
	}
	k, secret := s.addKey(ex.caller, desc)
	out := &graph.APIKey{ID: gqlID("ApiKey", k.id), Name: secret, Description: desc}
	s.mu.Unlock()
	if err := m.h.persist(); err != nil {
		ex.fail(http.StatusInternalServerError)
		return nil, err
	}
	return &graph.GenerateAPIKeyPayload{APIKey: out}, nil
}

func (m mutationResolver) DeleteAPIKey(ctx context.Context, in graph.DeleteAPIKeyInput) (*graph.DeleteAPIKeyPayload, error) {
	ex := exchangeFrom(ctx)
	s := m.h.store
	s.mu.Lock()
	var k *apiKey
	if n, ok := parseGQLID("ApiKey", in.ID); ok {
		k = s.keys[n]
	}
	var err error
	switch {
	case k == nil:
		err = errors.New("api key not found")
	case k.owner != ex.caller && !ex.caller.admin:
		err = ex.deny(fmt.Errorf("%w: the api key belongs to another user", errDenied))
	default:
		s.deleteKey(k)
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if err := m.h.persist(); err != nil {
		ex.fail(http.StatusInternalServerError)
		return nil, err
	}
	ok := true
	return &graph.DeleteAPIKeyPayload{Success: &ok}, nil
}

// model returns the GraphQL view of u; s.mu must be held.
func (u *user) model() *graph.User {
	admin := u.admin
	username, entity := u.username, u.username
	var email *string
	if u.email != "" {
		email = &u.email
	}
	keys := &graph.APIKeyConnection{Edges: make([]*graph.APIKeyEdge, 0, len(u.keys))}
	for _, k := range u.keys {
		keys.Edges = append(keys.Edges, &graph.APIKeyEdge{Node: &graph.APIKey{
			ID:          gqlID("ApiKey", k.id),
			Name:        k.name,
			Description: k.description,
		}})
	}
	// A user's own entity comes first, then its teams: the SDK's system
	// test test_viewer asserts api.viewer.teams == [username] on a real
	// server (the order among teams is assumed).
	teams := &graph.EntityConnection{Edges: make([]*graph.EntityEdge, 0, 1+len(u.teams))}
	teams.Edges = append(teams.Edges, &graph.EntityEdge{Node: &graph.Entity{
		ID: gqlID("UserEntity", u.id), Name: u.username, Members: []*graph.Member{}}})
	for _, t := range u.teams {
		teams.Edges = append(teams.Edges, &graph.EntityEdge{Node: t.model(nil)})
	}
	return &graph.User{
		ID:       gqlID("User", u.id),
		Name:     u.name,
		Username: &username,
		Email:    email,
		Admin:    &admin,
		Entity:   &entity,
		APIKeys:  keys,
		Teams:    teams,
	}
}
