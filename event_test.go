package switchboard

import (
	"testing"
	"time"
)

func TestNextDeliveryAttempt(t *testing.T) {
	last := time.Date(2026, 3, 1, 10, 0, 0, 123456000, time.UTC)
	want := []time.Time{
		1: last.Add(time.Minute),
		2: last.Add(5 * time.Minute),
		3: last.Add(30 * time.Minute),
		4: last.Add(2 * time.Hour),
		5: last.Add(6 * time.Hour),
		6: last.Add(12 * time.Hour),
		7: last.Add(24 * time.Hour),
	}
	for n := 1; n <= 7; n++ {
		got, ok := NextDeliveryAttempt(n, last)
		if !ok || !got.Equal(want[n]) {
			t.Errorf("NextDeliveryAttempt(%d) = %v, %v; want %v, true", n, got, ok, want[n])
		}
	}
	for _, n := range []int{8, 9, 100} {
		if got, ok := NextDeliveryAttempt(n, last); ok || !got.IsZero() {
			t.Errorf("NextDeliveryAttempt(%d) = %v, %v; want zero, false (delivery failed)", n, got, ok)
		}
	}
	if got, ok := NextDeliveryAttempt(0, last); !ok || !got.Equal(last) {
		t.Errorf("NextDeliveryAttempt(0) = %v, %v; want %v, true", got, ok, last)
	}
	if MaxDeliveryAttempts != len(DeliverySchedule)+1 {
		t.Errorf("MaxDeliveryAttempts = %d with %d retry delays", MaxDeliveryAttempts, len(DeliverySchedule))
	}

	// Walking the whole schedule from a first attempt at t0 gives the
	// cumulative times of the contract: 1m, 6m, 36m, 2h36m, 8h36m, 20h36m,
	// 44h36m after the first attempt.
	t0 := last
	at, attempts := t0, 1
	for {
		next, ok := NextDeliveryAttempt(attempts, at)
		if !ok {
			break
		}
		at, attempts = next, attempts+1
	}
	if attempts != 8 || !at.Equal(t0.Add(44*time.Hour+36*time.Minute)) {
		t.Errorf("schedule ends after %d attempts at +%v; want 8 at +44h36m", attempts, at.Sub(t0))
	}
}
