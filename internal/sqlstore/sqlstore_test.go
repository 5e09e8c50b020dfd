package sqlstore

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
	"github.com/switchboard-voice/switchboard/internal/storetest"
)

// openMigrated opens dsn, migrates it and closes it when the test ends.
func openMigrated(t *testing.T, dsn string) *DB {
	t.Helper()
	db := openDB(t, dsn)
	if _, _, err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

func openDB(t *testing.T, dsn string) *DB {
	t.Helper()
	db, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformanceSQLite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) app.Store { return openMigrated(t, storetest.SQLiteDSN(t)) })
}

func TestConformanceSQLiteMemory(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) app.Store { return openMigrated(t, ":memory:") })
}

func TestConformancePostgres(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) app.Store { return openMigrated(t, storetest.PostgresDSN(t)) })
}

// Two :memory: databases in one process are separate.
func TestSQLiteMemoryIsPrivate(t *testing.T) {
	a, b := openMigrated(t, ":memory:"), openMigrated(t, ":memory:")
	ctx := t.Context()
	if err := a.Update(ctx, func(tx app.Tx) error { return tx.PutSetting(ctx, "k", "a") }); err != nil {
		t.Fatal(err)
	}
	err := b.View(ctx, func(tx app.Tx) error {
		if _, ok, err := tx.GetSetting(ctx, "k"); err != nil || ok {
			t.Errorf("second :memory: database sees the first one's setting (ok %v, err %v)", ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSQLitePragmas reads back what Open set on both pools.
func TestSQLitePragmas(t *testing.T) {
	db := openDB(t, storetest.SQLiteDSN(t))
	common := map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "10000"}
	for _, pool := range []struct {
		name      string
		queryOnly string
	}{{"writer", "0"}, {"reader", "1"}} {
		p := db.writer
		if pool.name == "reader" {
			p = db.reader
		}
		if pool.name == "reader" && db.reader == db.writer {
			t.Fatal("a SQLite file should have separate reader and writer pools")
		}
		want := map[string]string{"query_only": pool.queryOnly}
		for k, v := range common {
			want[k] = v
		}
		got := map[string]string{}
		for name := range want {
			var v string
			if err := p.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
				t.Fatalf("%s: PRAGMA %s: %v", pool.name, name, err)
			}
			got[name] = strings.ToLower(v)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s pool pragmas (-want +got):\n%s", pool.name, diff)
		}
	}
	if got := db.writer.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer pool allows %d connections, want 1", got)
	}
}

// TestSQLiteTimeEncoding checks the stored text: fixed width, UTC, six
// fraction digits, so that text order is time order.
func TestSQLiteTimeEncoding(t *testing.T) {
	db := openMigrated(t, storetest.SQLiteDSN(t))
	ctx := t.Context()
	at := time.Date(2026, 1, 2, 8, 4, 5, 7_000_999, time.FixedZone("X", -7*3600))
	err := db.Update(ctx, func(tx app.Tx) error { return tx.ConsumeRefreshToken(ctx, "jti", at) })
	if err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := db.reader.QueryRowContext(ctx, `SELECT expires_at FROM used_refresh_tokens`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if want := "2026-01-02T15:04:05.007000Z"; stored != want {
		t.Fatalf("stored time %q, want %q", stored, want)
	}
}

func TestSchemaCurrentBeforeMigrate(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		db := openDB(t, dsn)
		if current, err := db.SchemaCurrent(t.Context()); err != nil || current {
			t.Fatalf("SchemaCurrent on an empty database = %v, %v; want false", current, err)
		}
		from, to, err := db.Migrate(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		latest := latestVersion(t, db.Engine())
		if from != 0 || to != latest {
			t.Fatalf("Migrate = %d -> %d, want 0 -> %d", from, to, latest)
		}
		if current, err := db.SchemaCurrent(t.Context()); err != nil || !current {
			t.Fatalf("SchemaCurrent after Migrate = %v, %v; want true", current, err)
		}
		if from, to, err := db.Migrate(t.Context()); err != nil || from != latest || to != latest {
			t.Fatalf("second Migrate = %d -> %d, %v; want %d -> %d", from, to, err, latest, latest)
		}
	})
}

// TestConcurrentMigrate starts two processes' worth of Migrate on one fresh
// database: both succeed, one applies everything, the other finds it done.
func TestConcurrentMigrate(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		dbs := []*DB{openDB(t, dsn), openDB(t, dsn)}
		type result struct{ from, to int }
		results := make([]result, len(dbs))
		errs := make([]error, len(dbs))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, db := range dbs {
			wg.Go(func() {
				<-start
				results[i].from, results[i].to, errs[i] = db.Migrate(t.Context())
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Migrate %d: %v", i, err)
			}
		}
		latest := latestVersion(t, dbs[0].Engine())
		if results[0].from > results[1].from {
			results[0], results[1] = results[1], results[0]
		}
		if want := []result{{0, latest}, {latest, latest}}; !cmp.Equal(results, want, cmp.AllowUnexported(result{})) {
			t.Fatalf("Migrate results %+v, want %+v", results, want)
		}
		for _, db := range dbs {
			if current, err := db.SchemaCurrent(t.Context()); err != nil || !current {
				t.Fatalf("SchemaCurrent = %v, %v", current, err)
			}
		}
	})
}

func latestVersion(t *testing.T, engine string) int {
	t.Helper()
	ms, err := migrations(engine)
	if err != nil || len(ms) == 0 {
		t.Fatalf("migrations(%s) = %v, %v", engine, ms, err)
	}
	return ms[len(ms)-1].version
}

// Both engines carry the same migration versions.
func TestMigrationsMatch(t *testing.T) {
	versions := func(engine string) []int {
		ms, err := migrations(engine)
		if err != nil {
			t.Fatal(err)
		}
		var vs []int
		for _, m := range ms {
			vs = append(vs, m.version)
		}
		return vs
	}
	if diff := cmp.Diff(versions(EngineSQLite), versions(EnginePostgres)); diff != "" {
		t.Fatalf("migration versions differ (-sqlite +postgres):\n%s", diff)
	}
}

func TestEngineFromDSN(t *testing.T) {
	for dsn, want := range map[string]bool{
		"postgres://u@h/db":     true,
		"postgresql://u@h/db":   true,
		"./switchboard.db":      false,
		"/var/lib/sb/db.sqlite": false,
		":memory:":              false,
		"postgres.db":           false,
	} {
		if got := IsPostgresDSN(dsn); got != want {
			t.Errorf("IsPostgresDSN(%q) = %v, want %v", dsn, got, want)
		}
	}
	if db := openDB(t, ":memory:"); db.Engine() != EngineSQLite {
		t.Errorf("Engine = %q", db.Engine())
	}
}

// An unreachable PostgreSQL is service_unavailable, not internal_error.
func TestPostgresUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if code := sb.ErrorCode(err); code != sb.EUnavailable {
		t.Fatalf("Open on a closed port: %v (code %q), want %q", err, code, sb.EUnavailable)
	}
	if e := sb.AsError(err); strings.Contains(e.Message, "127.0.0.1") || e.Err == nil {
		t.Fatalf("error message %q should be generic with the cause in Err (%v)", e.Message, e.Err)
	}
}

func TestRebind(t *testing.T) {
	pg, lite := dialect{engine: EnginePostgres}, dialect{engine: EngineSQLite}
	tests := []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`a = ? AND b = ?`, `a = $1 AND b = $2`},
		{`x LIKE ? ESCAPE '\' OR y = '?' OR z = ?`, `x LIKE $1 ESCAPE '\' OR y = '?' OR z = $2`},
		{`v = 'it''s ?' AND w = ?`, `v = 'it''s ?' AND w = $1`},
	}
	for _, tt := range tests {
		if got := pg.rebind(tt.in); got != tt.want {
			t.Errorf("postgres rebind(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := lite.rebind(tt.in); got != tt.in {
			t.Errorf("sqlite rebind(%q) = %q, want it unchanged", tt.in, got)
		}
	}
}

func TestEscapeLike(t *testing.T) {
	if got, want := escapeLike(`50%_off\now`), `50\%\_off\\now`; got != want {
		t.Fatalf("escapeLike = %q, want %q", got, want)
	}
}
