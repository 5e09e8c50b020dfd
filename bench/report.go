package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// report is the JSON document of -json; the table shows the same numbers.
type report struct {
	Date      string           `json:"date"`
	Machine   machine          `json:"machine"`
	Config    config           `json:"config"`
	Server    serverInfo       `json:"server"`
	Scenarios []scenarioResult `json:"scenarios"`
	OK        bool             `json:"ok"` // every scenario without errors, clean server exit
}

type machine struct {
	GOMAXPROCS int    `json:"gomaxprocs"`
	NumCPU     int    `json:"num_cpu"`
	GoVersion  string `json:"go_version"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	Engine     string `json:"engine"`
	// LoadAvg is /proc/loadavg (1, 5, 15 min) before and after the run, when
	// readable: other work on the machine makes absolute numbers noisy.
	LoadAvgBefore string `json:"loadavg_before,omitempty"`
	LoadAvgAfter  string `json:"loadavg_after,omitempty"`
}

// loadAvg returns the three load averages of /proc/loadavg, or "".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

type config struct {
	Concurrency       int    `json:"concurrency"`
	Requests          int    `json:"requests"`
	MaxTime           string `json:"max_time"`
	Warmup            int    `json:"warmup"`
	Rounds            int    `json:"rounds"`
	SeededSubAccounts int    `json:"seeded_sub_accounts"`
	DB                string `json:"db"`
}

type serverInfo struct {
	Version     map[string]string `json:"version,omitempty"`
	ExitCode    int               `json:"exit_code"`
	LogWarnings int               `json:"log_warnings"`
	LogErrors   int               `json:"log_errors"`
	LogRecords  []string          `json:"log_records,omitempty"`
}

type scenarioResult struct {
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Method      string      `json:"method"`
	Path        string      `json:"path"`
	Server      targetStats `json:"server"`
	Baseline    targetStats `json:"baseline"`
	Ratios      ratioStats  `json:"ratios"`
	OK          bool        `json:"ok"` // no errors on either side
}

type targetStats struct {
	Planned      int            `json:"planned"`
	Requests     int            `json:"requests"`
	Errors       int            `json:"errors"`
	StoppedEarly bool           `json:"stopped_early"`
	ElapsedS     float64        `json:"elapsed_s"`
	RPS          float64        `json:"req_per_s"`
	MeanMS       float64        `json:"mean_ms"`
	P50MS        float64        `json:"p50_ms"`
	P90MS        float64        `json:"p90_ms"`
	P99MS        float64        `json:"p99_ms"`
	MaxMS        float64        `json:"max_ms"`
	SlowestAt    int            `json:"slowest_request_seq,omitempty"`
	SlowestBody  string         `json:"slowest_request_body,omitempty"`
	Statuses     map[string]int `json:"statuses"`
	ErrorSamples []string       `json:"error_samples,omitempty"`
}

// ratioStats are server/baseline; null when the baseline figure is zero.
type ratioStats struct {
	Throughput *float64 `json:"throughput"`
	P50        *float64 `json:"p50"`
	P99        *float64 `json:"p99"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

func newTargetStats(planned int, r runResult) targetStats {
	st := targetStats{
		Planned: planned, Requests: r.Requests, Errors: r.Errors, StoppedEarly: r.StoppedEarly,
		ElapsedS: round(r.Elapsed.Seconds(), 3), RPS: round(r.RPS, 1),
		MeanMS: round(ms(r.Mean), 3), P50MS: round(ms(r.P50), 3), P90MS: round(ms(r.P90), 3),
		P99MS: round(ms(r.P99), 3), MaxMS: round(ms(r.Max), 3), SlowestAt: r.SlowestAt, SlowestBody: r.SlowestBody,
		Statuses: map[string]int{}, ErrorSamples: r.ErrorSamples,
	}
	for code, k := range r.Statuses {
		key := strconv.Itoa(code)
		if code == 0 {
			key = "transport_error"
		}
		st.Statuses[key] = k
	}
	return st
}

func optRatio(v float64, ok bool) *float64 {
	if !ok {
		return nil
	}
	v = round(v, 3)
	return &v
}

func newScenarioResult(sc scenario, server, baseline runResult) scenarioResult {
	c := compare(server.summary, baseline.summary)
	return scenarioResult{
		Name: sc.Name, Description: sc.Description, Method: sc.Req.Method, Path: sc.Req.Path,
		Server:   newTargetStats(sc.N, server),
		Baseline: newTargetStats(sc.N, baseline),
		Ratios: ratioStats{
			Throughput: optRatio(c.Throughput, c.ThroughputOK),
			P50:        optRatio(c.P50, c.P50OK),
			P99:        optRatio(c.P99, c.P99OK),
		},
		OK: server.Errors == 0 && baseline.Errors == 0 && server.Requests > 0 && baseline.Requests > 0,
	}
}

func fmtRatio(r *float64) string {
	if r == nil {
		return "n/a"
	}
	return strconv.FormatFloat(*r, 'f', 3, 64)
}

// writeTable prints the plain-text report.
func writeTable(w io.Writer, rep report) {
	m := rep.Machine
	fmt.Fprintf(w, "switchboard bench %s  engine=%s  GOMAXPROCS=%d  NumCPU=%d  %s %s/%s  c=%d n=%d rounds=%d max-time=%s\n",
		rep.Date, m.Engine, m.GOMAXPROCS, m.NumCPU, m.GoVersion, m.GOOS, m.GOARCH,
		rep.Config.Concurrency, rep.Config.Requests, rep.Config.Rounds, rep.Config.MaxTime)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\trequests\terrors\treq/s srv\treq/s base\tthr ratio\tp50 srv ms\tp99 srv ms\tp50 base ms\tp99 base ms\tp50 ratio\tp99 ratio\tmax srv ms\t")
	for _, r := range rep.Scenarios {
		s, b := r.Server, r.Baseline
		mark := ""
		if s.StoppedEarly || b.StoppedEarly {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s\t%d%s\t%d\t%.0f\t%.0f\t%s\t%.3f\t%.3f\t%.3f\t%.3f\t%s\t%s\t%.3f\t\n",
			r.Name, s.Requests, mark, s.Errors+b.Errors, s.RPS, b.RPS, fmtRatio(r.Ratios.Throughput),
			s.P50MS, s.P99MS, b.P50MS, b.P99MS, fmtRatio(r.Ratios.P50), fmtRatio(r.Ratios.P99), s.MaxMS)
	}
	_ = tw.Flush()
	if m.LoadAvgBefore != "" {
		fmt.Fprintf(w, "load average before %s, after %s (other work on the machine makes absolute numbers noisy)\n", m.LoadAvgBefore, m.LoadAvgAfter)
	}
	fmt.Fprintln(w, "ratios are server/baseline: throughput below 1 and latency above 1 mean the server is slower than hello-world.")
	if slices.ContainsFunc(rep.Scenarios, func(r scenarioResult) bool { return r.Server.StoppedEarly || r.Baseline.StoppedEarly }) {
		fmt.Fprintln(w, "* stopped early at -max-time")
	}
	fmt.Fprintf(w, "server: exit code %d, %d WARN and %d ERROR log records\n",
		rep.Server.ExitCode, rep.Server.LogWarnings, rep.Server.LogErrors)
	for _, rec := range rep.Server.LogRecords {
		fmt.Fprintln(w, "  "+rec)
	}
	for _, r := range rep.Scenarios {
		if !r.OK {
			fmt.Fprintf(w, "FAILED %s: %d server errors, %d baseline errors %v\n", r.Name, r.Server.Errors, r.Baseline.Errors, r.Server.Statuses)
		}
	}
	if rep.OK {
		fmt.Fprintln(w, "ok")
	} else {
		fmt.Fprintln(w, "FAIL")
	}
}
