package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
)

// auditLockKey is the PostgreSQL advisory lock that serializes appends to
// the audit chain across processes ("swba" in ASCII). It differs from
// migrationLockKey.
const auditLockKey = 0x73776261

const auditColumns = `id, occurred_at, request_id, actor_type, actor_id, actor_role, tenant_id, action,
	target_type, target_id, outcome, status_code, source_ip, changes, reason, prev_hash, hash`

// storableText returns s with every byte that is not part of valid UTF-8,
// and every NUL, replaced by U+FFFD. PostgreSQL TEXT accepts neither, and
// encoding/json already shows invalid bytes as U+FFFD, so audit fields and
// filters are normalized to what both engines store.
func storableText(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == 0 || (r == utf8.RuneError && size == 1) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// normalizeAudit brings rec to the form in which it is stored, before its
// hash is computed: times in UTC microseconds and storable text.
func normalizeAudit(rec *sb.AuditRecord) {
	rec.OccurredAt = sb.NormalizeTime(rec.OccurredAt)
	for _, s := range []*string{&rec.RequestID, &rec.ActorType, &rec.ActorID, &rec.ActorRole, &rec.TenantID,
		&rec.Action, &rec.TargetType, &rec.TargetID, &rec.Outcome, &rec.SourceIP} {
		*s = storableText(*s)
	}
	if rec.Reason != nil {
		r := storableText(*rec.Reason)
		rec.Reason = &r
	}
}

// AppendAudit appends rec to the global chain. On PostgreSQL it first takes
// a transaction-scoped advisory lock, held until commit, so appenders in
// every process run one at a time and each sees the last committed record;
// on SQLite the write transaction already holds the only write lock. It
// assigns rec.ID (the last id + 1, starting at 1), rec.PrevHash and rec.Hash,
// after normalizing rec as stored (see storableText), so that the loaded
// row recomputes the same hash.
func (t *tx) AppendAudit(ctx context.Context, rec *sb.AuditRecord) error {
	if t.d.postgres() {
		if _, err := t.exec(ctx, "audit: lock chain", fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", auditLockKey)); err != nil {
			return err
		}
	}
	normalizeAudit(rec)
	var changes any // NULL when there is nothing to record
	if len(rec.Changes) > 0 {
		b, err := json.Marshal(rec.Changes)
		if err != nil {
			return sb.Internal(fmt.Errorf("sqlstore: encode audit changes: %w", err))
		}
		changes = string(b)
	}
	var reason any
	if rec.Reason != nil {
		reason = *rec.Reason
	}

	var (
		lastID   int64
		lastHash string
	)
	err := t.queryRow(ctx, `SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&lastID, &lastHash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		lastID, lastHash = 0, sb.GenesisHash
	case err != nil:
		return t.d.wrap("audit: read chain head", err)
	}
	rec.ID, rec.PrevHash = lastID+1, lastHash
	if rec.Hash, err = rec.ComputeHash(); err != nil {
		return sb.Internal(fmt.Errorf("sqlstore: audit hash: %w", err))
	}
	_, err = t.exec(ctx, "append audit", `INSERT INTO audit_log (`+auditColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		rec.ID, t.d.timeArg(rec.OccurredAt), rec.RequestID, rec.ActorType, rec.ActorID, rec.ActorRole,
		rec.TenantID, rec.Action, rec.TargetType, rec.TargetID, rec.Outcome, rec.StatusCode, rec.SourceIP,
		changes, reason, rec.PrevHash, rec.Hash)
	return err
}

func scanAudit(r rowScanner) (*sb.AuditRecord, error) {
	var (
		a       sb.AuditRecord
		changes sql.NullString
		reason  sql.NullString
	)
	err := r.Scan(&a.ID, timeDest{&a.OccurredAt}, &a.RequestID, &a.ActorType, &a.ActorID, &a.ActorRole,
		&a.TenantID, &a.Action, &a.TargetType, &a.TargetID, &a.Outcome, &a.StatusCode, &a.SourceIP,
		&changes, &reason, &a.PrevHash, &a.Hash)
	if err != nil {
		return nil, err
	}
	if changes.Valid {
		// Numbers stay json.Number so that they encode exactly as they were
		// stored, and the record's canonical JSON (and hash) is unchanged.
		dec := json.NewDecoder(strings.NewReader(changes.String))
		dec.UseNumber()
		if err := dec.Decode(&a.Changes); err != nil {
			return nil, fmt.Errorf("audit record %d changes: %w", a.ID, err)
		}
	}
	if reason.Valid {
		a.Reason = &reason.String
	}
	return &a, nil
}

func (t *tx) listAudit(ctx context.Context, op, query string, args ...any) ([]*sb.AuditRecord, error) {
	rows, err := t.query(ctx, op, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := []*sb.AuditRecord{}
	for rows.Next() {
		a, err := scanAudit(rows)
		if err != nil {
			return nil, t.d.wrap(op, err)
		}
		list = append(list, a)
	}
	if err := rows.Err(); err != nil {
		return nil, t.d.wrap(op, err)
	}
	return list, nil
}

// noLimit maps a limit below 1 to "no limit", in a form both engines accept.
func noLimit(limit int) int {
	if limit <= 0 {
		return math.MaxInt64
	}
	return limit
}

// ListAudit returns up to f.Limit records (no limit below 1) matching f,
// newest first. TenantID "" means every tenant. From and To are inclusive.
// Action is matched exactly, or as a case-sensitive prefix when it ends
// with "."; LIKE wildcards in it match themselves.
func (t *tx) ListAudit(ctx context.Context, f app.AuditFilter) ([]*sb.AuditRecord, error) {
	where := []string{"1 = 1"}
	var args []any
	eq := func(column, value string) {
		if value != "" {
			where = append(where, column+" = ?")
			args = append(args, storableText(value))
		}
	}
	eq("tenant_id", f.TenantID)
	eq("actor_id", f.ActorID)
	eq("target_id", f.TargetID)
	eq("outcome", f.Outcome)
	if f.From != nil {
		where = append(where, "occurred_at >= ?")
		args = append(args, t.d.timeArg(*f.From))
	}
	if f.To != nil {
		where = append(where, "occurred_at <= ?")
		args = append(args, t.d.timeArg(*f.To))
	}
	if action := storableText(f.Action); strings.HasSuffix(action, ".") {
		// LIKE finds the candidates; SQLite's LIKE ignores ASCII case, so
		// substr makes the prefix match case-sensitive on both engines.
		where = append(where, `action LIKE ? ESCAPE '\' AND substr(action, 1, ?) = ?`)
		args = append(args, escapeLike(action)+"%", utf8.RuneCountInString(action), action)
	} else {
		eq("action", action)
	}
	if f.BeforeID > 0 {
		where = append(where, "id < ?")
		args = append(args, f.BeforeID)
	}
	args = append(args, noLimit(f.Limit))
	return t.listAudit(ctx, "list audit", `SELECT `+auditColumns+` FROM audit_log WHERE `+
		strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT ?`, args...)
}

// AuditChain returns up to limit records (no limit below 1) with id >
// afterID, in id order.
func (t *tx) AuditChain(ctx context.Context, afterID int64, limit int) ([]*sb.AuditRecord, error) {
	return t.listAudit(ctx, "audit chain", `SELECT `+auditColumns+` FROM audit_log WHERE id > ? ORDER BY id LIMIT ?`,
		afterID, noLimit(limit))
}
