package switchboard

import "time"

// Opt is an optional input value: Set is false when the key was absent.
// For nullable fields T is a pointer and a nil V with Set means "clear".
type Opt[T any] struct {
	Set bool
	V   T
}

// Some returns a set Opt holding v.
func Some[T any](v T) Opt[T] { return Opt[T]{Set: true, V: v} }

// Or returns the value when set, else def.
func (o Opt[T]) Or(def T) T {
	if o.Set {
		return o.V
	}
	return def
}

// SubAccountCreate is the input of sub-account creation (CONTRACT §4.2).
// Strings are expected trimmed and the email lower-cased.
type SubAccountCreate struct {
	Name         string
	Email        *string
	Phone        *string
	Description  *string
	RateLimit    Opt[int]
	Permissions  *Permissions
	Password     *string
	Enabled      Opt[bool]
	KYCMode      Opt[string]
	BusinessType *string
}

// Validate checks every field and reports all problems at once.
func (c *SubAccountCreate) Validate() error {
	var v Validation
	checkName(&v, "name", c.Name)
	checkEmail(&v, c.Email)
	checkPhone(&v, c.Phone)
	if c.Description != nil && len([]rune(*c.Description)) > MaxDescriptionLen {
		v.Add("description", FieldTooLong, "must be at most 1000 characters")
	}
	if c.RateLimit.Set {
		checkRateLimit(&v, c.RateLimit.V, MaxSubRateLimit)
	}
	if c.Password != nil {
		checkPassword(&v, *c.Password)
	}
	mode := KYCPersonalUse
	if c.KYCMode.Set {
		mode = c.KYCMode.V
		if mode != KYCPersonalUse && mode != KYCCustomerUse {
			v.Add("kyc_mode", FieldInvalidValue, "must be personal_use or customer_use")
		}
	}
	if c.BusinessType != nil && !validBusinessType(*c.BusinessType) {
		v.Add("business_type", FieldInvalidValue, "is not a known business type")
	}
	if mode == KYCCustomerUse && c.Email == nil && !v.Has("email") {
		v.Add("email", FieldRequired, "is required when kyc_mode is customer_use")
	}
	return v.Err()
}

// NewSubAccount builds the account record of a validated create request.
// Identifiers, credentials and times are set by the caller.
func (c *SubAccountCreate) NewSubAccount(parent *Account, now time.Time) *Account {
	a := &Account{
		ParentID:      parent.ID,
		ParentAuthID:  parent.AuthID,
		ParentEnabled: parent.Enabled,
		Name:          c.Name,
		Email:         c.Email,
		Phone:         c.Phone,
		Description:   c.Description,
		Permissions:   c.Permissions,
		RateLimit:     c.RateLimit.Or(DefaultSubRateLimit),
		Enabled:       c.Enabled.Or(true),
		KYCMode:       c.KYCMode.Or(KYCPersonalUse),
		BusinessType:  c.BusinessType,
		Currency:      parent.Currency,
		Version:       1,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	a.KYCCallsBlocked = KYCCallsBlocked(a.KYCMode, a.BusinessType, nil)
	return a
}

// SubAccountUpdate is a partial update (CONTRACT §4.4); unset fields stay.
type SubAccountUpdate struct {
	Name         Opt[string]
	Email        Opt[*string]
	Phone        Opt[*string]
	Description  Opt[*string]
	RateLimit    Opt[int]
	Permissions  Opt[*Permissions]
	Enabled      Opt[bool]
	KYCMode      Opt[string]
	BusinessType Opt[*string]
	// Password is the new console password; the caller hashes it.
	Password Opt[string]
}

// Validate checks the fields that are set, against the current record.
func (u *SubAccountUpdate) Validate(cur *Account) error {
	var v Validation
	checkContactUpdate(&v, u.Name, u.Email, u.Phone)
	if u.Description.Set && u.Description.V != nil && len([]rune(*u.Description.V)) > MaxDescriptionLen {
		v.Add("description", FieldTooLong, "must be at most 1000 characters")
	}
	if u.RateLimit.Set {
		checkRateLimit(&v, u.RateLimit.V, MaxSubRateLimit)
	}
	if u.Password.Set {
		checkPassword(&v, u.Password.V)
	}
	mode := cur.KYCMode
	if u.KYCMode.Set {
		mode = u.KYCMode.V
		if mode != KYCPersonalUse && mode != KYCCustomerUse {
			v.Add("kyc_mode", FieldInvalidValue, "must be personal_use or customer_use")
		}
	}
	if u.BusinessType.Set && u.BusinessType.V != nil && !validBusinessType(*u.BusinessType.V) {
		v.Add("business_type", FieldInvalidValue, "is not a known business type")
	}
	email := cur.Email
	if u.Email.Set {
		email = u.Email.V
	}
	if mode == KYCCustomerUse && email == nil && !v.Has("email") {
		v.Add("email", FieldRequired, "is required when kyc_mode is customer_use")
	}
	return v.Err()
}

// Apply writes the set fields into a and returns the names of the keys
// whose value changed. passwordHash is stored when the password is set.
// is_active and email_verified follow their inputs; kyc_calls_blocked is
// re-derived by the caller, which knows the verifications on record.
func (u *SubAccountUpdate) Apply(a *Account, passwordHash string) []string {
	var c changes
	c.set("name", u.Name.Set && u.Name.V != a.Name, func() { a.Name = u.Name.V })
	c.set("email", u.Email.Set && !equalPtr(u.Email.V, a.Email), func() { a.Email = u.Email.V })
	c.set("email_verified", c.has("email") && a.EmailVerified, func() { a.EmailVerified = false })
	c.set("phone", u.Phone.Set && !equalPtr(u.Phone.V, a.Phone), func() { a.Phone = u.Phone.V })
	c.set("description", u.Description.Set && !equalPtr(u.Description.V, a.Description), func() { a.Description = u.Description.V })
	c.set("permissions", u.Permissions.Set && !equalPtr(u.Permissions.V, a.Permissions), func() { a.Permissions = u.Permissions.V })
	c.set("rate_limit", u.RateLimit.Set && u.RateLimit.V != a.RateLimit, func() { a.RateLimit = u.RateLimit.V })
	c.set("password", u.Password.Set, func() { a.PasswordHash = passwordHash })
	if u.Enabled.Set && u.Enabled.V != a.Enabled {
		a.Enabled = u.Enabled.V
		c.keys = append(c.keys, "enabled", "is_active")
	}
	c.set("kyc_mode", u.KYCMode.Set && u.KYCMode.V != a.KYCMode, func() { a.KYCMode = u.KYCMode.V })
	c.set("business_type", u.BusinessType.Set && !equalPtr(u.BusinessType.V, a.BusinessType), func() { a.BusinessType = u.BusinessType.V })
	return c.keys
}

// changes collects the keys an update changed.
type changes struct{ keys []string }

// set applies and records key when differs.
func (c *changes) set(key string, differs bool, apply func()) {
	if differs {
		apply()
		c.keys = append(c.keys, key)
	}
}

func (c *changes) has(key string) bool {
	for _, k := range c.keys {
		if k == key {
			return true
		}
	}
	return false
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
