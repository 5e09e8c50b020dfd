// Package storetest is the conformance suite of app.Store: one set of
// behaviours that every engine (SQLite, PostgreSQL) must show, run by each
// engine's tests with Run. It also provides fresh test databases for both
// engines (SQLiteDSN, PostgresDSN, Engines) to other packages' end-to-end
// tests.
package storetest

import (
	"crypto/sha256"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
)

// Run runs the conformance suite. open is called once per subtest and must
// return a new, empty store with every migration applied, closed when the
// test ends (t.Cleanup). Subtests run in parallel, so open must be safe to
// call concurrently.
func Run(t *testing.T, open func(t *testing.T) app.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s app.Store)
	}{
		{"Schema", testSchema},
		{"SequenceSharedByMainAndSub", testSequence},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"AccountRoundTrip", testAccountRoundTrip},
		{"Uniqueness", testUniqueness},
		{"DeletedSubAccount", testDeletedSubAccount},
		{"Tenancy", testTenancy},
		{"ListSubAccounts", testListSubAccounts},
		{"ListMainAccounts", testListMainAccounts},
		{"UpdateSubAccount", testUpdateSubAccount},
		{"UpdateMainAccount", testUpdateMainAccount},
		{"TouchLastUsed", testTouchLastUsed},
		{"Tokens", testTokens},
		{"RefreshTokens", testRefreshTokens},
		{"Settings", testSettings},
		{"WebhookSecret", testWebhookSecret},
		{"ResetAll", testResetAll},
		{"Rollback", testRollback},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
	runEvents(t, open)
}

// t0 carries nanoseconds and a non-UTC zone, so every write exercises the
// normalization to UTC microseconds.
var t0 = time.Date(2026, 11, 27, 15, 45, 30, 123456789, time.FixedZone("IST", 5*3600+1800))

// firstAccountID is the first id of the account sequence (CONTRACT §0.3).
const firstAccountID = 100001

func ptr[T any](v T) *T { return &v }

// tokenHash is the fake first-token hash that insert stores for a.
func tokenHash(a *sb.Account) []byte { return hash("token:" + a.AuthID) }

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// newMain returns a main account record as the app builds it (no id yet).
func newMain(name string, email *string, created time.Time) *sb.Account {
	return &sb.Account{
		APIID:          sb.NewUUID(),
		AuthID:         sb.NewMainAuthID(),
		Name:           name,
		Email:          email,
		RateLimit:      sb.DefaultMainRateLimit,
		Enabled:        true,
		ParentEnabled:  true,
		KYCMode:        sb.KYCPersonalUse,
		Currency:       sb.DefaultCurrency,
		MaxSubAccounts: sb.DefaultMaxSubAccounts,
		Pricing:        sb.DefaultPricing(),
		Version:        1,
		CreatedAt:      created,
		UpdatedAt:      created,
	}
}

// newSub returns a sub-account record of parent (no id yet).
func newSub(parent *sb.Account, name string, email *string, created time.Time) *sb.Account {
	return &sb.Account{
		APIID:         sb.NewUUID(),
		AuthID:        sb.NewSubAuthID(),
		ParentID:      parent.ID,
		ParentAuthID:  parent.AuthID,
		ParentEnabled: parent.Enabled,
		Name:          name,
		Email:         email,
		RateLimit:     sb.DefaultSubRateLimit,
		Enabled:       true,
		KYCMode:       sb.KYCPersonalUse,
		Currency:      parent.Currency,
		Version:       1,
		CreatedAt:     created,
		UpdatedAt:     created,
	}
}

// tryInsert draws an id for a and writes it with tokenHash(a) and secret.
func tryInsert(t *testing.T, s app.Store, a *sb.Account, secret []byte) error {
	return s.Update(t.Context(), func(tx app.Tx) error {
		id, err := tx.NextAccountID(t.Context())
		if err != nil {
			return err
		}
		a.ID = id
		return tx.InsertAccount(t.Context(), app.NewAccount{Account: a, TokenHash: tokenHash(a), WebhookSecretEnc: secret})
	})
}

// insert is tryInsert that fails the test on error; it returns a.
func insert(t *testing.T, s app.Store, a *sb.Account, secret []byte) *sb.Account {
	t.Helper()
	if err := tryInsert(t, s, a, secret); err != nil {
		t.Fatalf("insert %s: %v", a.Name, err)
	}
	return a
}

func insertMain(t *testing.T, s app.Store, name string, email *string, created time.Time) *sb.Account {
	t.Helper()
	return insert(t, s, newMain(name, email, created), []byte("sealed:"+name))
}

func insertSub(t *testing.T, s app.Store, parent *sb.Account, name string, email *string, created time.Time) *sb.Account {
	t.Helper()
	return insert(t, s, newSub(parent, name, email, created), nil)
}

// stored is what a read of a returns: times in UTC microseconds, the
// parent's auth_id and enabled flag joined in, no sub-account count.
func stored(a, parent *sb.Account) *sb.Account {
	c := *a
	c.CreatedAt = sb.NormalizeTime(c.CreatedAt)
	c.UpdatedAt = sb.NormalizeTime(c.UpdatedAt)
	c.LastUsed = normalizePtr(c.LastUsed)
	c.DeletedAt = normalizePtr(c.DeletedAt)
	c.ParentAuthID, c.ParentEnabled = "", c.Enabled
	if parent != nil {
		c.ParentAuthID, c.ParentEnabled = parent.AuthID, parent.Enabled
	}
	c.SubAccountCount = 0
	return &c
}

func normalizePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	return ptr(sb.NormalizeTime(*t))
}

func withCount(a *sb.Account, n int) *sb.Account {
	c := *a
	c.SubAccountCount = n
	return &c
}

// update runs fn in an Update and fails the test on error.
func update(t *testing.T, s app.Store, fn func(tx app.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// read runs f in a View and returns its result.
func read[T any](t *testing.T, s app.Store, f func(tx app.Tx) (T, error)) (T, error) {
	var v T
	err := s.View(t.Context(), func(tx app.Tx) error {
		var err error
		v, err = f(tx)
		return err
	})
	return v, err
}

// mustRead is read that fails the test on error.
func mustRead[T any](t *testing.T, s app.Store, f func(tx app.Tx) (T, error)) T {
	t.Helper()
	v, err := read(t, s, f)
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	return v
}

// wantCode checks that err is a domain error with the given code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := sb.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

func wantEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%s mismatch (-want +got):\n%s", what, diff)
	}
}

// byAuthID, subAccount and mainAccount read one account.
func byAuthID(t *testing.T, s app.Store, authID string) (*sb.Account, error) {
	return read(t, s, func(tx app.Tx) (*sb.Account, error) { return tx.AccountByAuthID(t.Context(), authID) })
}

func subAccount(t *testing.T, s app.Store, parentID int64, authID string) (*sb.Account, error) {
	return read(t, s, func(tx app.Tx) (*sb.Account, error) { return tx.SubAccount(t.Context(), parentID, authID, false) })
}

// wantSub reads the parent's sub-account and compares it with want.
func wantSub(t *testing.T, s app.Store, what string, parentID int64, authID string, want *sb.Account) {
	t.Helper()
	got, err := subAccount(t, s, parentID, authID)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	wantEqual(t, what, got, want)
}

func mainAccount(t *testing.T, s app.Store, authID string) (*sb.Account, error) {
	return read(t, s, func(tx app.Tx) (*sb.Account, error) { return tx.MainAccount(t.Context(), authID) })
}

func authIDs(list []*sb.Account) []string {
	ids := []string{}
	for _, a := range list {
		ids = append(ids, a.AuthID)
	}
	return ids
}

func testSchema(t *testing.T, s app.Store) {
	current, err := s.SchemaCurrent(t.Context())
	if err != nil || !current {
		t.Fatalf("SchemaCurrent = %v, %v; want true", current, err)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if e := s.Engine(); e != "sqlite" && e != "postgres" {
		t.Fatalf("Engine = %q", e)
	}
}

func testSequence(t *testing.T, s app.Store) {
	m := insertMain(t, s, "Main", nil, t0)
	sub := insertSub(t, s, m, "Sub", nil, t0)
	var next int64
	update(t, s, func(tx app.Tx) (err error) {
		next, err = tx.NextAccountID(t.Context())
		return err
	})
	m2 := insertMain(t, s, "Main 2", nil, t0)
	wantEqual(t, "ids", []int64{m.ID, sub.ID, next, m2.ID},
		[]int64{firstAccountID, firstAccountID + 1, firstAccountID + 2, firstAccountID + 3})
}

// testConcurrentUpdates draws ids from many goroutines at once: every
// transaction must succeed (waiting for the others) with a distinct id.
func testConcurrentUpdates(t *testing.T, s app.Store) {
	const n = 20
	ids := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(t.Context(), func(tx app.Tx) (err error) {
				ids[i], err = tx.NextAccountID(t.Context())
				return err
			})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Update: %v", err)
	}
	slices.Sort(ids)
	want := make([]int64, n)
	for i := range want {
		want[i] = firstAccountID + int64(i)
	}
	wantEqual(t, "ids", ids, want)
}

func testAccountRoundTrip(t *testing.T, s app.Store) {
	ctx := t.Context()
	m := newMain("Acme Voice", ptr("ops@acme.test"), t0)
	m.Phone = ptr("+14155550100")
	m.RateLimit = 6500
	m.MaxSubAccounts = 250
	m.LowBalanceThreshold = 12_500_000
	m.Pricing = sb.Pricing{OutboundRatePerMinute: 500_000, InboundRatePerMinute: 6_500, BillingIncrementSeconds: 6, MinimumDurationSeconds: 30}
	m.PasswordHash = "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA"
	m.Version = 3
	m.UpdatedAt = t0.Add(time.Hour)
	m.LastUsed = ptr(t0.Add(2 * time.Hour))
	insert(t, s, m, []byte("sealed"))

	full := newSub(m, "Support Team", ptr("support@example.test"), t0.Add(time.Minute))
	full.Phone = ptr("+918000000001")
	full.Description = ptr("Support line")
	full.Permissions = &sb.Permissions{Calls: true, CDR: false}
	full.RateLimit = 1234
	full.Enabled = false
	full.EmailVerified = true
	full.KYCMode = sb.KYCCustomerUse
	full.BusinessType = ptr("llp")
	full.KYCCallsBlocked = true
	full.PasswordHash = "hash"
	full.Version = 7
	full.UpdatedAt = t0.Add(3 * time.Minute)
	full.LastUsed = ptr(t0.Add(4 * time.Minute))
	insert(t, s, full, nil)

	// Permissions set with every flag false must not read back as nil
	// (nil means "everything allowed").
	denied := newSub(m, "Denied", nil, t0.Add(2*time.Minute))
	denied.Permissions = &sb.Permissions{}
	insert(t, s, denied, nil)
	bare := insertSub(t, s, m, "Bare", nil, t0.Add(2*time.Minute))

	for _, a := range []*sb.Account{m, full, denied, bare} {
		parent := m
		if a == m {
			parent = nil
		}
		want := stored(a, parent)
		got, err := byAuthID(t, s, a.AuthID)
		if err != nil {
			t.Fatalf("AccountByAuthID(%s): %v", a.Name, err)
		}
		wantEqual(t, "AccountByAuthID "+a.Name, got, want)
		for _, tm := range []time.Time{got.CreatedAt, got.UpdatedAt} {
			if tm.Location() != time.UTC {
				t.Fatalf("%s: time %v not in UTC", a.Name, tm)
			}
		}
		if got.LastUsed != nil && got.LastUsed.Location() != time.UTC {
			t.Fatalf("%s: last_used %v not in UTC", a.Name, got.LastUsed)
		}
		if a.Email != nil {
			got, err := read(t, s, func(tx app.Tx) (*sb.Account, error) { return tx.AccountByEmail(ctx, *a.Email) })
			if err != nil {
				t.Fatalf("AccountByEmail(%s): %v", *a.Email, err)
			}
			wantEqual(t, "AccountByEmail "+a.Name, got, want)
		}
		if parent != nil {
			wantSub(t, s, "SubAccount "+a.Name, m.ID, a.AuthID, want)
			// The same row, locked for update inside a write transaction.
			update(t, s, func(tx app.Tx) error {
				got, err := tx.SubAccount(ctx, m.ID, a.AuthID, true)
				if err != nil {
					return err
				}
				wantEqual(t, "SubAccount for update "+a.Name, got, want)
				return nil
			})
		}
	}
	if got := mustRead(t, s, func(tx app.Tx) ([]sb.StoredToken, error) { return tx.LiveTokens(ctx, full.ID, t0) }); len(got) != 1 || !slices.Equal(got[0].Hash, tokenHash(full)) || got[0].ExpiresAt != nil {
		t.Fatalf("first token of %s = %+v, want the current token", full.Name, got)
	}

	got, err := mainAccount(t, s, m.AuthID)
	if err != nil {
		t.Fatalf("MainAccount: %v", err)
	}
	wantEqual(t, "MainAccount", got, withCount(stored(m, nil), 3))

	// denied and bare share created_at: the later id comes first.
	subs, total := listSubs(t, s, m.ID, app.SubAccountFilter{Limit: 10})
	wantEqual(t, "ListSubAccounts", subs, []*sb.Account{stored(bare, m), stored(denied, m), stored(full, m)})
	wantEqual(t, "ListSubAccounts total", total, 3)
	mains, total := listMains(t, s, app.MainAccountFilter{Limit: 10})
	wantEqual(t, "ListMainAccounts", mains, []*sb.Account{withCount(stored(m, nil), 3)})
	wantEqual(t, "ListMainAccounts total", total, 1)
}

type page struct {
	list  []*sb.Account
	total int
}

func listSubs(t *testing.T, s app.Store, parentID int64, f app.SubAccountFilter) ([]*sb.Account, int) {
	t.Helper()
	p := mustRead(t, s, func(tx app.Tx) (p page, err error) {
		p.list, p.total, err = tx.ListSubAccounts(t.Context(), parentID, f)
		return p, err
	})
	return p.list, p.total
}

func listMains(t *testing.T, s app.Store, f app.MainAccountFilter) ([]*sb.Account, int) {
	t.Helper()
	p := mustRead(t, s, func(tx app.Tx) (p page, err error) {
		p.list, p.total, err = tx.ListMainAccounts(t.Context(), f)
		return p, err
	})
	return p.list, p.total
}

func countSubs(t *testing.T, s app.Store, parentID int64) int {
	t.Helper()
	return mustRead(t, s, func(tx app.Tx) (int, error) { return tx.CountSubAccounts(t.Context(), parentID) })
}

func countMains(t *testing.T, s app.Store) int {
	t.Helper()
	return mustRead(t, s, func(tx app.Tx) (int, error) { return tx.CountMainAccounts(t.Context()) })
}

func liveTokens(t *testing.T, s app.Store, accountID int64, now time.Time) []sb.StoredToken {
	t.Helper()
	return mustRead(t, s, func(tx app.Tx) ([]sb.StoredToken, error) { return tx.LiveTokens(t.Context(), accountID, now) })
}

// testUniqueness: emails are unique among live accounts of both kinds,
// auth_ids are unique, and a refused write leaves nothing behind.
func testUniqueness(t *testing.T, s app.Store) {
	ctx := t.Context()
	m := insertMain(t, s, "Taken", ptr("dup@example.test"), t0)

	wantCode(t, tryInsert(t, s, newMain("Other main", ptr("dup@example.test"), t0), nil), sb.EAlreadyExists)
	wantCode(t, tryInsert(t, s, newSub(m, "Other sub", ptr("dup@example.test"), t0), nil), sb.EAlreadyExists)
	sameAuthID := newMain("Same auth_id", nil, t0)
	sameAuthID.AuthID = m.AuthID
	wantCode(t, tryInsert(t, s, sameAuthID, nil), sb.EAlreadyExists)

	// Any number of accounts may have no email.
	insertSub(t, s, m, "No email 1", nil, t0)
	insertSub(t, s, m, "No email 2", nil, t0)
	if n := countMains(t, s); n != 1 {
		t.Fatalf("CountMainAccounts = %d after refused inserts, want 1", n)
	}

	// Updates to a taken email are refused too, and change nothing.
	other := insertMain(t, s, "Other", ptr("other@example.test"), t0)
	changed := *other
	changed.Email, changed.Name = ptr("dup@example.test"), "Renamed"
	wantCode(t, s.Update(ctx, func(tx app.Tx) error { return tx.UpdateMainAccount(ctx, &changed) }), sb.EAlreadyExists)
	got, err := mainAccount(t, s, other.AuthID)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "main account after refused update", got, stored(other, nil))

	sub := insertSub(t, s, m, "Sub", ptr("sub@example.test"), t0)
	changedSub := *sub
	changedSub.Email = ptr("other@example.test")
	wantCode(t, s.Update(ctx, func(tx app.Tx) error { return tx.UpdateSubAccount(ctx, m.ID, &changedSub) }), sb.EAlreadyExists)
	wantSub(t, s, "sub-account after refused update", m.ID, sub.AuthID, stored(sub, m))
}

// testDeletedSubAccount: a deleted sub-account disappears from every read,
// loses its tokens, frees its email but never its auth_id.
func testDeletedSubAccount(t *testing.T, s app.Store) {
	ctx := t.Context()
	m := insertMain(t, s, "Main", nil, t0)
	sub := insertSub(t, s, m, "Gone", ptr("gone@example.test"), t0)
	keep := insertSub(t, s, m, "Kept", nil, t0)

	update(t, s, func(tx app.Tx) error { return tx.DeleteSubAccount(ctx, m.ID, sub.ID, t0.Add(time.Hour)) })

	_, err := subAccount(t, s, m.ID, sub.AuthID)
	wantCode(t, err, sb.ENotFound)
	_, err = byAuthID(t, s, sub.AuthID)
	wantCode(t, err, sb.ENotFound)
	_, err = read(t, s, func(tx app.Tx) (*sb.Account, error) { return tx.AccountByEmail(ctx, "gone@example.test") })
	wantCode(t, err, sb.ENotFound)
	if got := liveTokens(t, s, sub.ID, t0); len(got) != 0 {
		t.Fatalf("deleted sub-account still has tokens %+v", got)
	}
	if n := countSubs(t, s, m.ID); n != 1 {
		t.Fatalf("CountSubAccounts = %d, want 1", n)
	}
	list, total := listSubs(t, s, m.ID, app.SubAccountFilter{Limit: 10})
	wantEqual(t, "list after delete", authIDs(list), []string{keep.AuthID})
	wantEqual(t, "total after delete", total, 1)
	got, err := mainAccount(t, s, m.AuthID)
	if err != nil || got.SubAccountCount != 1 {
		t.Fatalf("MainAccount = %+v, %v; want SubAccountCount 1", got, err)
	}

	// Every write to the deleted sub-account is not_found.
	wantCode(t, s.Update(ctx, func(tx app.Tx) error { return tx.DeleteSubAccount(ctx, m.ID, sub.ID, t0) }), sb.ENotFound)
	wantCode(t, s.Update(ctx, func(tx app.Tx) error { return tx.UpdateSubAccount(ctx, m.ID, sub) }), sb.ENotFound)
	wantCode(t, s.Update(ctx, func(tx app.Tx) error { return tx.TouchLastUsed(ctx, sub.ID, t0) }), sb.ENotFound)
	wantCode(t, s.Update(ctx, func(tx app.Tx) error {
		return tx.RotateToken(ctx, sub.ID, sb.Rotation{NewHash: hash("new")})
	}), sb.ENotFound)

	// The email is free again; the auth_id is not.
	insertSub(t, s, m, "Email reused", ptr("gone@example.test"), t0)
	again := newSub(m, "auth_id reused", nil, t0)
	again.AuthID = sub.AuthID
	wantCode(t, tryInsert(t, s, again, nil), sb.EAlreadyExists)
}

// testTenancy: another parent's id is not_found for every sub-account
// read and write, and leaves the row unchanged.
func testTenancy(t *testing.T, s app.Store) {
	ctx := t.Context()
	a := insertMain(t, s, "Tenant A", nil, t0)
	b := insertMain(t, s, "Tenant B", nil, t0)
	subA := insertSub(t, s, a, "A's sub", ptr("a-sub@example.test"), t0)

	_, err := subAccount(t, s, b.ID, subA.AuthID)
	wantCode(t, err, sb.ENotFound)
	wantCode(t, s.Update(ctx, func(tx app.Tx) error {
		_, err := tx.SubAccount(ctx, b.ID, subA.AuthID, true)
		return err
	}), sb.ENotFound)
	_, err = subAccount(t, s, a.ID, b.AuthID) // a main account is no one's sub-account
	wantCode(t, err, sb.ENotFound)

	hijacked := *subA
	hijacked.Name, hijacked.Enabled, hijacked.Version = "hijacked", false, 2
	wantCode(t, s.Update(ctx, func(tx app.Tx) error { return tx.UpdateSubAccount(ctx, b.ID, &hijacked) }), sb.ENotFound)
	wantCode(t, s.Update(ctx, func(tx app.Tx) error { return tx.DeleteSubAccount(ctx, b.ID, subA.ID, t0) }), sb.ENotFound)

	wantSub(t, s, "sub-account after foreign writes", a.ID, subA.AuthID, stored(subA, a))
	if got := liveTokens(t, s, subA.ID, t0); len(got) != 1 {
		t.Fatalf("tokens after foreign delete = %+v, want 1", got)
	}

	list, total := listSubs(t, s, b.ID, app.SubAccountFilter{Limit: 10})
	if len(list) != 0 || total != 0 {
		t.Fatalf("B lists %d of %d sub-accounts, want none", len(list), total)
	}
	if n := countSubs(t, s, b.ID); n != 0 {
		t.Fatalf("CountSubAccounts(B) = %d, want 0", n)
	}

	// Main-account operations do not accept a sub-account.
	_, err = mainAccount(t, s, subA.AuthID)
	wantCode(t, err, sb.ENotFound)
	asMain := *subA
	asMain.Name = "hijacked"
	wantCode(t, s.Update(ctx, func(tx app.Tx) error { return tx.UpdateMainAccount(ctx, &asMain) }), sb.ENotFound)
	_, err = read(t, s, func(tx app.Tx) ([]byte, error) { return tx.WebhookSecret(ctx, subA.ID) })
	wantCode(t, err, sb.ENotFound)
	wantCode(t, s.Update(ctx, func(tx app.Tx) error { return tx.SetWebhookSecret(ctx, subA.ID, []byte("x")) }), sb.ENotFound)
	wantSub(t, s, "sub-account after main-account writes", a.ID, subA.AuthID, stored(subA, a))
}

func testListSubAccounts(t *testing.T, s app.Store) {
	ctx := t.Context()
	m := insertMain(t, s, "Main", nil, t0)
	other := insertMain(t, s, "Other", nil, t0)
	insertSub(t, s, other, "Alpha of another tenant", ptr("alpha@other.test"), t0.Add(10*time.Minute))

	mk := func(name string, email *string, created time.Duration, mode string, enabled bool) *sb.Account {
		a := newSub(m, name, email, t0.Add(created))
		a.KYCMode, a.Enabled = mode, enabled
		return insert(t, s, a, nil)
	}
	alpha := mk("Alpha Support", ptr("alpha@example.test"), 0, sb.KYCPersonalUse, true)
	beta := mk("Beta 100% Club", ptr("beta@club.test"), time.Minute, sb.KYCCustomerUse, true)
	gamma := mk("gamma_ops", ptr("ops@gamma.test"), time.Minute, sb.KYCPersonalUse, false) // same time as beta, later id
	delta := mk("Delta", ptr("delta_x@example.test"), 2*time.Minute, sb.KYCCustomerUse, false)
	eps := mk(`Epsilon\Back`, nil, 3*time.Minute, sb.KYCPersonalUse, true)
	deleted := mk("Alpha deleted", nil, 4*time.Minute, sb.KYCPersonalUse, true)
	update(t, s, func(tx app.Tx) error { return tx.DeleteSubAccount(ctx, m.ID, deleted.ID, t0) })

	ids := func(as ...*sb.Account) []string { return authIDs(as) }
	all := ids(eps, delta, gamma, beta, alpha)
	tests := []struct {
		name   string
		filter app.SubAccountFilter
		want   []string
		total  int
	}{
		{"all newest first, ties by id", app.SubAccountFilter{}, all, 5},
		{"active only", app.SubAccountFilter{ActiveOnly: true}, ids(eps, beta, alpha), 3},
		{"kyc_mode", app.SubAccountFilter{KYCMode: sb.KYCCustomerUse}, ids(delta, beta), 2},
		{"search name, case-insensitive", app.SubAccountFilter{Search: "ALPHA"}, ids(alpha), 1},
		{"search email", app.SubAccountFilter{Search: "example.TEST"}, ids(delta, alpha), 2},
		{"search percent is literal", app.SubAccountFilter{Search: "%"}, ids(beta), 1},
		{"search underscore is literal", app.SubAccountFilter{Search: "_"}, ids(delta, gamma), 2},
		{"search backslash is literal", app.SubAccountFilter{Search: `\`}, ids(eps), 1},
		{"search no match", app.SubAccountFilter{Search: "zeta"}, ids(), 0},
		{"filters combine", app.SubAccountFilter{ActiveOnly: true, KYCMode: sb.KYCCustomerUse, Search: "club"}, ids(beta), 1},
		{"first page", app.SubAccountFilter{Offset: 0, Limit: 2}, all[:2], 5},
		{"middle page", app.SubAccountFilter{Offset: 2, Limit: 2}, all[2:4], 5},
		{"last page", app.SubAccountFilter{Offset: 4, Limit: 2}, all[4:], 5},
		{"past the end", app.SubAccountFilter{Offset: 10, Limit: 2}, ids(), 5},
		{"page of a filter", app.SubAccountFilter{ActiveOnly: true, Offset: 1, Limit: 1}, ids(beta), 3},
	}
	for _, tt := range tests {
		f := tt.filter
		if f.Limit == 0 {
			f.Limit = 25
		}
		list, total := listSubs(t, s, m.ID, f)
		wantEqual(t, tt.name, authIDs(list), tt.want)
		wantEqual(t, tt.name+" total", total, tt.total)
	}

	list, _ := listSubs(t, s, m.ID, app.SubAccountFilter{Search: "gamma", Limit: 25})
	wantEqual(t, "list item", list, []*sb.Account{stored(gamma, m)})
	if n := countSubs(t, s, m.ID); n != 5 {
		t.Fatalf("CountSubAccounts = %d, want 5", n)
	}
}

func testListMainAccounts(t *testing.T, s app.Store) {
	ctx := t.Context()
	acme := insertMain(t, s, "Acme Voice", ptr("ops@acme.test"), t0)
	beta := newMain("Beta_Telecom", nil, t0.Add(time.Minute))
	beta.Enabled = false
	insert(t, s, beta, nil)
	gamma := insertMain(t, s, "Gamma 50%", ptr("billing@gamma.test"), t0.Add(time.Minute)) // same time as beta, later id
	insertSub(t, s, acme, "Acme 1", ptr("acme1@acme.test"), t0)
	insertSub(t, s, acme, "Acme 2", nil, t0)
	gone := insertSub(t, s, acme, "Acme gone", nil, t0)
	update(t, s, func(tx app.Tx) error { return tx.DeleteSubAccount(ctx, acme.ID, gone.ID, t0) })
	insertSub(t, s, gamma, "Gamma 1", nil, t0)

	if n := countMains(t, s); n != 3 {
		t.Fatalf("CountMainAccounts = %d, want 3", n)
	}
	ids := func(as ...*sb.Account) []string { return authIDs(as) }
	tests := []struct {
		name   string
		filter app.MainAccountFilter
		want   []string
		total  int
	}{
		{"all newest first, ties by id", app.MainAccountFilter{}, ids(gamma, beta, acme), 3},
		{"enabled", app.MainAccountFilter{Enabled: ptr(true)}, ids(gamma, acme), 2},
		{"disabled", app.MainAccountFilter{Enabled: ptr(false)}, ids(beta), 1},
		{"search name", app.MainAccountFilter{Search: "acme"}, ids(acme), 1},
		{"search email", app.MainAccountFilter{Search: "GAMMA.test"}, ids(gamma), 1},
		{"search underscore is literal", app.MainAccountFilter{Search: "_"}, ids(beta), 1},
		{"search percent is literal", app.MainAccountFilter{Search: "%"}, ids(gamma), 1},
		{"page", app.MainAccountFilter{Offset: 1, Limit: 1}, ids(beta), 3},
		{"past the end", app.MainAccountFilter{Offset: 3, Limit: 1}, ids(), 3},
	}
	for _, tt := range tests {
		f := tt.filter
		if f.Limit == 0 {
			f.Limit = 25
		}
		list, total := listMains(t, s, f)
		wantEqual(t, tt.name, authIDs(list), tt.want)
		wantEqual(t, tt.name+" total", total, tt.total)
	}

	list, _ := listMains(t, s, app.MainAccountFilter{Limit: 25})
	wantEqual(t, "list items", list, []*sb.Account{
		withCount(stored(gamma, nil), 1), stored(beta, nil), withCount(stored(acme, nil), 2),
	})
}

func testUpdateSubAccount(t *testing.T, s app.Store) {
	ctx := t.Context()
	m := insertMain(t, s, "Main", nil, t0)
	sub := newSub(m, "Before", ptr("before@example.test"), t0)
	sub.Phone = ptr("+14155550100")
	sub.Permissions = &sb.Permissions{Calls: true, CDR: true}
	insert(t, s, sub, nil)

	u := *sub
	u.Name = "After"
	u.Email = ptr("after@example.test")
	u.Phone = nil
	u.Description = ptr("now described")
	u.Permissions = nil
	u.RateLimit = 50
	u.Enabled = false
	u.EmailVerified = true
	u.KYCMode = sb.KYCCustomerUse
	u.BusinessType = ptr("trust")
	u.KYCCallsBlocked = true
	u.PasswordHash = "new hash"
	u.Version = 2
	u.UpdatedAt = t0.Add(time.Hour)
	// Not mutable: ignored by the update.
	u.APIID, u.Currency, u.CreatedAt = "changed", "USD", t0.Add(5*time.Hour)
	update(t, s, func(tx app.Tx) error { return tx.UpdateSubAccount(ctx, m.ID, &u) })

	want := u
	want.APIID, want.Currency, want.CreatedAt = sub.APIID, sub.Currency, sub.CreatedAt
	wantSub(t, s, "updated sub-account", m.ID, sub.AuthID, stored(&want, m))

	// And back to non-nil permissions.
	want.Permissions, want.Version = &sb.Permissions{Calls: false, CDR: true}, 3
	update(t, s, func(tx app.Tx) error { return tx.UpdateSubAccount(ctx, m.ID, &want) })
	wantSub(t, s, "sub-account with permissions", m.ID, sub.AuthID, stored(&want, m))
}

func testUpdateMainAccount(t *testing.T, s app.Store) {
	ctx := t.Context()
	m := insertMain(t, s, "Before", ptr("before@example.test"), t0)
	sub := insertSub(t, s, m, "Sub", nil, t0)

	u := *m
	u.Name = "After"
	u.Email = nil
	u.Phone = ptr("+14155550199")
	u.PasswordHash = "new hash"
	u.Enabled = false
	u.RateLimit = 10
	u.MaxSubAccounts = 5
	u.LowBalanceThreshold = -1_500_000
	u.Pricing = sb.Pricing{OutboundRatePerMinute: 1, InboundRatePerMinute: 2, BillingIncrementSeconds: 1, MinimumDurationSeconds: 3600}
	u.Version = 2
	u.UpdatedAt = t0.Add(time.Hour)
	// Not mutable here: ignored by the update.
	u.APIID, u.Currency, u.CreatedAt = "changed", "USD", t0.Add(5*time.Hour)
	update(t, s, func(tx app.Tx) error { return tx.UpdateMainAccount(ctx, &u) })

	want := u
	want.APIID, want.Currency, want.CreatedAt = m.APIID, m.Currency, m.CreatedAt
	got, err := mainAccount(t, s, m.AuthID)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "updated main account", got, withCount(stored(&want, nil), 1))
	if got.ParentEnabled {
		t.Fatal("disabled main account reads ParentEnabled = true")
	}

	// Its sub-accounts see the parent disabled at once.
	gotSub, err := byAuthID(t, s, sub.AuthID)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "sub-account of disabled parent", gotSub, stored(sub, &want))
	if gotSub.ParentEnabled || gotSub.Active() {
		t.Fatalf("sub-account of a disabled parent: ParentEnabled %v, Active %v", gotSub.ParentEnabled, gotSub.Active())
	}
}

func testTouchLastUsed(t *testing.T, s app.Store) {
	ctx := t.Context()
	m := insertMain(t, s, "Main", nil, t0)
	sub := insertSub(t, s, m, "Sub", nil, t0)
	at := t0.Add(3 * time.Hour)
	update(t, s, func(tx app.Tx) error { return tx.TouchLastUsed(ctx, sub.ID, at) })

	want := stored(sub, m)
	want.LastUsed = ptr(sb.NormalizeTime(at)) // version and updated_at unchanged
	got, err := byAuthID(t, s, sub.AuthID)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "touched sub-account", got, want)
	wantCode(t, s.Update(ctx, func(tx app.Tx) error { return tx.TouchLastUsed(ctx, 999_999_999, at) }), sb.ENotFound)
}

func testTokens(t *testing.T, s app.Store) {
	ctx := t.Context()
	m := insertMain(t, s, "Main", nil, t0)
	other := insertMain(t, s, "Other", nil, t0)
	rotate := func(h []byte, prevExpires *time.Time) {
		t.Helper()
		update(t, s, func(tx app.Tx) error {
			return tx.RotateToken(ctx, m.ID, sb.Rotation{NewHash: h, PreviousExpiresAt: prevExpires})
		})
	}
	h0, h1, h2, h3 := tokenHash(m), hash("h1"), hash("h2"), hash("h3")
	// wantTokens checks LiveTokens and Credentials (the one-query read of
	// the authentication path) against want.
	wantTokens := func(label string, now time.Time, want []sb.StoredToken) {
		t.Helper()
		wantEqual(t, label, liveTokens(t, s, m.ID, now), want)
		type creds struct {
			Account *sb.Account
			Tokens  []sb.StoredToken
		}
		got := mustRead(t, s, func(tx app.Tx) (creds, error) {
			a, toks, err := tx.Credentials(ctx, m.AuthID, now)
			return creds{a, toks}, err
		})
		byID := mustRead(t, s, func(tx app.Tx) (*sb.Account, error) { return tx.AccountByAuthID(ctx, m.AuthID) })
		wantEqual(t, label+" (Credentials)", got, creds{byID, want})
	}
	wantTokens("first token", t0, []sb.StoredToken{{Hash: h0}})

	// Rotation with grace: both work until the grace ends.
	exp1 := sb.NormalizeTime(t0.Add(24 * time.Hour))
	rotate(h1, &exp1)
	inGrace := []sb.StoredToken{{Hash: h1}, {Hash: h0, ExpiresAt: &exp1}}
	wantTokens("tokens in grace", t0, inGrace)
	wantEqual(t, "tokens 1µs before the grace ends", liveTokens(t, s, m.ID, exp1.Add(-time.Microsecond)), inGrace)
	wantTokens("tokens when the grace ends", exp1, []sb.StoredToken{{Hash: h1}})

	// Rotating again during the grace ends the older token at once.
	now := t0.Add(time.Hour)
	exp2 := sb.NormalizeTime(now.Add(time.Hour))
	rotate(h2, &exp2)
	wantTokens("tokens after second rotation", now, []sb.StoredToken{{Hash: h2}, {Hash: h1, ExpiresAt: &exp2}})

	// Without grace only the new token is left.
	rotate(h3, nil)
	wantTokens("tokens after rotation without grace", now, []sb.StoredToken{{Hash: h3}})

	// Other accounts are untouched.
	wantEqual(t, "other account's tokens", liveTokens(t, s, other.ID, now), []sb.StoredToken{{Hash: tokenHash(other)}})
	if got := liveTokens(t, s, 999_999_999, now); len(got) != 0 {
		t.Fatalf("tokens of an unknown account: %+v", got)
	}
	_, err := read(t, s, func(tx app.Tx) (*sb.Account, error) {
		a, _, err := tx.Credentials(ctx, "MA_UNKNOWN0", now)
		return a, err
	})
	wantCode(t, err, sb.ENotFound)
	// A sub-account reads with its parent's enabled flag, like AccountByAuthID.
	sub := insert(t, s, newSub(m, "Sub", nil, t0), nil)
	var a *sb.Account
	var toks []sb.StoredToken
	err = s.View(ctx, func(tx app.Tx) (err error) { a, toks, err = tx.Credentials(ctx, sub.AuthID, now); return err })
	if err != nil || a.ParentAuthID != m.AuthID || !a.ParentEnabled || len(toks) != 1 {
		t.Fatalf("Credentials(sub) = %+v, %d tokens, %v", a, len(toks), err)
	}
}

func testRefreshTokens(t *testing.T, s app.Store) {
	ctx := t.Context()
	consume := func(jti string) error {
		return s.Update(ctx, func(tx app.Tx) error { return tx.ConsumeRefreshToken(ctx, jti, t0.Add(7*24*time.Hour)) })
	}
	if err := consume("jti-1"); err != nil {
		t.Fatalf("first use: %v", err)
	}
	wantCode(t, consume("jti-1"), sb.EAlreadyExists)
	if err := consume("jti-2"); err != nil {
		t.Fatalf("another id: %v", err)
	}
	wantCode(t, consume("jti-2"), sb.EAlreadyExists)
}

func testSettings(t *testing.T, s app.Store) {
	ctx := t.Context()
	type setting struct {
		Value string
		OK    bool
	}
	get := func(key string) setting {
		t.Helper()
		return mustRead(t, s, func(tx app.Tx) (setting, error) {
			v, ok, err := tx.GetSetting(ctx, key)
			return setting{v, ok}, err
		})
	}
	put := func(key, value string) {
		t.Helper()
		update(t, s, func(tx app.Tx) error { return tx.PutSetting(ctx, key, value) })
	}
	wantEqual(t, "absent", get("server_key"), setting{})
	put("server_key", "v1")
	wantEqual(t, "inserted", get("server_key"), setting{"v1", true})
	put("server_key", "v2")
	wantEqual(t, "replaced", get("server_key"), setting{"v2", true})
	put("empty", "")
	wantEqual(t, "empty value", get("empty"), setting{"", true})
	wantEqual(t, "other key untouched", get("server_key"), setting{"v2", true})
}

func testWebhookSecret(t *testing.T, s app.Store) {
	ctx := t.Context()
	m := insert(t, s, newMain("Main", nil, t0), []byte("sealed-1"))
	other := insert(t, s, newMain("Other", nil, t0), []byte("sealed-other"))
	secret := func(id int64) ([]byte, error) {
		return read(t, s, func(tx app.Tx) ([]byte, error) { return tx.WebhookSecret(ctx, id) })
	}
	got, err := secret(m.ID)
	if err != nil || string(got) != "sealed-1" {
		t.Fatalf("WebhookSecret = %q, %v; want the inserted one", got, err)
	}
	update(t, s, func(tx app.Tx) error { return tx.SetWebhookSecret(ctx, m.ID, []byte("sealed-2")) })
	if got, err = secret(m.ID); err != nil || string(got) != "sealed-2" {
		t.Fatalf("WebhookSecret = %q, %v; want the replaced one", got, err)
	}
	if got, err = secret(other.ID); err != nil || string(got) != "sealed-other" {
		t.Fatalf("other account's WebhookSecret = %q, %v", got, err)
	}
	_, err = secret(999_999_999)
	wantCode(t, err, sb.ENotFound)
	wantCode(t, s.Update(ctx, func(tx app.Tx) error { return tx.SetWebhookSecret(ctx, 999_999_999, []byte("x")) }), sb.ENotFound)
}

func testResetAll(t *testing.T, s app.Store) {
	ctx := t.Context()
	m := insertMain(t, s, "Main", ptr("main@example.test"), t0)
	sub := insertSub(t, s, m, "Sub", nil, t0)
	gone := insertSub(t, s, m, "Gone", nil, t0)
	var last int64
	update(t, s, func(tx app.Tx) (err error) {
		if err := tx.DeleteSubAccount(ctx, m.ID, gone.ID, t0); err != nil {
			return err
		}
		if err := tx.PutSetting(ctx, "server_key", "kept"); err != nil {
			return err
		}
		if err := tx.ConsumeRefreshToken(ctx, "jti", t0); err != nil {
			return err
		}
		last, err = tx.NextAccountID(ctx)
		return err
	})

	update(t, s, func(tx app.Tx) error { return tx.ResetAll(ctx) })

	if n := countMains(t, s); n != 0 {
		t.Fatalf("CountMainAccounts after reset = %d", n)
	}
	for _, a := range []*sb.Account{m, sub} {
		_, err := byAuthID(t, s, a.AuthID)
		wantCode(t, err, sb.ENotFound)
		if got := liveTokens(t, s, a.ID, t0); len(got) != 0 {
			t.Fatalf("tokens after reset: %+v", got)
		}
	}
	v, ok, err := read2(t, s, func(tx app.Tx) (string, bool, error) { return tx.GetSetting(ctx, "server_key") })
	if err != nil || !ok || v != "kept" {
		t.Fatalf("setting after reset = %q, %v, %v; want kept", v, ok, err)
	}
	if current, err := s.SchemaCurrent(ctx); err != nil || !current {
		t.Fatalf("SchemaCurrent after reset = %v, %v", current, err)
	}
	// The sequence continues; refresh records and emails are free again.
	again := insertMain(t, s, "Again", ptr("main@example.test"), t0)
	if again.ID != last+1 {
		t.Fatalf("first id after reset = %d, want %d", again.ID, last+1)
	}
	if err := s.Update(ctx, func(tx app.Tx) error { return tx.ConsumeRefreshToken(ctx, "jti", t0) }); err != nil {
		t.Fatalf("refresh id after reset: %v", err)
	}
}

func read2[A, B any](t *testing.T, s app.Store, f func(tx app.Tx) (A, B, error)) (a A, b B, err error) {
	err = s.View(t.Context(), func(tx app.Tx) (err error) {
		a, b, err = f(tx)
		return err
	})
	return a, b, err
}

// testRollback: an error or a panic in the callback leaves nothing written.
func testRollback(t *testing.T, s app.Store) {
	ctx := t.Context()
	m := newMain("Rolled back", ptr("rb@example.test"), t0)
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx app.Tx) error {
		id, err := tx.NextAccountID(ctx)
		if err != nil {
			return err
		}
		m.ID = id
		if err := tx.InsertAccount(ctx, app.NewAccount{Account: m, TokenHash: tokenHash(m)}); err != nil {
			return err
		}
		if err := tx.PutSetting(ctx, "k", "v"); err != nil {
			return err
		}
		if err := tx.ConsumeRefreshToken(ctx, "jti", t0); err != nil {
			return err
		}
		// Written data is visible inside the transaction.
		if _, err := tx.AccountByAuthID(ctx, m.AuthID); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Update returned %v, want the callback's error unchanged", err)
	}
	checkNothingWritten := func() {
		t.Helper()
		_, err := byAuthID(t, s, m.AuthID)
		wantCode(t, err, sb.ENotFound)
		if n := countMains(t, s); n != 0 {
			t.Fatalf("CountMainAccounts = %d", n)
		}
		if got := liveTokens(t, s, m.ID, t0); len(got) != 0 {
			t.Fatalf("tokens: %+v", got)
		}
		_, ok, err := read2(t, s, func(tx app.Tx) (string, bool, error) { return tx.GetSetting(ctx, "k") })
		if err != nil || ok {
			t.Fatalf("setting written by a rolled-back transaction (ok %v, err %v)", ok, err)
		}
	}
	checkNothingWritten()

	func() {
		defer func() {
			if r := recover(); r != "panic in callback" {
				t.Fatalf("recovered %v, want the callback's panic", r)
			}
		}()
		s.Update(ctx, func(tx app.Tx) error {
			if err := tx.PutSetting(ctx, "k", "v"); err != nil {
				return err
			}
			panic("panic in callback")
		})
	}()
	checkNothingWritten()

	// The rolled-back draw and refresh record are undone too.
	if err := s.Update(ctx, func(tx app.Tx) error { return tx.ConsumeRefreshToken(ctx, "jti", t0) }); err != nil {
		t.Fatalf("refresh id after rollback: %v", err)
	}
	if a := insertMain(t, s, "After", nil, t0); a.ID != firstAccountID {
		t.Fatalf("id after rollback = %d, want %d", a.ID, firstAccountID)
	}
}
