// Package app holds the use cases of switchboard: who may do what, inside
// which transaction, with which side effects. It depends on the narrow Store
// interface defined here and never on a concrete database or on HTTP.
package app

import (
	"context"
	"time"

	sb "github.com/switchboard-voice/switchboard"
)

// Store opens transactions on the database. Implementations: internal/sqlstore
// (SQLite and PostgreSQL).
type Store interface {
	// Update runs fn in a read-write transaction. An error from fn (or from
	// commit) rolls everything back. Errors: whatever fn returns;
	// service_unavailable when the database cannot be reached.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(tx Tx) error) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// SchemaCurrent reports whether every embedded migration is applied.
	SchemaCurrent(ctx context.Context) (bool, error)
	// Engine is "sqlite" or "postgres".
	Engine() string
	Close() error
}

// MainAccountFilter selects main accounts for the operator list.
type MainAccountFilter struct {
	Search  string // case-insensitive substring of name or email
	Enabled *bool
	Offset  int
	Limit   int
}

// SubAccountFilter selects a parent's live sub-accounts (CONTRACT §4.6).
type SubAccountFilter struct {
	ActiveOnly bool
	Search     string // case-insensitive substring of name or email
	KYCMode    string // exact, "" = any
	Offset     int
	Limit      int
}

// AuditFilter selects audit records (CONTRACT §10.1).
type AuditFilter struct {
	TenantID string // main account auth_id; "" = every tenant (operator)
	From, To *time.Time
	// Action is exact, or a prefix when it ends with ".".
	Action   string
	ActorID  string
	TargetID string
	Outcome  string
	BeforeID int64 // cursor: only ids below this; 0 = from the newest
	Limit    int
}

// DeliveryFilter selects webhook deliveries (CONTRACT §10.2).
type DeliveryFilter struct {
	Event   string
	EventID string
	Status  string
	Offset  int
	Limit   int
}

// NewAccount is what InsertAccount writes besides the account row.
type NewAccount struct {
	Account *sb.Account
	// TokenHash is the keyed hash of the first auth token.
	TokenHash []byte
	// WebhookSecretEnc is the encrypted webhook signing secret (main
	// accounts only; nil for sub-accounts).
	WebhookSecretEnc []byte
}

// Tx is one database transaction. After a method returns an error the
// callback must return an error too (PostgreSQL aborts the transaction).
// Every method that reads or writes tenant
// data takes the owning main account's numeric id and filters by it, so a
// foreign id is indistinguishable from a missing one (not_found).
// All times passed in and returned are UTC with microsecond precision.
type Tx interface {
	// GetSetting returns a settings value; ok is false when absent.
	GetSetting(ctx context.Context, key string) (value string, ok bool, err error)
	// PutSetting inserts or replaces a settings value.
	PutSetting(ctx context.Context, key, value string) error

	// NextAccountID draws the next id of the account sequence shared by main
	// and sub-accounts (first value 100001).
	NextAccountID(ctx context.Context) (int64, error)
	// InsertAccount writes a new main or sub-account with its first token.
	// Errors: already_exists when the email (case-insensitive, among live
	// accounts) or the auth_id is taken.
	InsertAccount(ctx context.Context, n NewAccount) error
	// AccountByAuthID returns a live (not deleted) account of either kind
	// with ParentEnabled filled. Errors: not_found.
	AccountByAuthID(ctx context.Context, authID string) (*sb.Account, error)
	// AccountByEmail returns the live account with that (normalized) email.
	// Errors: not_found.
	AccountByEmail(ctx context.Context, email string) (*sb.Account, error)
	// CountMainAccounts counts main accounts (disabled included).
	CountMainAccounts(ctx context.Context) (int, error)
	// MainAccount returns a main account by auth_id with SubAccountCount
	// filled. Errors: not_found (also for a sub-account's auth_id).
	MainAccount(ctx context.Context, authID string) (*sb.Account, error)
	// ListMainAccounts returns one page, newest first, and the total count.
	ListMainAccounts(ctx context.Context, f MainAccountFilter) ([]*sb.Account, int, error)
	// UpdateMainAccount writes every mutable field of a main account
	// (name, email, phone, password_hash, enabled, rate_limit,
	// max_sub_accounts, low_balance_threshold, pricing, version, updated_at).
	// Errors: not_found, already_exists (email).
	UpdateMainAccount(ctx context.Context, a *sb.Account) error

	// SubAccount returns a live sub-account of the main account parentID.
	// forUpdate locks the row until the transaction ends (PostgreSQL).
	// Errors: not_found (unknown, deleted or another parent's).
	SubAccount(ctx context.Context, parentID int64, subAuthID string, forUpdate bool) (*sb.Account, error)
	// ListSubAccounts returns one page of the parent's live sub-accounts,
	// newest first (created_at desc, id desc), and the total count.
	ListSubAccounts(ctx context.Context, parentID int64, f SubAccountFilter) ([]*sb.Account, int, error)
	// CountSubAccounts counts the parent's live sub-accounts.
	CountSubAccounts(ctx context.Context, parentID int64) (int, error)
	// UpdateSubAccount writes every mutable field of a sub-account (name,
	// email, phone, description, permissions, rate_limit, enabled,
	// email_verified, kyc_mode, business_type, kyc_calls_blocked,
	// password_hash, version, updated_at). Errors: not_found, already_exists.
	UpdateSubAccount(ctx context.Context, parentID int64, a *sb.Account) error
	// DeleteSubAccount marks the sub-account deleted at the given time and
	// removes its auth tokens. Its auth_id stays reserved forever.
	// Errors: not_found.
	DeleteSubAccount(ctx context.Context, parentID int64, subID int64, at time.Time) error
	// TouchLastUsed sets last_used without changing version or updated_at.
	// Errors: not_found.
	TouchLastUsed(ctx context.Context, accountID int64, at time.Time) error

	// Credentials returns a live account (as AccountByAuthID) and its live
	// tokens (as LiveTokens) in one round trip: the authentication path.
	// Errors: not_found.
	Credentials(ctx context.Context, authID string, now time.Time) (*sb.Account, []sb.StoredToken, error)
	// LiveTokens returns the account's stored tokens whose grace has not
	// ended at now (the current one has ExpiresAt nil).
	LiveTokens(ctx context.Context, accountID int64, now time.Time) ([]sb.StoredToken, error)
	// RotateToken makes r.NewHash the current token. The previous current
	// token is kept until r.PreviousExpiresAt (removed when nil); any older
	// token still in grace is removed; the new token's created_at is r.At.
	// Errors: not_found (unknown or deleted account).
	RotateToken(ctx context.Context, accountID int64, r sb.Rotation) error
	// ConsumeRefreshToken records a refresh token id as used. Errors:
	// already_exists when it was used before.
	ConsumeRefreshToken(ctx context.Context, jti string, expiresAt time.Time) error

	// WebhookSecret returns the encrypted webhook secret of a main account.
	// Errors: not_found.
	WebhookSecret(ctx context.Context, mainID int64) ([]byte, error)
	// SetWebhookSecret replaces the encrypted webhook secret.
	SetWebhookSecret(ctx context.Context, mainID int64, enc []byte) error

	// ClaimIdempotencyKey inserts rec (Status 0: in progress, or a final
	// status with its body). A record of the same principal and key whose
	// ExpiresAt has passed at rec.CreatedAt is replaced. Errors:
	// already_exists when a live record exists; unlike other errors this
	// one leaves the transaction usable (no SQL error is raised).
	ClaimIdempotencyKey(ctx context.Context, rec sb.IdempotencyRecord) error
	// IdempotencyKey returns the live record (ExpiresAt after now).
	// Errors: not_found.
	IdempotencyKey(ctx context.Context, principal, key string, now time.Time) (*sb.IdempotencyRecord, error)
	// CompleteIdempotencyKey stores the final status and body of a claimed
	// key. Errors: not_found when no record exists.
	CompleteIdempotencyKey(ctx context.Context, principal, key string, status int, body []byte, encrypted bool) error
	// ReleaseIdempotencyKey deletes a record (the request failed with 5xx).
	ReleaseIdempotencyKey(ctx context.Context, principal, key string) error
	// PurgeIdempotencyKeys deletes records that expired before now and
	// returns how many.
	PurgeIdempotencyKeys(ctx context.Context, now time.Time) (int, error)

	// AppendAudit appends rec to the global hash chain: it assigns rec.ID
	// (next of one sequence), rec.PrevHash (the last record's hash, or
	// sb.GenesisHash) and rec.Hash (rec.ComputeHash) while holding a lock
	// that serializes appends across processes.
	AppendAudit(ctx context.Context, rec *sb.AuditRecord) error
	// ListAudit returns up to f.Limit records, newest first (id desc), with
	// id < f.BeforeID when BeforeID > 0. TenantID "" means all tenants.
	ListAudit(ctx context.Context, f AuditFilter) ([]*sb.AuditRecord, error)
	// AuditChain returns up to limit records with id > afterID in id order,
	// for chain verification.
	AuditChain(ctx context.Context, afterID int64, limit int) ([]*sb.AuditRecord, error)

	// WebhookEndpoint returns a main account's webhook URL (nil: none) and
	// subscribed events. Errors: not_found.
	WebhookEndpoint(ctx context.Context, mainID int64) (sb.WebhookEndpoint, error)
	// SetWebhookEndpoint replaces the URL and events. Errors: not_found.
	SetWebhookEndpoint(ctx context.Context, mainID int64, ep sb.WebhookEndpoint) error
	// InsertDelivery adds a pending delivery to the outbox.
	InsertDelivery(ctx context.Context, d *sb.Delivery) error
	// ClaimDueDeliveries returns up to limit pending deliveries of any
	// tenant whose NextAttemptAt is at or before now and whose lease has
	// ended, and leases them until leaseUntil, so that several workers (and
	// replicas) never attempt one delivery at the same time (PostgreSQL:
	// FOR UPDATE SKIP LOCKED).
	ClaimDueDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*sb.Delivery, error)
	// RecordDeliveryAttempt appends an attempt, sets the status and the next
	// attempt time (nil when final), clears the lease and sets updated_at.
	// Errors: not_found.
	RecordDeliveryAttempt(ctx context.Context, id string, a sb.DeliveryAttempt, status string, next *time.Time, now time.Time) error
	// ListDeliveries returns one page of a tenant's deliveries, newest
	// first, and the total count.
	ListDeliveries(ctx context.Context, mainID int64, f DeliveryFilter) ([]*sb.Delivery, int, error)
	// Delivery returns one of a tenant's deliveries. Errors: not_found.
	Delivery(ctx context.Context, mainID int64, id string) (*sb.Delivery, error)
	// RetryDelivery makes a tenant's delivery pending with NextAttemptAt
	// now and no lease. Errors: not_found.
	RetryDelivery(ctx context.Context, mainID int64, id string, now time.Time) error
	// CountPendingDeliveries counts pending deliveries of every tenant.
	CountPendingDeliveries(ctx context.Context) (int, error)
	// PurgeDeliveries deletes deliveries created before the given time.
	PurgeDeliveries(ctx context.Context, before time.Time) (int, error)

	// ResetAll deletes every tenant row (accounts, tokens, refresh records,
	// idempotency records, audit records, deliveries and all later tenant
	// tables) but keeps settings and the migration state. The account
	// sequence continues (ids are never reused).
	ResetAll(ctx context.Context) error
}
