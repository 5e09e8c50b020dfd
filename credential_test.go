package switchboard_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	sb "github.com/switchboard-voice/switchboard"
)

var (
	authTokenPattern     = regexp.MustCompile(`^[A-Za-z0-9]{40}$`)
	mainAuthIDPattern    = regexp.MustCompile(`^MA_[A-Z0-9]{8}$`)
	subAuthIDPattern     = regexp.MustCompile(`^SA_[A-Z0-9]{8}$`)
	webhookSecretPattern = regexp.MustCompile(`^whsec_[A-Za-z0-9]{40}$`)
)

// TestCredentialFormats checks the shapes of every generated secret and
// identifier (CONTRACT §0.3, §1.2) and that repeated calls never collide.
func TestCredentialFormats(t *testing.T) {
	tests := []struct {
		name    string
		gen     func() string
		pattern *regexp.Regexp
	}{
		{"NewAuthToken", sb.NewAuthToken, authTokenPattern},
		{"NewMainAuthID", sb.NewMainAuthID, mainAuthIDPattern},
		{"NewSubAuthID", sb.NewSubAuthID, subAuthIDPattern},
		{"NewWebhookSecret", sb.NewWebhookSecret, webhookSecretPattern},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make(map[string]bool)
			for i := 0; i < 500; i++ {
				s := tt.gen()
				if !tt.pattern.MatchString(s) {
					t.Fatalf("%s() = %q, does not match %s", tt.name, s, tt.pattern)
				}
				if seen[s] {
					t.Fatalf("%s() returned %q twice", tt.name, s)
				}
				seen[s] = true
			}
		})
	}
}

// TestValidAuthToken checks the cheap shape check done before a lookup.
func TestValidAuthToken(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{sb.NewAuthToken(), true},
		{strings.Repeat("a", 40), true},
		{strings.Repeat("Z9", 20), true},
		{strings.Repeat("a", 39), false},
		{strings.Repeat("a", 41), false},
		{"", false},
		{strings.Repeat("a", 39) + "-", false},
		{strings.Repeat("a", 39) + "_", false},
		{strings.Repeat("a", 38) + "é", false}, // 40 bytes, not 40 alphanumerics
		{sb.RedactedToken, false},
	}
	for _, tt := range tests {
		if got := sb.ValidAuthToken(tt.in); got != tt.want {
			t.Errorf("ValidAuthToken(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestRandomAlphabetUniform is a rough check that tokens draw every symbol
// of [A-Za-z0-9] and none markedly more often than the others (a modulo
// bias or a short alphabet would show here).
func TestRandomAlphabetUniform(t *testing.T) {
	if testing.Short() {
		t.Skip("draws 200k characters")
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	counts := make(map[rune]int)
	total := 0
	for total < 200_000 {
		for _, r := range sb.NewAuthToken() {
			counts[r]++
			total++
		}
	}
	expected := float64(total) / float64(len(alphabet))
	for _, r := range alphabet {
		n := counts[r]
		if n == 0 {
			t.Errorf("symbol %q never appeared in %d characters", r, total)
		}
		if float64(n) > 2*expected || float64(n) < expected/2 {
			t.Errorf("symbol %q appeared %d times, expected about %.0f", r, n, expected)
		}
	}
	if len(counts) != len(alphabet) {
		t.Errorf("saw %d distinct symbols, want %d", len(counts), len(alphabet))
	}

	// The upper-case alphabet of auth_ids: all 36 symbols occur.
	const upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	idCounts := make(map[rune]int)
	idTotal := 0
	for idTotal < 36_000 {
		for _, r := range strings.TrimPrefix(sb.NewSubAuthID(), "SA_") {
			idCounts[r]++
			idTotal++
		}
	}
	idExpected := float64(idTotal) / float64(len(upper))
	for _, r := range upper {
		if n := idCounts[r]; n == 0 || float64(n) > 2*idExpected {
			t.Errorf("auth_id symbol %q appeared %d times, expected about %.0f", r, n, idExpected)
		}
	}
}

// TestHashToken checks that stored token hashes are keyed HMACs.
func TestHashToken(t *testing.T) {
	k1, k2 := []byte("server-key-one"), []byte("server-key-two")
	tok := sb.NewAuthToken()
	h := sb.HashToken(k1, tok)
	if len(h) != 32 {
		t.Errorf("len(HashToken) = %d, want 32 (SHA-256)", len(h))
	}
	if !bytes.Equal(h, sb.HashToken(k1, tok)) {
		t.Error("same key and token gave different hashes")
	}
	if bytes.Equal(h, sb.HashToken(k2, tok)) {
		t.Error("different keys gave the same hash: the hash is not keyed")
	}
	if bytes.Equal(h, sb.HashToken(k1, sb.NewAuthToken())) {
		t.Error("different tokens gave the same hash")
	}
	if bytes.Contains(h, []byte(tok)) {
		t.Error("hash contains the token in clear")
	}
}

// TestTokenMatches checks the constant-time comparison used at login.
func TestTokenMatches(t *testing.T) {
	key := []byte("k")
	tok := sb.NewAuthToken()
	stored := sb.HashToken(key, tok)
	tests := []struct {
		name  string
		key   []byte
		token string
		hash  []byte
		want  bool
	}{
		{"right token", key, tok, stored, true},
		{"other token", key, sb.NewAuthToken(), stored, false},
		{"token differs in case", key, strings.ToLower(tok), sb.HashToken(key, strings.ToUpper(tok)), false},
		{"other key", []byte("other"), tok, stored, false},
		{"empty token", key, "", stored, false},
		{"truncated hash", key, tok, stored[:16], false},
		{"nil hash", key, tok, nil, false},
		{"hash of clear text is not a match", key, tok, []byte(tok), false},
	}
	for _, tt := range tests {
		if got := sb.TokenMatches(tt.key, tt.token, tt.hash); got != tt.want {
			t.Errorf("%s: TokenMatches = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestStoredTokenLive checks the grace boundary: a previous token dies at
// exactly its expiry instant.
func TestStoredTokenLive(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 15, 30, 123456000, time.UTC)
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	tests := []struct {
		name string
		exp  *time.Time
		want bool
	}{
		{"current token (no expiry)", nil, true},
		{"expires in 1µs", at(time.Microsecond), true},
		{"expires in a day", at(24 * time.Hour), true},
		{"expires exactly now", at(0), false},
		{"expired 1µs ago", at(-time.Microsecond), false},
	}
	for _, tt := range tests {
		if got := (sb.StoredToken{Hash: []byte("h"), ExpiresAt: tt.exp}).Live(now); got != tt.want {
			t.Errorf("%s: Live = %v, want %v", tt.name, got, tt.want)
		}
	}
	// The same instant in another zone is the same instant.
	ist := time.FixedZone("IST", 5*3600+1800)
	if (sb.StoredToken{ExpiresAt: at(0)}).Live(now.In(ist)) {
		t.Error("Live at the expiry instant expressed in IST = true, want false")
	}
}

// TestNewRotation checks grace validation and the previous token's expiry
// (CONTRACT §1.3).
func TestNewRotation(t *testing.T) {
	key := []byte("server-key")
	now := time.Date(2026, 11, 27, 10, 15, 30, 123456789, time.UTC)
	wantErr := []sb.FieldError{{Field: "grace_seconds", Code: sb.FieldOutOfRange}}
	for _, grace := range []int{-1, -86400, sb.MaxGraceSeconds + 1, 1 << 40} {
		_, err := sb.NewRotation(key, now, grace)
		if sb.ErrorCode(err) != sb.EValidation {
			t.Errorf("NewRotation(grace=%d) error = %v, want validation_error", grace, err)
			continue
		}
		got := sb.AsError(err).Details
		if diff := cmp.Diff(wantErr, got, ignoreMessage); diff != "" {
			t.Errorf("NewRotation(grace=%d) details (-want +got):\n%s", grace, diff)
		}
	}

	tests := []struct {
		grace   int
		wantExp *time.Time
	}{
		{0, nil},
		{1, ptr(time.Date(2026, 11, 27, 10, 15, 31, 123456000, time.UTC))},
		{sb.DefaultGraceSeconds, ptr(time.Date(2026, 11, 28, 10, 15, 30, 123456000, time.UTC))},
		{sb.MaxGraceSeconds, ptr(time.Date(2026, 12, 4, 10, 15, 30, 123456000, time.UTC))},
	}
	for _, tt := range tests {
		r, err := sb.NewRotation(key, now, tt.grace)
		if err != nil {
			t.Errorf("NewRotation(grace=%d): %v", tt.grace, err)
			continue
		}
		if diff := cmp.Diff(tt.wantExp, r.PreviousExpiresAt); diff != "" {
			t.Errorf("NewRotation(grace=%d).PreviousExpiresAt (-want +got):\n%s", tt.grace, diff)
		}
		if !authTokenPattern.MatchString(r.Token) {
			t.Errorf("NewRotation(grace=%d).Token = %q, not a 40-char token", tt.grace, r.Token)
		}
		if !sb.TokenMatches(key, r.Token, r.NewHash) {
			t.Errorf("NewRotation(grace=%d).NewHash is not the keyed hash of Token", tt.grace)
		}
	}

	a, _ := sb.NewRotation(key, now, 0)
	b, _ := sb.NewRotation(key, now, 0)
	if a.Token == b.Token {
		t.Error("two rotations issued the same token")
	}

	// The previous token, stored with the rotation's expiry, dies at the end of the grace.
	r, _ := sb.NewRotation(key, now, 60)
	prev := sb.StoredToken{Hash: []byte("old"), ExpiresAt: r.PreviousExpiresAt}
	if !prev.Live(now.Add(59 * time.Second)) {
		t.Error("previous token dead 59s into a 60s grace")
	}
	if prev.Live(now.Add(60 * time.Second)) {
		t.Error("previous token live 60s into a 60s grace")
	}
}

func ptr[T any](v T) *T { return &v }

// ignoreMessage compares field errors without their human-readable text.
var ignoreMessage = cmpopts.IgnoreFields(sb.FieldError{}, "Message")
