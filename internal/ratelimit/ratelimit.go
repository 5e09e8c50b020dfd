// Package ratelimit keeps the per-account token buckets and the per-IP
// failed-authentication counter of CONTRACT §0.8, on golang.org/x/time/rate.
// State is per process: with several replicas each keeps its own buckets.
// Time is always passed in, so the server clock (advanceable in dev mode)
// drives refills.
package ratelimit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Decision is the outcome of one request against an account's bucket.
type Decision struct {
	Allowed bool
	// Limit is the bucket's capacity (the account's rate_limit per minute).
	Limit int
	// Remaining is the whole tokens left after this request.
	Remaining int
	// Reset is the time until the bucket is full again, rounded up to seconds.
	Reset int
	// RetryAfter is the time until one token is available (≥ 1 s) when the
	// request was refused.
	RetryAfter int
}

// Accounts holds one token bucket per auth_id: capacity perMinute, refilled
// at perMinute/60 tokens per second. Every credential scheme of the account
// spends from the same bucket.
type Accounts struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	sweepAt time.Time
}

type bucket struct {
	lim      *rate.Limiter
	perMin   int
	lastSeen time.Time
}

// NewAccounts returns an empty set of buckets.
func NewAccounts() *Accounts { return &Accounts{buckets: map[string]*bucket{}} }

// Take spends one token of authID's bucket at now. A change of perMinute
// (the account's rate_limit was updated) resizes the bucket, keeping the
// tokens it holds up to the new capacity.
func (a *Accounts) Take(authID string, perMinute int, now time.Time) Decision {
	if perMinute < 1 {
		perMinute = 1
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sweep(now)
	b := a.buckets[authID]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(perSecond(perMinute), perMinute), perMin: perMinute}
		b.lim.SetBurstAt(now, perMinute) // full at first sight
		a.buckets[authID] = b
	} else if b.perMin != perMinute {
		b.lim.SetLimitAt(now, perSecond(perMinute))
		b.lim.SetBurstAt(now, perMinute)
		b.perMin = perMinute
	}
	b.lastSeen = now
	d := Decision{Limit: perMinute}
	d.Allowed = b.lim.AllowN(now, 1)
	tokens := b.lim.TokensAt(now)
	d.Remaining = int(math.Max(0, math.Floor(tokens)))
	rps := float64(perMinute) / 60
	d.Reset = max(ceilSeconds((float64(perMinute)-tokens)/rps), 0)
	if !d.Allowed {
		d.RetryAfter = max(ceilSeconds((1-tokens)/rps), 1)
	}
	return d
}

// ceilSeconds rounds up to whole seconds after rounding to microseconds,
// so that float noise on an exact whole second (rate/60 is not exact in
// binary) does not add a second.
func ceilSeconds(s float64) int { return int(math.Ceil(math.Round(s*1e6) / 1e6)) }

func perSecond(perMinute int) rate.Limit { return rate.Limit(float64(perMinute) / 60) }

// idleAfter is how long a bucket is kept without use; a bucket idle that
// long has refilled completely, so forgetting it changes nothing.
const idleAfter = time.Hour

func (a *Accounts) sweep(now time.Time) {
	if now.Before(a.sweepAt) {
		return
	}
	a.sweepAt = now.Add(time.Minute)
	for id, b := range a.buckets {
		if now.Sub(b.lastSeen) > idleAfter {
			delete(a.buckets, id)
		}
	}
}

// FailedAuth limits failed authentications per client IP (§0.8): the 21st
// failure within 60 s blocks the IP for 60 s from that failure; while
// blocked, every request of the IP that needs authentication is refused.
type FailedAuth struct {
	mu      sync.Mutex
	byIP    map[string]*ipState
	sweepAt time.Time
}

type ipState struct {
	failures     []time.Time
	blockedUntil time.Time
}

// Failed-authentication limits.
const (
	FailWindow = 60 * time.Second
	FailMax    = 20 // failures allowed in the window; the next one blocks
)

// NewFailedAuth returns an empty counter.
func NewFailedAuth() *FailedAuth { return &FailedAuth{byIP: map[string]*ipState{}} }

// Blocked returns how long ip stays blocked at now (0: not blocked).
func (f *FailedAuth) Blocked(ip string, now time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.byIP[ip]; s != nil && now.Before(s.blockedUntil) {
		return s.blockedUntil.Sub(now)
	}
	return 0
}

// Fail records a failed authentication and reports whether this failure
// crossed the limit (it is then answered 429 instead of 401).
func (f *FailedAuth) Fail(ip string, now time.Time) (blockedFor time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sweep(now)
	s := f.byIP[ip]
	if s == nil {
		s = &ipState{}
		f.byIP[ip] = s
	}
	i := 0
	for i < len(s.failures) && now.Sub(s.failures[i]) >= FailWindow {
		i++
	}
	s.failures = append(s.failures[i:], now)
	if len(s.failures) > FailMax {
		s.blockedUntil = now.Add(FailWindow)
		return FailWindow
	}
	return 0
}

func (f *FailedAuth) sweep(now time.Time) {
	if now.Before(f.sweepAt) {
		return
	}
	f.sweepAt = now.Add(time.Minute)
	for ip, s := range f.byIP {
		if now.After(s.blockedUntil) && (len(s.failures) == 0 || now.Sub(s.failures[len(s.failures)-1]) >= FailWindow) {
			delete(f.byIP, ip)
		}
	}
}
