package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	sb "github.com/switchboard-voice/switchboard"
)

// insertCurrentToken stores hash as the account's current token.
func (t *tx) insertCurrentToken(ctx context.Context, accountID int64, hash []byte, at time.Time) error {
	_, err := t.exec(ctx, "insert token",
		`INSERT INTO auth_tokens (account_id, hash, expires_at, created_at) VALUES (?, ?, NULL, ?)`,
		accountID, hash, t.d.timeArg(at))
	return err
}

// LiveTokens returns the tokens accepted at now, the current one first.
func (t *tx) LiveTokens(ctx context.Context, accountID int64, now time.Time) ([]sb.StoredToken, error) {
	rows, err := t.query(ctx, "live tokens", `SELECT hash, expires_at FROM auth_tokens
		WHERE account_id = ? AND (expires_at IS NULL OR expires_at > ?)
		ORDER BY CASE WHEN expires_at IS NULL THEN 0 ELSE 1 END, expires_at DESC`,
		accountID, t.d.timeArg(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var tokens []sb.StoredToken
	for rows.Next() {
		var tok sb.StoredToken
		if err := rows.Scan(&tok.Hash, nullTimeDest{&tok.ExpiresAt}); err != nil {
			return nil, t.d.wrap("live tokens", err)
		}
		tokens = append(tokens, tok)
	}
	return tokens, t.d.wrap("live tokens", rows.Err())
}

// Credentials reads a live account and its live tokens in one query: the
// account LEFT JOIN its tokens gives one row per token (one row with NULL
// token columns when none is live). Errors: not_found.
func (t *tx) Credentials(ctx context.Context, authID string, now time.Time) (*sb.Account, []sb.StoredToken, error) {
	rows, err := t.query(ctx, "credentials", selectAccountCols+`, tk.hash, tk.expires_at`+accountJoin+`
		LEFT JOIN auth_tokens tk ON tk.account_id = a.id AND (tk.expires_at IS NULL OR tk.expires_at > ?)
		WHERE a.auth_id = ? AND a.deleted_at IS NULL
		ORDER BY CASE WHEN tk.expires_at IS NULL THEN 0 ELSE 1 END, tk.expires_at DESC`,
		t.d.timeArg(now), authID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var (
		acct   *sb.Account
		tokens []sb.StoredToken
	)
	for rows.Next() {
		var tok sb.StoredToken
		a, err := scanAccount(rows, &tok.Hash, nullTimeDest{&tok.ExpiresAt})
		if err != nil {
			return nil, nil, t.d.wrap("credentials", err)
		}
		if acct == nil {
			acct = a
		}
		if tok.Hash != nil {
			tokens = append(tokens, tok)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, t.d.wrap("credentials", err)
	}
	if acct == nil {
		return nil, nil, sb.Errorf(sb.ENotFound, "account not found")
	}
	return acct, tokens, nil
}

// RotateToken makes r.NewHash current: tokens still in an earlier grace are
// removed, the current one is removed (no grace) or given its expiry, and
// the new hash is inserted. Errors: not_found when the account is unknown
// or deleted.
func (t *tx) RotateToken(ctx context.Context, accountID int64, r sb.Rotation) error {
	var one int
	err := t.queryRow(ctx, `SELECT 1 FROM accounts WHERE id = ? AND deleted_at IS NULL`, accountID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return sb.Errorf(sb.ENotFound, "account not found")
	}
	if err != nil {
		return t.d.wrap("rotate token", err)
	}
	if _, err := t.exec(ctx, "rotate token: drop previous",
		`DELETE FROM auth_tokens WHERE account_id = ? AND expires_at IS NOT NULL`, accountID); err != nil {
		return err
	}
	if r.PreviousExpiresAt == nil {
		_, err = t.exec(ctx, "rotate token: drop current",
			`DELETE FROM auth_tokens WHERE account_id = ?`, accountID)
	} else {
		_, err = t.exec(ctx, "rotate token: expire current",
			`UPDATE auth_tokens SET expires_at = ? WHERE account_id = ? AND expires_at IS NULL`,
			t.d.timeArg(*r.PreviousExpiresAt), accountID)
	}
	if err != nil {
		return err
	}
	return t.insertCurrentToken(ctx, accountID, r.NewHash, r.At)
}

// ConsumeRefreshToken records jti as used. ON CONFLICT DO NOTHING keeps the
// transaction usable on PostgreSQL when the id was used before.
// Errors: already_exists.
func (t *tx) ConsumeRefreshToken(ctx context.Context, jti string, expiresAt time.Time) error {
	res, err := t.exec(ctx, "consume refresh token",
		`INSERT INTO used_refresh_tokens (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING`,
		jti, t.d.timeArg(expiresAt))
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return t.d.wrap("consume refresh token", err)
	}
	if n == 0 {
		return sb.Errorf(sb.EAlreadyExists, "refresh token already used")
	}
	return nil
}
