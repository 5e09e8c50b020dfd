package httpapi_test

// End-to-end tests of the HTTP API through a real listener, on SQLite and
// on PostgreSQL (storetest.Engines). Each test asserts what a Vobiz client
// (or an operator) would notice if it broke: status codes, exact key sets,
// credentials that stop or keep working.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/storetest"
)

// checkSubAccount asserts the §4.1 shape of a sub-account object.
func checkSubAccount(t *testing.T, what string, o map[string]any, parent account, parentID string) {
	t.Helper()
	assertKeys(t, o, subAccountKeys...)
	if !subIDPattern.MatchString(str(o, "auth_id")) {
		t.Errorf("%s: auth_id %q is not SA_ + 8 [A-Z0-9]", what, o["auth_id"])
	}
	if !numIDPattern.MatchString(str(o, "id")) {
		t.Errorf("%s: id %#v is not a decimal string", what, o["id"])
	}
	if !uuidPattern.MatchString(str(o, "api_id")) {
		t.Errorf("%s: api_id %q is not a UUID", what, o["api_id"])
	}
	if str(o, "parent_auth_id") != parent.AuthID || str(o, "parent_account_id") != parentID {
		t.Errorf("%s: parent %v/%v, want %s/%s", what, o["parent_auth_id"], o["parent_account_id"], parent.AuthID, parentID)
	}
	if want := "/v1/Account/" + parent.AuthID + "/"; str(o, "account") != want {
		t.Errorf("%s: account %q, want %q", what, o["account"], want)
	}
	if want := "/v1/Account/" + parent.AuthID + "/Subaccount/" + str(o, "auth_id") + "/"; str(o, "resource_uri") != want {
		t.Errorf("%s: resource_uri %q, want %q", what, o["resource_uri"], want)
	}
	for _, k := range []string{"created", "modified", "created_at", "updated_at"} {
		checkTime(t, what+"."+k, o[k])
	}
	if o["last_used"] != nil {
		checkTime(t, what+".last_used", o["last_used"])
	}
	if o["created"] != o["created_at"] || o["modified"] != o["updated_at"] {
		t.Errorf("%s: created/modified %v/%v differ from created_at/updated_at %v/%v", what, o["created"], o["modified"], o["created_at"], o["updated_at"])
	}
	if o["is_active"] != o["enabled"] {
		t.Errorf("%s: is_active %v != enabled %v", what, o["is_active"], o["enabled"])
	}
}

func TestSubAccountCreate(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{})
		now := fmtTime(e.clock.Now())

		// Without a trailing slash.
		body := map[string]any{"name": "  Support Team ", "email": " Support@Example.COM ", "phone": "+14155550100",
			"description": "Support line", "permissions": map[string]any{"calls": true}}
		r := e.do(t, "POST", subsPath(e.main.AuthID), jsonBody(body), pair(e.main)).want(t, http.StatusCreated)
		assertKeys(t, r.Obj, "message", "sub_account", "auth_credentials", "tokens")
		if r.str("message") != "Sub-account created successfully" {
			t.Errorf("message %q", r.str("message"))
		}
		sub := r.obj("sub_account")
		checkSubAccount(t, "create", sub, e.main, e.mainID)
		creds := r.obj("auth_credentials")
		assertKeys(t, creds, "auth_id", "auth_token")
		if str(creds, "auth_id") != str(sub, "auth_id") {
			t.Errorf("auth_credentials.auth_id %q != sub_account.auth_id %q", creds["auth_id"], sub["auth_id"])
		}
		if tok := str(creds, "auth_token"); !tokenPattern.MatchString(tok) || str(sub, "auth_token") != tok {
			t.Errorf("clear token: sub_account %q, auth_credentials %q; want the same 40-char token", sub["auth_token"], tok)
		}
		tokens := r.obj("tokens")
		assertKeys(t, tokens, tokenPairKeys...)
		if tokens["token_type"] != "bearer" || num(tokens, "expires_in") != 1800 {
			t.Errorf("tokens = %v", tokens)
		}
		wantVals := map[string]any{"name": "Support Team", "email": "support@example.com", "phone": "+14155550100",
			"description": "Support line", "rate_limit": 1000.0, "email_verified": false, "enabled": true, "is_active": true,
			"last_used": nil, "kyc_mode": "personal_use", "business_type": nil, "kyc_calls_blocked": false,
			"created_at": now, "updated_at": now}
		for k, v := range wantVals {
			if sub[k] != v {
				t.Errorf("sub_account.%s = %#v, want %#v", k, sub[k], v)
			}
		}
		if p, _ := sub["permissions"].(map[string]any); p == nil || p["calls"] != true || p["cdr"] != true {
			t.Errorf("permissions = %v, want {calls: true, cdr: true} (omitted key is true)", sub["permissions"])
		}
		subID := str(sub, "auth_id")
		if loc := r.Header.Get("Location"); !strings.HasSuffix(loc, subPath(e.main.AuthID, subID)) {
			t.Errorf("Location %q", loc)
		}
		if r.Header.Get("ETag") != `"v1"` {
			t.Errorf("ETag %q, want \"v1\"", r.Header.Get("ETag"))
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type %q", ct)
		}

		// The new credentials work at once, all three schemes.
		subAcct := account{AuthID: subID, Token: str(creds, "auth_token")}
		e.me(t, pair(subAcct)).check(t, 200, "sub pair")
		e.me(t, basic(subID, subAcct.Token)).check(t, 200, "sub basic")
		if m := e.me(t, bearer(str(tokens, "access_token"))); m.check(t, 200, "sub access JWT") && m.str("auth_id") != subID {
			t.Errorf("JWT subject %q, want %q", m.str("auth_id"), subID)
		}

		// With a trailing slash; null on create equals omission.
		r2 := e.do(t, "POST", subsPath(e.main.AuthID)+"/", jsonBody(map[string]any{"name": "Second", "email": nil, "description": nil}), pair(e.main)).
			want(t, http.StatusCreated)
		sub2 := r2.obj("sub_account")
		checkSubAccount(t, "create/", sub2, e.main, e.mainID)
		if sub2["email"] != nil || sub2["permissions"] != nil || sub2["description"] != nil {
			t.Errorf("defaults: email %v permissions %v description %v, want null", sub2["email"], sub2["permissions"], sub2["description"])
		}
		if str(sub2, "id") == str(sub, "id") || str(sub2, "auth_id") == subID {
			t.Errorf("ids not unique: %v %v", sub2["id"], sub2["auth_id"])
		}

		// Later reads are redacted.
		g := e.do(t, "GET", subPath(e.main.AuthID, subID), noBody, pair(e.main)).want(t, 200)
		checkSubAccount(t, "get", g.Obj, e.main, e.mainID)
		if g.str("auth_token") != "<redacted>" {
			t.Errorf("GET auth_token %q, want <redacted>", g.str("auth_token"))
		}
		if g.Header.Get("ETag") != `"v1"` {
			t.Errorf("GET ETag %q", g.Header.Get("ETag"))
		}
		l := e.do(t, "GET", subsPath(e.main.AuthID), noBody, pair(e.main)).want(t, 200)
		for _, it := range l.list("sub_accounts") {
			if str(it.(map[string]any), "auth_token") != "<redacted>" {
				t.Errorf("list item auth_token %v", it.(map[string]any)["auth_token"])
			}
		}

		// The create response's own last_used is null; a request with the
		// sub-account's own credentials sets it (at most once a minute).
		if g.Obj["last_used"] == nil {
			t.Errorf("last_used is null after the sub-account authenticated itself")
		} else if g.str("last_used") != now {
			t.Errorf("last_used %v, want %s", g.Obj["last_used"], now)
		}
	})
}

func TestCreateValidation(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{})
		cases := []struct {
			name  string
			body  map[string]any
			field string
			code  string
		}{
			{"missing name", map[string]any{}, "name", "required"},
			{"blank name", map[string]any{"name": "   "}, "name", "required"},
			{"long name", map[string]any{"name": strings.Repeat("n", 101)}, "name", "too_long"},
			{"bad email", map[string]any{"name": "x", "email": "not-an-email"}, "email", "invalid_format"},
			{"bad phone", map[string]any{"name": "x", "phone": "12345"}, "phone", "invalid_format"},
			{"rate_limit 0", map[string]any{"name": "x", "rate_limit": 0}, "rate_limit", "out_of_range"},
			{"rate_limit too high", map[string]any{"name": "x", "rate_limit": 100001}, "rate_limit", "out_of_range"},
			{"bad kyc_mode", map[string]any{"name": "x", "kyc_mode": "business"}, "kyc_mode", ""},
			{"bad business_type", map[string]any{"name": "x", "business_type": "corp"}, "business_type", ""},
			{"customer_use without email", map[string]any{"name": "x", "kyc_mode": "customer_use"}, "email", "required"},
			{"name not a string", map[string]any{"name": 5}, "name", "invalid_type"},
			{"enabled as string", map[string]any{"name": "x", "enabled": "false"}, "enabled", "invalid_type"},
			{"rate_limit as string", map[string]any{"name": "x", "rate_limit": "10"}, "rate_limit", "invalid_type"},
			{"permissions not an object", map[string]any{"name": "x", "permissions": "all"}, "permissions", "invalid_type"},
			{"permissions.calls not a bool", map[string]any{"name": "x", "permissions": map[string]any{"calls": "yes"}}, "permissions.calls", "invalid_type"},
			{"long description", map[string]any{"name": "x", "description": strings.Repeat("d", 1001)}, "description", "too_long"},
			{"short password", map[string]any{"name": "x", "password": "short"}, "password", ""},
		}
		for _, c := range cases {
			r := e.do(t, "POST", subsPath(e.main.AuthID), jsonBody(c.body), pair(e.main))
			if r.checkErr(t, 400, "validation_error", c.name) && !r.hasDetail(c.field, c.code) {
				t.Errorf("%s: details %v, want field %q code %q", c.name, r.Obj["details"], c.field, c.code)
			}
		}
		// Created disabled: its own credentials are inactive at once.
		d := e.createSub(t, map[string]any{"name": "born disabled", "enabled": false, "permissions": nil})
		if d.Obj["enabled"] != false || d.Obj["is_active"] != false || d.Obj["permissions"] != nil {
			t.Errorf("enabled:false create: %v", d.Obj)
		}
		e.me(t, pair(d.account)).checkErr(t, 403, "account_inactive", "created disabled")
		e.do(t, "GET", subsPath(e.main.AuthID), noBody, pair(d.account)).checkErr(t, 403, "account_inactive", "disabled before forbidden")
		// customer_use with an email is blocked for calls until KYC passes.
		c := e.createSub(t, map[string]any{"name": "cu", "email": "cu@example.com", "kyc_mode": "customer_use"})
		if c.Obj["kyc_calls_blocked"] != true {
			t.Errorf("customer_use create: kyc_calls_blocked %v, want true", c.Obj["kyc_calls_blocked"])
		}
		// Nothing was created by the failed requests.
		l := e.do(t, "GET", subsPath(e.main.AuthID), noBody, pair(e.main)).want(t, 200)
		if num(l.Obj, "total") != 2 {
			t.Errorf("total %v after failed creates, want 2", l.Obj["total"])
		}
	})
}

func TestVobizRequestShapes(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{})
		s := e.createSub(t, map[string]any{"name": "shapes"})
		item := subPath(e.main.AuthID, s.AuthID)

		// GET with Content-Type: application/json and no body (curl -H habit).
		e.do(t, "GET", subsPath(e.main.AuthID), noBody, pair(e.main), hdr("Content-Type", "application/json")).check(t, 200, "list with Content-Type")
		e.do(t, "GET", item, noBody, pair(e.main), hdr("Content-Type", "application/json")).check(t, 200, "get with Content-Type")
		// A body on GET is ignored, whatever its type.
		e.do(t, "GET", item, rawBody("not json", "text/plain"), pair(e.main)).check(t, 200, "GET with a text body")

		// An unrelated Authorization next to a valid pair: the pair wins.
		e.do(t, "GET", item, noBody, pair(e.main), bearer("garbage")).check(t, 200, "pair + Bearer garbage")
		e.do(t, "GET", item, noBody, pair(e.main), hdr("Authorization", "Basic !!!")).check(t, 200, "pair + bad Basic")

		// Path tolerance: trailing slash, repeated slashes; never a redirect.
		for _, p := range []string{
			subsPath(e.main.AuthID) + "/",
			"/api/v1/accounts/" + e.main.AuthID + "//sub-accounts//",
			"//api//v1/accounts/" + e.main.AuthID + "/sub-accounts",
		} {
			r := e.do(t, "GET", p, noBody, pair(e.main))
			r.check(t, 200, "GET "+p)
			if r.Header.Get("Location") != "" {
				t.Errorf("GET %s: Location %q (redirect)", p, r.Header.Get("Location"))
			}
		}
		e.do(t, "GET", item+"/", noBody, pair(e.main)).check(t, 200, "item with trailing slash")
		e.do(t, "GET", "/api/v1/accounts/"+e.main.AuthID+"//sub-accounts//"+s.AuthID+"//", noBody, pair(e.main)).check(t, 200, "item with //")
		// `accounts` and `sub-accounts` are exact, not case-insensitive.
		e.do(t, "GET", "/api/v1/Accounts/"+e.main.AuthID+"/sub-accounts", noBody, pair(e.main)).checkErr(t, 404, "not_found", "Accounts")
		e.do(t, "GET", "/api/v1/accounts/"+e.main.AuthID+"/Sub-Accounts", noBody, pair(e.main)).checkErr(t, 404, "not_found", "Sub-Accounts")
		// A numeric id in place of the SA_ id is not found.
		e.do(t, "GET", subPath(e.main.AuthID, str(s.Obj, "id")), noBody, pair(e.main)).checkErr(t, 404, "not_found", "numeric id")

		// 405 with Allow.
		r := e.do(t, "DELETE", subsPath(e.main.AuthID)+"/", noBody, pair(e.main))
		if r.checkErr(t, 405, "method_not_allowed", "DELETE collection") {
			allow := r.Header.Get("Allow")
			for _, m := range []string{"GET", "POST", "HEAD", "OPTIONS"} {
				if !strings.Contains(allow, m) {
					t.Errorf("Allow %q lacks %s", allow, m)
				}
			}
			if strings.Contains(allow, "DELETE") {
				t.Errorf("Allow %q lists DELETE", allow)
			}
			checkErrorBody(t, "405", r, 405, "method_not_allowed")
		}
		r = e.do(t, "POST", item, jsonBody(map[string]any{}), pair(e.main))
		if r.checkErr(t, 405, "method_not_allowed", "POST item") {
			for _, m := range []string{"GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"} {
				if !strings.Contains(r.Header.Get("Allow"), m) {
					t.Errorf("item Allow %q lacks %s", r.Header.Get("Allow"), m)
				}
			}
		}

		// OPTIONS needs no credentials, answers 204 with Allow, no CORS.
		for _, p := range []string{subsPath(e.main.AuthID), item + "/", "/api/v1/auth/me"} {
			r := e.do(t, "OPTIONS", p, noBody, hdr("Origin", "https://example.com"))
			if r.check(t, 204, "OPTIONS "+p) {
				if r.Header.Get("Allow") == "" || len(r.Body) != 0 {
					t.Errorf("OPTIONS %s: Allow %q body %q", p, r.Header.Get("Allow"), r.Body)
				}
			}
			for k := range r.Header {
				if strings.HasPrefix(strings.ToLower(k), "access-control-") {
					t.Errorf("OPTIONS %s: CORS header %s sent", p, k)
				}
			}
		}

		// HEAD wherever GET is: status and headers, no body.
		for _, p := range []string{subsPath(e.main.AuthID), item, "/api/v1/auth/me", "/healthz"} {
			r := e.do(t, "HEAD", p, noBody, pair(e.main))
			if r.check(t, 200, "HEAD "+p) && len(r.Body) != 0 {
				t.Errorf("HEAD %s: body %q", p, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("HEAD %s: Content-Type %q", p, ct)
			}
		}
		if r := e.do(t, "HEAD", item, noBody); r.Status != 401 || len(r.Body) != 0 {
			t.Errorf("HEAD without credentials: %d %q, want 401 without body", r.Status, r.Body)
		}
		if e.do(t, "HEAD", item, noBody, pair(e.main)).Header.Get("ETag") == "" {
			t.Errorf("HEAD item has no ETag")
		}

		// PATCH is PUT.
		p := e.do(t, "PATCH", item, jsonBody(map[string]any{"description": "patched"}), pair(e.main))
		if p.check(t, 200, "PATCH") && p.str("description") != "patched" {
			t.Errorf("PATCH description %v", p.Obj["description"])
		}

		// Standard API headers.
		g := e.do(t, "GET", item, noBody, pair(e.main))
		if g.Header.Get("Cache-Control") != "no-store" || g.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("headers Cache-Control %q X-Content-Type-Options %q", g.Header.Get("Cache-Control"), g.Header.Get("X-Content-Type-Options"))
		}
	})
}

func TestSubAccountList(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{})
		other := e.newMain(t, "Other", nil)
		e.createSubOf(t, other, map[string]any{"name": "Alpha foreign"}) // never listed for e.main

		// Five sub-accounts a second apart: s[4] is the newest.
		var s []created
		for i := 0; i < 5; i++ {
			body := map[string]any{"name": fmt.Sprintf("Alpha %d", i), "email": fmt.Sprintf("user%d@Team-%d.example", i, i%2)}
			if i == 3 {
				body["kyc_mode"] = "customer_use"
			}
			s = append(s, e.createSub(t, body))
			e.clock.Advance(time.Second)
		}
		// Two created at the same instant: ties are broken by id, newest first.
		t1 := e.createSub(t, map[string]any{"name": "Tie one"})
		t2 := e.createSub(t, map[string]any{"name": "Tie two"})
		names := func(r *resp) []string {
			var n []string
			for _, it := range r.list("sub_accounts") {
				n = append(n, str(it.(map[string]any), "name"))
			}
			return n
		}
		list := func(q string) *resp {
			t.Helper()
			r := e.do(t, "GET", subsPath(e.main.AuthID)+"/"+q, noBody, pair(e.main))
			if !r.check(t, 200, "list "+q) {
				return r
			}
			assertKeys(t, r.Obj, "sub_accounts", "total", "page", "size")
			for _, it := range r.list("sub_accounts") {
				checkSubAccount(t, "list item", it.(map[string]any), e.main, e.mainID)
			}
			return r
		}
		expect := func(q string, total, page, size float64, want ...string) {
			t.Helper()
			r := list(q)
			if r.Obj == nil {
				return
			}
			got := names(r)
			if num(r.Obj, "total") != total || num(r.Obj, "page") != page || num(r.Obj, "size") != size || strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("list %q: total %v page %v size %v items %q; want %v %v %v %q", q,
					r.Obj["total"], r.Obj["page"], r.Obj["size"], got, total, page, size, want)
			}
		}
		all := []string{"Tie two", "Tie one", "Alpha 4", "Alpha 3", "Alpha 2", "Alpha 1", "Alpha 0"}
		_, _ = t1, t2
		expect("", 7, 1, 25, all...)
		expect("?page=1&size=3", 7, 1, 3, all[0:3]...)
		expect("?page=3&size=3", 7, 3, 3, all[6:]...)
		expect("?page=4&size=3", 7, 4, 3) // past the end: []
		if r := list("?page=9"); r.Obj != nil && r.Obj["sub_accounts"] == nil {
			t.Errorf("page past the end: sub_accounts is null, want []")
		}
		// limit/offset: page = offset/limit + 1, size = limit.
		expect("?limit=2&offset=3", 7, 2, 2, all[3:5]...)
		expect("?offset=5", 7, 1, 25, all[5:]...)
		expect("?limit=3", 7, 1, 3, all[0:3]...)
		// page/size win over limit/offset when both are present.
		expect("?page=2&size=2&limit=5&offset=0", 7, 2, 2, all[2:4]...)
		// size > 100 is clamped.
		expect("?size=1000", 7, 1, 100, all...)
		expect("?limit=1000", 7, 1, 100, all...)
		// Below 1, negative offset, not a number → 400.
		for _, q := range []string{"?size=0", "?page=0", "?limit=0", "?offset=-1", "?size=abc", "?page=-2"} {
			r := e.do(t, "GET", subsPath(e.main.AuthID)+q, noBody, pair(e.main))
			r.checkErr(t, 400, "validation_error", "list "+q)
		}
		// search: case-insensitive on name and email.
		expect("?search=ALPHA%203", 1, 1, 25, "Alpha 3")
		expect("?search=team-1", 2, 1, 25, "Alpha 3", "Alpha 1")
		expect("?search=TEAM-0.EXAMPLE", 3, 1, 25, "Alpha 4", "Alpha 2", "Alpha 0")
		expect("?search=nothing-matches", 0, 1, 25)
		expect("?search=%25", 0, 1, 25) // a literal %, not a wildcard
		expect("?search=_", 0, 1, 25)   // a literal _, not a wildcard
		// kyc_mode filter.
		expect("?kyc_mode=customer_use", 1, 1, 25, "Alpha 3")
		expect("?kyc_mode=personal_use&size=2", 6, 1, 2, "Tie two", "Tie one")
		// active_only.
		e.do(t, "PUT", subPath(e.main.AuthID, s[4].AuthID), jsonBody(map[string]any{"enabled": false}), pair(e.main)).want(t, 200)
		expect("?active_only=true&search=alpha", 4, 1, 25, "Alpha 3", "Alpha 2", "Alpha 1", "Alpha 0")
		expect("?active_only=false&search=alpha", 5, 1, 25, "Alpha 4", "Alpha 3", "Alpha 2", "Alpha 1", "Alpha 0")
		expect("?active_only=1&kyc_mode=customer_use", 1, 1, 25, "Alpha 3")
		// Deleted sub-accounts never appear; total follows.
		e.do(t, "DELETE", subPath(e.main.AuthID, s[0].AuthID), noBody, pair(e.main)).want(t, 200)
		expect("?search=alpha", 4, 1, 25, "Alpha 4", "Alpha 3", "Alpha 2", "Alpha 1")
		// Unknown query parameters are ignored.
		expect("?search=alpha&foo=bar&size=1", 4, 1, 1, "Alpha 4")
	})
}

func TestSubAccountUpdate(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{})
		s := e.createSub(t, map[string]any{"name": "Before", "email": "upd@example.com", "description": "desc", "phone": "+14155550100"})
		item := subPath(e.main.AuthID, s.AuthID)
		put := func(body any, opts ...reqOpt) *resp {
			t.Helper()
			return e.do(t, "PUT", item, jsonBody(body), append([]reqOpt{pair(e.main)}, opts...)...)
		}
		etag := func() string {
			t.Helper()
			return e.do(t, "GET", item, noBody, pair(e.main)).want(t, 200).Header.Get("ETag")
		}

		// Partial update: only the sent key changes; version bumps.
		e.clock.Advance(5 * time.Second)
		r := put(map[string]any{"name": "After"}).want(t, 200)
		checkSubAccount(t, "update", r.Obj, e.main, e.mainID)
		if r.str("name") != "After" || r.str("email") != "upd@example.com" || r.str("description") != "desc" || r.str("phone") != "+14155550100" {
			t.Errorf("partial update: %v", r.Obj)
		}
		if r.str("auth_token") != "<redacted>" {
			t.Errorf("update auth_token %q", r.str("auth_token"))
		}
		if r.Header.Get("ETag") != `"v2"` {
			t.Errorf("ETag after update %q, want \"v2\"", r.Header.Get("ETag"))
		}
		if r.str("updated_at") != fmtTime(e.clock.Now()) || r.str("created_at") != str(s.Obj, "created_at") {
			t.Errorf("times after update: created_at %v updated_at %v", r.Obj["created_at"], r.Obj["updated_at"])
		}

		// null clears a nullable field; null on name is refused.
		r = put(map[string]any{"description": nil}).want(t, 200)
		if r.Obj["description"] != nil {
			t.Errorf("description after null: %v", r.Obj["description"])
		}
		r = put(map[string]any{"name": nil})
		if r.checkErr(t, 400, "validation_error", "name: null") && !r.hasDetail("name", "") {
			t.Errorf("name null details %v", r.Obj["details"])
		}
		put(map[string]any{"name": ""}).checkErr(t, 400, "validation_error", "name: empty")
		put(map[string]any{"rate_limit": nil}).checkErr(t, 400, "validation_error", "rate_limit: null")
		put(map[string]any{"enabled": nil}).checkErr(t, 400, "validation_error", "enabled: null")

		// Wrong JSON types.
		for _, b := range []map[string]any{{"enabled": "false"}, {"rate_limit": "10"}, {"rate_limit": 1.5}, {"name": 7}, {"permissions": []any{}}, {"kyc_mode": true}} {
			r := put(b)
			if r.checkErr(t, 400, "validation_error", fmt.Sprintf("types %v", b)) {
				if d := r.detail(); d == nil || str(d, "code") != "invalid_type" {
					t.Errorf("types %v: details %v, want code invalid_type", b, r.Obj["details"])
				}
			}
		}

		// permissions replaced as a whole; null resets.
		r = put(map[string]any{"permissions": map[string]any{"cdr": false}}).want(t, 200)
		if p, _ := r.Obj["permissions"].(map[string]any); p == nil || p["calls"] != true || p["cdr"] != false {
			t.Errorf("permissions %v", r.Obj["permissions"])
		}
		r = put(map[string]any{"permissions": nil}).want(t, 200)
		if r.Obj["permissions"] != nil {
			t.Errorf("permissions after null %v", r.Obj["permissions"])
		}

		// KYC mode: promotion without email → 400; with email → blocked; demotion → unblocked.
		noEmail := e.createSub(t, map[string]any{"name": "no email"})
		r = e.do(t, "PUT", subPath(e.main.AuthID, noEmail.AuthID), jsonBody(map[string]any{"kyc_mode": "customer_use"}), pair(e.main))
		if r.checkErr(t, 400, "validation_error", "promote without email") {
			if d := r.detail(); str(d, "field") != "email" || str(d, "code") != "required" {
				t.Errorf("promote without email: details[0] %v, want field email code required", d)
			}
		}
		r = e.do(t, "PUT", subPath(e.main.AuthID, noEmail.AuthID), jsonBody(map[string]any{"kyc_mode": "customer_use", "email": "Promoted@Example.com"}), pair(e.main))
		if r.check(t, 200, "promote with email") && (r.Obj["kyc_calls_blocked"] != true || r.str("kyc_mode") != "customer_use" || r.str("email") != "promoted@example.com") {
			t.Errorf("promoted: kyc_calls_blocked %v kyc_mode %v email %v", r.Obj["kyc_calls_blocked"], r.Obj["kyc_mode"], r.Obj["email"])
		}
		r = put(map[string]any{"kyc_mode": "customer_use"}) // s has an email stored
		if r.check(t, 200, "promote with stored email") && r.Obj["kyc_calls_blocked"] != true {
			t.Errorf("promotion with stored email: kyc_calls_blocked %v", r.Obj["kyc_calls_blocked"])
		}
		put(map[string]any{"email": nil}).checkErr(t, 400, "validation_error", "clear email of customer_use")
		r = put(map[string]any{"kyc_mode": "personal_use"})
		if r.check(t, 200, "demote") && r.Obj["kyc_calls_blocked"] != false {
			t.Errorf("demotion: kyc_calls_blocked %v, want false", r.Obj["kyc_calls_blocked"])
		}
		put(map[string]any{"kyc_mode": "other"}).checkErr(t, 400, "validation_error", "bad kyc_mode")
		put(map[string]any{"business_type": "llp"}).check(t, 200, "business_type")

		// enabled:false → the sub-account's own credentials and JWT get 403.
		put(map[string]any{"enabled": false}).want(t, 200)
		e.me(t, pair(s.account)).checkErr(t, 403, "account_inactive", "disabled sub pair")
		e.me(t, bearer(s.Access)).checkErr(t, 403, "account_inactive", "disabled sub JWT")
		e.do(t, "GET", item, noBody, pair(e.main)).check(t, 200, "parent reads a disabled sub-account")
		g := e.do(t, "GET", item, noBody, pair(e.main))
		if g.Obj["enabled"] != false || g.Obj["is_active"] != false {
			t.Errorf("disabled: enabled %v is_active %v", g.Obj["enabled"], g.Obj["is_active"])
		}
		put(map[string]any{"enabled": true}).want(t, 200)
		e.me(t, pair(s.account)).check(t, 200, "re-enabled sub pair")
		e.me(t, bearer(s.Access)).check(t, 200, "re-enabled sub JWT")

		// A body that changes nothing: 200, same ETag, same updated_at.
		before := e.do(t, "GET", item, noBody, pair(e.main)).want(t, 200)
		e.clock.Advance(10 * time.Second)
		same := put(map[string]any{"name": str(before.Obj, "name"), "enabled": true, "email": "UPD@example.com "})
		if same.check(t, 200, "no-op update") {
			if same.Header.Get("ETag") != before.Header.Get("ETag") || same.str("updated_at") != before.str("updated_at") {
				t.Errorf("no-op update: ETag %q→%q updated_at %v→%v, want unchanged", before.Header.Get("ETag"), same.Header.Get("ETag"),
					before.Obj["updated_at"], same.Obj["updated_at"])
			}
		}
		put(map[string]any{}).check(t, 200, "empty update")
		if got := etag(); got != before.Header.Get("ETag") {
			t.Errorf("ETag after no-op updates %q, want %q", got, before.Header.Get("ETag"))
		}

		// Protected keys are ignored: nothing changes.
		protected := map[string]any{"id": "1", "api_id": "00000000-0000-4000-8000-000000000000", "auth_id": "SA_HACKED00",
			"auth_token": strings.Repeat("a", 40), "parent_account_id": "1", "parent_auth_id": "MA_HACKED00",
			"kyc_calls_blocked": true, "email_verified": true, "is_active": false, "created": "2020-01-01T00:00:00Z",
			"modified": "2020-01-01T00:00:00Z", "created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z",
			"last_used": "2020-01-01T00:00:00Z", "account": "/v1/Account/X/", "resource_uri": "/x/", "balance": 1000}
		r = put(protected)
		if r.check(t, 200, "protected keys on update") {
			if r.Header.Get("ETag") != before.Header.Get("ETag") {
				t.Errorf("protected keys bumped the version: %q → %q", before.Header.Get("ETag"), r.Header.Get("ETag"))
			}
			for _, k := range []string{"id", "api_id", "auth_id", "parent_account_id", "parent_auth_id", "kyc_calls_blocked",
				"email_verified", "is_active", "created", "created_at", "updated_at", "account", "resource_uri"} {
				if fmt.Sprint(r.Obj[k]) != fmt.Sprint(before.Obj[k]) {
					t.Errorf("protected key %s changed: %v → %v", k, before.Obj[k], r.Obj[k])
				}
			}
		}
		e.me(t, pair(s.account)).check(t, 200, "token unchanged by protected auth_token")
		pc := map[string]any{"name": "Protected create"}
		for k, v := range protected {
			pc[k] = v
		}
		c := e.do(t, "POST", subsPath(e.main.AuthID), jsonBody(pc), pair(e.main))
		if c.check(t, 201, "protected keys on create") {
			o := c.obj("sub_account")
			checkSubAccount(t, "protected create", o, e.main, e.mainID)
			if str(o, "auth_id") == "SA_HACKED00" || str(o, "id") == "1" || o["api_id"] == protected["api_id"] ||
				str(o, "auth_token") == protected["auth_token"] || o["kyc_calls_blocked"] != false ||
				o["email_verified"] != false || o["is_active"] != true || str(o, "created_at") == "2020-01-01T00:00:00.000000Z" {
				t.Errorf("protected keys were written on create: %v", o)
			}
		}

		// ETag / If-Match.
		cur := etag()
		put(map[string]any{"name": "stale"}, hdr("If-Match", `"v1"`)).checkErr(t, 412, "precondition_failed", "stale If-Match")
		put(map[string]any{"name": "stale"}, hdr("If-Match", "garbage")).checkErr(t, 412, "precondition_failed", "garbage If-Match")
		if g := e.do(t, "GET", item, noBody, pair(e.main)); g.str("name") == "stale" {
			t.Errorf("a 412 update was applied")
		}
		r = put(map[string]any{"name": "Matched"}, hdr("If-Match", cur))
		if r.check(t, 200, "current If-Match") && r.Header.Get("ETag") == cur {
			t.Errorf("ETag did not change after an update: %q", cur)
		}
		put(map[string]any{"name": "Star"}, hdr("If-Match", "*")).check(t, 200, "If-Match *")
		put(map[string]any{"name": "NoneMatch"}, hdr("If-None-Match", `"v1"`)).check(t, 200, "If-None-Match ignored")
		e.do(t, "DELETE", item, noBody, pair(e.main), hdr("If-Match", `"v1"`)).checkErr(t, 412, "precondition_failed", "stale If-Match on DELETE")
		e.do(t, "GET", item, noBody, pair(e.main)).check(t, 200, "not deleted after 412")
		e.do(t, "DELETE", item, noBody, pair(e.main), hdr("If-Match", etag())).check(t, 200, "DELETE with current If-Match")
	})
}

func TestDuplicateEmail(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{})
		mainEmail := "owner@example.com"
		other := e.newMain(t, "Other", &mainEmail)
		a := e.createSub(t, map[string]any{"name": "a", "email": "Dup@Example.com"})
		b := e.createSub(t, map[string]any{"name": "b", "email": "b@example.com"})

		for _, email := range []string{"dup@example.com", "DUP@EXAMPLE.COM", " dup@example.com "} {
			checkErrorBody(t, "create "+email, e.do(t, "POST", subsPath(e.main.AuthID), jsonBody(map[string]any{"name": "c", "email": email}), pair(e.main)), 409, "already_exists")
		}
		// Unique across all accounts: a main account's email and another tenant's sub-account.
		e.do(t, "POST", subsPath(e.main.AuthID), jsonBody(map[string]any{"name": "c", "email": "OWNER@example.com"}), pair(e.main)).
			checkErr(t, 409, "already_exists", "create with a main account's email")
		e.do(t, "POST", subsPath(other.AuthID), jsonBody(map[string]any{"name": "c", "email": "dup@example.com"}), pair(other)).
			checkErr(t, 409, "already_exists", "create with another tenant's email")
		// Update to a taken email.
		e.do(t, "PUT", subPath(e.main.AuthID, b.AuthID), jsonBody(map[string]any{"email": "DUP@example.com"}), pair(e.main)).
			checkErr(t, 409, "already_exists", "update to a taken email")
		if g := e.do(t, "GET", subPath(e.main.AuthID, b.AuthID), noBody, pair(e.main)); g.str("email") != "b@example.com" {
			t.Errorf("email after a 409 update: %v", g.Obj["email"])
		}
		// Its own email (any case) is not a duplicate.
		e.do(t, "PUT", subPath(e.main.AuthID, a.AuthID), jsonBody(map[string]any{"email": "DUP@EXAMPLE.COM"}), pair(e.main)).check(t, 200, "own email")
	})
}

func TestRotateSubAccountToken(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{})
		s := e.createSub(t, map[string]any{"name": "rot"})
		rot := subPath(e.main.AuthID, s.AuthID) + "/rotate-token"
		works := func(a account, what string) { t.Helper(); e.me(t, pair(a)).check(t, 200, what) }
		dead := func(a account, what string) { t.Helper(); e.me(t, pair(a)).checkErr(t, 401, "unauthorized", what) }

		// Grace: the old token works until now + grace.
		r := e.do(t, "POST", rot, jsonBody(map[string]any{"grace_seconds": 3600}), pair(e.main)).want(t, 200)
		assertKeys(t, r.Obj, rotationKeys...)
		if r.str("message") != "Auth token rotated" || r.str("auth_id") != s.AuthID || !tokenPattern.MatchString(r.str("auth_token")) {
			t.Errorf("rotation response %v", r.Obj)
		}
		if want := fmtTime(e.clock.Now().Add(time.Hour)); r.str("previous_token_expires_at") != want {
			t.Errorf("previous_token_expires_at %v, want %s", r.Obj["previous_token_expires_at"], want)
		}
		t1 := account{s.AuthID, r.str("auth_token")}
		works(s.account, "old token in grace")
		works(t1, "new token")
		// JWTs are unaffected by rotation.
		e.me(t, bearer(s.Access)).check(t, 200, "JWT after rotation")
		e.clock.Advance(3599 * time.Second)
		works(s.account, "old token 1 s before the end of grace")
		e.clock.Advance(time.Second)
		dead(s.account, "old token at the end of grace")
		works(t1, "new token after grace")

		// Rotating twice ends the older token at once.
		r = e.do(t, "POST", rot, jsonBody(map[string]any{"grace_seconds": 600}), pair(e.main)).want(t, 200)
		t2 := account{s.AuthID, r.str("auth_token")}
		r = e.do(t, "POST", rot, jsonBody(map[string]any{"grace_seconds": 600}), pair(e.main)).want(t, 200)
		t3 := account{s.AuthID, r.str("auth_token")}
		dead(t1, "token two rotations back")
		works(t2, "previous token in grace")
		works(t3, "current token")

		// Grace 0: null expiry, the old token dies at once (the one in grace too).
		r = e.do(t, "POST", rot, jsonBody(map[string]any{"grace_seconds": 0}), pair(e.main)).want(t, 200)
		if v, ok := r.Obj["previous_token_expires_at"]; !ok || v != nil {
			t.Errorf("previous_token_expires_at %v (present %v), want null", v, ok)
		}
		t4 := account{s.AuthID, r.str("auth_token")}
		dead(t3, "old token after grace 0")
		dead(t2, "older token after grace 0")
		works(t4, "token after grace 0")
		e.me(t, basic(s.AuthID, t3.Token)).checkErr(t, 401, "unauthorized", "old token via Basic")

		// Default grace (empty body, no body): 86400 s.
		r = e.do(t, "POST", rot, noBody, pair(e.main)).want(t, 200)
		if want := fmtTime(e.clock.Now().Add(24 * time.Hour)); r.str("previous_token_expires_at") != want {
			t.Errorf("default grace: previous_token_expires_at %v, want %s", r.Obj["previous_token_expires_at"], want)
		}
		t5 := account{s.AuthID, r.str("auth_token")}
		works(t4, "default grace keeps the old token")

		// Out of range and wrong types.
		for _, b := range []any{map[string]any{"grace_seconds": -1}, map[string]any{"grace_seconds": 604801}, map[string]any{"grace_seconds": "60"}, map[string]any{"grace_seconds": 1.5}} {
			e.do(t, "POST", rot, jsonBody(b), pair(e.main)).checkErr(t, 400, "validation_error", fmt.Sprintf("grace %v", b))
		}
		e.do(t, "POST", rot, jsonBody(map[string]any{"grace_seconds": 604800}), pair(e.main)).check(t, 200, "max grace")

		// Allowed on a disabled sub-account.
		e.do(t, "PUT", subPath(e.main.AuthID, s.AuthID), jsonBody(map[string]any{"enabled": false}), pair(e.main)).want(t, 200)
		r = e.do(t, "POST", rot, jsonBody(map[string]any{"grace_seconds": 0}), pair(e.main))
		r.check(t, 200, "rotate a disabled sub-account")

		// Tokens are never written to the audit log (§1.2).
		a := e.do(t, "GET", "/api/v1/accounts/"+e.main.AuthID+"/audit-log?limit=200", noBody, pair(e.main))
		if a.check(t, 200, "audit log") {
			for _, tok := range []string{s.Token, t1.Token, t2.Token, t3.Token, t4.Token, t5.Token, r.str("auth_token"), e.main.Token} {
				if tok != "" && strings.Contains(string(a.Body), tok) {
					t.Errorf("the audit log contains an auth token")
				}
			}
			if !strings.Contains(string(a.Body), s.AuthID) {
				t.Errorf("the audit log does not mention the rotated sub-account")
			}
		}
	})
}

func TestOwnTokenRotate(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{})
		s := e.createSub(t, map[string]any{"name": "sub"})
		e.do(t, "POST", "/api/v1/auth-token/rotate", jsonBody(map[string]any{}), pair(s.account)).checkErr(t, 403, "forbidden", "sub-account rotates own token")
		r := e.do(t, "POST", "/api/v1/auth-token/rotate/", jsonBody(map[string]any{"grace_seconds": 60}), pair(e.main)).want(t, 200)
		assertKeys(t, r.Obj, rotationKeys...)
		if r.str("auth_id") != e.main.AuthID {
			t.Errorf("auth_id %q", r.str("auth_id"))
		}
		next := account{e.main.AuthID, r.str("auth_token")}
		e.me(t, pair(e.main)).check(t, 200, "old main token in grace")
		e.me(t, pair(next)).check(t, 200, "new main token")
		e.clock.Advance(61 * time.Second)
		e.me(t, pair(e.main)).checkErr(t, 401, "unauthorized", "old main token after grace")
		e.do(t, "GET", subsPath(e.main.AuthID), noBody, pair(next)).check(t, 200, "new main token on the sub-account routes")
	})
}

func TestDeleteSubAccount(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{})
		s := e.createSub(t, map[string]any{"name": "doomed", "email": "doomed@example.com"})
		item := subPath(e.main.AuthID, s.AuthID)

		checkPlan := func(what string, r *resp, cascade bool) {
			t.Helper()
			if !r.check(t, 200, what) {
				return
			}
			assertKeys(t, r.Obj, deletePlanKeys...)
			assertKeys(t, r.obj("numbers"), "rehomed", "released")
			assertKeys(t, r.obj("trunks"), "rehomed", "deleted")
			if r.Obj["dry_run"] != true || r.str("sub_account_id") != s.AuthID || r.Obj["cascade"] != cascade ||
				r.Obj["balance_settlement"] != nil || num(r.Obj, "active_calls") != 0 {
				t.Errorf("%s: plan %v, want dry_run true, cascade %v", what, r.Obj, cascade)
			}
			for _, l := range []any{r.obj("numbers")["rehomed"], r.obj("numbers")["released"], r.obj("trunks")["rehomed"],
				r.obj("trunks")["deleted"], r.Obj["kyc_sessions_revoked"]} {
				if arr, ok := l.([]any); !ok || len(arr) != 0 {
					t.Errorf("%s: plan list %#v, want []", what, l)
				}
			}
		}
		alive := func(what string) {
			t.Helper()
			e.do(t, "GET", item, noBody, pair(e.main)).check(t, 200, what+": GET")
			e.me(t, pair(s.account)).check(t, 200, what+": token")
		}
		checkPlan("dry_run query", e.do(t, "DELETE", item+"?cascade=true&dry_run=true", noBody, pair(e.main)), true)
		alive("after query dry run")
		checkPlan("dry_run body", e.do(t, "DELETE", item, jsonBody(map[string]any{"cascade": true, "dry_run": true}), pair(e.main)), true)
		alive("after body dry run")
		checkPlan("dry_run 1/0", e.do(t, "DELETE", item+"?dry_run=1&cascade=0", noBody, pair(e.main)), false)
		// The query wins over the body, flag by flag.
		checkPlan("query wins", e.do(t, "DELETE", item+"?dry_run=true&cascade=false", jsonBody(map[string]any{"cascade": true, "dry_run": false}), pair(e.main)), false)
		checkPlan("query dry_run + body cascade", e.do(t, "DELETE", item+"?dry_run=true", jsonBody(map[string]any{"cascade": true}), pair(e.main)), true)
		alive("after every dry run")
		e.do(t, "DELETE", item+"?cascade=maybe", noBody, pair(e.main)).checkErr(t, 400, "validation_error", "cascade=maybe")
		e.do(t, "DELETE", item, jsonBody(map[string]any{"cascade": "sometimes"}), pair(e.main)).checkErr(t, 400, "validation_error", "cascade: string")
		alive("after bad flags")

		// The real delete, with a JSON body.
		r := e.do(t, "DELETE", item, jsonBody(map[string]any{"cascade": true}), pair(e.main)).want(t, 200)
		assertKeys(t, r.Obj, "message")
		if r.str("message") != "Sub-account deleted successfully" {
			t.Errorf("message %q", r.str("message"))
		}
		e.me(t, pair(s.account)).checkErr(t, 401, "unauthorized", "deleted token")
		e.me(t, basic(s.AuthID, s.Token)).checkErr(t, 401, "unauthorized", "deleted token via Basic")
		e.me(t, bearer(s.Access)).checkErr(t, 401, "unauthorized", "deleted account's JWT")
		e.do(t, "POST", "/api/v1/auth/refresh", noBody, bearer(s.Refresh)).checkErr(t, 401, "unauthorized", "deleted account's refresh")
		e.do(t, "GET", item, noBody, pair(e.main)).checkErr(t, 404, "not_found", "GET deleted")
		e.do(t, "PUT", item, jsonBody(map[string]any{"name": "x"}), pair(e.main)).checkErr(t, 404, "not_found", "PUT deleted")
		e.do(t, "POST", item+"/rotate-token", noBody, pair(e.main)).checkErr(t, 404, "not_found", "rotate deleted")
		e.do(t, "DELETE", item, noBody, pair(e.main)).checkErr(t, 404, "not_found", "second delete")
		e.do(t, "DELETE", item+"?dry_run=true", noBody, pair(e.main)).checkErr(t, 404, "not_found", "dry run of deleted")

		// The email is free again; the auth_id is never handed out again.
		seen := map[string]bool{s.AuthID: true}
		for i := 0; i < 5; i++ {
			body := map[string]any{"name": fmt.Sprintf("n%d", i)}
			if i == 0 {
				body["email"] = "doomed@example.com"
			}
			n := e.createSub(t, body)
			if seen[n.AuthID] || str(n.Obj, "id") == str(s.Obj, "id") {
				t.Errorf("identifier reused: %s / %v", n.AuthID, n.Obj["id"])
			}
			seen[n.AuthID] = true
		}
		e.do(t, "GET", item, noBody, pair(e.main)).checkErr(t, 404, "not_found", "deleted stays deleted")

		// A plain delete without body or flags.
		p := e.createSub(t, map[string]any{"name": "plain"})
		e.do(t, "DELETE", subPath(e.main.AuthID, p.AuthID)+"/", noBody, pair(e.main)).check(t, 200, "plain delete with trailing slash")
		e.me(t, pair(p.account)).checkErr(t, 401, "unauthorized", "plain-deleted token")
	})
}

func TestRoles(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{})
		s := e.createSub(t, map[string]any{"name": "me"})
		item := subPath(e.main.AuthID, s.AuthID)

		// Sub-account credentials on every parent route → 403, even naming itself.
		routes := []struct {
			method, path string
			body         bodyArg
		}{
			{"POST", subsPath(e.main.AuthID), jsonBody(map[string]any{"name": "x"})},
			{"GET", subsPath(e.main.AuthID), noBody},
			{"GET", item, noBody},
			{"PUT", item, jsonBody(map[string]any{"name": "mine"})},
			{"PATCH", item, jsonBody(map[string]any{"name": "mine"})},
			{"DELETE", item, noBody},
			{"DELETE", item + "?dry_run=true", noBody},
			{"POST", item + "/rotate-token", noBody},
			{"GET", subsPath(s.AuthID), noBody},
			{"POST", subsPath(s.AuthID), jsonBody(map[string]any{"name": "x"})},
			{"GET", subPath(s.AuthID, s.AuthID), noBody},
			{"POST", "/api/v1/auth-token/rotate", noBody},
			{"GET", "/api/v1/accounts/" + e.main.AuthID + "/audit-log", noBody},
			{"GET", "/api/v1/accounts/" + e.main.AuthID + "/webhook", noBody},
			{"PUT", "/api/v1/accounts/" + e.main.AuthID + "/webhook", jsonBody(map[string]any{"url": nil})},
			{"POST", "/api/v1/accounts/" + e.main.AuthID + "/webhook/rotate-secret", noBody},
			{"GET", "/api/v1/accounts/" + e.main.AuthID + "/webhook-deliveries", noBody},
		}
		for _, rt := range routes {
			for _, cred := range []struct {
				name string
				opt  reqOpt
			}{{"pair", pair(s.account)}, {"basic", basic(s.AuthID, s.Token)}, {"jwt", bearer(s.Access)}} {
				r := e.do(t, rt.method, rt.path, rt.body, cred.opt)
				r.checkErr(t, 403, "forbidden", "sub-account "+cred.name+" on "+rt.method+" "+rt.path)
			}
		}
		g := e.do(t, "GET", item, noBody, pair(e.main)).want(t, 200)
		if g.str("name") != "me" {
			t.Errorf("a forbidden request changed the sub-account: %v", g.Obj)
		}
		e.me(t, pair(s.account)).check(t, 200, "sub-account token still works")

		// Another tenant: its auth_id in the path, or its sub-account → 404.
		other := e.newMain(t, "Other", nil)
		os := e.createSubOf(t, other, map[string]any{"name": "foreign"})
		foreign := subPath(e.main.AuthID, os.AuthID)
		checks := []struct {
			method, path string
			body         bodyArg
		}{
			{"GET", subsPath(other.AuthID), noBody},
			{"POST", subsPath(other.AuthID), jsonBody(map[string]any{"name": "x"})},
			{"POST", subsPath(other.AuthID), jsonBody(map[string]any{"name": 5})},
			{"GET", subPath(other.AuthID, os.AuthID), noBody},
			{"DELETE", subPath(other.AuthID, os.AuthID), noBody},
			{"GET", foreign, noBody},
			{"PUT", foreign, jsonBody(map[string]any{"name": "stolen"})},
			{"PUT", foreign, jsonBody(map[string]any{"name": 5})},
			{"PUT", foreign, jsonBody(map[string]any{"rate_limit": 0})},
			{"PUT", foreign, jsonBody(map[string]any{"kyc_mode": "customer_use"})},
			{"DELETE", foreign, noBody},
			{"DELETE", foreign + "?dry_run=true", noBody},
			{"DELETE", foreign + "?cascade=maybe", noBody},
			{"DELETE", foreign, jsonBody(map[string]any{"cascade": "x"})},
			{"POST", foreign + "/rotate-token", noBody},
			{"POST", foreign + "/rotate-token", jsonBody(map[string]any{"grace_seconds": "x"})},
			{"GET", subPath(e.main.AuthID, "SA_NOTEXIST"), noBody},
			{"PUT", subPath(e.main.AuthID, "SA_NOTEXIST"), jsonBody(map[string]any{"name": 5})},
			{"GET", subPath(e.main.AuthID, e.main.AuthID), noBody},
			{"GET", subsPath(strings.ToLower(e.main.AuthID)), noBody},
			{"GET", subPath(e.main.AuthID, strings.ToLower(s.AuthID)), noBody},
			{"GET", "/api/v1/accounts/" + other.AuthID + "/audit-log", noBody},
			{"GET", "/api/v1/accounts/" + other.AuthID + "/webhook", noBody},
			{"POST", "/api/v1/accounts/" + other.AuthID + "/webhook/rotate-secret", noBody},
		}
		for _, c := range checks {
			r := e.do(t, c.method, c.path, c.body, pair(e.main))
			checkErrorBody(t, "main on "+c.method+" "+c.path+" "+string(c.body.raw), r, 404, "not_found")
		}
		// Regression (found by this suite, fixed in internal/app): scope comes
		// before body validation (CONTRACT §1.5), also for grace_seconds (was
		// range-checked in sb.NewRotation before the sub-account lookup) and
		// for a password (was length-checked before the lookup in
		// app.UpdateSubAccount); both answered 400 instead of 404.
		for _, c := range []struct {
			method, path string
			body         bodyArg
		}{
			{"POST", foreign + "/rotate-token", jsonBody(map[string]any{"grace_seconds": -1})},
			{"PUT", foreign, jsonBody(map[string]any{"password": "short"})},
			{"POST", subPath(e.main.AuthID, "SA_NOTEXIST") + "/rotate-token", jsonBody(map[string]any{"grace_seconds": 999999999})},
		} {
			r := e.do(t, c.method, c.path, c.body, pair(e.main))
			r.checkErr(t, 404, "not_found", "scope before validation: "+c.method+" "+c.path+" "+string(c.body.raw))
		}
		// The foreign sub-account is untouched and still works.
		e.me(t, pair(os.account)).check(t, 200, "foreign sub-account after the attempts")
		g = e.do(t, "GET", subPath(other.AuthID, os.AuthID), noBody, pair(other)).want(t, 200)
		if g.str("name") != "foreign" {
			t.Errorf("foreign sub-account changed: %v", g.Obj)
		}
	})
}

func TestDisabledMainAccount(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{Admin: true})
		s := e.createSub(t, map[string]any{"name": "child"})
		adminItem := "/api/v1/admin/accounts/" + e.main.AuthID
		r := e.do(t, "PUT", adminItem, jsonBody(map[string]any{"enabled": false}), e.adminAuth()).want(t, 200)
		if r.Obj["enabled"] != false || r.Obj["is_active"] != false {
			t.Errorf("disabled main: enabled %v is_active %v", r.Obj["enabled"], r.Obj["is_active"])
		}
		e.me(t, pair(e.main)).checkErr(t, 403, "account_inactive", "disabled main /auth/me")
		e.do(t, "GET", subsPath(e.main.AuthID), noBody, pair(e.main)).checkErr(t, 403, "account_inactive", "disabled main list")
		e.do(t, "POST", subsPath(e.main.AuthID), jsonBody(map[string]any{"name": "x"}), pair(e.main)).checkErr(t, 403, "account_inactive", "disabled main create")
		e.me(t, pair(s.account)).checkErr(t, 403, "account_inactive", "sub of disabled main, pair")
		e.me(t, bearer(s.Access)).checkErr(t, 403, "account_inactive", "sub of disabled main, JWT")
		e.me(t, basic(s.AuthID, s.Token)).checkErr(t, 403, "account_inactive", "sub of disabled main, Basic")
		e.do(t, "POST", "/api/v1/auth/refresh", noBody, bearer(s.Refresh)).checkErr(t, 403, "account_inactive", "refresh under disabled main")
		// Bad credentials are still 401 (step 1 before step 2).
		e.me(t, pair(account{e.main.AuthID, strings.Repeat("x", 40)})).checkErr(t, 401, "unauthorized", "disabled main, wrong token")

		e.do(t, "PUT", adminItem, jsonBody(map[string]any{"enabled": true}), e.adminAuth()).want(t, 200)
		e.me(t, pair(e.main)).check(t, 200, "re-enabled main")
		e.me(t, pair(s.account)).check(t, 200, "sub of re-enabled main")
		e.do(t, "GET", subsPath(e.main.AuthID), noBody, pair(e.main)).check(t, 200, "re-enabled main list")
	})
}

func TestAuthSchemes(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{})
		s := e.createSub(t, map[string]any{"name": "Support Team", "email": "support@example.com"})

		m := e.me(t, pair(e.main)).want(t, 200)
		assertKeys(t, m.Obj, meKeys...)
		if m.str("type") != "account" || m.str("role") != "main" || m.Obj["parent_auth_id"] != nil || m.str("auth_id") != e.main.AuthID ||
			m.str("id") != e.mainID || m.str("currency") != "INR" || m.Obj["enabled"] != true || m.Obj["is_active"] != true ||
			num(m.Obj, "rate_limit") != 6000 || m.str("name") != "Main account" {
			t.Errorf("/auth/me main: %v", m.Obj)
		}
		checkTime(t, "me.created_at", m.Obj["created_at"])
		checkTime(t, "me.updated_at", m.Obj["updated_at"])
		if m.Obj["last_used"] != nil {
			checkTime(t, "me.last_used", m.Obj["last_used"])
		}
		m = e.me(t, pair(s.account)).want(t, 200)
		assertKeys(t, m.Obj, meKeys...)
		if m.str("role") != "sub_account" || m.str("parent_auth_id") != e.main.AuthID || m.str("auth_id") != s.AuthID ||
			m.str("email") != "support@example.com" || num(m.Obj, "rate_limit") != 1000 || m.str("currency") != "INR" {
			t.Errorf("/auth/me sub: %v", m.Obj)
		}

		// X-Auth pair.
		e.me(t, hdr("X-Auth-ID", e.main.AuthID)).checkErr(t, 401, "unauthorized", "X-Auth-ID alone")
		e.me(t, hdr("X-Auth-Token", e.main.Token)).checkErr(t, 401, "unauthorized", "X-Auth-Token alone")
		e.me(t, hdr("X-Auth-ID", e.main.AuthID), basic(e.main.AuthID, e.main.Token)).checkErr(t, 401, "unauthorized", "X-Auth-ID alone + valid Basic")
		e.me(t, pair(account{e.main.AuthID, strings.Repeat("A", 40)})).checkErr(t, 401, "unauthorized", "wrong token")
		e.me(t, pair(account{"MA_NOTEXIST", e.main.Token})).checkErr(t, 401, "unauthorized", "unknown auth_id")
		e.me(t, pair(account{s.AuthID, e.main.Token})).checkErr(t, 401, "unauthorized", "another account's token")
		e.me(t, pair(account{strings.ToLower(e.main.AuthID), e.main.Token})).checkErr(t, 401, "unauthorized", "auth_id is case-sensitive")
		e.me(t).checkErr(t, 401, "unauthorized", "no credentials")
		// A failing higher-precedence scheme never falls back.
		e.me(t, pair(account{e.main.AuthID, "wrong"}), basic(e.main.AuthID, e.main.Token)).checkErr(t, 401, "unauthorized", "bad pair + good Basic")
		// Tokens in the query string are never accepted.
		e.do(t, "GET", "/api/v1/auth/me?auth_id="+e.main.AuthID+"&auth_token="+e.main.Token, noBody).checkErr(t, 401, "unauthorized", "query-string token")

		// Failed authentications are limited per client IP (§0.8, 21st failure
		// in 60 s); let the window pass between the blocks of failures.
		e.clock.Advance(61 * time.Second)

		// Basic.
		if r := e.me(t, basic(e.main.AuthID, e.main.Token)); r.check(t, 200, "Basic") && r.str("role") != "main" {
			t.Errorf("Basic role %q", r.str("role"))
		}
		e.me(t, basic(e.main.AuthID, strings.Repeat("b", 40))).checkErr(t, 401, "unauthorized", "Basic wrong token")
		e.me(t, hdr("Authorization", "Basic not-base64!!")).checkErr(t, 401, "unauthorized", "Basic garbage")
		e.me(t, hdr("Authorization", "Basic "+b64.EncodeToString([]byte(e.main.AuthID)))).checkErr(t, 401, "unauthorized", "Basic without colon")
		e.me(t, hdr("Authorization", "Digest abc")).checkErr(t, 401, "unauthorized", "unknown scheme")

		e.clock.Advance(61 * time.Second)

		// Bearer JWT.
		if r := e.me(t, bearer(s.Access)); r.check(t, 200, "JWT access") && r.str("auth_id") != s.AuthID {
			t.Errorf("JWT access auth_id %q", r.str("auth_id"))
		}
		e.me(t, bearer(s.Refresh)).checkErr(t, 401, "unauthorized", "refresh JWT on /auth/me")
		e.me(t, bearer("garbage")).checkErr(t, 401, "unauthorized", "bearer garbage")
		parts := strings.Split(s.Access, ".")
		if len(parts) != 3 {
			t.Fatalf("access token %q is not a JWT", s.Access)
		}
		none := b64.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
		e.me(t, bearer(none)).checkErr(t, 401, "unauthorized", "alg none")
		hs512 := b64.EncodeToString([]byte(`{"alg":"HS512","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2]
		e.me(t, bearer(hs512)).checkErr(t, 401, "unauthorized", "alg HS512")
		var claims map[string]any
		raw, _ := b64.DecodeString(parts[1])
		json.Unmarshal(raw, &claims)
		claims["sub"] = e.main.AuthID
		forged, _ := json.Marshal(claims)
		e.me(t, bearer(parts[0]+"."+b64.EncodeToString(forged)+"."+parts[2])).checkErr(t, 401, "unauthorized", "tampered payload")
		sig := []byte(parts[2])
		sig[3] ^= 1
		e.me(t, bearer(parts[0]+"."+parts[1]+"."+string(sig))).checkErr(t, 401, "unauthorized", "tampered signature")
		// Signed with another key.
		other := sb.SignJWT([]byte("0123456789abcdef0123456789abcdef"), sb.Claims{Issuer: "switchboard", Subject: s.AuthID, Type: "access",
			IssuedAt: e.clock.Now().Unix(), ExpiresAt: e.clock.Now().Add(time.Hour).Unix(), ID: sb.NewUUID()})
		e.me(t, bearer(other)).checkErr(t, 401, "unauthorized", "JWT signed with another key")

		// Expiry: no leeway, 1800 s.
		e.clock.Advance(61 * time.Second)
		s2 := e.createSub(t, map[string]any{"name": "expiring"})
		e.clock.Advance(1799 * time.Second)
		e.me(t, bearer(s2.Access)).check(t, 200, "JWT 1 s before exp")
		e.clock.Advance(2 * time.Second)
		checkErrorBody(t, "expired JWT", e.me(t, bearer(s2.Access)), 401, "token_expired")
		e.do(t, "GET", subsPath(e.main.AuthID), noBody, bearer(s2.Access)).checkErr(t, 401, "token_expired", "expired JWT on another route")
		e.me(t, bearer(s.Access)).checkErr(t, 401, "token_expired", "older JWT")
		// The pair is not affected by time.
		e.me(t, pair(s2.account)).check(t, 200, "pair after JWT expiry")
	})
}

func TestLoginAndRefresh(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{Admin: true})
		const pw = "correct horse battery"
		s := e.createSub(t, map[string]any{"name": "console", "email": "login@example.com", "password": pw})
		if _, leaked := s.Obj["password"]; leaked {
			t.Errorf("create response has a password key")
		}
		login := func(email, password string) *resp {
			t.Helper()
			return e.do(t, "POST", "/api/v1/auth/login", jsonBody(map[string]any{"email": email, "password": password}))
		}
		checkErrorBody(t, "wrong password", login("login@example.com", "wrong password!"), 401, "unauthorized")
		login("nobody@example.com", pw).checkErr(t, 401, "unauthorized", "unknown email")
		e.createSub(t, map[string]any{"name": "no password", "email": "nopw@example.com"})
		login("nopw@example.com", pw).checkErr(t, 401, "unauthorized", "account without a password")

		// Email is case-insensitive; the answer is a pair plus auth_id.
		r := login(" LOGIN@Example.COM ", pw).want(t, 200)
		assertKeys(t, r.Obj, loginKeys...)
		if r.str("auth_id") != s.AuthID || r.str("token_type") != "bearer" || num(r.Obj, "expires_in") != 1800 {
			t.Errorf("login response %v", r.Obj)
		}
		if m := e.me(t, bearer(r.str("access_token"))); m.check(t, 200, "login access token") && m.str("auth_id") != s.AuthID {
			t.Errorf("login token subject %q", m.str("auth_id"))
		}
		e.me(t, bearer(r.str("refresh_token"))).checkErr(t, 401, "unauthorized", "refresh token on /auth/me")
		e.do(t, "GET", subsPath(e.main.AuthID), noBody, bearer(r.str("refresh_token"))).checkErr(t, 401, "unauthorized", "refresh token on a parent route")

		// Refresh is single-use and answers a new pair.
		e.do(t, "POST", "/api/v1/auth/refresh", noBody, bearer(r.str("access_token"))).checkErr(t, 401, "unauthorized", "access token on refresh")
		e.do(t, "POST", "/api/v1/auth/refresh", noBody).checkErr(t, 401, "unauthorized", "refresh without a token")
		e.do(t, "POST", "/api/v1/auth/refresh", noBody, pair(s.account)).checkErr(t, 401, "unauthorized", "refresh with an auth pair")
		f := e.do(t, "POST", "/api/v1/auth/refresh", noBody, bearer(r.str("refresh_token"))).want(t, 200)
		assertKeys(t, f.Obj, "access_token", "refresh_token", "token_type", "expires_in")
		if f.str("refresh_token") == r.str("refresh_token") {
			t.Errorf("refresh answer %v", f.Obj)
		}
		e.me(t, bearer(f.str("access_token"))).check(t, 200, "refreshed access token")
		e.do(t, "POST", "/api/v1/auth/refresh", noBody, bearer(r.str("refresh_token"))).checkErr(t, 401, "unauthorized", "refresh token used twice")
		// The sub-account create response's refresh token works once too.
		e.do(t, "POST", "/api/v1/auth/refresh/", noBody, bearer(s.Refresh)).check(t, 200, "create response refresh token")
		e.do(t, "POST", "/api/v1/auth/refresh", noBody, bearer(s.Refresh)).checkErr(t, 401, "unauthorized", "create refresh token twice")

		// Disabled → 403 on login and refresh.
		item := subPath(e.main.AuthID, s.AuthID)
		e.do(t, "PUT", item, jsonBody(map[string]any{"enabled": false}), pair(e.main)).want(t, 200)
		checkErrorBody(t, "login of a disabled sub-account", login("login@example.com", pw), 403, "account_inactive")
		e.do(t, "POST", "/api/v1/auth/refresh", noBody, bearer(f.str("refresh_token"))).checkErr(t, 403, "account_inactive", "refresh of a disabled sub-account")
		e.do(t, "PUT", item, jsonBody(map[string]any{"enabled": true}), pair(e.main)).want(t, 200)
		e.do(t, "PUT", "/api/v1/admin/accounts/"+e.main.AuthID, jsonBody(map[string]any{"enabled": false}), e.adminAuth()).want(t, 200)
		login("login@example.com", pw).checkErr(t, 403, "account_inactive", "login of a sub-account under a disabled main")
		e.do(t, "PUT", "/api/v1/admin/accounts/"+e.main.AuthID, jsonBody(map[string]any{"enabled": true}), e.adminAuth()).want(t, 200)

		// Refresh tokens live 7 days; access tokens 1800 s.
		e.clock.Advance(7*24*time.Hour + time.Second)
		e.do(t, "POST", "/api/v1/auth/refresh", noBody, bearer(f.str("refresh_token"))).checkErr(t, 401, "token_expired", "refresh token after 7 days")
	})
}

func TestLoginRateLimit(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{})
		login := func(email string) *resp {
			return e.do(t, "POST", "/api/v1/auth/login", jsonBody(map[string]any{"email": email, "password": "whatever-123"}))
		}
		for i := 1; i <= 10; i++ {
			login("victim@example.com").checkErr(t, 401, "unauthorized", fmt.Sprintf("failure %d", i))
			e.clock.Advance(time.Minute)
		}
		r := login("Victim@Example.com")
		checkErrorBody(t, "11th failure", r, 429, "rate_limit_exceeded")
		if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Errorf("Retry-After %q, want ≥ 1", ra)
		}
		login("bystander@example.com").checkErr(t, 401, "unauthorized", "another email is not limited")
		// The first failure leaves the 15-minute window.
		e.clock.Advance(5*time.Minute + time.Second)
		login("victim@example.com").checkErr(t, 401, "unauthorized", "after the window")
	})
}

func TestOperatorAPIHidden(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{Dev: true}) // no admin token
		for _, c := range []struct{ method, path string }{
			{"GET", "/api/v1/admin/accounts"},
			{"POST", "/api/v1/admin/accounts"},
			{"GET", "/api/v1/admin/accounts/" + e.main.AuthID},
			{"PUT", "/api/v1/admin/accounts/" + e.main.AuthID},
			{"POST", "/api/v1/admin/accounts/" + e.main.AuthID + "/rotate-token"},
			{"DELETE", "/api/v1/admin/accounts"},
			{"OPTIONS", "/api/v1/admin/accounts"},
			{"GET", "/api/v1/admin/dev/clock"},
			{"POST", "/api/v1/admin/dev/reset"},
			{"POST", "/api/v1/admin/dev/clock/advance"},
			{"GET", "/api/v1/admin/anything/else"},
			{"GET", "/metrics"},
		} {
			for _, cred := range []reqOpt{bearer(testAdminToken), bearer(""), pair(e.main)} {
				r := e.do(t, c.method, c.path, jsonBody(map[string]any{"name": "x"}), cred)
				r.checkErr(t, 404, "not_found", "no admin token: "+c.method+" "+c.path)
			}
		}
		// The bootstrap account is intact.
		e.me(t, pair(e.main)).check(t, 200, "main after hidden admin attempts")
	})
}

func TestOperatorAPI(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{Admin: true})
		s := e.createSub(t, map[string]any{"name": "someone's sub"})
		const base = "/api/v1/admin/accounts"

		// Only the operator token; account credentials → 401.
		for _, c := range []struct {
			name string
			opts []reqOpt
		}{
			{"none", nil},
			{"wrong token", []reqOpt{bearer("wrong-token")}},
			{"token prefix", []reqOpt{bearer(testAdminToken[:10])}},
			{"main pair", []reqOpt{pair(e.main)}},
			{"main Basic", []reqOpt{basic(e.main.AuthID, e.main.Token)}},
			{"sub JWT", []reqOpt{bearer(s.Access)}},
			{"pair + admin token", []reqOpt{pair(e.main), hdr("Authorization", "Basic "+testAdminToken)}},
		} {
			checkErrorBody(t, "admin with "+c.name, e.do(t, "GET", base, noBody, c.opts...), 401, "unauthorized")
		}
		// Regression (found by this suite): the auth-scheme name is
		// case-insensitive (RFC 7235 §2.1) for the operator token too.
		e.do(t, "GET", base, noBody, hdr("Authorization", "bearer "+testAdminToken)).check(t, 200, "admin token with a lower-case bearer scheme")
		e.do(t, "GET", base, noBody, hdr("Authorization", "BEARER "+testAdminToken)).check(t, 200, "admin token with an upper-case BEARER scheme")
		e.clock.Advance(61 * time.Second) // leave the failed-authentication window

		// Create.
		r := e.do(t, "POST", base, jsonBody(map[string]any{"name": " Acme Voice ", "email": "Ops@Acme.test", "phone": "+14155550199",
			"pricing": map[string]any{"outbound_rate_per_minute": 0.5}, "id": "1", "auth_id": "MA_HACKED00", "balance": 100}), e.adminAuth()).
			want(t, http.StatusCreated)
		assertKeys(t, r.Obj, "account", "auth_credentials", "webhook_secret")
		acct := r.obj("account")
		assertKeys(t, acct, mainAccountKeys...)
		assertKeys(t, acct["pricing"].(map[string]any), pricingKeys...)
		creds := r.obj("auth_credentials")
		assertKeys(t, creds, "auth_id", "auth_token")
		if !whsecPattern.MatchString(r.str("webhook_secret")) {
			t.Errorf("webhook_secret %q, want whsec_ + 40 [A-Za-z0-9]", r.str("webhook_secret"))
		}
		acme := account{str(creds, "auth_id"), str(creds, "auth_token")}
		if !mainIDPattern.MatchString(acme.AuthID) || str(acct, "auth_id") != acme.AuthID || !tokenPattern.MatchString(acme.Token) {
			t.Errorf("credentials %v / account auth_id %v", creds, acct["auth_id"])
		}
		pricing := acct["pricing"].(map[string]any)
		want := map[string]any{"name": "Acme Voice", "email": "ops@acme.test", "phone": "+14155550199", "currency": "INR",
			"enabled": true, "is_active": true, "rate_limit": 6000.0, "max_sub_accounts": 1000.0, "low_balance_threshold": 0.0,
			"balance": 0.0, "sub_account_count": 0.0, "last_used": nil}
		for k, v := range want {
			if acct[k] != v {
				t.Errorf("account.%s = %#v, want %#v", k, acct[k], v)
			}
		}
		if pricing["outbound_rate_per_minute"] != 0.5 || pricing["inbound_rate_per_minute"] != 0.0 ||
			pricing["billing_increment_seconds"] != 60.0 || pricing["minimum_duration_seconds"] != 0.0 {
			t.Errorf("pricing %v", pricing)
		}
		if str(acct, "id") == "1" || !numIDPattern.MatchString(str(acct, "id")) || !uuidPattern.MatchString(str(acct, "api_id")) {
			t.Errorf("ids %v %v", acct["id"], acct["api_id"])
		}
		checkTime(t, "account.created_at", acct["created_at"])
		checkTime(t, "account.updated_at", acct["updated_at"])
		if m := e.me(t, pair(acme)); m.check(t, 200, "new main account token") && m.str("role") != "main" {
			t.Errorf("new main role %q", m.str("role"))
		}
		// Its sub-accounts are counted.
		e.createSubOf(t, acme, map[string]any{"name": "acme sub"})

		// Validation and duplicates (emails are unique across main and sub-accounts).
		checkErrorBody(t, "duplicate email", e.do(t, "POST", base, jsonBody(map[string]any{"name": "Dup", "email": "OPS@acme.test"}), e.adminAuth()), 409, "already_exists")
		e.createSub(t, map[string]any{"name": "owned", "email": "subowned@example.com"})
		e.do(t, "POST", base, jsonBody(map[string]any{"name": "Dup", "email": "SubOwned@example.com"}), e.adminAuth()).checkErr(t, 409, "already_exists", "a sub-account's email")
		e.do(t, "POST", base, jsonBody(map[string]any{"email": "x@y.test"}), e.adminAuth()).checkErr(t, 400, "validation_error", "missing name")
		e.do(t, "POST", base, jsonBody(map[string]any{"name": "x", "currency": "inr"}), e.adminAuth()).checkErr(t, 400, "validation_error", "bad currency")
		e.do(t, "POST", base, jsonBody(map[string]any{"name": "x", "rate_limit": 0}), e.adminAuth()).checkErr(t, 400, "validation_error", "rate_limit 0")
		e.do(t, "POST", base, jsonBody(map[string]any{"name": "x", "enabled": "yes"}), e.adminAuth()).checkErr(t, 400, "validation_error", "enabled as string")

		// A disabled one for the filters, created a second later (newest).
		e.clock.Advance(time.Second)
		beta := e.do(t, "POST", base+"/", jsonBody(map[string]any{"name": "Beta Telecom", "enabled": false, "currency": "USD"}), e.adminAuth()).want(t, 201)
		betaID := str(beta.obj("account"), "auth_id")
		if beta.obj("account")["is_active"] != false || str(beta.obj("account"), "currency") != "USD" {
			t.Errorf("beta %v", beta.obj("account"))
		}

		// List.
		listIDs := func(q string) (ids []string, total float64) {
			t.Helper()
			r := e.do(t, "GET", base+q, noBody, e.adminAuth())
			if !r.check(t, 200, "admin list "+q) {
				return nil, -1
			}
			assertKeys(t, r.Obj, "accounts", "total", "page", "size")
			for _, it := range r.list("accounts") {
				assertKeys(t, it.(map[string]any), mainAccountKeys...)
				ids = append(ids, str(it.(map[string]any), "auth_id"))
			}
			return ids, num(r.Obj, "total")
		}
		if ids, total := listIDs(""); total != 3 || len(ids) != 3 || ids[0] != betaID {
			t.Errorf("admin list: %v total %v, want 3 newest first (%s)", ids, total, betaID)
		}
		if ids, total := listIDs("?search=ACME"); total != 1 || len(ids) != 1 || ids[0] != acme.AuthID {
			t.Errorf("search ACME: %v %v", ids, total)
		}
		if ids, total := listIDs("?search=ops@"); total != 1 || len(ids) != 1 || ids[0] != acme.AuthID {
			t.Errorf("search by email: %v %v", ids, total)
		}
		if ids, total := listIDs("?enabled=false"); total != 1 || len(ids) != 1 || ids[0] != betaID {
			t.Errorf("enabled=false: %v %v", ids, total)
		}
		if ids, total := listIDs("?enabled=true"); total != 2 || len(ids) != 2 {
			t.Errorf("enabled=true: %v %v", ids, total)
		}
		if ids, total := listIDs("?size=1&page=2"); total != 3 || len(ids) != 1 || ids[0] != acme.AuthID {
			t.Errorf("page 2 size 1: %v %v", ids, total)
		}
		e.do(t, "GET", base+"?size=0", noBody, e.adminAuth()).checkErr(t, 400, "validation_error", "admin list size=0")
		e.do(t, "GET", base+"?enabled=perhaps", noBody, e.adminAuth()).checkErr(t, 400, "validation_error", "admin list enabled=perhaps")

		// Get.
		g := e.do(t, "GET", base+"/"+acme.AuthID, noBody, e.adminAuth()).want(t, 200)
		assertKeys(t, g.Obj, mainAccountKeys...)
		if num(g.Obj, "sub_account_count") != 1 || g.Obj["last_used"] == nil {
			t.Errorf("get: sub_account_count %v last_used %v, want 1 and a time", g.Obj["sub_account_count"], g.Obj["last_used"])
		}
		e.do(t, "GET", base+"/MA_ZZZZZZZZ", noBody, e.adminAuth()).checkErr(t, 404, "not_found", "unknown main account")
		e.do(t, "GET", base+"/"+s.AuthID, noBody, e.adminAuth()).checkErr(t, 404, "not_found", "SA_ id on the admin get")

		// Update: partial, pricing merged key by key.
		u := e.do(t, "PUT", base+"/"+acme.AuthID, jsonBody(map[string]any{"name": "Acme Voice Ltd", "rate_limit": 7000,
			"pricing": map[string]any{"inbound_rate_per_minute": 0.25}, "max_sub_accounts": 5}), e.adminAuth()).want(t, 200)
		assertKeys(t, u.Obj, mainAccountKeys...)
		up := u.Obj["pricing"].(map[string]any)
		if up["outbound_rate_per_minute"] != 0.5 || up["inbound_rate_per_minute"] != 0.25 || up["billing_increment_seconds"] != 60.0 {
			t.Errorf("merged pricing %v", up)
		}
		if u.str("name") != "Acme Voice Ltd" || num(u.Obj, "rate_limit") != 7000 || num(u.Obj, "max_sub_accounts") != 5 || u.str("email") != "ops@acme.test" {
			t.Errorf("update %v", u.Obj)
		}
		e.do(t, "PATCH", base+"/"+acme.AuthID, jsonBody(map[string]any{"pricing": map[string]any{"billing_increment_seconds": 0}}), e.adminAuth()).
			checkErr(t, 400, "validation_error", "billing_increment_seconds 0")
		e.do(t, "PUT", base+"/"+acme.AuthID, jsonBody(map[string]any{"email": "OWNER@example.com"}), e.adminAuth()).check(t, 200, "email update")
		e.do(t, "PUT", base+"/"+betaID, jsonBody(map[string]any{"email": "owner@EXAMPLE.com"}), e.adminAuth()).checkErr(t, 409, "already_exists", "update to a taken email")
		e.do(t, "PUT", base+"/"+s.AuthID, jsonBody(map[string]any{"name": "x"}), e.adminAuth()).checkErr(t, 404, "not_found", "admin update of an SA_ id")
		e.do(t, "PUT", base+"/MA_ZZZZZZZZ", jsonBody(map[string]any{"name": "x"}), e.adminAuth()).checkErr(t, 404, "not_found", "admin update of an unknown id")

		// Rotate.
		rr := e.do(t, "POST", base+"/"+acme.AuthID+"/rotate-token", jsonBody(map[string]any{"grace_seconds": 0}), e.adminAuth()).want(t, 200)
		assertKeys(t, rr.Obj, rotationKeys...)
		if rr.str("auth_id") != acme.AuthID || rr.Obj["previous_token_expires_at"] != nil {
			t.Errorf("admin rotate %v", rr.Obj)
		}
		e.me(t, pair(acme)).checkErr(t, 401, "unauthorized", "old token after admin rotate")
		e.me(t, pair(account{acme.AuthID, rr.str("auth_token")})).check(t, 200, "new token after admin rotate")
		rr = e.do(t, "POST", base+"/"+acme.AuthID+"/rotate-token", noBody, e.adminAuth()).want(t, 200)
		if want := fmtTime(e.clock.Now().Add(24 * time.Hour)); rr.str("previous_token_expires_at") != want {
			t.Errorf("admin rotate default grace: %v, want %s", rr.Obj["previous_token_expires_at"], want)
		}
		e.do(t, "POST", base+"/"+s.AuthID+"/rotate-token", noBody, e.adminAuth()).checkErr(t, 404, "not_found", "admin rotate of an SA_ id")
		e.me(t, pair(s.account)).check(t, 200, "sub token untouched by the refused admin rotate")
		e.do(t, "POST", base+"/MA_ZZZZZZZZ/rotate-token", noBody, e.adminAuth()).checkErr(t, 404, "not_found", "admin rotate of an unknown id")
	})
}

func TestDevHelpers(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		// Not in dev mode: 404 even with the operator token.
		nd := newEnv(t, dsn, envOpts{Admin: true})
		for _, p := range []string{"/api/v1/admin/dev/clock", "/api/v1/admin/dev/reset", "/api/v1/admin/dev/clock/advance", "/api/v1/admin/dev/clock/reset"} {
			for _, m := range []string{"GET", "POST"} {
				nd.do(t, m, p, noBody, nd.adminAuth()).checkErr(t, 404, "not_found", "dev helper outside dev mode: "+m+" "+p)
			}
		}
		nd.do(t, "GET", "/api/v1/admin/accounts", noBody, nd.adminAuth()).check(t, 200, "operator API without dev mode")
	})
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{Admin: true, Dev: true})
		const clk = "/api/v1/admin/dev/clock"
		e.do(t, "GET", clk, noBody).checkErr(t, 401, "unauthorized", "dev clock without token")
		e.do(t, "GET", clk, noBody, pair(e.main)).checkErr(t, 401, "unauthorized", "dev clock with account credentials")

		r := e.do(t, "GET", clk, noBody, e.adminAuth()).want(t, 200)
		assertKeys(t, r.Obj, "now", "offset_seconds")
		if r.str("now") != fmtTime(clockStart) || num(r.Obj, "offset_seconds") != 0 {
			t.Errorf("clock %v, want %s offset 0", r.Obj, fmtTime(clockStart))
		}
		s := e.createSub(t, map[string]any{"name": "timer"})
		r = e.do(t, "POST", clk+"/advance", jsonBody(map[string]any{"seconds": 1800}), e.adminAuth()).want(t, 200)
		assertKeys(t, r.Obj, "now", "offset_seconds")
		if r.str("now") != fmtTime(clockStart.Add(1800*time.Second)) || num(r.Obj, "offset_seconds") != 1800 {
			t.Errorf("advanced clock %v", r.Obj)
		}
		// Every server time follows the advanced clock: the JWT is now expired.
		e.me(t, bearer(s.Access)).checkErr(t, 401, "token_expired", "JWT after dev advance")
		c := e.createSub(t, map[string]any{"name": "later"})
		if str(c.Obj, "created_at") != fmtTime(clockStart.Add(1800*time.Second)) {
			t.Errorf("created_at %v does not follow the dev clock", c.Obj["created_at"])
		}
		for _, b := range []any{map[string]any{"seconds": 31536001}, map[string]any{"seconds": 0}, map[string]any{"seconds": -5},
			map[string]any{}, map[string]any{"seconds": "60"}, map[string]any{"seconds": 1.5}} {
			e.do(t, "POST", clk+"/advance", jsonBody(b), e.adminAuth()).checkErr(t, 400, "validation_error", fmt.Sprintf("advance %v", b))
		}
		e.do(t, "POST", clk+"/advance", jsonBody(map[string]any{"seconds": 31536000}), e.adminAuth()).check(t, 200, "advance one year")
		r = e.do(t, "POST", clk+"/reset", noBody, e.adminAuth()).want(t, 200)
		if r.str("now") != fmtTime(clockStart) || num(r.Obj, "offset_seconds") != 0 {
			t.Errorf("reset clock %v", r.Obj)
		}
		e.do(t, "GET", clk+"/advance", noBody, e.adminAuth()).checkErr(t, 405, "method_not_allowed", "GET advance")

		// Reset: all tenant data gone, a fresh main account.
		e.do(t, "POST", clk+"/advance", jsonBody(map[string]any{"seconds": 100}), e.adminAuth()).want(t, 200)
		r = e.do(t, "POST", "/api/v1/admin/dev/reset", noBody, e.adminAuth()).want(t, 200)
		assertKeys(t, r.Obj, "message", "bootstrap")
		boot := r.obj("bootstrap")
		assertKeys(t, boot, "auth_id", "auth_token", "webhook_secret")
		if r.str("message") != "reset" || !mainIDPattern.MatchString(str(boot, "auth_id")) || str(boot, "auth_id") == e.main.AuthID ||
			!whsecPattern.MatchString(str(boot, "webhook_secret")) {
			t.Errorf("reset %v", r.Obj)
		}
		fresh := account{str(boot, "auth_id"), str(boot, "auth_token")}
		e.me(t, pair(e.main)).checkErr(t, 401, "unauthorized", "old main after reset")
		e.me(t, pair(s.account)).checkErr(t, 401, "unauthorized", "old sub after reset")
		e.me(t, pair(c.account)).checkErr(t, 401, "unauthorized", "old sub 2 after reset")
		if m := e.me(t, pair(fresh)); m.check(t, 200, "fresh main") && m.str("name") != "Main account" {
			t.Errorf("fresh main %v", m.Obj)
		}
		if l := e.do(t, "GET", subsPath(fresh.AuthID), noBody, pair(fresh)); l.check(t, 200, "fresh list") && num(l.Obj, "total") != 0 {
			t.Errorf("fresh list total %v", l.Obj["total"])
		}
		if l := e.do(t, "GET", "/api/v1/admin/accounts", noBody, e.adminAuth()); num(l.Obj, "total") != 1 {
			t.Errorf("main accounts after reset: %v", l.Obj["total"])
		}
		if r := e.do(t, "GET", clk, noBody, e.adminAuth()); num(r.Obj, "offset_seconds") != 0 {
			t.Errorf("reset kept the clock offset: %v", r.Obj)
		}
		// The server key is kept: the fresh token works through the same key,
		// and an email of the old data is free again.
		e.createSubOf(t, fresh, map[string]any{"name": "again", "email": "again@example.com"})

		// Without bootstrap.
		r = e.do(t, "POST", "/api/v1/admin/dev/reset", jsonBody(map[string]any{"bootstrap": false}), e.adminAuth()).want(t, 200)
		if v, ok := r.Obj["bootstrap"]; !ok || v != nil {
			t.Errorf("reset without bootstrap: %v", r.Obj)
		}
		e.me(t, pair(fresh)).checkErr(t, 401, "unauthorized", "fresh main after the second reset")
		e.do(t, "POST", "/api/v1/admin/dev/reset", jsonBody(map[string]any{"bootstrap": "no"}), e.adminAuth()).checkErr(t, 400, "validation_error", "bootstrap as string")
	})
}

func TestOpsEndpoints(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{Admin: true})
		s := e.createSub(t, map[string]any{"name": "metrics"})

		r := e.do(t, "GET", "/healthz", noBody).want(t, 200)
		assertKeys(t, r.Obj, "status")
		if r.str("status") != "ok" {
			t.Errorf("healthz %s", r.Body)
		}
		r = e.do(t, "GET", "/readyz/", noBody).want(t, 200)
		assertKeys(t, r.Obj, "status")
		if r.str("status") != "ready" {
			t.Errorf("readyz %s", r.Body)
		}
		for _, p := range []string{"/healthz", "/readyz", "/openapi.json", "/docs"} {
			if rr := e.do(t, "GET", p, noBody); rr.Header.Get("X-RateLimit-Limit") != "" {
				t.Errorf("%s carries X-RateLimit headers", p)
			}
		}
		e.do(t, "POST", "/healthz", noBody).checkErr(t, 405, "method_not_allowed", "POST /healthz")

		// OpenAPI and docs.
		r = e.do(t, "GET", "/openapi.json", noBody).want(t, 200)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("openapi Content-Type %q", ct)
		}
		if v, _ := r.Obj["openapi"].(string); !strings.HasPrefix(v, "3.1") {
			t.Errorf("openapi version %v", r.Obj["openapi"])
		}
		if paths, _ := r.Obj["paths"].(map[string]any); paths == nil || paths["/api/v1/accounts/{auth_id}/sub-accounts"] == nil {
			t.Errorf("openapi paths lack the sub-account collection")
		}
		if !json.Valid(r.Body) {
			t.Errorf("openapi.json is not JSON")
		}
		r = e.do(t, "GET", "/docs", noBody).want(t, 200)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("docs Content-Type %q", ct)
		}
		// Self-contained: no third-party resources.
		for _, ref := range []string{`src="http`, `href="http`, `src="//`, `href="//`, "@import", "url(http"} {
			if strings.Contains(string(r.Body), ref) {
				t.Errorf("docs load an external resource (%s)", ref)
			}
		}
		if !strings.Contains(string(r.Body), "/api/v1/accounts/{auth_id}/sub-accounts") {
			t.Errorf("docs do not describe the sub-account routes")
		}

		// Traffic with tenant ids in the paths, then /metrics.
		e.do(t, "GET", subPath(e.main.AuthID, s.AuthID), noBody, pair(e.main)).want(t, 200)
		e.do(t, "GET", subPath(e.main.AuthID, "SA_UNKNOWN1"), noBody, pair(e.main)).want(t, 404)
		e.do(t, "GET", "/no/such/"+s.AuthID, noBody).want(t, 404)
		e.do(t, "GET", "/metrics", noBody).checkErr(t, 401, "unauthorized", "metrics without token")
		e.do(t, "GET", "/metrics", noBody, bearer("wrong")).checkErr(t, 401, "unauthorized", "metrics with a wrong token")
		e.do(t, "GET", "/metrics", noBody, pair(e.main)).checkErr(t, 401, "unauthorized", "metrics with account credentials")
		r = e.do(t, "GET", "/metrics", noBody, e.adminAuth()).want(t, 200)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("metrics Content-Type %q", ct)
		}
		text := string(r.Body)
		if !strings.Contains(text, "switchboard_http_requests_total{") || !strings.Contains(text, "switchboard_http_request_duration_seconds") ||
			!strings.Contains(text, "switchboard_build_info") {
			t.Errorf("metrics lack the switchboard series:\n%.2000s", text)
		}
		for _, id := range []string{e.main.AuthID, s.AuthID, "SA_UNKNOWN1", "MA_", "SA_"} {
			if strings.Contains(text, id) {
				t.Errorf("metrics carry a tenant id %q", id)
			}
		}

		// X-Request-Id.
		r = e.do(t, "GET", "/healthz", noBody, hdr("X-Request-Id", "req-123_abc.X"))
		if r.Header.Get("X-Request-Id") != "req-123_abc.X" {
			t.Errorf("valid X-Request-Id not echoed: %q", r.Header.Get("X-Request-Id"))
		}
		r = e.do(t, "GET", subsPath(e.main.AuthID), noBody, hdr("X-Request-Id", "client-id-42"))
		if r.Header.Get("X-Request-Id") != "client-id-42" {
			t.Errorf("X-Request-Id on an error: %q", r.Header.Get("X-Request-Id"))
		}
		for _, bad := range []string{"bad id!", strings.Repeat("a", 129), "a/b", "ünïcode", ""} {
			r = e.do(t, "GET", "/healthz", noBody, hdr("X-Request-Id", bad))
			if got := r.Header.Get("X-Request-Id"); !uuidPattern.MatchString(got) {
				t.Errorf("invalid X-Request-Id %q answered %q, want a fresh UUID", bad, got)
			}
		}
		if got := e.do(t, "GET", "/healthz", noBody, hdr("X-Request-Id", strings.Repeat("a", 128))).Header.Get("X-Request-Id"); got != strings.Repeat("a", 128) {
			t.Errorf("128-char X-Request-Id replaced by %q", got)
		}
		a, b := e.do(t, "GET", "/healthz", noBody).Header.Get("X-Request-Id"), e.do(t, "GET", "/healthz", noBody).Header.Get("X-Request-Id")
		if !uuidPattern.MatchString(a) || a == b {
			t.Errorf("generated request ids %q %q", a, b)
		}
	})
}

func TestMetricsWithoutAdminToken(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{})
		e.do(t, "GET", "/metrics", noBody).checkErr(t, 404, "not_found", "metrics without SWITCHBOARD_ADMIN_TOKEN")
		e.do(t, "GET", "/metrics", noBody, bearer(testAdminToken)).checkErr(t, 404, "not_found", "metrics with a token but none configured")
	})
}

func TestRequestBodies(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{})
		coll := subsPath(e.main.AuthID)
		s := e.createSub(t, map[string]any{"name": "bodies"})
		rot := subPath(e.main.AuthID, s.AuthID) + "/rotate-token"

		// 1 MiB is the limit: exactly 1 MiB passes, one byte more is 413.
		exact := func(n int) string {
			prefix, suffix := `{"name":"big","pad":"`, `"}`
			return prefix + strings.Repeat("a", n-len(prefix)-len(suffix)) + suffix
		}
		e.do(t, "POST", coll, rawBody(exact(1<<20), "application/json"), pair(e.main)).check(t, 201, "exactly 1 MiB")
		checkErrorBody(t, "1 MiB + 1", e.do(t, "POST", coll, rawBody(exact(1<<20+1), "application/json"), pair(e.main)), 413, "payload_too_large")
		big := rawBody(exact(2<<20), "application/json")
		big.chunked = true
		checkErrorBody(t, "2 MiB chunked", e.do(t, "POST", coll, big, pair(e.main)), 413, "payload_too_large")

		// Media types.
		checkErrorBody(t, "text/plain", e.do(t, "POST", coll, rawBody(`{"name":"x"}`, "text/plain"), pair(e.main)), 415, "unsupported_media_type")
		e.do(t, "POST", coll, rawBody(`name=x`, "application/x-www-form-urlencoded"), pair(e.main)).checkErr(t, 415, "unsupported_media_type", "form body")
		e.do(t, "PUT", subPath(e.main.AuthID, s.AuthID), rawBody(`{"name":"x"}`, "text/plain"), pair(e.main)).checkErr(t, 415, "unsupported_media_type", "text/plain PUT")
		e.do(t, "POST", coll, rawBody(`{"name":"vnd"}`, "application/vnd.api+json"), pair(e.main)).check(t, 201, "*/*+json")
		e.do(t, "POST", coll, rawBody(`{"name":"charset"}`, "application/json; charset=utf-8"), pair(e.main)).check(t, 201, "json with charset")
		e.do(t, "POST", coll, rawBody(`{"name":"no type"}`, ""), pair(e.main)).check(t, 201, "no Content-Type")
		e.do(t, "POST", rot, rawBody("", "text/plain"), pair(e.main)).check(t, 200, "empty body with text/plain is {}")

		// Not a JSON object.
		for _, b := range []string{`[]`, `"x"`, `{`, `{"name": "x"} {}`, `null`, `42`, `{"name":"x",}`, "\xff"} {
			checkErrorBody(t, "body "+b, e.do(t, "POST", coll, rawBody(b, "application/json"), pair(e.main)), 400, "invalid_json")
		}
		e.do(t, "POST", rot, rawBody(`[]`, "application/json"), pair(e.main)).checkErr(t, 400, "invalid_json", "array on rotate")
		e.do(t, "DELETE", subPath(e.main.AuthID, s.AuthID), rawBody(`{`, "application/json"), pair(e.main)).checkErr(t, 400, "invalid_json", "broken JSON on delete")
		e.me(t, pair(s.account)).check(t, 200, "not deleted by a broken body")

		// An empty body on POST/PUT/DELETE is {}.
		e.do(t, "POST", coll, rawBody("", "application/json"), pair(e.main)).checkErr(t, 400, "validation_error", "empty create body")
		e.do(t, "POST", coll, noBody, pair(e.main)).checkErr(t, 400, "validation_error", "no create body")
		e.do(t, "POST", coll, rawBody("  \n ", "application/json"), pair(e.main)).checkErr(t, 400, "validation_error", "blank create body")
		e.do(t, "POST", rot, rawBody("", "application/json"), pair(e.main)).check(t, 200, "empty rotate body")
		e.do(t, "PUT", subPath(e.main.AuthID, s.AuthID), noBody, pair(e.main)).check(t, 200, "empty update body")
		// Unknown keys are ignored.
		e.do(t, "POST", coll, jsonBody(map[string]any{"name": "extra", "whatever": map[string]any{"deep": []any{1, 2}}}), pair(e.main)).check(t, 201, "unknown keys")
	})
}

func TestRateLimits(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{Admin: true})
		s := e.createSub(t, map[string]any{"name": "slow", "rate_limit": 2})
		rl := func(r *resp) [3]string {
			return [3]string{r.Header.Get("X-RateLimit-Limit"), r.Header.Get("X-RateLimit-Remaining"), r.Header.Get("X-RateLimit-Reset")}
		}

		// Every response to an authenticated account carries the headers, errors included.
		r := e.me(t, pair(e.main))
		if h := rl(r); h[0] != "6000" || h[1] == "" || h[2] == "" {
			t.Errorf("main account rate-limit headers %v, want limit 6000", h)
		}
		if h := rl(e.do(t, "GET", subPath(e.main.AuthID, "SA_ZZZZZZZZ"), noBody, pair(e.main))); h[0] != "6000" {
			t.Errorf("rate-limit headers on a 404: %v", h)
		}
		// Unauthenticated, operator and ops responses carry none.
		for _, r := range []*resp{e.me(t), e.do(t, "GET", "/healthz", noBody), e.do(t, "GET", "/api/v1/admin/accounts", noBody, e.adminAuth())} {
			if h := rl(r); h != [3]string{} {
				t.Errorf("rate-limit headers %v on a response without an account", h)
			}
		}

		// A bucket of 2 per minute: two requests, then 429 with Retry-After.
		r1, r2, r3 := e.me(t, pair(s.account)), e.me(t, bearer(s.Access)), e.me(t, basic(s.AuthID, s.Token))
		r1.check(t, 200, "1st request")
		r2.check(t, 200, "2nd request (JWT shares the bucket)")
		checkErrorBody(t, "3rd request", r3, 429, "rate_limit_exceeded")
		if rl(r1) != [3]string{"2", "1", "30"} || rl(r2)[1] != "0" || rl(r3)[1] != "0" {
			t.Errorf("headers %v %v %v", rl(r1), rl(r2), rl(r3))
		}
		if ra := r3.Header.Get("Retry-After"); ra != "30" {
			t.Errorf("Retry-After %q, want 30 (one token at 2/min)", ra)
		}
		// The parent acting on the sub-account spends its own bucket.
		e.do(t, "GET", subPath(e.main.AuthID, s.AuthID), noBody, pair(e.main)).check(t, 200, "parent on a rate-limited sub-account")
		// One token refills in 30 s.
		e.clock.Advance(30 * time.Second)
		e.me(t, pair(s.account)).check(t, 200, "after the refill")
		e.me(t, pair(s.account)).checkErr(t, 429, "rate_limit_exceeded", "bucket empty again")
		// A new rate_limit applies to the bucket.
		e.do(t, "PUT", subPath(e.main.AuthID, s.AuthID), jsonBody(map[string]any{"rate_limit": 1000}), pair(e.main)).want(t, 200)
		e.clock.Advance(time.Minute)
		if r := e.me(t, pair(s.account)); r.check(t, 200, "after raising rate_limit") && r.Header.Get("X-RateLimit-Limit") != "1000" {
			t.Errorf("X-RateLimit-Limit %q after the update", r.Header.Get("X-RateLimit-Limit"))
		}
	})
}

func TestFailedAuthenticationLimit(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{Admin: true})
		bad := pair(account{e.main.AuthID, strings.Repeat("x", 40)})
		for i := 1; i <= 20; i++ {
			e.me(t, bad).checkErr(t, 401, "unauthorized", fmt.Sprintf("failure %d", i))
		}
		r := e.me(t, bad)
		checkErrorBody(t, "21st failure", r, 429, "rate_limit_exceeded")
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
		// Valid credentials from the same address are refused too, for 60 s.
		e.clock.Advance(59 * time.Second)
		e.me(t, pair(e.main)).checkErr(t, 429, "rate_limit_exceeded", "valid credentials while blocked")
		e.do(t, "GET", "/api/v1/admin/accounts", noBody, e.adminAuth()).checkErr(t, 429, "rate_limit_exceeded", "operator token while blocked")
		e.do(t, "GET", "/healthz", noBody).check(t, 200, "public route while blocked")
		e.clock.Advance(time.Second)
		e.me(t, pair(e.main)).check(t, 200, "60 s after the 21st failure")
	})
}

func TestIdempotencyKey(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{})
		coll := subsPath(e.main.AuthID)
		key := hdr("Idempotency-Key", "create-0001")
		body := map[string]any{"name": "Once", "email": "once@example.com"}

		first := e.do(t, "POST", coll, jsonBody(body), pair(e.main), key).want(t, 201)
		// Same key, same request (key order and white space do not matter): the stored answer, secret included.
		again := e.do(t, "POST", coll+"/", rawBody(`{ "email": "once@example.com", "name": "Once" }`, "application/json"), pair(e.main), key)
		if again.check(t, 201, "replay") {
			if again.Header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("replay without Idempotent-Replayed: true")
			}
			if string(again.Body) != string(first.Body) {
				t.Errorf("replay body differs:\n%s\n%s", first.Body, again.Body)
			}
		}
		if first.Header.Get("Idempotent-Replayed") != "" {
			t.Errorf("first answer marked as replayed")
		}
		if l := e.do(t, "GET", coll, noBody, pair(e.main)); num(l.Obj, "total") != 1 {
			t.Errorf("replays created sub-accounts: total %v", l.Obj["total"])
		}
		// Same key, different request.
		e.do(t, "POST", coll, jsonBody(map[string]any{"name": "Other"}), pair(e.main), key).checkErr(t, 422, "idempotency_key_reused", "other body")
		// Keys are private to the principal.
		other := e.newMain(t, "Other", nil)
		e.do(t, "POST", subsPath(other.AuthID), jsonBody(map[string]any{"name": "Theirs"}), pair(other), key).check(t, 201, "same key, other principal")
		// 4xx outcomes are stored too; a GET ignores the key.
		dup := hdr("Idempotency-Key", "dup-email")
		e.do(t, "POST", coll, jsonBody(body), pair(e.main), dup).checkErr(t, 409, "already_exists", "duplicate")
		if r := e.do(t, "POST", coll, jsonBody(body), pair(e.main), dup); r.checkErr(t, 409, "already_exists", "duplicate replay") &&
			r.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("4xx replay not marked")
		}
		e.do(t, "GET", coll, noBody, pair(e.main), key).check(t, 200, "GET with a used key")
		// A replayed DELETE answers the stored 200 although the object is gone.
		id := str(first.obj("sub_account"), "auth_id")
		del := hdr("Idempotency-Key", "delete-"+id)
		e.do(t, "DELETE", subPath(e.main.AuthID, id), noBody, pair(e.main), del).want(t, 200)
		if r := e.do(t, "DELETE", subPath(e.main.AuthID, id), noBody, pair(e.main), del); r.check(t, 200, "replayed DELETE") &&
			r.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("DELETE replay not marked")
		}
		e.do(t, "DELETE", subPath(e.main.AuthID, id), noBody, pair(e.main)).checkErr(t, 404, "not_found", "DELETE without the key")
		// Invalid keys.
		for _, k := range []string{strings.Repeat("k", 256), "tab\tkey"} {
			e.do(t, "POST", coll, jsonBody(map[string]any{"name": "k"}), pair(e.main), hdr("Idempotency-Key", k)).
				checkErr(t, 400, "validation_error", fmt.Sprintf("key %q", k))
		}
		// Records are kept 24 h; after that the key is new again.
		e.clock.Advance(24*time.Hour + time.Second)
		if r := e.do(t, "POST", coll, jsonBody(map[string]any{"name": "Other"}), pair(e.main), key); r.check(t, 201, "key after 24 h") &&
			r.Header.Get("Idempotent-Replayed") != "" {
			t.Errorf("key replayed after 24 h")
		}
	})
}
