package app

import (
	"context"
	"time"

	sb "github.com/switchboard-voice/switchboard"
)

// Claim is an Idempotency-Key being executed (CONTRACT §0.9). The HTTP
// layer puts it in the request context; the first write transaction of the
// use case claims it together with the work.
type Claim struct {
	Principal   string
	Key         string
	Fingerprint string
	claimed     bool
}

type claimKey struct{}

// WithClaim returns a context carrying c.
func WithClaim(ctx context.Context, c *Claim) context.Context {
	return context.WithValue(ctx, claimKey{}, c)
}

func claimFrom(ctx context.Context) *Claim {
	c, _ := ctx.Value(claimKey{}).(*Claim)
	return c
}

// Replay is a stored outcome to answer again.
type Replay struct {
	Status int
	Body   []byte
}

// CheckIdempotency looks the key up before the work. It returns a replay of
// the stored outcome, or nil when the key is new. Errors:
// idempotency_key_reused (same key, other request), idempotency_in_progress.
func (s *Service) CheckIdempotency(ctx context.Context, c *Claim) (*Replay, error) {
	var rec *sb.IdempotencyRecord
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		rec, err = tx.IdempotencyKey(ctx, c.Principal, c.Key, s.clock.Now())
		return err
	})
	switch {
	case sb.ErrorCode(err) == sb.ENotFound:
		return nil, nil
	case err != nil:
		return nil, err
	case rec.Fingerprint != c.Fingerprint:
		return nil, sb.Errorf(sb.EIdempotencyKeyReused, "this Idempotency-Key was used for a different request")
	case rec.Status == 0:
		return nil, errInProgress
	}
	body := rec.Body
	if rec.Encrypted {
		if body, err = open(s.key, rec.Body); err != nil {
			return nil, sb.Internal(err)
		}
	}
	return &Replay{Status: rec.Status, Body: body}, nil
}

// FinishIdempotency stores the outcome of a request that carried a key: a
// 2xx or 4xx status and body are kept for 24 h (encrypted when secret);
// after a 5xx the key is released so the client may retry.
func (s *Service) FinishIdempotency(ctx context.Context, c *Claim, status int, body []byte, secret bool) {
	ctx = context.WithoutCancel(ctx)
	now := s.clock.Now()
	if status >= 500 {
		s.logIdem(ctx, s.store.Update(ctx, func(tx Tx) error { return tx.ReleaseIdempotencyKey(ctx, c.Principal, c.Key) }))
		return
	}
	stored := body
	if secret {
		var err error
		if stored, err = seal(s.key, body); err != nil {
			s.logIdem(ctx, err)
			return
		}
	}
	if c.claimed {
		err := s.store.Update(ctx, func(tx Tx) error {
			return tx.CompleteIdempotencyKey(ctx, c.Principal, c.Key, status, stored, secret)
		})
		if sb.ErrorCode(err) != sb.ENotFound { // not found: the work removed it (dev reset)
			s.logIdem(ctx, err)
			return
		}
	}
	// No write transaction claimed the key (a refusal, a validation error,
	// a dry run): store the outcome now. A concurrent twin may have stored
	// the same outcome first; that is fine.
	err := s.store.Update(ctx, func(tx Tx) error {
		return tx.ClaimIdempotencyKey(ctx, sb.IdempotencyRecord{Principal: c.Principal, Key: c.Key,
			Fingerprint: c.Fingerprint, Status: status, Body: stored, Encrypted: secret,
			CreatedAt: now, ExpiresAt: now.Add(sb.IdempotencyTTL)})
	})
	if sb.ErrorCode(err) != sb.EAlreadyExists {
		s.logIdem(ctx, err)
	}
}

func (s *Service) logIdem(ctx context.Context, err error) {
	if err != nil {
		s.log.ErrorContext(ctx, "idempotency outcome not stored", "err", err)
	}
}

// PurgeExpired deletes idempotency records past their 24 h and delivery
// logs older than 30 days.
func (s *Service) PurgeExpired(ctx context.Context) error {
	now := s.clock.Now()
	return s.store.Update(ctx, func(tx Tx) error {
		if _, err := tx.PurgeIdempotencyKeys(ctx, now); err != nil {
			return err
		}
		_, err := tx.PurgeDeliveries(ctx, now.Add(-30*24*time.Hour))
		return err
	})
}
