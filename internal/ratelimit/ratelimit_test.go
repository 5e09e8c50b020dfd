package ratelimit

// Unit tests of the §0.8 limits with explicit times: no sleeps, no wall
// clock. The package's own (internal) view is used only to observe that
// idle state is forgotten.

import (
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 27, 10, 15, 30, 0, time.UTC)

// at is t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

func checkDecision(t *testing.T, what string, got, want Decision) {
	t.Helper()
	if got != want {
		t.Errorf("%s: %+v, want %+v", what, got, want)
	}
}

func TestAccountsCapacity(t *testing.T) {
	a := NewAccounts()
	// A new bucket is full: rate_limit requests pass at one instant.
	// Reset is the time to refill what was spent, at 5/60 tokens a second
	// (12 s a token), rounded up.
	for i := 1; i <= 5; i++ {
		checkDecision(t, fmt.Sprintf("request %d", i), a.Take("SA_A", 5, t0),
			Decision{Allowed: true, Limit: 5, Remaining: 5 - i, Reset: 12 * i})
	}
	// The 6th is refused; a refusal spends nothing, so the 7th sees the same.
	for _, n := range []int{6, 7} {
		checkDecision(t, fmt.Sprintf("request %d", n), a.Take("SA_A", 5, t0),
			Decision{Allowed: false, Limit: 5, Remaining: 0, Reset: 60, RetryAfter: 12})
	}
}

func TestAccountsRefill(t *testing.T) {
	a := NewAccounts()
	// 60 per minute = one token a second.
	for i := 0; i < 60; i++ {
		if d := a.Take("MA_X", 60, t0); !d.Allowed {
			t.Fatalf("request %d refused at a full bucket: %+v", i+1, d)
		}
	}
	checkDecision(t, "empty bucket", a.Take("MA_X", 60, t0),
		Decision{Allowed: false, Limit: 60, Remaining: 0, Reset: 60, RetryAfter: 1})
	// Half a token: still refused, Retry-After rounds up to 1 s, Reset to 60.
	checkDecision(t, "half a token", a.Take("MA_X", 60, at(500*time.Millisecond)),
		Decision{Allowed: false, Limit: 60, Remaining: 0, Reset: 60, RetryAfter: 1})
	// One token after 1 s.
	checkDecision(t, "one token", a.Take("MA_X", 60, at(time.Second)),
		Decision{Allowed: true, Limit: 60, Remaining: 0, Reset: 60})
	// Ten more seconds: ten tokens, one spent.
	checkDecision(t, "ten tokens", a.Take("MA_X", 60, at(11*time.Second)),
		Decision{Allowed: true, Limit: 60, Remaining: 9, Reset: 51})
	// A long idle time fills the bucket, never beyond its capacity.
	checkDecision(t, "after an hour", a.Take("MA_X", 60, at(time.Hour)),
		Decision{Allowed: true, Limit: 60, Remaining: 59, Reset: 1})
}

func TestAccountsSlowRefill(t *testing.T) {
	// 5 per minute: a token every 12 s.
	a := NewAccounts()
	for i := 0; i < 5; i++ {
		a.Take("SA_S", 5, t0)
	}
	for _, c := range []struct {
		after time.Duration
		want  Decision
	}{
		{6 * time.Second, Decision{Allowed: false, Limit: 5, Remaining: 0, Reset: 54, RetryAfter: 6}},
		{12 * time.Second, Decision{Allowed: true, Limit: 5, Remaining: 0, Reset: 60}},
		{18 * time.Second, Decision{Allowed: false, Limit: 5, Remaining: 0, Reset: 54, RetryAfter: 6}},
		// 36 s after the last take (at 12 s): three tokens, one spent.
		{48 * time.Second, Decision{Allowed: true, Limit: 5, Remaining: 2, Reset: 36}},
	} {
		checkDecision(t, fmt.Sprintf("at +%v", c.after), a.Take("SA_S", 5, at(c.after)), c.want)
	}
}

// Regression (found by this suite): rate/60 is not exact in binary, so a
// whole number of seconds used to come out as n+1e-15 and be rounded up to
// n+1 in Retry-After and X-RateLimit-Reset. At 5/min, 11 s after the bucket
// emptied one token is exactly 1 s away; 1 s after it emptied the bucket is
// full again in exactly 59 s.
func TestAccountsWholeSecondArithmetic(t *testing.T) {
	a := NewAccounts()
	for i := 0; i < 5; i++ {
		a.Take("SA_S", 5, t0)
	}
	for _, c := range []struct {
		after time.Duration
		want  Decision
	}{
		{time.Second, Decision{Allowed: false, Limit: 5, Remaining: 0, Reset: 59, RetryAfter: 11}},
		{11 * time.Second, Decision{Allowed: false, Limit: 5, Remaining: 0, Reset: 49, RetryAfter: 1}},
		{12 * time.Second, Decision{Allowed: true, Limit: 5, Remaining: 0, Reset: 60}},
		{13 * time.Second, Decision{Allowed: false, Limit: 5, Remaining: 0, Reset: 59, RetryAfter: 11}},
	} {
		checkDecision(t, fmt.Sprintf("at +%v", c.after), a.Take("SA_S", 5, at(c.after)), c.want)
	}
}

func TestAccountsRetryAfterAtLeastOne(t *testing.T) {
	// At 6000 per minute a token takes 10 ms; Retry-After is still ≥ 1 s.
	a := NewAccounts()
	var d Decision
	for i := 0; i <= 6000; i++ {
		d = a.Take("MA_FAST", 6000, t0)
	}
	if d.Allowed || d.RetryAfter != 1 || d.Remaining != 0 || d.Limit != 6000 {
		t.Errorf("6001st request at one instant: %+v, want refused with RetryAfter 1", d)
	}
	// The limit is clamped to at least 1 per minute.
	b := NewAccounts()
	checkDecision(t, "rate 0 first", b.Take("SA_Z", 0, t0), Decision{Allowed: true, Limit: 1, Remaining: 0, Reset: 60})
	checkDecision(t, "rate 0 second", b.Take("SA_Z", 0, t0), Decision{Allowed: false, Limit: 1, Remaining: 0, Reset: 60, RetryAfter: 60})
}

func TestAccountsResize(t *testing.T) {
	t.Run("grow keeps the tokens held", func(t *testing.T) {
		a := NewAccounts()
		for i := 0; i < 10; i++ {
			a.Take("SA_G", 10, t0)
		}
		// Raised to 20/min: the empty bucket stays empty, refills at the new rate.
		checkDecision(t, "after raising", a.Take("SA_G", 20, t0),
			Decision{Allowed: false, Limit: 20, Remaining: 0, Reset: 60, RetryAfter: 3})
		checkDecision(t, "3 s later", a.Take("SA_G", 20, at(3*time.Second)),
			Decision{Allowed: true, Limit: 20, Remaining: 0, Reset: 60})
		// Full again after a minute, at the new capacity.
		checkDecision(t, "a minute later", a.Take("SA_G", 20, at(63*time.Second)),
			Decision{Allowed: true, Limit: 20, Remaining: 19, Reset: 3})
	})
	t.Run("shrink caps the tokens", func(t *testing.T) {
		a := NewAccounts()
		checkDecision(t, "first at 100", a.Take("SA_H", 100, t0),
			Decision{Allowed: true, Limit: 100, Remaining: 99, Reset: 1})
		// Lowered to 5/min: at most 5 tokens are left.
		checkDecision(t, "first at 5", a.Take("SA_H", 5, t0),
			Decision{Allowed: true, Limit: 5, Remaining: 4, Reset: 12})
		for i := 0; i < 4; i++ {
			a.Take("SA_H", 5, t0)
		}
		checkDecision(t, "6th at 5", a.Take("SA_H", 5, t0),
			Decision{Allowed: false, Limit: 5, Remaining: 0, Reset: 60, RetryAfter: 12})
	})
}

func TestAccountsIndependentBuckets(t *testing.T) {
	a := NewAccounts()
	for i := 0; i < 3; i++ {
		a.Take("SA_ONE", 3, t0)
	}
	if d := a.Take("SA_ONE", 3, t0); d.Allowed {
		t.Fatalf("SA_ONE not limited: %+v", d)
	}
	checkDecision(t, "another auth_id", a.Take("SA_TWO", 3, t0), Decision{Allowed: true, Limit: 3, Remaining: 2, Reset: 20})
	checkDecision(t, "a blockAt with its own limit", a.Take("MA_THREE", 6000, t0), Decision{Allowed: true, Limit: 6000, Remaining: 5999, Reset: 1})
	// auth_ids are case-sensitive (§0.3).
	checkDecision(t, "other case", a.Take("sa_one", 3, t0), Decision{Allowed: true, Limit: 3, Remaining: 2, Reset: 20})
}

func TestAccountsSweep(t *testing.T) {
	a := NewAccounts()
	a.Take("SA_IDLE", 5, t0)
	a.Take("SA_BUSY", 5, at(59*time.Minute))
	if len(a.buckets) != 2 {
		t.Fatalf("%d buckets, want 2", len(a.buckets))
	}
	// 61 minutes after its last use the idle bucket is forgotten; the
	// bucket used 2 minutes ago is kept with its state.
	a.Take("SA_OTHER", 5, at(61*time.Minute))
	if _, ok := a.buckets["SA_IDLE"]; ok {
		t.Errorf("a bucket idle for 61 minutes was kept")
	}
	if _, ok := a.buckets["SA_BUSY"]; !ok {
		t.Errorf("a bucket used 2 minutes ago was swept")
	}
	// Forgetting changes nothing a client sees: the bucket comes back full.
	checkDecision(t, "swept bucket", a.Take("SA_IDLE", 5, at(61*time.Minute)), Decision{Allowed: true, Limit: 5, Remaining: 4, Reset: 12})
}

func TestFailedAuthBlocksOn21st(t *testing.T) {
	f := NewFailedAuth()
	const ip = "203.0.113.7"
	for i := 0; i < FailMax; i++ {
		if d := f.Fail(ip, at(time.Duration(i)*time.Second)); d != 0 {
			t.Fatalf("failure %d blocked for %v", i+1, d)
		}
		if d := f.Blocked(ip, at(time.Duration(i)*time.Second)); d != 0 {
			t.Fatalf("blocked after %d failures", i+1)
		}
	}
	// The 21st failure within 60 s blocks for 60 s from that failure.
	blockAt := at(20 * time.Second)
	if d := f.Fail(ip, blockAt); d != 60*time.Second {
		t.Fatalf("21st failure: blocked for %v, want 60s", d)
	}
	for _, c := range []struct {
		after time.Duration
		want  time.Duration
	}{
		{0, 60 * time.Second},
		{30 * time.Second, 30 * time.Second},
		{59*time.Second + 500*time.Millisecond, 500 * time.Millisecond},
		{60 * time.Second, 0},
		{10 * time.Minute, 0},
	} {
		if got := f.Blocked(ip, blockAt.Add(c.after)); got != c.want {
			t.Errorf("Blocked %v after the 21st failure = %v, want %v", c.after, got, c.want)
		}
	}
	// Other addresses are not affected.
	if d := f.Blocked("198.51.100.1", blockAt); d != 0 {
		t.Errorf("another IP blocked for %v", d)
	}
	if d := f.Fail("198.51.100.1", blockAt); d != 0 {
		t.Errorf("another IP's first failure blocked for %v", d)
	}
	// After the block the old failures have left the window: the next
	// failure is just one failure.
	if d := f.Fail(ip, blockAt.Add(61*time.Second)); d != 0 {
		t.Errorf("first failure after the block: blocked for %v", d)
	}
}

func TestFailedAuthWindowSlides(t *testing.T) {
	t.Run("old failures leave the window", func(t *testing.T) {
		f := NewFailedAuth()
		const ip = "192.0.2.1"
		for i := 0; i < FailMax; i++ {
			f.Fail(ip, t0)
		}
		// 61 s later the 20 failures are out of the window.
		if d := f.Fail(ip, at(61*time.Second)); d != 0 {
			t.Errorf("failure 61 s after 20 others blocked for %v", d)
		}
		if d := f.Blocked(ip, at(61*time.Second)); d != 0 {
			t.Errorf("blocked for %v", d)
		}
	})
	t.Run("within 60 s they count", func(t *testing.T) {
		f := NewFailedAuth()
		const ip = "192.0.2.2"
		for i := 0; i < FailMax; i++ {
			f.Fail(ip, t0)
		}
		if d := f.Fail(ip, at(59*time.Second)); d != 60*time.Second {
			t.Errorf("21st failure 59 s after the first: blocked for %v, want 60s", d)
		}
		if d := f.Blocked(ip, at(118*time.Second)); d != time.Second {
			t.Errorf("Blocked 59 s after the 21st = %v, want 1s", d)
		}
	})
	t.Run("partly slid", func(t *testing.T) {
		f := NewFailedAuth()
		const ip = "192.0.2.3"
		for i := 0; i < 10; i++ {
			f.Fail(ip, t0)
		}
		for i := 0; i < 10; i++ {
			f.Fail(ip, at(30*time.Second))
		}
		// At 61 s the first ten have left: 10 + 10 more are 20, allowed.
		for i := 0; i < 10; i++ {
			if d := f.Fail(ip, at(61*time.Second)); d != 0 {
				t.Fatalf("failure %d at 61 s blocked for %v (only %d in the window)", i+1, d, 11+i)
			}
		}
		if d := f.Fail(ip, at(62*time.Second)); d != 60*time.Second {
			t.Errorf("21st failure within the window: blocked for %v, want 60s", d)
		}
	})
}

func TestFailedAuthSweep(t *testing.T) {
	f := NewFailedAuth()
	f.Fail("192.0.2.10", t0)
	f.Fail("192.0.2.11", at(2*time.Minute+30*time.Second))
	f.Fail("192.0.2.12", at(3*time.Minute))
	if _, ok := f.byIP["192.0.2.10"]; ok {
		t.Errorf("an address whose last failure is minutes old was kept")
	}
	if _, ok := f.byIP["192.0.2.11"]; !ok {
		t.Errorf("an address with a failure 30 s ago was swept")
	}
}
