package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	sb "github.com/switchboard-voice/switchboard"
)

// ClaimIdempotencyKey inserts rec, replacing a record of the same principal
// and key that expired at or before rec.CreatedAt. Errors: already_exists
// when a live record exists.
//
// The claim is one INSERT … ON CONFLICT DO UPDATE … WHERE, so a live
// duplicate affects no row instead of raising a unique violation: the
// transaction stays usable on PostgreSQL. A concurrent claim of the same key
// waits on the primary key until the first transaction ends, and then
// either finds its record (already_exists) or, after a rollback, inserts.
func (t *tx) ClaimIdempotencyKey(ctx context.Context, rec sb.IdempotencyRecord) error {
	res, err := t.exec(ctx, "claim idempotency key", `INSERT INTO idempotency_keys
		(principal, key, fingerprint, status, body, encrypted, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (principal, key) DO UPDATE SET
			fingerprint = excluded.fingerprint, status = excluded.status, body = excluded.body,
			encrypted = excluded.encrypted, created_at = excluded.created_at, expires_at = excluded.expires_at
		WHERE idempotency_keys.expires_at <= excluded.created_at`,
		rec.Principal, rec.Key, rec.Fingerprint, rec.Status, nullBytes(rec.Body), rec.Encrypted,
		t.d.timeArg(rec.CreatedAt), t.d.timeArg(rec.ExpiresAt))
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return t.d.wrap("claim idempotency key", err)
	}
	if n == 0 {
		return sb.Errorf(sb.EAlreadyExists, "idempotency key already claimed")
	}
	return nil
}

// IdempotencyKey returns the record whose ExpiresAt is after now.
// Errors: not_found.
func (t *tx) IdempotencyKey(ctx context.Context, principal, key string, now time.Time) (*sb.IdempotencyRecord, error) {
	var r sb.IdempotencyRecord
	err := t.queryRow(ctx, `SELECT principal, key, fingerprint, status, body, encrypted, created_at, expires_at
		FROM idempotency_keys WHERE principal = ? AND key = ? AND expires_at > ?`,
		principal, key, t.d.timeArg(now)).
		Scan(&r.Principal, &r.Key, &r.Fingerprint, &r.Status, &r.Body, &r.Encrypted,
			timeDest{&r.CreatedAt}, timeDest{&r.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sb.Errorf(sb.ENotFound, "idempotency key not found")
	}
	if err != nil {
		return nil, t.d.wrap("idempotency key", err)
	}
	return &r, nil
}

// CompleteIdempotencyKey stores the final status and body of a record.
// Errors: not_found.
func (t *tx) CompleteIdempotencyKey(ctx context.Context, principal, key string, status int, body []byte, encrypted bool) error {
	return t.execOne(ctx, "complete idempotency key", "idempotency key not found",
		`UPDATE idempotency_keys SET status = ?, body = ?, encrypted = ? WHERE principal = ? AND key = ?`,
		status, nullBytes(body), encrypted, principal, key)
}

// ReleaseIdempotencyKey deletes a record; an absent one is no error.
func (t *tx) ReleaseIdempotencyKey(ctx context.Context, principal, key string) error {
	_, err := t.exec(ctx, "release idempotency key",
		`DELETE FROM idempotency_keys WHERE principal = ? AND key = ?`, principal, key)
	return err
}

// PurgeIdempotencyKeys deletes the records that are no longer live at now
// (ExpiresAt at or before now) and returns how many.
func (t *tx) PurgeIdempotencyKeys(ctx context.Context, now time.Time) (int, error) {
	return t.execCount(ctx, "purge idempotency keys",
		`DELETE FROM idempotency_keys WHERE expires_at <= ?`, t.d.timeArg(now))
}

// execCount runs a statement and returns the number of rows it affected.
func (t *tx) execCount(ctx context.Context, op, query string, args ...any) (int, error) {
	res, err := t.exec(ctx, op, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, t.d.wrap(op, err)
	}
	return int(n), nil
}
