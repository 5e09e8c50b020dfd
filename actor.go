package switchboard

import "context"

// ActorKind says who performs an action; it is recorded in the audit log.
type ActorKind string

const (
	ActorAdmin   ActorKind = "admin"   // the operator token
	ActorAccount ActorKind = "account" // a main account or sub-account credential
	ActorCLI     ActorKind = "cli"     // the switchboard command line
	ActorSystem  ActorKind = "system"  // background work and bootstrap
)

// Credential schemes an account can authenticate with (CONTRACT §1.1).
const (
	SchemeAuthPair = "x-auth"
	SchemeBasic    = "basic"
	SchemeJWT      = "jwt"
)

// Actor is the authenticated caller of a use case.
type Actor struct {
	Kind ActorKind
	// Account is the authenticated account for ActorAccount, else nil.
	Account *Account
	// Scheme is the credential scheme that authenticated the account.
	Scheme string
	// Role is the role of the route being called (CONTRACT §1.5), recorded
	// in audit records as actor_role.
	Role string
	// RequestID and SourceIP identify the request for audit records.
	RequestID string
	SourceIP  string
}

// ID returns the actor's identifier as written in audit records.
func (a Actor) ID() string {
	switch {
	case a.Account != nil:
		return a.Account.AuthID
	default:
		return string(a.Kind)
	}
}

// TenantAuthID is the main account the actor belongs to, or "" for the operator.
func (a Actor) TenantAuthID() string {
	if a.Account == nil {
		return ""
	}
	return a.Account.TenantAuthID()
}

type actorKey struct{}

// WithActor returns a context that carries the actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor carried by ctx; ok is false when there is none.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}
