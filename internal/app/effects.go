package app

import (
	"context"
	"time"

	sb "github.com/switchboard-voice/switchboard"
)

// effects collects what a mutation must record besides its own rows: audit
// records and lifecycle events. update writes them in the same transaction
// as the change, so a committed change always has its audit record and its
// outbox rows, and a rolled-back one has neither.
type effects struct {
	now    time.Time
	actor  sb.Actor
	audits []*sb.AuditRecord
	events []tenantEvent
}

type tenantEvent struct {
	tenantID int64
	event    sb.Event
}

// audit records a successful mutation.
func (fx *effects) audit(tenantAuthID, action, targetType, targetID string, status int, changes map[string]sb.Change) {
	fx.audits = append(fx.audits, auditRecord(fx.actor, fx.now, tenantAuthID, action, targetType, targetID, sb.OutcomeSuccess, status, changes, nil))
}

// event queues a lifecycle event for the tenant's webhook.
func (fx *effects) event(tenant *sb.Account, typ string, data any) {
	fx.events = append(fx.events, tenantEvent{tenantID: tenant.ID, event: sb.NewEvent(typ, tenant.AuthID, fx.now, data)})
}

// auditRecord fills the actor and request fields of a record.
func auditRecord(actor sb.Actor, now time.Time, tenantAuthID, action, targetType, targetID, outcome string, status int, changes map[string]sb.Change, reason *string) *sb.AuditRecord {
	return &sb.AuditRecord{
		OccurredAt: now, RequestID: actor.RequestID, ActorType: string(actor.Kind), ActorID: actor.ID(),
		ActorRole: actor.Role, TenantID: tenantAuthID, Action: action, TargetType: targetType, TargetID: targetID,
		Outcome: outcome, StatusCode: status, SourceIP: actor.SourceIP, Changes: changes, Reason: reason,
	}
}

// update runs fn in a write transaction together with its effects and, when
// the request carries an Idempotency-Key, the claim of that key (§0.9): a
// concurrent duplicate blocks on the claim and fails with
// idempotency_in_progress instead of doing the work twice.
func (s *Service) update(ctx context.Context, actor sb.Actor, fn func(tx Tx, fx *effects) error) error {
	claim := claimFrom(ctx)
	err := s.store.Update(ctx, func(tx Tx) error {
		now := s.clock.Now()
		if claim != nil && !claim.claimed {
			rec := sb.IdempotencyRecord{Principal: claim.Principal, Key: claim.Key, Fingerprint: claim.Fingerprint,
				CreatedAt: now, ExpiresAt: now.Add(sb.IdempotencyTTL)}
			if err := tx.ClaimIdempotencyKey(ctx, rec); err != nil {
				if sb.ErrorCode(err) == sb.EAlreadyExists {
					return errInProgress
				}
				return err
			}
		}
		fx := &effects{now: now, actor: actor}
		if err := fn(tx, fx); err != nil {
			return err
		}
		return s.writeEffects(ctx, tx, fx)
	})
	if err == nil && claim != nil {
		claim.claimed = true
	}
	return err
}

var errInProgress = sb.Errorf(sb.EIdempotencyInProgress, "a request with this Idempotency-Key is still executing")

// writeEffects appends the audit records and puts subscribed events into
// the webhook outbox.
func (s *Service) writeEffects(ctx context.Context, tx Tx, fx *effects) error {
	for _, rec := range fx.audits {
		if err := tx.AppendAudit(ctx, rec); err != nil {
			return err
		}
	}
	for _, te := range fx.events {
		ep, err := tx.WebhookEndpoint(ctx, te.tenantID)
		if err != nil {
			return err
		}
		if !ep.Subscribed(te.event.Type) {
			continue
		}
		payload, err := te.event.Payload()
		if err != nil {
			return sb.Internal(err)
		}
		next := fx.now
		if err := tx.InsertDelivery(ctx, &sb.Delivery{
			ID: "dlv_" + sb.NewUUID(), TenantID: te.tenantID, EventID: te.event.ID, Event: te.event.Type,
			URL: *ep.URL, Payload: payload, Status: sb.DeliveryPending, NextAttemptAt: &next,
			CreatedAt: fx.now, UpdatedAt: fx.now,
		}); err != nil {
			return err
		}
	}
	return nil
}

// RecordDenied appends an audit record for a mutating request refused by
// authorization (403, or 404 from a tenant check), under the caller's own
// tenant with the target as the caller sent it (§10.1).
func (s *Service) RecordDenied(ctx context.Context, actor sb.Actor, action, targetType, targetID string, status int, reason string) {
	s.recordAudit(ctx, auditRecord(actor, s.clock.Now(), actor.TenantAuthID(), action, targetType, targetID, sb.OutcomeDenied, status, nil, &reason))
}

// recordAudit appends one record in its own transaction; a failure is
// logged, never hidden from the operator.
func (s *Service) recordAudit(ctx context.Context, rec *sb.AuditRecord) {
	ctx = context.WithoutCancel(ctx)
	err := s.store.Update(ctx, func(tx Tx) error { return tx.AppendAudit(ctx, rec) })
	if err != nil {
		s.log.ErrorContext(ctx, "audit record not written", "action", rec.Action, "err", err)
	}
}
