package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables that select the PostgreSQL half of the tests.
const (
	// EnvPostgres is a PostgreSQL URL whose user may create databases, e.g.
	// the output of scripts/pg-throwaway.sh. Unset: PostgreSQL tests skip.
	EnvPostgres = "SWITCHBOARD_TEST_POSTGRES"
	// EnvRequirePostgres=1 turns that skip into a failure (CI).
	EnvRequirePostgres = "SWITCHBOARD_TEST_REQUIRE_POSTGRES"
)

// SQLiteDSN returns the path of a new SQLite database file in a temporary
// directory that is removed when the test ends.
func SQLiteDSN(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "switchboard.db")
}

// PostgresDSN creates a new, empty database on the server named by
// SWITCHBOARD_TEST_POSTGRES and returns its URL; the database is dropped
// (connections forced closed) when the test ends, so tests are isolated and
// may run in parallel. Without the variable the test is skipped, or fails
// when SWITCHBOARD_TEST_REQUIRE_POSTGRES=1.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvPostgres)
	if admin == "" {
		if os.Getenv(EnvRequirePostgres) == "1" {
			t.Fatalf("%s is unset but %s=1", EnvPostgres, EnvRequirePostgres)
		}
		t.Skipf("PostgreSQL tests need %s (see scripts/pg-throwaway.sh)", EnvPostgres)
	}
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", EnvPostgres)
	}

	name := "switchboard_test_" + randomHex(8)
	adminExec(t, admin, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() {
		adminExec(t, admin, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`)
	})
	test := *u
	test.Path = "/" + name
	return test.String()
}

// adminExec runs one statement on the admin database.
func adminExec(t testing.TB, dsn, stmt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvPostgres, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, stmt); err != nil {
		t.Fatalf("%s: %v", strings.Fields(stmt)[0]+" DATABASE", err)
	}
}

// Engines runs fn as the subtests "sqlite" and "postgres", each with the DSN
// of a fresh, empty database (SQLiteDSN, PostgresDSN). The postgres subtest
// skips or fails as PostgresDSN does.
func Engines(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLiteDSN(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, PostgresDSN(t)) })
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
