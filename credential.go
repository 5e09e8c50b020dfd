package switchboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"math/big"
	"strings"
	"time"
)

// Credential formats (CONTRACT §0.3, §1.2).
const (
	AuthTokenLen         = 40
	RedactedToken        = "<redacted>"
	MainAuthIDPrefix     = "MA_"
	SubAuthIDPrefix      = "SA_"
	WebhookSecretPrefix  = "whsec_"
	DefaultGraceSeconds  = 86400
	MaxGraceSeconds      = 604800
	alphanumeric         = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upperAlphanumeric    = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	authIDRandomLen      = 8
	webhookSecretRandLen = 40
)

// randomString draws n characters uniformly from alphabet with crypto/rand
// (rand.Int rejects biased samples).
func randomString(alphabet string, n int) string {
	var b strings.Builder
	b.Grow(n)
	max := big.NewInt(int64(len(alphabet)))
	for i := 0; i < n; i++ {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic("crypto/rand failed: " + err.Error())
		}
		b.WriteByte(alphabet[k.Int64()])
	}
	return b.String()
}

// NewAuthToken returns a fresh 40-character [A-Za-z0-9] token.
func NewAuthToken() string { return randomString(alphanumeric, AuthTokenLen) }

// NewMainAuthID returns a fresh MA_ identifier.
func NewMainAuthID() string {
	return MainAuthIDPrefix + randomString(upperAlphanumeric, authIDRandomLen)
}

// NewSubAuthID returns a fresh SA_ identifier.
func NewSubAuthID() string { return SubAuthIDPrefix + randomString(upperAlphanumeric, authIDRandomLen) }

// NewWebhookSecret returns a fresh whsec_ signing secret.
func NewWebhookSecret() string {
	return WebhookSecretPrefix + randomString(alphanumeric, webhookSecretRandLen)
}

// ValidAuthToken reports whether s has the shape of an auth token, so that
// obviously wrong input never reaches the store.
func ValidAuthToken(s string) bool {
	if len(s) != AuthTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(alphanumeric, rune(s[i])) {
			return false
		}
	}
	return true
}

// ValidAuthID reports whether s has the shape of a main or sub-account
// auth_id: MA_ or SA_ and 8 characters [A-Z0-9].
func ValidAuthID(s string) bool {
	if len(s) != 3+authIDRandomLen || (s[:3] != MainAuthIDPrefix && s[:3] != SubAuthIDPrefix) {
		return false
	}
	for i := 3; i < len(s); i++ {
		if !strings.ContainsRune(upperAlphanumeric, rune(s[i])) {
			return false
		}
	}
	return true
}

// HashToken is the keyed hash under which a token is stored:
// HMAC-SHA256(server key, token).
func HashToken(key []byte, token string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(token))
	return m.Sum(nil)
}

// TokenMatches compares a presented token with a stored hash in constant time.
func TokenMatches(key []byte, token string, hash []byte) bool {
	return subtle.ConstantTimeCompare(HashToken(key, token), hash) == 1
}

// StoredToken is one live auth token of an account: the current one
// (ExpiresAt nil) or the previous one during a rotation grace.
type StoredToken struct {
	Hash      []byte
	ExpiresAt *time.Time
}

// Live reports whether the token is accepted at now.
func (t StoredToken) Live(now time.Time) bool {
	return t.ExpiresAt == nil || now.Before(*t.ExpiresAt)
}

// Rotation describes a token rotation (CONTRACT §1.3): the new current
// token, and until when the previous one keeps working (nil: at once dead).
type Rotation struct {
	// At is the time of the rotation.
	At                time.Time
	Token             string
	NewHash           []byte
	PreviousExpiresAt *time.Time
}

// NewRotation validates grace and builds the rotation at now.
func NewRotation(key []byte, now time.Time, graceSeconds int) (Rotation, error) {
	if graceSeconds < 0 || graceSeconds > MaxGraceSeconds {
		return Rotation{}, Invalid("grace_seconds", FieldOutOfRange, "must be between 0 and 604800")
	}
	tok := NewAuthToken()
	r := Rotation{At: NormalizeTime(now), Token: tok, NewHash: HashToken(key, tok)}
	if graceSeconds > 0 {
		exp := NormalizeTime(now.Add(time.Duration(graceSeconds) * time.Second))
		r.PreviousExpiresAt = &exp
	}
	return r, nil
}
