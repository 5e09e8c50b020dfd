package switchboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// JWT settings (CONTRACT §1.4).
const (
	JWTIssuer          = "switchboard"
	JWTAccess          = "access"
	JWTRefresh         = "refresh"
	AccessTokenTTL     = 1800 * time.Second
	RefreshTokenTTL    = 7 * 24 * time.Hour
	jwtHeaderHS256JSON = `{"alg":"HS256","typ":"JWT"}`
)

// Claims are the claims of a switchboard JWT.
type Claims struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	Type      string `json:"typ"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp"`
	ID        string `json:"jti"`
}

// TokenPair is the access/refresh pair returned by create, login, refresh.
type TokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

var b64 = base64.RawURLEncoding

// NewUUID returns a random (version 4) UUID in canonical lower-case form.
func NewUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// SignJWT returns an HS256 JWT over c.
func SignJWT(key []byte, c Claims) string {
	payload, _ := json.Marshal(c)
	signing := b64.EncodeToString([]byte(jwtHeaderHS256JSON)) + "." + b64.EncodeToString(payload)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signing))
	return signing + "." + b64.EncodeToString(m.Sum(nil))
}

// NewTokenPair issues an access and a refresh token for authID at now.
func NewTokenPair(key []byte, authID string, now time.Time) TokenPair {
	iat := now.Unix()
	access := SignJWT(key, Claims{Issuer: JWTIssuer, Subject: authID, Type: JWTAccess, IssuedAt: iat, ExpiresAt: now.Add(AccessTokenTTL).Unix(), ID: NewUUID()})
	refresh := SignJWT(key, Claims{Issuer: JWTIssuer, Subject: authID, Type: JWTRefresh, IssuedAt: iat, ExpiresAt: now.Add(RefreshTokenTTL).Unix(), ID: NewUUID()})
	return TokenPair{AccessToken: access, RefreshToken: refresh, TokenType: "bearer", ExpiresIn: int(AccessTokenTTL / time.Second)}
}

// ParseJWT verifies token and returns its claims. Any malformed token, other
// algorithm, bad signature or wrong issuer is unauthorized; a token at or
// past exp is token_expired (no leeway).
func ParseJWT(key []byte, token string, now time.Time) (Claims, error) {
	unauthorized := Errorf(EUnauthorized, "invalid bearer token")
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, unauthorized
	}
	hdr, err := b64.DecodeString(parts[0])
	if err != nil {
		return Claims{}, unauthorized
	}
	var h struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
	}
	if json.Unmarshal(hdr, &h) != nil || h.Alg != "HS256" {
		return Claims{}, unauthorized
	}
	// Compare the encoded signature, so that only the one canonical
	// spelling of it is accepted (base64 decoding tolerates variants).
	m := hmac.New(sha256.New, key)
	m.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal([]byte(parts[2]), []byte(b64.EncodeToString(m.Sum(nil)))) {
		return Claims{}, unauthorized
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return Claims{}, unauthorized
	}
	var c Claims
	if json.Unmarshal(payload, &c) != nil || c.Issuer != JWTIssuer || c.Subject == "" || c.ID == "" ||
		(c.Type != JWTAccess && c.Type != JWTRefresh) {
		return Claims{}, unauthorized
	}
	if now.Unix() >= c.ExpiresAt {
		return Claims{}, Errorf(ETokenExpired, "token expired")
	}
	return c, nil
}

// LooksLikeJWT reports whether s has the three-part shape of a JWT, which
// tells a bearer JWT from the operator token.
func LooksLikeJWT(s string) bool { return strings.Count(s, ".") == 2 && strings.HasPrefix(s, "eyJ") }
