package app

import (
	"sync"
	"time"

	sb "github.com/switchboard-voice/switchboard"
)

// Clock is the one source of server time. In dev mode it can be advanced
// (CONTRACT §3.5); the offset is kept per process.
type Clock struct {
	mu     sync.RWMutex
	base   func() time.Time
	offset time.Duration
}

// NewClock returns a clock over base (time.Now when nil).
func NewClock(base func() time.Time) *Clock {
	if base == nil {
		base = time.Now
	}
	return &Clock{base: base}
}

// Now returns the current server time, UTC, truncated to microseconds.
func (c *Clock) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return sb.NormalizeTime(c.base().Add(c.offset))
}

// Offset returns how far the clock has been advanced.
func (c *Clock) Offset() time.Duration {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.offset
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// Reset sets the offset back to zero.
func (c *Clock) Reset() {
	c.mu.Lock()
	c.offset = 0
	c.mu.Unlock()
}

func secondsDuration(s int64) time.Duration { return time.Duration(s) * time.Second }
