package switchboard_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	sb "github.com/switchboard-voice/switchboard"
)

func str(s string) *string { return &s }

// fieldErrors returns the details of a validation_error, failing the test
// for any other outcome except nil.
func fieldErrors(t *testing.T, err error) []sb.FieldError {
	t.Helper()
	if err == nil {
		return nil
	}
	e := sb.AsError(err)
	if e.Code != sb.EValidation {
		t.Fatalf("error code = %q, want validation_error (%v)", e.Code, err)
	}
	if len(e.Details) == 0 {
		t.Fatalf("validation_error without details: %v", err)
	}
	for _, d := range e.Details {
		if d.Message == "" {
			t.Errorf("detail %+v has no message", d)
		}
	}
	return e.Details
}

func fe(field, code string) sb.FieldError { return sb.FieldError{Field: field, Code: code} }

// TestSubAccountCreateValidate checks the input rules of CONTRACT §4.2.
func TestSubAccountCreateValidate(t *testing.T) {
	// Multibyte names: rune counts, not bytes, decide.
	name100 := strings.Repeat("é", 100)
	name101 := strings.Repeat("日", 101)
	tests := []struct {
		name string
		in   sb.SubAccountCreate
		want []sb.FieldError
	}{
		{"minimal", sb.SubAccountCreate{Name: "Support Team"}, nil},
		{"everything valid", sb.SubAccountCreate{
			Name: "Support Team", Email: str("support@example.com"), Phone: str("+14155550100"),
			Description: str("Support line"), RateLimit: sb.Some(1000), Permissions: &sb.Permissions{Calls: true},
			Password: str("correct horse"), Enabled: sb.Some(false), KYCMode: sb.Some(sb.KYCCustomerUse),
			BusinessType: str("private_limited"),
		}, nil},
		{"name missing", sb.SubAccountCreate{}, []sb.FieldError{fe("name", sb.FieldRequired)}},
		{"name 100 runes (200 bytes)", sb.SubAccountCreate{Name: name100}, nil},
		{"name 101 runes", sb.SubAccountCreate{Name: name101}, []sb.FieldError{fe("name", sb.FieldTooLong)}},
		{"customer_use without email", sb.SubAccountCreate{Name: "n", KYCMode: sb.Some(sb.KYCCustomerUse)},
			[]sb.FieldError{fe("email", sb.FieldRequired)}},
		{"customer_use with a bad email reports the format only", sb.SubAccountCreate{Name: "n", Email: str("nope"), KYCMode: sb.Some(sb.KYCCustomerUse)},
			[]sb.FieldError{fe("email", sb.FieldInvalidFormat)}},
		{"customer_use with email", sb.SubAccountCreate{Name: "n", Email: str("a@b.co"), KYCMode: sb.Some(sb.KYCCustomerUse)}, nil},
		{"personal_use without email", sb.SubAccountCreate{Name: "n", KYCMode: sb.Some(sb.KYCPersonalUse)}, nil},
		{"bad email", sb.SubAccountCreate{Name: "n", Email: str("Support <a@b.co>")}, []sb.FieldError{fe("email", sb.FieldInvalidFormat)}},
		{"empty email", sb.SubAccountCreate{Name: "n", Email: str("")}, []sb.FieldError{fe("email", sb.FieldInvalidFormat)}},
		{"bad phone", sb.SubAccountCreate{Name: "n", Phone: str("4155550100")}, []sb.FieldError{fe("phone", sb.FieldInvalidFormat)}},
		{"bad kyc_mode", sb.SubAccountCreate{Name: "n", KYCMode: sb.Some("business")}, []sb.FieldError{fe("kyc_mode", sb.FieldInvalidValue)}},
		{"kyc_mode wrong case", sb.SubAccountCreate{Name: "n", KYCMode: sb.Some("Personal_Use")}, []sb.FieldError{fe("kyc_mode", sb.FieldInvalidValue)}},
		{"empty kyc_mode", sb.SubAccountCreate{Name: "n", KYCMode: sb.Some("")}, []sb.FieldError{fe("kyc_mode", sb.FieldInvalidValue)}},
		{"bad business_type", sb.SubAccountCreate{Name: "n", BusinessType: str("company")}, []sb.FieldError{fe("business_type", sb.FieldInvalidValue)}},
		{"rate_limit 0", sb.SubAccountCreate{Name: "n", RateLimit: sb.Some(0)}, []sb.FieldError{fe("rate_limit", sb.FieldOutOfRange)}},
		{"rate_limit -1", sb.SubAccountCreate{Name: "n", RateLimit: sb.Some(-1)}, []sb.FieldError{fe("rate_limit", sb.FieldOutOfRange)}},
		{"rate_limit 1", sb.SubAccountCreate{Name: "n", RateLimit: sb.Some(1)}, nil},
		{"rate_limit 100000", sb.SubAccountCreate{Name: "n", RateLimit: sb.Some(100_000)}, nil},
		{"rate_limit 100001", sb.SubAccountCreate{Name: "n", RateLimit: sb.Some(100_001)}, []sb.FieldError{fe("rate_limit", sb.FieldOutOfRange)}},
		{"password 7", sb.SubAccountCreate{Name: "n", Password: str("1234567")}, []sb.FieldError{fe("password", sb.FieldOutOfRange)}},
		{"password 8", sb.SubAccountCreate{Name: "n", Password: str("12345678")}, nil},
		{"password 8 multibyte runes", sb.SubAccountCreate{Name: "n", Password: str("ééééé日日日")}, nil},
		{"password 128", sb.SubAccountCreate{Name: "n", Password: str(strings.Repeat("p", 128))}, nil},
		{"password 129", sb.SubAccountCreate{Name: "n", Password: str(strings.Repeat("p", 129))}, []sb.FieldError{fe("password", sb.FieldOutOfRange)}},
		{"description 1000 multibyte runes", sb.SubAccountCreate{Name: "n", Description: str(strings.Repeat("ü", 1000))}, nil},
		{"description 1001", sb.SubAccountCreate{Name: "n", Description: str(strings.Repeat("ü", 1001))}, []sb.FieldError{fe("description", sb.FieldTooLong)}},
		{"empty description", sb.SubAccountCreate{Name: "n", Description: str("")}, nil},
		{"every problem at once", sb.SubAccountCreate{
			Email: str("bad"), Phone: str("+0"), Description: str(strings.Repeat("x", 1001)), RateLimit: sb.Some(0),
			Password: str("short"), KYCMode: sb.Some("x"), BusinessType: str("y"),
		}, []sb.FieldError{
			fe("name", sb.FieldRequired), fe("email", sb.FieldInvalidFormat), fe("phone", sb.FieldInvalidFormat),
			fe("description", sb.FieldTooLong), fe("rate_limit", sb.FieldOutOfRange), fe("password", sb.FieldOutOfRange),
			fe("kyc_mode", sb.FieldInvalidValue), fe("business_type", sb.FieldInvalidValue),
		}},
	}
	for _, b := range sb.BusinessTypes {
		tests = append(tests, struct {
			name string
			in   sb.SubAccountCreate
			want []sb.FieldError
		}{"business_type " + b, sb.SubAccountCreate{Name: "n", BusinessType: str(b)}, nil})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fieldErrors(t, tt.in.Validate())
			if diff := cmp.Diff(tt.want, got, ignoreMessage); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSubAccountCreateFirstDetail checks the exact error of the contract's
// example: details[0] is {email, required} and the message names it.
func TestSubAccountCreateFirstDetail(t *testing.T) {
	err := (&sb.SubAccountCreate{Name: "Support", KYCMode: sb.Some(sb.KYCCustomerUse)}).Validate()
	e := sb.AsError(err)
	if e.Code != sb.EValidation || len(e.Details) == 0 {
		t.Fatalf("Validate = %v, want validation_error with details", err)
	}
	if d := e.Details[0]; d.Field != "email" || d.Code != "required" {
		t.Errorf("details[0] = %+v, want {email required}", d)
	}
	if !strings.HasPrefix(e.Message, "email") {
		t.Errorf("message %q does not name the field", e.Message)
	}
}

var (
	t0     = time.Date(2026, 11, 27, 10, 15, 30, 123456000, time.UTC)
	parent = &sb.Account{ID: 100001, AuthID: "MA_7QK2M9ZD", Enabled: true, ParentEnabled: true, Currency: "USD"}
)

// TestNewSubAccount checks the defaults of a created sub-account (§4.1–4.2).
func TestNewSubAccount(t *testing.T) {
	perms := &sb.Permissions{Calls: true, CDR: false}
	tests := []struct {
		name string
		in   sb.SubAccountCreate
		want sb.Account
	}{
		{"defaults", sb.SubAccountCreate{Name: "Support Team"}, sb.Account{
			ParentID: 100001, ParentAuthID: "MA_7QK2M9ZD", ParentEnabled: true, Name: "Support Team",
			RateLimit: 1000, Enabled: true, KYCMode: sb.KYCPersonalUse, KYCCallsBlocked: false,
			Currency: "USD", Version: 1, CreatedAt: t0, UpdatedAt: t0,
		}},
		{"everything given", sb.SubAccountCreate{
			Name: "Support Team", Email: str("support@example.com"), Phone: str("+14155550100"), Description: str("line"),
			RateLimit: sb.Some(50), Permissions: perms, Enabled: sb.Some(false), KYCMode: sb.Some(sb.KYCCustomerUse),
			BusinessType: str("individual"), Password: str("not stored here"),
		}, sb.Account{
			ParentID: 100001, ParentAuthID: "MA_7QK2M9ZD", ParentEnabled: true, Name: "Support Team",
			Email: str("support@example.com"), Phone: str("+14155550100"), Description: str("line"), Permissions: perms,
			RateLimit: 50, Enabled: false, KYCMode: sb.KYCCustomerUse, BusinessType: str("individual"), KYCCallsBlocked: true,
			Currency: "USD", Version: 1, CreatedAt: t0, UpdatedAt: t0,
		}},
		{"customer_use without business_type is blocked", sb.SubAccountCreate{Name: "n", Email: str("a@b.co"), KYCMode: sb.Some(sb.KYCCustomerUse)}, sb.Account{
			ParentID: 100001, ParentAuthID: "MA_7QK2M9ZD", ParentEnabled: true, Name: "n", Email: str("a@b.co"),
			RateLimit: 1000, Enabled: true, KYCMode: sb.KYCCustomerUse, KYCCallsBlocked: true,
			Currency: "USD", Version: 1, CreatedAt: t0, UpdatedAt: t0,
		}},
		{"explicit personal_use", sb.SubAccountCreate{Name: "n", KYCMode: sb.Some(sb.KYCPersonalUse), BusinessType: str("llp")}, sb.Account{
			ParentID: 100001, ParentAuthID: "MA_7QK2M9ZD", ParentEnabled: true, Name: "n", BusinessType: str("llp"),
			RateLimit: 1000, Enabled: true, KYCMode: sb.KYCPersonalUse, KYCCallsBlocked: false,
			Currency: "USD", Version: 1, CreatedAt: t0, UpdatedAt: t0,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.in.Validate(); err != nil {
				t.Fatalf("fixture does not validate: %v", err)
			}
			got := tt.in.NewSubAccount(parent, t0)
			if diff := cmp.Diff(&tt.want, got); diff != "" {
				t.Errorf("NewSubAccount (-want +got):\n%s", diff)
			}
			if got.IsMain() || got.TenantAuthID() != parent.AuthID || got.Active() != got.Enabled {
				t.Errorf("derived: IsMain=%v tenant=%q active=%v", got.IsMain(), got.TenantAuthID(), got.Active())
			}
		})
	}

	// A disabled parent is carried over, so the new sub-account is inactive.
	off := *parent
	off.Enabled = false
	if a := (&sb.SubAccountCreate{Name: "n"}).NewSubAccount(&off, t0); a.ParentEnabled || a.Active() {
		t.Errorf("sub-account of a disabled parent: ParentEnabled=%v Active=%v, want false, false", a.ParentEnabled, a.Active())
	}
}

// storedSub returns a stored sub-account in mode with email.
func storedSub(mode string, email *string) *sb.Account {
	return &sb.Account{
		ID: 100002, AuthID: "SA_K3P9X2LQ", ParentID: 100001, ParentAuthID: "MA_7QK2M9ZD",
		Name: "Support", Email: email, RateLimit: 1000, Enabled: true, ParentEnabled: true,
		KYCMode: mode, Currency: "INR", Version: 3,
	}
}

// TestSubAccountUpdateValidate checks the partial-update rules of §4.4,
// which depend on the stored record.
func TestSubAccountUpdateValidate(t *testing.T) {
	tests := []struct {
		name string
		cur  *sb.Account
		u    sb.SubAccountUpdate
		want []sb.FieldError
	}{
		{"empty update", storedSub(sb.KYCPersonalUse, nil), sb.SubAccountUpdate{}, nil},
		{"promotion without stored email", storedSub(sb.KYCPersonalUse, nil),
			sb.SubAccountUpdate{KYCMode: sb.Some(sb.KYCCustomerUse)}, []sb.FieldError{fe("email", sb.FieldRequired)}},
		{"promotion with stored email", storedSub(sb.KYCPersonalUse, str("a@b.co")),
			sb.SubAccountUpdate{KYCMode: sb.Some(sb.KYCCustomerUse)}, nil},
		{"promotion with email in the same request", storedSub(sb.KYCPersonalUse, nil),
			sb.SubAccountUpdate{KYCMode: sb.Some(sb.KYCCustomerUse), Email: sb.Some(str("a@b.co"))}, nil},
		{"promotion while clearing the stored email", storedSub(sb.KYCPersonalUse, str("a@b.co")),
			sb.SubAccountUpdate{KYCMode: sb.Some(sb.KYCCustomerUse), Email: sb.Some[*string](nil)}, []sb.FieldError{fe("email", sb.FieldRequired)}},
		{"promotion with a bad email", storedSub(sb.KYCPersonalUse, nil),
			sb.SubAccountUpdate{KYCMode: sb.Some(sb.KYCCustomerUse), Email: sb.Some(str("bad"))}, []sb.FieldError{fe("email", sb.FieldInvalidFormat)}},
		{"clearing email of customer_use", storedSub(sb.KYCCustomerUse, str("a@b.co")),
			sb.SubAccountUpdate{Email: sb.Some[*string](nil)}, []sb.FieldError{fe("email", sb.FieldRequired)}},
		{"clearing email while demoting", storedSub(sb.KYCCustomerUse, str("a@b.co")),
			sb.SubAccountUpdate{Email: sb.Some[*string](nil), KYCMode: sb.Some(sb.KYCPersonalUse)}, nil},
		{"clearing email of personal_use", storedSub(sb.KYCPersonalUse, str("a@b.co")),
			sb.SubAccountUpdate{Email: sb.Some[*string](nil)}, nil},
		{"changing email of customer_use", storedSub(sb.KYCCustomerUse, str("a@b.co")),
			sb.SubAccountUpdate{Email: sb.Some(str("c@d.co"))}, nil},
		{"unrelated change of customer_use", storedSub(sb.KYCCustomerUse, str("a@b.co")),
			sb.SubAccountUpdate{Name: sb.Some("New")}, nil},
		{"empty name", storedSub(sb.KYCPersonalUse, nil), sb.SubAccountUpdate{Name: sb.Some("")}, []sb.FieldError{fe("name", sb.FieldRequired)}},
		{"name 101 runes", storedSub(sb.KYCPersonalUse, nil), sb.SubAccountUpdate{Name: sb.Some(strings.Repeat("ß", 101))}, []sb.FieldError{fe("name", sb.FieldTooLong)}},
		{"clearing phone", storedSub(sb.KYCPersonalUse, nil), sb.SubAccountUpdate{Phone: sb.Some[*string](nil)}, nil},
		{"bad phone", storedSub(sb.KYCPersonalUse, nil), sb.SubAccountUpdate{Phone: sb.Some(str("+1"))}, []sb.FieldError{fe("phone", sb.FieldInvalidFormat)}},
		{"clearing description", storedSub(sb.KYCPersonalUse, nil), sb.SubAccountUpdate{Description: sb.Some[*string](nil)}, nil},
		{"description 1001", storedSub(sb.KYCPersonalUse, nil), sb.SubAccountUpdate{Description: sb.Some(str(strings.Repeat("ü", 1001)))}, []sb.FieldError{fe("description", sb.FieldTooLong)}},
		{"rate_limit 0", storedSub(sb.KYCPersonalUse, nil), sb.SubAccountUpdate{RateLimit: sb.Some(0)}, []sb.FieldError{fe("rate_limit", sb.FieldOutOfRange)}},
		{"rate_limit 100001", storedSub(sb.KYCPersonalUse, nil), sb.SubAccountUpdate{RateLimit: sb.Some(100_001)}, []sb.FieldError{fe("rate_limit", sb.FieldOutOfRange)}},
		{"password 7", storedSub(sb.KYCPersonalUse, nil), sb.SubAccountUpdate{Password: sb.Some("1234567")}, []sb.FieldError{fe("password", sb.FieldOutOfRange)}},
		{"password 129", storedSub(sb.KYCPersonalUse, nil), sb.SubAccountUpdate{Password: sb.Some(strings.Repeat("p", 129))}, []sb.FieldError{fe("password", sb.FieldOutOfRange)}},
		{"bad kyc_mode", storedSub(sb.KYCPersonalUse, nil), sb.SubAccountUpdate{KYCMode: sb.Some("both")}, []sb.FieldError{fe("kyc_mode", sb.FieldInvalidValue)}},
		{"bad business_type", storedSub(sb.KYCPersonalUse, nil), sb.SubAccountUpdate{BusinessType: sb.Some(str("startup"))}, []sb.FieldError{fe("business_type", sb.FieldInvalidValue)}},
		{"clearing business_type", storedSub(sb.KYCCustomerUse, str("a@b.co")), sb.SubAccountUpdate{BusinessType: sb.Some[*string](nil)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := *tt.cur
			got := fieldErrors(t, tt.u.Validate(tt.cur))
			if diff := cmp.Diff(tt.want, got, ignoreMessage); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, *tt.cur); diff != "" {
				t.Errorf("Validate changed the record (-before +after):\n%s", diff)
			}
		})
	}
}

// TestSubAccountUpdateApply checks which keys an update reports as changed
// (they feed changed_fields of subaccount.updated) and the record after it.
func TestSubAccountUpdateApply(t *testing.T) {
	verified := func(a *sb.Account) *sb.Account { a.EmailVerified = true; return a }
	withPerms := func(a *sb.Account, p *sb.Permissions) *sb.Account { a.Permissions = p; return a }
	tests := []struct {
		name    string
		cur     *sb.Account
		u       sb.SubAccountUpdate
		pwHash  string
		changed []string
		check   func(t *testing.T, a *sb.Account)
	}{
		{"empty update", storedSub(sb.KYCPersonalUse, nil), sb.SubAccountUpdate{}, "", nil, nil},
		{"same values", verified(withPerms(storedSub(sb.KYCCustomerUse, str("a@b.co")), &sb.Permissions{Calls: true})), sb.SubAccountUpdate{
			Name: sb.Some("Support"), Email: sb.Some(str("a@b.co")), Phone: sb.Some[*string](nil), Description: sb.Some[*string](nil),
			RateLimit: sb.Some(1000), Permissions: sb.Some(&sb.Permissions{Calls: true}), Enabled: sb.Some(true),
			KYCMode: sb.Some(sb.KYCCustomerUse), BusinessType: sb.Some[*string](nil),
		}, "", nil, func(t *testing.T, a *sb.Account) {
			if !a.EmailVerified {
				t.Error("re-sending the same email reset email_verified")
			}
		}},
		{"name", storedSub(sb.KYCPersonalUse, nil), sb.SubAccountUpdate{Name: sb.Some("Billing")}, "", []string{"name"},
			func(t *testing.T, a *sb.Account) {
				if a.Name != "Billing" {
					t.Errorf("Name = %q", a.Name)
				}
			}},
		{"email change resets email_verified", verified(storedSub(sb.KYCCustomerUse, str("a@b.co"))), sb.SubAccountUpdate{Email: sb.Some(str("c@d.co"))}, "",
			[]string{"email", "email_verified"}, func(t *testing.T, a *sb.Account) {
				if a.Email == nil || *a.Email != "c@d.co" || a.EmailVerified {
					t.Errorf("Email, EmailVerified = %v, %v", a.Email, a.EmailVerified)
				}
			}},
		{"email change of an unverified address", storedSub(sb.KYCPersonalUse, str("a@b.co")), sb.SubAccountUpdate{Email: sb.Some(str("c@d.co"))}, "",
			[]string{"email"}, nil},
		{"email set from null", storedSub(sb.KYCPersonalUse, nil), sb.SubAccountUpdate{Email: sb.Some(str("c@d.co"))}, "", []string{"email"}, nil},
		{"email cleared", verified(storedSub(sb.KYCPersonalUse, str("a@b.co"))), sb.SubAccountUpdate{Email: sb.Some[*string](nil)}, "",
			[]string{"email", "email_verified"}, func(t *testing.T, a *sb.Account) {
				if a.Email != nil || a.EmailVerified {
					t.Errorf("Email, EmailVerified = %v, %v", a.Email, a.EmailVerified)
				}
			}},
		{"enabled lists is_active too", storedSub(sb.KYCPersonalUse, nil), sb.SubAccountUpdate{Enabled: sb.Some(false)}, "",
			[]string{"enabled", "is_active"}, func(t *testing.T, a *sb.Account) {
				if a.Enabled || a.Active() {
					t.Errorf("Enabled, Active = %v, %v", a.Enabled, a.Active())
				}
			}},
		{"permissions equal by value", withPerms(storedSub(sb.KYCPersonalUse, nil), &sb.Permissions{Calls: true, CDR: false}),
			sb.SubAccountUpdate{Permissions: sb.Some(&sb.Permissions{Calls: true, CDR: false})}, "", nil, nil},
		{"permissions differ by value", withPerms(storedSub(sb.KYCPersonalUse, nil), &sb.Permissions{Calls: true, CDR: false}),
			sb.SubAccountUpdate{Permissions: sb.Some(&sb.Permissions{Calls: true, CDR: true})}, "", []string{"permissions"}, nil},
		{"permissions reset to null", withPerms(storedSub(sb.KYCPersonalUse, nil), &sb.Permissions{Calls: true, CDR: true}),
			sb.SubAccountUpdate{Permissions: sb.Some[*sb.Permissions](nil)}, "", []string{"permissions"}, func(t *testing.T, a *sb.Account) {
				if a.Permissions != nil {
					t.Errorf("Permissions = %+v, want nil", a.Permissions)
				}
			}},
		{"permissions set from null", storedSub(sb.KYCPersonalUse, nil),
			sb.SubAccountUpdate{Permissions: sb.Some(&sb.Permissions{Calls: true, CDR: true})}, "", []string{"permissions"}, nil},
		{"password is always a change", storedSub(sb.KYCPersonalUse, nil), sb.SubAccountUpdate{Password: sb.Some("new password")}, "$argon2id$hash",
			[]string{"password"}, func(t *testing.T, a *sb.Account) {
				if a.PasswordHash != "$argon2id$hash" {
					t.Errorf("PasswordHash = %q", a.PasswordHash)
				}
			}},
		{"kyc_mode and business_type", storedSub(sb.KYCPersonalUse, str("a@b.co")),
			sb.SubAccountUpdate{KYCMode: sb.Some(sb.KYCCustomerUse), BusinessType: sb.Some(str("llp"))}, "", []string{"kyc_mode", "business_type"}, nil},
		{"several keys in object order", storedSub(sb.KYCPersonalUse, nil), sb.SubAccountUpdate{
			BusinessType: sb.Some(str("llp")), Enabled: sb.Some(false), RateLimit: sb.Some(5), Description: sb.Some(str("d")),
			Phone: sb.Some(str("+14155550100")), Name: sb.Some("N"),
		}, "", []string{"name", "phone", "description", "rate_limit", "enabled", "is_active", "business_type"}, func(t *testing.T, a *sb.Account) {
			if a.RateLimit != 5 || *a.Phone != "+14155550100" || *a.Description != "d" || *a.BusinessType != "llp" {
				t.Errorf("record after update = %+v", a)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.cur
			before := *a
			changed := tt.u.Apply(a, tt.pwHash)
			if diff := cmp.Diff(tt.changed, changed); diff != "" {
				t.Errorf("changed keys (-want +got):\n%s", diff)
			}
			if len(tt.changed) == 0 {
				if diff := cmp.Diff(&before, a); diff != "" {
					t.Errorf("a no-op update changed the record (-before +after):\n%s", diff)
				}
			}
			if a.Version != before.Version || a.ID != before.ID || a.AuthID != before.AuthID {
				t.Errorf("Apply touched identity or version: %+v", a)
			}
			if tt.check != nil {
				tt.check(t, a)
			}
		})
	}
}
