package switchboard_test

import (
	"fmt"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	sb "github.com/switchboard-voice/switchboard"
)

// Short names for the KYC statuses in tables.
const (
	ver = sb.KYCVerified
	fai = sb.KYCFailed
	pen = sb.KYCPending
	non = sb.KYCNotStarted
)

// Sample PANs: the 4th character is the holder type (P person, C company).
const (
	personPAN  = "ABCPE1234F"
	companyPAN = "ABCCE1234F"
)

// docs builds the latest-verification map from statuses of pan, gst, cin
// and aadhaar; not_started leaves the type out, as a sub-account without
// any record of it. A pan record carries panValue.
func docs(pan, gst, cin, aadhaar, panValue string) map[string]sb.LatestVerification {
	m := make(map[string]sb.LatestVerification)
	for _, d := range []struct{ typ, status string }{{sb.DocPAN, pan}, {sb.DocGST, gst}, {sb.DocCIN, cin}, {sb.DocAadhaar, aadhaar}} {
		if d.status == non {
			continue
		}
		v := sb.LatestVerification{Status: d.status}
		if d.typ == sb.DocPAN {
			v.PAN = panValue
		}
		m[d.typ] = v
	}
	return m
}

func bt(s string) *string { return &s }

// TestKYCContractExample is the example of CONTRACT §5.2.
func TestKYCContractExample(t *testing.T) {
	latest := docs(ver, pen, non, non, companyPAN)
	if got := sb.KYCOverallStatus(bt("private_limited"), latest); got != pen {
		t.Errorf("overall_status = %q, want pending", got)
	}
	if !sb.KYCCallsBlocked(sb.KYCCustomerUse, bt("private_limited"), latest) {
		t.Error("kyc_calls_blocked = false, want true")
	}
}

// TestKYCRequirement checks the required-documents table of §5.1.
func TestKYCRequirement(t *testing.T) {
	personal := [][]string{{sb.DocPAN}, {sb.DocAadhaar}}
	company := [][]string{{sb.DocPAN}, {sb.DocCIN, sb.DocGST}}
	tests := []struct {
		bt     *string
		latest map[string]sb.LatestVerification
		want   [][]string
		ok     bool
	}{
		{bt("individual"), nil, personal, true},
		{bt("proprietorship"), nil, personal, true},
		{bt("huf"), nil, personal, true},
		{bt("private_limited"), nil, company, true},
		{bt("public_limited"), nil, company, true},
		{bt("llp"), nil, company, true},
		{bt("partnership"), nil, company, true},
		{bt("trust"), nil, company, true},
		{bt("society"), nil, company, true},
		{bt("government"), nil, company, true},
		// business_type wins over the PAN.
		{bt("individual"), docs(ver, non, non, non, companyPAN), personal, true},
		{bt("llp"), docs(ver, non, non, non, personPAN), company, true},
		// null: derived from the 4th PAN character, whatever the PAN's status.
		{nil, docs(ver, non, non, non, personPAN), personal, true},
		{nil, docs(fai, non, non, non, personPAN), personal, true},
		{nil, docs(pen, non, non, non, companyPAN), company, true},
		{nil, docs(ver, non, non, non, "ABCFE1234F"), company, true}, // F firm
		{nil, docs(ver, non, non, non, "ABCHE1234F"), company, true}, // H HUF: "any other" → company rules
		{nil, docs(ver, non, non, non, "ABCTE1234F"), company, true}, // T trust
		// null without a PAN: the requirement is unknown.
		{nil, nil, nil, false},
		{nil, docs(non, ver, ver, ver, ""), nil, false},
	}
	for _, tt := range tests {
		name := "null"
		if tt.bt != nil {
			name = *tt.bt
		}
		req, ok := sb.KYCRequirement(tt.bt, tt.latest)
		var got [][]string = req
		if ok != tt.ok || !cmp.Equal(sortedGroups(got), sortedGroups(tt.want)) {
			t.Errorf("KYCRequirement(%s, %v) = %v, %v; want %v, %v", name, tt.latest, got, ok, tt.want, tt.ok)
		}
	}
}

func sortedGroups(g [][]string) [][]string {
	var out [][]string
	for _, grp := range g {
		c := append([]string(nil), grp...)
		sort.Strings(c)
		out = append(out, c)
	}
	return out
}

// TestKYCOverallStatusTable lists hand-picked cases per rule of §5.1–5.2.
func TestKYCOverallStatusTable(t *testing.T) {
	tests := []struct {
		name               string
		bt                 *string
		pan, gst, cin, aad string
		panValue           string
		want               string
	}{
		// individual, proprietorship, huf: pan and aadhaar.
		{"individual both verified", bt("individual"), ver, non, non, ver, personPAN, ver},
		{"individual pan only", bt("individual"), ver, non, non, non, personPAN, pen},
		{"individual gst does not replace aadhaar", bt("individual"), ver, ver, ver, non, personPAN, pen},
		{"individual aadhaar failed", bt("individual"), ver, non, non, fai, personPAN, fai},
		{"individual pan failed, aadhaar verified", bt("individual"), fai, non, non, ver, personPAN, fai},
		{"individual pan failed, aadhaar pending", bt("individual"), fai, non, non, pen, personPAN, fai},
		{"individual both pending", bt("individual"), pen, non, non, pen, personPAN, pen},
		{"individual nothing", bt("individual"), non, non, non, non, "", non},
		{"individual only gst failed (not required)", bt("individual"), non, fai, non, non, "", non},
		{"individual only cin verified (not required)", bt("individual"), non, non, ver, non, "", pen},
		{"proprietorship both verified", bt("proprietorship"), ver, non, non, ver, personPAN, ver},
		{"huf aadhaar pending", bt("huf"), ver, non, non, pen, personPAN, pen},
		{"huf pan failed", bt("huf"), fai, non, non, non, personPAN, fai},

		// private_limited, public_limited, llp, partnership: pan and (gst or cin).
		{"contract example", bt("private_limited"), ver, pen, non, non, companyPAN, pen},
		{"private_limited pan+gst", bt("private_limited"), ver, ver, non, non, companyPAN, ver},
		{"private_limited pan+cin", bt("private_limited"), ver, non, ver, non, companyPAN, ver},
		{"private_limited gst failed, cin verified", bt("private_limited"), ver, fai, ver, non, companyPAN, ver},
		{"private_limited gst failed, cin pending", bt("private_limited"), ver, fai, pen, non, companyPAN, pen},
		{"private_limited gst failed, cin not started", bt("private_limited"), ver, fai, non, non, companyPAN, fai},
		{"private_limited gst and cin failed", bt("private_limited"), ver, fai, fai, non, companyPAN, fai},
		{"private_limited aadhaar does not replace gst", bt("private_limited"), ver, non, non, ver, companyPAN, pen},
		{"private_limited group verified, pan missing", bt("private_limited"), non, ver, non, non, "", pen},
		{"private_limited group verified, pan failed", bt("private_limited"), fai, ver, non, non, companyPAN, fai},
		{"public_limited pan+cin", bt("public_limited"), ver, non, ver, non, companyPAN, ver},
		{"llp cin failed alone", bt("llp"), pen, non, fai, non, companyPAN, fai},
		{"partnership nothing", bt("partnership"), non, non, non, non, "", non},

		// trust, society, government: pan and (cin or gst).
		{"trust pan+cin", bt("trust"), ver, non, ver, non, companyPAN, ver},
		{"trust pan+gst", bt("trust"), ver, ver, non, non, companyPAN, ver},
		{"society cin failed, gst pending", bt("society"), ver, pen, fai, non, companyPAN, pen},
		{"society cin failed, gst failed", bt("society"), ver, fai, fai, non, companyPAN, fai},
		{"government aadhaar only", bt("government"), non, non, non, ver, "", pen},

		// business_type null: 4th PAN character decides.
		{"null, person PAN, aadhaar verified", nil, ver, non, non, ver, personPAN, ver},
		{"null, person PAN, gst verified instead", nil, ver, ver, non, non, personPAN, pen},
		{"null, company PAN, gst verified", nil, ver, ver, non, non, companyPAN, ver},
		{"null, company PAN, aadhaar verified instead", nil, ver, non, non, ver, companyPAN, pen},
		{"null, company PAN, gst+cin failed", nil, ver, fai, fai, non, companyPAN, fai},
		{"null, person PAN failed", nil, fai, non, non, ver, personPAN, fai},
		{"null, company PAN pending, cin verified", nil, pen, non, ver, non, companyPAN, pen},
		// null without a PAN: never verified.
		{"null, no PAN, everything else verified", nil, non, ver, ver, ver, "", pen},
		{"null, no PAN, nothing", nil, non, non, non, non, "", non},
		{"null, PAN record without value", nil, ver, ver, ver, ver, "", pen},
	}
	for _, tt := range tests {
		latest := docs(tt.pan, tt.gst, tt.cin, tt.aad, tt.panValue)
		if got := sb.KYCOverallStatus(tt.bt, latest); got != tt.want {
			t.Errorf("%s: KYCOverallStatus = %q, want %q", tt.name, got, tt.want)
		}
		wantBlocked := tt.want != ver
		if got := sb.KYCCallsBlocked(sb.KYCCustomerUse, tt.bt, latest); got != wantBlocked {
			t.Errorf("%s: KYCCallsBlocked(customer_use) = %v, want %v", tt.name, got, wantBlocked)
		}
		if sb.KYCCallsBlocked(sb.KYCPersonalUse, tt.bt, latest) {
			t.Errorf("%s: KYCCallsBlocked(personal_use) = true, want false", tt.name)
		}
	}
}

// expectedOverall states §5.2 directly: groups are satisfied by any
// verified member and failed when one member failed and none is verified
// or pending; then verified > failed > pending > not_started.
func expectedOverall(groups [][]string, known bool, status map[string]string) string {
	if known {
		all, failed := true, false
		for _, g := range groups {
			var anyVer, anyFail, anyPen bool
			for _, d := range g {
				switch status[d] {
				case ver:
					anyVer = true
				case fai:
					anyFail = true
				case pen:
					anyPen = true
				}
			}
			if !anyVer {
				all = false
			}
			if anyFail && !anyVer && !anyPen {
				failed = true
			}
		}
		if all {
			return ver
		}
		if failed {
			return fai
		}
	}
	for _, d := range sb.KYCDocTypes {
		if status[d] == pen || status[d] == ver {
			return pen
		}
	}
	return non
}

// TestKYCOverallStatusExhaustive runs every combination of the four
// statuses for every business type (and null with a person, a company or
// no PAN) against the rules as the contract states them.
func TestKYCOverallStatusExhaustive(t *testing.T) {
	personal := [][]string{{sb.DocPAN}, {sb.DocAadhaar}}
	company := [][]string{{sb.DocPAN}, {sb.DocGST, sb.DocCIN}}
	type row struct {
		name   string
		bt     *string
		groups func(panStatus string) ([][]string, bool)
		pan    string
	}
	fixed := func(g [][]string) func(string) ([][]string, bool) {
		return func(string) ([][]string, bool) { return g, true }
	}
	var rows []row
	for _, b := range []string{"individual", "proprietorship", "huf"} {
		rows = append(rows, row{b, bt(b), fixed(personal), personPAN})
	}
	for _, b := range []string{"private_limited", "public_limited", "llp", "partnership", "trust", "society", "government"} {
		rows = append(rows, row{b, bt(b), fixed(company), companyPAN})
	}
	fromPAN := func(g [][]string) func(string) ([][]string, bool) {
		return func(panStatus string) ([][]string, bool) {
			if panStatus == non {
				return nil, false // no PAN on record
			}
			return g, true
		}
	}
	rows = append(rows,
		row{"null/person PAN", nil, fromPAN(personal), personPAN},
		row{"null/company PAN", nil, fromPAN(company), companyPAN},
		row{"null/no PAN value", nil, func(string) ([][]string, bool) { return nil, false }, ""},
	)

	statuses := []string{ver, fai, pen, non}
	seen := map[string]bool{}
	for _, r := range rows {
		for _, p := range statuses {
			for _, g := range statuses {
				for _, c := range statuses {
					for _, a := range statuses {
						latest := docs(p, g, c, a, r.pan)
						groups, known := r.groups(p)
						want := expectedOverall(groups, known, map[string]string{sb.DocPAN: p, sb.DocGST: g, sb.DocCIN: c, sb.DocAadhaar: a})
						seen[want] = true
						name := fmt.Sprintf("%s pan=%s gst=%s cin=%s aadhaar=%s", r.name, p, g, c, a)
						if got := sb.KYCOverallStatus(r.bt, latest); got != want {
							t.Errorf("%s: overall_status = %q, want %q", name, got, want)
						}
						if got := sb.KYCCallsBlocked(sb.KYCCustomerUse, r.bt, latest); got != (want != ver) {
							t.Errorf("%s: customer_use blocked = %v, want %v", name, got, want != ver)
						}
						if sb.KYCCallsBlocked(sb.KYCPersonalUse, r.bt, latest) {
							t.Errorf("%s: personal_use blocked = true, want false", name)
						}
					}
				}
			}
		}
	}
	if len(seen) != 4 {
		t.Errorf("the combinations produced only %v", seen)
	}
}

// TestKYCCallsBlockedModes checks the gate for each mode with nothing on
// record (a new sub-account) and with everything verified.
func TestKYCCallsBlockedModes(t *testing.T) {
	all := docs(ver, ver, ver, ver, companyPAN)
	tests := []struct {
		mode   string
		bt     *string
		latest map[string]sb.LatestVerification
		want   bool
	}{
		{sb.KYCPersonalUse, nil, nil, false},
		{sb.KYCPersonalUse, bt("private_limited"), docs(fai, fai, fai, fai, companyPAN), false},
		{sb.KYCCustomerUse, nil, nil, true},
		{sb.KYCCustomerUse, bt("individual"), nil, true},
		{sb.KYCCustomerUse, bt("private_limited"), map[string]sb.LatestVerification{}, true},
		{sb.KYCCustomerUse, nil, all, false},
		{sb.KYCCustomerUse, bt("individual"), all, false},
		{sb.KYCCustomerUse, bt("trust"), all, false},
		// A later failure re-blocks: only the latest record per type counts.
		{sb.KYCCustomerUse, bt("individual"), docs(ver, non, non, fai, personPAN), true},
	}
	for _, tt := range tests {
		if got := sb.KYCCallsBlocked(tt.mode, tt.bt, tt.latest); got != tt.want {
			t.Errorf("KYCCallsBlocked(%s, %v, %v) = %v, want %v", tt.mode, tt.bt, tt.latest, got, tt.want)
		}
	}
}
