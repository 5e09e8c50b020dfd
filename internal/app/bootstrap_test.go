package app_test

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/switchboard-voice/switchboard/internal/app"
	"github.com/switchboard-voice/switchboard/internal/sqlstore"
	"github.com/switchboard-voice/switchboard/internal/storetest"
)

// TestReplicasStartTogether starts several "replicas" (each its own
// connection pool) on one fresh database at the same moment: they must agree
// on one server key and create exactly one first main account.
func TestReplicasStartTogether(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		const replicas = 5
		ctx := context.Background()
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			keys    [][]byte
			created int
		)
		start := make(chan struct{})
		for i := 0; i < replicas; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				db, err := sqlstore.Open(ctx, dsn)
				if err != nil {
					t.Errorf("Open: %v", err)
					return
				}
				defer db.Close()
				if _, _, err := db.Migrate(ctx); err != nil {
					t.Errorf("Migrate: %v", err)
					return
				}
				key, err := app.LoadServerKey(ctx, db, "")
				if err != nil {
					t.Errorf("LoadServerKey: %v", err)
					return
				}
				boot, err := app.New(db, app.NewClock(nil), key, app.Config{}, nil).Bootstrap(ctx)
				if err != nil {
					t.Errorf("Bootstrap: %v", err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				keys = append(keys, key)
				if boot != nil {
					created++
				}
			}()
		}
		close(start)
		wg.Wait()
		if created != 1 {
			t.Errorf("%d replicas bootstrapped a main account, want exactly 1", created)
		}
		for _, k := range keys[1:] {
			if !bytes.Equal(k, keys[0]) {
				t.Fatal("replicas disagree on the server key")
			}
		}
		if len(keys) != replicas {
			t.Fatalf("%d of %d replicas started", len(keys), replicas)
		}
	})
}
