package app

import (
	"context"
	"time"

	sb "github.com/switchboard-voice/switchboard"
)

// Sender delivers one webhook request; internal/webhook implements it with
// signing and SSRF-safe dialing. Keeping it an interface keeps HTTP out of
// the use cases.
type Sender interface {
	Send(ctx context.Context, url, secret, event, eventID string, body []byte, now time.Time) sb.DeliveryAttempt
}

// WebhookView is the §10.2 endpoint object.
type WebhookView struct {
	URL        *string
	Events     []string
	SecretHint string
}

func (s *Service) webhookView(ctx context.Context, tx Tx, mainID int64) (*WebhookView, error) {
	ep, err := tx.WebhookEndpoint(ctx, mainID)
	if err != nil {
		return nil, err
	}
	enc, err := tx.WebhookSecret(ctx, mainID)
	if err != nil {
		return nil, err
	}
	secret, err := open(s.key, enc)
	if err != nil {
		return nil, sb.Internal(err)
	}
	events := ep.Events
	if len(events) == 0 {
		events = []string{"*"}
	}
	return &WebhookView{URL: ep.URL, Events: events, SecretHint: secretHint(string(secret))}, nil
}

// secretHint shows the prefix and the last four characters of a secret.
func secretHint(secret string) string {
	if len(secret) < 4 {
		return sb.WebhookSecretPrefix + "…"
	}
	return sb.WebhookSecretPrefix + "…" + secret[len(secret)-4:]
}

// GetWebhook returns the caller's webhook endpoint. Errors: forbidden, not_found.
func (s *Service) GetWebhook(ctx context.Context, actor sb.Actor, pathAuthID string) (*WebhookView, error) {
	parent, err := parentOf(actor, pathAuthID)
	if err != nil {
		return nil, err
	}
	var v *WebhookView
	err = s.store.View(ctx, func(tx Tx) error {
		v, err = s.webhookView(ctx, tx, parent.ID)
		return err
	})
	return v, err
}

// WebhookUpdate is the body of PUT …/webhook.
type WebhookUpdate struct {
	URL    sb.Opt[*string]
	Events sb.Opt[[]string]
}

// PutWebhook sets the webhook URL (null removes it) and events.
// Errors: forbidden, not_found, validation_error.
func (s *Service) PutWebhook(ctx context.Context, actor sb.Actor, pathAuthID string, u WebhookUpdate) (*WebhookView, error) {
	parent, err := parentOf(actor, pathAuthID)
	if err != nil {
		return nil, err
	}
	var v sb.Validation
	if u.URL.Set && u.URL.V != nil && s.cfg.ValidateWebhookURL != nil {
		if err := s.cfg.ValidateWebhookURL(*u.URL.V); err != nil {
			v.Add("url", sb.FieldInvalidValue, err.Error())
		}
	}
	if u.Events.Set {
		if len(u.Events.V) == 0 {
			v.Add("events", sb.FieldRequired, "must list at least one event or \"*\"")
		}
		for i, e := range u.Events.V {
			if !sb.ValidEventName(e) {
				v.Add("events["+itoa(i)+"]", sb.FieldInvalidValue, "is not a known event")
			}
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var view *WebhookView
	err = s.update(ctx, actor, func(tx Tx, fx *effects) error {
		ep, err := tx.WebhookEndpoint(ctx, parent.ID)
		if err != nil {
			return err
		}
		next := ep
		if u.URL.Set {
			next.URL = u.URL.V
		}
		if u.Events.Set {
			next.Events = u.Events.V
		}
		if len(next.Events) == 0 {
			next.Events = []string{"*"}
		}
		if err := tx.SetWebhookEndpoint(ctx, parent.ID, next); err != nil {
			return err
		}
		fx.audit(parent.AuthID, "webhook.update", "webhook", parent.AuthID, 200, map[string]sb.Change{
			"url": {Before: ep.URL, After: next.URL}, "events": {Before: ep.Events, After: next.Events}})
		view, err = s.webhookView(ctx, tx, parent.ID)
		return err
	})
	return view, err
}

// RotateWebhookSecret issues a new signing secret, shown once; the old one
// stops signing at once. Errors: forbidden, not_found.
func (s *Service) RotateWebhookSecret(ctx context.Context, actor sb.Actor, pathAuthID string) (string, error) {
	parent, err := parentOf(actor, pathAuthID)
	if err != nil {
		return "", err
	}
	secret := sb.NewWebhookSecret()
	enc, err := seal(s.key, []byte(secret))
	if err != nil {
		return "", sb.Internal(err)
	}
	err = s.update(ctx, actor, func(tx Tx, fx *effects) error {
		if err := tx.SetWebhookSecret(ctx, parent.ID, enc); err != nil {
			return err
		}
		fx.audit(parent.AuthID, "webhook.rotate_secret", "webhook", parent.AuthID, 200, nil)
		return nil
	})
	return secret, err
}

// DeliveryPage is one page of the delivery log.
type DeliveryPage struct {
	Items []*sb.Delivery
	Total int
}

// ListDeliveries returns the caller's delivery log. Errors: forbidden, not_found.
func (s *Service) ListDeliveries(ctx context.Context, actor sb.Actor, pathAuthID string, f DeliveryFilter) (*DeliveryPage, error) {
	parent, err := parentOf(actor, pathAuthID)
	if err != nil {
		return nil, err
	}
	var p DeliveryPage
	err = s.store.View(ctx, func(tx Tx) error {
		p.Items, p.Total, err = tx.ListDeliveries(ctx, parent.ID, f)
		return err
	})
	return &p, err
}

// RetryDelivery queues one more attempt of a delivery now and returns it.
// Errors: forbidden, not_found.
func (s *Service) RetryDelivery(ctx context.Context, actor sb.Actor, pathAuthID, id string) (*sb.Delivery, error) {
	parent, err := parentOf(actor, pathAuthID)
	if err != nil {
		return nil, err
	}
	var d *sb.Delivery
	err = s.update(ctx, actor, func(tx Tx, fx *effects) error {
		if err := tx.RetryDelivery(ctx, parent.ID, id, fx.now); err != nil {
			return deliveryNotFound(err)
		}
		fx.audit(parent.AuthID, "webhook_delivery.retry", "webhook_delivery", id, 200, nil)
		d, err = tx.Delivery(ctx, parent.ID, id)
		return err
	})
	return d, err
}

func deliveryNotFound(err error) error {
	return notFoundAs(err, sb.Errorf(sb.ENotFound, "delivery not found"))
}

// deliveryLease is how long a claimed delivery is reserved for one worker.
const deliveryLease = time.Minute

// DeliverDue attempts up to limit due deliveries and returns how many it
// attempted. Each is leased in the database first, so concurrent workers
// and replicas never attempt the same delivery together.
func (s *Service) DeliverDue(ctx context.Context, limit int) (int, error) {
	if s.cfg.Sender == nil {
		return 0, nil
	}
	now := s.clock.Now()
	var due []*sb.Delivery
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		due, err = tx.ClaimDueDeliveries(ctx, now, now.Add(deliveryLease), limit)
		return err
	})
	if err != nil || len(due) == 0 {
		return 0, err
	}
	for _, d := range due {
		a := s.attempt(ctx, d)
		status, next := sb.DeliverySucceeded, (*time.Time)(nil)
		if a.Error != nil || a.StatusCode == nil || *a.StatusCode < 200 || *a.StatusCode > 299 {
			status = sb.DeliveryFailed
			if t, ok := sb.NextDeliveryAttempt(len(d.Attempts)+1, a.At); ok {
				status, next = sb.DeliveryPending, &t
			}
		}
		s.metrics.deliveries(status)
		err = s.store.Update(ctx, func(tx Tx) error {
			return tx.RecordDeliveryAttempt(ctx, d.ID, a, status, next, s.clock.Now())
		})
		if err != nil {
			return 0, err
		}
	}
	return len(due), nil
}

// deliverAll attempts every due delivery, in batches.
func (s *Service) deliverAll(ctx context.Context) {
	for {
		n, err := s.DeliverDue(ctx, 20)
		if err != nil {
			if ctx.Err() == nil {
				s.log.WarnContext(ctx, "webhook delivery pass failed", "err", err)
			}
			return
		}
		if n < 20 {
			return
		}
	}
}

// attempt sends one delivery, signed with its tenant's current secret. A
// secret that cannot be read (the server key changed) is recorded as a
// failed attempt, so the delivery follows the retry schedule instead of
// blocking the outbox.
func (s *Service) attempt(ctx context.Context, d *sb.Delivery) sb.DeliveryAttempt {
	var enc []byte
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		enc, err = tx.WebhookSecret(ctx, d.TenantID)
		return err
	})
	var secret []byte
	if err == nil {
		secret, err = open(s.key, enc)
	}
	if err != nil {
		s.log.WarnContext(ctx, "webhook secret unavailable", "delivery", d.ID, "err", err)
		msg := "signing secret unavailable"
		return sb.DeliveryAttempt{At: s.clock.Now(), Error: &msg}
	}
	return s.cfg.Sender.Send(ctx, d.URL, string(secret), d.Event, d.EventID, d.Payload, s.clock.Now())
}

// RunBackground delivers due webhooks every interval and purges expired
// idempotency records and old delivery logs hourly, until ctx ends.
func (s *Service) RunBackground(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	lastPurge := time.Time{}
	for {
		s.deliverAll(ctx)
		if now := s.clock.Now(); now.Sub(lastPurge) >= time.Hour {
			if err := s.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "purge failed", "err", err)
			}
			lastPurge = now
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PendingDeliveries counts webhook deliveries waiting in the outbox, for
// the switchboard_outbox_pending gauge.
func (s *Service) PendingDeliveries(ctx context.Context) (int, error) {
	var n int
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		n, err = tx.CountPendingDeliveries(ctx)
		return err
	})
	return n, err
}
