package main

import (
	"math"
	"testing"
	"time"
)

// These tests cover the arithmetic only; nothing here measures time.

func ds(ms ...int) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m) * time.Millisecond
	}
	return out
}

func TestPercentileNearestRank(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond // 1..100 ms
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"single p50", ds(7), 50, 7 * time.Millisecond},
		{"single p99", ds(7), 99, 7 * time.Millisecond},
		{"1..100 p50", hundred, 50, 50 * time.Millisecond},
		{"1..100 p90", hundred, 90, 90 * time.Millisecond},
		{"1..100 p99", hundred, 99, 99 * time.Millisecond},
		{"1..100 p100", hundred, 100, 100 * time.Millisecond},
		{"1..100 p0", hundred, 0, 1 * time.Millisecond},
		// Nearest rank: ceil(0.5*4)=2 → the 2nd sample, never an interpolation.
		{"four p50", ds(10, 20, 30, 40), 50, 20 * time.Millisecond},
		{"four p51", ds(10, 20, 30, 40), 51, 30 * time.Millisecond},
		{"four p99", ds(10, 20, 30, 40), 99, 40 * time.Millisecond},
		{"ten p99 is the max", ds(1, 2, 3, 4, 5, 6, 7, 8, 9, 1000), 99, 1000 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("%s: percentile(p=%v) = %v, want %v", tt.name, tt.p, got, tt.want)
		}
	}
}

func TestRatio(t *testing.T) {
	if r, ok := ratio(500, 2000); !ok || r != 0.25 {
		t.Errorf("ratio(500, 2000) = %v, %v; want 0.25, true", r, ok)
	}
	if r, ok := ratio(3, 1.5); !ok || r != 2 {
		t.Errorf("ratio(3, 1.5) = %v, %v; want 2, true", r, ok)
	}
	for _, b := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if r, ok := ratio(1, b); ok || r != 0 {
			t.Errorf("ratio(1, %v) = %v, %v; want undefined", b, r, ok)
		}
	}
	if _, ok := ratio(math.NaN(), 1); ok {
		t.Error("ratio(NaN, 1) is defined")
	}
}

func TestThroughput(t *testing.T) {
	if got := throughput(5000, 2*time.Second); got != 2500 {
		t.Errorf("throughput(5000, 2s) = %v, want 2500", got)
	}
	if got := throughput(0, time.Second); got != 0 {
		t.Errorf("throughput(0, 1s) = %v, want 0", got)
	}
	if got := throughput(10, 0); got != 0 {
		t.Errorf("throughput(10, 0) = %v, want 0", got)
	}
}

func TestSummarizeAndCompare(t *testing.T) {
	// Unsorted input; summarize must not reorder the caller's slice.
	lat := ds(4, 1, 3, 2)
	s := summarize(lat, 1, 2*time.Second)
	if lat[0] != 4*time.Millisecond {
		t.Error("summarize sorted the caller's slice")
	}
	want := summary{
		Requests: 4, Errors: 1, Elapsed: 2 * time.Second, RPS: 2,
		P50: 2 * time.Millisecond, P90: 4 * time.Millisecond, P99: 4 * time.Millisecond,
		Max: 4 * time.Millisecond, Mean: 2500 * time.Microsecond,
	}
	if s != want {
		t.Errorf("summarize = %+v, want %+v", s, want)
	}

	base := summary{RPS: 10000, P50: 500 * time.Microsecond, P99: 2 * time.Millisecond}
	srv := summary{RPS: 2500, P50: 2 * time.Millisecond, P99: 5 * time.Millisecond}
	c := compare(srv, base)
	if !c.ThroughputOK || c.Throughput != 0.25 || !c.P50OK || c.P50 != 4 || !c.P99OK || c.P99 != 2.5 {
		t.Errorf("compare = %+v, want throughput 0.25, p50 4, p99 2.5", c)
	}
	if c := compare(srv, summary{}); c.ThroughputOK || c.P50OK || c.P99OK {
		t.Errorf("compare against an empty baseline = %+v, want all undefined", c)
	}
}

func TestScenarioResultOK(t *testing.T) {
	sc := scenario{Name: "x", N: 2, Req: request{Method: "GET", Path: "/x"}}
	good := runResult{summary: summarize(ds(1, 2), 0, time.Second), Statuses: map[int]int{200: 2}}
	bad := runResult{summary: summarize(ds(1, 2), 1, time.Second), Statuses: map[int]int{200: 1, 429: 1}}
	if r := newScenarioResult(sc, good, good); !r.OK || r.Ratios.Throughput == nil || *r.Ratios.Throughput != 1 {
		t.Errorf("clean run: %+v", r)
	}
	r := newScenarioResult(sc, bad, good)
	if r.OK {
		t.Error("a run with a non-2xx answer counts")
	}
	if r.Server.Statuses["429"] != 1 {
		t.Errorf("statuses = %v", r.Server.Statuses)
	}
	if r := newScenarioResult(sc, runResult{}, good); r.OK {
		t.Error("a run without requests counts")
	}
}

func TestParseOptionsBounds(t *testing.T) {
	env := func(string) string { return "" }
	for _, args := range [][]string{{"-c", "0"}, {"-n", "0"}, {"-n", "2000000"}, {"-max-time", "0s"}, {"-max-time", "1h"}, {"-scenarios", "nope"}} {
		if _, err := parseOptions(args, env, discard{}); err == nil {
			t.Errorf("parseOptions(%q) accepted", args)
		}
	}
	o, err := parseOptions(nil, func(k string) string {
		if k == "SWITCHBOARD_BENCH_POSTGRES" {
			return "postgres://u:secret@127.0.0.1:5432/x"
		}
		return ""
	}, discard{})
	if err != nil || o.c != 8 || o.n != 5000 || o.maxTime != 20*time.Second || !isPostgres(o.db) {
		t.Errorf("defaults = %+v, %v", o, err)
	}
	if got := redactDSN(o.db); got != "postgres://u:xxxxx@127.0.0.1:5432/x" {
		t.Errorf("redactDSN = %q", got)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestSplit(t *testing.T) {
	tests := []struct {
		n, rounds int
		want      []int
	}{
		{5000, 5, []int{1000, 1000, 1000, 1000, 1000}},
		{7, 3, []int{3, 2, 2}},
		{2, 5, []int{1, 1}},
		{0, 5, nil},
	}
	for _, tt := range tests {
		got := split(tt.n, tt.rounds)
		if len(got) != len(tt.want) {
			t.Errorf("split(%d, %d) = %v, want %v", tt.n, tt.rounds, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("split(%d, %d) = %v, want %v", tt.n, tt.rounds, got, tt.want)
				break
			}
		}
	}
}

func TestMergePoolsRounds(t *testing.T) {
	r1 := runResult{latencies: ds(1, 2), slowest: 2 * time.Millisecond, SlowestAt: 2, Statuses: map[int]int{200: 2}}
	r1.summary = summarize(r1.latencies, 0, time.Second)
	r2 := runResult{latencies: ds(9, 3), slowest: 9 * time.Millisecond, SlowestAt: 3, SlowestBody: `{"x":1}`,
		Statuses: map[int]int{200: 1, 500: 1}, ErrorSamples: []string{"GET /x → 500: {}"}}
	r2.summary = summarize(r2.latencies, 1, 3*time.Second)
	m := merge([]runResult{r1, r2})
	if m.Requests != 4 || m.Errors != 1 || m.Elapsed != 4*time.Second || m.RPS != 1 {
		t.Errorf("merge counts = %+v", m.summary)
	}
	if m.P50 != 2*time.Millisecond || m.Max != 9*time.Millisecond || m.SlowestAt != 3 || m.SlowestBody != `{"x":1}` {
		t.Errorf("merge latencies = %+v slowest %d %q", m.summary, m.SlowestAt, m.SlowestBody)
	}
	if m.Statuses[200] != 3 || m.Statuses[500] != 1 || len(m.ErrorSamples) != 1 {
		t.Errorf("merge statuses = %v samples %v", m.Statuses, m.ErrorSamples)
	}
}
