package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
)

// accountColumns reads an account (alias a) with its parent (alias p, NULL
// for a main account): ParentAuthID and ParentEnabled come from the parent,
// or for a main account are "" and its own enabled flag.
const accountColumns = `a.id, a.api_id, a.auth_id, COALESCE(a.parent_id, 0), COALESCE(p.auth_id, ''),
	a.name, a.email, a.phone, a.description, a.permissions, a.rate_limit, a.enabled,
	COALESCE(p.enabled, a.enabled), a.email_verified, a.kyc_mode, a.business_type,
	a.kyc_calls_blocked, a.currency, a.max_sub_accounts, a.low_balance_threshold, a.pricing,
	a.password_hash, a.version, a.created_at, a.updated_at, a.last_used, a.deleted_at`

const accountJoin = ` FROM accounts a LEFT JOIN accounts p ON p.id = a.parent_id`

// selectAccount is the SELECT … FROM of every account read; sub-account
// counts are only computed for main-account reads that report them.
var (
	selectAccountCols      = `SELECT ` + accountColumns + `, 0`
	selectAccount          = selectAccountCols + accountJoin
	selectAccountWithCount = `SELECT ` + accountColumns +
		`, (SELECT COUNT(*) FROM accounts s WHERE s.parent_id = a.id AND s.deleted_at IS NULL)` + accountJoin
)

// newestFirst is the order of every account list.
const newestFirst = ` ORDER BY a.created_at DESC, a.id DESC`

type rowScanner interface{ Scan(dest ...any) error }

// scanAccount reads the columns of selectAccount, then extra destinations
// for any columns a query appends.
func scanAccount(r rowScanner, extra ...any) (*sb.Account, error) {
	var (
		a           sb.Account
		permissions sql.NullString
		pricing     string
	)
	err := r.Scan(append([]any{&a.ID, &a.APIID, &a.AuthID, &a.ParentID, &a.ParentAuthID,
		&a.Name, &a.Email, &a.Phone, &a.Description, &permissions, &a.RateLimit, &a.Enabled,
		&a.ParentEnabled, &a.EmailVerified, &a.KYCMode, &a.BusinessType,
		&a.KYCCallsBlocked, &a.Currency, &a.MaxSubAccounts, &a.LowBalanceThreshold, &pricing,
		&a.PasswordHash, &a.Version, timeDest{&a.CreatedAt}, timeDest{&a.UpdatedAt},
		nullTimeDest{&a.LastUsed}, nullTimeDest{&a.DeletedAt}, &a.SubAccountCount}, extra...)...)
	if err != nil {
		return nil, err
	}
	if permissions.Valid {
		a.Permissions = new(sb.Permissions)
		if err := json.Unmarshal([]byte(permissions.String), a.Permissions); err != nil {
			return nil, fmt.Errorf("account %d permissions: %w", a.ID, err)
		}
	}
	if err := json.Unmarshal([]byte(pricing), &a.Pricing); err != nil {
		return nil, fmt.Errorf("account %d pricing: %w", a.ID, err)
	}
	return &a, nil
}

// getAccount runs a single-account query; no row is not_found.
func (t *tx) getAccount(ctx context.Context, op, notFound, query string, args ...any) (*sb.Account, error) {
	a, err := scanAccount(t.queryRow(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sb.Errorf(sb.ENotFound, "%s", notFound)
	}
	if err != nil {
		return nil, t.d.wrap(op, err)
	}
	return a, nil
}

// listAccounts returns one page of the accounts matching where (over alias
// a, with args), newest first, and the number of all matches.
func (t *tx) listAccounts(ctx context.Context, op, selectQuery, where string, args []any, offset, limit int) ([]*sb.Account, int, error) {
	total, err := t.count(ctx, op, `SELECT COUNT(*) FROM accounts a WHERE `+where, args...)
	if err != nil {
		return nil, 0, err
	}
	offset = max(offset, 0)
	if limit <= 0 {
		limit = math.MaxInt64 // no limit, in a form both engines accept
	}
	rows, err := t.query(ctx, op, selectQuery+` WHERE `+where+newestFirst+` LIMIT ? OFFSET ?`,
		append(args[:len(args):len(args)], limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	list := []*sb.Account{}
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, 0, t.d.wrap(op, err)
		}
		list = append(list, a)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, t.d.wrap(op, err)
	}
	return list, total, nil
}

// searchCondition matches s as a case-insensitive substring of the name or
// the email; %, _ and \ in s match themselves.
func searchCondition(s string) (string, []any) {
	pattern := "%" + escapeLike(strings.ToLower(s)) + "%"
	return ` AND (LOWER(a.name) LIKE ? ESCAPE '\' OR LOWER(a.email) LIKE ? ESCAPE '\')`, []any{pattern, pattern}
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func escapeLike(s string) string { return likeEscaper.Replace(s) }

// nullID maps the zero id (a main account's parent) to NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func encodePermissions(p *sb.Permissions) (any, error) {
	if p == nil {
		return nil, nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func encodePricing(p sb.Pricing) (string, error) {
	b, err := json.Marshal(p)
	return string(b), err
}

// nullBytes maps nil to NULL on both drivers.
func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// InsertAccount writes a new main or sub-account with its first token.
func (t *tx) InsertAccount(ctx context.Context, n app.NewAccount) error {
	a := n.Account
	if a == nil {
		return sb.Internal(errors.New("sqlstore: InsertAccount without an account"))
	}
	permissions, err := encodePermissions(a.Permissions)
	if err != nil {
		return sb.Internal(fmt.Errorf("sqlstore: encode permissions: %w", err))
	}
	pricing, err := encodePricing(a.Pricing)
	if err != nil {
		return sb.Internal(fmt.Errorf("sqlstore: encode pricing: %w", err))
	}
	_, err = t.exec(ctx, "insert account", `INSERT INTO accounts (id, api_id, auth_id, parent_id,
		name, email, phone, description, permissions, rate_limit, enabled, email_verified,
		kyc_mode, business_type, kyc_calls_blocked, currency, max_sub_accounts,
		low_balance_threshold, pricing, password_hash, webhook_secret_enc, version,
		created_at, updated_at, last_used, deleted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.APIID, a.AuthID, nullID(a.ParentID),
		a.Name, a.Email, a.Phone, a.Description, permissions, a.RateLimit, a.Enabled, a.EmailVerified,
		a.KYCMode, a.BusinessType, a.KYCCallsBlocked, a.Currency, a.MaxSubAccounts,
		int64(a.LowBalanceThreshold), pricing, a.PasswordHash, nullBytes(n.WebhookSecretEnc), a.Version,
		t.d.timeArg(a.CreatedAt), t.d.timeArg(a.UpdatedAt), t.d.nullTimeArg(a.LastUsed), t.d.nullTimeArg(a.DeletedAt))
	if err != nil {
		return err
	}
	if n.TokenHash == nil {
		return nil
	}
	return t.insertCurrentToken(ctx, a.ID, n.TokenHash, a.CreatedAt)
}

// AccountByAuthID returns a live account of either kind.
func (t *tx) AccountByAuthID(ctx context.Context, authID string) (*sb.Account, error) {
	return t.getAccount(ctx, "account by auth_id", "account not found",
		selectAccount+` WHERE a.auth_id = ? AND a.deleted_at IS NULL`, authID)
}

// AccountByEmail returns the live account with that email.
func (t *tx) AccountByEmail(ctx context.Context, email string) (*sb.Account, error) {
	return t.getAccount(ctx, "account by email", "account not found",
		selectAccount+` WHERE a.email = ? AND a.deleted_at IS NULL`, email)
}

// CountMainAccounts counts main accounts, disabled ones included.
func (t *tx) CountMainAccounts(ctx context.Context) (int, error) {
	return t.count(ctx, "count main accounts",
		`SELECT COUNT(*) FROM accounts WHERE parent_id IS NULL AND deleted_at IS NULL`)
}

// MainAccount returns a main account by auth_id with SubAccountCount.
func (t *tx) MainAccount(ctx context.Context, authID string) (*sb.Account, error) {
	return t.getAccount(ctx, "main account", "account not found",
		selectAccountWithCount+` WHERE a.auth_id = ? AND a.parent_id IS NULL AND a.deleted_at IS NULL`, authID)
}

// ListMainAccounts returns one page of main accounts, newest first.
func (t *tx) ListMainAccounts(ctx context.Context, f app.MainAccountFilter) ([]*sb.Account, int, error) {
	where := `a.parent_id IS NULL AND a.deleted_at IS NULL`
	var args []any
	if f.Enabled != nil {
		where += ` AND a.enabled = ?`
		args = append(args, *f.Enabled)
	}
	if f.Search != "" {
		cond, condArgs := searchCondition(f.Search)
		where += cond
		args = append(args, condArgs...)
	}
	return t.listAccounts(ctx, "list main accounts", selectAccountWithCount, where, args, f.Offset, f.Limit)
}

// UpdateMainAccount writes the mutable fields of a main account.
func (t *tx) UpdateMainAccount(ctx context.Context, a *sb.Account) error {
	pricing, err := encodePricing(a.Pricing)
	if err != nil {
		return sb.Internal(fmt.Errorf("sqlstore: encode pricing: %w", err))
	}
	return t.execOne(ctx, "update main account", "account not found", `UPDATE accounts SET
		name = ?, email = ?, phone = ?, password_hash = ?, enabled = ?, rate_limit = ?,
		max_sub_accounts = ?, low_balance_threshold = ?, pricing = ?, version = ?, updated_at = ?
		WHERE id = ? AND parent_id IS NULL AND deleted_at IS NULL`,
		a.Name, a.Email, a.Phone, a.PasswordHash, a.Enabled, a.RateLimit,
		a.MaxSubAccounts, int64(a.LowBalanceThreshold), pricing, a.Version, t.d.timeArg(a.UpdatedAt),
		a.ID)
}

// SubAccount returns a live sub-account of parentID, optionally locked.
func (t *tx) SubAccount(ctx context.Context, parentID int64, subAuthID string, forUpdate bool) (*sb.Account, error) {
	q := selectAccount + ` WHERE a.auth_id = ? AND a.parent_id = ? AND a.deleted_at IS NULL`
	if forUpdate {
		q += t.d.forUpdate("a")
	}
	return t.getAccount(ctx, "sub-account", "sub-account not found", q, subAuthID, parentID)
}

// ListSubAccounts returns one page of the parent's live sub-accounts.
func (t *tx) ListSubAccounts(ctx context.Context, parentID int64, f app.SubAccountFilter) ([]*sb.Account, int, error) {
	where := `a.parent_id = ? AND a.deleted_at IS NULL`
	args := []any{parentID}
	if f.ActiveOnly {
		where += ` AND a.enabled = ?`
		args = append(args, true)
	}
	if f.KYCMode != "" {
		where += ` AND a.kyc_mode = ?`
		args = append(args, f.KYCMode)
	}
	if f.Search != "" {
		cond, condArgs := searchCondition(f.Search)
		where += cond
		args = append(args, condArgs...)
	}
	return t.listAccounts(ctx, "list sub-accounts", selectAccount, where, args, f.Offset, f.Limit)
}

// CountSubAccounts counts the parent's live sub-accounts.
func (t *tx) CountSubAccounts(ctx context.Context, parentID int64) (int, error) {
	return t.count(ctx, "count sub-accounts",
		`SELECT COUNT(*) FROM accounts WHERE parent_id = ? AND deleted_at IS NULL`, parentID)
}

// UpdateSubAccount writes the mutable fields of a sub-account of parentID.
func (t *tx) UpdateSubAccount(ctx context.Context, parentID int64, a *sb.Account) error {
	permissions, err := encodePermissions(a.Permissions)
	if err != nil {
		return sb.Internal(fmt.Errorf("sqlstore: encode permissions: %w", err))
	}
	return t.execOne(ctx, "update sub-account", "sub-account not found", `UPDATE accounts SET
		name = ?, email = ?, phone = ?, description = ?, permissions = ?, rate_limit = ?,
		enabled = ?, email_verified = ?, kyc_mode = ?, business_type = ?, kyc_calls_blocked = ?,
		password_hash = ?, version = ?, updated_at = ?
		WHERE id = ? AND parent_id = ? AND deleted_at IS NULL`,
		a.Name, a.Email, a.Phone, a.Description, permissions, a.RateLimit,
		a.Enabled, a.EmailVerified, a.KYCMode, a.BusinessType, a.KYCCallsBlocked,
		a.PasswordHash, a.Version, t.d.timeArg(a.UpdatedAt),
		a.ID, parentID)
}

// DeleteSubAccount soft-deletes a sub-account of parentID and removes its
// tokens; the row stays so that its auth_id is never reused.
func (t *tx) DeleteSubAccount(ctx context.Context, parentID, subID int64, at time.Time) error {
	err := t.execOne(ctx, "delete sub-account", "sub-account not found",
		`UPDATE accounts SET deleted_at = ? WHERE id = ? AND parent_id = ? AND deleted_at IS NULL`,
		t.d.timeArg(at), subID, parentID)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, "delete sub-account tokens", `DELETE FROM auth_tokens WHERE account_id = ?`, subID)
	return err
}

// TouchLastUsed sets last_used only. Errors: not_found.
func (t *tx) TouchLastUsed(ctx context.Context, accountID int64, at time.Time) error {
	return t.execOne(ctx, "touch last_used", "account not found",
		`UPDATE accounts SET last_used = ? WHERE id = ? AND deleted_at IS NULL`, t.d.timeArg(at), accountID)
}

// WebhookSecret returns the encrypted webhook secret of a main account (nil
// when none is stored).
func (t *tx) WebhookSecret(ctx context.Context, mainID int64) ([]byte, error) {
	var enc []byte
	err := t.queryRow(ctx, `SELECT webhook_secret_enc FROM accounts
		WHERE id = ? AND parent_id IS NULL AND deleted_at IS NULL`, mainID).Scan(&enc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sb.Errorf(sb.ENotFound, "account not found")
	}
	return enc, t.d.wrap("webhook secret", err)
}

// SetWebhookSecret replaces the encrypted webhook secret of a main account.
func (t *tx) SetWebhookSecret(ctx context.Context, mainID int64, enc []byte) error {
	return t.execOne(ctx, "set webhook secret", "account not found",
		`UPDATE accounts SET webhook_secret_enc = ? WHERE id = ? AND parent_id IS NULL AND deleted_at IS NULL`,
		nullBytes(enc), mainID)
}
