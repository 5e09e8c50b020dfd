package sqlstore

// TEMPORARY (lead engineer): the app.Tx interface grew while this package
// was being written; these methods are implemented in a follow-up change.
// Nothing in the current tests calls them.

import (
	"context"
	"errors"
	"time"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
)

var errPending = errors.New("not implemented yet")

func (t *tx) ClaimIdempotencyKey(ctx context.Context, rec sb.IdempotencyRecord) error {
	return errPending
}
func (t *tx) IdempotencyKey(ctx context.Context, principal, key string, now time.Time) (*sb.IdempotencyRecord, error) {
	return nil, sb.Errorf(sb.ENotFound, "no record")
}
func (t *tx) CompleteIdempotencyKey(ctx context.Context, principal, key string, status int, body []byte, encrypted bool) error {
	return errPending
}
func (t *tx) ReleaseIdempotencyKey(ctx context.Context, principal, key string) error {
	return errPending
}
func (t *tx) PurgeIdempotencyKeys(ctx context.Context, now time.Time) (int, error) { return 0, nil }
func (t *tx) AppendAudit(ctx context.Context, rec *sb.AuditRecord) error           { return nil }
func (t *tx) ListAudit(ctx context.Context, f app.AuditFilter) ([]*sb.AuditRecord, error) {
	return nil, errPending
}
func (t *tx) AuditChain(ctx context.Context, afterID int64, limit int) ([]*sb.AuditRecord, error) {
	return nil, errPending
}
func (t *tx) WebhookEndpoint(ctx context.Context, mainID int64) (sb.WebhookEndpoint, error) {
	return sb.WebhookEndpoint{}, nil
}
func (t *tx) SetWebhookEndpoint(ctx context.Context, mainID int64, ep sb.WebhookEndpoint) error {
	return errPending
}
func (t *tx) InsertDelivery(ctx context.Context, d *sb.Delivery) error { return errPending }
func (t *tx) ClaimDueDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*sb.Delivery, error) {
	return nil, nil
}
func (t *tx) RecordDeliveryAttempt(ctx context.Context, id string, a sb.DeliveryAttempt, status string, next *time.Time, now time.Time) error {
	return errPending
}
func (t *tx) ListDeliveries(ctx context.Context, mainID int64, f app.DeliveryFilter) ([]*sb.Delivery, int, error) {
	return nil, 0, errPending
}
func (t *tx) Delivery(ctx context.Context, mainID int64, id string) (*sb.Delivery, error) {
	return nil, errPending
}
func (t *tx) RetryDelivery(ctx context.Context, mainID int64, id string, now time.Time) error {
	return errPending
}
func (t *tx) PurgeDeliveries(ctx context.Context, before time.Time) (int, error) { return 0, nil }
