package switchboard_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	sb "github.com/switchboard-voice/switchboard"
)

// TestMainAccountCreateValidate checks the operator's create body (§3.1).
func TestMainAccountCreateValidate(t *testing.T) {
	tests := []struct {
		name string
		in   sb.MainAccountCreate
		want []sb.FieldError
	}{
		{"minimal", sb.MainAccountCreate{Name: "Acme Voice"}, nil},
		{"everything valid", sb.MainAccountCreate{
			Name: "Acme Voice", Email: str("ops@acme.test"), Phone: str("+918000000001"), Currency: sb.Some("USD"),
			Password: str("password"), Enabled: sb.Some(false), RateLimit: sb.Some(1_000_000), MaxSubAccounts: sb.Some(0),
			LowBalanceThreshold: sb.Some[sb.Money](100_000_000),
			Pricing:             sb.PricingUpdate{OutboundRatePerMinute: sb.Some[sb.Money](500_000), BillingIncrementSeconds: sb.Some(1), MinimumDurationSeconds: sb.Some(3600)},
		}, nil},
		{"name missing", sb.MainAccountCreate{}, []sb.FieldError{fe("name", sb.FieldRequired)}},
		{"name 101 runes", sb.MainAccountCreate{Name: strings.Repeat("ñ", 101)}, []sb.FieldError{fe("name", sb.FieldTooLong)}},
		{"bad email", sb.MainAccountCreate{Name: "n", Email: str("ops@acme")}, []sb.FieldError{fe("email", sb.FieldInvalidFormat)}},
		{"bad phone", sb.MainAccountCreate{Name: "n", Phone: str("+0123")}, []sb.FieldError{fe("phone", sb.FieldInvalidFormat)}},
		{"lower-case currency", sb.MainAccountCreate{Name: "n", Currency: sb.Some("inr")}, []sb.FieldError{fe("currency", sb.FieldInvalidFormat)}},
		{"empty currency", sb.MainAccountCreate{Name: "n", Currency: sb.Some("")}, []sb.FieldError{fe("currency", sb.FieldInvalidFormat)}},
		{"password 7", sb.MainAccountCreate{Name: "n", Password: str("1234567")}, []sb.FieldError{fe("password", sb.FieldOutOfRange)}},
		{"rate_limit 0", sb.MainAccountCreate{Name: "n", RateLimit: sb.Some(0)}, []sb.FieldError{fe("rate_limit", sb.FieldOutOfRange)}},
		{"rate_limit 1000001", sb.MainAccountCreate{Name: "n", RateLimit: sb.Some(1_000_001)}, []sb.FieldError{fe("rate_limit", sb.FieldOutOfRange)}},
		{"max_sub_accounts -1", sb.MainAccountCreate{Name: "n", MaxSubAccounts: sb.Some(-1)}, []sb.FieldError{fe("max_sub_accounts", sb.FieldOutOfRange)}},
		{"negative low_balance_threshold", sb.MainAccountCreate{Name: "n", LowBalanceThreshold: sb.Some[sb.Money](-1)}, []sb.FieldError{fe("low_balance_threshold", sb.FieldOutOfRange)}},
		{"negative rates", sb.MainAccountCreate{Name: "n", Pricing: sb.PricingUpdate{OutboundRatePerMinute: sb.Some[sb.Money](-1), InboundRatePerMinute: sb.Some[sb.Money](-1)}},
			[]sb.FieldError{fe("pricing.outbound_rate_per_minute", sb.FieldOutOfRange), fe("pricing.inbound_rate_per_minute", sb.FieldOutOfRange)}},
		{"billing increment 0", sb.MainAccountCreate{Name: "n", Pricing: sb.PricingUpdate{BillingIncrementSeconds: sb.Some(0)}},
			[]sb.FieldError{fe("pricing.billing_increment_seconds", sb.FieldOutOfRange)}},
		{"billing increment 3601", sb.MainAccountCreate{Name: "n", Pricing: sb.PricingUpdate{BillingIncrementSeconds: sb.Some(3601)}},
			[]sb.FieldError{fe("pricing.billing_increment_seconds", sb.FieldOutOfRange)}},
		{"minimum duration -1", sb.MainAccountCreate{Name: "n", Pricing: sb.PricingUpdate{MinimumDurationSeconds: sb.Some(-1)}},
			[]sb.FieldError{fe("pricing.minimum_duration_seconds", sb.FieldOutOfRange)}},
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

// TestNewMainAccount checks the defaults of a new main account (§3.1, §0.8).
func TestNewMainAccount(t *testing.T) {
	got := (&sb.MainAccountCreate{Name: "Acme Voice"}).NewMainAccount(t0)
	want := &sb.Account{
		Name: "Acme Voice", RateLimit: 6000, Enabled: true, ParentEnabled: true, KYCMode: sb.KYCPersonalUse,
		Currency: "INR", MaxSubAccounts: 1000, LowBalanceThreshold: 0,
		Pricing: sb.Pricing{OutboundRatePerMinute: 0, InboundRatePerMinute: 0, BillingIncrementSeconds: 60, MinimumDurationSeconds: 0},
		Version: 1, CreatedAt: t0, UpdatedAt: t0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if !got.IsMain() || got.Role() != "main" || !got.Active() {
		t.Errorf("IsMain=%v Role=%q Active=%v", got.IsMain(), got.Role(), got.Active())
	}

	c := sb.MainAccountCreate{
		Name: "Acme", Email: str("ops@acme.test"), Phone: str("+918000000001"), Currency: sb.Some("USD"), Enabled: sb.Some(false),
		RateLimit: sb.Some(10), MaxSubAccounts: sb.Some(5), LowBalanceThreshold: sb.Some[sb.Money](2_500_000),
		Pricing: sb.PricingUpdate{OutboundRatePerMinute: sb.Some[sb.Money](500_000), MinimumDurationSeconds: sb.Some(30)},
	}
	got = c.NewMainAccount(t0)
	want = &sb.Account{
		Name: "Acme", Email: str("ops@acme.test"), Phone: str("+918000000001"), RateLimit: 10, Enabled: false, ParentEnabled: false,
		KYCMode: sb.KYCPersonalUse, Currency: "USD", MaxSubAccounts: 5, LowBalanceThreshold: 2_500_000,
		Pricing: sb.Pricing{OutboundRatePerMinute: 500_000, BillingIncrementSeconds: 60, MinimumDurationSeconds: 30},
		Version: 1, CreatedAt: t0, UpdatedAt: t0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("given values (-want +got):\n%s", diff)
	}
	if got.Active() {
		t.Error("a main account created disabled is active")
	}

	// Sub-accounts inherit the main account's currency.
	sub := (&sb.SubAccountCreate{Name: "s"}).NewSubAccount(got, t0)
	if sub.Currency != "USD" {
		t.Errorf("sub-account currency = %q, want the parent's USD", sub.Currency)
	}
}

// TestPricingUpdateMerge checks that pricing is merged key by key (§3.1).
func TestPricingUpdateMerge(t *testing.T) {
	base := sb.Pricing{OutboundRatePerMinute: 500_000, InboundRatePerMinute: 100_000, BillingIncrementSeconds: 60, MinimumDurationSeconds: 10}
	tests := []struct {
		name string
		u    sb.PricingUpdate
		want sb.Pricing
	}{
		{"nothing set", sb.PricingUpdate{}, base},
		{"outbound only", sb.PricingUpdate{OutboundRatePerMinute: sb.Some[sb.Money](750_000)},
			sb.Pricing{OutboundRatePerMinute: 750_000, InboundRatePerMinute: 100_000, BillingIncrementSeconds: 60, MinimumDurationSeconds: 10}},
		{"inbound set to zero", sb.PricingUpdate{InboundRatePerMinute: sb.Some[sb.Money](0)},
			sb.Pricing{OutboundRatePerMinute: 500_000, InboundRatePerMinute: 0, BillingIncrementSeconds: 60, MinimumDurationSeconds: 10}},
		{"increment only", sb.PricingUpdate{BillingIncrementSeconds: sb.Some(1)},
			sb.Pricing{OutboundRatePerMinute: 500_000, InboundRatePerMinute: 100_000, BillingIncrementSeconds: 1, MinimumDurationSeconds: 10}},
		{"minimum set to zero", sb.PricingUpdate{MinimumDurationSeconds: sb.Some(0)},
			sb.Pricing{OutboundRatePerMinute: 500_000, InboundRatePerMinute: 100_000, BillingIncrementSeconds: 60, MinimumDurationSeconds: 0}},
		{"all keys", sb.PricingUpdate{OutboundRatePerMinute: sb.Some[sb.Money](1), InboundRatePerMinute: sb.Some[sb.Money](2), BillingIncrementSeconds: sb.Some(6), MinimumDurationSeconds: sb.Some(30)},
			sb.Pricing{OutboundRatePerMinute: 1, InboundRatePerMinute: 2, BillingIncrementSeconds: 6, MinimumDurationSeconds: 30}},
	}
	for _, tt := range tests {
		orig := base
		if diff := cmp.Diff(tt.want, tt.u.Merge(base)); diff != "" {
			t.Errorf("%s: Merge (-want +got):\n%s", tt.name, diff)
		}
		if base != orig {
			t.Errorf("%s: Merge modified its argument", tt.name)
		}
	}
	if got := (sb.PricingUpdate{}).Merge(sb.DefaultPricing()); got != (sb.Pricing{BillingIncrementSeconds: 60}) {
		t.Errorf("DefaultPricing = %+v", got)
	}
}

func storedMain() *sb.Account {
	return &sb.Account{
		ID: 100001, AuthID: "MA_7QK2M9ZD", Name: "Acme Voice", Email: str("ops@acme.test"), RateLimit: 6000,
		Enabled: true, ParentEnabled: true, KYCMode: sb.KYCPersonalUse, Currency: "INR", MaxSubAccounts: 1000,
		Pricing: sb.Pricing{OutboundRatePerMinute: 500_000, BillingIncrementSeconds: 60}, Version: 2,
	}
}

// TestMainAccountUpdateValidate checks that pricing is validated as merged
// with the stored rate card.
func TestMainAccountUpdateValidate(t *testing.T) {
	tests := []struct {
		name string
		u    sb.MainAccountUpdate
		want []sb.FieldError
	}{
		{"empty", sb.MainAccountUpdate{}, nil},
		{"valid keys", sb.MainAccountUpdate{Name: sb.Some("New"), Email: sb.Some[*string](nil), Phone: sb.Some(str("+14155550100")),
			Password: sb.Some("12345678"), Enabled: sb.Some(false), RateLimit: sb.Some(1), MaxSubAccounts: sb.Some(0),
			LowBalanceThreshold: sb.Some[sb.Money](0), Pricing: sb.PricingUpdate{InboundRatePerMinute: sb.Some[sb.Money](1)}}, nil},
		{"empty name", sb.MainAccountUpdate{Name: sb.Some("")}, []sb.FieldError{fe("name", sb.FieldRequired)}},
		{"bad email", sb.MainAccountUpdate{Email: sb.Some(str("x"))}, []sb.FieldError{fe("email", sb.FieldInvalidFormat)}},
		{"short password", sb.MainAccountUpdate{Password: sb.Some("short")}, []sb.FieldError{fe("password", sb.FieldOutOfRange)}},
		{"rate_limit 0", sb.MainAccountUpdate{RateLimit: sb.Some(0)}, []sb.FieldError{fe("rate_limit", sb.FieldOutOfRange)}},
		{"pricing increment 0", sb.MainAccountUpdate{Pricing: sb.PricingUpdate{BillingIncrementSeconds: sb.Some(0)}},
			[]sb.FieldError{fe("pricing.billing_increment_seconds", sb.FieldOutOfRange)}},
		{"negative outbound", sb.MainAccountUpdate{Pricing: sb.PricingUpdate{OutboundRatePerMinute: sb.Some[sb.Money](-1)}},
			[]sb.FieldError{fe("pricing.outbound_rate_per_minute", sb.FieldOutOfRange)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fieldErrors(t, tt.u.Validate(storedMain()))
			if diff := cmp.Diff(tt.want, got, ignoreMessage); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMainAccountUpdateApply checks changed keys and the record after an
// operator update.
func TestMainAccountUpdateApply(t *testing.T) {
	tests := []struct {
		name    string
		u       sb.MainAccountUpdate
		pwHash  string
		changed []string
		check   func(t *testing.T, a *sb.Account)
	}{
		{"empty", sb.MainAccountUpdate{}, "", nil, nil},
		{"same values", sb.MainAccountUpdate{Name: sb.Some("Acme Voice"), Email: sb.Some(str("ops@acme.test")), Phone: sb.Some[*string](nil),
			Enabled: sb.Some(true), RateLimit: sb.Some(6000), MaxSubAccounts: sb.Some(1000), LowBalanceThreshold: sb.Some[sb.Money](0),
			Pricing: sb.PricingUpdate{OutboundRatePerMinute: sb.Some[sb.Money](500_000), BillingIncrementSeconds: sb.Some(60)}}, "", nil, nil},
		{"disable", sb.MainAccountUpdate{Enabled: sb.Some(false)}, "", []string{"enabled"}, func(t *testing.T, a *sb.Account) {
			if a.Enabled || a.ParentEnabled || a.Active() {
				t.Errorf("Enabled=%v ParentEnabled=%v Active=%v, want all false", a.Enabled, a.ParentEnabled, a.Active())
			}
		}},
		{"one pricing key keeps the others", sb.MainAccountUpdate{Pricing: sb.PricingUpdate{InboundRatePerMinute: sb.Some[sb.Money](250_000)}}, "",
			[]string{"pricing"}, func(t *testing.T, a *sb.Account) {
				want := sb.Pricing{OutboundRatePerMinute: 500_000, InboundRatePerMinute: 250_000, BillingIncrementSeconds: 60}
				if a.Pricing != want {
					t.Errorf("Pricing = %+v, want %+v", a.Pricing, want)
				}
			}},
		{"password", sb.MainAccountUpdate{Password: sb.Some("12345678")}, "hash", []string{"password"}, func(t *testing.T, a *sb.Account) {
			if a.PasswordHash != "hash" {
				t.Errorf("PasswordHash = %q", a.PasswordHash)
			}
		}},
		{"several", sb.MainAccountUpdate{
			LowBalanceThreshold: sb.Some[sb.Money](1_000_000), MaxSubAccounts: sb.Some(3), RateLimit: sb.Some(7),
			Phone: sb.Some(str("+14155550100")), Email: sb.Some[*string](nil), Name: sb.Some("B"),
		}, "", []string{"name", "email", "phone", "rate_limit", "max_sub_accounts", "low_balance_threshold"}, func(t *testing.T, a *sb.Account) {
			if a.Name != "B" || a.Email != nil || *a.Phone != "+14155550100" || a.RateLimit != 7 || a.MaxSubAccounts != 3 || a.LowBalanceThreshold != 1_000_000 {
				t.Errorf("record = %+v", a)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := storedMain()
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
			if tt.check != nil {
				tt.check(t, a)
			}
		})
	}
}
