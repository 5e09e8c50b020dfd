package httpapi_test

// Security tests generated from the route table (Server.Routes), on SQLite
// and PostgreSQL: a cross-tenant matrix, sub-account credentials on parent
// routes, mass assignment of protected keys (§0.6), secrets at rest (§1.2,
// §0.9, §10.1) and Idempotency-Key under concurrency (§0.9).

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/httpapi"
	"github.com/switchboard-voice/switchboard/internal/storetest"
)

// ---------------------------------------------------------------------------
// Two tenants

// secTenantWorld is two tenants: A (the bootstrap main account) and B (created
// through the operator API), each with two sub-accounts, a webhook URL,
// queued webhook deliveries and audit records.
type secTenantWorld struct {
	A, B, A1, A2, B1, B2 *secCaller
	// aDeliveries are delivery ids of tenant A.
	aDeliveries []string
	// aNum, a1Num, a1API are numeric ids and the api_id of A and A1.
	aNum, a1Num, a1API string
	// aEventID is the event of A's first delivery; aCursor an audit-log
	// cursor of A.
	aEventID, aCursor string
	// aKeyed are A's requests sent under an Idempotency-Key; their stored
	// answers carry A's ids and secrets.
	aKeyed []secKeyedReq
	// aIdents are tenant A's identifiers and secrets; owner is the caller
	// they belong to (its own ids are not foreign to it).
	aIdents []secIdent
}

type secIdent struct {
	label, value, owner string
}

type secKeyedReq struct {
	method, path string
	body         []byte
	key          string
}

// secNewTenantWorld builds the two tenants in e (which needs the operator API).
func secNewTenantWorld(t *testing.T, e *env) *secTenantWorld {
	t.Helper()
	w := &secTenantWorld{}
	login := func(email, pw string) string {
		r := e.do(t, "POST", "/api/v1/auth/login", jsonBody(map[string]any{"email": email, "password": pw})).want(t, http.StatusOK)
		return r.str("access_token")
	}
	// A: the bootstrap main account, given an email and a console password.
	e.do(t, "PUT", "/api/v1/admin/accounts/"+e.main.AuthID, jsonBody(map[string]any{"email": "owner-a@example.test",
		"password": "console password of A"}), e.adminAuth()).want(t, http.StatusOK)
	w.A = &secCaller{name: "A", acct: e.main, access: login("owner-a@example.test", "console password of A"), tenant: e.main.AuthID}
	// B through the operator API.
	cb := e.do(t, "POST", "/api/v1/admin/accounts", jsonBody(map[string]any{"name": "Tenant B", "email": "owner-b@example.test",
		"password": "console password of B"}), e.adminAuth()).want(t, http.StatusCreated)
	bAcct := account{AuthID: str(cb.obj("auth_credentials"), "auth_id"), Token: str(cb.obj("auth_credentials"), "auth_token")}
	w.B = &secCaller{name: "B", acct: bAcct, access: login("owner-b@example.test", "console password of B"), tenant: bAcct.AuthID}

	// keyed sends a request of A under an Idempotency-Key and remembers it,
	// so that other principals can replay it (TestCrossTenantMatrix).
	keyed := func(method, p string, body map[string]any, key string, want int) *resp {
		b, _ := json.Marshal(body)
		w.aKeyed = append(w.aKeyed, secKeyedReq{method: method, path: p, body: b, key: key})
		return e.do(t, method, p, rawBody(string(b), "application/json"), pair(w.A.acct), hdr("Idempotency-Key", key)).want(t, want)
	}
	// Webhook URLs first, so that the sub-account events below are queued.
	keyed("PUT", "/api/v1/accounts/"+w.A.acct.AuthID+"/webhook", map[string]any{"url": "https://hooks.example.test/a", "events": []any{"*"}},
		"a-webhook", http.StatusOK)
	e.do(t, "PUT", "/api/v1/accounts/"+w.B.acct.AuthID+"/webhook", jsonBody(map[string]any{"url": "https://hooks.example.test/b",
		"events": []any{"*"}}), pair(w.B.acct)).want(t, http.StatusOK)
	sub := func(parent *secCaller, name string) *secCaller {
		body := map[string]any{"name": name, "email": strings.ToLower(name) + "@example.test", "description": name + " line"}
		var r *resp
		if parent == w.A {
			r = keyed("POST", subsPath(w.A.acct.AuthID), body, "a-create-"+name, http.StatusCreated)
		} else {
			r = e.do(t, "POST", subsPath(parent.acct.AuthID), jsonBody(body), pair(parent.acct)).want(t, http.StatusCreated)
		}
		return &secCaller{name: name, acct: account{AuthID: str(r.obj("auth_credentials"), "auth_id"), Token: str(r.obj("auth_credentials"), "auth_token")},
			access: str(r.obj("tokens"), "access_token"), tenant: parent.acct.AuthID, sub: true}
	}
	w.A1, w.A2 = sub(w.A, "A1"), sub(w.A, "A2")
	w.B1, w.B2 = sub(w.B, "B1"), sub(w.B, "B2")
	// Some history: an update, a secret rotation, a token rotation.
	keyed("PUT", subPath(w.A.acct.AuthID, w.A1.acct.AuthID), map[string]any{"description": "A1 updated"}, "a-update-A1", http.StatusOK)
	keyed("POST", "/api/v1/accounts/"+w.A.acct.AuthID+"/webhook/rotate-secret", map[string]any{}, "a-rotate-secret", http.StatusOK)
	rot := keyed("POST", subPath(w.A.acct.AuthID, w.A2.acct.AuthID)+"/rotate-token", map[string]any{"grace_seconds": 0},
		"a-rotate-A2", http.StatusOK)
	w.A2.acct.Token = rot.str("auth_token")
	e.do(t, "PUT", subPath(w.B.acct.AuthID, w.B1.acct.AuthID), jsonBody(map[string]any{"description": "B1 updated"}), pair(w.B.acct)).want(t, http.StatusOK)

	dl := e.do(t, "GET", "/api/v1/accounts/"+w.A.acct.AuthID+"/webhook-deliveries?size=100", noBody, pair(w.A.acct)).want(t, http.StatusOK)
	for _, x := range dl.list("deliveries") {
		d, _ := x.(map[string]any)
		w.aDeliveries = append(w.aDeliveries, str(d, "id"))
		w.aIdents = append(w.aIdents, secIdent{"A delivery " + str(d, "id"), str(d, "id"), ""}, secIdent{"A event " + str(d, "event_id"), str(d, "event_id"), ""})
	}
	if len(w.aDeliveries) < 3 {
		t.Fatalf("tenant A has %d webhook deliveries, want at least 3: %s", len(w.aDeliveries), dl.Body)
	}

	// Tenant A's identifiers and secrets, which no other caller may see.
	ma := e.do(t, "GET", "/api/v1/admin/accounts/"+w.A.acct.AuthID, noBody, e.adminAuth()).want(t, http.StatusOK)
	add := func(owner string, o map[string]any) {
		for _, k := range []string{"auth_id", "api_id", "email"} {
			w.aIdents = append(w.aIdents, secIdent{owner + " " + k, str(o, k), owner})
		}
		w.aIdents = append(w.aIdents, secIdent{owner + " id", `"` + str(o, "id") + `"`, owner})
	}
	add("A", ma.Obj)
	w.aNum = ma.str("id")
	for _, c := range []*secCaller{w.A1, w.A2} {
		o := e.do(t, "GET", subPath(w.A.acct.AuthID, c.acct.AuthID), noBody, pair(w.A.acct)).want(t, http.StatusOK).Obj
		add(c.name, o)
		if c == w.A1 {
			w.a1Num, w.a1API = str(o, "id"), str(o, "api_id")
		}
	}
	first, _ := dl.list("deliveries")[0].(map[string]any)
	w.aEventID = str(first, "event_id")
	au := e.do(t, "GET", "/api/v1/accounts/"+w.A.acct.AuthID+"/audit-log?limit=1", noBody, pair(w.A.acct)).want(t, http.StatusOK)
	if w.aCursor = au.str("next_cursor"); w.aCursor == "" {
		t.Fatalf("tenant A's audit log has a single record: %s", au.Body)
	}
	for _, c := range []*secCaller{w.A, w.A1, w.A2} {
		w.aIdents = append(w.aIdents, secIdent{c.name + " auth token", c.acct.Token, c.name}, secIdent{c.name + " access JWT", c.access, c.name})
	}
	return w
}

// paramValues are the references to tenant A's objects a path parameter
// is filled with: the identifier itself and the other ids of the object
// (numeric id, api_id), which must be just as foreign.
func (w *secTenantWorld) paramValues(t *testing.T, name string) []string {
	t.Helper()
	switch secTenantParams[name] {
	case secParamMainAccount:
		return []string{w.A.acct.AuthID, w.aNum}
	case secParamSubAccount:
		return []string{w.A1.acct.AuthID, w.a1Num, w.a1API}
	case secParamDelivery:
		return []string{w.aDeliveries[0], w.aDeliveries[len(w.aDeliveries)-1]}
	}
	t.Fatalf("secTenantWorld.paramValues: no object for parameter {%s} (kind %q)", name, secTenantParams[name])
	return nil
}

// bindings are the parameter values a caller tries on a route: every
// combination of references to tenant A's objects, and, where the caller
// has an account, the same with its own tenant's (or, for a sub-account,
// its own) auth_id as {auth_id} — unless the path names nothing but
// {auth_id}, where that would be the caller's own resource.
func (w *secTenantWorld) bindings(t *testing.T, rt *httpapi.Route, params []string, c *secCaller) []map[string]string {
	t.Helper()
	base := []map[string]string{{}}
	for _, p := range params {
		var next []map[string]string
		for _, b := range base {
			for _, v := range w.paramValues(t, p) {
				n := maps.Clone(b)
				n[p] = v
				next = append(next, n)
			}
		}
		base = next
	}
	out := slices.Clone(base)
	switch rt.Role {
	case httpapi.RoleAdmin, httpapi.RoleDev, httpapi.RoleMetrics:
		return out
	}
	if c.anon || len(c.forged) > 0 || !slices.Contains(params, "auth_id") {
		return out
	}
	var own []string
	if c.sub {
		own = []string{c.tenant, c.acct.AuthID}
	} else if len(params) > 1 {
		own = []string{c.tenant}
	}
	seen := map[string]bool{}
	for _, b := range base {
		seen[secFillPath(rt.Path, b)] = true
	}
	for _, b := range base {
		for _, id := range own {
			v := maps.Clone(b)
			v["auth_id"] = id
			if p := secFillPath(rt.Path, v); !seen[p] {
				seen[p] = true
				out = append(out, v)
			}
		}
	}
	return out
}

// secCrossExpect is the refusal a caller gets on a route of tenant A (§1.5).
func secCrossExpect(role httpapi.Role, c *secCaller, dev bool) (status int, code string, ok bool) {
	if c.anon || len(c.forged) > 0 {
		switch role {
		case httpapi.RoleDev:
			if !dev {
				return http.StatusNotFound, "not_found", true
			}
		case httpapi.RolePublic, httpapi.RoleRefresh:
			return 0, "", false
		}
		return http.StatusUnauthorized, "unauthorized", true
	}
	switch role {
	case httpapi.RoleAdmin, httpapi.RoleMetrics:
		return http.StatusUnauthorized, "unauthorized", true // account credentials on operator routes (§1.1 item 4)
	case httpapi.RoleDev:
		if !dev {
			return http.StatusNotFound, "not_found", true
		}
		return http.StatusUnauthorized, "unauthorized", true
	case httpapi.RoleParent, httpapi.RoleMainSelf:
		if c.sub {
			return http.StatusForbidden, "forbidden", true
		}
		return http.StatusNotFound, "not_found", true
	case httpapi.RoleAny:
		return http.StatusNotFound, "not_found", true
	}
	return 0, "", false
}

// checkRefused asserts a refusal and that it leaks nothing of tenant A.
func (w *secTenantWorld) checkRefused(t *testing.T, what string, r *resp, method string, status int, code string, c *secCaller) {
	t.Helper()
	switch {
	case r.Status >= 200 && r.Status < 300:
		t.Errorf("SECURITY: %s answered %d; body %s", what, r.Status, r.Body)
	case r.Status != status:
		t.Errorf("%s: status %d, want %d %s; body %s", what, r.Status, status, code, r.Body)
	case method != http.MethodHead:
		checkErrorBody(t, what, r, status, code)
	}
	w.checkNoForeign(t, what, r, c)
}

// checkNoForeign reports any of tenant A's identifiers (other than the
// caller's own) in a response body or header.
func (w *secTenantWorld) checkNoForeign(t *testing.T, what string, r *resp, c *secCaller) {
	t.Helper()
	for _, id := range w.aIdents {
		if id.owner == c.name || id.value == "" || id.value == `""` {
			continue
		}
		if bytes.Contains(r.Body, []byte(id.value)) {
			t.Errorf("BUG: %s: the response body contains tenant A's %s %s: %s", what, id.label, id.value, r.Body)
		}
		for k, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, strings.Trim(id.value, `"`)) {
					t.Errorf("BUG: %s: response header %s contains tenant A's %s: %s", what, k, id.label, v)
				}
			}
		}
	}
}

// secAuditAll reads every page of an audit-log route.
func secAuditAll(t *testing.T, e *env, route string, opt reqOpt) (events []map[string]any, bodies [][]byte) {
	t.Helper()
	cursor := ""
	for range 1000 {
		p := route
		if strings.Contains(p, "?") {
			p += "&"
		} else {
			p += "?"
		}
		p += "limit=200"
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		r := e.do(t, "GET", p, noBody, opt).want(t, http.StatusOK)
		bodies = append(bodies, r.Body)
		for _, x := range r.list("events") {
			m, _ := x.(map[string]any)
			events = append(events, m)
		}
		if cursor = r.str("next_cursor"); cursor == "" {
			return events, bodies
		}
	}
	t.Fatalf("audit log %s: more than 1000 pages", route)
	return nil, nil
}

// snapshot reads tenant A's state through A's own credentials (and the
// operator's): its credentials still work, its sub-accounts, list, webhook,
// deliveries, main account and successful audit records.
func (w *secTenantWorld) snapshot(t *testing.T, e *env) map[string]string {
	t.Helper()
	s := map[string]string{}
	a := w.A.acct
	// Credentials first: they record last_used, which the reads below show
	// (at most once a minute; the test clock does not move).
	for _, c := range []*secCaller{w.A, w.A1, w.A2} {
		for _, sc := range c.schemes() {
			r := e.me(t, sc.opt)
			s["credential "+c.name+" "+sc.name] = fmt.Sprintf("%d %s", r.Status, r.str("auth_id"))
		}
	}
	for _, c := range []*secCaller{w.A1, w.A2} {
		r := e.do(t, "GET", subPath(a.AuthID, c.acct.AuthID), noBody, pair(a))
		s["sub-account "+c.name] = fmt.Sprintf("%d ETag %s %s", r.Status, r.Header.Get("ETag"), r.Body)
	}
	for label, p := range map[string]string{
		"sub-account list":   subsPath(a.AuthID) + "?size=100",
		"webhook":            "/api/v1/accounts/" + a.AuthID + "/webhook",
		"webhook deliveries": "/api/v1/accounts/" + a.AuthID + "/webhook-deliveries?size=100",
	} {
		r := e.do(t, "GET", p, noBody, pair(a))
		s[label] = fmt.Sprintf("%d %s", r.Status, r.Body)
	}
	r := e.do(t, "GET", "/api/v1/admin/accounts/"+a.AuthID, noBody, e.adminAuth())
	s["main account"] = fmt.Sprintf("%d %s", r.Status, r.Body)
	events, _ := secAuditAll(t, e, "/api/v1/accounts/"+a.AuthID+"/audit-log?outcome=success", pair(a))
	var lines []string
	for _, ev := range events {
		lines = append(lines, fmt.Sprintf("%s %s %s %s", str(ev, "id"), str(ev, "action"), str(ev, "actor_id"), str(ev, "target_id")))
	}
	s["successful audit records"] = fmt.Sprintf("%d: %s", len(events), strings.Join(lines, "; "))
	return s
}

// secCompareSnapshots reports every part of tenant A's state that changed.
func secCompareSnapshots(t *testing.T, before, after map[string]string) {
	t.Helper()
	keys := slices.Sorted(maps.Keys(before))
	for _, k := range keys {
		if before[k] != after[k] {
			t.Errorf("SECURITY: tenant A's %s changed:\nbefore: %s\nafter:  %s", k, before[k], after[k])
		}
	}
	if len(after) != len(before) {
		t.Errorf("snapshot sizes differ: %d before, %d after", len(before), len(after))
	}
}

// secEngineName is the storetest.Engines subtest name (sqlite, postgres).
func secEngineName(t *testing.T) string { return path.Base(t.Name()) }

// ---------------------------------------------------------------------------
// 1. Cross-tenant matrix

// secForgedCaller presents credentials that name tenant A but are not
// A's: a pair or Basic with another tenant's (or a sibling's) token, a JWT
// with alg none, one signed with another key, a refresh JWT.
func secForgedCaller(w *secTenantWorld, refreshB string) *secCaller {
	claims, _ := json.Marshal(map[string]any{"iss": "switchboard", "sub": w.A.acct.AuthID, "typ": "access",
		"iat": clockStart.Unix(), "exp": clockStart.Add(time.Hour).Unix(), "jti": "0193a7c4-5d2e-7f10-9b1c-3e4f5a6b7c8d"})
	none := b64.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + b64.EncodeToString(claims) + "."
	hs := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + b64.EncodeToString(claims)
	mac := hmac.New(sha256.New, []byte("not the server key"))
	mac.Write([]byte(hs))
	wrongKey := hs + "." + b64.EncodeToString(mac.Sum(nil))
	return &secCaller{name: "forged", forged: []secScheme{
		{"pair A+B token", pair(account{w.A.acct.AuthID, w.B.acct.Token})},
		{"basic A+B token", basic(w.A.acct.AuthID, w.B.acct.Token)},
		{"jwt alg none", bearer(none)},
		{"pair A1+A2 token", pair(account{w.A1.acct.AuthID, w.A2.acct.Token})},
		{"jwt wrong key", bearer(wrongKey)},
		{"basic A1+B1 token", basic(w.A1.acct.AuthID, w.B1.acct.Token)},
		{"refresh jwt of B", bearer(refreshB)},
	}}
}

// secForeignQuery are values of tenant A for the query parameters of
// tenant B's own list routes; secHarmlessQuery are the query parameters
// that name no object. A query parameter in neither fails the matrix.
var (
	secForeignQuery = map[string]func(w *secTenantWorld) []string{
		"search":    func(w *secTenantWorld) []string { return []string{"a1@example.test", w.A1.acct.AuthID, "A1"} },
		"actor_id":  func(w *secTenantWorld) []string { return []string{w.A.acct.AuthID, w.A1.acct.AuthID} },
		"target_id": func(w *secTenantWorld) []string { return []string{w.A1.acct.AuthID, w.A.acct.AuthID} },
		"tenant_id": func(w *secTenantWorld) []string { return []string{w.A.acct.AuthID} },
		"event_id":  func(w *secTenantWorld) []string { return []string{w.aEventID} },
		"cursor":    func(w *secTenantWorld) []string { return []string{w.aCursor} },
	}
	secHarmlessQuery = map[string]bool{"page": true, "size": true, "limit": true, "offset": true, "active_only": true,
		"kyc_mode": true, "from": true, "to": true, "action": true, "outcome": true, "event": true, "status": true,
		"enabled": true, "cascade": true, "dry_run": true}
)

func TestCrossTenantMatrix(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{Admin: true})
		w := secNewTenantWorld(t, e)
		lb := e.do(t, "POST", "/api/v1/auth/login", jsonBody(map[string]any{"email": "owner-b@example.test",
			"password": "console password of B"})).want(t, http.StatusOK)
		anon := &secCaller{name: "anonymous", anon: true}
		forged := secForgedCaller(w, lb.str("refresh_token"))
		before := w.snapshot(t, e)
		bAudit := func() []map[string]any {
			ev, _ := secAuditAll(t, e, "/api/v1/accounts/"+w.B.acct.AuthID+"/audit-log?outcome=denied", pair(w.B.acct))
			return ev
		}
		bDeniedBefore := len(bAudit())

		// Tenant B's own list routes with filters that name tenant A's
		// objects: 200, and nothing of tenant A. (Before the matrix: B's
		// refused attempts below are audited under B with the ids B sent.)
		filtered := 0
		for _, rt := range e.api.Routes() {
			if rt.Method != http.MethodGet || rt.Role != httpapi.RoleParent || len(rt.Doc.Query) == 0 {
				continue
			}
			for _, q := range rt.Doc.Query {
				values, foreign := secForeignQuery[q]
				if !foreign {
					if !secHarmlessQuery[q] {
						t.Errorf("route %s reads query parameter %q, unknown to secForeignQuery and secHarmlessQuery", secRouteKey(rt), q)
					}
					continue
				}
				for _, v := range values(w) {
					p := secFillPath(rt.Path, map[string]string{"auth_id": w.B.acct.AuthID}) + "?" + url.Values{q: {v}}.Encode()
					scheme, opt := w.B.cred()
					what := fmt.Sprintf("GET %s as B (%s)", p, scheme)
					r := e.do(t, "GET", p, noBody, opt)
					filtered++
					if r.Status != http.StatusOK && !(q == "cursor" && r.Status == http.StatusBadRequest) {
						t.Errorf("%s: status %d; body %s", what, r.Status, r.Body)
					}
					w.checkNoForeign(t, what, r, w.B)
				}
			}
		}

		var requests, bRefusedMutations int
		routesCovered := map[string]bool{}
		routeMethodsCovered := map[string]bool{}
		callersSeen := map[string]bool{}
		schemes := map[string]int{}
		statuses := map[int]int{}
		inTable := map[string]bool{}
		rot := &secAddrRotator{per: 10}
		for _, rt := range e.api.Routes() {
			key := secRouteKey(rt)
			inTable[key] = true
			params := secPathParams(rt.Path)
			_, allowed := secNonTenantRoutes[key]
			if len(params) == 0 {
				if !allowed {
					t.Errorf("route %s (%s, role %s) has no tenant-owned path parameter and is not in secNonTenantRoutes: "+
						"classify it so that the cross-tenant matrix covers it", key, rt.Name, rt.Role)
				}
				continue
			}
			if allowed {
				t.Errorf("route %s is in secNonTenantRoutes but has path parameters %v", key, params)
			}
			known := true
			for _, p := range params {
				if _, ok := secTenantParams[p]; !ok {
					t.Errorf("route %s has path parameter {%s} unknown to secTenantParams: add it with the object of tenant A it names", key, p)
					known = false
				}
			}
			if !known {
				continue
			}
			callers := []*secCaller{anon, forged, w.B, w.B1}
			if slices.Contains(params, "sub_auth_id") {
				callers = append(callers, w.A2) // a sibling of the owner A1
			}
			for _, method := range secRouteMethods(rt) {
				for _, c := range callers {
					status, code, ok := secCrossExpect(rt.Role, c, e.svc.Dev())
					if !ok {
						t.Errorf("route %s: no expected refusal for role %q and caller %s; extend secCrossExpect", key, rt.Role, c.name)
						continue
					}
					for _, vals := range w.bindings(t, rt, params, c) {
						p := secFillPath(rt.Path, vals)
						if requests%2 == 1 {
							p += "/" // §0.5: both forms are served
						}
						body, ok := secBodyFor(t, rt, method)
						if !ok {
							continue
						}
						scheme, opt := c.cred()
						what := fmt.Sprintf("%s %s as %s (%s)", method, p, c.name, scheme)
						r := doWith(t, rot.client(), e.srv.URL, method, p, body, opt)
						requests++
						routesCovered[key] = true
						routeMethodsCovered[method+" "+rt.Path] = true
						callersSeen[c.name] = true
						schemes[scheme]++
						statuses[r.Status]++
						w.checkRefused(t, what, r, method, status, code, c)
						if (c == w.B || c == w.B1) && secHasBody(method) && (r.Status == http.StatusForbidden || r.Status == http.StatusNotFound) {
							bRefusedMutations++
						}
					}
				}
			}
		}
		for k := range secNonTenantRoutes {
			if !inTable[k] {
				t.Errorf("secNonTenantRoutes lists %s, which is not in the route table", k)
			}
		}
		if len(routesCovered) == 0 {
			t.Fatal("the matrix covered no route")
		}

		// Other principals replay A's keyed requests with A's keys (§0.9:
		// keys are private to the principal): their own refusal, never A's
		// stored answer, which holds A's ids and, for creates and
		// rotations, secrets. B with the same key on its own path gets a
		// fresh answer.
		cr := e.do(t, "POST", "/api/v1/admin/accounts", jsonBody(map[string]any{"name": "Tenant C"}), e.adminAuth()).want(t, http.StatusCreated)
		tenantC := account{AuthID: str(cr.obj("auth_credentials"), "auth_id"), Token: str(cr.obj("auth_credentials"), "auth_token")}
		replays := 0
		for _, kr := range w.aKeyed {
			for _, c := range []*secCaller{anon, forged, w.B, w.B1, w.A2} {
				scheme, opt := c.cred()
				what := fmt.Sprintf("%s %s with A's Idempotency-Key %q as %s (%s)", kr.method, kr.path, kr.key, c.name, scheme)
				r := doWith(t, rot.client(), e.srv.URL, kr.method, kr.path, rawBody(string(kr.body), "application/json"), opt,
					hdr("Idempotency-Key", kr.key))
				replays++
				status, code, _ := secCrossExpect(httpapi.RoleParent, c, e.svc.Dev())
				if r.Header.Get("Idempotent-Replayed") != "" {
					t.Errorf("SECURITY: %s: replayed A's stored answer: %d %s", what, r.Status, r.Body)
				}
				w.checkRefused(t, what, r, kr.method, status, code, c)
				if (c == w.B || c == w.B1) && (r.Status == http.StatusForbidden || r.Status == http.StatusNotFound) {
					bRefusedMutations++
				}
			}
			own := strings.Replace(kr.path, w.A.acct.AuthID, tenantC.AuthID, 1)
			what := fmt.Sprintf("%s %s with A's Idempotency-Key %q as C", kr.method, own, kr.key)
			r := e.do(t, kr.method, own, rawBody(string(kr.body), "application/json"), pair(tenantC), hdr("Idempotency-Key", kr.key))
			replays++
			if r.Header.Get("Idempotent-Replayed") != "" || r.Status >= 500 || r.Status == http.StatusUnprocessableEntity {
				t.Errorf("SECURITY: %s: %d replayed %q: %s", what, r.Status, r.Header.Get("Idempotent-Replayed"), r.Body)
			}
			w.checkNoForeign(t, what, r, &secCaller{name: "C"})
		}

		after := w.snapshot(t, e)
		secCompareSnapshots(t, before, after)

		// Refused attempts are audited under the caller's tenant only (§10.1).
		aAll, _ := secAuditAll(t, e, "/api/v1/accounts/"+w.A.acct.AuthID+"/audit-log", pair(w.A.acct))
		for _, ev := range aAll {
			if a := str(ev, "actor_id"); a == w.B.acct.AuthID || a == w.B1.acct.AuthID || str(ev, "tenant_id") != w.A.acct.AuthID {
				t.Errorf("SECURITY: tenant A's audit log shows a record of tenant B: %v", ev)
			}
		}
		bDenied := bAudit()
		if got := len(bDenied) - bDeniedBefore; got != bRefusedMutations {
			t.Errorf("tenant B's audit log gained %d denied records for %d refused mutating requests of B and B1, want one each (§10.1)", got, bRefusedMutations)
		}
		for _, ev := range bDenied {
			if str(ev, "tenant_id") != w.B.acct.AuthID {
				t.Errorf("a denied record in tenant B's log has tenant_id %v: %v", ev["tenant_id"], ev)
			}
			// Regression (found by this test; fixed in 67296b3, call.target):
			// a refused …/webhook-deliveries/{delivery_id}/retry was recorded
			// with target_type "webhook_delivery" but the path's {auth_id} as
			// target_id; §10.1 wants the id the caller sent, as the
			// successful retry records it.
			if str(ev, "target_type") == "webhook_delivery" && !strings.HasPrefix(str(ev, "target_id"), "dlv_") {
				t.Errorf("denied webhook_delivery.retry recorded with target_id %q, want the delivery id the caller sent: %v", ev["target_id"], ev)
				break
			}
		}
		// Tenant A's ids appear in B's log only as the target_id B sent.
		bAll, _ := secAuditAll(t, e, "/api/v1/accounts/"+w.B.acct.AuthID+"/audit-log", pair(w.B.acct))
		for _, ev := range bAll {
			ev = maps.Clone(ev)
			delete(ev, "target_id")
			b, _ := json.Marshal(ev)
			w.checkNoForeign(t, "tenant B's audit record "+str(ev, "id"), &resp{Body: b}, w.B)
		}

		msg := fmt.Sprintf("cross-tenant matrix [%s]: %d requests, %d routes (%d route-methods), %d callers %v, schemes %v, statuses %v; "+
			"%d own-list requests with tenant A's ids as filters; %d replays of A's Idempotency-Keys; %d refused mutations audited under B",
			secEngineName(t), requests, len(routesCovered), len(routeMethodsCovered), len(callersSeen),
			slices.Sorted(maps.Keys(callersSeen)), schemes, statuses, filtered, replays, bRefusedMutations)
		t.Log(msg)
		fmt.Println(msg)
	})
}

// ---------------------------------------------------------------------------
// 2. Sub-account credentials on parent routes

func TestSubAccountCredentialsOnParentRoutes(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{Admin: true})
		w := secNewTenantWorld(t, e)
		before := w.snapshot(t, e)
		s := w.A1
		requests, routes := 0, map[string]bool{}
		for _, rt := range e.api.Routes() {
			if rt.Role != httpapi.RoleParent && rt.Role != httpapi.RoleMainSelf {
				continue
			}
			params := secPathParams(rt.Path)
			base := map[string]string{}
			known := true
			for _, p := range params {
				switch secTenantParams[p] {
				case secParamMainAccount:
					base[p] = s.tenant // its own parent
				case secParamSubAccount:
					base[p] = s.acct.AuthID // itself
				case secParamDelivery:
					base[p] = w.aDeliveries[0] // its parent's delivery
				default:
					t.Errorf("route %s has path parameter {%s} unknown to secTenantParams", secRouteKey(rt), p)
					known = false
				}
			}
			if !known {
				continue
			}
			variants := []map[string]string{base}
			if _, ok := base["auth_id"]; ok { // the path naming the sub-account itself
				v := maps.Clone(base)
				v["auth_id"] = s.acct.AuthID
				variants = append(variants, v)
			}
			for _, method := range secRouteMethods(rt) {
				for _, vals := range variants {
					for _, sc := range s.schemes() {
						body, ok := secBodyFor(t, rt, method)
						if !ok {
							continue
						}
						p := secFillPath(rt.Path, vals)
						what := fmt.Sprintf("sub-account %s on %s %s (%s)", s.name, method, p, sc.name)
						r := e.do(t, method, p, body, sc.opt)
						requests++
						routes[secRouteKey(rt)] = true
						if method == http.MethodHead {
							r.check(t, http.StatusForbidden, what)
						} else {
							checkErrorBody(t, what, r, http.StatusForbidden, "forbidden")
						}
					}
				}
			}
		}
		if len(routes) == 0 {
			t.Fatal("no parent or main-self route in the route table")
		}
		secCompareSnapshots(t, before, w.snapshot(t, e))
		msg := fmt.Sprintf("sub-account credentials on parent routes [%s]: %d requests over %d parent/main-self routes, 3 schemes",
			secEngineName(t), requests, len(routes))
		t.Log(msg)
		fmt.Println(msg)
	})
}

// ---------------------------------------------------------------------------
// 3. Mass assignment

// secProtectedKeys are the keys of §0.6 that are never writable, with the
// balance figures of §3.1.
var secProtectedKeys = []string{"id", "api_id", "auth_id", "auth_token", "parent_account_id", "parent_auth_id",
	"kyc_calls_blocked", "email_verified", "is_active", "created", "modified", "created_at", "updated_at", "last_used",
	"account", "resource_uri", "balance", "sub_account_count"}

// secKnownToken is a well-formed token nobody was issued.
const secKnownToken = "Kn0wnT0kenKn0wnT0kenKn0wnT0kenKn0wnT0ken"

// secMassWorld is the cast of TestMassAssignment.
type secMassWorld struct {
	e *env
	// A is the bootstrap main account (with a console password), C another
	// main account the operator edits, B a foreign tenant whose ids are the
	// hostile values.
	A, C, B             *secCaller
	A1, A3, B1, C1      *secCaller
	aEmail, aPassword   string
	a1Email, a1Password string
	aNum, bNum, bAPI    string
	b1Num, a1Num        string
}

func secNewMassWorld(t *testing.T, e *env) *secMassWorld {
	t.Helper()
	m := &secMassWorld{e: e, aEmail: "mass-a@example.test", aPassword: "console password of A",
		a1Email: "mass-a1@example.test", a1Password: "console password of A1"}
	admin := e.adminAuth()
	e.do(t, "PUT", "/api/v1/admin/accounts/"+e.main.AuthID, jsonBody(map[string]any{"email": m.aEmail, "password": m.aPassword}), admin).want(t, 200)
	la := e.do(t, "POST", "/api/v1/auth/login", jsonBody(map[string]any{"email": m.aEmail, "password": m.aPassword})).want(t, 200)
	m.A = &secCaller{name: "A", acct: e.main, access: la.str("access_token"), tenant: e.main.AuthID}
	m.aNum = e.mainID
	mainOf := func(name string) *secCaller {
		r := e.do(t, "POST", "/api/v1/admin/accounts", jsonBody(map[string]any{"name": name}), admin).want(t, 201)
		a := account{AuthID: str(r.obj("auth_credentials"), "auth_id"), Token: str(r.obj("auth_credentials"), "auth_token")}
		return &secCaller{name: name, acct: a, tenant: a.AuthID}
	}
	m.B, m.C = mainOf("Tenant B"), mainOf("Tenant C")
	b := e.do(t, "GET", "/api/v1/admin/accounts/"+m.B.acct.AuthID, noBody, admin).want(t, 200)
	m.bNum, m.bAPI = b.str("id"), b.str("api_id")
	sub := func(parent *secCaller, name string, body map[string]any) *secCaller {
		c := e.createSubOf(t, parent.acct, body)
		return &secCaller{name: name, acct: c.account, access: c.Access, tenant: parent.acct.AuthID, sub: true}
	}
	m.B1 = sub(m.B, "B1", map[string]any{"name": "B1"})
	m.b1Num = e.do(t, "GET", subPath(m.B.acct.AuthID, m.B1.acct.AuthID), noBody, pair(m.B.acct)).want(t, 200).str("id")
	m.C1 = sub(m.C, "C1", map[string]any{"name": "C1"})
	m.A1 = sub(m.A, "A1", map[string]any{"name": "A1", "email": m.a1Email, "password": m.a1Password})
	m.a1Num = e.do(t, "GET", subPath(m.A.acct.AuthID, m.A1.acct.AuthID), noBody, pair(m.A.acct)).want(t, 200).str("id")
	m.A3 = sub(m.A, "A3", map[string]any{"name": "A3", "email": "mass-a3@example.test", "kyc_mode": "customer_use"})
	return m
}

// hostile returns every protected key with a hostile value: set 0 uses
// another tenant's real ids and token and flips booleans to true, set 1 the
// other ids, a well-formed unissued token and the opposite flips.
func (m *secMassWorld) hostile(set int) map[string]any {
	h := map[string]any{
		"id": m.bNum, "api_id": m.bAPI, "auth_id": m.B1.acct.AuthID, "auth_token": m.B1.acct.Token,
		"parent_account_id": m.bNum, "parent_auth_id": m.B.acct.AuthID,
		"kyc_calls_blocked": true, "email_verified": true, "is_active": false,
		"created": "2001-02-03T04:05:06.789Z", "modified": "2001-02-03T04:05:06.789Z",
		"created_at": "2001-02-03T04:05:06.789Z", "updated_at": "2001-02-03T04:05:06.789Z",
		"last_used": "2001-02-03T04:05:06.789Z",
		"account":   "/v1/Account/" + m.B.acct.AuthID + "/", "resource_uri": "/v1/Account/" + m.B.acct.AuthID + "/Subaccount/" + m.B1.acct.AuthID + "/",
		"balance": 987654321.5, "sub_account_count": 4242,
		// Not in §0.6 but internal or derived: never writable either.
		"parent_id": m.bNum, "tenant_id": m.B.acct.AuthID, "role": "main", "type": "admin", "version": 999,
		"password_hash": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", "token_hash": "00ff", "webhook_secret": "whsec_" + secKnownToken,
	}
	if set == 1 {
		maps.Copy(h, map[string]any{
			"id": m.b1Num, "auth_id": m.B.acct.AuthID, "auth_token": secKnownToken,
			"kyc_calls_blocked": false, "email_verified": false, "is_active": true,
			"created": "1970-01-01T00:00:00Z", "modified": "1970-01-01T00:00:00Z",
			"created_at": "1970-01-01T00:00:00Z", "updated_at": "1970-01-01T00:00:00Z", "last_used": "1970-01-01T00:00:00Z",
		})
	}
	return h
}

// secWithHostile merges the hostile keys into a valid body.
func secWithHostile(body, h map[string]any) map[string]any {
	out := maps.Clone(h)
	maps.Copy(out, body)
	return out
}

// now is the server time in the §0.2 rendering.
func (m *secMassWorld) now() string { return fmtTime(m.e.svc.Clock().Now()) }

// secNoHostileEcho reports hostile string values in a response body, and a
// hostile count or balance in the object.
func secNoHostileEcho(t *testing.T, what string, r *resp, h map[string]any) {
	t.Helper()
	for k, v := range h {
		s, ok := v.(string)
		if !ok {
			continue
		}
		q, _ := json.Marshal(s)
		if bytes.Contains(r.Body, q) {
			t.Errorf("%s: the response carries the hostile %s %s: %s", what, k, q, r.Body)
		}
	}
	for _, k := range []string{"sub_account_count", "balance"} {
		if v, ok := r.Obj[k]; ok && v == h[k] {
			t.Errorf("%s: %s = %v was taken from the request", what, k, v)
		}
	}
}

// same reports keys whose values differ between two objects.
func secSame(t *testing.T, what string, before, after map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		b, _ := json.Marshal(before[k])
		a, _ := json.Marshal(after[k])
		if !bytes.Equal(a, b) {
			t.Errorf("%s: %s changed from %s to %s", what, k, b, a)
		}
	}
}

// secSameObject reports any difference between two objects.
func secSameObject(t *testing.T, what string, want, got map[string]any, skip ...string) {
	t.Helper()
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	for _, k := range skip {
		delete(keys, k)
	}
	secSame(t, what, want, got, slices.Sorted(maps.Keys(keys))...)
}

// secMassCheck sends a valid body plus the hostile keys on one route and
// checks that none was applied.
type secMassCheck struct {
	// last runs the check after all others (dev reset deletes everything).
	last bool
	run  func(t *testing.T, m *secMassWorld, rt *httpapi.Route, method string, h map[string]any)
}

// sample is a valid body of the route's request schema.
func (m *secMassWorld) sample(t *testing.T, rt *httpapi.Route) map[string]any {
	t.Helper()
	s, ok := secSampleFor(t, rt)
	if !ok || s == nil {
		t.FailNow()
	}
	return s
}

// checkRotation checks a §1.3 answer for target and returns the new token.
func (m *secMassWorld) checkRotation(t *testing.T, what string, r *resp, target account, grace int, h map[string]any) string {
	t.Helper()
	r.want(t, http.StatusOK)
	assertKeys(t, r.Obj, rotationKeys...)
	secNoHostileEcho(t, what, r, h)
	if r.str("auth_id") != target.AuthID {
		t.Errorf("%s: auth_id %q, want %s", what, r.str("auth_id"), target.AuthID)
	}
	tok := r.str("auth_token")
	if !tokenPattern.MatchString(tok) || tok == h["auth_token"] || tok == target.Token {
		t.Errorf("%s: auth_token %q is not a fresh token", what, tok)
	}
	if want := fmtTime(m.e.svc.Clock().Now().Add(time.Duration(grace) * time.Second)); r.Obj["previous_token_expires_at"] != want {
		t.Errorf("%s: previous_token_expires_at %v, want the server's %s", what, r.Obj["previous_token_expires_at"], want)
	}
	m.e.secAuthAs(t, what+": new token", target.AuthID, pair(account{target.AuthID, tok}))
	m.e.secAuthAs(t, what+": previous token during the grace", target.AuthID, pair(target))
	m.e.secAuthFails(t, what+": hostile token", pair(account{target.AuthID, str(h, "auth_token")}))
	return tok
}

var secMassChecks = map[string]secMassCheck{
	"login": {run: func(t *testing.T, m *secMassWorld, rt *httpapi.Route, method string, h map[string]any) {
		for _, who := range []struct {
			c         *secCaller
			email, pw string
		}{{m.A, m.aEmail, m.aPassword}, {m.A1, m.a1Email, m.a1Password}} {
			what := method + " " + rt.Path + " as " + who.c.name
			r := m.e.do(t, method, rt.Path, jsonBody(secWithHostile(map[string]any{"email": who.email, "password": who.pw}, h)))
			if !r.check(t, http.StatusOK, what) {
				continue
			}
			assertKeys(t, r.Obj, loginKeys...)
			secNoHostileEcho(t, what, r, h)
			if r.str("auth_id") != who.c.acct.AuthID {
				t.Errorf("%s: auth_id %q, want %s", what, r.str("auth_id"), who.c.acct.AuthID)
			}
			m.e.secAuthAs(t, what+": access token", who.c.acct.AuthID, bearer(r.str("access_token")))
		}
	}},
	"rotateOwnToken": {run: func(t *testing.T, m *secMassWorld, rt *httpapi.Route, method string, h map[string]any) {
		scheme, opt := m.A.cred()
		what := method + " " + rt.Path + " (" + scheme + ")"
		r := m.e.do(t, method, rt.Path, jsonBody(secWithHostile(m.sample(t, rt), h)), opt)
		m.A.acct.Token = m.checkRotation(t, what, r, m.A.acct, 60, h)
	}},
	"createSubAccount": {run: func(t *testing.T, m *secMassWorld, rt *httpapi.Route, method string, h map[string]any) {
		body := m.sample(t, rt)
		blocked := h["kyc_calls_blocked"] == false // set 1 asks customer_use, whose KYC is incomplete
		if blocked {
			body["kyc_mode"] = "customer_use"
		}
		scheme, opt := m.A.cred()
		p := secFillPath(rt.Path, map[string]string{"auth_id": m.A.acct.AuthID})
		what := method + " " + p + " (" + scheme + ")"
		bCount := num(m.e.do(t, "GET", "/api/v1/admin/accounts/"+m.B.acct.AuthID, noBody, m.e.adminAuth()).want(t, 200).Obj, "sub_account_count")
		aCount := num(m.e.do(t, "GET", "/api/v1/admin/accounts/"+m.A.acct.AuthID, noBody, m.e.adminAuth()).want(t, 200).Obj, "sub_account_count")
		now := m.now()
		r := m.e.do(t, method, p, jsonBody(secWithHostile(body, h)), opt).want(t, http.StatusCreated)
		secNoHostileEcho(t, what, r, h)
		sub := r.obj("sub_account")
		checkSubAccount(t, what, sub, m.A.acct, m.aNum)
		id, tok := str(sub, "auth_id"), str(r.obj("auth_credentials"), "auth_token")
		if str(r.obj("auth_credentials"), "auth_id") != id || str(sub, "auth_token") != tok || !tokenPattern.MatchString(tok) || tok == h["auth_token"] {
			t.Errorf("%s: credentials %v / sub_account token %v are not one fresh token", what, r.obj("auth_credentials"), sub["auth_token"])
		}
		want := map[string]any{"email_verified": false, "enabled": true, "is_active": true, "last_used": nil,
			"kyc_calls_blocked": blocked, "created": now, "modified": now, "created_at": now, "updated_at": now}
		for k, v := range want {
			if sub[k] != v {
				t.Errorf("%s: sub_account.%s = %#v, want %#v", what, k, sub[k], v)
			}
		}
		g := m.e.do(t, "GET", subPath(m.A.acct.AuthID, id), noBody, pair(m.A.acct)).want(t, http.StatusOK)
		secSameObject(t, what+": fresh GET", sub, g.Obj, "auth_token")
		if g.str("auth_token") != "<redacted>" {
			t.Errorf("%s: GET auth_token %q, want <redacted>", what, g.str("auth_token"))
		}
		m.e.secAuthAs(t, what+": issued token", id, pair(account{id, tok}))
		m.e.secAuthFails(t, what+": hostile token", pair(account{id, str(h, "auth_token")}))
		if n := num(m.e.do(t, "GET", "/api/v1/admin/accounts/"+m.B.acct.AuthID, noBody, m.e.adminAuth()).Obj, "sub_account_count"); n != bCount {
			t.Errorf("%s: tenant B's sub_account_count went from %v to %v", what, bCount, n)
		}
		if n := num(m.e.do(t, "GET", "/api/v1/admin/accounts/"+m.A.acct.AuthID, noBody, m.e.adminAuth()).Obj, "sub_account_count"); n != aCount+1 {
			t.Errorf("%s: tenant A's sub_account_count went from %v to %v, want +1", what, aCount, n)
		}
	}},
	"updateSubAccount": {run: func(t *testing.T, m *secMassWorld, rt *httpapi.Route, method string, h map[string]any) {
		target := m.A1 // personal_use: kyc_calls_blocked stays false whatever is sent
		if h["kyc_calls_blocked"] == false {
			target = m.A3 // customer_use without KYC: stays true
		}
		p := secFillPath(rt.Path, map[string]string{"auth_id": m.A.acct.AuthID, "sub_auth_id": target.acct.AuthID})
		bg := m.e.do(t, "GET", p, noBody, pair(m.A.acct)).want(t, http.StatusOK)
		before := bg.Obj
		var version int
		if _, err := fmt.Sscanf(bg.Header.Get("ETag"), `"v%d"`, &version); err != nil {
			t.Fatalf("ETag %q: %v", bg.Header.Get("ETag"), err)
		}
		m.e.clock.Advance(time.Second)
		now := m.now()
		body := m.sample(t, rt)
		scheme, opt := m.A.cred()
		what := method + " " + p + " (" + scheme + ")"
		r := m.e.do(t, method, p, jsonBody(secWithHostile(body, h)), opt).want(t, http.StatusOK)
		assertKeys(t, r.Obj, subAccountKeys...)
		secNoHostileEcho(t, what, r, h)
		secSame(t, what, before, r.Obj, "id", "api_id", "auth_id", "parent_account_id", "parent_auth_id", "account",
			"resource_uri", "created", "created_at", "email_verified", "enabled", "is_active", "last_used", "kyc_mode",
			"kyc_calls_blocked", "auth_token")
		if r.str("name") != body["name"] || r.Obj["updated_at"] != now || r.Obj["modified"] != now {
			t.Errorf("%s: name %v updated_at %v modified %v, want %v and the server's %s", what, r.Obj["name"], r.Obj["updated_at"], r.Obj["modified"], body["name"], now)
		}
		if r.str("auth_token") != "<redacted>" {
			t.Errorf("%s: auth_token %q", what, r.str("auth_token"))
		}
		if want := fmt.Sprintf(`"v%d"`, version+1); r.Header.Get("ETag") != want {
			t.Errorf("%s: ETag %q, want %s (the version is the server's)", what, r.Header.Get("ETag"), want)
		}
		g := m.e.do(t, "GET", p, noBody, pair(m.A.acct)).want(t, http.StatusOK)
		secSameObject(t, what+": fresh GET", r.Obj, g.Obj)
		m.e.secAuthAs(t, what+": the old token still authenticates", target.acct.AuthID, pair(target.acct))
		m.e.secAuthFails(t, what+": hostile token", pair(account{target.acct.AuthID, str(h, "auth_token")}))
	}},
	"deleteSubAccount": {run: func(t *testing.T, m *secMassWorld, rt *httpapi.Route, method string, h map[string]any) {
		victim := m.e.createSubOf(t, m.A.acct, map[string]any{"name": "doomed"})
		// The body names a sibling and another tenant's account.
		h = maps.Clone(h)
		h["auth_id"], h["id"] = m.A1.acct.AuthID, m.a1Num
		p := secFillPath(rt.Path, map[string]string{"auth_id": m.A.acct.AuthID, "sub_auth_id": victim.AuthID})
		scheme, opt := m.A.cred()
		what := method + " " + p + " (" + scheme + ")"
		a1 := m.e.do(t, "GET", subPath(m.A.acct.AuthID, m.A1.acct.AuthID), noBody, pair(m.A.acct)).want(t, http.StatusOK)
		r := m.e.do(t, method, p, jsonBody(secWithHostile(m.sample(t, rt), h)), opt).want(t, http.StatusOK)
		assertKeys(t, r.Obj, "message")
		m.e.do(t, "GET", p, noBody, pair(m.A.acct)).checkErr(t, http.StatusNotFound, "not_found", what+": the victim is gone")
		a1After := m.e.do(t, "GET", subPath(m.A.acct.AuthID, m.A1.acct.AuthID), noBody, pair(m.A.acct))
		if a1After.check(t, http.StatusOK, what+": the sibling named in the body") && !bytes.Equal(a1.Body, a1After.Body) {
			t.Errorf("%s: the sibling changed:\n%s\n%s", what, a1.Body, a1After.Body)
		}
		m.e.secAuthAs(t, what+": sibling token", m.A1.acct.AuthID, pair(m.A1.acct))
		m.e.secAuthAs(t, what+": tenant B's sub-account", m.B1.acct.AuthID, pair(m.B1.acct))
	}},
	"rotateSubAccountToken": {run: func(t *testing.T, m *secMassWorld, rt *httpapi.Route, method string, h map[string]any) {
		p := secFillPath(rt.Path, map[string]string{"auth_id": m.A.acct.AuthID, "sub_auth_id": m.A1.acct.AuthID})
		scheme, opt := m.A.cred()
		r := m.e.do(t, method, p, jsonBody(secWithHostile(m.sample(t, rt), h)), opt)
		m.A1.acct.Token = m.checkRotation(t, method+" "+p+" ("+scheme+")", r, m.A1.acct, 60, h)
	}},
	"putWebhook": {run: func(t *testing.T, m *secMassWorld, rt *httpapi.Route, method string, h map[string]any) {
		p := secFillPath(rt.Path, map[string]string{"auth_id": m.A.acct.AuthID})
		bPath := "/api/v1/accounts/" + m.B.acct.AuthID + "/webhook"
		before := m.e.do(t, "GET", p, noBody, pair(m.A.acct)).want(t, http.StatusOK)
		bBefore := m.e.do(t, "GET", bPath, noBody, pair(m.B.acct)).want(t, http.StatusOK)
		body := m.sample(t, rt)
		h = maps.Clone(h)
		h["secret_hint"], h["webhook_secret"], h["secret"] = "whsec_…HACK", "whsec_"+secKnownToken, "whsec_"+secKnownToken
		scheme, opt := m.A.cred()
		what := method + " " + p + " (" + scheme + ")"
		r := m.e.do(t, method, p, jsonBody(secWithHostile(body, h)), opt).want(t, http.StatusOK)
		assertKeys(t, r.Obj, "url", "events", "secret_hint")
		secNoHostileEcho(t, what, r, h)
		if r.Obj["url"] != body["url"] || r.Obj["secret_hint"] != before.Obj["secret_hint"] {
			t.Errorf("%s: url %v secret_hint %v, want %v and the unchanged %v", what, r.Obj["url"], r.Obj["secret_hint"], body["url"], before.Obj["secret_hint"])
		}
		g := m.e.do(t, "GET", p, noBody, pair(m.A.acct)).want(t, http.StatusOK)
		secSameObject(t, what+": fresh GET", r.Obj, g.Obj)
		if b := m.e.do(t, "GET", bPath, noBody, pair(m.B.acct)); !bytes.Equal(b.Body, bBefore.Body) {
			t.Errorf("%s: tenant B's webhook changed: %s → %s", what, bBefore.Body, b.Body)
		}
	}},
	"adminCreateAccount": {run: func(t *testing.T, m *secMassWorld, rt *httpapi.Route, method string, h map[string]any) {
		now := m.now()
		what := method + " " + rt.Path
		r := m.e.do(t, method, rt.Path, jsonBody(secWithHostile(m.sample(t, rt), h)), m.e.adminAuth()).want(t, http.StatusCreated)
		secNoHostileEcho(t, what, r, h)
		a := r.obj("account")
		assertKeys(t, a, mainAccountKeys...)
		if !mainIDPattern.MatchString(str(a, "auth_id")) || !numIDPattern.MatchString(str(a, "id")) || !uuidPattern.MatchString(str(a, "api_id")) {
			t.Errorf("%s: ids %v %v %v", what, a["auth_id"], a["id"], a["api_id"])
		}
		want := map[string]any{"balance": 0.0, "sub_account_count": 0.0, "enabled": true, "is_active": true,
			"created_at": now, "updated_at": now, "last_used": nil}
		for k, v := range want {
			if a[k] != v {
				t.Errorf("%s: account.%s = %#v, want %#v", what, k, a[k], v)
			}
		}
		creds := r.obj("auth_credentials")
		id, tok := str(creds, "auth_id"), str(creds, "auth_token")
		if id != str(a, "auth_id") || !tokenPattern.MatchString(tok) || tok == h["auth_token"] {
			t.Errorf("%s: auth_credentials %v", what, creds)
		}
		g := m.e.do(t, "GET", rt.Path+"/"+id, noBody, m.e.adminAuth()).want(t, http.StatusOK)
		secSameObject(t, what+": fresh GET", a, g.Obj)
		m.e.secAuthAs(t, what+": issued token", id, pair(account{id, tok}))
		m.e.secAuthFails(t, what+": hostile token", pair(account{id, str(h, "auth_token")}))
	}},
	"adminUpdateAccount": {run: func(t *testing.T, m *secMassWorld, rt *httpapi.Route, method string, h map[string]any) {
		p := secFillPath(rt.Path, map[string]string{"auth_id": m.C.acct.AuthID})
		before := m.e.do(t, "GET", p, noBody, m.e.adminAuth()).want(t, http.StatusOK).Obj
		m.e.clock.Advance(time.Second)
		now := m.now()
		body := m.sample(t, rt)
		h = maps.Clone(h)
		h["currency"] = "USD" // written on create only (§3.1)
		what := method + " " + p
		r := m.e.do(t, method, p, jsonBody(secWithHostile(body, h)), m.e.adminAuth()).want(t, http.StatusOK)
		assertKeys(t, r.Obj, mainAccountKeys...)
		secNoHostileEcho(t, what, r, h)
		secSame(t, what, before, r.Obj, "id", "api_id", "auth_id", "balance", "sub_account_count", "created_at",
			"last_used", "enabled", "is_active", "email", "currency")
		if r.Obj["name"] != body["name"] || r.Obj["updated_at"] != now {
			t.Errorf("%s: name %v updated_at %v, want %v and the server's %s", what, r.Obj["name"], r.Obj["updated_at"], body["name"], now)
		}
		if num(r.Obj, "sub_account_count") != 1 {
			t.Errorf("%s: sub_account_count %v, want 1", what, r.Obj["sub_account_count"])
		}
		g := m.e.do(t, "GET", p, noBody, m.e.adminAuth()).want(t, http.StatusOK)
		secSameObject(t, what+": fresh GET", r.Obj, g.Obj)
		m.e.secAuthAs(t, what+": the old token still authenticates", m.C.acct.AuthID, pair(m.C.acct))
		m.e.secAuthFails(t, what+": hostile token", pair(account{m.C.acct.AuthID, str(h, "auth_token")}))
	}},
	"adminRotateToken": {run: func(t *testing.T, m *secMassWorld, rt *httpapi.Route, method string, h map[string]any) {
		p := secFillPath(rt.Path, map[string]string{"auth_id": m.C.acct.AuthID})
		r := m.e.do(t, method, p, jsonBody(secWithHostile(m.sample(t, rt), h)), m.e.adminAuth())
		m.C.acct.Token = m.checkRotation(t, method+" "+p, r, m.C.acct, 60, h)
	}},
	"devClockAdvance": {run: func(t *testing.T, m *secMassWorld, rt *httpapi.Route, method string, h map[string]any) {
		before := m.e.do(t, "GET", "/api/v1/admin/dev/clock", noBody, m.e.adminAuth()).want(t, http.StatusOK)
		h = maps.Clone(h)
		h["now"], h["offset_seconds"] = "2001-02-03T04:05:06.789Z", 999999
		body := m.sample(t, rt)
		what := method + " " + rt.Path
		r := m.e.do(t, method, rt.Path, jsonBody(secWithHostile(body, h)), m.e.adminAuth()).want(t, http.StatusOK)
		assertKeys(t, r.Obj, "now", "offset_seconds")
		if want := num(before.Obj, "offset_seconds") + 1; num(r.Obj, "offset_seconds") != want || r.Obj["now"] != m.now() {
			t.Errorf("%s: clock %v, want offset %v and the server's %s", what, r.Obj, want, m.now())
		}
	}},
	"devReset": {last: true, run: func(t *testing.T, m *secMassWorld, rt *httpapi.Route, method string, h map[string]any) {
		what := method + " " + rt.Path
		r := m.e.do(t, method, rt.Path, jsonBody(secWithHostile(m.sample(t, rt), h)), m.e.adminAuth()).want(t, http.StatusOK)
		secNoHostileEcho(t, what, r, h)
		b := r.obj("bootstrap")
		id, tok := str(b, "auth_id"), str(b, "auth_token")
		if !mainIDPattern.MatchString(id) || !tokenPattern.MatchString(tok) || tok == h["auth_token"] || !whsecPattern.MatchString(str(b, "webhook_secret")) {
			t.Errorf("%s: bootstrap %v", what, b)
		}
		m.e.secAuthAs(t, what+": bootstrap token", id, pair(account{id, tok}))
		m.e.secAuthFails(t, what+": hostile token", pair(account{id, str(h, "auth_token")}))
	}},
}

func TestMassAssignment(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{Admin: true, Dev: true})
		m := secNewMassWorld(t, e)
		for _, k := range secProtectedKeys {
			for set := range 2 {
				if _, ok := m.hostile(set)[k]; !ok {
					t.Fatalf("hostile(%d) lacks the protected key %s", set, k)
				}
			}
		}
		var last []func()
		runs, routes := 0, 0
		for _, rt := range e.api.Routes() {
			if rt.Doc.Request == "" || !secHasBody(rt.Method) {
				continue
			}
			check, ok := secMassChecks[rt.Name]
			if !ok {
				t.Errorf("writable route %s (%s, schema %s) has no entry in secMassChecks", secRouteKey(rt), rt.Name, rt.Doc.Request)
				continue
			}
			routes++
			for _, method := range secRouteMethods(rt) {
				for set := range 2 {
					run := func() {
						runs++
						t.Run(fmt.Sprintf("%s/%s/set%d", rt.Name, method, set), func(t *testing.T) {
							check.run(t, m, rt, method, m.hostile(set))
						})
					}
					if check.last {
						last = append(last, run)
					} else {
						run()
					}
				}
			}
		}
		for _, run := range last {
			run()
		}
		msg := fmt.Sprintf("mass assignment [%s]: %d writable routes, %d runs, each with the %d protected keys of §0.6 and %d internal ones",
			secEngineName(t), routes, runs, len(secProtectedKeys), len(m.hostile(0))-len(secProtectedKeys))
		t.Log(msg)
		fmt.Println(msg)
	})
}

// ---------------------------------------------------------------------------
// 4. Secrets at rest

func TestSecretsAtRest(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e, logs := secNewLoggedEnv(t, dsn, envOpts{Admin: true})
		admin := e.adminAuth()
		secrets := secSecretSet{}
		secrets.add(t, "bootstrap auth token", e.main.Token)
		key := func(k string) reqOpt { return hdr("Idempotency-Key", k) }
		// replayed sends a request twice under one key and checks that the
		// second answer is the stored first one, secret included.
		replayed := func(method, p string, body bodyArg, want int, opts ...reqOpt) *resp {
			t.Helper()
			first := e.do(t, method, p, body, opts...).want(t, want)
			again := e.do(t, method, p, body, opts...).want(t, want)
			if again.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(first.Body, again.Body) {
				t.Errorf("%s %s: replay %q differs:\n%s\n%s", method, p, again.Header.Get("Idempotent-Replayed"), first.Body, again.Body)
			}
			return first
		}

		// The operator creates a main account with a console password.
		mPw := "Main console pass 1"
		secrets.add(t, "main password", mPw)
		r := replayed("POST", "/api/v1/admin/accounts", jsonBody(map[string]any{"name": "Secretive", "email": "secretive@example.test",
			"password": mPw}), 201, admin, key("create-main"))
		mAcct := account{AuthID: str(r.obj("auth_credentials"), "auth_id"), Token: str(r.obj("auth_credentials"), "auth_token")}
		secrets.add(t, "main auth token", mAcct.Token)
		secrets.add(t, "main webhook secret", r.str("webhook_secret"))
		M := mAcct.AuthID

		// Console login and refresh.
		l := e.do(t, "POST", "/api/v1/auth/login", jsonBody(map[string]any{"email": "secretive@example.test", "password": mPw})).want(t, 200)
		secrets.add(t, "main access JWT", l.str("access_token"))
		secrets.add(t, "main refresh JWT", l.str("refresh_token"))
		rf := e.do(t, "POST", "/api/v1/auth/refresh", noBody, bearer(l.str("refresh_token"))).want(t, 200)
		secrets.add(t, "main refreshed access JWT", rf.str("access_token"))
		secrets.add(t, "main refreshed refresh JWT", rf.str("refresh_token"))
		mJWT := bearer(rf.str("access_token"))

		// Webhook URL and secret rotation (keyed: an encrypted replay).
		e.do(t, "PUT", "/api/v1/accounts/"+M+"/webhook", jsonBody(map[string]any{"url": "https://hooks.example.test/secretive"}), mJWT).want(t, 200)
		ws := replayed("POST", "/api/v1/accounts/"+M+"/webhook/rotate-secret", noBody, 200, pair(mAcct), key("rotate-secret"))
		secrets.add(t, "rotated webhook secret", ws.str("webhook_secret"))

		// Sub-accounts with passwords, one created under a key.
		s1Pw, s2Pw := "Sub one console pass", "Sub two console pass"
		secrets.add(t, "sub S1 password", s1Pw)
		secrets.add(t, "sub S2 password", s2Pw)
		c1 := replayed("POST", subsPath(M), jsonBody(map[string]any{"name": "S1", "email": "s1@example.test", "password": s1Pw}), 201,
			pair(mAcct), key("create-s1"))
		s1 := account{AuthID: str(c1.obj("auth_credentials"), "auth_id"), Token: str(c1.obj("auth_credentials"), "auth_token")}
		secrets.add(t, "sub S1 auth token", s1.Token)
		secrets.add(t, "sub S1 access JWT", str(c1.obj("tokens"), "access_token"))
		secrets.add(t, "sub S1 refresh JWT", str(c1.obj("tokens"), "refresh_token"))
		s2 := e.createSubOf(t, mAcct, map[string]any{"name": "S2", "email": "s2@example.test", "password": s2Pw})
		secrets.add(t, "sub S2 auth token", s2.Token)
		secrets.add(t, "sub S2 access JWT", s2.Access)
		secrets.add(t, "sub S2 refresh JWT", s2.Refresh)
		sl := e.do(t, "POST", "/api/v1/auth/login", jsonBody(map[string]any{"email": "s1@example.test", "password": s1Pw})).want(t, 200)
		secrets.add(t, "sub S1 login access JWT", sl.str("access_token"))
		secrets.add(t, "sub S1 login refresh JWT", sl.str("refresh_token"))

		// Token rotations: a sub-account's, the main account's own, the operator's.
		rs := replayed("POST", subPath(M, s1.AuthID)+"/rotate-token", jsonBody(map[string]any{"grace_seconds": 30}), 200, mJWT, key("rotate-s1"))
		secrets.add(t, "sub S1 rotated token", rs.str("auth_token"))
		ro := replayed("POST", "/api/v1/auth-token/rotate", jsonBody(map[string]any{"grace_seconds": 0}), 200, mJWT, key("rotate-own")) // the JWT outlives the rotated token
		secrets.add(t, "main own-rotated token", ro.str("auth_token"))
		mAcct.Token = ro.str("auth_token")
		ra := replayed("POST", "/api/v1/admin/accounts/"+M+"/rotate-token", jsonBody(map[string]any{"grace_seconds": 0}), 200, admin, key("rotate-admin"))
		secrets.add(t, "main operator-rotated token", ra.str("auth_token"))
		mAcct.Token = ra.str("auth_token")
		rb := e.do(t, "POST", "/api/v1/admin/accounts/"+e.main.AuthID+"/rotate-token", noBody, admin).want(t, 200)
		secrets.add(t, "bootstrap rotated token", rb.str("auth_token"))

		// Password changes, and logins with them.
		s2Pw2, mPw2 := "Sub two second pass", "Main console pass 2"
		secrets.add(t, "sub S2 new password", s2Pw2)
		secrets.add(t, "main new password", mPw2)
		e.do(t, "PUT", subPath(M, s2.AuthID), jsonBody(map[string]any{"password": s2Pw2}), pair(mAcct), key("s2-password")).want(t, 200)
		e.do(t, "PUT", "/api/v1/admin/accounts/"+M, jsonBody(map[string]any{"password": mPw2}), admin, key("main-password")).want(t, 200)
		for _, lg := range []struct{ email, pw, label string }{{"s2@example.test", s2Pw2, "S2"}, {"secretive@example.test", mPw2, "main"}} {
			r := e.do(t, "POST", "/api/v1/auth/login", jsonBody(map[string]any{"email": lg.email, "password": lg.pw})).want(t, 200)
			secrets.add(t, lg.label+" new-password access JWT", r.str("access_token"))
			secrets.add(t, lg.label+" new-password refresh JWT", r.str("refresh_token"))
		}
		// A failed login with a password-like string must not be logged either.
		wrongPw := "Wrong guess of a password"
		secrets.add(t, "wrong password", wrongPw)
		e.do(t, "POST", "/api/v1/auth/login", jsonBody(map[string]any{"email": "s1@example.test", "password": wrongPw})).want(t, 401)
		// Every secret still does what it should (the scan below is not vacuous).
		e.secAuthAs(t, "main token", M, pair(mAcct))
		e.secAuthAs(t, "sub S1 rotated token", s1.AuthID, pair(account{s1.AuthID, rs.str("auth_token")}))

		// The audit log through the API.
		var audit [][]byte
		_, b1 := secAuditAll(t, e, "/api/v1/accounts/"+M+"/audit-log", pair(mAcct))
		_, b2 := secAuditAll(t, e, "/api/v1/admin/audit-log", admin)
		audit = append(append(audit, b1...), b2...)
		auditBytes := bytes.Join(audit, []byte("\n"))
		if !bytes.Contains(auditBytes, []byte(s1.AuthID)) {
			t.Errorf("the audit log does not mention S1 at all: %s", auditBytes)
		}
		if found := secFindSecrets(auditBytes, secrets); len(found) > 0 {
			t.Errorf("BUG: the audit log API shows secrets: %v", found)
		}
		dl := e.do(t, "GET", "/api/v1/accounts/"+M+"/webhook-deliveries?size=100", noBody, pair(mAcct)).want(t, 200)
		if found := secFindSecrets(dl.Body, secrets); len(found) > 0 {
			t.Errorf("BUG: the webhook delivery log shows secrets: %v", found)
		}

		// At rest, while the server runs (SQLite: the WAL holds every write
		// not yet checkpointed).
		readFiles := func() []byte {
			var out []byte
			for _, f := range []string{dsn, dsn + "-wal"} {
				b, err := os.ReadFile(f)
				if err != nil && !os.IsNotExist(err) {
					t.Fatalf("read %s: %v", f, err)
				}
				out = append(out, b...)
			}
			return out
		}
		postgres := strings.HasPrefix(dsn, "postgres")
		var atRest []byte
		var where string
		if postgres {
			dump, tables := secDumpPostgres(t, dsn)
			atRest, where = dump, fmt.Sprintf("PostgreSQL dump of %d tables (%d bytes)", tables, len(dump))
		} else {
			atRest = readFiles()
		}

		// The database goes away under a running server: requests that carry
		// every kind of secret fail with 5xx, and the server logs them.
		if err := e.db.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		failing := []struct {
			method, path string
			body         bodyArg
			opt          reqOpt
		}{
			{"POST", "/api/v1/auth/login", jsonBody(map[string]any{"email": "secretive@example.test", "password": mPw2}), nil},
			{"GET", "/api/v1/auth/me", noBody, pair(mAcct)},
			{"GET", "/api/v1/auth/me", noBody, basic(s1.AuthID, rs.str("auth_token"))},
			{"GET", "/api/v1/auth/me", noBody, bearer(rf.str("access_token"))},
			{"POST", "/api/v1/auth/refresh", noBody, bearer(sl.str("refresh_token"))},
			{"POST", "/api/v1/admin/accounts", jsonBody(map[string]any{"name": "Late", "password": mPw}), admin},
			{"POST", "/api/v1/admin/accounts/" + M + "/rotate-token", noBody, admin},
		}
		failed := 0
		for _, f := range failing {
			opts := []reqOpt{}
			if f.opt != nil {
				opts = append(opts, f.opt)
			}
			r := e.do(t, f.method, f.path, f.body, opts...)
			if r.Status >= 500 {
				failed++
			}
			if found := secFindSecrets(r.Body, secrets); len(found) > 0 {
				t.Errorf("BUG: %s %s with the database closed answers with secrets: %v", f.method, f.path, found)
			}
		}
		e.srv.Close()
		if !postgres {
			// Closed: the last connection checkpointed the WAL into the file.
			open := len(atRest)
			atRest = append(atRest, readFiles()...)
			where = fmt.Sprintf("SQLite file and WAL (%d bytes while open, %d bytes after close)", open, len(atRest)-open)
		}
		for _, control := range []string{s1.AuthID, "s2@example.test", M} {
			if !bytes.Contains(atRest, []byte(control)) {
				t.Fatalf("%s: the control value %q is missing, so the scan reads the wrong data", where, control)
			}
		}
		if found := secFindSecrets(atRest, secrets); len(found) > 0 {
			t.Errorf("BUG: %s holds secrets in clear or in a plain encoding: %v", where, found)
		}
		logBytes := logs.Bytes()
		if failed > 0 && !bytes.Contains(logBytes, []byte("request failed")) {
			t.Errorf("%d requests failed with 5xx but the log has no \"request failed\" record: %s", failed, logBytes)
		}
		if found := secFindSecrets(logBytes, secrets); len(found) > 0 {
			t.Errorf("BUG: the server log holds secrets: %v", found)
		}
		msg := fmt.Sprintf("secrets at rest [%s]: %d secrets × %d encodings checked in %s, %d bytes of audit JSON, %d bytes of logs (%d of %d requests without a database failed 5xx)",
			secEngineName(t), len(secrets), len(secEncodings("x")), where, len(auditBytes), len(logBytes), failed, len(failing))
		t.Log(msg)
		fmt.Println(msg)
	})
}

// ---------------------------------------------------------------------------
// 5. Idempotency under concurrency

// secStorm sends n requests at once (released together) and returns the answers.
func secStorm(client *http.Client, n int, req func(i int) (method, url string, body []byte, headers map[string]string)) []secRawResult {
	out := make([]secRawResult, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		method, u, body, headers := req(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = secRawDo(client, method, u, body, headers)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// secStormOutcome is what secCheckStorm found.
type secStormOutcome struct {
	originals  map[string][]byte // per key, the one non-replayed success body
	replays    int
	inProgress int
}

// secCheckStorm checks the answers of a keyed secStorm: per key exactly one
// original success, replays identical to it with Idempotent-Replayed: true,
// or 409 idempotency_in_progress with Retry-After; never 5xx.
func secCheckStorm(t *testing.T, what string, results []secRawResult, keyOf func(i int) string, want int) secStormOutcome {
	t.Helper()
	o := secStormOutcome{originals: map[string][]byte{}}
	originals := map[string][][]byte{}
	replays := map[string][][]byte{}
	for i, r := range results {
		k := keyOf(i)
		switch {
		case r.err != nil:
			t.Errorf("%s #%d (key %s): %v", what, i, k, r.err)
		case r.status >= 500:
			t.Errorf("BUG: %s #%d (key %s): %d %s", what, i, k, r.status, r.body)
		case r.status == want && r.header.Get("Idempotent-Replayed") == "true":
			replays[k] = append(replays[k], r.body)
			o.replays++
		case r.status == want:
			originals[k] = append(originals[k], r.body)
		case r.status == http.StatusConflict:
			var body map[string]any
			json.Unmarshal(r.body, &body)
			if body["error"] != "idempotency_in_progress" || r.header.Get("Retry-After") == "" {
				t.Errorf("%s #%d (key %s): 409 %s with Retry-After %q, want idempotency_in_progress with Retry-After",
					what, i, k, r.body, r.header.Get("Retry-After"))
			}
			o.inProgress++
		default:
			t.Errorf("%s #%d (key %s): unexpected %d %s", what, i, k, r.status, r.body)
		}
	}
	keys := map[string]bool{}
	for i := range results {
		keys[keyOf(i)] = true
	}
	for k := range keys {
		if len(originals[k]) != 1 {
			t.Errorf("BUG: %s: key %s executed %d times, want exactly once", what, k, len(originals[k]))
			continue
		}
		o.originals[k] = originals[k][0]
		for _, b := range replays[k] {
			if !bytes.Equal(b, originals[k][0]) {
				t.Errorf("%s: key %s: replay differs from the original:\n%s\n%s", what, k, originals[k][0], b)
			}
		}
	}
	return o
}

func TestIdempotencyConcurrency(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{Admin: true})
		a := e.main
		e.do(t, "PUT", "/api/v1/admin/accounts/"+a.AuthID, jsonBody(map[string]any{"rate_limit": 100000}), e.adminAuth()).want(t, 200)
		client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		t.Cleanup(client.CloseIdleConnections)
		const n, nKeys = 50, 10
		auth := map[string]string{"X-Auth-ID": a.AuthID, "X-Auth-Token": a.Token}
		withKey := func(k string) map[string]string {
			h := maps.Clone(auth)
			h["Idempotency-Key"] = k
			return h
		}

		// Create: 10 keys, 5 identical requests each.
		createKey := func(i int) string { return fmt.Sprintf("create-%02d", i%nKeys) }
		createBody := func(i int) []byte {
			b, _ := json.Marshal(map[string]any{"name": fmt.Sprintf("Concurrent %02d", i%nKeys), "email": fmt.Sprintf("conc-%02d@example.test", i%nKeys)})
			return b
		}
		res := secStorm(client, n, func(i int) (string, string, []byte, map[string]string) {
			return "POST", e.srv.URL + subsPath(a.AuthID), createBody(i), withKey(createKey(i))
		})
		co := secCheckStorm(t, "concurrent create", res, createKey, http.StatusCreated)
		// A client that honours Retry-After gets the stored answer.
		for i := range nKeys {
			r := secRawDo(client, "POST", e.srv.URL+subsPath(a.AuthID), createBody(i), withKey(createKey(i)))
			if r.status != http.StatusCreated || r.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(r.body, co.originals[createKey(i)]) {
				t.Errorf("retry of key %s: %d replayed %q body %s, want the stored 201", createKey(i), r.status, r.header.Get("Idempotent-Replayed"), r.body)
			}
		}
		l := e.do(t, "GET", subsPath(a.AuthID)+"?size=100", noBody, pair(a)).want(t, 200)
		if num(l.Obj, "total") != nKeys {
			t.Errorf("BUG: %v sub-accounts exist after %d keyed creates, want %d", l.Obj["total"], n, nKeys)
		}
		listed := map[string]bool{}
		for _, x := range l.list("sub_accounts") {
			listed[str(x.(map[string]any), "auth_id")] = true
		}
		for k, b := range co.originals {
			var created map[string]any
			json.Unmarshal(b, &created)
			creds, _ := created["auth_credentials"].(map[string]any)
			id := str(creds, "auth_id")
			if !listed[id] {
				t.Errorf("key %s created %s, which the list does not show", k, id)
			}
			e.secAuthAs(t, "token of key "+k, id, pair(account{id, str(creds, "auth_token")}))
		}
		ev, _ := secAuditAll(t, e, "/api/v1/accounts/"+a.AuthID+"/audit-log?action=subaccount.create&outcome=success", pair(a))
		if len(ev) != nKeys {
			t.Errorf("%d subaccount.create audit records, want %d", len(ev), nKeys)
		}

		// Rotate: 10 keys on one sub-account, grace 0, so only the last
		// rotation's token may work.
		target := e.createSub(t, map[string]any{"name": "rotated concurrently"})
		rotPath := subPath(a.AuthID, target.AuthID) + "/rotate-token"
		rotKey := func(i int) string { return fmt.Sprintf("rotate-%02d", i%nKeys) }
		res = secStorm(client, n, func(i int) (string, string, []byte, map[string]string) {
			return "POST", e.srv.URL + rotPath, []byte(`{"grace_seconds": 0}`), withKey(rotKey(i))
		})
		ro := secCheckStorm(t, "concurrent rotate-token", res, rotKey, http.StatusOK)
		tokens := map[string]bool{}
		working := 0
		for _, b := range ro.originals {
			var rot map[string]any
			json.Unmarshal(b, &rot)
			tok := str(rot, "auth_token")
			tokens[tok] = true
			if r := doWith(t, secLoopbackClient(), e.srv.URL, "GET", "/api/v1/auth/me", noBody, pair(account{target.AuthID, tok})); r.Status == 200 {
				working++
			}
		}
		if len(tokens) != nKeys || working != 1 {
			t.Errorf("BUG: %d distinct tokens from %d keys, %d of them work; want %d and exactly 1 (grace 0)", len(tokens), nKeys, working, nKeys)
		}
		ev, _ = secAuditAll(t, e, "/api/v1/accounts/"+a.AuthID+"/audit-log?action=credential.rotate&outcome=success&target_id="+target.AuthID, pair(a))
		if len(ev) != nKeys {
			t.Errorf("%d credential.rotate audit records for the target, want %d", len(ev), nKeys)
		}
		msg := fmt.Sprintf("idempotency concurrency [%s]: create %d requests/%d keys → %d executed, %d replays, %d in progress; rotate → %d executed, %d replays, %d in progress",
			secEngineName(t), n, nKeys, len(co.originals), co.replays, co.inProgress, len(ro.originals), ro.replays, ro.inProgress)
		t.Log(msg)
		fmt.Println(msg)
	})
}
