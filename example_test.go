package switchboard_test

import (
	"encoding/json"
	"fmt"

	sb "github.com/switchboard-voice/switchboard"
)

// Amounts are written as the shortest exact decimal, never with an exponent
// or trailing zeros.
func ExampleMoney_String() {
	for _, m := range []sb.Money{0, 12_500_000, 6_500, 1_000_000 * 1_000_000, -1} {
		fmt.Println(m)
	}
	// Output:
	// 0
	// 12.5
	// 0.0065
	// 1000000
	// -0.000001
}

// ParseMoney reads the text of a JSON number exactly; more than six
// fraction digits is an error rather than a rounding.
func ExampleParseMoney() {
	for _, s := range []string{"12.50", "1.5e-3", "0.0000001"} {
		m, err := sb.ParseMoney(s)
		if err != nil {
			fmt.Printf("%s: rejected\n", s)
			continue
		}
		fmt.Printf("%s: %d micro-units = %s\n", s, int64(m), m)
	}
	b, _ := json.Marshal(map[string]sb.Money{"balance": 1_250_500_000})
	fmt.Println(string(b))
	// Output:
	// 12.50: 12500000 micro-units = 12.5
	// 1.5e-3: 1500 micro-units = 0.0015
	// 0.0000001: rejected
	// {"balance":1250.5}
}

// A private limited company needs its PAN and its GSTIN or CIN; while the
// GSTIN is still being checked the sub-account stays pending, and a
// customer_use sub-account cannot place calls.
func ExampleKYCOverallStatus() {
	businessType := "private_limited"
	latest := map[string]sb.LatestVerification{
		sb.DocPAN: {Status: sb.KYCVerified, PAN: "ABCCE1234F"},
		sb.DocGST: {Status: sb.KYCPending},
	}
	fmt.Println(sb.KYCOverallStatus(&businessType, latest), sb.KYCCallsBlocked(sb.KYCCustomerUse, &businessType, latest))

	latest[sb.DocGST] = sb.LatestVerification{Status: sb.KYCFailed}
	fmt.Println(sb.KYCOverallStatus(&businessType, latest))

	latest[sb.DocCIN] = sb.LatestVerification{Status: sb.KYCVerified}
	fmt.Println(sb.KYCOverallStatus(&businessType, latest), sb.KYCCallsBlocked(sb.KYCCustomerUse, &businessType, latest))
	// Output:
	// pending true
	// failed
	// verified false
}
