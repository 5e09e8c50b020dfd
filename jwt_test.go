package switchboard_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"hash"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	sb "github.com/switchboard-voice/switchboard"
)

var (
	jwtKey      = []byte("0123456789abcdef0123456789abcdef")
	jwtNow      = time.Date(2026, 11, 27, 10, 15, 30, 0, time.UTC)
	uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	rawURL      = base64.RawURLEncoding
)

// craftJWT builds a token from raw header and payload JSON, signed with
// HMAC over h (sha256.New, sha512.New) and key; h nil leaves the
// signature empty.
func craftJWT(header, payload string, h func() hash.Hash, key []byte) string {
	signing := rawURL.EncodeToString([]byte(header)) + "." + rawURL.EncodeToString([]byte(payload))
	sig := ""
	if h != nil {
		m := hmac.New(h, key)
		m.Write([]byte(signing))
		sig = rawURL.EncodeToString(m.Sum(nil))
	}
	return signing + "." + sig
}

func validClaims() sb.Claims {
	return sb.Claims{
		Issuer:    sb.JWTIssuer,
		Subject:   "SA_K3P9X2LQ",
		Type:      sb.JWTAccess,
		IssuedAt:  jwtNow.Unix(),
		ExpiresAt: jwtNow.Unix() + 1800,
		ID:        "0193a7c4-5d2e-4f10-9b1c-3e4f5a6b7c8d",
	}
}

// TestJWTRoundTrip checks that what SignJWT issues ParseJWT returns intact.
func TestJWTRoundTrip(t *testing.T) {
	for _, typ := range []string{sb.JWTAccess, sb.JWTRefresh} {
		c := validClaims()
		c.Type = typ
		got, err := sb.ParseJWT(jwtKey, sb.SignJWT(jwtKey, c), jwtNow)
		if err != nil {
			t.Fatalf("ParseJWT(SignJWT(%s)): %v", typ, err)
		}
		if diff := cmp.Diff(c, got); diff != "" {
			t.Errorf("claims after round trip (-want +got):\n%s", diff)
		}
	}
}

// TestJWTWireFormat checks the header and claim names of an issued token
// (CONTRACT §1.4).
func TestJWTWireFormat(t *testing.T) {
	tok := sb.SignJWT(jwtKey, validClaims())
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	hdr, err := rawURL.DecodeString(parts[0])
	if err != nil {
		t.Fatalf("header is not base64url without padding: %v", err)
	}
	if string(hdr) != `{"alg":"HS256","typ":"JWT"}` {
		t.Errorf("header = %s, want {\"alg\":\"HS256\",\"typ\":\"JWT\"}", hdr)
	}
	payload, err := rawURL.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("payload is not base64url without padding: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatalf("payload is not a JSON object: %v", err)
	}
	var keys []string
	for k := range claims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if diff := cmp.Diff([]string{"exp", "iat", "iss", "jti", "sub", "typ"}, keys); diff != "" {
		t.Errorf("claim names (-want +got):\n%s", diff)
	}
	if claims["iss"] != "switchboard" || claims["typ"] != "access" || claims["sub"] != "SA_K3P9X2LQ" {
		t.Errorf("claims = %v", claims)
	}
	if got, want := claims["iat"], float64(jwtNow.Unix()); got != want {
		t.Errorf("iat = %v, want %v (NumericDate, seconds)", got, want)
	}
	m := hmac.New(sha256.New, jwtKey)
	m.Write([]byte(parts[0] + "." + parts[1]))
	if parts[2] != rawURL.EncodeToString(m.Sum(nil)) {
		t.Error("signature is not base64url(HMAC-SHA256(key, header.payload))")
	}
	if !sb.LooksLikeJWT(tok) {
		t.Errorf("LooksLikeJWT(%q) = false", tok)
	}
}

// TestNewTokenPair checks the pair handed out at create, login and refresh.
func TestNewTokenPair(t *testing.T) {
	now := jwtNow.Add(500 * time.Millisecond)
	p := sb.NewTokenPair(jwtKey, "MA_7QK2M9ZD", now)
	if p.TokenType != "bearer" || p.ExpiresIn != 1800 {
		t.Errorf("token_type, expires_in = %q, %d; want bearer, 1800", p.TokenType, p.ExpiresIn)
	}
	b, _ := json.Marshal(p)
	var shape map[string]any
	_ = json.Unmarshal(b, &shape)
	if len(shape) != 4 || shape["access_token"] == nil || shape["refresh_token"] == nil || shape["token_type"] != "bearer" || shape["expires_in"] != float64(1800) {
		t.Errorf("pair JSON = %s", b)
	}
	access, err := sb.ParseJWT(jwtKey, p.AccessToken, now)
	if err != nil {
		t.Fatalf("access token: %v", err)
	}
	refresh, err := sb.ParseJWT(jwtKey, p.RefreshToken, now)
	if err != nil {
		t.Fatalf("refresh token: %v", err)
	}
	iat := jwtNow.Unix()
	for _, tt := range []struct {
		c       sb.Claims
		typ     string
		ttl     int64
		tokName string
	}{
		{access, sb.JWTAccess, 1800, "access"},
		{refresh, sb.JWTRefresh, 7 * 24 * 3600, "refresh"},
	} {
		if tt.c.Issuer != "switchboard" || tt.c.Subject != "MA_7QK2M9ZD" || tt.c.Type != tt.typ {
			t.Errorf("%s claims = %+v", tt.tokName, tt.c)
		}
		if tt.c.IssuedAt != iat || tt.c.ExpiresAt != iat+tt.ttl {
			t.Errorf("%s iat, exp = %d, %d; want %d, %d", tt.tokName, tt.c.IssuedAt, tt.c.ExpiresAt, iat, iat+tt.ttl)
		}
		if !uuidPattern.MatchString(tt.c.ID) {
			t.Errorf("%s jti = %q, not a lower-case v4 UUID", tt.tokName, tt.c.ID)
		}
	}
	if access.ID == refresh.ID {
		t.Error("access and refresh tokens share a jti")
	}
	if q := sb.NewTokenPair(jwtKey, "MA_7QK2M9ZD", now); q.AccessToken == p.AccessToken || q.RefreshToken == p.RefreshToken {
		t.Error("two pairs issued in the same second are identical")
	}
	// The access token dies after 1800 s; the refresh token lives on.
	later := jwtNow.Add(1800 * time.Second)
	if _, err := sb.ParseJWT(jwtKey, p.AccessToken, later); sb.ErrorCode(err) != sb.ETokenExpired {
		t.Errorf("access token at iat+1800: %v, want token_expired", err)
	}
	if _, err := sb.ParseJWT(jwtKey, p.RefreshToken, later); err != nil {
		t.Errorf("refresh token at iat+1800: %v, want valid", err)
	}
	if _, err := sb.ParseJWT(jwtKey, p.RefreshToken, jwtNow.Add(7*24*time.Hour)); sb.ErrorCode(err) != sb.ETokenExpired {
		t.Errorf("refresh token at iat+7d: %v, want token_expired", err)
	}
}

// TestJWTExpiry checks that exp has no leeway: valid one second before,
// expired at exp.
func TestJWTExpiry(t *testing.T) {
	c := validClaims()
	tok := sb.SignJWT(jwtKey, c)
	exp := time.Unix(c.ExpiresAt, 0)
	tests := []struct {
		name string
		now  time.Time
		want string
	}{
		{"at iat", jwtNow, ""},
		{"exp-1s", exp.Add(-time.Second), ""},
		{"exp-1ns", exp.Add(-time.Nanosecond), ""},
		{"at exp", exp, sb.ETokenExpired},
		{"exp+1ns", exp.Add(time.Nanosecond), sb.ETokenExpired},
		{"exp+1d", exp.Add(24 * time.Hour), sb.ETokenExpired},
	}
	for _, tt := range tests {
		_, err := sb.ParseJWT(jwtKey, tok, tt.now)
		if got := sb.ErrorCode(err); got != tt.want {
			t.Errorf("%s: ParseJWT error code = %q, want %q (err %v)", tt.name, got, tt.want, err)
		}
	}
	// An expired token with a bad signature is unauthorized, not expired:
	// expiry is only reported for tokens we issued.
	if _, err := sb.ParseJWT([]byte("other key"), tok, exp); sb.ErrorCode(err) != sb.EUnauthorized {
		t.Errorf("expired token under the wrong key: %v, want unauthorized", err)
	}
}

// TestJWTRejected checks that every token we did not issue, or that is not
// a well-formed switchboard token, is unauthorized.
func TestJWTRejected(t *testing.T) {
	c := validClaims()
	good := sb.SignJWT(jwtKey, c)
	parts := strings.Split(good, ".")
	payload, _ := json.Marshal(c)
	hs256 := `{"alg":"HS256","typ":"JWT"}`
	claimsJSON := func(mut func(m map[string]any)) string {
		m := map[string]any{"iss": c.Issuer, "sub": c.Subject, "typ": c.Type, "iat": c.IssuedAt, "exp": c.ExpiresAt, "jti": c.ID}
		mut(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	otherSub := c
	otherSub.Subject = "MA_7QK2M9ZD"
	tamperedPayload := parts[0] + "." + strings.Split(sb.SignJWT(jwtKey, otherSub), ".")[1] + "." + parts[2]

	tests := []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"one part", "abc"},
		{"two parts", parts[0] + "." + parts[1]},
		{"four parts", good + ".x"},
		{"empty signature", parts[0] + "." + parts[1] + "."},
		{"signature not base64", parts[0] + "." + parts[1] + ".***"},
		{"header not base64", "***." + parts[1] + "." + parts[2]},
		{"padded base64", good + "="},
		{"tampered payload", tamperedPayload},
		{"tampered signature", parts[0] + "." + parts[1] + "." + flip(parts[2], 5)},
		{"tampered header", flip(parts[0], 3) + "." + parts[1] + "." + parts[2]},
		{"signature of another token", parts[0] + "." + parts[1] + "." + strings.Split(sb.SignJWT(jwtKey, otherSub), ".")[2]},
		{"wrong key", sb.SignJWT([]byte("another server key"), c)},
		{"empty key", sb.SignJWT(nil, c)},
		{"alg none, no signature", craftJWT(`{"alg":"none","typ":"JWT"}`, string(payload), nil, nil)},
		{"alg none, HS256 signature", craftJWT(`{"alg":"none","typ":"JWT"}`, string(payload), sha256.New, jwtKey)},
		{"alg None", craftJWT(`{"alg":"None","typ":"JWT"}`, string(payload), nil, nil)},
		{"alg HS512, HS512 signature", craftJWT(`{"alg":"HS512","typ":"JWT"}`, string(payload), sha512.New, jwtKey)},
		{"alg HS512, HS256 signature", craftJWT(`{"alg":"HS512","typ":"JWT"}`, string(payload), sha256.New, jwtKey)},
		{"alg hs256 (case)", craftJWT(`{"alg":"hs256","typ":"JWT"}`, string(payload), sha256.New, jwtKey)},
		{"alg RS256", craftJWT(`{"alg":"RS256","typ":"JWT"}`, string(payload), sha256.New, jwtKey)},
		{"no alg", craftJWT(`{"typ":"JWT"}`, string(payload), sha256.New, jwtKey)},
		{"header not JSON", craftJWT(`HS256`, string(payload), sha256.New, jwtKey)},
		{"payload not JSON", craftJWT(hs256, `not json`, sha256.New, jwtKey)},
		{"payload JSON array", craftJWT(hs256, `[1,2]`, sha256.New, jwtKey)},
		{"missing typ", craftJWT(hs256, claimsJSON(func(m map[string]any) { delete(m, "typ") }), sha256.New, jwtKey)},
		{"unknown typ", craftJWT(hs256, claimsJSON(func(m map[string]any) { m["typ"] = "id" }), sha256.New, jwtKey)},
		{"typ wrong case", craftJWT(hs256, claimsJSON(func(m map[string]any) { m["typ"] = "Access" }), sha256.New, jwtKey)},
		{"wrong issuer", craftJWT(hs256, claimsJSON(func(m map[string]any) { m["iss"] = "vobiz" }), sha256.New, jwtKey)},
		{"missing issuer", craftJWT(hs256, claimsJSON(func(m map[string]any) { delete(m, "iss") }), sha256.New, jwtKey)},
		{"missing sub", craftJWT(hs256, claimsJSON(func(m map[string]any) { delete(m, "sub") }), sha256.New, jwtKey)},
		{"missing jti", craftJWT(hs256, claimsJSON(func(m map[string]any) { delete(m, "jti") }), sha256.New, jwtKey)},
		{"exp as string", craftJWT(hs256, claimsJSON(func(m map[string]any) { m["exp"] = "9999999999" }), sha256.New, jwtKey)},
		{"sub as number", craftJWT(hs256, claimsJSON(func(m map[string]any) { m["sub"] = 42 }), sha256.New, jwtKey)},
		// Regression: the signature was once decoded leniently (base64 skips
		// CR/LF and ignores unused bits), so one signature had several accepted
		// spellings; a token must be accepted only in the form SignJWT wrote.
		{"signature with trailing newline", good + "\n"},
		{"signature with embedded CRLF", good[:len(good)-4] + "\r\n" + good[len(good)-4:]},
		{"signature with non-zero padding bits", good[:len(good)-1] + string(nonCanonicalLast(good[len(good)-1]))},
	}
	for _, tt := range tests {
		got, err := sb.ParseJWT(jwtKey, tt.token, jwtNow)
		if code := sb.ErrorCode(err); code != sb.EUnauthorized {
			t.Errorf("%s: ParseJWT = %+v, %v; want unauthorized", tt.name, got, err)
		}
		if err != nil && got != (sb.Claims{}) {
			t.Errorf("%s: ParseJWT returned claims %+v with its error", tt.name, got)
		}
	}
}

// nonCanonicalLast returns another base64url symbol that decodes to the same
// byte as the last symbol of a 32-byte value (its two low bits are padding).
func nonCanonicalLast(last byte) byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	return alphabet[strings.IndexByte(alphabet, last)^1]
}

// TestLooksLikeJWT checks how a bearer JWT is told from the operator token.
func TestLooksLikeJWT(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{sb.SignJWT(jwtKey, validClaims()), true},
		{"eyJa.b.c", true},
		{"", false},
		{"operator-token-without-dots", false},
		{"eyJa.b", false},
		{"eyJa.b.c.d", false},
		{"abc.def.ghi", false},
	}
	for _, tt := range tests {
		if got := sb.LooksLikeJWT(tt.in); got != tt.want {
			t.Errorf("LooksLikeJWT(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// FuzzParseJWT checks that ParseJWT never panics, only ever answers
// unauthorized or token_expired, and accepts nothing but the exact bytes
// SignJWT produces for the returned claims under the key. (Seeds are never
// signed with jwtKey over content SignJWT would not write: only the server
// holds the key, so such tokens cannot reach ParseJWT.)
func FuzzParseJWT(f *testing.F) {
	c := validClaims()
	f.Add(sb.SignJWT(jwtKey, c))
	r := c
	r.Type = sb.JWTRefresh
	f.Add(sb.SignJWT(jwtKey, r))
	f.Add(sb.SignJWT([]byte("wrong"), c))
	payload, _ := json.Marshal(c)
	f.Add(craftJWT(`{"alg":"none","typ":"JWT"}`, string(payload), nil, nil))
	f.Add(craftJWT(`{"alg":"HS512","typ":"JWT"}`, string(payload), sha512.New, jwtKey))
	f.Add(craftJWT(`{"alg":"HS256","typ":"JWT","kid":"x"}`, string(payload), sha256.New, []byte("wrong")))
	f.Add(craftJWT(`{"alg":"HS256"}`, `{"iss":"switchboard","sub":"x","typ":"access","exp":1,"jti":"j"}`, sha256.New, jwtKey))
	f.Add("")
	f.Add("..")
	f.Add("eyJ.eyJ.")
	f.Fuzz(func(t *testing.T, token string) {
		got, err := sb.ParseJWT(jwtKey, token, jwtNow)
		if err != nil {
			if code := sb.ErrorCode(err); code != sb.EUnauthorized && code != sb.ETokenExpired {
				t.Fatalf("ParseJWT(%q) error code %q, want unauthorized or token_expired", token, code)
			}
			return
		}
		if resigned := sb.SignJWT(jwtKey, got); resigned != token {
			t.Fatalf("ParseJWT accepted %q, which SignJWT did not produce (it writes %q for these claims)", token, resigned)
		}
		if got.Issuer != sb.JWTIssuer || got.Subject == "" || got.ID == "" || (got.Type != sb.JWTAccess && got.Type != sb.JWTRefresh) {
			t.Fatalf("ParseJWT accepted claims %+v", got)
		}
		if jwtNow.Unix() >= got.ExpiresAt {
			t.Fatalf("ParseJWT accepted a token expired at %d", got.ExpiresAt)
		}
	})
}
