package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	sb "github.com/switchboard-voice/switchboard"
)

// Engine names returned by (*DB).Engine.
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
)

// dialect is everything that differs between the two engines. The SQL text
// is shared: every query is written once with ? placeholders and only passes
// through the dialect on its way to the driver.
type dialect struct {
	engine string // EngineSQLite or EnginePostgres
}

func (d dialect) postgres() bool { return d.engine == EnginePostgres }

// rebind rewrites ? placeholders to $1..$n for PostgreSQL. A ? inside a
// single-quoted literal is left alone; a doubled quote inside a literal
// toggles the state twice, so it needs no special case.
func (d dialect) rebind(query string) string {
	if !d.postgres() || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n, quoted := 0, false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// timeArg encodes a time parameter: TIMESTAMPTZ on PostgreSQL, fixed-width
// UTC text on SQLite (which sorts and compares correctly as text). Both keep
// exactly the microseconds of switchboard.NormalizeTime.
func (d dialect) timeArg(t time.Time) any {
	t = sb.NormalizeTime(t)
	if d.postgres() {
		return t
	}
	return t.Format(sb.TimeFormat)
}

// nullTimeArg is timeArg for a nullable column: nil is NULL.
func (d dialect) nullTimeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return d.timeArg(*t)
}

// forUpdate returns the row-locking clause for the given table alias. It is
// empty on SQLite, where a write transaction already holds the database's
// only write lock (BEGIN IMMEDIATE).
func (d dialect) forUpdate(alias string) string {
	if d.postgres() {
		return " FOR UPDATE OF " + alias
	}
	return ""
}

// skipLocked returns the clause that locks the selected rows of alias and
// skips rows that another transaction holds, so that concurrent claimers
// get disjoint sets without waiting for each other. It is empty on SQLite,
// where write transactions run one at a time.
func (d dialect) skipLocked(alias string) string {
	if d.postgres() {
		return " FOR UPDATE OF " + alias + " SKIP LOCKED"
	}
	return ""
}

// tableExistsQuery returns a query with one ? (the table name) that yields
// one row whose single column is true when the table exists.
func (d dialect) tableExistsQuery() string {
	if d.postgres() {
		return `SELECT to_regclass(?) IS NOT NULL`
	}
	return `SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?`
}

// uniqueViolation reports whether err is a unique or primary-key violation,
// with a description of the violated constraint (PostgreSQL: its name;
// SQLite: the message naming the columns).
func (d dialect) uniqueViolation(err error) (constraint string, ok bool) {
	if d.postgres() {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return pe.ConstraintName, true
		}
		return "", false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return se.Error(), true
		}
	}
	return "", false
}

// unavailable reports whether err means that the database could not be
// reached or did not answer in time, as opposed to a failed statement.
func (d dialect) unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	if d.postgres() {
		var ce *pgconn.ConnectError
		if errors.As(err, &ce) {
			return true
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			switch {
			case strings.HasPrefix(pe.Code, "08"): // connection exception
				return true
			case pe.Code == "53300", // too_many_connections
				pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // shutdown, cannot connect now
				return true
			}
		}
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // primary result code
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN:
			return true
		}
	}
	return false
}

// wrap turns a driver error into a domain error: already_exists for a
// unique violation, service_unavailable when the database cannot be reached,
// internal_error otherwise. The cause (with op) is kept in Err for the log;
// the Message never contains SQL. Domain errors pass through unchanged.
func (d dialect) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var de *sb.Error
	if errors.As(err, &de) {
		return err
	}
	err = fmt.Errorf("sqlstore: %s: %w", op, err)
	if constraint, ok := d.uniqueViolation(err); ok {
		msg := "already exists"
		if strings.Contains(constraint, "email") {
			msg = "email is already in use"
		}
		return &sb.Error{Code: sb.EAlreadyExists, Message: msg, Err: err}
	}
	if d.unavailable(err) {
		return &sb.Error{Code: sb.EUnavailable, Message: "database unavailable", Err: err}
	}
	return sb.Internal(err)
}

// timeDest scans a time column of either engine (time.Time from PostgreSQL,
// text from SQLite) into a UTC time truncated to microseconds.
type timeDest struct{ t *time.Time }

func (d timeDest) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*d.t = sb.NormalizeTime(v)
		return nil
	case string:
		return d.parse(v)
	case []byte:
		return d.parse(string(v))
	case nil:
		return errors.New("sqlstore: NULL in a non-null time column")
	}
	return fmt.Errorf("sqlstore: cannot scan %T into a time", src)
}

func (d timeDest) parse(s string) error {
	t, err := sb.ParseTime(s)
	if err != nil {
		return fmt.Errorf("sqlstore: stored time %q: %w", s, err)
	}
	*d.t = t
	return nil
}

// nullTimeDest is timeDest for a nullable column: NULL scans to nil.
type nullTimeDest struct{ t **time.Time }

func (d nullTimeDest) Scan(src any) error {
	if src == nil {
		*d.t = nil
		return nil
	}
	var t time.Time
	if err := (timeDest{&t}).Scan(src); err != nil {
		return err
	}
	*d.t = &t
	return nil
}
