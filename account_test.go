package switchboard_test

import (
	"strings"
	"testing"

	sb "github.com/switchboard-voice/switchboard"
)

// TestValidEmail checks which (already normalized) addresses are accepted:
// plain local@domain.tld of at most 254 characters.
func TestValidEmail(t *testing.T) {
	// 64 + 1 + 189 = 254 characters.
	longest := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 57) + ".com"
	if len(longest) != 254 {
		t.Fatalf("fixture is %d characters, want 254", len(longest))
	}
	tests := []struct {
		in   string
		want bool
	}{
		{"support@example.com", true},
		{"a@b.co", true},
		{"first.last+tag@mail.example.co.in", true},
		{"o'brien@example.ie", true},
		{"user_name-1@sub-domain.example.org", true},
		{longest, true},
		{"x" + longest, false}, // 255
		{"", false},
		{"support", false},
		{"support.example.com", false},
		{"@example.com", false},
		{"support@", false},
		{"support@localhost", false},
		{"support@example", false},
		{"support@example.com.", false},
		{"support@.example.com", false},
		{"support@example..com", false},
		{"a@b@example.com", false},
		{"Support Team <support@example.com>", false},
		{"<support@example.com>", false},
		{"\"Support\" <support@example.com>", false},
		{"support@example.com (Support)", false},
		{"sup port@example.com", false},
		{" support@example.com", false},
		{"support@example.com ", false},
		{"support@exa mple.com", false},
		{"support@example.com\n", false},
		{"support@example.com,other@example.com", false},
		{".support@example.com", false},
		{"support.@example.com", false},
	}
	for _, tt := range tests {
		if got := sb.ValidEmail(tt.in); got != tt.want {
			t.Errorf("ValidEmail(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestNormalizeEmail checks trimming and lower-casing (§0.6).
func TestNormalizeEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Support@Example.COM", "support@example.com"},
		{"  ops@acme.test\t\n", "ops@acme.test"},
		{"already@lower.case", "already@lower.case"},
		{"", ""},
		{"   ", ""},
	}
	for _, tt := range tests {
		if got := sb.NormalizeEmail(tt.in); got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if n := sb.NormalizeEmail(tt.in); sb.NormalizeEmail(n) != n {
			t.Errorf("NormalizeEmail is not idempotent on %q", tt.in)
		}
	}
	if !sb.ValidEmail(sb.NormalizeEmail("  Support@Example.COM ")) {
		t.Error("a normalized address with surrounding space and capitals is not valid")
	}
}

// TestValidE164 checks ^\+[1-9][0-9]{6,14}$ at its boundaries (§0.5).
func TestValidE164(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"+14155550100", true},
		{"+918000000001", true},
		{"+1234567", true},           // 7 digits, the shortest
		{"+123456789012345", true},   // 15 digits, the longest
		{"+123456", false},           // 6 digits
		{"+1234567890123456", false}, // 16 digits
		{"+04155550100", false},      // leading zero
		{"14155550100", false},       // no plus
		{"++14155550100", false},
		{"+1 415 555 0100", false},
		{"+1-415-555-0100", false},
		{"+1415555010a", false},
		{"", false},
		{"+", false},
		{"+14155550100\n", false},
		{" +14155550100", false},
		{"+١٤١٥٥٥٥٠١٠٠", false}, // Arabic-Indic digits
	}
	for _, tt := range tests {
		if got := sb.ValidE164(tt.in); got != tt.want {
			t.Errorf("ValidE164(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestValidCurrency checks ISO-4217 shaped codes (§0.4).
func TestValidCurrency(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"INR", true},
		{"USD", true},
		{"EUR", true},
		{"inr", false},
		{"Inr", false},
		{"IN", false},
		{"INRR", false},
		{"", false},
		{"IN1", false},
		{"INR\n", false},
		{" INR", false},
		{"ÄBC", false},
	}
	for _, tt := range tests {
		if got := sb.ValidCurrency(tt.in); got != tt.want {
			t.Errorf("ValidCurrency(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestAccountDerived checks role, tenancy, activity and the legacy URIs of
// main and sub-accounts.
func TestAccountDerived(t *testing.T) {
	main := &sb.Account{ID: 100001, AuthID: "MA_7QK2M9ZD", Enabled: true, ParentEnabled: true}
	sub := &sb.Account{ID: 100002, AuthID: "SA_K3P9X2LQ", ParentID: 100001, ParentAuthID: "MA_7QK2M9ZD", Enabled: true, ParentEnabled: true}
	tests := []struct {
		name                 string
		a                    *sb.Account
		isMain               bool
		role, tenant, accURI string
	}{
		{"main", main, true, "main", "MA_7QK2M9ZD", "/v1/Account/MA_7QK2M9ZD/"},
		{"sub", sub, false, "sub_account", "MA_7QK2M9ZD", "/v1/Account/MA_7QK2M9ZD/"},
	}
	for _, tt := range tests {
		if got := tt.a.IsMain(); got != tt.isMain {
			t.Errorf("%s: IsMain = %v", tt.name, got)
		}
		if got := tt.a.Role(); got != tt.role {
			t.Errorf("%s: Role = %q, want %q", tt.name, got, tt.role)
		}
		if got := tt.a.TenantAuthID(); got != tt.tenant {
			t.Errorf("%s: TenantAuthID = %q, want %q", tt.name, got, tt.tenant)
		}
		if got := tt.a.AccountURI(); got != tt.accURI {
			t.Errorf("%s: AccountURI = %q, want %q", tt.name, got, tt.accURI)
		}
	}
	if got, want := sub.ResourceURI(), "/v1/Account/MA_7QK2M9ZD/Subaccount/SA_K3P9X2LQ/"; got != want {
		t.Errorf("ResourceURI = %q, want %q", got, want)
	}

	for _, tt := range []struct {
		enabled, parentEnabled, want bool
	}{
		{true, true, true},
		{false, true, false},
		{true, false, false},
		{false, false, false},
	} {
		a := sb.Account{ParentID: 1, Enabled: tt.enabled, ParentEnabled: tt.parentEnabled}
		if got := a.Active(); got != tt.want {
			t.Errorf("Active(enabled=%v, parent=%v) = %v, want %v", tt.enabled, tt.parentEnabled, got, tt.want)
		}
	}
}
