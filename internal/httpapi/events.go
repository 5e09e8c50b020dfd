package httpapi

import (
	"net/http"
	"strings"
	"time"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
)

// Audit log and webhook handlers (CONTRACT §10).

// auditFilter reads the §10.1 filters.
func auditFilter(r *http.Request) (app.AuditFilter, error) {
	q := r.URL.Query()
	var v sb.Validation
	f := app.AuditFilter{Action: q.Get("action"), ActorID: q.Get("actor_id"), TargetID: q.Get("target_id"),
		Outcome: q.Get("outcome"), TenantID: q.Get("tenant_id"), Limit: app.DefaultAuditLimit}
	for _, k := range []struct {
		key string
		dst **time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if s := q.Get(k.key); s != "" {
			t, err := sb.ParseTime(s)
			if err != nil {
				v.Add(k.key, sb.FieldInvalidFormat, "must be an RFC 3339 time")
				continue
			}
			*k.dst = &t
		}
	}
	if f.Outcome != "" && f.Outcome != sb.OutcomeSuccess && f.Outcome != sb.OutcomeDenied && f.Outcome != sb.OutcomeFailed {
		v.Add("outcome", sb.FieldInvalidValue, "must be success, denied or failed")
	}
	if q.Has("limit") {
		p, err := pageQuery(r, "size", app.DefaultAuditLimit, app.MaxAuditLimit)
		if err != nil {
			return f, err
		}
		f.Limit = p.Limit
	}
	if c := q.Get("cursor"); c != "" {
		id, err := app.DecodeCursor(c)
		if err != nil {
			return f, err
		}
		f.BeforeID = id
	}
	return f, v.Err()
}

// auditKeys is the order of an audit record's keys (CONTRACT §10.1).
var auditKeys = []string{"id", "occurred_at", "request_id", "actor_type", "actor_id", "actor_role", "tenant_id",
	"action", "target_type", "target_id", "outcome", "status_code", "source_ip", "changes", "reason", "prev_hash", "hash"}

func auditJSON(p *app.AuditPage) ordered {
	events := make([]ordered, 0, len(p.Records))
	for _, r := range p.Records {
		m := r.Object(true)
		rec := make(ordered, 0, 2*len(auditKeys))
		for _, k := range auditKeys {
			rec = append(rec, k, m[k])
		}
		events = append(events, rec)
	}
	return kv("events", events, "next_cursor", p.NextCursor)
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, c *call) error {
	f, err := auditFilter(r)
	if err != nil {
		return err
	}
	f.TenantID = ""
	p, err := s.svc.ListAudit(r.Context(), c.actor, c.param("auth_id"), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, auditJSON(p))
	return nil
}

func (s *Server) adminListAudit(w http.ResponseWriter, r *http.Request, c *call) error {
	f, err := auditFilter(r)
	if err != nil {
		return err
	}
	p, err := s.svc.AdminListAudit(r.Context(), c.actor, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, auditJSON(p))
	return nil
}

func (s *Server) adminVerifyAudit(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := s.svc.VerifyAudit(r.Context(), c.actor)
	if err != nil {
		return err
	}
	var bad any
	if v.FirstBadID != nil {
		bad = itoa(*v.FirstBadID)
	}
	writeJSON(w, http.StatusOK, kv("valid", v.Valid, "rows", v.Rows, "first_bad_id", bad))
	return nil
}

func webhookJSON(v *app.WebhookView) ordered {
	return kv("url", v.URL, "events", v.Events, "secret_hint", v.SecretHint)
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := s.svc.GetWebhook(r.Context(), c.actor, c.param("auth_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhookJSON(v))
	return nil
}

func (s *Server) putWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	o, err := readBody(r)
	if err != nil {
		return err
	}
	o.forUpdate()
	u := app.WebhookUpdate{URL: o.NullableString("url"), Events: o.Strings("events")}
	if err := o.Err(); err != nil {
		return err
	}
	v, err := s.svc.PutWebhook(r.Context(), c.actor, c.param("auth_id"), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhookJSON(v))
	return nil
}

func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, c *call) error {
	secret, err := s.svc.RotateWebhookSecret(r.Context(), c.actor, c.param("auth_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"webhook_secret": secret})
	return nil
}

func deliveryJSON(d *sb.Delivery) ordered {
	attempts := make([]ordered, 0, len(d.Attempts))
	for _, a := range d.Attempts {
		attempts = append(attempts, kv("at", jsonTime(a.At), "status_code", a.StatusCode, "error", a.Error,
			"duration_ms", a.DurationMS))
	}
	return kv("id", d.ID, "event_id", d.EventID, "event", d.Event, "url", d.URL, "status", d.Status,
		"attempts", attempts, "next_attempt_at", optTime(d.NextAttemptAt), "created_at", jsonTime(d.CreatedAt),
		"updated_at", jsonTime(d.UpdatedAt))
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := pageQuery(r, "size", 20, 100)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	status := q.Get("status")
	if status != "" && status != sb.DeliveryPending && status != sb.DeliverySucceeded && status != sb.DeliveryFailed {
		return sb.Invalid("status", sb.FieldInvalidValue, "must be pending, succeeded or failed")
	}
	res, err := s.svc.ListDeliveries(r.Context(), c.actor, c.param("auth_id"), app.DeliveryFilter{
		Event: q.Get("event"), EventID: q.Get("event_id"), Status: status, Offset: p.Offset, Limit: p.Limit})
	if err != nil {
		return err
	}
	items := make([]ordered, 0, len(res.Items))
	for _, d := range res.Items {
		items = append(items, deliveryJSON(d))
	}
	writeJSON(w, http.StatusOK, kv("deliveries", items, "total", res.Total, "page", p.Page, "size", p.Size))
	return nil
}

func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request, c *call) error {
	id := c.param("delivery_id")
	if !strings.HasPrefix(id, "dlv_") {
		return sb.Errorf(sb.ENotFound, "delivery not found")
	}
	d, err := s.svc.RetryDelivery(r.Context(), c.actor, c.param("auth_id"), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deliveryJSON(d))
	return nil
}
