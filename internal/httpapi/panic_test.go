package httpapi

// A handler that panics must not take the server down, leak its cause or
// leave the database locked: the client gets the generic §0.7 500 body and
// the next request is served as usual.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
	"github.com/switchboard-voice/switchboard/internal/sqlstore"
	"github.com/switchboard-voice/switchboard/internal/storetest"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// panicCause is what the panicking handlers panic with: it looks like the
// things that must never reach a client.
const panicCause = "boom: SELECT * FROM accounts at /work/main/internal/httpapi/secret.go:42"

type panicFixture struct {
	svc  *app.Service
	srv  *httptest.Server
	log  *syncBuffer
	main sb.Account
	tok  string
}

// newPanicFixture serves a real Server, with a real store on dsn, to which
// test routes that panic have been added.
func newPanicFixture(t *testing.T, dsn string) *panicFixture {
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
	key, err := app.LoadServerKey(ctx, db, "")
	if err != nil {
		t.Fatalf("LoadServerKey: %v", err)
	}
	svc := app.New(db, app.NewClock(nil), key, app.Config{}, nil)
	boot, err := svc.Bootstrap(ctx)
	if err != nil || boot == nil {
		t.Fatalf("Bootstrap: %v %v", boot, err)
	}
	logs := &syncBuffer{}
	s := NewServer(Deps{Service: svc, Log: slog.New(slog.NewTextHandler(logs, nil)), Version: "test", Commit: "test"})
	s.routes = append(s.routes,
		&Route{Method: http.MethodGet, Path: "/api/v1/test/panic", Role: RolePublic, Name: "testPanic",
			handle: func(w http.ResponseWriter, r *http.Request, c *call) error { panic(panicCause) }},
		&Route{Method: http.MethodGet, Path: "/api/v1/test/panic-error", Role: RoleAny, Name: "testPanicError",
			handle: func(w http.ResponseWriter, r *http.Request, c *call) error {
				var m map[string]int
				m["nil map"]++ // a runtime error, not a string
				return nil
			}},
		&Route{Method: http.MethodPost, Path: "/api/v1/accounts/{auth_id}/test/panic-in-tx", Role: RoleParent, Name: "testPanicInTx",
			Action: "test.panic", TargetType: "account",
			handle: func(w http.ResponseWriter, r *http.Request, c *call) error {
				return svc.Store().Update(r.Context(), func(tx app.Tx) error {
					if err := tx.PutSetting(r.Context(), "panic-test", "written before the panic"); err != nil {
						return err
					}
					panic(panicCause)
				})
			}},
		&Route{Method: http.MethodPost, Path: "/api/v1/accounts/{auth_id}/test/panic-after-commit", Role: RoleParent, Name: "testPanicAfterCommit",
			Action: "test.panic", TargetType: "account",
			handle: func(w http.ResponseWriter, r *http.Request, c *call) error {
				if _, err := svc.CreateSubAccount(r.Context(), c.actor, c.param("auth_id"), sb.SubAccountCreate{Name: "made before a panic"}); err != nil {
					return err
				}
				panic(panicCause)
			}},
	)
	s.router = newRouter(s.routes)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &panicFixture{svc: svc, srv: srv, log: logs, main: *boot.Account, tok: boot.AuthToken}
}

type panicResp struct {
	status int
	header http.Header
	body   []byte
	obj    map[string]any
}

func (f *panicFixture) do(t *testing.T, method, path string, headers ...string) panicResp {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{Timeout: 20 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	r := panicResp{status: res.StatusCode, header: res.Header, body: body}
	json.Unmarshal(body, &r.obj)
	return r
}

func (f *panicFixture) auth() []string {
	return []string{"X-Auth-ID", f.main.AuthID, "X-Auth-Token", f.tok}
}

var panicUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// checkGeneric500 asserts the generic internal_error body and that nothing
// of the cause reached the client.
func checkGeneric500(t *testing.T, what string, r panicResp) {
	t.Helper()
	if r.status != http.StatusInternalServerError {
		t.Errorf("%s: status %d, want 500; body %s", what, r.status, r.body)
	}
	if len(r.obj) != 3 || r.obj["error"] != "internal_error" || r.obj["message"] != "internal error" {
		t.Errorf("%s: body %s, want exactly {api_id, error: internal_error, message: internal error}", what, r.body)
	}
	if id, _ := r.obj["api_id"].(string); !panicUUID.MatchString(id) {
		t.Errorf("%s: api_id %v is not a UUID", what, r.obj["api_id"])
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q", what, ct)
	}
	if r.header.Get("X-Request-Id") == "" {
		t.Errorf("%s: no X-Request-Id", what)
	}
	for _, leak := range []string{"boom", "SELECT", "secret.go", "/work/", ".go:", "goroutine", "panic", "runtime", "nil map"} {
		if bytes.Contains(r.body, []byte(leak)) {
			t.Errorf("%s: body leaks %q: %s", what, leak, r.body)
		}
	}
}

func TestPanicIsAGenericInternalError(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		f := newPanicFixture(t, dsn)

		r := f.do(t, "GET", "/api/v1/test/panic", "X-Request-Id", "panic-req-1")
		checkGeneric500(t, "panicking handler", r)
		if r.header.Get("X-Request-Id") != "panic-req-1" {
			t.Errorf("X-Request-Id %q, want the client's", r.header.Get("X-Request-Id"))
		}
		// The cause is logged, with the request id, for the operator.
		if l := f.log.String(); !strings.Contains(l, "panic-req-1") || !strings.Contains(l, "boom") {
			t.Errorf("the panic was not logged with its request id: %q", l)
		}
		checkGeneric500(t, "runtime error in an authenticated handler", f.do(t, "GET", "/api/v1/test/panic-error", f.auth()...))
		if r := f.do(t, "HEAD", "/api/v1/test/panic"); r.status != http.StatusInternalServerError || len(r.body) != 0 {
			t.Errorf("HEAD of a panicking route: %d with %d body bytes, want 500 and no body", r.status, len(r.body))
		}
		// The server keeps serving, panics again the same way, and serves
		// concurrent requests around panics.
		if r := f.do(t, "GET", "/healthz"); r.status != 200 {
			t.Errorf("healthz after a panic: %d", r.status)
		}
		checkGeneric500(t, "second panic", f.do(t, "GET", "/api/v1/test/panic"))
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				path := "/healthz"
				if i%2 == 0 {
					path = "/api/v1/test/panic"
				}
				req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
				res, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
				if err != nil {
					t.Errorf("concurrent %s: %v", path, err)
					return
				}
				res.Body.Close()
				if want := map[bool]int{true: 500, false: 200}[i%2 == 0]; res.StatusCode != want {
					t.Errorf("concurrent %s: %d, want %d", path, res.StatusCode, want)
				}
			}(i)
		}
		wg.Wait()
		if r := f.do(t, "GET", "/api/v1/auth/me", f.auth()...); r.status != 200 {
			t.Errorf("an authenticated request after the panics: %d %s", r.status, r.body)
		}
	})
}

func TestPanicInsideATransaction(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		f := newPanicFixture(t, dsn)
		checkGeneric500(t, "panic inside a write transaction", f.do(t, "POST", "/api/v1/accounts/"+f.main.AuthID+"/test/panic-in-tx", f.auth()...))
		// The transaction was rolled back, and the write lock released: the
		// next write goes through at once.
		err := f.svc.Store().View(context.Background(), func(tx app.Tx) error {
			if _, ok, err := tx.GetSetting(context.Background(), "panic-test"); err != nil || ok {
				t.Errorf("the panicking transaction was committed (ok %v, err %v)", ok, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := f.svc.CreateSubAccount(ctx, sb.Actor{Kind: sb.ActorAccount, Account: &f.main}, f.main.AuthID, sb.SubAccountCreate{Name: "after the panic"}); err != nil {
				t.Errorf("a write after the panic: %v", err)
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("a write after the panic did not finish: the transaction is still open")
		}
	})
}

// A panic after the work of a keyed request committed must release its
// Idempotency-Key (CONTRACT §0.9: a 5xx stores nothing, so the client may
// retry): the retry runs again instead of getting 409
// idempotency_in_progress for 24 h.
func TestPanicReleasesIdempotencyKey(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		f := newPanicFixture(t, dsn)
		path := "/api/v1/accounts/" + f.main.AuthID + "/test/panic-after-commit"
		hdrs := append(f.auth(), "Idempotency-Key", "panic-key-1")
		checkGeneric500(t, "panic after commit", f.do(t, "POST", path, hdrs...))
		r := f.do(t, "POST", path, hdrs...)
		if r.status == http.StatusConflict && r.obj["error"] == "idempotency_in_progress" {
			t.Fatalf("retry after a 500: 409 idempotency_in_progress, although no request is executing")
		}
		checkGeneric500(t, "the retry runs again", r)
		if r.header.Get("Idempotent-Replayed") != "" {
			t.Errorf("the 500 was stored and replayed")
		}
	})
}
