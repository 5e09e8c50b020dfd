package httpapi_test

// Helpers of the security tests (security_test.go): route-table driven
// classification, per-schema request samples, callers that rotate through
// the credential schemes, HTTP clients on their own loopback addresses, a
// server whose logs go to a buffer, and scanners for secrets at rest.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-voice/switchboard/internal/httpapi"
)

// ---------------------------------------------------------------------------
// Route classification

// secParamKind is what a path parameter names.
type secParamKind string

const (
	secParamMainAccount secParamKind = "main account"     // {auth_id}: the tenant's MA_ (or, on /Account/, MA_ or SA_)
	secParamSubAccount  secParamKind = "sub-account"      // {sub_auth_id}: one of the tenant's SA_
	secParamDelivery    secParamKind = "webhook delivery" // {delivery_id}: one of the tenant's dlv_
)

// secTenantParams classifies every path parameter of the route table. Every
// parameter is tenant-owned: a route whose path has one is in the
// cross-tenant matrix. A parameter missing here fails TestCrossTenantMatrix
// so that a new route cannot skip the matrix: add the parameter with the
// objects of tenant A it must be filled with (secTenantWorld.paramValues).
var secTenantParams = map[string]secParamKind{
	"auth_id":     secParamMainAccount,
	"sub_auth_id": secParamSubAccount,
	"delivery_id": secParamDelivery,
}

// secNonTenantRoutes are the routes without a tenant-owned path parameter,
// each with the reason it is outside the cross-tenant matrix. A route with
// no path parameter that is not listed here fails TestCrossTenantMatrix.
var secNonTenantRoutes = map[string]string{
	"GET /healthz":                         "public operations endpoint",
	"GET /readyz":                          "public operations endpoint",
	"GET /metrics":                         "operator token only (§11)",
	"GET /openapi.json":                    "public document",
	"GET /docs":                            "public document",
	"POST /api/v1/auth/login":              "public; acts on the account the email names",
	"POST /api/v1/auth/refresh":            "acts on the refresh token's own subject",
	"GET /api/v1/auth/me":                  "the caller itself",
	"POST /api/v1/auth-token/rotate":       "main-self: the caller itself (TestSubAccountCredentialsOnParentRoutes)",
	"POST /api/v1/admin/accounts":          "operator",
	"GET /api/v1/admin/accounts":           "operator",
	"GET /api/v1/admin/audit-log":          "operator",
	"GET /api/v1/admin/audit-log/verify":   "operator",
	"POST /api/v1/admin/dev/reset":         "operator, dev mode",
	"GET /api/v1/admin/dev/clock":          "operator, dev mode",
	"POST /api/v1/admin/dev/clock/advance": "operator, dev mode",
	"POST /api/v1/admin/dev/clock/reset":   "operator, dev mode",
}

var secPathParamPattern = regexp.MustCompile(`\{([^}]+)\}`)

// secPathParams lists the {name} parameters of a route path in order.
func secPathParams(path string) []string {
	var out []string
	for _, m := range secPathParamPattern.FindAllStringSubmatch(path, -1) {
		out = append(out, m[1])
	}
	return out
}

// secFillPath substitutes parameter values into a route path.
func secFillPath(path string, values map[string]string) string {
	return secPathParamPattern.ReplaceAllStringFunc(path, func(m string) string {
		return values[m[1:len(m)-1]]
	})
}

// secRouteMethods are the methods a route answers: its own, HEAD wherever GET
// is, PATCH wherever PUT is (§0.1). OPTIONS needs no credentials by design
// and is left out.
func secRouteMethods(rt *httpapi.Route) []string {
	switch rt.Method {
	case http.MethodGet:
		return []string{http.MethodGet, http.MethodHead}
	case http.MethodPut:
		return []string{http.MethodPut, http.MethodPatch}
	}
	return []string{rt.Method}
}

func secRouteKey(rt *httpapi.Route) string { return rt.Method + " " + rt.Path }

// ---------------------------------------------------------------------------
// Request samples

// secRequestSamples holds a valid body for every request schema of the route
// table (Route.Doc.Request). n makes unique values (emails) per call. A
// schema missing here fails the tests that send bodies.
var secRequestSamples = map[string]func(n int) map[string]any{
	"Login": func(n int) map[string]any {
		return map[string]any{"email": fmt.Sprintf("nobody-%d@example.test", n), "password": "not-the-password"}
	},
	"Rotate": func(int) map[string]any { return map[string]any{"grace_seconds": 60} },
	"SubAccountCreate": func(n int) map[string]any {
		return map[string]any{"name": fmt.Sprintf("Sample %d", n), "email": fmt.Sprintf("sample-%d@example.test", n),
			"description": "sample", "rate_limit": 500, "permissions": map[string]any{"calls": true, "cdr": true}}
	},
	"SubAccountUpdate": func(n int) map[string]any {
		return map[string]any{"name": fmt.Sprintf("Renamed %d", n), "description": fmt.Sprintf("changed %d", n)}
	},
	"SubAccountDelete": func(int) map[string]any { return map[string]any{"cascade": true, "dry_run": false} },
	"WebhookUpdate": func(n int) map[string]any {
		return map[string]any{"url": fmt.Sprintf("https://attacker.example.test/hook/%d", n), "events": []any{"*"}}
	},
	"MainAccountCreate": func(n int) map[string]any {
		return map[string]any{"name": fmt.Sprintf("Main %d", n), "email": fmt.Sprintf("main-%d@example.test", n)}
	},
	"MainAccountUpdate": func(n int) map[string]any {
		return map[string]any{"name": fmt.Sprintf("Main renamed %d", n)}
	},
	"DevReset":     func(int) map[string]any { return map[string]any{"bootstrap": true} },
	"ClockAdvance": func(int) map[string]any { return map[string]any{"seconds": 1} },
}

var secSampleCounter atomic.Int64

// secSampleFor returns a sample body for the route's request schema; ok is
// false (and the test is failed) when the schema has no sample.
func secSampleFor(t *testing.T, rt *httpapi.Route) (map[string]any, bool) {
	t.Helper()
	if rt.Doc.Request == "" {
		return nil, true
	}
	f, ok := secRequestSamples[rt.Doc.Request]
	if !ok {
		t.Errorf("route %s has request schema %q with no entry in secRequestSamples", secRouteKey(rt), rt.Doc.Request)
		return nil, false
	}
	return f(int(secSampleCounter.Add(1))), true
}

// secBodyFor is the body a request with method sends to rt: the sample of
// its request schema for methods with a body, else none. ok is false when
// the schema has no sample (the test has been failed).
func secBodyFor(t *testing.T, rt *httpapi.Route, method string) (body bodyArg, ok bool) {
	t.Helper()
	if !secHasBody(method) {
		return noBody, true
	}
	sample, ok := secSampleFor(t, rt)
	if !ok || sample == nil {
		return noBody, ok
	}
	return jsonBody(sample), true
}

// secHasBody reports whether a method carries the route's request body.
func secHasBody(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// ---------------------------------------------------------------------------
// Callers

// caller is who sends a request; cred rotates through the credential
// schemes of §1.1 (X-Auth pair, Basic, Bearer JWT).
type secCaller struct {
	name string
	acct account
	// access is an access JWT of the account.
	access string
	// tenant is the caller's main account auth_id ("" when anonymous).
	tenant string
	sub    bool
	anon   bool
	// forged, when set, replaces the three schemes: credentials that must
	// not authenticate (refused like anonymous requests).
	forged []secScheme
	n      int
}

// secScheme is one named credential option.
type secScheme struct {
	name string
	opt  reqOpt
}

func (c *secCaller) cred() (scheme string, opt reqOpt) {
	if c.anon {
		return "anonymous", func(*http.Request) {}
	}
	if len(c.forged) > 0 {
		f := c.forged[c.n%len(c.forged)]
		c.n++
		return f.name, f.opt
	}
	i := c.n % 3
	c.n++
	switch i {
	case 0:
		return "pair", pair(c.acct)
	case 1:
		return "basic", basic(c.acct.AuthID, c.acct.Token)
	}
	return "jwt", bearer(c.access)
}

// schemes returns all three credential options of the caller.
func (c *secCaller) schemes() []secScheme {
	return []secScheme{{"pair", pair(c.acct)}, {"basic", basic(c.acct.AuthID, c.acct.Token)}, {"jwt", bearer(c.access)}}
}

// ---------------------------------------------------------------------------
// HTTP clients on their own loopback addresses

var secLoopbackCounter atomic.Uint32

// secLoopbackClient returns a client whose connections come from a fresh
// 127.x.y.z address. Failed authentications are limited per client IP and
// the test clock is frozen (§0.8: the 21st failure blocks the IP), so tests
// that send many refused credentials spread them over addresses.
func secLoopbackClient() *http.Client {
	n := secLoopbackCounter.Add(1)
	ip := net.IPv4(127, byte(2+n/62500), byte(n/250%250), byte(n%250+1))
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 10 * time.Second}
	return &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// secAddrRotator hands out loopback clients, a new address every per requests.
type secAddrRotator struct {
	per int
	n   int
	c   *http.Client
}

func (a *secAddrRotator) client() *http.Client {
	if a.c == nil || a.n%a.per == 0 {
		a.c = secLoopbackClient()
	}
	a.n++
	return a.c
}

// secAuthFails asserts that a credential is refused (401), from a fresh
// address so that the refusal does not count against the test's own IP.
func (e *env) secAuthFails(t *testing.T, what string, opts ...reqOpt) {
	t.Helper()
	r := doWith(t, secLoopbackClient(), e.srv.URL, "GET", "/api/v1/auth/me", noBody, opts...)
	if r.Status != http.StatusUnauthorized {
		t.Errorf("%s: /auth/me answered %d, want 401 (the credential must not authenticate); body %s", what, r.Status, r.Body)
	}
}

// secAuthAs asserts that a credential authenticates as authID.
func (e *env) secAuthAs(t *testing.T, what, authID string, opts ...reqOpt) {
	t.Helper()
	r := doWith(t, secLoopbackClient(), e.srv.URL, "GET", "/api/v1/auth/me", noBody, opts...)
	if r.Status != http.StatusOK || r.str("auth_id") != authID {
		t.Errorf("%s: /auth/me answered %d auth_id %q, want 200 %s; body %s", what, r.Status, r.str("auth_id"), authID, r.Body)
	}
}

// secRawResult is one answer of a concurrent request.
type secRawResult struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// secRawDo sends one request without a *testing.T (safe in goroutines).
func secRawDo(client *http.Client, method, url string, body []byte, headers map[string]string) secRawResult {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return secRawResult{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		return secRawResult{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return secRawResult{status: res.StatusCode, header: res.Header, body: b, err: err}
}

// ---------------------------------------------------------------------------
// A server whose logs are kept

// secSyncBuffer is a bytes.Buffer safe for concurrent writers.
type secSyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *secSyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *secSyncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// secNewLoggedEnv is newEnv with the service's and the handler's logs written
// as JSON at debug level to the returned buffer. It also returns the
// bootstrap main account's secrets.
func secNewLoggedEnv(t *testing.T, dsn string, opts envOpts) (*env, *secSyncBuffer) {
	t.Helper()
	logs := &secSyncBuffer{}
	opts.Log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return newEnv(t, dsn, opts), logs
}

// ---------------------------------------------------------------------------
// Secrets at rest

// secSecretSet maps a label ("sub S1 auth token") to a secret value.
type secSecretSet map[string]string

func (s secSecretSet) add(t *testing.T, label, value string) {
	t.Helper()
	if len(value) < 8 {
		t.Fatalf("secret %s is empty or too short to scan for: %q", label, value)
	}
	s[label] = value
}

// secEncodings are the forms in which a secret must not appear: as is, hex
// (PostgreSQL renders bytea as hex), and every base64 alphabet.
func secEncodings(secret string) map[string]string {
	b := []byte(secret)
	return map[string]string{
		"clear":         secret,
		"hex":           hex.EncodeToString(b),
		"HEX":           strings.ToUpper(hex.EncodeToString(b)),
		"base64":        base64.StdEncoding.EncodeToString(b),
		"base64-raw":    base64.RawStdEncoding.EncodeToString(b),
		"base64url":     base64.URLEncoding.EncodeToString(b),
		"base64url-raw": base64.RawURLEncoding.EncodeToString(b),
	}
}

// secFindSecrets returns "label (encoding)" for every secret found in hay.
func secFindSecrets(hay []byte, secrets secSecretSet) []string {
	var found []string
	for label, s := range secrets {
		for enc, v := range secEncodings(s) {
			if bytes.Contains(hay, []byte(v)) {
				found = append(found, label+" ("+enc+")")
			}
		}
	}
	sort.Strings(found)
	return found
}

// secDumpPostgres returns every row of every table of the test database's
// schemas as text, one "table: row" line each.
func secDumpPostgres(t *testing.T, dsn string) (dump []byte, tables int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("pgx.Connect: %v", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_schema, table_name FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
		ORDER BY 1, 2`)
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	var names []pgx.Identifier
	for rows.Next() {
		var schema, name string
		if err := rows.Scan(&schema, &name); err != nil {
			t.Fatalf("scan table name: %v", err)
		}
		names = append(names, pgx.Identifier{schema, name})
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("list tables: %v", err)
	}
	var buf bytes.Buffer
	for _, id := range names {
		rows, err := conn.Query(ctx, `SELECT t::text FROM `+id.Sanitize()+` t`)
		if err != nil {
			t.Fatalf("dump %s: %v", id.Sanitize(), err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatalf("dump %s: %v", id.Sanitize(), err)
			}
			fmt.Fprintf(&buf, "%s: %s\n", id.Sanitize(), line)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("dump %s: %v", id.Sanitize(), err)
		}
	}
	return buf.Bytes(), len(names)
}
