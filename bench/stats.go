package main

import (
	"math"
	"slices"
	"time"
)

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the smallest sample such that at least p % of the
// samples are less than or equal to it. sorted must be in ascending order;
// an empty slice yields 0.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	if p <= 0 {
		return sorted[0]
	}
	if p >= 100 {
		return sorted[len(sorted)-1]
	}
	rank := int(math.Ceil(p * float64(len(sorted)) / 100))
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

// ratio returns a/b, and false when b is not a positive number (the ratio is
// then undefined and reported as such, never as Inf or NaN).
func ratio(a, b float64) (float64, bool) {
	if !(b > 0) || math.IsInf(b, 0) || math.IsNaN(a) || math.IsInf(a, 0) {
		return 0, false
	}
	return a / b, true
}

// throughput is completed requests per second of wall time.
func throughput(requests int, elapsed time.Duration) float64 {
	if requests <= 0 || elapsed <= 0 {
		return 0
	}
	return float64(requests) / elapsed.Seconds()
}

// summary is the arithmetic over one measured run.
type summary struct {
	Requests int
	Errors   int
	Elapsed  time.Duration
	RPS      float64
	P50      time.Duration
	P90      time.Duration
	P99      time.Duration
	Max      time.Duration
	Mean     time.Duration
}

// summarize sorts a copy of latencies and computes the figures of a run.
func summarize(latencies []time.Duration, errors int, elapsed time.Duration) summary {
	sorted := slices.Clone(latencies)
	slices.Sort(sorted)
	s := summary{
		Requests: len(sorted),
		Errors:   errors,
		Elapsed:  elapsed,
		RPS:      throughput(len(sorted), elapsed),
		P50:      percentile(sorted, 50),
		P90:      percentile(sorted, 90),
		P99:      percentile(sorted, 99),
	}
	if len(sorted) > 0 {
		s.Max = sorted[len(sorted)-1]
		var total time.Duration
		for _, d := range sorted {
			total += d
		}
		s.Mean = total / time.Duration(len(sorted))
	}
	return s
}

// ratios compares a server run to the baseline run of the same scenario:
// throughput server/baseline (below 1 = the server does less) and latency
// server/baseline (above 1 = the server is slower).
type ratios struct {
	Throughput, P50, P99       float64
	ThroughputOK, P50OK, P99OK bool
}

func compare(server, baseline summary) ratios {
	var r ratios
	r.Throughput, r.ThroughputOK = ratio(server.RPS, baseline.RPS)
	r.P50, r.P50OK = ratio(float64(server.P50), float64(baseline.P50))
	r.P99, r.P99OK = ratio(float64(server.P99), float64(baseline.P99))
	return r
}
