package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
)

// allEvents is what an endpoint without stored events subscribes to.
var allEvents = []string{"*"}

// WebhookEndpoint returns a main account's webhook URL and events (["*"]
// when none are stored). Errors: not_found (unknown, deleted or a
// sub-account).
func (t *tx) WebhookEndpoint(ctx context.Context, mainID int64) (sb.WebhookEndpoint, error) {
	var url, events sql.NullString
	err := t.queryRow(ctx, `SELECT webhook_url, webhook_events FROM accounts
		WHERE id = ? AND parent_id IS NULL AND deleted_at IS NULL`, mainID).Scan(&url, &events)
	if errors.Is(err, sql.ErrNoRows) {
		return sb.WebhookEndpoint{}, sb.Errorf(sb.ENotFound, "account not found")
	}
	if err != nil {
		return sb.WebhookEndpoint{}, t.d.wrap("webhook endpoint", err)
	}
	var ep sb.WebhookEndpoint
	if url.Valid {
		ep.URL = &url.String
	}
	if events.Valid {
		if err := json.Unmarshal([]byte(events.String), &ep.Events); err != nil {
			return sb.WebhookEndpoint{}, sb.Internal(fmt.Errorf("sqlstore: account %d webhook events: %w", mainID, err))
		}
	}
	if len(ep.Events) == 0 {
		ep.Events = append([]string(nil), allEvents...)
	}
	return ep, nil
}

// SetWebhookEndpoint replaces a main account's webhook URL (nil removes it)
// and events (empty stores none, which reads as ["*"]). Errors: not_found.
func (t *tx) SetWebhookEndpoint(ctx context.Context, mainID int64, ep sb.WebhookEndpoint) error {
	var events any
	if len(ep.Events) > 0 {
		b, err := json.Marshal(ep.Events)
		if err != nil {
			return sb.Internal(fmt.Errorf("sqlstore: encode webhook events: %w", err))
		}
		events = string(b)
	}
	var url any
	if ep.URL != nil {
		url = *ep.URL
	}
	return t.execOne(ctx, "set webhook endpoint", "account not found",
		`UPDATE accounts SET webhook_url = ?, webhook_events = ?
		WHERE id = ? AND parent_id IS NULL AND deleted_at IS NULL`, url, events, mainID)
}

const deliveryColumns = `d.id, d.tenant_id, d.event_id, d.event, d.url, d.payload, d.status, d.attempts,
	d.next_attempt_at, d.created_at, d.updated_at`

// storedAttempt is one element of the attempts JSON array, with the time in
// the wire format (CONTRACT §0.2).
type storedAttempt struct {
	At         string  `json:"at"`
	StatusCode *int    `json:"status_code"`
	Error      *string `json:"error"`
	DurationMS int64   `json:"duration_ms"`
}

func encodeAttempts(as []sb.DeliveryAttempt) (string, error) {
	list := make([]storedAttempt, 0, len(as))
	for _, a := range as {
		list = append(list, storedAttempt{At: sb.FormatTime(a.At), StatusCode: a.StatusCode, Error: a.Error, DurationMS: a.DurationMS})
	}
	b, err := json.Marshal(list)
	return string(b), err
}

// decodeAttempts reads the attempts array; an empty one is nil.
func decodeAttempts(s string) ([]sb.DeliveryAttempt, error) {
	var list []storedAttempt
	if err := json.Unmarshal([]byte(s), &list); err != nil {
		return nil, err
	}
	var as []sb.DeliveryAttempt
	for _, a := range list {
		at, err := sb.ParseTime(a.At)
		if err != nil {
			return nil, err
		}
		as = append(as, sb.DeliveryAttempt{At: at, StatusCode: a.StatusCode, Error: a.Error, DurationMS: a.DurationMS})
	}
	return as, nil
}

func scanDelivery(r rowScanner) (*sb.Delivery, error) {
	var (
		d        sb.Delivery
		attempts string
	)
	err := r.Scan(&d.ID, &d.TenantID, &d.EventID, &d.Event, &d.URL, &d.Payload, &d.Status, &attempts,
		nullTimeDest{&d.NextAttemptAt}, timeDest{&d.CreatedAt}, timeDest{&d.UpdatedAt})
	if err != nil {
		return nil, err
	}
	if d.Attempts, err = decodeAttempts(attempts); err != nil {
		return nil, fmt.Errorf("delivery %s attempts: %w", d.ID, err)
	}
	return &d, nil
}

func (t *tx) listDeliveries(ctx context.Context, op, query string, args ...any) ([]*sb.Delivery, error) {
	rows, err := t.query(ctx, op, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := []*sb.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, t.d.wrap(op, err)
		}
		list = append(list, d)
	}
	if err := rows.Err(); err != nil {
		return nil, t.d.wrap(op, err)
	}
	return list, nil
}

// InsertDelivery adds d to the outbox, unleased. d.TenantID must be a main
// account's id (a foreign key checks that the account exists).
func (t *tx) InsertDelivery(ctx context.Context, d *sb.Delivery) error {
	attempts, err := encodeAttempts(d.Attempts)
	if err != nil {
		return sb.Internal(fmt.Errorf("sqlstore: encode delivery attempts: %w", err))
	}
	payload := d.Payload
	if payload == nil {
		payload = []byte{}
	}
	_, err = t.exec(ctx, "insert delivery", `INSERT INTO webhook_deliveries (id, tenant_id, event_id, event,
		url, payload, status, attempts, next_attempt_at, lease_until, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
		d.ID, d.TenantID, d.EventID, d.Event, d.URL, payload, d.Status, attempts,
		t.d.nullTimeArg(d.NextAttemptAt), t.d.timeArg(d.CreatedAt), t.d.timeArg(d.UpdatedAt))
	return err
}

// ClaimDueDeliveries leases up to limit due, unleased pending deliveries of
// every tenant until leaseUntil and returns them, the earliest due first
// (ties by id). limit below 1 claims nothing. On PostgreSQL the rows are
// selected FOR UPDATE SKIP LOCKED: a concurrent claimer neither waits for
// nor receives a row that this transaction holds, and after commit the
// lease keeps the row away from later claimers until it ends.
func (t *tx) ClaimDueDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*sb.Delivery, error) {
	if limit < 1 {
		return nil, nil
	}
	nowArg := t.d.timeArg(now)
	due, err := t.listDeliveries(ctx, "claim deliveries", `SELECT `+deliveryColumns+` FROM webhook_deliveries d
		WHERE d.status = ? AND d.next_attempt_at <= ? AND (d.lease_until IS NULL OR d.lease_until <= ?)
		ORDER BY d.next_attempt_at, d.id LIMIT ?`+t.d.skipLocked("d"),
		sb.DeliveryPending, nowArg, nowArg, limit)
	if err != nil || len(due) == 0 {
		return due, err
	}
	args := []any{t.d.timeArg(leaseUntil)}
	for _, d := range due {
		args = append(args, d.ID)
	}
	marks := strings.Repeat(", ?", len(due))[2:]
	if _, err := t.exec(ctx, "lease deliveries",
		`UPDATE webhook_deliveries SET lease_until = ? WHERE id IN (`+marks+`)`, args...); err != nil {
		return nil, err
	}
	return due, nil
}

// RecordDeliveryAttempt appends a to the delivery's attempts, sets its
// status and next attempt time (nil when final), clears the lease and sets
// updated_at. The row is locked while its attempts are rewritten.
// Errors: not_found.
func (t *tx) RecordDeliveryAttempt(ctx context.Context, id string, a sb.DeliveryAttempt, status string, next *time.Time, now time.Time) error {
	var stored string
	err := t.queryRow(ctx, `SELECT d.attempts FROM webhook_deliveries d WHERE d.id = ?`+t.d.forUpdate("d"), id).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		return sb.Errorf(sb.ENotFound, "delivery not found")
	}
	if err != nil {
		return t.d.wrap("record delivery attempt", err)
	}
	attempts, err := decodeAttempts(stored)
	if err != nil {
		return sb.Internal(fmt.Errorf("sqlstore: delivery %s attempts: %w", id, err))
	}
	encoded, err := encodeAttempts(append(attempts, a))
	if err != nil {
		return sb.Internal(fmt.Errorf("sqlstore: encode delivery attempts: %w", err))
	}
	return t.execOne(ctx, "record delivery attempt", "delivery not found",
		`UPDATE webhook_deliveries SET attempts = ?, status = ?, next_attempt_at = ?, lease_until = NULL, updated_at = ?
		WHERE id = ?`, encoded, status, t.d.nullTimeArg(next), t.d.timeArg(now), id)
}

// ListDeliveries returns one page of the tenant's deliveries (no limit
// below 1), newest first (created_at desc, id desc), and the number of all
// that match.
func (t *tx) ListDeliveries(ctx context.Context, mainID int64, f app.DeliveryFilter) ([]*sb.Delivery, int, error) {
	where := `d.tenant_id = ?`
	args := []any{mainID}
	for _, c := range []struct{ column, value string }{
		{"d.event", f.Event}, {"d.event_id", f.EventID}, {"d.status", f.Status},
	} {
		if c.value != "" {
			where += ` AND ` + c.column + ` = ?`
			args = append(args, storableText(c.value))
		}
	}
	total, err := t.count(ctx, "list deliveries", `SELECT COUNT(*) FROM webhook_deliveries d WHERE `+where, args...)
	if err != nil {
		return nil, 0, err
	}
	list, err := t.listDeliveries(ctx, "list deliveries", `SELECT `+deliveryColumns+` FROM webhook_deliveries d
		WHERE `+where+` ORDER BY d.created_at DESC, d.id DESC LIMIT ? OFFSET ?`,
		append(args, noLimit(f.Limit), max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, err
	}
	return list, total, nil
}

// Delivery returns one of the tenant's deliveries. Errors: not_found (also
// for another tenant's id).
func (t *tx) Delivery(ctx context.Context, mainID int64, id string) (*sb.Delivery, error) {
	d, err := scanDelivery(t.queryRow(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d
		WHERE d.id = ? AND d.tenant_id = ?`, storableText(id), mainID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sb.Errorf(sb.ENotFound, "delivery not found")
	}
	if err != nil {
		return nil, t.d.wrap("delivery", err)
	}
	return d, nil
}

// RetryDelivery makes one of the tenant's deliveries pending, due now and
// unleased, and sets updated_at. A lease held by a worker is dropped, so
// the delivery may be attempted again while that worker is still sending
// (at-least-once). Errors: not_found.
func (t *tx) RetryDelivery(ctx context.Context, mainID int64, id string, now time.Time) error {
	nowArg := t.d.timeArg(now)
	return t.execOne(ctx, "retry delivery", "delivery not found",
		`UPDATE webhook_deliveries SET status = ?, next_attempt_at = ?, lease_until = NULL, updated_at = ?
		WHERE id = ? AND tenant_id = ?`, sb.DeliveryPending, nowArg, nowArg, storableText(id), mainID)
}

// PurgeDeliveries deletes the deliveries of every tenant created before the
// given time and returns how many.
func (t *tx) PurgeDeliveries(ctx context.Context, before time.Time) (int, error) {
	return t.execCount(ctx, "purge deliveries",
		`DELETE FROM webhook_deliveries WHERE created_at < ?`, t.d.timeArg(before))
}

// CountPendingDeliveries counts the deliveries of every tenant that still
// wait for an attempt.
func (t *tx) CountPendingDeliveries(ctx context.Context) (int, error) {
	return t.count(ctx, "count pending deliveries",
		`SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'`)
}
