package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
)

// tx implements app.Tx on one database/sql transaction.
type tx struct {
	tx *sql.Tx
	d  dialect
}

var _ app.Tx = (*tx)(nil)

// exec runs a statement and translates its error.
func (t *tx) exec(ctx context.Context, op, query string, args ...any) (sql.Result, error) {
	res, err := t.tx.ExecContext(ctx, t.d.rebind(query), args...)
	return res, t.d.wrap(op, err)
}

// execOne runs a statement that must affect exactly one row; none is
// not_found with the given message.
func (t *tx) execOne(ctx context.Context, op, notFound, query string, args ...any) error {
	res, err := t.exec(ctx, op, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return t.d.wrap(op, err)
	}
	if n == 0 {
		return sb.Errorf(sb.ENotFound, "%s", notFound)
	}
	return nil
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.d.rebind(query), args...)
}

func (t *tx) query(ctx context.Context, op, query string, args ...any) (*sql.Rows, error) {
	rows, err := t.tx.QueryContext(ctx, t.d.rebind(query), args...)
	return rows, t.d.wrap(op, err)
}

// count runs a COUNT(*) query.
func (t *tx) count(ctx context.Context, op, query string, args ...any) (int, error) {
	var n int
	err := t.queryRow(ctx, query, args...).Scan(&n)
	return n, t.d.wrap(op, err)
}

// GetSetting returns a settings value; ok is false when absent.
func (t *tx) GetSetting(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := t.queryRow(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, t.d.wrap("get setting", err)
	}
	return v, true, nil
}

// PutSetting inserts or replaces a settings value.
func (t *tx) PutSetting(ctx context.Context, key, value string) error {
	_, err := t.exec(ctx, "put setting",
		`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
		key, value)
	return err
}

// NextAccountID draws the next id of the account sequence. The counter row
// stays locked until the transaction ends, so ids are gap-free.
func (t *tx) NextAccountID(ctx context.Context) (int64, error) {
	var id int64
	err := t.queryRow(ctx, `UPDATE sequences SET value = value + 1 WHERE name = 'account' RETURNING value`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, sb.Internal(errors.New("sqlstore: account sequence row missing (schema not migrated?)"))
	}
	return id, t.d.wrap("next account id", err)
}

// ResetAll deletes every tenant row but keeps settings, schema_migrations
// and the sequences. Tables added by later migrations that hold tenant data
// must be added here, children before parents.
func (t *tx) ResetAll(ctx context.Context) error {
	for _, q := range []string{
		`DELETE FROM idempotency_keys`,
		`DELETE FROM audit_log`, // the only statement that removes audit records
		`DELETE FROM webhook_deliveries`,
		`DELETE FROM auth_tokens`,
		`DELETE FROM used_refresh_tokens`,
		`DELETE FROM accounts WHERE parent_id IS NOT NULL`,
		`DELETE FROM accounts`,
	} {
		if _, err := t.exec(ctx, "reset", q); err != nil {
			return err
		}
	}
	return nil
}
