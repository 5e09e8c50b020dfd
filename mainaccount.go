package switchboard

import "time"

// PricingUpdate changes a rate card key by key (CONTRACT §3.1).
type PricingUpdate struct {
	OutboundRatePerMinute   Opt[Money]
	InboundRatePerMinute    Opt[Money]
	BillingIncrementSeconds Opt[int]
	MinimumDurationSeconds  Opt[int]
}

// Merge returns p with the set keys of u applied.
func (u PricingUpdate) Merge(p Pricing) Pricing {
	if u.OutboundRatePerMinute.Set {
		p.OutboundRatePerMinute = u.OutboundRatePerMinute.V
	}
	if u.InboundRatePerMinute.Set {
		p.InboundRatePerMinute = u.InboundRatePerMinute.V
	}
	if u.BillingIncrementSeconds.Set {
		p.BillingIncrementSeconds = u.BillingIncrementSeconds.V
	}
	if u.MinimumDurationSeconds.Set {
		p.MinimumDurationSeconds = u.MinimumDurationSeconds.V
	}
	return p
}

// MainAccountCreate is the operator's (or CLI's) input for a new main
// account. Strings are expected trimmed, the email lower-cased.
type MainAccountCreate struct {
	Name                string
	Email               *string
	Phone               *string
	Currency            Opt[string]
	Password            *string
	Enabled             Opt[bool]
	RateLimit           Opt[int]
	MaxSubAccounts      Opt[int]
	LowBalanceThreshold Opt[Money]
	Pricing             PricingUpdate
}

// Validate checks every field and reports all problems at once.
func (c *MainAccountCreate) Validate() error {
	var v Validation
	checkName(&v, "name", c.Name)
	checkEmail(&v, c.Email)
	checkPhone(&v, c.Phone)
	if c.Currency.Set && !ValidCurrency(c.Currency.V) {
		v.Add("currency", FieldInvalidFormat, "must be an ISO-4217 code of three upper-case letters")
	}
	if c.Password != nil {
		checkPassword(&v, *c.Password)
	}
	checkMainSettings(&v, c.RateLimit, c.MaxSubAccounts, c.LowBalanceThreshold)
	c.Pricing.Merge(DefaultPricing()).Validate(&v, "pricing")
	return v.Err()
}

func checkMainSettings(v *Validation, rl, maxSubs Opt[int], low Opt[Money]) {
	if rl.Set {
		checkRateLimit(v, rl.V, MaxMainRateLimit)
	}
	if maxSubs.Set && (maxSubs.V < 0 || maxSubs.V > 1_000_000) {
		v.Add("max_sub_accounts", FieldOutOfRange, "must be between 0 and 1000000")
	}
	if low.Set && low.V < 0 {
		v.Add("low_balance_threshold", FieldOutOfRange, "must not be negative")
	}
}

// NewMainAccount builds the record of a validated create request;
// identifiers and credentials are set by the caller.
func (c *MainAccountCreate) NewMainAccount(now time.Time) *Account {
	a := &Account{
		Name:                c.Name,
		Email:               c.Email,
		Phone:               c.Phone,
		RateLimit:           c.RateLimit.Or(DefaultMainRateLimit),
		Enabled:             c.Enabled.Or(true),
		KYCMode:             KYCPersonalUse,
		Currency:            c.Currency.Or(DefaultCurrency),
		MaxSubAccounts:      c.MaxSubAccounts.Or(DefaultMaxSubAccounts),
		LowBalanceThreshold: c.LowBalanceThreshold.Or(0),
		Pricing:             c.Pricing.Merge(DefaultPricing()),
		Version:             1,
		CreatedAt:           now,
		UpdatedAt:           now,
	}
	a.ParentEnabled = a.Enabled
	return a
}

// MainAccountUpdate is the operator's partial update (CONTRACT §3.1).
type MainAccountUpdate struct {
	Name                Opt[string]
	Email               Opt[*string]
	Phone               Opt[*string]
	Password            Opt[string]
	Enabled             Opt[bool]
	RateLimit           Opt[int]
	MaxSubAccounts      Opt[int]
	LowBalanceThreshold Opt[Money]
	Pricing             PricingUpdate
}

// Validate checks the set fields against the current record.
func (u *MainAccountUpdate) Validate(cur *Account) error {
	var v Validation
	checkContactUpdate(&v, u.Name, u.Email, u.Phone)
	if u.Password.Set {
		checkPassword(&v, u.Password.V)
	}
	checkMainSettings(&v, u.RateLimit, u.MaxSubAccounts, u.LowBalanceThreshold)
	u.Pricing.Merge(cur.Pricing).Validate(&v, "pricing")
	return v.Err()
}

// Apply writes the set fields into a and returns the changed keys.
func (u *MainAccountUpdate) Apply(a *Account, passwordHash string) []string {
	var c changes
	c.set("name", u.Name.Set && u.Name.V != a.Name, func() { a.Name = u.Name.V })
	c.set("email", u.Email.Set && !equalPtr(u.Email.V, a.Email), func() { a.Email = u.Email.V })
	c.set("phone", u.Phone.Set && !equalPtr(u.Phone.V, a.Phone), func() { a.Phone = u.Phone.V })
	c.set("password", u.Password.Set, func() { a.PasswordHash = passwordHash })
	c.set("enabled", u.Enabled.Set && u.Enabled.V != a.Enabled, func() { a.Enabled = u.Enabled.V; a.ParentEnabled = a.Enabled })
	c.set("rate_limit", u.RateLimit.Set && u.RateLimit.V != a.RateLimit, func() { a.RateLimit = u.RateLimit.V })
	c.set("max_sub_accounts", u.MaxSubAccounts.Set && u.MaxSubAccounts.V != a.MaxSubAccounts, func() { a.MaxSubAccounts = u.MaxSubAccounts.V })
	c.set("low_balance_threshold", u.LowBalanceThreshold.Set && u.LowBalanceThreshold.V != a.LowBalanceThreshold,
		func() { a.LowBalanceThreshold = u.LowBalanceThreshold.V })
	p := u.Pricing.Merge(a.Pricing)
	c.set("pricing", p != a.Pricing, func() { a.Pricing = p })
	return c.keys
}
