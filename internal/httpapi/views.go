package httpapi

import (
	"encoding/json"
	"time"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
)

// jsonTime writes a time in the §0.2 format.
type jsonTime = sb.JSONTime

func optTime(t *time.Time) *jsonTime { return sb.OptJSONTime(t) }

// subAccountJSON renders a sub-account; token is the clear token on
// create and "" (redacted) everywhere else.
func subAccountJSON(a *sb.Account, token string) sb.SubAccountView {
	return sb.NewSubAccountView(a, token)
}

// mainAccountView is the operator's main account object (CONTRACT §3.1).
type mainAccountView struct {
	ID                  string     `json:"id"`
	APIID               string     `json:"api_id"`
	AuthID              string     `json:"auth_id"`
	Name                string     `json:"name"`
	Email               *string    `json:"email"`
	Phone               *string    `json:"phone"`
	Currency            string     `json:"currency"`
	Enabled             bool       `json:"enabled"`
	IsActive            bool       `json:"is_active"`
	RateLimit           int        `json:"rate_limit"`
	MaxSubAccounts      int        `json:"max_sub_accounts"`
	LowBalanceThreshold sb.Money   `json:"low_balance_threshold"`
	Pricing             sb.Pricing `json:"pricing"`
	// Balance is the main wallet's balance; the ledger arrives with the
	// billing issue, until then no posting exists and it is 0.
	Balance         sb.Money  `json:"balance"`
	SubAccountCount int       `json:"sub_account_count"`
	CreatedAt       jsonTime  `json:"created_at"`
	UpdatedAt       jsonTime  `json:"updated_at"`
	LastUsed        *jsonTime `json:"last_used"`
}

func mainAccountJSON(a *sb.Account) mainAccountView {
	return mainAccountView{
		ID: itoa(a.ID), APIID: a.APIID, AuthID: a.AuthID, Name: a.Name, Email: a.Email, Phone: a.Phone,
		Currency: a.Currency, Enabled: a.Enabled, IsActive: a.Enabled, RateLimit: a.RateLimit,
		MaxSubAccounts: a.MaxSubAccounts, LowBalanceThreshold: a.LowBalanceThreshold, Pricing: a.Pricing,
		SubAccountCount: a.SubAccountCount, CreatedAt: jsonTime(a.CreatedAt), UpdatedAt: jsonTime(a.UpdatedAt),
		LastUsed: optTime(a.LastUsed),
	}
}

// meView is GET /api/v1/auth/me (CONTRACT §1.4).
type meView struct {
	Type         string    `json:"type"`
	Role         string    `json:"role"`
	ID           string    `json:"id"`
	APIID        string    `json:"api_id"`
	AuthID       string    `json:"auth_id"`
	ParentAuthID *string   `json:"parent_auth_id"`
	Name         string    `json:"name"`
	Email        *string   `json:"email"`
	Phone        *string   `json:"phone"`
	Currency     string    `json:"currency"`
	Enabled      bool      `json:"enabled"`
	IsActive     bool      `json:"is_active"`
	RateLimit    int       `json:"rate_limit"`
	CreatedAt    jsonTime  `json:"created_at"`
	UpdatedAt    jsonTime  `json:"updated_at"`
	LastUsed     *jsonTime `json:"last_used"`
}

func meJSON(a *sb.Account) meView {
	var parent *string
	if !a.IsMain() {
		p := a.ParentAuthID
		parent = &p
	}
	return meView{Type: "account", Role: a.Role(), ID: itoa(a.ID), APIID: a.APIID, AuthID: a.AuthID,
		ParentAuthID: parent, Name: a.Name, Email: a.Email, Phone: a.Phone, Currency: a.Currency,
		Enabled: a.Enabled, IsActive: a.Active(), RateLimit: a.RateLimit, CreatedAt: jsonTime(a.CreatedAt),
		UpdatedAt: jsonTime(a.UpdatedAt), LastUsed: optTime(a.LastUsed)}
}

// rotationJSON is the §1.3 response.
func rotationJSON(r *app.RotationResult) ordered {
	return kv("message", "Auth token rotated", "auth_id", r.AuthID, "auth_token", r.AuthToken,
		"previous_token_expires_at", optTime(r.PreviousExpiresAt))
}

// deletePlanJSON is the dry-run answer of CONTRACT §4.5.
func deletePlanJSON(p *app.DeletePlan) ordered {
	var settlement any
	if p.BalanceSettlement != nil {
		settlement = kv("currency", p.Currency, "amount", *p.BalanceSettlement)
	}
	return kv("dry_run", true, "sub_account_id", p.SubAuthID, "cascade", p.Cascade,
		"numbers", kv("rehomed", p.NumbersRehomed, "released", p.NumbersReleased),
		"trunks", kv("rehomed", p.TrunksRehomed, "deleted", p.TrunksDeleted),
		"kyc_sessions_revoked", p.KYCSessionsRevoked, "balance_settlement", settlement, "active_calls", p.ActiveCalls)
}

// raw keeps pre-encoded JSON (e.g. the OpenAPI document) as is.
type raw = json.RawMessage
