package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

const (
	testSecret = "whsec_0123456789abcdefghijABCDEFGHIJ0123456789"
	testBody   = `{"event":"subaccount.created","event_id":"evt_1"}`
)

func TestSign(t *testing.T) {
	// Computed independently: the full whsec_ string as the key.
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte(testBody))
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if got := Sign(testSecret, []byte(testBody)); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	// And against a vector from `openssl dgst -sha256 -hmac`.
	const openssl = "sha256=0d32c3eeb302d992f0f8a02cf18ab5a638794de1153abcdadac9fec566986fd0"
	if got := Sign(testSecret, []byte(testBody)); got != openssl {
		t.Fatalf("Sign = %s, want the openssl vector %s", got, openssl)
	}
	if strings.TrimPrefix(want, "sha256=") != strings.ToLower(strings.TrimPrefix(want, "sha256=")) {
		t.Fatal("signature hex is not lowercase")
	}
}

func TestVerify(t *testing.T) {
	body := []byte(testBody)
	sig := Sign(testSecret, body)
	if !Verify(testSecret, body, sig) {
		t.Fatal("Verify rejected a valid signature")
	}

	flipped := append([]byte(nil), body...)
	flipped[10] ^= 0x01
	if Verify(testSecret, flipped, sig) {
		t.Error("Verify accepted a body with a flipped byte")
	}
	wrong := "whsec_" + strings.Repeat("Z", 40)
	if Verify(wrong, body, sig) {
		t.Error("Verify accepted a signature under the wrong secret")
	}
	// The key is the whole whsec_ string, not the part after the prefix.
	if Verify(strings.TrimPrefix(testSecret, "whsec_"), body, sig) {
		t.Error("Verify accepted the secret without its whsec_ prefix")
	}

	hexPart := strings.TrimPrefix(sig, "sha256=")
	for name, header := range map[string]string{
		"empty":          "",
		"no prefix":      hexPart,
		"other algo":     "sha1=" + hexPart,
		"truncated":      sig[:len(sig)-2],
		"not hex":        "sha256=" + strings.Repeat("zz", 32),
		"flipped digest": "sha256=" + flipHex(hexPart),
		"extra bytes":    sig + "00",
		"space":          " " + sig,
	} {
		if Verify(testSecret, body, header) {
			t.Errorf("Verify accepted header %s: %q", name, header)
		}
	}
}

// flipHex changes the first hex digit of s.
func flipHex(s string) string {
	c := byte('0')
	if s[0] == '0' {
		c = '1'
	}
	return string(c) + s[1:]
}
