package httpapi_test

// One case per error code the server emits (CONTRACT §0.7): status, code,
// exact key set, a UUID api_id, a message, JSON content type, and nothing
// internal (SQL, paths, stacks) in the body.

import (
	"net/http"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/storetest"
)

func TestErrorCodes(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{Admin: true})
		s := e.createSub(t, map[string]any{"name": "errors", "email": "taken@example.com"})
		item := subPath(e.main.AuthID, s.AuthID)

		cases := []struct {
			code   string
			status int
			do     func(t *testing.T) *resp
			// extra checks on the response
			check func(t *testing.T, r *resp)
		}{
			{sb.EInvalidJSON, 400, func(t *testing.T) *resp {
				return e.do(t, "POST", subsPath(e.main.AuthID), rawBody(`{"name":`, "application/json"), pair(e.main))
			}, nil},
			{sb.EValidation, 400, func(t *testing.T) *resp {
				return e.do(t, "POST", subsPath(e.main.AuthID), jsonBody(map[string]any{"name": "", "rate_limit": 0}), pair(e.main))
			}, func(t *testing.T, r *resp) {
				if !r.hasDetail("name", "required") || !r.hasDetail("rate_limit", "out_of_range") {
					t.Errorf("details %v, want name/required and rate_limit/out_of_range", r.Obj["details"])
				}
			}},
			{sb.EUnauthorized, 401, func(t *testing.T) *resp {
				return e.me(t, pair(account{e.main.AuthID, strings.Repeat("z", 40)}))
			}, nil},
			{sb.ETokenExpired, 401, func(t *testing.T) *resp {
				now := e.clock.Now()
				tok := e.signJWT(sb.Claims{Issuer: "switchboard", Subject: s.AuthID, Type: "access",
					IssuedAt: now.Add(-2 * time.Hour).Unix(), ExpiresAt: now.Add(-time.Hour).Unix(), ID: sb.NewUUID()})
				return e.me(t, bearer(tok))
			}, nil},
			{sb.EForbidden, 403, func(t *testing.T) *resp {
				return e.do(t, "GET", subsPath(e.main.AuthID), noBody, pair(s.account))
			}, nil},
			{sb.EAccountInactive, 403, func(t *testing.T) *resp {
				d := e.createSub(t, map[string]any{"name": "disabled"})
				e.do(t, "PUT", subPath(e.main.AuthID, d.AuthID), jsonBody(map[string]any{"enabled": false}), pair(e.main)).want(t, 200)
				return e.me(t, pair(d.account))
			}, nil},
			{sb.EQuotaExceeded, 403, func(t *testing.T) *resp {
				r := e.do(t, "POST", "/api/v1/admin/accounts", jsonBody(map[string]any{"name": "Small", "max_sub_accounts": 1}), e.adminAuth()).want(t, 201)
				small := account{str(r.obj("auth_credentials"), "auth_id"), str(r.obj("auth_credentials"), "auth_token")}
				e.createSubOf(t, small, map[string]any{"name": "only"})
				return e.do(t, "POST", subsPath(small.AuthID), jsonBody(map[string]any{"name": "one too many"}), pair(small))
			}, nil},
			{sb.ENotFound, 404, func(t *testing.T) *resp {
				return e.do(t, "GET", subPath(e.main.AuthID, "SA_ZZZZZZZZ"), noBody, pair(e.main))
			}, nil},
			{sb.EMethodNotAllowed, 405, func(t *testing.T) *resp {
				return e.do(t, "DELETE", "/healthz", noBody)
			}, func(t *testing.T, r *resp) {
				if allow := r.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "HEAD") {
					t.Errorf("Allow %q", allow)
				}
			}},
			{sb.EAlreadyExists, 409, func(t *testing.T) *resp {
				return e.do(t, "POST", subsPath(e.main.AuthID), jsonBody(map[string]any{"name": "dup", "email": "TAKEN@example.com"}), pair(e.main))
			}, nil},
			{sb.EPreconditionFailed, 412, func(t *testing.T) *resp {
				return e.do(t, "PUT", item, jsonBody(map[string]any{"name": "x"}), pair(e.main), hdr("If-Match", `"v999"`))
			}, nil},
			{sb.EPayloadTooLarge, 413, func(t *testing.T) *resp {
				return e.do(t, "POST", subsPath(e.main.AuthID), rawBody(`{"name":"`+strings.Repeat("x", 1<<20)+`"}`, "application/json"), pair(e.main))
			}, nil},
			{sb.EUnsupportedMediaType, 415, func(t *testing.T) *resp {
				return e.do(t, "POST", subsPath(e.main.AuthID), rawBody(`<name>x</name>`, "application/xml"), pair(e.main))
			}, nil},
			{sb.EIdempotencyKeyReused, 422, func(t *testing.T) *resp {
				key := hdr("Idempotency-Key", "errors-table-key")
				e.do(t, "POST", subsPath(e.main.AuthID), jsonBody(map[string]any{"name": "first"}), pair(e.main), key).want(t, 201)
				return e.do(t, "POST", subsPath(e.main.AuthID), jsonBody(map[string]any{"name": "second"}), pair(e.main), key)
			}, nil},
			{sb.ERateLimited, 429, func(t *testing.T) *resp {
				var r *resp
				for i := 0; i < 11; i++ {
					r = e.do(t, "POST", "/api/v1/auth/login", jsonBody(map[string]any{"email": "brute@example.com", "password": "guess-guess"}))
				}
				return r
			}, func(t *testing.T, r *resp) {
				if r.Header.Get("Retry-After") == "" {
					t.Errorf("429 without Retry-After")
				}
			}},
		}
		seen := map[string]bool{}
		for _, c := range cases {
			if seen[c.code] {
				t.Fatalf("two cases for %s", c.code)
			}
			seen[c.code] = true
			t.Run(c.code, func(t *testing.T) {
				r := c.do(t)
				checkErrorBody(t, c.code, r, c.status, c.code)
				if !uuidPattern.MatchString(r.Header.Get("X-Request-Id")) {
					t.Errorf("X-Request-Id %q", r.Header.Get("X-Request-Id"))
				}
				if c.status >= 400 && r.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("Cache-Control %q", r.Header.Get("Cache-Control"))
				}
				if c.check != nil && r.Status == c.status {
					c.check(t, r)
				}
			})
		}
	})
}

// TestInternalErrorDoesNotLeak closes the database under a running server:
// requests that need it fail with a generic body, never driver text.
func TestInternalErrorDoesNotLeak(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{Admin: true})
		s := e.createSub(t, map[string]any{"name": "before the crash"})
		if err := e.db.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		for _, c := range []struct {
			name string
			do   func() *resp
		}{
			{"auth pair", func() *resp { return e.me(t, pair(e.main)) }},
			{"JWT", func() *resp { return e.me(t, bearer(s.Access)) }},
			{"list", func() *resp { return e.do(t, "GET", subsPath(e.main.AuthID), noBody, pair(e.main)) }},
			{"login", func() *resp {
				return e.do(t, "POST", "/api/v1/auth/login", jsonBody(map[string]any{"email": "a@b.test", "password": "password1"}))
			}},
			{"admin list", func() *resp { return e.do(t, "GET", "/api/v1/admin/accounts", noBody, e.adminAuth()) }},
		} {
			r := c.do()
			switch r.Status {
			case http.StatusInternalServerError:
				checkErrorBody(t, c.name, r, 500, sb.EInternal)
				if r.str("message") != "internal error" {
					t.Errorf("%s: message %q, want the generic \"internal error\"", c.name, r.str("message"))
				}
			case http.StatusServiceUnavailable:
				checkErrorBody(t, c.name, r, 503, sb.EUnavailable)
				if r.Header.Get("Retry-After") == "" {
					t.Errorf("%s: 503 without Retry-After", c.name)
				}
			default:
				t.Errorf("%s: status %d with the database closed, want 500 or 503; body %s", c.name, r.Status, r.Body)
			}
			checkNoLeak(t, c.name, r.Body)
		}
		r := e.do(t, "GET", "/readyz", noBody)
		if r.check(t, 503, "readyz with the database closed") {
			assertKeys(t, r.Obj, "status", "reason")
			if r.str("status") != "not_ready" || r.str("reason") != "database" {
				t.Errorf("readyz %s", r.Body)
			}
		}
		e.do(t, "GET", "/healthz", noBody).check(t, 200, "healthz checks nothing else")
	})
}
