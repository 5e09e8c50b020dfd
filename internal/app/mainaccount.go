package app

import (
	"context"
	"time"

	sb "github.com/switchboard-voice/switchboard"
)

// operatorOnly refuses account credentials on operator use cases.
func operatorOnly(actor sb.Actor) error {
	switch actor.Kind {
	case sb.ActorAdmin, sb.ActorCLI, sb.ActorSystem:
		return nil
	}
	return errForbidden
}

var errMainNotFound = sb.Errorf(sb.ENotFound, "account not found")

func mainNotFound(err error) error { return notFoundAs(err, errMainNotFound) }

// CreatedMainAccount carries the secrets of a new main account, shown once.
type CreatedMainAccount struct {
	Account       *sb.Account
	AuthToken     string
	WebhookSecret string
}

// CreateMainAccount creates a main account (operator API, CLI, bootstrap).
// Errors: forbidden, validation_error, already_exists.
func (s *Service) CreateMainAccount(ctx context.Context, actor sb.Actor, in sb.MainAccountCreate) (*CreatedMainAccount, error) {
	if err := operatorOnly(actor); err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var created *CreatedMainAccount
	err := s.update(ctx, actor, func(tx Tx, fx *effects) error {
		var err error
		if created, err = s.insertMain(ctx, tx, in); err != nil {
			return err
		}
		fx.audit(created.Account.AuthID, "admin.account.create", "account", created.Account.AuthID, 201, nil)
		return nil
	})
	return created, err
}

// insertMain writes a validated main account with fresh credentials.
func (s *Service) insertMain(ctx context.Context, tx Tx, in sb.MainAccountCreate) (*CreatedMainAccount, error) {
	var pwHash string
	if in.Password != nil {
		var err error
		if pwHash, err = hashPassword(*in.Password); err != nil {
			return nil, err
		}
	}
	a := in.NewMainAccount(s.clock.Now())
	a.PasswordHash = pwHash
	var err error
	if a.ID, err = tx.NextAccountID(ctx); err != nil {
		return nil, err
	}
	a.APIID = sb.NewUUID()
	a.AuthID = sb.NewMainAuthID()
	token, secret := sb.NewAuthToken(), sb.NewWebhookSecret()
	enc, err := seal(s.key, []byte(secret))
	if err != nil {
		return nil, sb.Internal(err)
	}
	if err := tx.InsertAccount(ctx, NewAccount{Account: a, TokenHash: sb.HashToken(s.key, token), WebhookSecretEnc: enc}); err != nil {
		return nil, emailTaken(err)
	}
	return &CreatedMainAccount{Account: a, AuthToken: token, WebhookSecret: secret}, nil
}

// BootstrapName is the name of the first main account (CONTRACT §2.3).
const BootstrapName = "Main account"

// Bootstrap creates the first main account when the database has none and
// returns it; it returns nil when a main account exists. Replicas starting
// together create one account between them.
func (s *Service) Bootstrap(ctx context.Context) (*CreatedMainAccount, error) {
	var created *CreatedMainAccount
	err := s.update(ctx, sb.Actor{Kind: sb.ActorSystem}, func(tx Tx, fx *effects) error {
		if err := serialize(ctx, tx, "bootstrap"); err != nil {
			return err
		}
		n, err := tx.CountMainAccounts(ctx)
		if err != nil || n > 0 {
			return err
		}
		if created, err = s.insertMain(ctx, tx, sb.MainAccountCreate{Name: BootstrapName}); err != nil {
			return err
		}
		fx.audit(created.Account.AuthID, "account.bootstrap", "account", created.Account.AuthID, 201, nil)
		return nil
	})
	return created, err
}

// MainAccountPage is one page of main accounts.
type MainAccountPage struct {
	Items []*sb.Account
	Total int
}

// ListMainAccounts lists main accounts for the operator, newest first.
func (s *Service) ListMainAccounts(ctx context.Context, actor sb.Actor, f MainAccountFilter) (*MainAccountPage, error) {
	if err := operatorOnly(actor); err != nil {
		return nil, err
	}
	var p MainAccountPage
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		p.Items, p.Total, err = tx.ListMainAccounts(ctx, f)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// GetMainAccount returns one main account. Errors: forbidden, not_found.
func (s *Service) GetMainAccount(ctx context.Context, actor sb.Actor, authID string) (*sb.Account, error) {
	if err := operatorOnly(actor); err != nil {
		return nil, err
	}
	var a *sb.Account
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		a, err = tx.MainAccount(ctx, authID)
		return err
	})
	return a, mainNotFound(err)
}

// UpdateMainAccount applies the operator's partial update. Disabling a
// main account makes it and all its sub-accounts inactive at once.
// Errors: forbidden, not_found, validation_error, already_exists.
func (s *Service) UpdateMainAccount(ctx context.Context, actor sb.Actor, authID string, u sb.MainAccountUpdate) (*sb.Account, error) {
	if err := operatorOnly(actor); err != nil {
		return nil, err
	}
	var pwHash string
	if u.Password.Set && sb.PasswordLengthOK(u.Password.V) {
		var err error
		if pwHash, err = hashPassword(u.Password.V); err != nil {
			return nil, err
		}
	}
	var a *sb.Account
	err := s.update(ctx, actor, func(tx Tx, fx *effects) error {
		var err error
		if a, err = tx.MainAccount(ctx, authID); err != nil {
			return mainNotFound(err)
		}
		if err := u.Validate(a); err != nil {
			return err
		}
		before := *a
		changed := u.Apply(a, pwHash)
		if len(changed) == 0 {
			return nil
		}
		a.Version++
		a.UpdatedAt = fx.now
		if err := emailTaken(tx.UpdateMainAccount(ctx, a)); err != nil {
			return err
		}
		fx.audit(a.AuthID, "admin.account.update", "account", a.AuthID, 200, mainChanges(&before, a, changed))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// RotateMainToken rotates a main account's token for the operator.
// Errors: forbidden, not_found, validation_error.
func (s *Service) RotateMainToken(ctx context.Context, actor sb.Actor, authID string, graceSeconds int) (*RotationResult, error) {
	if err := operatorOnly(actor); err != nil {
		return nil, err
	}
	res, err := s.rotate(ctx, actor, authID, graceSeconds, func(tx Tx) (*sb.Account, error) {
		a, err := tx.MainAccount(ctx, authID)
		return a, mainNotFound(err)
	})
	return res, err
}

// ResetResult is the answer of the dev reset.
type ResetResult struct {
	Bootstrap *CreatedMainAccount
}

// DevReset deletes all tenant data, resets the clock offset and, when
// bootstrap is true, creates a fresh first main account (CONTRACT §3.5).
// Errors: forbidden, not_found outside dev mode.
func (s *Service) DevReset(ctx context.Context, actor sb.Actor, bootstrap bool) (*ResetResult, error) {
	if err := s.devOnly(actor); err != nil {
		return nil, err
	}
	s.clock.Reset()
	err := s.update(ctx, actor, func(tx Tx, fx *effects) error {
		if err := tx.ResetAll(ctx); err != nil {
			return err
		}
		fx.audit("", "admin.dev.reset", "", "", 200, nil)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var res ResetResult
	if bootstrap {
		var err error
		if res.Bootstrap, err = s.Bootstrap(ctx); err != nil {
			return nil, err
		}
	}
	return &res, nil
}

func (s *Service) devOnly(actor sb.Actor) error {
	if !s.cfg.Dev {
		return sb.Errorf(sb.ENotFound, "not found")
	}
	return operatorOnly(actor)
}

// DevAdvanceClock moves the clock forward (1 s to 365 days) and runs the
// webhook deliveries that became due. Token grace and JWT expiry are
// evaluated on read, so they take effect as soon as the clock moved. Errors: validation_error, not_found
// outside dev mode.
func (s *Service) DevAdvanceClock(ctx context.Context, actor sb.Actor, seconds int64) error {
	if err := s.devOnly(actor); err != nil {
		return err
	}
	if seconds < 1 || seconds > 31_536_000 {
		return sb.Invalid("seconds", sb.FieldOutOfRange, "must be between 1 and 31536000")
	}
	s.clock.Advance(secondsDuration(seconds))
	s.recordAudit(ctx, auditRecord(actor, s.clock.Now(), "", "admin.dev.clock_advance", "", "", sb.OutcomeSuccess, 200,
		map[string]sb.Change{"offset_seconds": {Before: int64((s.clock.Offset() - secondsDuration(seconds)) / time.Second), After: int64(s.clock.Offset() / time.Second)}}, nil))
	s.deliverAll(ctx) // webhook retries that became due run before the answer
	return nil
}

// DevResetClock sets the clock offset back to zero.
func (s *Service) DevResetClock(ctx context.Context, actor sb.Actor) error {
	if err := s.devOnly(actor); err != nil {
		return err
	}
	s.clock.Reset()
	s.recordAudit(ctx, auditRecord(actor, s.clock.Now(), "", "admin.dev.clock_reset", "", "", sb.OutcomeSuccess, 200, nil, nil))
	return nil
}

// mainChanges lists before/after values of a main account's changed keys;
// the password is recorded as changed without values.
func mainChanges(before, after *sb.Account, changed []string) map[string]sb.Change {
	values := func(a *sb.Account) map[string]any {
		return map[string]any{"name": a.Name, "email": a.Email, "phone": a.Phone, "enabled": a.Enabled,
			"rate_limit": a.RateLimit, "max_sub_accounts": a.MaxSubAccounts,
			"low_balance_threshold": a.LowBalanceThreshold, "pricing": a.Pricing}
	}
	return changeSet(values(before), values(after), changed)
}
