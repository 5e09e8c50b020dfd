// Package webhook is the network half of webhook delivery (CONTRACT §10.2,
// §5.8): it signs bodies, checks target URLs, builds the HTTP client that is
// allowed to reach them, performs one delivery attempt and says when the
// next one is due. The durable outbox and the worker loop that calls it live
// elsewhere; this package keeps no state and never touches the database.
//
// What it guards. A webhook URL is chosen by a tenant, so every delivery is a
// request the server makes on a stranger's behalf (server-side request
// forgery). Outside dev mode and SWITCHBOARD_WEBHOOK_ALLOW_INSECURE:
//
//   - only https is sent: ValidateURL rejects other schemes when a URL is
//     stored, and the client refuses them again at send time
//     (ErrInsecureScheme), so a URL stored while dev mode was on is not sent
//     in clear later;
//   - the dialer refuses loopback, private (RFC 1918, fc00::/7), link-local,
//     multicast, unspecified, 0.0.0.0/8, CGNAT 100.64.0.0/10, benchmarking
//     198.18.0.0/15, reserved 240.0.0.0/4, 192.0.0.0/24 and the IPv4-mapped
//     and NAT64 (64:ff9b::/96) forms of them (ErrForbiddenAddress). The check
//     runs on the resolved address of every connection, after DNS, so a name
//     that resolves to a public address when the URL is stored and to
//     127.0.0.1 when it is sent (DNS rebinding) is still refused;
//   - redirects are not followed (a 3xx is a failed attempt), no proxy from
//     the environment is used, every attempt ends within 10 s, at most
//     64 KiB of a response is read and the attempt's Error is a fixed short
//     phrase that never contains the URL or its query.
//
// Limits. The guard is about addresses, not intent: a service on a public
// address (including the server's own public address or a cloud provider's
// public metadata endpoint) is reachable; DNS lookups of tenant-chosen names
// are still made, so a tenant can make the server query a resolver for a
// name they control; IPv6 transition forms other than IPv4-mapped and the
// NAT64 well-known prefix (6to4, Teredo, site-specific NAT64 prefixes) are
// not decoded. With allowInsecure every address and plain http are allowed —
// that is for development only. Signatures prove origin and integrity, not
// freshness: receivers deduplicate on X-Vobiz-Event-Id and should reject
// events whose timestamp is too old.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// signaturePrefix starts every X-Vobiz-Signature value.
const signaturePrefix = "sha256="

// Sign returns the X-Vobiz-Signature value for body: "sha256=" followed by
// the lowercase hex HMAC-SHA256 of the raw body, keyed with the whole
// webhook signing secret ("whsec_…") as UTF-8 bytes.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return signaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header is a valid signature of body under secret,
// as Sign makes it. The comparison of the digests takes constant time; a
// header without the "sha256=" prefix or with a malformed digest is false.
// It is what a receiver runs on the raw request body before parsing it.
func Verify(secret string, body []byte, header string) bool {
	hexDigest, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexDigest)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}
