package switchboard

// KYC document types and verification statuses (CONTRACT §5).
const (
	DocPAN     = "pan"
	DocGST     = "gst"
	DocCIN     = "cin"
	DocAadhaar = "aadhaar"

	KYCVerified   = "verified"
	KYCFailed     = "failed"
	KYCPending    = "pending"
	KYCNotStarted = "not_started"
)

// KYCDocTypes lists the document types in report order.
var KYCDocTypes = []string{DocPAN, DocGST, DocCIN, DocAadhaar}

// LatestVerification is what the KYC rules need of the newest verification
// of one document type.
type LatestVerification struct {
	Status string
	// PAN holds the verified-or-not PAN value for type pan; its 4th character
	// decides the requirement when business_type is null.
	PAN string
}

// requirement is a list of groups; each group is satisfied by any member.
type requirement [][]string

// KYCRequirement returns the documents required for a business type
// (CONTRACT §5.1). ok is false when the requirement cannot be known yet
// (business_type null and no PAN on record).
func KYCRequirement(businessType *string, latest map[string]LatestVerification) (req requirement, ok bool) {
	bt := ""
	if businessType != nil {
		bt = *businessType
	} else {
		pan := latest[DocPAN].PAN
		if len(pan) < 4 {
			return nil, false
		}
		bt = "private_limited"
		if pan[3] == 'P' {
			bt = "individual"
		}
	}
	switch bt {
	case "individual", "proprietorship", "huf":
		return requirement{{DocPAN}, {DocAadhaar}}, true
	case "trust", "society", "government":
		return requirement{{DocPAN}, {DocCIN, DocGST}}, true
	default: // private_limited, public_limited, llp, partnership
		return requirement{{DocPAN}, {DocGST, DocCIN}}, true
	}
}

func statusOf(latest map[string]LatestVerification, doc string) string {
	if v, ok := latest[doc]; ok && v.Status != "" {
		return v.Status
	}
	return KYCNotStarted
}

// KYCOverallStatus aggregates the latest verification per type into
// verified, failed, pending or not_started (CONTRACT §5.2).
func KYCOverallStatus(businessType *string, latest map[string]LatestVerification) string {
	req, known := KYCRequirement(businessType, latest)
	if known {
		all, failed := true, false
		for _, group := range req {
			satisfied, anyFailed, anyOpen := false, false, false
			for _, doc := range group {
				switch statusOf(latest, doc) {
				case KYCVerified:
					satisfied = true
				case KYCFailed:
					anyFailed = true
				case KYCPending:
					anyOpen = true
				}
			}
			if !satisfied {
				all = false
				if anyFailed && !anyOpen {
					failed = true
				}
			}
		}
		if all {
			return KYCVerified
		}
		if failed {
			return KYCFailed
		}
	}
	for _, doc := range KYCDocTypes {
		if s := statusOf(latest, doc); s == KYCPending || s == KYCVerified {
			return KYCPending
		}
	}
	return KYCNotStarted
}

// KYCCallsBlocked derives kyc_calls_blocked (CONTRACT §5.1): never for
// personal_use; for customer_use until the required documents are verified.
func KYCCallsBlocked(mode string, businessType *string, latest map[string]LatestVerification) bool {
	if mode != KYCCustomerUse {
		return false
	}
	return KYCOverallStatus(businessType, latest) != KYCVerified
}
