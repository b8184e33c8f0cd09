package custodian

import "context"

// Actor is who is acting in a request: a signed-in user or an API client.
type Actor struct {
	// ID is the user name or client id.
	ID string
	// Kind is "user", "client" or "system" (the process itself, e.g. a migration or import run from the CLI).
	Kind string
	// Roles the actor holds.
	Roles []string
	// Scopes granted to an API client (SMART style, e.g. "system/*.read").
	Scopes []string
	// Address is the network source of the request, if any.
	Address string
	// PurposeOfUse is the stated purpose (e.g. TREAT, HOPERAT), if any.
	PurposeOfUse string
}

type actorKey struct{}

// NewContextWithActor returns a copy of ctx carrying a.
func NewContextWithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFromContext returns the actor in ctx, or nil if there is none.
func ActorFromContext(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey{}).(*Actor)
	return a
}

// SystemActor is the actor for work Custodian does on its own behalf from the
// command line (imports, migrations), where no person is signed in.
func SystemActor() *Actor { return &Actor{ID: "custodian", Kind: "system"} }
