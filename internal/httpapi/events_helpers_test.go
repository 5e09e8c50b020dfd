package httpapi_test

// Helpers for the audit-log and webhook tests (events_test.go): an
// environment whose service delivers webhooks, a receiver that records and
// verifies what it gets, and direct database access for tamper tests.

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/switchboard-voice/switchboard/internal/sqlstore"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// hookOpts selects the configuration of a webhook environment.
type hookOpts struct {
	envOpts
	// StrictURLs validates webhook URLs as outside dev mode (no private
	// targets, https only); otherwise any http(s) URL is accepted.
	StrictURLs bool
}

// hookEnv is an env whose service sends webhooks with the real sender
// (insecure targets allowed, so a loopback receiver works), plus the
// bootstrap account's webhook secret.
type hookEnv struct {
	*env
	secret string
}

// newHookEnv is newEnv with Config.Sender and Config.ValidateWebhookURL set
// as cmd/switchboard sets them.
func newHookEnv(t *testing.T, dsn string, opts hookOpts) *hookEnv {
	t.Helper()
	insecure := !opts.StrictURLs
	opts.Config.Sender = webhook.NewSender(true)
	opts.Config.ValidateWebhookURL = func(raw string) error { return webhook.ValidateURL(raw, insecure) }
	e := newEnv(t, dsn, opts.envOpts)
	return &hookEnv{env: e, secret: e.mainSecret}
}

// deliver runs delivery passes until nothing due is left, without moving
// the clock (what the background worker does on its tick).
func (e *hookEnv) deliver(t *testing.T) {
	t.Helper()
	for {
		n, err := e.svc.DeliverDue(context.Background(), 50)
		if err != nil {
			t.Fatalf("DeliverDue: %v", err)
		}
		if n < 50 {
			return
		}
	}
}

// advance moves the server clock through the dev helper, which runs the
// deliveries that became due before it answers.
func (e *hookEnv) advance(t *testing.T, seconds int) {
	t.Helper()
	e.do(t, "POST", "/api/v1/admin/dev/clock/advance", jsonBody(map[string]any{"seconds": seconds}), e.adminAuth()).want(t, http.StatusOK)
}

// webhookPath is a main account's webhook endpoint.
func webhookPath(mainAuthID string) string { return "/api/v1/accounts/" + mainAuthID + "/webhook" }

// deliveriesPath is a main account's delivery log.
func deliveriesPath(mainAuthID string) string {
	return "/api/v1/accounts/" + mainAuthID + "/webhook-deliveries"
}

// deliveries lists the delivery log with the given query.
func (e *hookEnv) deliveries(t *testing.T, query url.Values) *resp {
	t.Helper()
	p := deliveriesPath(e.main.AuthID)
	if len(query) > 0 {
		p += "?" + query.Encode()
	}
	return e.do(t, "GET", p, noBody, pair(e.main)).want(t, http.StatusOK)
}

// hookCall is one request the receiver got.
type hookCall struct {
	Method      string
	Path        string
	Event       string
	EventID     string
	UserAgent   string
	ContentType string
	Signature   string
	Body        []byte
	// Obj is the body decoded as a JSON object (nil if it is not one).
	Obj map[string]any
	// Valid is whether the signature verified under the receiver's secret
	// at the time of the call.
	Valid bool
}

// receiver is a webhook target on 127.0.0.1 that records every call,
// verifies its signature and can be told to answer 500.
type receiver struct {
	srv *httptest.Server

	mu     sync.Mutex
	calls  []hookCall
	secret string
	// failFirst calls answer 500 (counted down); failAlways answers 500
	// to every call.
	failFirst  int
	failAlways bool
}

func newReceiver(t *testing.T, secret string) *receiver {
	t.Helper()
	rc := &receiver{secret: secret}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c := hookCall{Method: r.Method, Path: r.URL.Path, Event: r.Header.Get("X-Vobiz-Event"),
			EventID: r.Header.Get("X-Vobiz-Event-Id"), UserAgent: r.Header.Get("User-Agent"),
			ContentType: r.Header.Get("Content-Type"), Signature: r.Header.Get("X-Vobiz-Signature"), Body: body}
		var obj map[string]any
		if json.Unmarshal(body, &obj) == nil {
			c.Obj = obj
		}
		rc.mu.Lock()
		c.Valid = webhook.Verify(rc.secret, body, c.Signature)
		rc.calls = append(rc.calls, c)
		fail := rc.failAlways || rc.failFirst > 0
		if rc.failFirst > 0 {
			rc.failFirst--
		}
		rc.mu.Unlock()
		if fail {
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// URL is the receiver's hook URL.
func (rc *receiver) URL() string { return rc.srv.URL + "/hook" }

// setSecret changes the secret the receiver verifies with.
func (rc *receiver) setSecret(s string) {
	rc.mu.Lock()
	rc.secret = s
	rc.mu.Unlock()
}

// setFail sets how the receiver fails.
func (rc *receiver) setFail(first int, always bool) {
	rc.mu.Lock()
	rc.failFirst, rc.failAlways = first, always
	rc.mu.Unlock()
}

// got returns a copy of the calls so far.
func (rc *receiver) got() []hookCall {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hookCall(nil), rc.calls...)
}

// since returns the calls after the first n.
func (rc *receiver) since(n int) []hookCall {
	all := rc.got()
	if n > len(all) {
		return nil
	}
	return all[n:]
}

// rawDB opens a second connection to the environment's database, as an
// attacker with file or database access would, bypassing the store.
func (e *env) rawDB(t *testing.T) *sql.DB {
	t.Helper()
	driver, dsn := "sqlite", e.dsn+"?_pragma=busy_timeout(10000)"
	if sqlstore.IsPostgresDSN(e.dsn) {
		driver, dsn = "pgx", e.dsn
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("open %s: %v", driver, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
