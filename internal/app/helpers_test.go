package app_test

import (
	"context"
	"testing"

	"github.com/switchboard-voice/switchboard/internal/app"
	"github.com/switchboard-voice/switchboard/internal/sqlstore"
)

// newService opens and migrates dsn and returns the use cases over it with
// cfg; the database is closed when the test ends.
func newService(t *testing.T, dsn string, cfg app.Config) (*app.Service, *sqlstore.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	key, err := app.LoadServerKey(ctx, db, "")
	if err != nil {
		t.Fatal(err)
	}
	return app.New(db, app.NewClock(nil), key, cfg, nil), db
}
