package switchboard

import (
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// KYC modes of a sub-account (CONTRACT §4.1, §5.1).
const (
	KYCPersonalUse = "personal_use"
	KYCCustomerUse = "customer_use"
)

// BusinessTypes lists the accepted business_type values.
var BusinessTypes = []string{"individual", "proprietorship", "private_limited", "llp", "partnership", "public_limited", "trust", "society", "huf", "government"}

// Defaults and bounds of account settings.
const (
	DefaultSubRateLimit   = 1000
	DefaultMainRateLimit  = 6000
	MaxSubRateLimit       = 100_000
	MaxMainRateLimit      = 1_000_000
	DefaultMaxSubAccounts = 1000
	DefaultCurrency       = "INR"
	MaxNameLen            = 100
	MaxEmailLen           = 254
	MaxDescriptionLen     = 1000
	MinPasswordLen        = 8
	MaxPasswordLen        = 128
)

// Permissions are a sub-account's feature flags; a nil *Permissions means
// everything is allowed.
type Permissions struct {
	Calls bool `json:"calls"`
	CDR   bool `json:"cdr"`
}

// Pricing is a main account's rate card, applied to it and its sub-accounts.
type Pricing struct {
	OutboundRatePerMinute   Money `json:"outbound_rate_per_minute"`
	InboundRatePerMinute    Money `json:"inbound_rate_per_minute"`
	BillingIncrementSeconds int   `json:"billing_increment_seconds"`
	MinimumDurationSeconds  int   `json:"minimum_duration_seconds"`
}

// DefaultPricing is the rate card of a new main account.
func DefaultPricing() Pricing {
	return Pricing{BillingIncrementSeconds: 60}
}

// Validate checks the rate card bounds.
func (p Pricing) Validate(v *Validation, prefix string) {
	if p.OutboundRatePerMinute < 0 {
		v.Add(prefix+".outbound_rate_per_minute", FieldOutOfRange, "must not be negative")
	}
	if p.InboundRatePerMinute < 0 {
		v.Add(prefix+".inbound_rate_per_minute", FieldOutOfRange, "must not be negative")
	}
	if p.BillingIncrementSeconds < 1 || p.BillingIncrementSeconds > 3600 {
		v.Add(prefix+".billing_increment_seconds", FieldOutOfRange, "must be between 1 and 3600")
	}
	if p.MinimumDurationSeconds < 0 || p.MinimumDurationSeconds > 3600 {
		v.Add(prefix+".minimum_duration_seconds", FieldOutOfRange, "must be between 0 and 3600")
	}
}

// Account is a main account (ParentID == 0) or a sub-account. Both share one
// id sequence and one credential model; the fields that only make sense for
// one kind are zero for the other.
type Account struct {
	ID           int64
	APIID        string
	AuthID       string
	ParentID     int64  // 0 for a main account
	ParentAuthID string // "" for a main account

	Name        string
	Email       *string
	Phone       *string
	Description *string
	Permissions *Permissions
	RateLimit   int
	Enabled     bool
	// ParentEnabled is the parent's enabled flag (a main account's own flag),
	// loaded with the account so that authentication needs one read.
	ParentEnabled bool

	EmailVerified   bool
	KYCMode         string
	BusinessType    *string
	KYCCallsBlocked bool

	// Main-account settings.
	Currency            string
	MaxSubAccounts      int
	LowBalanceThreshold Money
	Pricing             Pricing

	// PasswordHash is the encoded argon2id hash of the console password, "" if none.
	PasswordHash string

	// SubAccountCount is filled by store reads of main accounts.
	SubAccountCount int

	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
	LastUsed  *time.Time
	DeletedAt *time.Time
}

// IsMain reports whether a is a main account.
func (a *Account) IsMain() bool { return a.ParentID == 0 }

// Role is "main" or "sub_account" (CONTRACT §1.4 /auth/me).
func (a *Account) Role() string {
	if a.IsMain() {
		return "main"
	}
	return "sub_account"
}

// TenantAuthID is the auth_id of the main account that owns a.
func (a *Account) TenantAuthID() string {
	if a.IsMain() {
		return a.AuthID
	}
	return a.ParentAuthID
}

// Active reports whether the account may use the API: it and its main
// account are enabled (CONTRACT §1.5 step 2).
func (a *Account) Active() bool { return a.Enabled && a.ParentEnabled }

// ResourceURI is the legacy resource path of a sub-account.
func (a *Account) ResourceURI() string {
	return "/v1/Account/" + a.ParentAuthID + "/Subaccount/" + a.AuthID + "/"
}

// AccountURI is the legacy path of the owning main account.
func (a *Account) AccountURI() string { return "/v1/Account/" + a.TenantAuthID() + "/" }

var (
	e164Pattern     = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// ValidE164 reports whether s is an E.164 number with a leading plus.
func ValidE164(s string) bool { return e164Pattern.MatchString(s) }

// ValidCurrency reports whether s is three upper-case letters.
func ValidCurrency(s string) bool { return currencyPattern.MatchString(s) }

// NormalizeEmail trims and lower-cases an email address.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidEmail reports whether s (already normalized) is a plain address
// local@domain.tld of at most 254 characters.
func ValidEmail(s string) bool {
	if s == "" || len(s) > MaxEmailLen {
		return false
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

func validBusinessType(s string) bool {
	for _, b := range BusinessTypes {
		if b == s {
			return true
		}
	}
	return false
}

// checkName validates a required display name.
func checkName(v *Validation, field, name string) {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		v.Add(field, FieldRequired, "is required")
	case n > MaxNameLen:
		v.Add(field, FieldTooLong, "must be at most 100 characters")
	}
}

func checkEmail(v *Validation, email *string) {
	if email != nil && !ValidEmail(*email) {
		v.Add("email", FieldInvalidFormat, "must be a valid email address")
	}
}

// checkContactUpdate validates the name, email and phone of an update.
func checkContactUpdate(v *Validation, name Opt[string], email, phone Opt[*string]) {
	if name.Set {
		checkName(v, "name", name.V)
	}
	if email.Set {
		checkEmail(v, email.V)
	}
	if phone.Set {
		checkPhone(v, phone.V)
	}
}

func checkPhone(v *Validation, phone *string) {
	if phone != nil && !ValidE164(*phone) {
		v.Add("phone", FieldInvalidFormat, "must be an E.164 number such as +14155550100")
	}
}

// PasswordLengthOK reports whether a console password has 8–128 characters.
func PasswordLengthOK(pw string) bool {
	n := utf8.RuneCountInString(pw)
	return n >= MinPasswordLen && n <= MaxPasswordLen
}

func checkPassword(v *Validation, pw string) {
	if !PasswordLengthOK(pw) {
		v.Add("password", FieldOutOfRange, "must be 8 to 128 characters")
	}
}

func checkRateLimit(v *Validation, rl, max int) {
	if rl < 1 || rl > max {
		v.Add("rate_limit", FieldOutOfRange, "must be between 1 and "+strconv.Itoa(max))
	}
}
