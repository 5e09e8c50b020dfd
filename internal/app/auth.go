package app

import (
	"context"
	"sync"
	"time"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/password"
)

// Credentials are what a request presented (CONTRACT §1.1), already told
// apart by the HTTP layer.
type Credentials struct {
	// Scheme is sb.SchemeAuthPair, sb.SchemeBasic or sb.SchemeJWT.
	Scheme string
	AuthID string
	Token  string // auth token, or the JWT for SchemeJWT
}

var errUnauthorized = sb.Errorf(sb.EUnauthorized, "missing or invalid credentials")

// lastUsedEvery is how often last_used is written at most (CONTRACT §4.1).
const lastUsedEvery = time.Minute

// Authenticate checks credentials and returns the calling account.
// Errors: unauthorized (unknown, deleted, wrong token, expired grace, bad
// JWT, refresh JWT), token_expired, account_inactive (step 2 of §1.5).
func (s *Service) Authenticate(ctx context.Context, c Credentials) (*sb.Account, error) {
	now := s.clock.Now()
	var acct *sb.Account
	switch c.Scheme {
	case sb.SchemeAuthPair, sb.SchemeBasic:
		if !sb.ValidAuthToken(c.Token) || !sb.ValidAuthID(c.AuthID) {
			return nil, errUnauthorized
		}
		err := s.store.View(ctx, func(tx Tx) error {
			a, toks, err := tx.Credentials(ctx, c.AuthID, now)
			if err != nil {
				return err
			}
			for _, t := range toks {
				if t.Live(now) && sb.TokenMatches(s.key, c.Token, t.Hash) {
					acct = a
				}
			}
			return nil
		})
		if err != nil {
			return nil, authFailure(err)
		}
		if acct == nil {
			return nil, errUnauthorized
		}
	case sb.SchemeJWT:
		claims, err := sb.ParseJWT(s.key, c.Token, now)
		if err != nil {
			return nil, err
		}
		if claims.Type != sb.JWTAccess {
			return nil, errUnauthorized
		}
		if acct, err = s.accountByAuthID(ctx, claims.Subject); err != nil {
			return nil, err
		}
	default:
		return nil, errUnauthorized
	}
	if !acct.Active() {
		return nil, sb.Errorf(sb.EAccountInactive, "account is disabled")
	}
	s.touchLastUsed(ctx, acct, now)
	return acct, nil
}

// authFailure turns a not_found during authentication into unauthorized and
// keeps every other error (an unreachable database is not a bad password).
func authFailure(err error) error {
	if sb.ErrorCode(err) == sb.ENotFound {
		return errUnauthorized
	}
	return err
}

func (s *Service) accountByAuthID(ctx context.Context, authID string) (*sb.Account, error) {
	var a *sb.Account
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		a, err = tx.AccountByAuthID(ctx, authID)
		return err
	})
	if err != nil {
		return nil, authFailure(err)
	}
	return a, nil
}

// touchLastUsed records use at most once a minute. A failure is logged and
// does not fail the request: last_used is informational.
func (s *Service) touchLastUsed(ctx context.Context, a *sb.Account, now time.Time) {
	if a.LastUsed != nil && now.Sub(*a.LastUsed) < lastUsedEvery {
		return
	}
	err := s.store.Update(ctx, func(tx Tx) error { return tx.TouchLastUsed(ctx, a.ID, now) })
	if err != nil {
		s.log.WarnContext(ctx, "last_used not recorded", "auth_id", a.AuthID, "err", err)
		return
	}
	a.LastUsed = &now
}

// dummyPasswordHash is verified against when there is no real hash, so
// that a login costs one argon2id computation whatever the email.
var dummyPasswordHash = sync.OnceValue(func() string {
	h, err := password.Hash(sb.NewAuthToken())
	if err != nil {
		panic("password hash: " + err.Error())
	}
	return h
})

// LoginResult is the answer of a successful login.
type LoginResult struct {
	sb.TokenPair
	AuthID string
}

// Login exchanges an email and console password for a JWT pair.
// Errors: unauthorized, account_inactive, rate_limit_exceeded (more than
// 10 failures for the email in 15 minutes).
func (s *Service) Login(ctx context.Context, actor sb.Actor, email, pw string) (*LoginResult, error) {
	email = sb.NormalizeEmail(email)
	now := s.clock.Now()
	if retry := s.logins.blocked(email, now); retry > 0 {
		return nil, rateLimited(retry)
	}
	a, err := s.accountByEmail(ctx, email)
	if err != nil {
		if sb.ErrorCode(err) == sb.EUnauthorized {
			password.Verify(pw, dummyPasswordHash()) // same cost as a known email: no enumeration by timing
			s.logins.fail(email, now)
			s.auditLogin(ctx, actor, nil, sb.OutcomeFailed, 401, "unknown email")
		}
		return nil, err
	}
	hash := a.PasswordHash
	if hash == "" {
		hash = dummyPasswordHash() // an account without a password costs the same, and never matches
	}
	ok, err := password.Verify(pw, hash)
	if err != nil {
		return nil, sb.Internal(err)
	}
	ok = ok && a.PasswordHash != ""
	if !ok {
		s.logins.fail(email, now)
		s.auditLogin(ctx, actor, a, sb.OutcomeFailed, 401, "wrong password")
		return nil, errUnauthorized
	}
	if !a.Active() {
		s.auditLogin(ctx, actor, a, sb.OutcomeDenied, 403, "account disabled")
		return nil, sb.Errorf(sb.EAccountInactive, "account is disabled")
	}
	s.auditLogin(ctx, actor, a, sb.OutcomeSuccess, 200, "")
	return &LoginResult{TokenPair: sb.NewTokenPair(s.key, a.AuthID, now), AuthID: a.AuthID}, nil
}

func (s *Service) accountByEmail(ctx context.Context, email string) (*sb.Account, error) {
	var a *sb.Account
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		a, err = tx.AccountByEmail(ctx, email)
		return err
	})
	if err != nil {
		return nil, authFailure(err)
	}
	return a, nil
}

// Refresh exchanges a refresh JWT, once, for a new pair.
// Errors: unauthorized (not a refresh token, reused, deleted account),
// token_expired, account_inactive.
func (s *Service) Refresh(ctx context.Context, actor sb.Actor, refreshJWT string) (*LoginResult, error) {
	now := s.clock.Now()
	claims, err := sb.ParseJWT(s.key, refreshJWT, now)
	if err != nil {
		return nil, err
	}
	if claims.Type != sb.JWTRefresh {
		return nil, errUnauthorized
	}
	var a *sb.Account
	err = s.update(ctx, actor, func(tx Tx, fx *effects) error {
		var err error
		if a, err = tx.AccountByAuthID(ctx, claims.Subject); err != nil {
			return err
		}
		if !a.Active() {
			return sb.Errorf(sb.EAccountInactive, "account is disabled")
		}
		err = tx.ConsumeRefreshToken(ctx, claims.ID, time.Unix(claims.ExpiresAt, 0))
		if sb.ErrorCode(err) == sb.EAlreadyExists {
			return sb.Errorf(sb.EUnauthorized, "refresh token already used")
		}
		if err != nil {
			return err
		}
		fx.actor.Kind, fx.actor.Account = sb.ActorAccount, a
		fx.audit(a.TenantAuthID(), "auth.refresh", "account", a.AuthID, 200, nil)
		return nil
	})
	if err != nil {
		return nil, authFailure(err)
	}
	return &LoginResult{TokenPair: sb.NewTokenPair(s.key, a.AuthID, now), AuthID: a.AuthID}, nil
}

// RotationResult is the §1.3 response.
type RotationResult struct {
	AuthID            string
	AuthToken         string
	PreviousExpiresAt *time.Time
}

// RotateOwnToken rotates a main account's own token (CONTRACT §1.3).
// Errors: forbidden for sub-accounts, validation_error for grace.
func (s *Service) RotateOwnToken(ctx context.Context, actor sb.Actor, graceSeconds int) (*RotationResult, error) {
	if actor.Account == nil || !actor.Account.IsMain() {
		return nil, errForbidden
	}
	return s.rotate(ctx, actor, actor.Account.AuthID, graceSeconds, nil)
}

// RotateAnyToken rotates the token of any live account by auth_id; it is
// the operator tool behind `switchboard accounts rotate-token`.
// Errors: not_found, validation_error.
func (s *Service) RotateAnyToken(ctx context.Context, actor sb.Actor, authID string, graceSeconds int) (*RotationResult, error) {
	if err := operatorOnly(actor); err != nil {
		return nil, err
	}
	return s.rotate(ctx, actor, authID, graceSeconds, nil)
}

// rotate rotates the token of authID. When load is non-nil it finds (and
// so scopes) the account inside the transaction instead of a plain lookup.
func (s *Service) rotate(ctx context.Context, actor sb.Actor, authID string, graceSeconds int, load func(Tx) (*sb.Account, error)) (*RotationResult, error) {
	var r sb.Rotation
	err := s.update(ctx, actor, func(tx Tx, fx *effects) error {
		var a *sb.Account
		var err error
		if load != nil {
			a, err = load(tx)
		} else {
			a, err = tx.AccountByAuthID(ctx, authID)
		}
		if err != nil {
			return err
		}
		// grace_seconds is checked after the scope (CONTRACT §1.5).
		if r, err = sb.NewRotation(s.key, fx.now, graceSeconds); err != nil {
			return err
		}
		if err := tx.RotateToken(ctx, a.ID, r); err != nil {
			return err
		}
		tenant, err := tx.MainAccount(ctx, a.TenantAuthID())
		if err != nil {
			return err
		}
		var prev any
		if r.PreviousExpiresAt != nil {
			prev = sb.FormatTime(*r.PreviousExpiresAt)
		}
		fx.audit(tenant.AuthID, "credential.rotate", "account", a.AuthID, 200,
			map[string]sb.Change{"previous_token_expires_at": {Before: nil, After: prev}})
		fx.event(tenant, sb.EventCredentialRotated, map[string]any{"auth_id": a.AuthID, "previous_token_expires_at": prev})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &RotationResult{AuthID: authID, AuthToken: r.Token, PreviousExpiresAt: r.PreviousExpiresAt}, nil
}

var errForbidden = sb.Errorf(sb.EForbidden, "this route is not available to these credentials")

func rateLimited(retry time.Duration) *sb.Error {
	secs := int((retry + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return &sb.Error{Code: sb.ERateLimited, Message: "too many attempts, retry later", Extra: map[string]any{"retry_after": secs}}
}

// loginLimiter counts failed logins per email (CONTRACT §1.4): more than
// 10 failures within 15 minutes blocks that email until the oldest of them
// leaves the window. Per process, like the rate limits.
type loginLimiter struct {
	mu       sync.Mutex
	failures map[string][]time.Time
}

const (
	loginWindow      = 15 * time.Minute
	loginMaxFailures = 10
	loginMaxTracked  = 100_000
)

func newLoginLimiter() *loginLimiter { return &loginLimiter{failures: map[string][]time.Time{}} }

func (l *loginLimiter) recent(email string, now time.Time) []time.Time {
	fs := l.failures[email]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= loginWindow {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(l.failures, email)
	} else {
		l.failures[email] = fs
	}
	return fs
}

// blocked returns how long email stays blocked, or 0.
func (l *loginLimiter) blocked(email string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	fs := l.recent(email, now)
	if len(fs) < loginMaxFailures {
		return 0
	}
	return fs[len(fs)-loginMaxFailures].Add(loginWindow).Sub(now)
}

func (l *loginLimiter) fail(email string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.failures) >= loginMaxTracked {
		for e := range l.failures {
			l.recent(e, now)
		}
	}
	l.failures[email] = append(l.recent(email, now), now)
}

// auditLogin records a login attempt; the email itself is not recorded
// for unknown accounts (it may be a mistyped password).
func (s *Service) auditLogin(ctx context.Context, actor sb.Actor, a *sb.Account, outcome string, status int, reason string) {
	tenant, target := "", ""
	if a != nil {
		tenant, target = a.TenantAuthID(), a.AuthID
		actor.Kind = sb.ActorAccount
		actor.Account = a
	}
	var why *string
	if reason != "" {
		why = &reason
	}
	s.recordAudit(ctx, auditRecord(actor, s.clock.Now(), tenant, "auth.login", "account", target, outcome, status, nil, why))
}
