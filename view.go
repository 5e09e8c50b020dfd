package switchboard

import (
	"strconv"
	"time"
)

// JSONTime writes a time in the wire format of CONTRACT §0.2.
type JSONTime time.Time

// MarshalJSON writes the time as a JSON string in TimeFormat.
func (t JSONTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + FormatTime(time.Time(t)) + `"`), nil
}

// OptJSONTime converts a nullable time.
func OptJSONTime(t *time.Time) *JSONTime {
	if t == nil {
		return nil
	}
	j := JSONTime(*t)
	return &j
}

// SubAccountView is the 25-key sub-account object of CONTRACT §4.1, in the
// contract's key order. It is what the API returns and what lifecycle
// webhooks carry.
type SubAccountView struct {
	Name            string       `json:"name"`
	Email           *string      `json:"email"`
	Phone           *string      `json:"phone"`
	Description     *string      `json:"description"`
	Permissions     *Permissions `json:"permissions"`
	RateLimit       int          `json:"rate_limit"`
	ID              string       `json:"id"`
	ParentAccountID string       `json:"parent_account_id"`
	ParentAuthID    string       `json:"parent_auth_id"`
	AuthID          string       `json:"auth_id"`
	AuthToken       string       `json:"auth_token"`
	APIID           string       `json:"api_id"`
	EmailVerified   bool         `json:"email_verified"`
	Enabled         bool         `json:"enabled"`
	Created         JSONTime     `json:"created"`
	Modified        JSONTime     `json:"modified"`
	IsActive        bool         `json:"is_active"`
	CreatedAt       JSONTime     `json:"created_at"`
	UpdatedAt       JSONTime     `json:"updated_at"`
	LastUsed        *JSONTime    `json:"last_used"`
	Account         string       `json:"account"`
	ResourceURI     string       `json:"resource_uri"`
	KYCMode         string       `json:"kyc_mode"`
	BusinessType    *string      `json:"business_type"`
	KYCCallsBlocked bool         `json:"kyc_calls_blocked"`
}

// NewSubAccountView renders a sub-account; token is the clear token on
// create and "" (shown as "<redacted>") everywhere else.
func NewSubAccountView(a *Account, token string) SubAccountView {
	if token == "" {
		token = RedactedToken
	}
	return SubAccountView{
		Name: a.Name, Email: a.Email, Phone: a.Phone, Description: a.Description, Permissions: a.Permissions,
		RateLimit: a.RateLimit, ID: strconv.FormatInt(a.ID, 10), ParentAccountID: strconv.FormatInt(a.ParentID, 10),
		ParentAuthID: a.ParentAuthID, AuthID: a.AuthID, AuthToken: token, APIID: a.APIID,
		EmailVerified: a.EmailVerified, Enabled: a.Enabled, Created: JSONTime(a.CreatedAt),
		Modified: JSONTime(a.UpdatedAt), IsActive: a.Enabled, CreatedAt: JSONTime(a.CreatedAt),
		UpdatedAt: JSONTime(a.UpdatedAt), LastUsed: OptJSONTime(a.LastUsed), Account: a.AccountURI(),
		ResourceURI: a.ResourceURI(), KYCMode: a.KYCMode, BusinessType: a.BusinessType,
		KYCCallsBlocked: a.KYCCallsBlocked,
	}
}
