package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
)

// runEvents runs the conformance tests of Idempotency-Keys (CONTRACT §0.9),
// the audit log (§10.1) and the webhook endpoint and outbox (§10.2), in
// parallel like the rest of Run.
func runEvents(t *testing.T, open func(t *testing.T) app.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s app.Store)
	}{
		{"IdempotencyKeys", testIdempotencyKeys},
		{"IdempotencyExpiry", testIdempotencyExpiry},
		{"IdempotencyPurge", testIdempotencyPurge},
		{"ConcurrentIdempotencyClaims", testConcurrentIdempotencyClaims},
		{"IdempotencyClaimWaitsForFirst", testIdempotencyClaimWaitsForFirst},
		{"AuditChain", testAuditChain},
		{"ConcurrentAuditAppends", testConcurrentAuditAppends},
		{"ListAudit", testListAudit},
		{"WebhookEndpoint", testWebhookEndpoint},
		{"DeliveryRoundTrip", testDeliveryRoundTrip},
		{"ClaimDueDeliveries", testClaimDueDeliveries},
		{"ConcurrentDeliveryClaims", testConcurrentDeliveryClaims},
		{"DeliveryClaimSkipsLockedRows", testDeliveryClaimSkipsLockedRows},
		{"DeliveryAttempts", testDeliveryAttempts},
		{"ListDeliveries", testListDeliveries},
		{"RetryDelivery", testRetryDelivery},
		{"PurgeDeliveries", testPurgeDeliveries},
		{"ResetAllEvents", testResetAllEvents},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// ---- Idempotency-Key ----

func claimKey(t *testing.T, s app.Store, rec sb.IdempotencyRecord) error {
	return s.Update(t.Context(), func(tx app.Tx) error { return tx.ClaimIdempotencyKey(t.Context(), rec) })
}

func idemKey(t *testing.T, s app.Store, principal, key string, now time.Time) (*sb.IdempotencyRecord, error) {
	return read(t, s, func(tx app.Tx) (*sb.IdempotencyRecord, error) {
		return tx.IdempotencyKey(t.Context(), principal, key, now)
	})
}

// storedKey is what a read of rec returns.
func storedKey(rec sb.IdempotencyRecord) *sb.IdempotencyRecord {
	rec.CreatedAt, rec.ExpiresAt = sb.NormalizeTime(rec.CreatedAt), sb.NormalizeTime(rec.ExpiresAt)
	return &rec
}

// newKey is an in-progress claim made at created.
func newKey(principal, key, fingerprint string, created time.Time) sb.IdempotencyRecord {
	return sb.IdempotencyRecord{Principal: principal, Key: key, Fingerprint: fingerprint,
		CreatedAt: created, ExpiresAt: created.Add(sb.IdempotencyTTL)}
}

func wantKey(t *testing.T, s app.Store, what string, want sb.IdempotencyRecord, now time.Time) {
	t.Helper()
	got, err := idemKey(t, s, want.Principal, want.Key, now)
	if err != nil {
		t.Fatalf("%s: IdempotencyKey: %v", what, err)
	}
	wantEqual(t, what, got, storedKey(want))
}

func testIdempotencyKeys(t *testing.T, s app.Store) {
	ctx := t.Context()
	const main, sub = "MA_IDEMAAAA", "SA_IDEMBBBB"
	first := newKey(main, "key-1", "fp-1", t0)
	if err := claimKey(t, s, first); err != nil {
		t.Fatalf("first claim: %v", err)
	}
	wantKey(t, s, "claimed key (in progress)", first, t0)

	// A live key cannot be claimed again, with any fingerprint.
	twin := newKey(main, "key-1", "fp-other", t0.Add(time.Second))
	wantCode(t, claimKey(t, s, twin), sb.EAlreadyExists)
	wantKey(t, s, "key after a refused claim", first, t0)

	// The refused claim raises no SQL error: the transaction goes on (on
	// PostgreSQL a failed statement would abort it) and commits its work.
	second := newKey(main, "key-2", "fp-2", t0)
	update(t, s, func(tx app.Tx) error {
		if err := tx.ClaimIdempotencyKey(ctx, twin); sb.ErrorCode(err) != sb.EAlreadyExists {
			return fmt.Errorf("claim of a live key = %v, want already_exists", err)
		}
		return tx.ClaimIdempotencyKey(ctx, second)
	})
	wantKey(t, s, "key claimed after a refused claim in one transaction", second, t0)

	// Keys are private to their principal.
	ofSub := newKey(sub, "key-1", "fp-sub", t0)
	if err := claimKey(t, s, ofSub); err != nil {
		t.Fatalf("same key, other principal: %v", err)
	}
	wantKey(t, s, "other principal's key", ofSub, t0)
	wantKey(t, s, "first principal's key", first, t0)
	_, err := idemKey(t, s, main, "key-unknown", t0)
	wantCode(t, err, sb.ENotFound)

	// Completion stores the outcome; it may be written again.
	complete := func(status int, body []byte, encrypted bool) {
		t.Helper()
		update(t, s, func(tx app.Tx) error { return tx.CompleteIdempotencyKey(ctx, main, "key-1", status, body, encrypted) })
		want := first
		want.Status, want.Body, want.Encrypted = status, body, encrypted
		wantKey(t, s, fmt.Sprintf("completed key (%d)", status), want, t0)
	}
	complete(201, []byte("sealed \x00\xff response"), true)
	complete(404, []byte(`{"error":{"code":"not_found"}}`), false)
	wantKey(t, s, "other principal's key after completion", ofSub, t0)
	wantCode(t, s.Update(ctx, func(tx app.Tx) error {
		return tx.CompleteIdempotencyKey(ctx, main, "key-unknown", 200, []byte("{}"), false)
	}), sb.ENotFound)

	// A claim may carry its final outcome at once (no write transaction ran).
	final := newKey(main, "key-3", "fp-3", t0)
	final.Status, final.Body = 422, []byte(`{"error":{"code":"validation_error"}}`)
	if err := claimKey(t, s, final); err != nil {
		t.Fatalf("claim with an outcome: %v", err)
	}
	wantKey(t, s, "key claimed with an outcome", final, t0)

	// Release deletes the record (a 5xx outcome); the key is new again.
	update(t, s, func(tx app.Tx) error { return tx.ReleaseIdempotencyKey(ctx, main, "key-1") })
	_, err = idemKey(t, s, main, "key-1", t0)
	wantCode(t, err, sb.ENotFound)
	wantKey(t, s, "other principal's key after release", ofSub, t0)
	update(t, s, func(tx app.Tx) error { return tx.ReleaseIdempotencyKey(ctx, main, "key-1") }) // absent: no error
	again := newKey(main, "key-1", "fp-again", t0.Add(time.Minute))
	if err := claimKey(t, s, again); err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	wantKey(t, s, "key claimed after release", again, t0.Add(time.Minute))
}

func testIdempotencyExpiry(t *testing.T, s app.Store) {
	const p = "MA_EXPIRYAA"
	rec := newKey(p, "key", "fp-old", t0)
	rec.Status, rec.Body = 200, []byte(`{"old":true}`)
	if err := claimKey(t, s, rec); err != nil {
		t.Fatal(err)
	}
	expires := sb.NormalizeTime(rec.ExpiresAt)
	wantKey(t, s, "key 1µs before it expires", rec, expires.Add(-time.Microsecond))
	_, err := idemKey(t, s, p, "key", expires)
	wantCode(t, err, sb.ENotFound)

	// Still live at the claim's time: refused, record unchanged.
	wantCode(t, claimKey(t, s, newKey(p, "key", "fp-new", expires.Add(-time.Microsecond))), sb.EAlreadyExists)
	wantKey(t, s, "live key after a refused claim", rec, t0)

	// Expired at the claim's time: replaced, every field.
	fresh := newKey(p, "key", "fp-new", expires)
	if err := claimKey(t, s, fresh); err != nil {
		t.Fatalf("claim of an expired key: %v", err)
	}
	wantKey(t, s, "replaced key", fresh, expires)
}

func testIdempotencyPurge(t *testing.T, s app.Store) {
	ctx := t.Context()
	recs := []sb.IdempotencyRecord{
		newKey("MA_PURGEAAA", "a", "fp", t0),
		newKey("MA_PURGEAAA", "b", "fp", t0.Add(time.Hour)),
		newKey("SA_PURGEBBB", "a", "fp", t0.Add(2*time.Hour)),
	}
	for _, r := range recs {
		if err := claimKey(t, s, r); err != nil {
			t.Fatal(err)
		}
	}
	purge := func(now time.Time) int {
		t.Helper()
		var n int
		update(t, s, func(tx app.Tx) (err error) {
			n, err = tx.PurgeIdempotencyKeys(ctx, now)
			return err
		})
		return n
	}
	// Records that are no longer live at now go: the one that expired
	// before now and the one that expires exactly at now.
	if n := purge(sb.NormalizeTime(recs[1].ExpiresAt)); n != 2 {
		t.Fatalf("PurgeIdempotencyKeys removed %d, want 2", n)
	}
	for _, r := range recs[:2] {
		_, err := idemKey(t, s, r.Principal, r.Key, t0) // would be live at t0
		wantCode(t, err, sb.ENotFound)
	}
	wantKey(t, s, "live key after purge", recs[2], t0)
	if n := purge(sb.NormalizeTime(recs[1].ExpiresAt)); n != 0 {
		t.Fatalf("second purge removed %d, want 0", n)
	}
}

// testConcurrentIdempotencyClaims: several transactions claim one key at
// once. Exactly one wins; each loser gets already_exists without an SQL
// error, so its transaction still answers and sees the winner's claim.
func testConcurrentIdempotencyClaims(t *testing.T, s app.Store) {
	ctx := t.Context()
	const n = 8
	const p, key = "MA_RACEAAAA", "race"
	errs := make([]error, n)
	seen := make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.Update(ctx, func(tx app.Tx) error {
				err := tx.ClaimIdempotencyKey(ctx, newKey(p, key, fmt.Sprint("fp-", i), t0))
				if sb.ErrorCode(err) != sb.EAlreadyExists {
					return err
				}
				got, rerr := tx.IdempotencyKey(ctx, p, key, t0)
				if rerr != nil {
					return fmt.Errorf("read after a refused claim: %w", rerr)
				}
				seen[i] = got.Fingerprint
				return err
			})
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("claims %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case sb.ErrorCode(err) != sb.EAlreadyExists:
			t.Fatalf("claim %d: %v, want success or already_exists", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no claim succeeded")
	}
	wantFP := fmt.Sprint("fp-", winner)
	for i := range n {
		if i != winner && seen[i] != wantFP {
			t.Fatalf("loser %d saw fingerprint %q, want the winner's %q", i, seen[i], wantFP)
		}
	}
	wantKey(t, s, "stored claim", newKey(p, key, wantFP, t0), t0)
}

// holdOpen runs fn in an Update on another goroutine and keeps that
// transaction open after fn succeeded, until release is called; it returns
// once fn has run. The transaction's outcome arrives on done after release.
func holdOpen(t *testing.T, s app.Store, fn func(tx app.Tx) error) (release func(), done <-chan error) {
	t.Helper()
	ran, proceed, result := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	var once sync.Once
	release = func() { once.Do(func() { close(proceed) }) }
	go func() {
		result <- s.Update(t.Context(), func(tx app.Tx) error {
			if err := fn(tx); err != nil {
				return err
			}
			close(ran)
			<-proceed
			return nil
		})
	}()
	select {
	case <-ran:
	case err := <-result:
		release()
		t.Fatalf("first transaction: %v", err)
	}
	return release, result
}

// testIdempotencyClaimWaitsForFirst: a duplicate claim made while the first
// claim's transaction is open waits for it (on the primary key on
// PostgreSQL, the write lock on SQLite) and then gets already_exists.
func testIdempotencyClaimWaitsForFirst(t *testing.T, s app.Store) {
	ctx := t.Context()
	const p, key = "MA_WAITAAAA", "wait"
	release, firstErr := holdOpen(t, s, func(tx app.Tx) error {
		return tx.ClaimIdempotencyKey(ctx, newKey(p, key, "fp-first", t0))
	})
	defer release()
	secondErr := make(chan error, 1)
	go func() { secondErr <- claimKey(t, s, newKey(p, key, "fp-second", t0)) }()
	// The second claim cannot finish while the first transaction is open;
	// the pause gives it time to reach the lock it waits on.
	select {
	case err := <-secondErr:
		t.Fatalf("second claim returned %v while the first transaction was open", err)
	case <-time.After(200 * time.Millisecond):
	}
	release()
	if err := <-firstErr; err != nil {
		t.Fatalf("first claim: %v", err)
	}
	wantCode(t, <-secondErr, sb.EAlreadyExists)
	wantKey(t, s, "stored claim", newKey(p, key, "fp-first", t0), t0)
}

// ---- Audit log ----

func appendAudit(t *testing.T, s app.Store, recs ...*sb.AuditRecord) {
	t.Helper()
	update(t, s, func(tx app.Tx) error {
		for _, r := range recs {
			if err := tx.AppendAudit(t.Context(), r); err != nil {
				return err
			}
		}
		return nil
	})
}

func auditChain(t *testing.T, s app.Store, after int64, limit int) []*sb.AuditRecord {
	t.Helper()
	return mustRead(t, s, func(tx app.Tx) ([]*sb.AuditRecord, error) { return tx.AuditChain(t.Context(), after, limit) })
}

func auditIDs(recs []*sb.AuditRecord) []int64 {
	ids := []int64{}
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	return ids
}

// canonical is the canonical JSON of a record as the API shows it.
func canonical(t *testing.T, r *sb.AuditRecord) string {
	t.Helper()
	b, err := sb.CanonicalJSON(r.Object(true))
	if err != nil {
		t.Fatalf("canonical JSON of record %d: %v", r.ID, err)
	}
	return string(b)
}

// checkChain verifies ids 1..n, the links and every hash of chain.
func checkChain(t *testing.T, chain []*sb.AuditRecord) {
	t.Helper()
	prev := sb.GenesisHash
	for i, r := range chain {
		if r.ID != int64(i+1) {
			t.Fatalf("record %d has id %d", i+1, r.ID)
		}
		if r.PrevHash != prev {
			t.Fatalf("record %d: prev_hash %s, want %s", r.ID, r.PrevHash, prev)
		}
		h, err := r.ComputeHash()
		if err != nil || h != r.Hash {
			t.Fatalf("record %d: recomputed hash %s (%v), stored %s", r.ID, h, err, r.Hash)
		}
		prev = r.Hash
	}
}

func testAuditChain(t *testing.T, s app.Store) {
	const a, b = "MA_AUDITAAA", "MA_AUDITBBB"
	recs := []*sb.AuditRecord{{
		OccurredAt: t0, RequestID: "req-1", ActorType: "account", ActorID: a, ActorRole: "parent", TenantID: a,
		Action: "subaccount.create", TargetType: "sub_account", TargetID: "SA_ONEAAAAA", Outcome: sb.OutcomeSuccess,
		StatusCode: 200, SourceIP: "203.0.113.7",
		Changes: map[string]sb.Change{"name": {Before: nil, After: "Support"}, "rate_limit": {Before: nil, After: 1000}},
	}, {
		OccurredAt: t0.Add(time.Second), RequestID: "req-2", ActorType: "account", ActorID: b, ActorRole: "parent",
		TenantID: b, Action: "subaccount.update", TargetType: "sub_account", TargetID: "SA_TWOBBBBB",
		Outcome: sb.OutcomeSuccess, StatusCode: 200, SourceIP: "2001:db8::1",
		Changes: map[string]sb.Change{
			"enabled":     {Before: true, After: false},
			"balance":     {Before: int64(9007199254740993), After: 1.5}, // beyond float64's integers
			"permissions": {Before: map[string]any{"calls": true, "cdr": false}, After: nil},
			"events":      {Before: []string{"*"}, After: []string{sb.EventSubAccountCreated}},
			"url":         {Before: (*string)(nil), After: ptr("https://hooks.example.test/<a>&b")},
		},
	}, {
		OccurredAt: t0.Add(2 * time.Second), ActorType: "account", ActorID: a, TenantID: a, Action: "auth.login",
		Outcome: sb.OutcomeFailed, StatusCode: 401, Reason: ptr("wrong password"),
	}, {
		OccurredAt: t0.Add(3 * time.Second), RequestID: "req-4", ActorType: "admin", ActorID: "admin",
		Action: "admin.account.credit", TargetType: "main_account", TargetID: b, Outcome: sb.OutcomeSuccess,
		StatusCode: 200, Changes: map[string]sb.Change{}, // empty: stored and shown as null
	}, {
		OccurredAt: t0.Add(4 * time.Second), RequestID: "req-5", ActorType: "account", ActorID: b, ActorRole: "parent",
		TenantID: b, Action: "subaccount.delete", TargetType: "sub_account", TargetID: "bad\x00id\xff",
		Outcome: sb.OutcomeDenied, StatusCode: 404, Reason: ptr("not \xffyours"),
	}}
	// One record alone, two in one transaction, then one each.
	appendAudit(t, s, recs[0])
	appendAudit(t, s, recs[1], recs[2])
	appendAudit(t, s, recs[3])
	appendAudit(t, s, recs[4])

	// AppendAudit fills id, prev_hash and hash, and stores the record as
	// both engines can: NUL and invalid UTF-8 become U+FFFD before hashing.
	checkChain(t, recs)
	wantEqual(t, "normalized target_id", recs[4].TargetID, "bad\uFFFDid\uFFFD")
	wantEqual(t, "normalized reason", *recs[4].Reason, "not \uFFFDyours")

	chain := auditChain(t, s, 0, 100)
	wantEqual(t, "chain ids", auditIDs(chain), []int64{1, 2, 3, 4, 5})
	checkChain(t, chain)
	for i, got := range chain {
		want := recs[i]
		wantEqual(t, fmt.Sprintf("record %d", got.ID), canonical(t, got), canonical(t, want))
		if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(sb.AuditRecord{}, "Changes")); diff != "" {
			t.Fatalf("record %d fields (-want +got):\n%s", got.ID, diff)
		}
		if got.OccurredAt.Location() != time.UTC {
			t.Fatalf("record %d: occurred_at %v not in UTC", got.ID, got.OccurredAt)
		}
	}
	if got := chain[1].Changes["balance"].Before; got != json.Number("9007199254740993") {
		t.Fatalf("big integer in changes read back as %#v", got)
	}
	if chain[3].Changes != nil || chain[2].Changes != nil {
		t.Fatalf("records without changes read back with %v, %v", chain[2].Changes, chain[3].Changes)
	}

	// Paging through the chain.
	wantEqual(t, "chain after 2, limit 2", auditIDs(auditChain(t, s, 2, 2)), []int64{3, 4})
	wantEqual(t, "chain after the last", auditIDs(auditChain(t, s, 5, 10)), []int64{})

	// A modified field or link no longer matches the stored hash: the
	// verifier (VerifyAudit) finds tampering by recomputing.
	tampered := map[string]func(r *sb.AuditRecord){
		"target_id":   func(r *sb.AuditRecord) { r.TargetID = "SA_OTHERAAA" },
		"outcome":     func(r *sb.AuditRecord) { r.Outcome = sb.OutcomeDenied },
		"occurred_at": func(r *sb.AuditRecord) { r.OccurredAt = r.OccurredAt.Add(time.Microsecond) },
		"changes": func(r *sb.AuditRecord) {
			r.Changes = map[string]sb.Change{"enabled": {Before: true, After: true}}
		},
		"prev_hash": func(r *sb.AuditRecord) { r.PrevHash = sb.GenesisHash },
	}
	for name, modify := range tampered {
		r := *chain[1]
		modify(&r)
		if h, err := r.ComputeHash(); err != nil || h == r.Hash {
			t.Fatalf("record with a modified %s still matches its hash (%v)", name, err)
		}
	}
}

// testConcurrentAuditAppends: appenders in parallel transactions still make
// one unbroken chain (PostgreSQL: the advisory lock).
func testConcurrentAuditAppends(t *testing.T, s app.Store) {
	ctx := t.Context()
	const n = 12
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.Update(ctx, func(tx app.Tx) error {
				return tx.AppendAudit(ctx, &sb.AuditRecord{OccurredAt: t0, ActorType: "system", ActorID: fmt.Sprint("worker-", i),
					Action: "test.append", Outcome: sb.OutcomeSuccess, StatusCode: 200})
			})
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent AppendAudit: %v", err)
	}
	chain := auditChain(t, s, 0, 0)
	if len(chain) != n {
		t.Fatalf("chain has %d records, want %d", len(chain), n)
	}
	checkChain(t, chain)
}

func testListAudit(t *testing.T, s app.Store) {
	ctx := t.Context()
	const a, b = "MA_LISTAAAA", "MA_LISTBBBB"
	rec := func(tenant, action, actor, target, outcome string, at time.Duration) *sb.AuditRecord {
		return &sb.AuditRecord{OccurredAt: t0.Add(at), ActorType: "account", ActorID: actor, TenantID: tenant,
			Action: action, TargetID: target, Outcome: outcome, StatusCode: 200}
	}
	recs := []*sb.AuditRecord{
		rec(a, "subaccount.create", a, "SA_ONEAAAAA", sb.OutcomeSuccess, 0),             // 1
		rec(a, "subaccount.update", a, "SA_ONEAAAAA", sb.OutcomeSuccess, time.Minute),   // 2
		rec(b, "subaccount.create", b, "SA_TWOBBBBB", sb.OutcomeSuccess, 2*time.Minute), // 3
		rec(a, "auth.login", a, "", sb.OutcomeFailed, 3*time.Minute),                    // 4
		rec(a, "subaccount.delete", a, "SA_TWOBBBBB", sb.OutcomeDenied, 4*time.Minute),  // 5: A tried B's sub
		rec("", "admin.account.credit", "admin", b, sb.OutcomeSuccess, 5*time.Minute),   // 6: operator only
		rec(a, "sub%ccount.create", a, "SA_ONEAAAAA", sb.OutcomeSuccess, 6*time.Minute), // 7
		rec(b, "subaccounts.purge", b, "", sb.OutcomeSuccess, 7*time.Minute),            // 8
	}
	for _, r := range recs {
		appendAudit(t, s, r)
	}
	at := func(d time.Duration) *time.Time { return ptr(t0.Add(d)) }
	tests := []struct {
		name   string
		filter app.AuditFilter
		want   []int64
	}{
		{"every tenant, newest first", app.AuditFilter{}, []int64{8, 7, 6, 5, 4, 3, 2, 1}},
		{"tenant A (incl. its refused attempt on B's sub)", app.AuditFilter{TenantID: a}, []int64{7, 5, 4, 2, 1}},
		{"tenant B", app.AuditFilter{TenantID: b}, []int64{8, 3}},
		{"unknown tenant", app.AuditFilter{TenantID: "MA_NOBODYAA"}, []int64{}},
		{"action exact", app.AuditFilter{Action: "subaccount.create"}, []int64{3, 1}},
		{"action exact in a tenant", app.AuditFilter{TenantID: a, Action: "subaccount.create"}, []int64{1}},
		{"action without dot is exact", app.AuditFilter{Action: "subaccount"}, []int64{}},
		{"action prefix", app.AuditFilter{Action: "subaccount."}, []int64{5, 3, 2, 1}},
		{"action prefix in a tenant", app.AuditFilter{TenantID: b, Action: "subaccount."}, []int64{3}},
		{"action prefix is case-sensitive", app.AuditFilter{Action: "SUBACCOUNT."}, []int64{}},
		{"action prefix: percent is literal", app.AuditFilter{Action: "sub%ccount."}, []int64{7}},
		{"action prefix: underscore is literal", app.AuditFilter{Action: "sub_ccount."}, []int64{}},
		{"action prefix of two levels", app.AuditFilter{Action: "admin.account."}, []int64{6}},
		{"actor", app.AuditFilter{ActorID: b}, []int64{8, 3}},
		{"target", app.AuditFilter{TargetID: "SA_TWOBBBBB"}, []int64{5, 3}},
		{"target in a tenant", app.AuditFilter{TenantID: a, TargetID: "SA_TWOBBBBB"}, []int64{5}},
		{"outcome denied", app.AuditFilter{Outcome: sb.OutcomeDenied}, []int64{5}},
		{"outcome failed", app.AuditFilter{Outcome: sb.OutcomeFailed}, []int64{4}},
		{"from and to, inclusive", app.AuditFilter{From: at(time.Minute), To: at(3 * time.Minute)}, []int64{4, 3, 2}},
		{"from only", app.AuditFilter{From: at(6 * time.Minute)}, []int64{8, 7}},
		{"to only", app.AuditFilter{To: at(0)}, []int64{1}},
		{"to 1µs before the first", app.AuditFilter{To: ptr(sb.NormalizeTime(t0).Add(-time.Microsecond))}, []int64{}},
		{"cursor", app.AuditFilter{BeforeID: 5}, []int64{4, 3, 2, 1}},
		{"cursor and limit", app.AuditFilter{BeforeID: 5, Limit: 2}, []int64{4, 3}},
		{"cursor in a tenant", app.AuditFilter{TenantID: a, BeforeID: 4}, []int64{2, 1}},
		{"limit", app.AuditFilter{Limit: 1}, []int64{8}},
		{"filters combine", app.AuditFilter{TenantID: a, Action: "subaccount.", Outcome: sb.OutcomeSuccess}, []int64{2, 1}},
	}
	for _, tt := range tests {
		got := mustRead(t, s, func(tx app.Tx) ([]*sb.AuditRecord, error) { return tx.ListAudit(ctx, tt.filter) })
		wantEqual(t, tt.name, auditIDs(got), tt.want)
	}
	got := mustRead(t, s, func(tx app.Tx) ([]*sb.AuditRecord, error) {
		return tx.ListAudit(ctx, app.AuditFilter{TenantID: a, Limit: 1})
	})
	wantEqual(t, "listed record", canonical(t, got[0]), canonical(t, recs[6]))
}

// ---- Webhook endpoint ----

func testWebhookEndpoint(t *testing.T, s app.Store) {
	ctx := t.Context()
	m := insertMain(t, s, "Main", nil, t0)
	other := insertMain(t, s, "Other", nil, t0)
	sub := insertSub(t, s, m, "Sub", nil, t0)
	get := func(id int64) (sb.WebhookEndpoint, error) {
		return read(t, s, func(tx app.Tx) (sb.WebhookEndpoint, error) { return tx.WebhookEndpoint(ctx, id) })
	}
	set := func(id int64, ep sb.WebhookEndpoint) error {
		return s.Update(ctx, func(tx app.Tx) error { return tx.SetWebhookEndpoint(ctx, id, ep) })
	}
	check := func(what string, id int64, want sb.WebhookEndpoint) {
		t.Helper()
		got, err := get(id)
		if err != nil {
			t.Fatalf("%s: WebhookEndpoint: %v", what, err)
		}
		wantEqual(t, what, got, want)
	}
	none := sb.WebhookEndpoint{Events: []string{"*"}}
	check("new account", m.ID, none)

	url := "https://hooks.example.test/switchboard?x=1"
	configured := sb.WebhookEndpoint{URL: &url, Events: []string{sb.EventSubAccountCreated, sb.EventCredentialRotated}}
	if err := set(m.ID, configured); err != nil {
		t.Fatal(err)
	}
	check("configured", m.ID, configured)
	check("other account untouched", other.ID, none)

	if err := set(m.ID, sb.WebhookEndpoint{URL: &url}); err != nil {
		t.Fatal(err)
	}
	check("no events stored reads as every event", m.ID, sb.WebhookEndpoint{URL: &url, Events: []string{"*"}})
	if err := set(m.ID, sb.WebhookEndpoint{Events: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	check("url removed", m.ID, none)

	// Only main accounts have an endpoint.
	for _, id := range []int64{sub.ID, 999_999_999} {
		_, err := get(id)
		wantCode(t, err, sb.ENotFound)
		wantCode(t, set(id, configured), sb.ENotFound)
	}
	check("main account after writes to its sub-account", m.ID, none)
}

// ---- Webhook deliveries ----

func newDelivery(tenant *sb.Account, id, event string, created time.Time, next *time.Time) *sb.Delivery {
	return &sb.Delivery{
		ID: id, TenantID: tenant.ID, EventID: "evt_" + sb.NewUUID(), Event: event,
		URL:     "https://hooks.example.test/" + tenant.AuthID,
		Payload: []byte(`{"event":"` + event + `","data":{"note":"\u00e9 \"quoted\""}}`),
		Status:  sb.DeliveryPending, NextAttemptAt: next, CreatedAt: created, UpdatedAt: created,
	}
}

// storedDelivery is what a read of d returns.
func storedDelivery(d *sb.Delivery) *sb.Delivery {
	c := *d
	c.NextAttemptAt = normalizePtr(c.NextAttemptAt)
	c.CreatedAt, c.UpdatedAt = sb.NormalizeTime(c.CreatedAt), sb.NormalizeTime(c.UpdatedAt)
	c.Attempts = nil
	for _, a := range d.Attempts {
		a.At = sb.NormalizeTime(a.At)
		c.Attempts = append(c.Attempts, a)
	}
	return &c
}

func insertDeliveries(t *testing.T, s app.Store, ds ...*sb.Delivery) {
	t.Helper()
	update(t, s, func(tx app.Tx) error {
		for _, d := range ds {
			if err := tx.InsertDelivery(t.Context(), d); err != nil {
				return err
			}
		}
		return nil
	})
}

func getDelivery(t *testing.T, s app.Store, mainID int64, id string) (*sb.Delivery, error) {
	return read(t, s, func(tx app.Tx) (*sb.Delivery, error) { return tx.Delivery(t.Context(), mainID, id) })
}

func wantDelivery(t *testing.T, s app.Store, what string, mainID int64, want *sb.Delivery) {
	t.Helper()
	got, err := getDelivery(t, s, mainID, want.ID)
	if err != nil {
		t.Fatalf("%s: Delivery: %v", what, err)
	}
	wantEqual(t, what, got, want)
}

func claimDue(t *testing.T, s app.Store, now, leaseUntil time.Time, limit int) []*sb.Delivery {
	t.Helper()
	var due []*sb.Delivery
	update(t, s, func(tx app.Tx) (err error) {
		due, err = tx.ClaimDueDeliveries(t.Context(), now, leaseUntil, limit)
		return err
	})
	return due
}

func deliveryIDs(ds []*sb.Delivery) []string {
	ids := []string{}
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return ids
}

func recordAttempt(t *testing.T, s app.Store, id string, a sb.DeliveryAttempt, status string, next *time.Time, now time.Time) {
	t.Helper()
	update(t, s, func(tx app.Tx) error { return tx.RecordDeliveryAttempt(t.Context(), id, a, status, next, now) })
}

func testDeliveryRoundTrip(t *testing.T, s app.Store) {
	m := insertMain(t, s, "Main", nil, t0)
	other := insertMain(t, s, "Other", nil, t0)
	fresh := newDelivery(m, "dlv_fresh", sb.EventSubAccountCreated, t0, ptr(t0))
	// A delivery may be written with history and no next attempt.
	done := newDelivery(m, "dlv_done", sb.EventSubAccountDeleted, t0.Add(time.Minute), nil)
	done.Status, done.UpdatedAt = sb.DeliverySucceeded, t0.Add(2*time.Minute)
	done.Attempts = []sb.DeliveryAttempt{
		{At: t0.Add(time.Minute), Error: ptr("timeout"), DurationMS: 10_000},
		{At: t0.Add(2 * time.Minute), StatusCode: ptr(204), DurationMS: 35},
	}
	insertDeliveries(t, s, fresh, done)
	wantDelivery(t, s, "fresh delivery", m.ID, storedDelivery(fresh))
	wantDelivery(t, s, "delivery with attempts", m.ID, storedDelivery(done))

	for _, tc := range []struct {
		tenant int64
		id     string
	}{{other.ID, fresh.ID}, {999_999_999, fresh.ID}, {m.ID, "dlv_unknown"}} {
		_, err := getDelivery(t, s, tc.tenant, tc.id)
		wantCode(t, err, sb.ENotFound)
	}
	dup := newDelivery(m, fresh.ID, sb.EventSubAccountCreated, t0, ptr(t0))
	wantCode(t, s.Update(t.Context(), func(tx app.Tx) error { return tx.InsertDelivery(t.Context(), dup) }), sb.EAlreadyExists)
}

func testClaimDueDeliveries(t *testing.T, s app.Store) {
	m := insertMain(t, s, "Main", nil, t0)
	other := insertMain(t, s, "Other", nil, t0)
	a1 := newDelivery(m, "dlv_a1", sb.EventSubAccountCreated, t0, ptr(t0))
	b1 := newDelivery(other, "dlv_b1", sb.EventSubAccountCreated, t0, ptr(t0)) // same time as a1: by id
	a2 := newDelivery(m, "dlv_a2", sb.EventSubAccountUpdated, t0, ptr(t0.Add(-time.Minute)))
	notYet := newDelivery(m, "dlv_a3", sb.EventSubAccountUpdated, t0, ptr(t0.Add(time.Hour)))
	succeeded := newDelivery(m, "dlv_a4", sb.EventSubAccountUpdated, t0, nil)
	succeeded.Status = sb.DeliverySucceeded
	failed := newDelivery(m, "dlv_a5", sb.EventSubAccountUpdated, t0, ptr(t0.Add(-time.Hour)))
	failed.Status = sb.DeliveryFailed
	insertDeliveries(t, s, a1, b1, a2, notYet, succeeded, failed)

	lease := sb.NormalizeTime(t0.Add(time.Minute))
	due := claimDue(t, s, t0, lease, 10)
	wantEqual(t, "claimed deliveries", due, []*sb.Delivery{storedDelivery(a2), storedDelivery(a1), storedDelivery(b1)})

	// Leased rows are skipped until the lease ends, exactly.
	wantEqual(t, "claim while leased", deliveryIDs(claimDue(t, s, t0, lease, 10)), []string{})
	wantEqual(t, "claim 1µs before the lease ends", deliveryIDs(claimDue(t, s, lease.Add(-time.Microsecond), lease, 10)), []string{})
	lease2 := lease.Add(time.Minute)
	wantEqual(t, "claim when the lease ends, limit 2", deliveryIDs(claimDue(t, s, lease, lease2, 2)), []string{"dlv_a2", "dlv_a1"})
	wantEqual(t, "claim the rest", deliveryIDs(claimDue(t, s, lease, lease2, 10)), []string{"dlv_b1"})
	wantEqual(t, "limit 0 claims nothing", deliveryIDs(claimDue(t, s, t0.Add(time.Hour), lease2, 0)), []string{})
	wantEqual(t, "claim when every lease has ended and a3 is due",
		deliveryIDs(claimDue(t, s, t0.Add(time.Hour), t0.Add(time.Hour+time.Minute), 10)),
		[]string{"dlv_a2", "dlv_a1", "dlv_b1", "dlv_a3"})
	// Claiming changes nothing the log shows.
	wantDelivery(t, s, "claimed delivery", m.ID, storedDelivery(a1))
}

// testConcurrentDeliveryClaims: workers claiming at once get disjoint sets
// that together cover every due delivery.
func testConcurrentDeliveryClaims(t *testing.T, s app.Store) {
	ctx := t.Context()
	m := insertMain(t, s, "Main", nil, t0)
	var all []string
	for i := range 10 {
		d := newDelivery(m, fmt.Sprintf("dlv_c%02d", i), sb.EventSubAccountCreated, t0, ptr(t0))
		insertDeliveries(t, s, d)
		all = append(all, d.ID)
	}
	const workers, limit = 4, 3
	got := make([][]*sb.Delivery, workers)
	errs := make([]error, workers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			<-start
			errs[i] = s.Update(ctx, func(tx app.Tx) (err error) {
				got[i], err = tx.ClaimDueDeliveries(ctx, t0, t0.Add(time.Minute), limit)
				return err
			})
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent ClaimDueDeliveries: %v", err)
	}
	var claimed []string
	for _, ds := range got {
		claimed = append(claimed, deliveryIDs(ds)...)
	}
	slices.Sort(claimed)
	wantEqual(t, "deliveries claimed by all workers, each once", claimed, all)
}

// testDeliveryClaimSkipsLockedRows: on PostgreSQL a claimer does not wait
// for rows that another open transaction has claimed; it takes the others.
func testDeliveryClaimSkipsLockedRows(t *testing.T, s app.Store) {
	if s.Engine() != "postgres" {
		t.Skip("SQLite runs one write transaction at a time; ConcurrentDeliveryClaims covers it")
	}
	ctx := t.Context()
	m := insertMain(t, s, "Main", nil, t0)
	for i := range 4 {
		insertDeliveries(t, s, newDelivery(m, fmt.Sprintf("dlv_l%d", i), sb.EventSubAccountCreated, t0, ptr(t0)))
	}
	lease := t0.Add(time.Minute)
	var first []*sb.Delivery
	release, firstErr := holdOpen(t, s, func(tx app.Tx) (err error) {
		first, err = tx.ClaimDueDeliveries(ctx, t0, lease, 2)
		return err
	})
	defer release()
	// The first transaction is still open and holds its rows.
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var second []*sb.Delivery
	err := s.Update(waitCtx, func(tx app.Tx) (err error) {
		second, err = tx.ClaimDueDeliveries(waitCtx, t0, lease, 10)
		return err
	})
	if err != nil {
		t.Fatalf("second claim while the first is open: %v (did it wait for the first's rows?)", err)
	}
	release()
	if err := <-firstErr; err != nil {
		t.Fatalf("first claim: %v", err)
	}
	wantEqual(t, "first claimer", deliveryIDs(first), []string{"dlv_l0", "dlv_l1"})
	wantEqual(t, "second claimer", deliveryIDs(second), []string{"dlv_l2", "dlv_l3"})
	wantEqual(t, "claim after both committed", deliveryIDs(claimDue(t, s, t0, lease, 10)), []string{})
}

func testDeliveryAttempts(t *testing.T, s app.Store) {
	m := insertMain(t, s, "Main", nil, t0)
	d := newDelivery(m, "dlv_attempts", sb.EventCredentialRotated, t0, ptr(t0))
	insertDeliveries(t, s, d)
	lease := t0.Add(time.Minute)
	wantEqual(t, "claim", deliveryIDs(claimDue(t, s, t0, lease, 1)), []string{d.ID})

	// A failed attempt with a retry due before the lease would end.
	first := sb.DeliveryAttempt{At: t0.Add(2 * time.Second), StatusCode: ptr(503), DurationMS: 120}
	next := t0.Add(30 * time.Second)
	recordAttempt(t, s, d.ID, first, sb.DeliveryPending, &next, t0.Add(3*time.Second))
	want := storedDelivery(d)
	want.Attempts = []sb.DeliveryAttempt{{At: sb.NormalizeTime(first.At), StatusCode: ptr(503), DurationMS: 120}}
	want.NextAttemptAt = ptr(sb.NormalizeTime(next))
	want.UpdatedAt = sb.NormalizeTime(t0.Add(3 * time.Second))
	wantDelivery(t, s, "after a failed attempt", m.ID, want)
	// The lease is cleared: due again at next, before the lease's end.
	wantEqual(t, "claim at the retry", deliveryIDs(claimDue(t, s, next, lease, 10)), []string{d.ID})

	// The last attempt: an error and no status code; final.
	second := sb.DeliveryAttempt{At: next.Add(time.Second), Error: ptr(`dial tcp 203.0.113.9:443: "refused" ✗`), DurationMS: 10_000}
	recordAttempt(t, s, d.ID, second, sb.DeliveryFailed, nil, next.Add(11*time.Second))
	want.Attempts = append(want.Attempts, sb.DeliveryAttempt{At: sb.NormalizeTime(second.At), Error: second.Error, DurationMS: 10_000})
	want.Status, want.NextAttemptAt = sb.DeliveryFailed, nil
	want.UpdatedAt = sb.NormalizeTime(next.Add(11 * time.Second))
	wantDelivery(t, s, "after the final attempt", m.ID, want)
	wantEqual(t, "claim of a failed delivery", deliveryIDs(claimDue(t, s, t0.Add(time.Hour), t0.Add(2*time.Hour), 10)), []string{})

	wantCode(t, s.Update(t.Context(), func(tx app.Tx) error {
		return tx.RecordDeliveryAttempt(t.Context(), "dlv_unknown", first, sb.DeliveryFailed, nil, t0)
	}), sb.ENotFound)
}

func testListDeliveries(t *testing.T, s app.Store) {
	m := insertMain(t, s, "Main", nil, t0)
	other := insertMain(t, s, "Other", nil, t0)
	m1 := newDelivery(m, "dlv_m1", sb.EventSubAccountCreated, t0, ptr(t0))
	m2 := newDelivery(m, "dlv_m2", sb.EventSubAccountUpdated, t0.Add(time.Minute), nil)
	m2.Status = sb.DeliverySucceeded
	m3 := newDelivery(m, "dlv_m3", sb.EventSubAccountCreated, t0.Add(time.Minute), nil) // same time as m2: by id
	m3.Status = sb.DeliveryFailed
	m4 := newDelivery(m, "dlv_m4", sb.EventCredentialRotated, t0.Add(2*time.Minute), ptr(t0))
	o1 := newDelivery(other, "dlv_o1", sb.EventSubAccountCreated, t0.Add(3*time.Minute), ptr(t0))
	insertDeliveries(t, s, m1, m2, m3, m4, o1)

	list := func(tenant int64, f app.DeliveryFilter) ([]*sb.Delivery, int) {
		t.Helper()
		type page struct {
			items []*sb.Delivery
			total int
		}
		p := mustRead(t, s, func(tx app.Tx) (p page, err error) {
			p.items, p.total, err = tx.ListDeliveries(t.Context(), tenant, f)
			return p, err
		})
		return p.items, p.total
	}
	tests := []struct {
		name   string
		tenant int64
		filter app.DeliveryFilter
		want   []string
		total  int
	}{
		{"all, newest first, ties by id", m.ID, app.DeliveryFilter{}, []string{"dlv_m4", "dlv_m3", "dlv_m2", "dlv_m1"}, 4},
		{"event", m.ID, app.DeliveryFilter{Event: sb.EventSubAccountCreated}, []string{"dlv_m3", "dlv_m1"}, 2},
		{"event_id", m.ID, app.DeliveryFilter{EventID: m2.EventID}, []string{"dlv_m2"}, 1},
		{"another tenant's event_id", m.ID, app.DeliveryFilter{EventID: o1.EventID}, []string{}, 0},
		{"status pending", m.ID, app.DeliveryFilter{Status: sb.DeliveryPending}, []string{"dlv_m4", "dlv_m1"}, 2},
		{"status failed", m.ID, app.DeliveryFilter{Status: sb.DeliveryFailed}, []string{"dlv_m3"}, 1},
		{"filters combine", m.ID, app.DeliveryFilter{Event: sb.EventSubAccountCreated, Status: sb.DeliveryPending}, []string{"dlv_m1"}, 1},
		{"no match", m.ID, app.DeliveryFilter{Event: "balance.low"}, []string{}, 0},
		{"page", m.ID, app.DeliveryFilter{Offset: 1, Limit: 2}, []string{"dlv_m3", "dlv_m2"}, 4},
		{"past the end", m.ID, app.DeliveryFilter{Offset: 4, Limit: 2}, []string{}, 4},
		{"other tenant", other.ID, app.DeliveryFilter{}, []string{"dlv_o1"}, 1},
		{"unknown tenant", 999_999_999, app.DeliveryFilter{}, []string{}, 0},
	}
	for _, tt := range tests {
		items, total := list(tt.tenant, tt.filter)
		wantEqual(t, tt.name, deliveryIDs(items), tt.want)
		wantEqual(t, tt.name+" total", total, tt.total)
	}
	items, _ := list(m.ID, app.DeliveryFilter{Event: sb.EventSubAccountUpdated})
	wantEqual(t, "list item", items, []*sb.Delivery{storedDelivery(m2)})
}

func testRetryDelivery(t *testing.T, s app.Store) {
	ctx := t.Context()
	m := insertMain(t, s, "Main", nil, t0)
	other := insertMain(t, s, "Other", nil, t0)
	d := newDelivery(m, "dlv_retry", sb.EventSubAccountDisabled, t0, nil)
	d.Status = sb.DeliveryFailed
	d.Attempts = []sb.DeliveryAttempt{{At: t0, StatusCode: ptr(500), DurationMS: 7}}
	insertDeliveries(t, s, d)
	retry := func(tenant int64, id string, now time.Time) error {
		return s.Update(ctx, func(tx app.Tx) error { return tx.RetryDelivery(ctx, tenant, id, now) })
	}

	wantCode(t, retry(other.ID, d.ID, t0), sb.ENotFound)
	wantCode(t, retry(m.ID, "dlv_unknown", t0), sb.ENotFound)
	wantDelivery(t, s, "after a foreign retry", m.ID, storedDelivery(d))

	now := t0.Add(time.Hour)
	if err := retry(m.ID, d.ID, now); err != nil {
		t.Fatal(err)
	}
	want := storedDelivery(d)
	want.Status, want.NextAttemptAt, want.UpdatedAt = sb.DeliveryPending, ptr(sb.NormalizeTime(now)), sb.NormalizeTime(now)
	wantDelivery(t, s, "retried", m.ID, want)
	wantEqual(t, "claim after retry", deliveryIDs(claimDue(t, s, now, now.Add(time.Minute), 10)), []string{d.ID})

	// A retry drops a lease: due at once.
	later := now.Add(time.Second)
	if err := retry(m.ID, d.ID, later); err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "claim after retry of a leased delivery", deliveryIDs(claimDue(t, s, later, later.Add(time.Minute), 10)), []string{d.ID})
}

func testPurgeDeliveries(t *testing.T, s app.Store) {
	m := insertMain(t, s, "Main", nil, t0)
	other := insertMain(t, s, "Other", nil, t0)
	old := newDelivery(m, "dlv_old", sb.EventSubAccountCreated, t0, nil)
	kept := newDelivery(m, "dlv_kept", sb.EventSubAccountCreated, t0.Add(time.Hour), ptr(t0))
	otherOld := newDelivery(other, "dlv_other_old", sb.EventSubAccountCreated, t0.Add(30*time.Minute), nil)
	insertDeliveries(t, s, old, kept, otherOld)
	purge := func(before time.Time) int {
		t.Helper()
		var n int
		update(t, s, func(tx app.Tx) (err error) {
			n, err = tx.PurgeDeliveries(t.Context(), before)
			return err
		})
		return n
	}
	pending := func() int {
		t.Helper()
		return mustRead(t, s, func(tx app.Tx) (int, error) { return tx.CountPendingDeliveries(t.Context()) })
	}
	if n := pending(); n != 3 {
		t.Fatalf("CountPendingDeliveries = %d, want 3 (every tenant)", n)
	}
	if n := purge(kept.CreatedAt); n != 2 { // strictly before: kept stays
		t.Fatalf("PurgeDeliveries removed %d, want 2", n)
	}
	for _, d := range []*sb.Delivery{old, otherOld} {
		_, err := getDelivery(t, s, d.TenantID, d.ID)
		wantCode(t, err, sb.ENotFound)
	}
	wantDelivery(t, s, "kept delivery", m.ID, storedDelivery(kept))
	if n := purge(kept.CreatedAt); n != 0 {
		t.Fatalf("second purge removed %d, want 0", n)
	}
	if n := pending(); n != 1 {
		t.Fatalf("CountPendingDeliveries after purge = %d, want 1", n)
	}
}

// testResetAllEvents: ResetAll also clears idempotency keys, the audit log
// and the outbox; the audit chain starts again from the genesis hash.
func testResetAllEvents(t *testing.T, s app.Store) {
	ctx := t.Context()
	m := insertMain(t, s, "Main", nil, t0)
	url := "https://hooks.example.test/reset"
	d := newDelivery(m, "dlv_reset", sb.EventSubAccountCreated, t0, ptr(t0))
	key := newKey(m.AuthID, "key", "fp", t0)
	update(t, s, func(tx app.Tx) error {
		if err := tx.SetWebhookEndpoint(ctx, m.ID, sb.WebhookEndpoint{URL: &url, Events: []string{"*"}}); err != nil {
			return err
		}
		if err := tx.InsertDelivery(ctx, d); err != nil {
			return err
		}
		if err := tx.ClaimIdempotencyKey(ctx, key); err != nil {
			return err
		}
		for range 2 {
			if err := tx.AppendAudit(ctx, &sb.AuditRecord{OccurredAt: t0, ActorType: "admin", ActorID: "admin",
				Action: "admin.account.create", Outcome: sb.OutcomeSuccess, StatusCode: 201}); err != nil {
				return err
			}
		}
		return nil
	})

	update(t, s, func(tx app.Tx) error { return tx.ResetAll(ctx) })

	_, err := idemKey(t, s, key.Principal, key.Key, t0)
	wantCode(t, err, sb.ENotFound)
	wantEqual(t, "audit chain after reset", auditIDs(auditChain(t, s, 0, 0)), []int64{})
	_, err = getDelivery(t, s, m.ID, d.ID)
	wantCode(t, err, sb.ENotFound)
	wantEqual(t, "claim after reset", deliveryIDs(claimDue(t, s, t0, t0.Add(time.Minute), 10)), []string{})

	first := &sb.AuditRecord{OccurredAt: t0, ActorType: "admin", ActorID: "admin", Action: "admin.reset",
		Outcome: sb.OutcomeSuccess, StatusCode: 200}
	appendAudit(t, s, first)
	checkChain(t, []*sb.AuditRecord{first})
	if err := claimKey(t, s, key); err != nil {
		t.Fatalf("claim after reset: %v", err)
	}
	again := insertMain(t, s, "Again", nil, t0)
	ep := mustRead(t, s, func(tx app.Tx) (sb.WebhookEndpoint, error) { return tx.WebhookEndpoint(ctx, again.ID) })
	wantEqual(t, "new account's endpoint", ep, sb.WebhookEndpoint{Events: []string{"*"}})
	insertDeliveries(t, s, newDelivery(again, d.ID, sb.EventSubAccountCreated, t0, ptr(t0))) // the id is free again
}
