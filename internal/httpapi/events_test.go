package httpapi_test

// End-to-end tests of the audit log (CONTRACT §10.1, §3.4), the lifecycle
// webhooks (§10.2, §10.3) and the per-account rate limit (§0.8) through a
// real listener, on SQLite and PostgreSQL. Webhooks are delivered by the
// real sender to a receiver on 127.0.0.1; retries are driven by the dev
// clock (§3.5), never by sleeping.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/storetest"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

var (
	envelopeKeys    = []string{"event", "event_id", "timestamp", "account_auth_id", "data"}
	webhookKeys     = []string{"url", "events", "secret_hint"}
	deliveryKeys    = []string{"id", "event_id", "event", "url", "status", "attempts", "next_attempt_at", "created_at", "updated_at"}
	attemptKeys     = []string{"at", "status_code", "error", "duration_ms"}
	deliveryPage    = []string{"deliveries", "total", "page", "size"}
	auditRecordKeys = []string{"id", "occurred_at", "request_id", "actor_type", "actor_id", "actor_role", "tenant_id",
		"action", "target_type", "target_id", "outcome", "status_code", "source_ip", "changes", "reason", "prev_hash", "hash"}
	eventIDPattern    = regexp.MustCompile(`^evt_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	deliveryIDPattern = regexp.MustCompile(`^dlv_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// hint is the §10.2 secret_hint of a secret.
func secretHint(secret string) string { return "whsec_…" + secret[len(secret)-4:] }

// checkCall asserts the headers, signature and envelope of one delivery.
func checkCall(t *testing.T, c hookCall, mainAuthID, secret string) {
	t.Helper()
	what := "delivery of " + c.Event
	if c.Method != "POST" || c.Path != "/hook" {
		t.Errorf("%s: %s %s, want POST /hook", what, c.Method, c.Path)
	}
	if !c.Valid || !webhook.Verify(secret, c.Body, c.Signature) {
		t.Errorf("%s: signature %q does not verify under the current secret", what, c.Signature)
	}
	if !regexp.MustCompile(`^sha256=[0-9a-f]{64}$`).MatchString(c.Signature) {
		t.Errorf("%s: X-Vobiz-Signature %q, want sha256=<64 lowercase hex>", what, c.Signature)
	}
	if c.UserAgent != "switchboard-webhooks/1" {
		t.Errorf("%s: User-Agent %q", what, c.UserAgent)
	}
	if !strings.HasPrefix(c.ContentType, "application/json") {
		t.Errorf("%s: Content-Type %q", what, c.ContentType)
	}
	assertKeys(t, c.Obj, envelopeKeys...)
	if str(c.Obj, "event") != c.Event || str(c.Obj, "event_id") != c.EventID {
		t.Errorf("%s: headers %s/%s differ from the body %v/%v", what, c.Event, c.EventID, c.Obj["event"], c.Obj["event_id"])
	}
	if !eventIDPattern.MatchString(c.EventID) {
		t.Errorf("%s: event_id %q is not evt_<uuid>", what, c.EventID)
	}
	if str(c.Obj, "account_auth_id") != mainAuthID {
		t.Errorf("%s: account_auth_id %v, want %s", what, c.Obj["account_auth_id"], mainAuthID)
	}
	checkTime(t, what+" timestamp", c.Obj["timestamp"])
}

// byEvent returns the calls of one event type.
func byEvent(calls []hookCall, event string) []hookCall {
	var out []hookCall
	for _, c := range calls {
		if c.Event == event {
			out = append(out, c)
		}
	}
	return out
}

// one returns the only call of event among calls, failing otherwise.
func onlyEvent(t *testing.T, calls []hookCall, event string) hookCall {
	t.Helper()
	got := byEvent(calls, event)
	if len(got) != 1 {
		var names []string
		for _, c := range calls {
			names = append(names, c.Event)
		}
		t.Fatalf("%d deliveries of %s among %v, want 1", len(got), event, names)
	}
	return got[0]
}

// strs converts a JSON array of strings.
func jsonStrings(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// data returns the envelope's data object.
func eventData(c hookCall) map[string]any {
	m, _ := c.Obj["data"].(map[string]any)
	return m
}

// checkSubAccountData asserts data = {sub_account (+extra keys)} with the
// 25-key object, token redacted.
func checkSubAccountData(t *testing.T, c hookCall, subAuthID string, extra ...string) map[string]any {
	t.Helper()
	d := eventData(c)
	assertKeys(t, d, append([]string{"sub_account"}, extra...)...)
	sub, _ := d["sub_account"].(map[string]any)
	assertKeys(t, sub, subAccountKeys...)
	if str(sub, "auth_token") != "<redacted>" {
		t.Errorf("%s: sub_account.auth_token %v, want <redacted>", c.Event, sub["auth_token"])
	}
	if str(sub, "auth_id") != subAuthID {
		t.Errorf("%s: sub_account.auth_id %v, want %s", c.Event, sub["auth_id"], subAuthID)
	}
	return sub
}

func TestWebhookLifecycleEvents(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newHookEnv(t, dsn, hookOpts{envOpts: envOpts{Admin: true, Dev: true}})
		rc := newReceiver(t, e.secret)
		wh := webhookPath(e.main.AuthID)

		// A new account has no URL, every event, and a hint of its secret.
		r := e.do(t, "GET", wh, noBody, pair(e.main)).want(t, 200)
		assertKeys(t, r.Obj, webhookKeys...)
		if r.Obj["url"] != nil || fmt.Sprint(r.Obj["events"]) != "[*]" || r.str("secret_hint") != secretHint(e.secret) {
			t.Errorf("initial webhook %v, want url null, events [*], hint %s", r.Obj, secretHint(e.secret))
		}
		// Nothing is queued while there is no URL.
		e.createSub(t, map[string]any{"name": "before the hook"})
		if l := e.deliveries(t, nil); num(l.Obj, "total") != 0 {
			t.Errorf("deliveries without a URL: %s", l.Body)
		}

		r = e.do(t, "PUT", wh, jsonBody(map[string]any{"url": rc.URL(), "events": []string{"*"}}), pair(e.main)).want(t, 200)
		assertKeys(t, r.Obj, webhookKeys...)
		if r.str("url") != rc.URL() || fmt.Sprint(r.Obj["events"]) != "[*]" || r.str("secret_hint") != secretHint(e.secret) {
			t.Errorf("PUT webhook answered %v", r.Obj)
		}
		r = e.do(t, "GET", wh, noBody, pair(e.main)).want(t, 200)
		if r.str("url") != rc.URL() || fmt.Sprint(r.Obj["events"]) != "[*]" || r.str("secret_hint") != secretHint(e.secret) {
			t.Errorf("GET webhook after PUT %v", r.Obj)
		}
		if len(rc.got()) != 0 {
			t.Fatalf("the receiver was called before any event: %v", rc.got())
		}

		// Create.
		s := e.createSub(t, map[string]any{"name": "hooked", "email": "hooked@example.com"})
		e.deliver(t)
		calls := rc.got()
		c := onlyEvent(t, calls, "subaccount.created")
		checkCall(t, c, e.main.AuthID, e.secret)
		sub := checkSubAccountData(t, c, s.AuthID)
		if str(sub, "name") != "hooked" || str(sub, "email") != "hooked@example.com" || sub["enabled"] != true {
			t.Errorf("created sub_account %v", sub)
		}
		if str(c.Obj, "timestamp") != fmtTime(e.clock.Now()) {
			t.Errorf("timestamp %v, want the time of the change %s", c.Obj["timestamp"], fmtTime(e.clock.Now()))
		}
		if strings.Contains(string(c.Body), s.Token) {
			t.Errorf("subaccount.created carries the clear token")
		}
		item := subPath(e.main.AuthID, s.AuthID)

		// Update: name only.
		n := len(rc.got())
		e.clock.Advance(time.Second)
		e.do(t, "PUT", item, jsonBody(map[string]any{"name": "renamed"}), pair(e.main)).want(t, 200)
		e.deliver(t)
		calls = rc.since(n)
		if len(calls) != 1 {
			t.Fatalf("name change: %d deliveries, want 1 (subaccount.updated)", len(calls))
		}
		c = onlyEvent(t, calls, "subaccount.updated")
		checkCall(t, c, e.main.AuthID, e.secret)
		sub = checkSubAccountData(t, c, s.AuthID, "changed_fields")
		if fmt.Sprint(eventData(c)["changed_fields"]) != "[name]" || str(sub, "name") != "renamed" {
			t.Errorf("updated: changed_fields %v, name %v", eventData(c)["changed_fields"], sub["name"])
		}

		// A body that changes nothing emits nothing.
		n = len(rc.got())
		e.do(t, "PUT", item, jsonBody(map[string]any{"name": "renamed"}), pair(e.main)).want(t, 200)
		e.deliver(t)
		if got := rc.since(n); len(got) != 0 {
			t.Errorf("a no-op update delivered %d events", len(got))
		}

		// Disable: updated + disabled.
		e.do(t, "PUT", item, jsonBody(map[string]any{"enabled": false}), pair(e.main)).want(t, 200)
		e.deliver(t)
		calls = rc.since(n)
		if len(calls) != 2 {
			t.Fatalf("disable: %d deliveries, want 2", len(calls))
		}
		c = onlyEvent(t, calls, "subaccount.updated")
		checkCall(t, c, e.main.AuthID, e.secret)
		if sub = checkSubAccountData(t, c, s.AuthID, "changed_fields"); !slices.Contains(jsonStrings(eventData(c)["changed_fields"]), "enabled") || sub["enabled"] != false {
			t.Errorf("disable: updated data %v", eventData(c))
		}
		c = onlyEvent(t, calls, "subaccount.disabled")
		checkCall(t, c, e.main.AuthID, e.secret)
		if sub = checkSubAccountData(t, c, s.AuthID); sub["enabled"] != false || sub["is_active"] != false {
			t.Errorf("disabled: sub_account %v", sub)
		}

		// Enable: updated + enabled.
		n = len(rc.got())
		e.do(t, "PUT", item, jsonBody(map[string]any{"enabled": true}), pair(e.main)).want(t, 200)
		e.deliver(t)
		calls = rc.since(n)
		if len(calls) != 2 {
			t.Fatalf("enable: %d deliveries, want 2", len(calls))
		}
		checkCall(t, onlyEvent(t, calls, "subaccount.updated"), e.main.AuthID, e.secret)
		c = onlyEvent(t, calls, "subaccount.enabled")
		checkCall(t, c, e.main.AuthID, e.secret)
		if sub = checkSubAccountData(t, c, s.AuthID); sub["enabled"] != true {
			t.Errorf("enabled: sub_account %v", sub)
		}

		// Rotate: credential.rotated {auth_id, previous_token_expires_at}.
		n = len(rc.got())
		rot := e.do(t, "POST", item+"/rotate-token", jsonBody(map[string]any{"grace_seconds": 3600}), pair(e.main)).want(t, 200)
		e.deliver(t)
		calls = rc.since(n)
		c = onlyEvent(t, calls, "credential.rotated")
		checkCall(t, c, e.main.AuthID, e.secret)
		assertKeys(t, eventData(c), "auth_id", "previous_token_expires_at")
		if str(eventData(c), "auth_id") != s.AuthID || str(eventData(c), "previous_token_expires_at") != fmtTime(e.clock.Now().Add(time.Hour)) ||
			str(eventData(c), "previous_token_expires_at") != rot.str("previous_token_expires_at") {
			t.Errorf("credential.rotated data %v (rotation answered %v)", eventData(c), rot.Obj)
		}
		if strings.Contains(string(c.Body), rot.str("auth_token")) || strings.Contains(string(c.Body), s.Token) {
			t.Errorf("credential.rotated carries a token: %s", c.Body)
		}
		// grace 0: previous_token_expires_at null.
		n = len(rc.got())
		e.do(t, "POST", item+"/rotate-token", jsonBody(map[string]any{"grace_seconds": 0}), pair(e.main)).want(t, 200)
		e.deliver(t)
		c = onlyEvent(t, rc.since(n), "credential.rotated")
		if v, ok := eventData(c)["previous_token_expires_at"]; !ok || v != nil {
			t.Errorf("credential.rotated with grace 0: data %v, want previous_token_expires_at null", eventData(c))
		}
		// The main account's own rotation is an event of its tenant too.
		n = len(rc.got())
		own := e.do(t, "POST", "/api/v1/auth-token/rotate", jsonBody(map[string]any{"grace_seconds": 600}), pair(e.main)).want(t, 200)
		e.main.Token = own.str("auth_token")
		e.deliver(t)
		if c = onlyEvent(t, rc.since(n), "credential.rotated"); str(eventData(c), "auth_id") != e.main.AuthID {
			t.Errorf("own rotation: data %v", eventData(c))
		}

		// Delete with cascade: subaccount.deleted {sub_account_id, cascade}.
		n = len(rc.got())
		e.do(t, "DELETE", item+"?cascade=true", noBody, pair(e.main)).want(t, 200)
		e.deliver(t)
		c = onlyEvent(t, rc.since(n), "subaccount.deleted")
		checkCall(t, c, e.main.AuthID, e.secret)
		assertKeys(t, eventData(c), "sub_account_id", "cascade")
		if str(eventData(c), "sub_account_id") != s.AuthID || eventData(c)["cascade"] != true {
			t.Errorf("deleted data %v", eventData(c))
		}
		s2 := e.createSub(t, map[string]any{"name": "plain delete"})
		e.do(t, "DELETE", subPath(e.main.AuthID, s2.AuthID), noBody, pair(e.main)).want(t, 200)
		e.deliver(t)
		if got := byEvent(rc.got(), "subaccount.deleted"); len(got) != 2 || eventData(got[1])["cascade"] != false {
			t.Errorf("delete without cascade: %d deletions, last data %v", len(got), eventData(got[len(got)-1]))
		}

		// Every event id is unique; every delivery is in the log as succeeded
		// with one attempt.
		all := rc.got()
		ids := map[string]bool{}
		for _, c := range all {
			if ids[c.EventID] {
				t.Errorf("event id %s delivered twice", c.EventID)
			}
			ids[c.EventID] = true
		}
		l := e.deliveries(t, url.Values{"size": {"100"}})
		assertKeys(t, l.Obj, deliveryPage...)
		if int(num(l.Obj, "total")) != len(all) {
			t.Errorf("delivery log total %v, receiver got %d", l.Obj["total"], len(all))
		}
		for _, x := range l.list("deliveries") {
			d, _ := x.(map[string]any)
			assertKeys(t, d, deliveryKeys...)
			at, _ := d["attempts"].([]any)
			if str(d, "status") != "succeeded" || len(at) != 1 || d["next_attempt_at"] != nil || !ids[str(d, "event_id")] ||
				str(d, "url") != rc.URL() || !deliveryIDPattern.MatchString(str(d, "id")) {
				t.Errorf("delivery %v", d)
				continue
			}
			a, _ := at[0].(map[string]any)
			assertKeys(t, a, attemptKeys...)
			if num(a, "status_code") != 204 || a["error"] != nil || num(a, "duration_ms") < 0 {
				t.Errorf("successful attempt %v", a)
			}
			checkTime(t, "attempt at", a["at"])
		}

		// Rotating the secret: shown once, the hint follows, the next delivery
		// is signed with the new secret and the old one no longer verifies.
		r = e.do(t, "POST", wh+"/rotate-secret", noBody, pair(e.main)).want(t, 200)
		assertKeys(t, r.Obj, "webhook_secret")
		fresh := r.str("webhook_secret")
		if !whsecPattern.MatchString(fresh) || fresh == e.secret {
			t.Fatalf("rotate-secret answered %v", r.Obj)
		}
		if g := e.do(t, "GET", wh, noBody, pair(e.main)); g.str("secret_hint") != secretHint(fresh) || strings.Contains(string(g.Body), fresh) {
			t.Errorf("hint after rotation %v, want %s", g.Obj, secretHint(fresh))
		}
		rc.setSecret(fresh)
		n = len(rc.got())
		s3 := e.createSub(t, map[string]any{"name": "after rotation"})
		e.deliver(t)
		c = onlyEvent(t, rc.since(n), "subaccount.created")
		checkCall(t, c, e.main.AuthID, fresh)
		checkSubAccountData(t, c, s3.AuthID)
		if webhook.Verify(e.secret, c.Body, c.Signature) {
			t.Errorf("the old secret still verifies a delivery after rotate-secret")
		}
		// An event queued before a rotation and sent after it is signed with
		// the secret in force when it is sent.
		n = len(rc.got())
		e.createSub(t, map[string]any{"name": "queued before rotation"})
		r = e.do(t, "POST", wh+"/rotate-secret", noBody, pair(e.main)).want(t, 200)
		third := r.str("webhook_secret")
		rc.setSecret(third)
		e.deliver(t)
		c = onlyEvent(t, rc.since(n), "subaccount.created")
		checkCall(t, c, e.main.AuthID, third)
		if webhook.Verify(fresh, c.Body, c.Signature) {
			t.Errorf("a delivery sent after rotate-secret verifies under the previous secret")
		}

		// The webhook changes are audited, without any secret.
		recs, raw := auditAll(t, e.env, "/api/v1/accounts/"+e.main.AuthID+"/audit-log", url.Values{"action": {"webhook."}}, 200, pair(e.main))
		if got := auditActions(recs); !slices.Equal(got, []string{"webhook.rotate_secret", "webhook.rotate_secret", "webhook.update"}) {
			t.Errorf("webhook audit records %v", got)
		}
		for _, sec := range []string{e.secret, fresh, third, "whsec_"} {
			if strings.Contains(string(raw), sec) {
				t.Errorf("the audit log contains a webhook secret")
			}
		}
	})
}

func TestWebhookRetries(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newHookEnv(t, dsn, hookOpts{envOpts: envOpts{Admin: true, Dev: true}})
		rc := newReceiver(t, e.secret)
		e.do(t, "PUT", webhookPath(e.main.AuthID), jsonBody(map[string]any{"url": rc.URL(), "events": []string{"subaccount.created"}}), pair(e.main)).want(t, 200)

		// The first attempt fails: pending, one attempt, next in 1 min.
		rc.setFail(1, false)
		t0 := e.svc.Clock().Now()
		e.createSub(t, map[string]any{"name": "flaky receiver"})
		e.deliver(t)
		l := e.deliveries(t, nil)
		if num(l.Obj, "total") != 1 {
			t.Fatalf("deliveries %s", l.Body)
		}
		d, _ := l.list("deliveries")[0].(map[string]any)
		assertKeys(t, d, deliveryKeys...)
		id := str(d, "id")
		attempts, _ := d["attempts"].([]any)
		if str(d, "status") != "pending" || len(attempts) != 1 || str(d, "next_attempt_at") != fmtTime(t0.Add(time.Minute)) {
			t.Fatalf("after a failed attempt: %v, want pending, 1 attempt, next %s", d, fmtTime(t0.Add(time.Minute)))
		}
		a, _ := attempts[0].(map[string]any)
		assertKeys(t, a, attemptKeys...)
		if str(a, "at") != fmtTime(t0) || num(a, "status_code") != 500 || str(a, "error") != "status 500" || num(a, "duration_ms") < 0 {
			t.Errorf("failed attempt %v", a)
		}
		if str(d, "created_at") != fmtTime(t0) || str(d, "updated_at") != fmtTime(t0) {
			t.Errorf("created_at/updated_at %v/%v, want %s", d["created_at"], d["updated_at"], fmtTime(t0))
		}
		// Another pass before it is due attempts nothing.
		e.deliver(t)
		e.advance(t, 59)
		if got := len(rc.got()); got != 1 {
			t.Errorf("%d attempts 59 s after the first, want 1", got)
		}
		// 61 s after the first attempt it is delivered.
		e.advance(t, 2)
		calls := rc.got()
		if len(calls) != 2 || calls[0].EventID != calls[1].EventID || string(calls[0].Body) != string(calls[1].Body) {
			t.Fatalf("after 61 s: %d calls (the retry must carry the same event and body)", len(calls))
		}
		checkCall(t, calls[1], e.main.AuthID, e.secret)
		l = e.deliveries(t, url.Values{"event_id": {calls[0].EventID}})
		d, _ = l.list("deliveries")[0].(map[string]any)
		attempts, _ = d["attempts"].([]any)
		if str(d, "id") != id || str(d, "status") != "succeeded" || len(attempts) != 2 || d["next_attempt_at"] != nil {
			t.Errorf("after the retry: %v, want succeeded with 2 attempts", d)
		}
		if len(attempts) == 2 {
			a, _ := attempts[1].(map[string]any)
			if str(a, "at") != fmtTime(t0.Add(61*time.Second)) || num(a, "status_code") != 204 || a["error"] != nil {
				t.Errorf("second attempt %v", a)
			}
		}

		// A receiver that always fails: 1m, 5m, 30m, 2h, 6h, 12h, 24h, then failed.
		rc.setFail(0, true)
		n := len(rc.got())
		start := e.svc.Clock().Now()
		e.createSub(t, map[string]any{"name": "dead receiver"})
		e.advance(t, 1) // the first attempt
		l = e.deliveries(t, url.Values{"status": {"pending"}})
		if num(l.Obj, "total") != 1 {
			t.Fatalf("pending deliveries %s", l.Body)
		}
		d, _ = l.list("deliveries")[0].(map[string]any)
		deadID := str(d, "id")
		last := start.Add(time.Second)
		for i, wait := range []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour} {
			secs := int(wait / time.Second)
			e.advance(t, secs-1)
			if got := len(rc.since(n)); got != i+1 {
				t.Fatalf("a second before retry %d: %d attempts, want %d", i+1, got, i+1)
			}
			e.advance(t, 1)
			if got := len(rc.since(n)); got != i+2 {
				t.Fatalf("retry %d (after %v): %d attempts, want %d", i+1, wait, got, i+2)
			}
			last = last.Add(wait)
		}
		l = e.deliveries(t, url.Values{"status": {"failed"}})
		if num(l.Obj, "total") != 1 {
			t.Fatalf("failed deliveries %s", l.Body)
		}
		d, _ = l.list("deliveries")[0].(map[string]any)
		attempts, _ = d["attempts"].([]any)
		if str(d, "id") != deadID || len(attempts) != 8 || d["next_attempt_at"] != nil || str(d, "updated_at") != fmtTime(last) {
			t.Errorf("after 8 attempts: %v, want failed, 8 attempts, next null, updated %s", d, fmtTime(last))
		}
		want := start.Add(time.Second)
		for i, x := range attempts {
			a, _ := x.(map[string]any)
			if str(a, "at") != fmtTime(want) || num(a, "status_code") != 500 || str(a, "error") != "status 500" {
				t.Errorf("attempt %d: %v, want at %s status 500", i+1, a, fmtTime(want))
			}
			if i < 7 {
				want = want.Add([]time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}[i])
			}
		}
		// Nothing more happens by itself.
		e.advance(t, 7*24*3600)
		if got := len(rc.since(n)); got != 8 {
			t.Errorf("a failed delivery was attempted again by itself: %d attempts", got)
		}

		// Retry: 200 with the delivery pending, due now; the next pass attempts it.
		rc.setFail(0, false)
		r := e.do(t, "POST", deliveriesPath(e.main.AuthID)+"/"+deadID+"/retry", noBody, pair(e.main)).want(t, 200)
		assertKeys(t, r.Obj, deliveryKeys...)
		now := e.svc.Clock().Now()
		if r.str("id") != deadID || r.str("status") != "pending" || r.str("next_attempt_at") != fmtTime(now) || len(r.list("attempts")) != 8 {
			t.Errorf("retry answered %v, want pending, next %s, 8 attempts", r.Obj, fmtTime(now))
		}
		e.deliver(t)
		l = e.deliveries(t, url.Values{"event_id": {str(d, "event_id")}})
		d, _ = l.list("deliveries")[0].(map[string]any)
		attempts, _ = d["attempts"].([]any)
		if str(d, "status") != "succeeded" || len(attempts) != 9 || len(rc.since(n)) != 9 {
			t.Errorf("after retry and a pass: %v, want succeeded with 9 attempts", d)
		}

		// Unknown and malformed delivery ids → 404.
		for _, bad := range []string{"dlv_00000000-0000-0000-0000-000000000000", "nope", deadID + "x"} {
			e.do(t, "POST", deliveriesPath(e.main.AuthID)+"/"+bad+"/retry", noBody, pair(e.main)).checkErr(t, 404, "not_found", "retry "+bad)
		}
	})
}

func TestWebhookSubscriptionsAndLog(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newHookEnv(t, dsn, hookOpts{envOpts: envOpts{Admin: true, Dev: true}})
		rc := newReceiver(t, e.secret)
		wh := webhookPath(e.main.AuthID)

		// Only subaccount.deleted: creations and updates are not queued.
		r := e.do(t, "PUT", wh, jsonBody(map[string]any{"url": rc.URL(), "events": []string{"subaccount.deleted"}}), pair(e.main)).want(t, 200)
		if fmt.Sprint(r.Obj["events"]) != "[subaccount.deleted]" {
			t.Errorf("events %v", r.Obj["events"])
		}
		s := e.createSub(t, map[string]any{"name": "unsubscribed"})
		item := subPath(e.main.AuthID, s.AuthID)
		e.do(t, "PUT", item, jsonBody(map[string]any{"enabled": false}), pair(e.main)).want(t, 200)
		e.do(t, "POST", item+"/rotate-token", noBody, pair(e.main)).want(t, 200)
		if l := e.deliveries(t, nil); num(l.Obj, "total") != 0 {
			t.Errorf("unsubscribed events were queued: %s", l.Body)
		}
		e.do(t, "DELETE", item, noBody, pair(e.main)).want(t, 200)
		e.deliver(t)
		if got := rc.got(); len(got) != 1 || got[0].Event != "subaccount.deleted" {
			t.Errorf("receiver got %d calls, want only subaccount.deleted", len(got))
		}
		// Events stay when only the URL is changed; bad event names → 400.
		r = e.do(t, "PUT", wh, jsonBody(map[string]any{"url": rc.URL() + "?v=2"}), pair(e.main)).want(t, 200)
		if fmt.Sprint(r.Obj["events"]) != "[subaccount.deleted]" {
			t.Errorf("events after changing only the URL: %v", r.Obj["events"])
		}
		for _, b := range []map[string]any{{"events": []string{"subaccount.exploded"}}, {"events": []string{}}, {"events": "*"}, {"url": 5}} {
			checkErrorBody(t, fmt.Sprintf("PUT webhook %v", b), e.do(t, "PUT", wh, jsonBody(b), pair(e.main)), 400, "validation_error")
		}

		// Delivery log: filters, paging, newest first.
		e.do(t, "PUT", wh, jsonBody(map[string]any{"url": rc.URL(), "events": []string{"subaccount.created", "subaccount.updated"}}), pair(e.main)).want(t, 200)
		var subs []created
		for i := 0; i < 4; i++ {
			e.clock.Advance(time.Second)
			subs = append(subs, e.createSub(t, map[string]any{"name": fmt.Sprintf("log %d", i)}))
		}
		e.clock.Advance(time.Second)
		e.do(t, "PUT", subPath(e.main.AuthID, subs[0].AuthID), jsonBody(map[string]any{"name": "log 0 renamed"}), pair(e.main)).want(t, 200)
		e.deliver(t)
		rc.setFail(0, true)
		e.clock.Advance(time.Second)
		e.createSub(t, map[string]any{"name": "fails"})
		e.deliver(t)

		count := func(q url.Values) int {
			t.Helper()
			return int(num(e.deliveries(t, q).Obj, "total"))
		}
		for _, c := range []struct {
			q    url.Values
			want int
		}{
			{nil, 7},
			{url.Values{"event": {"subaccount.created"}}, 5},
			{url.Values{"event": {"subaccount.updated"}}, 1},
			{url.Values{"event": {"subaccount.deleted"}}, 1},
			{url.Values{"event": {"Subaccount.Created"}}, 0},
			{url.Values{"status": {"succeeded"}}, 6},
			{url.Values{"status": {"pending"}}, 1},
			{url.Values{"status": {"failed"}}, 0},
			{url.Values{"event": {"subaccount.created"}, "status": {"pending"}}, 1},
			{url.Values{"event_id": {rc.got()[0].EventID}}, 1},
			{url.Values{"event_id": {"evt_unknown"}}, 0},
		} {
			if got := count(c.q); got != c.want {
				t.Errorf("deliveries?%s: total %d, want %d", c.q.Encode(), got, c.want)
			}
		}
		checkErrorBody(t, "status=bogus", e.do(t, "GET", deliveriesPath(e.main.AuthID)+"?status=bogus", noBody, pair(e.main)), 400, "validation_error")
		checkErrorBody(t, "size=0", e.do(t, "GET", deliveriesPath(e.main.AuthID)+"?size=0", noBody, pair(e.main)), 400, "validation_error")
		checkErrorBody(t, "page=0", e.do(t, "GET", deliveriesPath(e.main.AuthID)+"?page=0", noBody, pair(e.main)), 400, "validation_error")

		// Default page size 20, clamped at 100.
		if l := e.deliveries(t, url.Values{"size": {"1000"}}); num(l.Obj, "size") != 100 || num(l.Obj, "page") != 1 {
			t.Errorf("size=1000: page %v size %v", l.Obj["page"], l.Obj["size"])
		}
		if l := e.deliveries(t, nil); num(l.Obj, "size") != 20 || num(l.Obj, "page") != 1 || len(l.list("deliveries")) != 7 {
			t.Errorf("default page: %v %v, %d items", l.Obj["page"], l.Obj["size"], len(l.list("deliveries")))
		}
		// Pages of 3 visit every delivery once, newest first.
		full := e.deliveries(t, nil).list("deliveries")
		var seen []string
		for p := 1; p <= 4; p++ {
			l := e.deliveries(t, url.Values{"page": {fmt.Sprint(p)}, "size": {"3"}})
			items := l.list("deliveries")
			wantLen := []int{3, 3, 1, 0}[p-1]
			if len(items) != wantLen || num(l.Obj, "total") != 7 || num(l.Obj, "page") != float64(p) || num(l.Obj, "size") != 3 {
				t.Errorf("page %d: %d items, %v", p, len(items), l.Obj)
			}
			for _, x := range items {
				seen = append(seen, str(x.(map[string]any), "id"))
			}
		}
		var fullIDs []string
		prev := ""
		for _, x := range full {
			d := x.(map[string]any)
			fullIDs = append(fullIDs, str(d, "id"))
			if prev != "" && str(d, "created_at") > prev {
				t.Errorf("delivery log not newest first: %v after %v", d["created_at"], prev)
			}
			prev = str(d, "created_at")
		}
		if !slices.Equal(seen, fullIDs) {
			t.Errorf("paged ids %v, want %v", seen, fullIDs)
		}

		// Another tenant: its own empty log; A's delivery ids are 404 for it.
		b := e.newMain(t, "Tenant B", nil)
		if l := e.do(t, "GET", deliveriesPath(b.AuthID)+"?event_id="+rc.got()[0].EventID, noBody, pair(b)).want(t, 200); num(l.Obj, "total") != 0 {
			t.Errorf("tenant B sees A's deliveries: %s", l.Body)
		}
		e.do(t, "POST", deliveriesPath(b.AuthID)+"/"+fullIDs[0]+"/retry", noBody, pair(b)).checkErr(t, 404, "not_found", "B retries A's delivery")
		e.do(t, "POST", deliveriesPath(e.main.AuthID)+"/"+fullIDs[0]+"/retry", noBody, pair(b)).checkErr(t, 404, "not_found", "B on A's path")
		e.do(t, "GET", deliveriesPath(e.main.AuthID), noBody, pair(b)).checkErr(t, 404, "not_found", "B lists A's log")
		e.do(t, "GET", webhookPath(e.main.AuthID), noBody, pair(b)).checkErr(t, 404, "not_found", "B reads A's webhook")
		e.do(t, "PUT", webhookPath(e.main.AuthID), jsonBody(map[string]any{"url": nil}), pair(b)).checkErr(t, 404, "not_found", "B sets A's webhook")
		e.do(t, "POST", webhookPath(e.main.AuthID)+"/rotate-secret", noBody, pair(b)).checkErr(t, 404, "not_found", "B rotates A's secret")
		// Sub-account credentials → 403 on every webhook route.
		s2 := e.createSub(t, map[string]any{"name": "nosy"})
		for _, c := range []struct{ m, p string }{{"GET", wh}, {"PUT", wh}, {"POST", wh + "/rotate-secret"},
			{"GET", deliveriesPath(e.main.AuthID)}, {"POST", deliveriesPath(e.main.AuthID) + "/" + fullIDs[0] + "/retry"}} {
			e.do(t, c.m, c.p, jsonBody(map[string]any{}), pair(s2.account)).checkErr(t, 403, "forbidden", "sub-account "+c.m+" "+c.p)
		}
		// A's delivery is unchanged by B's attempt.
		if l := e.deliveries(t, url.Values{"status": {"pending"}}); num(l.Obj, "total") != 2 {
			t.Errorf("pending after the foreign retry: %s", l.Body)
		}

		// url null removes the endpoint: nothing more is queued.
		r = e.do(t, "PUT", wh, jsonBody(map[string]any{"url": nil}), pair(e.main)).want(t, 200)
		if v, ok := r.Obj["url"]; !ok || v != nil {
			t.Errorf("url after null: %v", r.Obj)
		}
		before := count(nil)
		e.createSub(t, map[string]any{"name": "after removal"})
		if got := count(nil); got != before {
			t.Errorf("queued after the URL was removed: %d → %d", before, got)
		}
	})
}

func TestWebhookURLValidation(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newHookEnv(t, dsn, hookOpts{StrictURLs: true})
		wh := webhookPath(e.main.AuthID)
		for _, u := range []string{
			"http://127.0.0.1:9/hook", "https://127.0.0.1/hook", "https://10.0.0.1/hook", "https://192.168.1.20/x",
			"https://169.254.169.254/latest/meta-data", "https://[::1]/hook", "https://localhost/hook",
			"http://hooks.example.com/plain-http", "ftp://hooks.example.com/", "not a url", "/relative",
		} {
			r := e.do(t, "PUT", wh, jsonBody(map[string]any{"url": u}), pair(e.main))
			checkErrorBody(t, "PUT webhook "+u, r, 400, "validation_error")
			if r.Status == 400 && !r.hasDetail("url", "") {
				t.Errorf("PUT webhook %s: details %v, want field url", u, r.Obj["details"])
			}
		}
		if g := e.do(t, "GET", wh, noBody, pair(e.main)).want(t, 200); g.Obj["url"] != nil {
			t.Errorf("a refused URL was stored: %v", g.Obj)
		}
		r := e.do(t, "PUT", wh, jsonBody(map[string]any{"url": "https://hooks.example.com/switchboard"}), pair(e.main)).want(t, 200)
		if r.str("url") != "https://hooks.example.com/switchboard" {
			t.Errorf("public https URL: %v", r.Obj)
		}
	})
}

// auditPage fetches one page of an audit log.
func auditPage(t *testing.T, e *env, path string, q url.Values, opts ...reqOpt) *resp {
	t.Helper()
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return e.do(t, "GET", path, noBody, opts...).want(t, 200)
}

// auditAll follows next_cursor with pages of limit and returns every record
// and the raw bodies.
func auditAll(t *testing.T, e *env, path string, q url.Values, limit int, opts ...reqOpt) ([]map[string]any, []byte) {
	t.Helper()
	var out []map[string]any
	var raw []byte
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("audit paging does not end")
		}
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		qq.Set("limit", fmt.Sprint(limit))
		if cursor != "" {
			qq.Set("cursor", cursor)
		}
		r := auditPage(t, e, path, qq, opts...)
		assertKeys(t, r.Obj, "events", "next_cursor")
		raw = append(raw, r.Body...)
		evs := r.list("events")
		if len(evs) > limit {
			t.Errorf("page of %d records with limit %d", len(evs), limit)
		}
		for _, x := range evs {
			m, _ := x.(map[string]any)
			out = append(out, m)
		}
		next, _ := r.Obj["next_cursor"].(string)
		if next == "" {
			if r.Obj["next_cursor"] != nil {
				t.Errorf("next_cursor %#v, want a string or null", r.Obj["next_cursor"])
			}
			return out, raw
		}
		if len(evs) != limit {
			t.Errorf("a page of %d records (limit %d) has a next_cursor", len(evs), limit)
		}
		cursor = next
	}
}

func auditActions(recs []map[string]any) []string {
	var out []string
	for _, r := range recs {
		a := str(r, "action")
		if o := str(r, "outcome"); o != "success" {
			a += "(" + o + ")"
		}
		out = append(out, a)
	}
	return out
}

func findAudit(recs []map[string]any, action, outcome string) map[string]any {
	for _, r := range recs {
		if str(r, "action") == action && str(r, "outcome") == outcome {
			return r
		}
	}
	return nil
}

// recomputeHash is the §10.1 hash of a record as the API shows it.
func recomputeHash(t *testing.T, rec map[string]any) string {
	t.Helper()
	c := map[string]any{}
	for k, v := range rec {
		if k != "hash" {
			c[k] = v
		}
	}
	b, err := json.Marshal(c) // maps encode with sorted keys, no white space
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(append([]byte(str(rec, "prev_hash")), b...))
	return hex.EncodeToString(h[:])
}

func TestAuditLogHTTP(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{Admin: true})
		A := e.main
		B := e.newMain(t, "Tenant B", nil)
		const pw = "audit password 123"
		step := func() time.Time { e.clock.Advance(time.Minute); return e.clock.Now() }
		rid := func(id string) reqOpt { return hdr("X-Request-Id", id) }

		t1 := step()
		s1 := e.createSub(t, map[string]any{"name": "one", "email": "one@example.com", "password": pw})
		t2 := step()
		e.do(t, "PUT", subPath(A.AuthID, s1.AuthID), jsonBody(map[string]any{"name": "uno", "rate_limit": 50}), pair(A), rid("req-update-1")).want(t, 200)
		t3 := step()
		s2 := e.createSub(t, map[string]any{"name": "two"})
		t4 := step()
		rot := e.do(t, "POST", subPath(A.AuthID, s2.AuthID)+"/rotate-token", jsonBody(map[string]any{"grace_seconds": 60}), pair(A)).want(t, 200)
		t5 := step()
		e.do(t, "PUT", subPath(A.AuthID, s2.AuthID), jsonBody(map[string]any{"name": "mine now"}), pair(s1.account), rid("req-denied-sub")).checkErr(t, 403, "forbidden", "sub-account on a parent route")
		t6 := step()
		e.do(t, "PUT", subPath(B.AuthID, s2.AuthID), jsonBody(map[string]any{"name": "hijack"}), pair(B)).checkErr(t, 404, "not_found", "B on A's sub-account via its own path")
		e.do(t, "DELETE", subPath(A.AuthID, s2.AuthID), noBody, pair(B)).checkErr(t, 404, "not_found", "B on A's path")
		sb1 := e.createSubOf(t, B, map[string]any{"name": "B's own"})
		t7 := step()
		e.do(t, "POST", "/api/v1/auth/login", jsonBody(map[string]any{"email": "one@example.com", "password": "wrong password!"})).checkErr(t, 401, "unauthorized", "failed login")
		t8 := step()
		login := e.do(t, "POST", "/api/v1/auth/login", jsonBody(map[string]any{"email": "one@example.com", "password": pw})).want(t, 200)
		t9 := step()
		e.do(t, "DELETE", subPath(A.AuthID, s1.AuthID), noBody, pair(A)).want(t, 200)
		// Reads are not recorded.
		e.do(t, "GET", subsPath(A.AuthID), noBody, pair(A)).want(t, 200)
		e.do(t, "GET", subPath(A.AuthID, s2.AuthID), noBody, pair(A)).want(t, 200)
		_ = []time.Time{t1, t3, t6, t8}

		// The whole tenant log, newest first, exact keys.
		logA := "/api/v1/accounts/" + A.AuthID + "/audit-log"
		recs, rawA := auditAll(t, e, logA, nil, 200, pair(A))
		wantActions := []string{"subaccount.delete", "auth.login", "auth.login(failed)", "subaccount.update(denied)",
			"credential.rotate", "subaccount.create", "subaccount.update", "subaccount.create", "account.bootstrap"}
		if got := auditActions(recs); !slices.Equal(got, wantActions) {
			t.Errorf("A's audit log %v, want %v", got, wantActions)
		}
		prevID := int64(1 << 62)
		for _, r := range recs {
			assertKeys(t, r, auditRecordKeys...)
			var id int64
			fmt.Sscan(str(r, "id"), &id)
			if !numIDPattern.MatchString(str(r, "id")) || id >= prevID {
				t.Errorf("record id %v not a decreasing decimal string (previous %d)", r["id"], prevID)
			}
			prevID = id
			checkTime(t, "occurred_at", r["occurred_at"])
			if str(r, "tenant_id") != A.AuthID {
				t.Errorf("A's log has a record of tenant %v: %v", r["tenant_id"], r)
			}
			if recomputeHash(t, r) != str(r, "hash") {
				t.Errorf("record %v: hash does not match SHA-256(prev_hash ‖ canonical JSON)", r["id"])
			}
		}

		upd := findAudit(recs, "subaccount.update", "success")
		if upd == nil {
			t.Fatalf("no subaccount.update record")
		}
		wantUpd := map[string]any{"actor_type": "account", "actor_id": A.AuthID, "actor_role": "parent", "tenant_id": A.AuthID,
			"target_type": "sub_account", "target_id": s1.AuthID, "status_code": 200.0, "source_ip": "127.0.0.1",
			"request_id": "req-update-1", "reason": nil, "occurred_at": fmtTime(t2)}
		for k, v := range wantUpd {
			if upd[k] != v {
				t.Errorf("subaccount.update %s = %#v, want %#v", k, upd[k], v)
			}
		}
		if got, _ := json.Marshal(upd["changes"]); string(got) != `{"name":{"after":"uno","before":"one"},"rate_limit":{"after":50,"before":1000}}` {
			t.Errorf("subaccount.update changes %s", got)
		}
		den := findAudit(recs, "subaccount.update", "denied")
		if den == nil || str(den, "actor_id") != s1.AuthID || str(den, "target_id") != s2.AuthID || num(den, "status_code") != 403 ||
			str(den, "request_id") != "req-denied-sub" || den["reason"] == nil || str(den, "occurred_at") != fmtTime(t5) {
			t.Errorf("denied record by the sub-account: %v", den)
		}
		if f := findAudit(recs, "auth.login", "failed"); f == nil || str(f, "target_id") != s1.AuthID || num(f, "status_code") != 401 || str(f, "occurred_at") != fmtTime(t7) {
			t.Errorf("failed login record: %v", f)
		}
		if r := findAudit(recs, "credential.rotate", "success"); r == nil || str(r, "target_id") != s2.AuthID || str(r, "occurred_at") != fmtTime(t4) {
			t.Errorf("rotation record: %v", r)
		}
		if r := findAudit(recs, "subaccount.delete", "success"); r == nil || str(r, "target_id") != s1.AuthID || str(r, "occurred_at") != fmtTime(t9) {
			t.Errorf("delete record: %v", r)
		}

		// Filters.
		count := func(q url.Values) []string {
			t.Helper()
			got, _ := auditAll(t, e, logA, q, 200, pair(A))
			return auditActions(got)
		}
		for _, c := range []struct {
			q    url.Values
			want []string
		}{
			{url.Values{"action": {"subaccount.update"}}, []string{"subaccount.update(denied)", "subaccount.update"}},
			{url.Values{"action": {"subaccount."}}, []string{"subaccount.delete", "subaccount.update(denied)", "subaccount.create", "subaccount.update", "subaccount.create"}},
			{url.Values{"action": {"subaccount"}}, nil},
			{url.Values{"action": {"SUBACCOUNT."}}, nil},
			{url.Values{"action": {"auth."}}, []string{"auth.login", "auth.login(failed)"}},
			{url.Values{"actor_id": {s1.AuthID}}, []string{"auth.login", "auth.login(failed)", "subaccount.update(denied)"}},
			{url.Values{"target_id": {s2.AuthID}}, []string{"subaccount.update(denied)", "credential.rotate", "subaccount.create"}},
			{url.Values{"outcome": {"denied"}}, []string{"subaccount.update(denied)"}},
			{url.Values{"outcome": {"failed"}}, []string{"auth.login(failed)"}},
			{url.Values{"from": {fmtTime(t4)}, "to": {fmtTime(t7)}}, []string{"auth.login(failed)", "subaccount.update(denied)", "credential.rotate"}},
			{url.Values{"from": {t9.Add(time.Second).Format(time.RFC3339)}}, nil},
			{url.Values{"to": {t2.Add(-time.Microsecond).Format(time.RFC3339Nano)}}, []string{"subaccount.create", "account.bootstrap"}},
			{url.Values{"action": {"subaccount."}, "outcome": {"success"}, "target_id": {s1.AuthID}}, []string{"subaccount.delete", "subaccount.update", "subaccount.create"}},
		} {
			if got := count(c.q); !slices.Equal(got, c.want) {
				t.Errorf("audit-log?%s: %v, want %v", c.q.Encode(), got, c.want)
			}
		}
		for _, q := range []string{"outcome=bogus", "from=yesterday", "limit=0", "cursor=not-a-cursor"} {
			checkErrorBody(t, "audit-log?"+q, e.do(t, "GET", logA+"?"+q, noBody, pair(A)), 400, "validation_error")
		}

		// Paging with limit visits every record exactly once, with a filter too.
		for _, c := range []struct {
			q     url.Values
			limit int
		}{{nil, 1}, {nil, 2}, {nil, 4}, {url.Values{"action": {"subaccount."}}, 2}} {
			paged, _ := auditAll(t, e, logA, c.q, c.limit, pair(A))
			full, _ := auditAll(t, e, logA, c.q, 200, pair(A))
			var a, b []string
			for _, r := range paged {
				a = append(a, str(r, "id"))
			}
			for _, r := range full {
				b = append(b, str(r, "id"))
			}
			if !slices.Equal(a, b) {
				t.Errorf("paging ?%s limit %d: ids %v, want %v", c.q.Encode(), c.limit, a, b)
			}
		}
		if r := auditPage(t, e, logA, nil, pair(A)); len(r.list("events")) != len(recs) || r.Obj["next_cursor"] != nil {
			t.Errorf("default limit: %d records, next %v", len(r.list("events")), r.Obj["next_cursor"])
		}

		// Tenant B sees only its own records, including its refused attempts
		// on A's sub-account with the target as sent.
		logB := "/api/v1/accounts/" + B.AuthID + "/audit-log"
		recsB, rawB := auditAll(t, e, logB, nil, 200, pair(B))
		for _, r := range recsB {
			if str(r, "tenant_id") != B.AuthID {
				t.Errorf("B's log has a record of tenant %v", r["tenant_id"])
			}
		}
		var deniedB []map[string]any
		for _, r := range recsB {
			if str(r, "outcome") == "denied" {
				deniedB = append(deniedB, r)
			}
		}
		if len(deniedB) != 2 {
			t.Errorf("B's denied records: %v, want 2", auditActions(recsB))
		}
		for _, r := range deniedB {
			if str(r, "actor_id") != B.AuthID || str(r, "target_id") != s2.AuthID || num(r, "status_code") != 404 || str(r, "occurred_at") != fmtTime(t6) {
				t.Errorf("B's denied record %v", r)
			}
		}
		if findAudit(recsB, "subaccount.create", "success") == nil || findAudit(recsB, "subaccount.create", "success")["target_id"] != sb1.AuthID {
			t.Errorf("B's own create missing: %v", auditActions(recsB))
		}
		e.do(t, "GET", logA, noBody, pair(B)).checkErr(t, 404, "not_found", "B reads A's audit log")
		e.do(t, "GET", logA, noBody, pair(account{s2.AuthID, rot.str("auth_token")})).checkErr(t, 403, "forbidden", "a sub-account reads the audit log")
		e.do(t, "GET", logA, noBody).checkErr(t, 401, "unauthorized", "no credentials")
		e.do(t, "GET", logA, noBody, e.adminAuth()).checkErr(t, 401, "unauthorized", "operator token on the tenant route")

		// Operator: all tenants, tenant_id filter.
		const adminLog = "/api/v1/admin/audit-log"
		all, rawAll := auditAll(t, e, adminLog, nil, 3, e.adminAuth())
		tenants := map[string]int{}
		for _, r := range all {
			assertKeys(t, r, auditRecordKeys...)
			tenants[str(r, "tenant_id")]++
		}
		if tenants[A.AuthID] != len(recs) || tenants[B.AuthID] != len(recsB) {
			t.Errorf("operator log per tenant %v, want %d of A and %d of B", tenants, len(recs), len(recsB))
		}
		if onlyB, _ := auditAll(t, e, adminLog, url.Values{"tenant_id": {B.AuthID}}, 200, e.adminAuth()); len(onlyB) != len(recsB) {
			t.Errorf("operator tenant_id=B: %d records, want %d", len(onlyB), len(recsB))
		}
		if den, _ := auditAll(t, e, adminLog, url.Values{"outcome": {"denied"}}, 200, e.adminAuth()); len(den) != 3 {
			t.Errorf("operator outcome=denied: %v, want 3", auditActions(den))
		}
		e.do(t, "GET", adminLog, noBody, pair(A)).checkErr(t, 401, "unauthorized", "account credentials on the operator log")
		// One global chain: every record links to the one before it.
		for i, r := range all {
			var wantPrev string
			if i+1 < len(all) {
				wantPrev = str(all[i+1], "hash")
			} else {
				wantPrev = strings.Repeat("0", 64)
				if str(r, "id") != "1" {
					t.Errorf("oldest record id %v, want 1", r["id"])
				}
			}
			if str(r, "prev_hash") != wantPrev {
				t.Errorf("record %v: prev_hash %v, want %s", r["id"], r["prev_hash"], wantPrev)
			}
			if recomputeHash(t, r) != str(r, "hash") {
				t.Errorf("record %v: hash mismatch", r["id"])
			}
		}

		// No secret in any record.
		secrets := map[string]string{"A token": A.Token, "B token": B.Token, "S1 token": s1.Token, "S2 token": s2.Token,
			"S2 rotated token": rot.str("auth_token"), "password": pw, "login access": login.str("access_token"),
			"login refresh": login.str("refresh_token"), "S1 access": s1.Access}
		for name, sec := range secrets {
			for _, raw := range [][]byte{rawA, rawB, rawAll} {
				if sec != "" && strings.Contains(string(raw), sec) {
					t.Errorf("the audit log contains the %s", name)
				}
			}
		}
		if strings.Contains(string(rawAll), "whsec_") {
			t.Errorf("the audit log contains a webhook secret")
		}

		// Verify: intact, then one stored row tampered with.
		v := e.do(t, "GET", adminLog+"/verify", noBody, e.adminAuth()).want(t, 200)
		assertKeys(t, v.Obj, "valid", "rows", "first_bad_id")
		if v.Obj["valid"] != true || int(num(v.Obj, "rows")) != len(all) || v.Obj["first_bad_id"] != nil {
			t.Errorf("verify %s, want valid, %d rows, first_bad_id null", v.Body, len(all))
		}
		e.do(t, "GET", adminLog+"/verify", noBody, pair(A)).checkErr(t, 401, "unauthorized", "verify with account credentials")

		db := e.rawDB(t)
		if _, err := db.Exec(`UPDATE audit_log SET action = 'x' WHERE id = 3`); err != nil {
			t.Fatalf("tamper: %v", err)
		}
		v = e.do(t, "GET", adminLog+"/verify", noBody, e.adminAuth()).want(t, 200)
		if v.Obj["valid"] != false || v.str("first_bad_id") != "3" || int(num(v.Obj, "rows")) != len(all) {
			t.Errorf("verify after tampering with row 3: %s, want valid false, first_bad_id \"3\"", v.Body)
		}
		// New records still append after the damage; the first bad id stays.
		e.createSub(t, map[string]any{"name": "after tamper"})
		v = e.do(t, "GET", adminLog+"/verify", noBody, e.adminAuth()).want(t, 200)
		if v.Obj["valid"] != false || v.str("first_bad_id") != "3" || int(num(v.Obj, "rows")) != len(all)+1 {
			t.Errorf("verify after one more record: %s", v.Body)
		}
		// Put the value back: the chain is whole again. Then remove a row:
		// the next row's link no longer matches.
		var orig string
		for _, r := range all {
			if str(r, "id") == "3" {
				orig = str(r, "action")
			}
		}
		if _, err := db.Exec(`UPDATE audit_log SET action = $1 WHERE id = 3`, orig); err != nil {
			t.Fatalf("restore: %v", err)
		}
		if v = e.do(t, "GET", adminLog+"/verify", noBody, e.adminAuth()).want(t, 200); v.Obj["valid"] != true || v.Obj["first_bad_id"] != nil {
			t.Errorf("verify after restoring row 3: %s", v.Body)
		}
		if _, err := db.Exec(`DELETE FROM audit_log WHERE id = 5`); err != nil {
			t.Fatalf("delete row: %v", err)
		}
		v = e.do(t, "GET", adminLog+"/verify", noBody, e.adminAuth()).want(t, 200)
		if v.Obj["valid"] != false || v.str("first_bad_id") != "6" || int(num(v.Obj, "rows")) != len(all) {
			t.Errorf("verify after deleting row 5: %s, want valid false, first_bad_id \"6\"", v.Body)
		}
	})
}

func TestRateLimitBucketOfFive(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{Admin: true})
		s := e.createSub(t, map[string]any{"name": "five a minute", "rate_limit": 5})
		rl := func(r *resp) [3]string {
			return [3]string{r.Header.Get("X-RateLimit-Limit"), r.Header.Get("X-RateLimit-Remaining"), r.Header.Get("X-RateLimit-Reset")}
		}
		for i := 1; i <= 5; i++ {
			r := e.me(t, pair(s.account))
			r.check(t, 200, fmt.Sprintf("request %d", i))
			if want := [3]string{"5", fmt.Sprint(5 - i), fmt.Sprint(12 * i)}; rl(r) != want {
				t.Errorf("request %d headers %v, want %v", i, rl(r), want)
			}
		}
		r := e.me(t, pair(s.account))
		checkErrorBody(t, "6th request within a second", r, 429, "rate_limit_exceeded")
		if rl(r) != [3]string{"5", "0", "60"} || r.Header.Get("Retry-After") != "12" {
			t.Errorf("6th request: headers %v Retry-After %q, want [5 0 60] and 12", rl(r), r.Header.Get("Retry-After"))
		}
		// Every scheme of the account shares the bucket.
		e.me(t, bearer(s.Access)).checkErr(t, 429, "rate_limit_exceeded", "JWT while the bucket is empty")
		// 12 s refill one token: one request passes, the next is refused.
		e.clock.Advance(12 * time.Second)
		if r := e.me(t, basic(s.AuthID, s.Token)); r.check(t, 200, "after 12 s") && rl(r)[1] != "0" {
			t.Errorf("after 12 s: headers %v", rl(r))
		}
		if r := e.me(t, pair(s.account)); r.checkErr(t, 429, "rate_limit_exceeded", "second request after 12 s") {
			if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" || strings.HasPrefix(ra, "-") {
				t.Errorf("Retry-After %q, want ≥ 1", ra)
			}
		}

		// Errors of an authenticated account carry the headers: a 403 of the
		// sub-account on a parent route, a 429, a 400 and a 404 of the parent.
		e.clock.Advance(time.Minute)
		r = e.do(t, "GET", subsPath(e.main.AuthID), noBody, pair(s.account))
		if r.checkErr(t, 403, "forbidden", "sub-account on a parent route") && rl(r) != [3]string{"5", "4", "12"} {
			t.Errorf("403 headers %v", rl(r))
		}
		r = e.do(t, "PUT", subPath(e.main.AuthID, s.AuthID), jsonBody(map[string]any{"rate_limit": 0}), pair(e.main))
		if r.checkErr(t, 400, "validation_error", "bad rate_limit") && rl(r)[0] != "6000" {
			t.Errorf("400 headers %v", rl(r))
		}
		r = e.do(t, "DELETE", subPath(e.main.AuthID, "SA_ZZZZZZZZ"), noBody, pair(e.main))
		if r.checkErr(t, 404, "not_found", "unknown sub-account") && (rl(r)[0] != "6000" || rl(r)[1] == "" || rl(r)[2] == "") {
			t.Errorf("404 headers %v", rl(r))
		}
		// No headers without an authenticated account: bad credentials,
		// public routes, the operator, unknown paths.
		for what, r := range map[string]*resp{
			"bad token":    e.me(t, pair(account{s.AuthID, strings.Repeat("x", 40)})),
			"login":        e.do(t, "POST", "/api/v1/auth/login", jsonBody(map[string]any{"email": "nobody@example.com", "password": "whatever-123"})),
			"operator":     e.do(t, "GET", "/api/v1/admin/audit-log", noBody, e.adminAuth()),
			"unknown path": e.do(t, "GET", "/api/v1/nothing-here", noBody, pair(e.main)),
			"openapi":      e.do(t, "GET", "/openapi.json", noBody),
		} {
			if h := rl(r); h != [3]string{} {
				t.Errorf("%s (%d): rate-limit headers %v", what, r.Status, h)
			}
		}
	})
}

// Regression (found by this suite): a refused POST
// …/webhook-deliveries/{delivery_id}/retry is audited with target_id = the
// delivery id the caller sent, as the successful retry records it (§10.1),
// not the {auth_id} of the path.
// Actual: target_id "MA_…" (the caller's or the victim's account).
func TestAuditDeniedDeliveryRetryTarget(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newHookEnv(t, dsn, hookOpts{envOpts: envOpts{Admin: true, Dev: true}})
		rc := newReceiver(t, e.secret)
		e.do(t, "PUT", webhookPath(e.main.AuthID), jsonBody(map[string]any{"url": rc.URL()}), pair(e.main)).want(t, 200)
		e.createSub(t, map[string]any{"name": "has a delivery"})
		l := e.deliveries(t, nil)
		d, _ := l.list("deliveries")[0].(map[string]any)
		id := str(d, "id")

		b := e.newMain(t, "Tenant B", nil)
		e.do(t, "POST", deliveriesPath(b.AuthID)+"/"+id+"/retry", noBody, pair(b)).checkErr(t, 404, "not_found", "B retries A's delivery on its own path")
		e.do(t, "POST", deliveriesPath(e.main.AuthID)+"/"+id+"/retry", noBody, pair(b)).checkErr(t, 404, "not_found", "B retries A's delivery on A's path")
		recs, _ := auditAll(t, e.env, "/api/v1/accounts/"+b.AuthID+"/audit-log", url.Values{"action": {"webhook_delivery.retry"}}, 200, pair(b))
		if len(recs) != 2 {
			t.Fatalf("B's refused retries: %d records, want 2", len(recs))
		}
		for _, r := range recs {
			if str(r, "outcome") != "denied" || str(r, "tenant_id") != b.AuthID || str(r, "target_type") != "webhook_delivery" {
				t.Errorf("refused retry record %v", r)
			}
			if str(r, "target_id") != id {
				t.Errorf("refused retry recorded with target_id %q, want the delivery id sent, %q", str(r, "target_id"), id)
			}
		}
		// The successful retry names the delivery.
		e.do(t, "POST", deliveriesPath(e.main.AuthID)+"/"+id+"/retry", noBody, pair(e.main)).want(t, 200)
		ok, _ := auditAll(t, e.env, "/api/v1/accounts/"+e.main.AuthID+"/audit-log", url.Values{"action": {"webhook_delivery.retry"}}, 200, pair(e.main))
		if len(ok) != 1 || str(ok[0], "target_id") != id {
			t.Errorf("successful retry records %v", ok)
		}
	})
}

// Several workers (replicas) delivering at once never send one delivery
// twice and leave none behind.
func TestWebhookConcurrentWorkers(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		e := newHookEnv(t, dsn, hookOpts{envOpts: envOpts{Admin: true}})
		rc := newReceiver(t, e.secret)
		e.do(t, "PUT", webhookPath(e.main.AuthID), jsonBody(map[string]any{"url": rc.URL(), "events": []string{"subaccount.created"}}), pair(e.main)).want(t, 200)
		const n = 40
		for i := 0; i < n; i++ {
			e.createSub(t, map[string]any{"name": fmt.Sprintf("burst %d", i)})
		}
		errs := make(chan error, 8)
		for w := 0; w < 8; w++ {
			go func() {
				var err error
				for k := 0; k < 20 && err == nil; k++ {
					_, err = e.svc.DeliverDue(context.Background(), 3)
				}
				errs <- err
			}()
		}
		for w := 0; w < 8; w++ {
			if err := <-errs; err != nil {
				t.Errorf("worker: %v", err)
			}
		}
		e.deliver(t) // whatever a worker left (none expected)
		got := rc.got()
		seen := map[string]int{}
		for _, c := range got {
			seen[c.EventID]++
		}
		for id, k := range seen {
			if k != 1 {
				t.Errorf("event %s delivered %d times", id, k)
			}
		}
		if len(seen) != n {
			t.Errorf("%d distinct events delivered, want %d", len(seen), n)
		}
		if l := e.deliveries(t, url.Values{"status": {"succeeded"}}); num(l.Obj, "total") != n {
			t.Errorf("succeeded deliveries %v, want %d", l.Obj["total"], n)
		}
	})
}
