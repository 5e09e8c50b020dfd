package httpapi_test

// Shared helpers for the end-to-end tests of the HTTP API: a real store on
// SQLite or PostgreSQL, the real use cases, the real handler behind a real
// HTTP listener (httptest.Server), and a controllable clock.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
	"github.com/switchboard-voice/switchboard/internal/httpapi"
	"github.com/switchboard-voice/switchboard/internal/sqlstore"
)

// testAdminToken is the operator token of environments that enable the
// operator API.
const testAdminToken = "test-admin-token-0123456789abcdef0123456789"

// clockStart has sub-microsecond digits so that truncation to the six
// fraction digits of §0.2 is exercised.
var clockStart = time.Date(2026, 11, 27, 10, 15, 30, 123456789, time.UTC)

// fakeClock is the base time of the service clock; tests move it instead
// of sleeping.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// envOpts selects the server configuration.
type envOpts struct {
	// Admin enables the operator API with testAdminToken.
	Admin bool
	// Dev enables dev mode (the dev helpers also need Admin).
	Dev bool
	// Config is the rest of the service configuration (Sender,
	// ValidateWebhookURL); Dev above wins over Config.Dev.
	Config app.Config
	// Log receives the service's and the handler's logs; nil discards them.
	Log *slog.Logger
}

// account is a credential pair of an account.
type account struct {
	AuthID string
	Token  string
}

// env is one running server over a fresh database.
type env struct {
	t     *testing.T
	dsn   string
	db    *sqlstore.DB
	key   []byte
	svc   *app.Service
	api   *httpapi.Server
	srv   *httptest.Server
	clock *fakeClock
	// main is the bootstrap main account.
	main account
	// mainSecret is its webhook signing secret.
	mainSecret string
	// mainID is its numeric id.
	mainID string
	admin  string
}

// newEnv opens and migrates dsn, bootstraps the first main account and
// serves the API on a loopback listener until the test ends.
func newEnv(t *testing.T, dsn string, opts envOpts) *env {
	t.Helper()
	ctx := context.Background()
	db := openDB(t, dsn)
	key, err := app.LoadServerKey(ctx, db, "")
	if err != nil {
		t.Fatalf("LoadServerKey: %v", err)
	}
	clk := &fakeClock{now: clockStart}
	cfg := opts.Config
	cfg.Dev = opts.Dev
	svc := app.New(db, app.NewClock(clk.Now), key, cfg, opts.Log)
	boot, err := svc.Bootstrap(ctx)
	if err != nil || boot == nil {
		t.Fatalf("Bootstrap: %v, %v", boot, err)
	}
	adminToken := ""
	if opts.Admin {
		adminToken = testAdminToken
	}
	api := httpapi.NewServer(httpapi.Deps{Service: svc, Log: opts.Log, AdminToken: adminToken, Version: "test", Commit: "test"})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &env{t: t, dsn: dsn, db: db, key: key, svc: svc, api: api, srv: srv, clock: clk,
		main: account{AuthID: boot.Account.AuthID, Token: boot.AuthToken}, mainSecret: boot.WebhookSecret,
		mainID: itoa(boot.Account.ID), admin: adminToken}
}

// openDB opens and migrates the database at dsn and closes it when the
// test ends (closing it earlier in the test is fine).
func openDB(t *testing.T, dsn string) *sqlstore.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if _, _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// resp is a decoded response.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
	// Obj is the body when it is a JSON object, else nil.
	Obj map[string]any
}

// reqOpt changes an outgoing request.
type reqOpt func(r *http.Request)

// pair authenticates with X-Auth-ID and X-Auth-Token.
func pair(a account) reqOpt {
	return func(r *http.Request) {
		r.Header.Set("X-Auth-ID", a.AuthID)
		r.Header.Set("X-Auth-Token", a.Token)
	}
}

// basic authenticates with HTTP Basic.
func basic(id, token string) reqOpt {
	return func(r *http.Request) { r.SetBasicAuth(id, token) }
}

// bearer sends Authorization: Bearer token.
func bearer(token string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// hdr sets a request header.
func hdr(k, v string) reqOpt {
	return func(r *http.Request) { r.Header.Set(k, v) }
}

// adminAuth sends the operator token of the environment.
func (e *env) adminAuth() reqOpt { return bearer(testAdminToken) }

// body is the JSON encoding of v, or v itself when it is a string or
// []byte (sent as is). JSON bodies are sent as application/json.
type bodyArg struct {
	raw []byte
	ct  string
	set bool
	// chunked hides the length so that the client streams the body.
	chunked bool
}

// jsonBody encodes v as the request body with Content-Type application/json.
func jsonBody(v any) bodyArg {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return bodyArg{raw: b, ct: "application/json", set: true}
}

// rawBody sends s as is with the given Content-Type ("" for none).
func rawBody(s, ct string) bodyArg { return bodyArg{raw: []byte(s), ct: ct, set: true} }

// noBody sends no body.
var noBody = bodyArg{}

// do sends one request to the server and decodes the answer.
func (e *env) do(t *testing.T, method, path string, body bodyArg, opts ...reqOpt) *resp {
	t.Helper()
	return doURL(t, e.srv.URL, method, path, body, opts...)
}

// doURL sends one request to base+path.
func doURL(t *testing.T, base, method, path string, body bodyArg, opts ...reqOpt) *resp {
	t.Helper()
	client := &http.Client{
		Timeout: 30 * time.Second,
		// A redirect is a failure of §0.5: surface it instead of following.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return doWith(t, client, base, method, path, body, opts...)
}

// doWith sends one request with client and decodes the answer.
func doWith(t *testing.T, client *http.Client, base, method, path string, body bodyArg, opts ...reqOpt) *resp {
	t.Helper()
	var rdr io.Reader
	if body.set {
		if body.chunked {
			rdr = io.MultiReader(bytes.NewReader(body.raw))
		} else {
			rdr = bytes.NewReader(body.raw)
		}
	}
	req, err := http.NewRequest(method, base+path, rdr)
	if err != nil {
		t.Fatalf("NewRequest %s %s: %v", method, path, err)
	}
	if body.set && body.ct != "" {
		req.Header.Set("Content-Type", body.ct)
	}
	for _, o := range opts {
		o(req)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	r := &resp{Status: res.StatusCode, Header: res.Header, Body: raw}
	var obj map[string]any
	if json.Unmarshal(raw, &obj) == nil {
		r.Obj = obj
	}
	return r
}

// want fails the test now unless the status is status.
func (r *resp) want(t *testing.T, status int) *resp {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body: %s", r.Status, status, r.Body)
	}
	return r
}

// check reports (without stopping) a status other than status; it returns
// whether the status matched.
func (r *resp) check(t *testing.T, status int, what string) bool {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %d, want %d; body: %s", what, r.Status, status, r.Body)
		return false
	}
	return true
}

// checkErr reports a status or error code other than the expected ones.
func (r *resp) checkErr(t *testing.T, status int, code, what string) bool {
	t.Helper()
	if r.Status != status || r.str("error") != code {
		t.Errorf("%s: got %d %q, want %d %q; body: %s", what, r.Status, r.str("error"), status, code, r.Body)
		return false
	}
	return true
}

// str returns a string key of the body object ("" when absent).
func (r *resp) str(key string) string {
	s, _ := r.Obj[key].(string)
	return s
}

// obj returns a nested object of the body.
func (r *resp) obj(key string) map[string]any {
	m, _ := r.Obj[key].(map[string]any)
	return m
}

// list returns an array key of the body.
func (r *resp) list(key string) []any {
	l, _ := r.Obj[key].([]any)
	return l
}

// str reads a string key of m.
func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// num reads a number key of m (NaN-free: -1 when absent).
func num(m map[string]any, key string) float64 {
	f, ok := m[key].(float64)
	if !ok {
		return -1
	}
	return f
}

// assertKeys fails when the key set of obj differs from keys, like a
// strict client that knows the contract's shapes exactly.
func assertKeys(t *testing.T, obj map[string]any, keys ...string) {
	t.Helper()
	if obj == nil {
		t.Errorf("assertKeys: not a JSON object, want keys %v", keys)
		return
	}
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	var missing, extra []string
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range obj {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("key set differs: missing %v, unexpected %v (object %v)", missing, extra, obj)
	}
}

// The key sets of the contract.
var (
	subAccountKeys = []string{"name", "email", "phone", "description", "permissions", "rate_limit", "id",
		"parent_account_id", "parent_auth_id", "auth_id", "auth_token", "api_id", "email_verified", "enabled",
		"created", "modified", "is_active", "created_at", "updated_at", "last_used", "account", "resource_uri",
		"kyc_mode", "business_type", "kyc_calls_blocked"}
	mainAccountKeys = []string{"id", "api_id", "auth_id", "name", "email", "phone", "currency", "enabled",
		"is_active", "rate_limit", "max_sub_accounts", "low_balance_threshold", "pricing", "balance",
		"sub_account_count", "created_at", "updated_at", "last_used"}
	pricingKeys   = []string{"outbound_rate_per_minute", "inbound_rate_per_minute", "billing_increment_seconds", "minimum_duration_seconds"}
	tokenPairKeys = []string{"access_token", "refresh_token", "token_type", "expires_in"}
	loginKeys     = append(slices.Clone(tokenPairKeys), "auth_id")
	rotationKeys  = []string{"message", "auth_id", "auth_token", "previous_token_expires_at"}
	meKeys        = []string{"type", "role", "id", "api_id", "auth_id", "parent_auth_id", "name", "email", "phone",
		"currency", "enabled", "is_active", "rate_limit", "created_at", "updated_at", "last_used"}
	deletePlanKeys = []string{"dry_run", "sub_account_id", "cascade", "numbers", "trunks", "kyc_sessions_revoked",
		"balance_settlement", "active_calls"}
	errorKeys = []string{"api_id", "error", "message"}
)

var (
	timePattern   = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)
	uuidPattern   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	tokenPattern  = regexp.MustCompile(`^[A-Za-z0-9]{40}$`)
	subIDPattern  = regexp.MustCompile(`^SA_[A-Z0-9]{8}$`)
	mainIDPattern = regexp.MustCompile(`^MA_[A-Z0-9]{8}$`)
	whsecPattern  = regexp.MustCompile(`^whsec_[A-Za-z0-9]{40}$`)
	numIDPattern  = regexp.MustCompile(`^[0-9]+$`)
)

// checkTime reports a value that is not a §0.2 time string.
func checkTime(t *testing.T, what string, v any) {
	t.Helper()
	s, ok := v.(string)
	if !ok || !timePattern.MatchString(s) {
		t.Errorf("%s = %#v, want a time with six fraction digits and Z", what, v)
	}
}

// fmtTime is the §0.2 rendering of a time.
func fmtTime(tm time.Time) string {
	return tm.UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.000000Z")
}

// subsPath is the sub-account collection of a main account.
func subsPath(mainAuthID string) string { return "/api/v1/accounts/" + mainAuthID + "/sub-accounts" }

// subPath is one sub-account item.
func subPath(mainAuthID, subAuthID string) string { return subsPath(mainAuthID) + "/" + subAuthID }

// created is a sub-account made through the API.
type created struct {
	account
	Obj     map[string]any // the sub_account object of the create response
	Access  string
	Refresh string
}

// createSub creates a sub-account of the bootstrap main account.
func (e *env) createSub(t *testing.T, body map[string]any) created {
	t.Helper()
	return e.createSubOf(t, e.main, body)
}

// createSubOf creates a sub-account of parent.
func (e *env) createSubOf(t *testing.T, parent account, body map[string]any) created {
	t.Helper()
	r := e.do(t, "POST", subsPath(parent.AuthID)+"/", jsonBody(body), pair(parent)).want(t, http.StatusCreated)
	sub := r.obj("sub_account")
	tokens := r.obj("tokens")
	return created{account: account{AuthID: str(sub, "auth_id"), Token: str(r.obj("auth_credentials"), "auth_token")},
		Obj: sub, Access: str(tokens, "access_token"), Refresh: str(tokens, "refresh_token")}
}

// newMain creates another main account directly through the use cases.
func (e *env) newMain(t *testing.T, name string, email *string) account {
	t.Helper()
	res, err := e.svc.CreateMainAccount(context.Background(), sb.Actor{Kind: sb.ActorCLI},
		sb.MainAccountCreate{Name: name, Email: email})
	if err != nil {
		t.Fatalf("CreateMainAccount: %v", err)
	}
	return account{AuthID: res.Account.AuthID, Token: res.AuthToken}
}

// me calls /api/v1/auth/me with the given credentials.
func (e *env) me(t *testing.T, opts ...reqOpt) *resp {
	t.Helper()
	return e.do(t, "GET", "/api/v1/auth/me", noBody, opts...)
}

// signJWT builds an HS256 token with the server key (for expired tokens).
func (e *env) signJWT(c sb.Claims) string { return sb.SignJWT(e.key, c) }

// b64 is the JWT segment encoding.
var b64 = base64.RawURLEncoding

// leakPatterns are fragments that must never reach a client: SQL, driver
// names, file paths, Go stack traces.
var leakPatterns = []string{"SELECT ", "INSERT INTO", "UPDATE accounts", "DELETE FROM", " FROM ", "sqlstore",
	"sql:", "SQLSTATE", "pgx", "pgconn", "sqlite", "database is closed", "goroutine ", ".go:", "runtime.", "panic",
	"/tmp/", "/work/", "/home/", "switchboard.db"}

// checkNoLeak reports any leak pattern in body.
func checkNoLeak(t *testing.T, what string, body []byte) {
	t.Helper()
	for _, p := range leakPatterns {
		if bytes.Contains(body, []byte(p)) {
			t.Errorf("%s: body leaks %q: %s", what, p, body)
		}
	}
}

// checkErrorBody asserts the §0.7 shape of an error response.
func checkErrorBody(t *testing.T, what string, r *resp, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %d, want %d; body %s", what, r.Status, status, r.Body)
	}
	if r.Obj == nil {
		t.Errorf("%s: body is not a JSON object: %q", what, r.Body)
		return
	}
	if got := r.str("error"); got != code {
		t.Errorf("%s: error %q, want %q", what, got, code)
	}
	if code == sb.EValidation {
		assertKeys(t, r.Obj, append(slices.Clone(errorKeys), "details")...)
		d, ok := r.Obj["details"].([]any)
		if !ok || len(d) == 0 {
			t.Errorf("%s: details = %v, want a non-empty list", what, r.Obj["details"])
		}
		for _, x := range d {
			m, _ := x.(map[string]any)
			assertKeys(t, m, "field", "code", "message")
		}
	} else {
		assertKeys(t, r.Obj, errorKeys...)
	}
	if !uuidPattern.MatchString(r.str("api_id")) {
		t.Errorf("%s: api_id %q is not a UUID", what, r.str("api_id"))
	}
	if strings.TrimSpace(r.str("message")) == "" {
		t.Errorf("%s: empty message", what)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	checkNoLeak(t, what, r.Body)
}

// detail returns the first validation detail of r (nil when none).
func (r *resp) detail() map[string]any {
	d := r.list("details")
	if len(d) == 0 {
		return nil
	}
	m, _ := d[0].(map[string]any)
	return m
}

// hasDetail reports whether r has a validation detail for field with code.
func (r *resp) hasDetail(field, code string) bool {
	for _, x := range r.list("details") {
		m, _ := x.(map[string]any)
		if str(m, "field") == field && (code == "" || str(m, "code") == code) {
			return true
		}
	}
	return false
}
