// Package sqlstore implements app.Store on SQLite (modernc.org/sqlite, pure
// Go) and PostgreSQL (pgx). It is the only package that imports
// database/sql. The SQL is written once; a small dialect type carries what
// differs (placeholders, time encoding, row locks, error codes), and each
// engine has its own embedded migrations, applied by (*DB).Migrate.
//
// Driver errors leave this package as *switchboard.Error: not_found,
// already_exists (unique violations), service_unavailable (the database
// cannot be reached, is busy past the timeout, or the context ended) and
// internal_error, with the driver's error kept in Err and never in Message.
//
// Limits, stated plainly:
//
//   - SQLite allows one writer at a time. Update transactions go through a
//     pool of one connection and start with BEGIN IMMEDIATE, so they queue in
//     this process and wait up to the busy timeout (10 s) for writers in other
//     processes (such as the CLI); past that they fail with
//     service_unavailable. Readers (View) use their own pool and run
//     concurrently with the writer under WAL. Calling Update from inside an
//     Update callback deadlocks.
//   - SQLite durability is WAL with synchronous=FULL; Open verifies the
//     pragmas and refuses a database where they did not take effect.
//   - ":memory:" uses a single connection for reads and writes: the database
//     lives as long as the DB, View inside Update deadlocks, and View is not
//     enforced read-only. It is meant for tests and throwaway servers.
//   - SQLite's LOWER folds ASCII letters only, so search is case-insensitive
//     for ASCII only; PostgreSQL folds according to the database collation.
//   - On PostgreSQL a failed statement aborts the transaction: after a Tx
//     method returns an error, the callback must return an error too. The
//     same rule is safe on SQLite.
//   - Account ids come from a counter row updated inside the caller's
//     transaction, so concurrent account creations serialize on that row
//     until commit (PostgreSQL) or on the write lock (SQLite). In exchange
//     ids have no gaps and a rolled-back creation does not consume one.
//   - Times are stored with microsecond precision in UTC on both engines.
package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
)

// SQLite connection settings, verified after opening.
const (
	sqliteBusyTimeout = 10 * time.Second
	// sqliteSynchronousFull is what PRAGMA synchronous reports for FULL.
	sqliteSynchronousFull = "2"
)

// PostgreSQL pool size. Each replica holds at most this many connections.
const postgresMaxConns = 16

// DB is an open database. It implements app.Store.
type DB struct {
	d dialect
	// writer runs Update transactions (and migrations). On SQLite it has a
	// single connection; on PostgreSQL and for :memory: it is the only pool.
	writer *sql.DB
	// reader runs View transactions: a separate query_only pool on a SQLite
	// file, the writer pool otherwise.
	reader *sql.DB
}

var _ app.Store = (*DB)(nil)

// IsPostgresDSN reports whether dsn selects PostgreSQL (a postgres:// or
// postgresql:// URL); anything else is a SQLite file path or ":memory:".
func IsPostgresDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open connects to the database named by dsn and checks that it answers; on
// SQLite it also verifies the connection pragmas. It does not migrate: call
// Migrate, or check SchemaCurrent. Errors: service_unavailable when the
// database cannot be reached, internal_error otherwise.
func Open(ctx context.Context, dsn string) (*DB, error) {
	switch {
	case dsn == "":
		return nil, sb.Internal(errors.New("sqlstore: empty database name"))
	case IsPostgresDSN(dsn):
		return openPostgres(ctx, dsn)
	default:
		return openSQLite(ctx, dsn)
	}
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	d := dialect{engine: EnginePostgres}
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, d.wrap("open", err)
	}
	pool.SetMaxOpenConns(postgresMaxConns)
	pool.SetMaxIdleConns(postgresMaxConns)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, d.wrap("connect", err)
	}
	return &DB{d: d, writer: pool, reader: pool}, nil
}

// sqlitePragmas are applied to every SQLite connection, busy_timeout first
// (the driver orders it so), so that setting WAL waits for other processes.
func sqlitePragmas(memory bool) []string {
	p := []string{
		fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()),
		"foreign_keys(1)",
		"synchronous(FULL)",
	}
	if !memory {
		p = append(p, "journal_mode(WAL)")
	}
	return p
}

// sqliteDSN appends the driver parameters to a file name. extra holds
// parameters such as _txlock.
func sqliteDSN(name string, pragmas []string, extra ...string) string {
	var q []string
	for _, p := range pragmas {
		q = append(q, "_pragma="+p)
	}
	q = append(q, extra...)
	sep := "?"
	if strings.Contains(name, "?") {
		sep = "&"
	}
	return name + sep + strings.Join(q, "&")
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	d := dialect{engine: EngineSQLite}
	memory := path == ":memory:"
	want := map[string]string{
		"journal_mode": "wal",
		"synchronous":  sqliteSynchronousFull,
		"foreign_keys": "1",
		"busy_timeout": fmt.Sprint(sqliteBusyTimeout.Milliseconds()),
	}
	if memory {
		// A private in-memory database per DB: a unique shared-cache name
		// keeps it apart from any other :memory: DB in the process, and one
		// connection means every statement sees it. WAL does not apply.
		path = "file:switchboard-mem-" + randomHex(8) + "?mode=memory&cache=shared"
		want["journal_mode"] = "memory"
	}

	// Write transactions start with BEGIN IMMEDIATE so that they take the
	// write lock up front (waiting up to busy_timeout) instead of failing
	// with SQLITE_BUSY when a read turns into a write.
	writer, err := sql.Open("sqlite", sqliteDSN(path, sqlitePragmas(memory), "_txlock=immediate"))
	if err != nil {
		return nil, d.wrap("open", err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	db := &DB{d: d, writer: writer, reader: writer}
	if err := checkPragmas(ctx, d, writer, want); err != nil {
		db.Close()
		return nil, err
	}
	if memory {
		return db, nil
	}

	reader, err := sql.Open("sqlite", sqliteDSN(path, append(sqlitePragmas(false), "query_only(1)")))
	if err != nil {
		db.Close()
		return nil, d.wrap("open", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	db.reader = reader
	want["query_only"] = "1"
	if err := checkPragmas(ctx, d, reader, want); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// checkPragmas reads the pragmas back: a pragma that the driver could not
// apply is otherwise silent, and running without WAL or synchronous=FULL
// would quietly weaken durability.
func checkPragmas(ctx context.Context, d dialect, pool *sql.DB, want map[string]string) error {
	for _, name := range []string{"journal_mode", "synchronous", "foreign_keys", "busy_timeout", "query_only"} {
		w, ok := want[name]
		if !ok {
			continue
		}
		var got string
		if err := pool.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
			return d.wrap("read pragma "+name, err)
		}
		if !strings.EqualFold(got, w) {
			return sb.Internal(fmt.Errorf("sqlstore: sqlite pragma %s is %q, want %q", name, got, w))
		}
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b)
}

// Engine returns EngineSQLite or EnginePostgres.
func (db *DB) Engine() string { return db.d.engine }

// Ping checks that the database answers. Errors: service_unavailable.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.d.wrap("ping", db.reader.QueryRowContext(ctx, "SELECT 1").Scan(&one))
}

// Close closes every connection. With ":memory:" the data is gone.
func (db *DB) Close() error {
	var errs []error
	if db.reader != db.writer {
		errs = append(errs, db.reader.Close())
	}
	errs = append(errs, db.writer.Close())
	return errors.Join(errs...)
}

// Update runs fn in a read-write transaction, committed when fn returns nil
// and rolled back otherwise (also when fn panics; the panic goes on). It
// returns fn's error unchanged. Errors: service_unavailable when the
// database cannot be reached or the write lock is not free in time.
func (db *DB) Update(ctx context.Context, fn func(tx app.Tx) error) error {
	return db.inTx(ctx, db.writer, false, fn)
}

// View runs fn in a read-only transaction (a consistent snapshot).
func (db *DB) View(ctx context.Context, fn func(tx app.Tx) error) error {
	return db.inTx(ctx, db.reader, true, fn)
}

func (db *DB) inTx(ctx context.Context, pool *sql.DB, readOnly bool, fn func(tx app.Tx) error) error {
	// ReadOnly makes PostgreSQL start READ ONLY and the SQLite driver start
	// a deferred (not IMMEDIATE) transaction.
	sqlTx, err := pool.BeginTx(ctx, &sql.TxOptions{ReadOnly: readOnly})
	if err != nil {
		return db.d.wrap("begin", err)
	}
	// Rolls back when fn fails or panics; a no-op after Commit.
	defer sqlTx.Rollback()
	if err := fn(&tx{tx: sqlTx, d: db.d}); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		// database/sql rolls back when ctx ends and Commit then only says
		// "transaction has already been committed or rolled back"; keep
		// the real reason so that it maps to service_unavailable.
		if cerr := ctx.Err(); cerr != nil {
			err = fmt.Errorf("%w (%w)", err, cerr)
		}
		return db.d.wrap("commit", err)
	}
	return nil
}
