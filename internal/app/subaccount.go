package app

import (
	"context"
	"encoding/json"
	"strconv"

	sb "github.com/switchboard-voice/switchboard"
)

// parentOf applies steps 3 and 4 of CONTRACT §1.5 for `parent` routes: the
// caller must be a main account (else forbidden) whose auth_id is the path
// auth_id (else not_found).
func parentOf(actor sb.Actor, pathAuthID string) (*sb.Account, error) {
	a := actor.Account
	if a == nil || !a.IsMain() {
		return nil, errForbidden
	}
	if a.AuthID != pathAuthID {
		return nil, errSubNotFound
	}
	return a, nil
}

var errSubNotFound = sb.Errorf(sb.ENotFound, "sub-account not found")

// subNotFound gives not_found from the store the sub-account wording.
func subNotFound(err error) error { return notFoundAs(err, errSubNotFound) }

// notFoundAs replaces a not_found error with e (the resource's wording)
// and keeps every other error.
func notFoundAs(err error, e *sb.Error) error {
	if sb.ErrorCode(err) == sb.ENotFound {
		return e
	}
	return err
}

// CreatedSubAccount is the result of CreateSubAccount: the record, its
// first token in clear (shown once) and a JWT pair for it.
type CreatedSubAccount struct {
	Account   *sb.Account
	AuthToken string
	Tokens    sb.TokenPair
}

// CreateSubAccount creates a sub-account under the caller (CONTRACT §4.2).
// Errors: forbidden, not_found, validation_error, already_exists,
// quota_exceeded.
func (s *Service) CreateSubAccount(ctx context.Context, actor sb.Actor, pathAuthID string, in sb.SubAccountCreate) (*CreatedSubAccount, error) {
	caller, err := parentOf(actor, pathAuthID)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var pwHash string
	if in.Password != nil {
		if pwHash, err = hashPassword(*in.Password); err != nil {
			return nil, err
		}
	}
	now := s.clock.Now()
	token := sb.NewAuthToken()
	var created *sb.Account
	err = s.update(ctx, actor, func(tx Tx, fx *effects) error {
		// Drawing the id first takes the sequence's row lock, which every
		// account creation needs: the count below then sees every creation
		// committed before, so concurrent creates cannot overshoot the quota.
		id, err := tx.NextAccountID(ctx)
		if err != nil {
			return err
		}
		parent, err := tx.MainAccount(ctx, caller.AuthID)
		if err != nil {
			return err
		}
		if parent.SubAccountCount >= parent.MaxSubAccounts {
			return sb.Errorf(sb.EQuotaExceeded, "max_sub_accounts (%d) reached", parent.MaxSubAccounts)
		}
		a := in.NewSubAccount(parent, now)
		a.ID, a.PasswordHash = id, pwHash
		a.APIID = sb.NewUUID()
		a.AuthID = sb.NewSubAuthID()
		if err := tx.InsertAccount(ctx, NewAccount{Account: a, TokenHash: sb.HashToken(s.key, token)}); err != nil {
			return emailTaken(err)
		}
		created = a
		fx.audit(parent.AuthID, "subaccount.create", "sub_account", a.AuthID, 201, nil)
		fx.event(parent, sb.EventSubAccountCreated, map[string]any{"sub_account": sb.NewSubAccountView(a, "")})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &CreatedSubAccount{Account: created, AuthToken: token, Tokens: sb.NewTokenPair(s.key, created.AuthID, now)}, nil
}

// emailTaken words the store's already_exists for the email key.
func emailTaken(err error) error {
	if sb.ErrorCode(err) == sb.EAlreadyExists {
		return &sb.Error{Code: sb.EAlreadyExists, Message: "an account with this email already exists", Err: err}
	}
	return err
}

// GetSubAccount returns one of the caller's live sub-accounts.
// Errors: forbidden, not_found.
func (s *Service) GetSubAccount(ctx context.Context, actor sb.Actor, pathAuthID, subAuthID string) (*sb.Account, error) {
	parent, err := parentOf(actor, pathAuthID)
	if err != nil {
		return nil, err
	}
	var a *sb.Account
	err = s.store.View(ctx, func(tx Tx) error {
		a, err = tx.SubAccount(ctx, parent.ID, subAuthID, false)
		return err
	})
	return a, subNotFound(err)
}

// SubAccountPage is one page of a list.
type SubAccountPage struct {
	Items []*sb.Account
	Total int
}

// ListSubAccounts lists the caller's live sub-accounts (CONTRACT §4.6).
// Errors: forbidden, not_found.
func (s *Service) ListSubAccounts(ctx context.Context, actor sb.Actor, pathAuthID string, f SubAccountFilter) (*SubAccountPage, error) {
	parent, err := parentOf(actor, pathAuthID)
	if err != nil {
		return nil, err
	}
	var p SubAccountPage
	err = s.store.View(ctx, func(tx Tx) error {
		p.Items, p.Total, err = tx.ListSubAccounts(ctx, parent.ID, f)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// checkVersion enforces If-Match (CONTRACT §0.10): "" proceeds, "*" or the
// current ETag proceeds, anything else is precondition_failed.
func checkVersion(ifMatch string, version int64) error {
	if ifMatch == "" || ifMatch == "*" || ifMatch == ETag(version) {
		return nil
	}
	return sb.Errorf(sb.EPreconditionFailed, "If-Match does not match the current ETag %s", ETag(version))
}

// ETag is the strong entity tag of an object version.
func ETag(version int64) string { return `"v` + strconv.FormatInt(version, 10) + `"` }

// UpdateResult is the outcome of UpdateSubAccount.
type UpdateResult struct {
	Account *sb.Account
	// Changed lists the keys whose value changed; empty means no-op.
	Changed []string
}

// UpdateSubAccount applies a partial update (CONTRACT §4.4).
// Errors: forbidden, not_found, validation_error, precondition_failed,
// already_exists.
func (s *Service) UpdateSubAccount(ctx context.Context, actor sb.Actor, pathAuthID, subAuthID, ifMatch string, u sb.SubAccountUpdate) (*UpdateResult, error) {
	parent, err := parentOf(actor, pathAuthID)
	if err != nil {
		return nil, err
	}
	// Hash outside the transaction; a password of the wrong length is
	// reported by Validate after the scope check, inside it.
	var pwHash string
	if u.Password.Set && sb.PasswordLengthOK(u.Password.V) {
		if pwHash, err = hashPassword(u.Password.V); err != nil {
			return nil, err
		}
	}
	now := s.clock.Now()
	var res UpdateResult
	err = s.update(ctx, actor, func(tx Tx, fx *effects) error {
		a, err := tx.SubAccount(ctx, parent.ID, subAuthID, true)
		if err != nil {
			return subNotFound(err)
		}
		if err := checkVersion(ifMatch, a.Version); err != nil {
			return err
		}
		if err := u.Validate(a); err != nil {
			return err
		}
		before := sb.NewSubAccountView(a, "")
		res.Changed = u.Apply(a, pwHash)
		res.Account = a
		if len(res.Changed) == 0 {
			return nil
		}
		if u.KYCMode.Set || u.BusinessType.Set {
			// No verification can exist yet (the KYC endpoints come with
			// their own issue, which passes the latest record per type here).
			a.KYCCallsBlocked = sb.KYCCallsBlocked(a.KYCMode, a.BusinessType, nil)
		}
		a.Version++
		a.UpdatedAt = now
		if err := emailTaken(tx.UpdateSubAccount(ctx, parent.ID, a)); err != nil {
			return err
		}
		after := sb.NewSubAccountView(a, "")
		fx.audit(parent.AuthID, "subaccount.update", "sub_account", a.AuthID, 200, viewChanges(before, after, res.Changed))
		fx.event(parent, sb.EventSubAccountUpdated, map[string]any{"sub_account": after, "changed_fields": res.Changed})
		if u.Enabled.Set && before.Enabled != a.Enabled {
			typ := sb.EventSubAccountDisabled
			if a.Enabled {
				typ = sb.EventSubAccountEnabled
			}
			fx.event(parent, typ, map[string]any{"sub_account": after})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// DeletePlan says what a sub-account delete does or did (CONTRACT §4.5).
type DeletePlan struct {
	SubAuthID          string
	Cascade            bool
	NumbersRehomed     []string
	NumbersReleased    []string
	TrunksRehomed      []string
	TrunksDeleted      []string
	KYCSessionsRevoked []string
	// BalanceSettlement is nil under shared billing.
	BalanceSettlement *sb.Money
	Currency          string
	ActiveCalls       int
}

// DeleteSubAccount deletes (or with dryRun only plans the deletion of) a
// sub-account. Its tokens and JWTs stop working at once; the auth_id is
// never reused. Errors: forbidden, not_found, precondition_failed.
func (s *Service) DeleteSubAccount(ctx context.Context, actor sb.Actor, pathAuthID, subAuthID, ifMatch string, cascade, dryRun bool) (*DeletePlan, error) {
	parent, err := parentOf(actor, pathAuthID)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var plan *DeletePlan
	run := func(fn func(tx Tx, fx *effects) error) error { return s.update(ctx, actor, fn) }
	if dryRun {
		run = func(fn func(tx Tx, fx *effects) error) error {
			return s.store.View(ctx, func(tx Tx) error { return fn(tx, nil) })
		}
	}
	err = run(func(tx Tx, fx *effects) error {
		a, err := tx.SubAccount(ctx, parent.ID, subAuthID, !dryRun)
		if err != nil {
			return subNotFound(err)
		}
		if err := checkVersion(ifMatch, a.Version); err != nil {
			return err
		}
		// Numbers, trunks, wallets and KYC sessions join the plan as those
		// resources are added; today a sub-account owns none of them.
		plan = &DeletePlan{SubAuthID: a.AuthID, Cascade: cascade, Currency: a.Currency,
			NumbersRehomed: []string{}, NumbersReleased: []string{}, TrunksRehomed: []string{},
			TrunksDeleted: []string{}, KYCSessionsRevoked: []string{}}
		if dryRun {
			return nil
		}
		if err := tx.DeleteSubAccount(ctx, parent.ID, a.ID, now); err != nil {
			return subNotFound(err)
		}
		fx.audit(parent.AuthID, "subaccount.delete", "sub_account", a.AuthID, 200,
			map[string]sb.Change{"cascade": {Before: nil, After: cascade}})
		fx.event(parent, sb.EventSubAccountDeleted, map[string]any{"sub_account_id": a.AuthID, "cascade": cascade})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return plan, nil
}

// RotateSubAccountToken rotates a sub-account's token for its parent
// (CONTRACT §4.7); allowed on a disabled sub-account.
// Errors: forbidden, not_found, validation_error.
func (s *Service) RotateSubAccountToken(ctx context.Context, actor sb.Actor, pathAuthID, subAuthID string, graceSeconds int) (*RotationResult, error) {
	parent, err := parentOf(actor, pathAuthID)
	if err != nil {
		return nil, err
	}
	res, err := s.rotate(ctx, actor, subAuthID, graceSeconds, func(tx Tx) (*sb.Account, error) {
		a, err := tx.SubAccount(ctx, parent.ID, subAuthID, true)
		return a, subNotFound(err)
	})
	return res, err
}

// viewChanges lists before/after values of the changed keys of a
// sub-account.
func viewChanges(before, after sb.SubAccountView, changed []string) map[string]sb.Change {
	return changeSet(viewMap(before), viewMap(after), changed)
}

// changeSet picks the changed keys out of before/after values; the password
// is recorded as changed without its values.
func changeSet(before, after map[string]any, changed []string) map[string]sb.Change {
	out := make(map[string]sb.Change, len(changed))
	for _, k := range changed {
		if k == "password" {
			out[k] = sb.Change{Before: sb.RedactedToken, After: sb.RedactedToken}
			continue
		}
		out[k] = sb.Change{Before: before[k], After: after[k]}
	}
	return out
}

func viewMap(v any) map[string]any {
	raw, _ := json.Marshal(v)
	var m map[string]any
	json.Unmarshal(raw, &m)
	return m
}
