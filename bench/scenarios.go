package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
)

// scenarioNames in run order.
var scenarioNames = []string{"healthz", "me", "list", "get", "create", "update"}

// scenario is one request shape, sent to the baseline and to the server.
type scenario struct {
	Name        string
	Description string
	N, Warmup   int
	Req         request
}

// fixture is what the scenarios need from the set-up.
type fixture struct {
	cred  credentials
	sub   string // a seeded sub-account, target of get and update
	runID string // makes created names unique across runs on one database
}

func scenarios(fx fixture, n, warmup int) []scenario {
	subs := "/api/v1/accounts/" + fx.cred.AuthID + "/sub-accounts"
	var created, updated atomic.Int64
	createBody := func() []byte {
		k := created.Add(1)
		return fmt.Appendf(nil, `{"name":"bench-%s-%d","description":"created by the benchmark"}`, fx.runID, k)
	}
	updateBody := func() []byte {
		if updated.Add(1)%2 == 0 {
			return []byte(`{"description":"bench-a"}`)
		}
		return []byte(`{"description":"bench-b"}`)
	}
	return []scenario{
		{Name: "healthz", Description: "GET /healthz: routing and middleware, no credentials, no database",
			N: n, Warmup: warmup, Req: request{Method: http.MethodGet, Path: "/healthz"}},
		{Name: "me", Description: "GET /api/v1/auth/me with X-Auth-ID/X-Auth-Token: authentication (one database read + HMAC) and rate limiting",
			N: n, Warmup: warmup, Req: request{Method: http.MethodGet, Path: "/api/v1/auth/me", Auth: true}},
		{Name: "list", Description: "GET …/sub-accounts?size=25 over the seeded sub-accounts: authenticated list query (count + page of 25)",
			N: n, Warmup: warmup, Req: request{Method: http.MethodGet, Path: subs + "?size=25", Auth: true}},
		{Name: "get", Description: "GET …/sub-accounts/{SA}: authenticated item read",
			N: n, Warmup: warmup, Req: request{Method: http.MethodGet, Path: subs + "/" + fx.sub, Auth: true}},
		{Name: "create", Description: "POST …/sub-accounts with a unique name: write transaction (token hashing, audit, event; fsync on SQLite)",
			N: max(1, n/5), Warmup: warmup / 5, Req: request{Method: http.MethodPost, Path: subs, Auth: true, Body: createBody}},
		{Name: "update", Description: "PUT …/sub-accounts/{SA} alternating the description: write transaction on one row",
			N: n, Warmup: warmup, Req: request{Method: http.MethodPut, Path: subs + "/" + fx.sub, Auth: true, Body: updateBody}},
	}
}

// apiCall sends one set-up request and decodes a JSON answer into out (may be nil).
func apiCall(ctx context.Context, t target, method, path string, hdr map[string]string, body any, out any) (int, http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.Base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := t.Client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return resp.StatusCode, resp.Header, err
	}
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, resp.Header, fmt.Errorf("%s %s: decoding %q: %w", method, path, truncate(b), err)
		}
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, resp.Header, fmt.Errorf("%s %s → %d: %s", method, path, resp.StatusCode, truncate(b))
	}
	return resp.StatusCode, resp.Header, nil
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// benchLimits lift the per-account rate limit and sub-account quota so that
// the bench measures the server, not 429 or 403 quota_exceeded answers.
var benchLimits = map[string]any{"rate_limit": 1_000_000, "max_sub_accounts": 1_000_000}

// setup obtains a main account (the bootstrap one, or a new one through the
// operator API when the database was not empty), lifts its limits, and seeds
// the sub-accounts that the list, get and update scenarios read.
func setup(ctx context.Context, t target, boot *credentials, adminToken string, seed int, logf func(string, ...any)) (fixture, error) {
	fx := fixture{runID: randomToken(6)}
	admin := map[string]string{"Authorization": "Bearer " + adminToken}
	if boot != nil {
		fx.cred = *boot
		logf("using the bootstrap main account %s", boot.AuthID)
	} else {
		var created struct {
			Creds struct {
				AuthID    string `json:"auth_id"`
				AuthToken string `json:"auth_token"`
			} `json:"auth_credentials"`
		}
		body := map[string]any{"name": "bench " + fx.runID}
		for k, v := range benchLimits {
			body[k] = v
		}
		if _, _, err := apiCall(ctx, t, http.MethodPost, "/api/v1/admin/accounts", admin, body, &created); err != nil {
			return fx, fmt.Errorf("database not empty (no bootstrap line); creating a main account: %w", err)
		}
		fx.cred = credentials{AuthID: created.Creds.AuthID, AuthToken: created.Creds.AuthToken}
		logf("database not empty: created main account %s through the operator API", fx.cred.AuthID)
	}
	if _, _, err := apiCall(ctx, t, http.MethodPut, "/api/v1/admin/accounts/"+fx.cred.AuthID, admin, benchLimits, nil); err != nil {
		return fx, fmt.Errorf("raising the rate limit: %w", err)
	}
	auth := map[string]string{"X-Auth-ID": fx.cred.AuthID, "X-Auth-Token": fx.cred.AuthToken}
	var me struct {
		RateLimit int `json:"rate_limit"`
	}
	_, hdr, err := apiCall(ctx, t, http.MethodGet, "/api/v1/auth/me", auth, nil, &me)
	if err != nil {
		return fx, err
	}
	if me.RateLimit != 1_000_000 || hdr.Get("X-RateLimit-Limit") != strconv.Itoa(1_000_000) {
		return fx, fmt.Errorf("rate limit not raised: rate_limit %d, X-RateLimit-Limit %q", me.RateLimit, hdr.Get("X-RateLimit-Limit"))
	}

	subs := "/api/v1/accounts/" + fx.cred.AuthID + "/sub-accounts"
	for i := 1; i <= seed; i++ {
		var created struct {
			Creds struct {
				AuthID string `json:"auth_id"`
			} `json:"auth_credentials"`
		}
		body := map[string]any{"name": fmt.Sprintf("bench-seed-%s-%d", fx.runID, i), "description": "seeded by the benchmark"}
		if _, _, err := apiCall(ctx, t, http.MethodPost, subs, auth, body, &created); err != nil {
			return fx, fmt.Errorf("seeding sub-account %d: %w", i, err)
		}
		if i == 1 {
			fx.sub = created.Creds.AuthID
		}
	}
	var list struct {
		SubAccounts []json.RawMessage `json:"sub_accounts"`
		Total       int               `json:"total"`
	}
	if _, _, err := apiCall(ctx, t, http.MethodGet, subs+"?size=25", auth, nil, &list); err != nil {
		return fx, err
	}
	if list.Total != seed || len(list.SubAccounts) != min(25, seed) {
		return fx, fmt.Errorf("after seeding %d sub-accounts the list shows total %d with %d items", seed, list.Total, len(list.SubAccounts))
	}
	logf("seeded %d sub-accounts; item target %s", seed, fx.sub)
	return fx, nil
}
