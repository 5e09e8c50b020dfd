package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// requestTimeout bounds one request; with the per-scenario deadline checked
// before every request, a run overruns -max-time by at most this much.
const requestTimeout = 10 * time.Second

// maxErrorSamples is how many distinct failed responses a run keeps.
const maxErrorSamples = 5

// target is one HTTP server under load: the hello-world baseline or switchboard.
type target struct {
	Name   string
	Base   string // http://127.0.0.1:PORT
	Client *http.Client
}

// newClient is a keep-alive client with one idle connection per worker, so
// a closed loop of c workers reuses c connections and never redials.
func newClient(c int) *http.Client {
	tr := &http.Transport{
		Proxy:               nil, // 127.0.0.1 only; never an HTTP(S)_PROXY
		MaxIdleConns:        c,
		MaxIdleConnsPerHost: c,
		MaxConnsPerHost:     c,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: tr, Timeout: requestTimeout}
}

// request is what one scenario sends: Body (may be nil) is called once per
// request so that creates get unique names and updates alternate values.
type request struct {
	Method string
	Path   string
	Auth   bool
	Body   func() []byte
}

// credentials are the X-Auth pair of the main account.
type credentials struct {
	AuthID    string
	AuthToken string
}

func (q request) build(ctx context.Context, base string, cred credentials) (*http.Request, []byte, error) {
	var body io.Reader
	var raw []byte
	if q.Body != nil {
		raw = q.Body()
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, q.Method, base+q.Path, body)
	if err != nil {
		return nil, nil, err
	}
	if q.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if q.Auth {
		req.Header.Set("X-Auth-ID", cred.AuthID)
		req.Header.Set("X-Auth-Token", cred.AuthToken)
	}
	return req, raw, nil
}

// runResult is one closed-loop run against one target.
type runResult struct {
	summary
	StoppedEarly bool        // -max-time reached before -n requests
	Statuses     map[int]int // status code → count (0 = transport error)
	ErrorSamples []string    // first distinct failures: "METHOD path → status: body"
	SlowestAt    int         // 1-based sequence number of the slowest request
	SlowestBody  string      // its request body, if any
	latencies    []time.Duration
	slowest      time.Duration
}

// load runs a bounded closed loop: c workers each send one request, wait for
// the whole response, record the latency and send the next, until n requests
// have been sent or maxTime has passed (checked before every request). It
// stops by itself; ctx cancellation (Ctrl-C) aborts it early. Requests are
// numbered seqBase+1 … seqBase+n (SlowestAt refers to these numbers).
func load(ctx context.Context, t target, cred credentials, q request, seqBase, n, c int, maxTime time.Duration) runResult {
	type worker struct {
		lat      []time.Duration
		seqs     []int
		slowBody []byte
		slowest  time.Duration
		errors   int
		statuses map[int]int
		samples  []string
	}
	workers := make([]*worker, c)
	var next atomic.Int64
	var stoppedEarly atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(maxTime)
	for w := range workers {
		wk := &worker{lat: make([]time.Duration, 0, n/c+1), statuses: map[int]int{}}
		workers[w] = wk
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				seq := int(next.Add(1))
				if seq > n {
					return
				}
				if ctx.Err() != nil || time.Now().After(deadline) {
					stoppedEarly.Store(true)
					return
				}
				status, sample, body, d := once(ctx, t, cred, q)
				if d > wk.slowest {
					wk.slowest, wk.slowBody = d, body
				}
				wk.lat = append(wk.lat, d)
				wk.seqs = append(wk.seqs, seq)
				wk.statuses[status]++
				if status < 200 || status > 299 {
					wk.errors++
					if len(wk.samples) < maxErrorSamples {
						wk.samples = append(wk.samples, sample)
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	res := runResult{Statuses: map[int]int{}, StoppedEarly: stoppedEarly.Load()}
	var all []time.Duration
	errors := 0
	seen := map[string]bool{}
	for _, wk := range workers {
		all = append(all, wk.lat...)
		errors += wk.errors
		for code, k := range wk.statuses {
			res.Statuses[code] += k
		}
		for i, d := range wk.lat {
			if d > res.slowest {
				res.slowest, res.SlowestAt = d, seqBase+wk.seqs[i]
				res.SlowestBody = string(wk.slowBody)
			}
		}
		for _, s := range wk.samples {
			if !seen[s] && len(res.ErrorSamples) < maxErrorSamples {
				seen[s] = true
				res.ErrorSamples = append(res.ErrorSamples, s)
			}
		}
	}
	res.latencies = all
	res.summary = summarize(all, errors, elapsed)
	return res
}

// merge combines the rounds of one target into one result: latencies are
// pooled and elapsed times added, so throughput is all requests over the
// time spent measuring this target.
func merge(runs []runResult) runResult {
	out := runResult{Statuses: map[int]int{}}
	var elapsed time.Duration
	errors := 0
	seen := map[string]bool{}
	for _, r := range runs {
		out.latencies = append(out.latencies, r.latencies...)
		elapsed += r.Elapsed
		errors += r.Errors
		out.StoppedEarly = out.StoppedEarly || r.StoppedEarly
		for code, k := range r.Statuses {
			out.Statuses[code] += k
		}
		if r.slowest > out.slowest {
			out.slowest, out.SlowestAt, out.SlowestBody = r.slowest, r.SlowestAt, r.SlowestBody
		}
		for _, s := range r.ErrorSamples {
			if !seen[s] && len(out.ErrorSamples) < maxErrorSamples {
				seen[s] = true
				out.ErrorSamples = append(out.ErrorSamples, s)
			}
		}
	}
	out.summary = summarize(out.latencies, errors, elapsed)
	return out
}

// split divides n requests into at most rounds chunks that differ by at most one.
func split(n, rounds int) []int {
	if rounds > n {
		rounds = n
	}
	if rounds < 1 {
		return nil
	}
	out := make([]int, rounds)
	for i := range out {
		out[i] = n / rounds
		if i < n%rounds {
			out[i]++
		}
	}
	return out
}

// once sends one request and reads the whole response. It returns the status
// (0 for a transport error), a description of a failure, the request body and
// the latency from sending to the last response byte.
func once(ctx context.Context, t target, cred credentials, q request) (int, string, []byte, time.Duration) {
	req, body, err := q.build(ctx, t.Base, cred)
	if err != nil {
		return 0, fmt.Sprintf("%s %s → build: %v", q.Method, q.Path, err), nil, 0
	}
	describe := func(what string) string {
		if body != nil {
			return fmt.Sprintf("%s %s %s → %s", q.Method, q.Path, body, what)
		}
		return fmt.Sprintf("%s %s → %s", q.Method, q.Path, what)
	}
	start := time.Now()
	resp, err := t.Client.Do(req)
	if err != nil {
		return 0, describe(err.Error()), body, time.Since(start)
	}
	var sample string
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		_, _ = io.Copy(io.Discard, resp.Body)
		sample = describe(fmt.Sprintf("%d: %s", resp.StatusCode, strings.TrimSpace(string(b))))
	} else {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, describe("reading body: " + err.Error()), body, d
	}
	return resp.StatusCode, sample, body, d
}
