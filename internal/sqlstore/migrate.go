package sqlstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// migrationFiles holds one directory per engine (migrations/sqlite,
// migrations/postgres) of files named NNNN_description.sql, applied in
// version order. The two directories must carry the same versions.
//
//go:embed migrations
var migrationFiles embed.FS

// migrationLockKey is the PostgreSQL advisory lock that serializes Migrate
// across processes ("swbd" in ASCII).
const migrationLockKey = 0x73776264

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations of an engine, in order.
func migrations(engine string) ([]migration, error) {
	dir := path.Join("migrations", engine)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		prefix, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlstore: migration %s: name must start with a positive version number", e.Name())
		}
		body, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("sqlstore: read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("sqlstore: migrations %s and %s share a version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// Migrate applies the pending embedded migrations in one transaction and
// reports the schema version before and after (equal when nothing was
// pending). Several processes may call it at once: on PostgreSQL the
// transaction first takes an advisory lock (DDL is transactional there); on
// SQLite it is a BEGIN IMMEDIATE write transaction. The second caller waits
// and then finds nothing to do. Errors: service_unavailable, internal_error.
func (db *DB) Migrate(ctx context.Context) (from, to int, err error) {
	ms, err := migrations(db.d.engine)
	if err != nil {
		return 0, 0, err
	}
	sqlTx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, db.d.wrap("migrate: begin", err)
	}
	defer sqlTx.Rollback() // no-op after Commit
	exec := func(op, query string, args ...any) error {
		_, err := sqlTx.ExecContext(ctx, db.d.rebind(query), args...)
		return db.d.wrap("migrate: "+op, err)
	}

	if db.d.postgres() {
		if err := exec("lock", fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrationLockKey)); err != nil {
			return 0, 0, err
		}
	}
	if err := exec("create schema_migrations", `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)`); err != nil {
		return 0, 0, err
	}
	if err := sqlTx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&from); err != nil {
		return 0, 0, db.d.wrap("migrate: read version", err)
	}
	to = from
	for _, m := range ms {
		if m.version <= from {
			continue
		}
		if err := exec("apply "+m.name, m.sql); err != nil {
			return from, from, err
		}
		if err := exec("record "+m.name, `INSERT INTO schema_migrations (version) VALUES (?)`, m.version); err != nil {
			return from, from, err
		}
		to = m.version
	}
	if err := sqlTx.Commit(); err != nil {
		return from, from, db.d.wrap("migrate: commit", err)
	}
	return from, to, nil
}

// SchemaCurrent reports whether every embedded migration is applied. A
// database that was never migrated reports false without error.
func (db *DB) SchemaCurrent(ctx context.Context) (bool, error) {
	ms, err := migrations(db.d.engine)
	if err != nil {
		return false, err
	}
	var exists bool
	if err := db.reader.QueryRowContext(ctx, db.d.rebind(db.d.tableExistsQuery()), "schema_migrations").Scan(&exists); err != nil {
		return false, db.d.wrap("schema: table check", err)
	}
	if !exists {
		return len(ms) == 0, nil
	}
	rows, err := db.reader.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return false, db.d.wrap("schema: read versions", err)
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return false, db.d.wrap("schema: read versions", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return false, db.d.wrap("schema: read versions", err)
	}
	for _, m := range ms {
		if !applied[m.version] {
			return false, nil
		}
	}
	return true, nil
}
