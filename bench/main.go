// Command bench measures the real switchboard binary on 127.0.0.1 against a
// hello-world net/http handler served in the same run, and reports the ratios
// between the two (throughput, p50 and p99 latency) next to the absolute
// numbers. Absolute numbers depend on the machine; the ratios are the figure
// to compare between machines and commits.
//
//	go run ./bench                       # SQLite, defaults: -c 8 -n 5000 -max-time 20s
//	go run ./bench -json > bench.json    # JSON on stdout, table on stderr
//	go run ./bench -db postgres://…      # same against PostgreSQL (or SWITCHBOARD_BENCH_POSTGRES)
//
// The load is bounded: every scenario stops after -n requests or -max-time,
// whichever comes first, and only 127.0.0.1 is ever contacted. See
// docs/benchmarks.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Bounds on the flags, so that a typo cannot turn the bench into a load test
// of unbounded size.
const (
	maxConcurrency = 256
	maxRequests    = 1_000_000
	maxMaxTime     = 10 * time.Minute
	maxSeed        = 5000
)

type options struct {
	bin       string
	db        string
	c         int
	n         int
	maxTime   time.Duration
	warmup    int
	rounds    int
	seed      int
	scenarios string
	json      bool
	keep      bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.bin, "bin", "", "switchboard binary to run (default: go build ./cmd/switchboard into a temp dir)")
	fs.StringVar(&o.db, "db", getenv("SWITCHBOARD_BENCH_POSTGRES"),
		"database for the server: a postgres:// DSN of a throwaway database, or a SQLite path (default: $SWITCHBOARD_BENCH_POSTGRES, else a fresh SQLite file in the temp dir)")
	fs.IntVar(&o.c, "c", 8, "concurrent workers (closed loop)")
	fs.IntVar(&o.n, "n", 5000, "requests per scenario and target (create uses n/5)")
	fs.DurationVar(&o.maxTime, "max-time", 20*time.Second, "time limit per scenario and target; the run stops early when reached")
	fs.IntVar(&o.warmup, "warmup", 200, "unmeasured requests per scenario and target before measuring (create uses warmup/5)")
	fs.IntVar(&o.rounds, "rounds", 5, "rounds per scenario: baseline and server alternate this many times, each with n/rounds requests, so that machine noise hits both alike")
	fs.IntVar(&o.seed, "seed", 200, "sub-accounts created before the list scenario")
	fs.StringVar(&o.scenarios, "scenarios", "", "comma-separated subset of scenarios to run (default: all)")
	fs.BoolVar(&o.json, "json", false, "print a JSON document on stdout (the table then goes to stderr)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temp dir (binary, SQLite file, server log)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	switch {
	case o.c < 1 || o.c > maxConcurrency:
		return o, fmt.Errorf("-c must be 1..%d", maxConcurrency)
	case o.n < 1 || o.n > maxRequests:
		return o, fmt.Errorf("-n must be 1..%d", maxRequests)
	case o.maxTime <= 0 || o.maxTime > maxMaxTime:
		return o, fmt.Errorf("-max-time must be in (0, %s]", maxMaxTime)
	case o.warmup < 0 || o.warmup > maxRequests:
		return o, fmt.Errorf("-warmup must be 0..%d", maxRequests)
	case o.rounds < 1 || o.rounds > 100:
		return o, fmt.Errorf("-rounds must be 1..100")
	case o.seed < 1 || o.seed > maxSeed:
		return o, fmt.Errorf("-seed must be 1..%d", maxSeed)
	}
	for _, name := range splitList(o.scenarios) {
		if !slices.Contains(scenarioNames, name) {
			return o, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(scenarioNames, ", "))
		}
	}
	return o, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// redactDSN hides a password in a PostgreSQL URL.
func redactDSN(db string) string {
	if !isPostgres(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", a...) }

	loadBefore := loadAvg()
	tmp, err := os.MkdirTemp("", "switchboard-bench-")
	if err != nil {
		logf("%v", err)
		return 1
	}
	if o.keep {
		logf("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	bin := o.bin
	if bin == "" {
		logf("building ./cmd/switchboard (CGO_ENABLED=0)")
		if bin, err = buildBinary(ctx, tmp, stderr); err != nil {
			logf("%v", err)
			return 1
		}
	}
	db := o.db
	if db == "" {
		db = filepath.Join(tmp, "bench.db")
	}

	base, baseURL, err := startBaseline()
	if err != nil {
		logf("baseline: %v", err)
		return 1
	}
	defer base.Close()

	adminToken := randomToken(40)
	logf("starting %s serve --addr 127.0.0.1:0 --db %s", bin, redactDSN(db))
	srv, err := startServer(ctx, bin, db, adminToken, filepath.Join(tmp, "server.log"))
	if err != nil {
		logf("%v", err)
		return 1
	}
	defer srv.kill()
	engine := srv.Engine
	if engine == "" {
		engine = "sqlite"
		if isPostgres(db) {
			engine = "postgres"
		}
	}
	logf("server on %s (engine %s), baseline on %s", srv.Addr, engine, strings.TrimPrefix(baseURL, "http://"))

	serverTarget := target{Name: "server", Base: "http://" + srv.Addr, Client: newClient(o.c)}
	baseTarget := target{Name: "baseline", Base: baseURL, Client: newClient(o.c)}

	fx, err := setup(ctx, serverTarget, srv.Boot, adminToken, o.seed, logf)
	if err != nil {
		logf("setup: %v", err)
		if _, serr := srv.stop(); serr != nil {
			logf("%v", serr)
		}
		return 1
	}

	rep := report{
		Date: time.Now().UTC().Format(time.RFC3339),
		Machine: machine{
			GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(),
			GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
			Engine: engine, LoadAvgBefore: loadBefore,
		},
		Config: config{
			Concurrency: o.c, Requests: o.n, MaxTime: o.maxTime.String(), Warmup: o.warmup, Rounds: o.rounds,
			SeededSubAccounts: o.seed, DB: redactDSN(o.db),
		},
		Server: serverInfo{Version: binaryVersion(ctx, bin)},
	}
	if rep.Config.DB == "" {
		rep.Config.DB = "(temp SQLite file)"
	}

	wanted := splitList(o.scenarios)
	for _, sc := range scenarios(fx, o.n, o.warmup) {
		if len(wanted) > 0 && !slices.Contains(wanted, sc.Name) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		logf("scenario %-7s %s %s (n=%d, c=%d)", sc.Name, sc.Req.Method, sc.Req.Path, sc.N, o.c)
		for _, t := range []target{baseTarget, serverTarget} {
			if sc.Warmup > 0 {
				w := load(ctx, t, fx.cred, sc.Req, 0, sc.Warmup, o.c, o.maxTime)
				if w.Errors > 0 {
					logf("  warm-up against %s: %d errors, e.g. %s", t.Name, w.Errors, first(w.ErrorSamples))
				}
			}
		}
		// Alternate baseline and server in rounds (and which of them goes
		// first), each round with its share of -n and of -max-time.
		chunks := split(sc.N, o.rounds)
		budget := o.maxTime / time.Duration(len(chunks))
		var bRuns, sRuns []runResult
		done := 0
		for i, k := range chunks {
			order := []target{baseTarget, serverTarget}
			if i%2 == 1 {
				order = []target{serverTarget, baseTarget}
			}
			for _, t := range order {
				r := load(ctx, t, fx.cred, sc.Req, done, k, o.c, budget)
				if t.Name == "server" {
					sRuns = append(sRuns, r)
				} else {
					bRuns = append(bRuns, r)
				}
			}
			done += k
		}
		b, s := merge(bRuns), merge(sRuns)
		res := newScenarioResult(sc, s, b)
		rep.Scenarios = append(rep.Scenarios, res)
		logf("  server %.0f req/s p50 %.3f ms p99 %.3f ms errors %d | baseline %.0f req/s | throughput ratio %s",
			s.RPS, ms(s.P50), ms(s.P99), s.Errors, b.RPS, fmtRatio(res.Ratios.Throughput))
		logf("  server slowest: request #%d of the scenario, %.3f ms %s", s.SlowestAt, ms(s.Max), s.SlowestBody)
		for _, e := range res.Server.ErrorSamples {
			logf("  server error: %s", e)
		}
		for _, e := range res.Baseline.ErrorSamples {
			logf("  baseline error: %s", e)
		}
	}
	interrupted := ctx.Err() != nil
	rep.Machine.LoadAvgAfter = loadAvg()

	code, stopErr := srv.stop()
	rep.Server.ExitCode = code
	rep.Server.LogWarnings, rep.Server.LogErrors, rep.Server.LogRecords = srv.log.problems()
	if stopErr != nil {
		logf("%v", stopErr)
	}
	rep.OK = stopErr == nil && !interrupted && len(rep.Scenarios) > 0
	for _, r := range rep.Scenarios {
		rep.OK = rep.OK && r.OK
	}

	table := stdout
	if o.json {
		table = stderr
	}
	writeTable(table, rep)
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			logf("%v", err)
			return 1
		}
	}
	if interrupted {
		logf("interrupted")
	}
	if !rep.OK {
		return 1
	}
	return 0
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
