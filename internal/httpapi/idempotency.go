package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
)

// replayed is returned by idempotency when it answered the request itself.
var replayed = &app.Claim{}

// idempotency handles the Idempotency-Key header (CONTRACT §0.9) after
// authentication and rate limiting: it validates the key, parses the body,
// and either answers a replay (returning replayed), refuses (422/409), or
// returns the claim under which the request runs. It returns nil, nil when
// the request carries no key or is not a keyed kind of request.
func (s *Server) idempotency(w http.ResponseWriter, r *http.Request, c *call) (*app.Claim, error) {
	key, has := r.Header["Idempotency-Key"]
	if !has || !mutating(r.Method) {
		return nil, nil
	}
	principal := "operator"
	switch {
	case c.actor.Account != nil:
		principal = c.actor.Account.AuthID
	case c.actor.Kind != sb.ActorAdmin:
		return nil, nil // public routes have no principal to scope a key to
	}
	k := key[0]
	if !validIdempotencyKey(k) {
		return nil, sb.Invalid("Idempotency-Key", sb.FieldInvalidFormat, "must be 1 to 255 printable ASCII characters")
	}
	raw, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err != nil {
		return nil, errTooLarge
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	body := []byte("{}")
	if len(bytes.TrimSpace(raw)) > 0 {
		if !jsonMediaType(r.Header.Get("Content-Type")) {
			return nil, sb.Errorf(sb.EUnsupportedMediaType, "request bodies must be JSON (Content-Type: application/json)")
		}
		o, err := parseObject(raw)
		if err != nil {
			return nil, err
		}
		if body, err = sb.CanonicalJSON(o.m); err != nil {
			return nil, sb.Errorf(sb.EInvalidJSON, "request body is not valid JSON")
		}
	}
	claim := &app.Claim{Principal: principal, Key: k, Fingerprint: fingerprint(r, c.route, body)}
	rep, err := s.svc.CheckIdempotency(r.Context(), claim)
	if err != nil {
		return nil, err
	}
	if rep == nil {
		return claim, nil
	}
	w.Header().Set("Idempotent-Replayed", "true")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.Status)
	w.Write(rep.Body)
	return replayed, nil
}

func validIdempotencyKey(k string) bool {
	if len(k) < 1 || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// fingerprint identifies a request: method, cleaned path with the family
// segment case-folded, sorted query, canonical body (§0.9).
func fingerprint(r *http.Request, route *Route, canonicalBody []byte) string {
	segs := strings.Split(strings.Trim(cleanPath(r.URL.Path), "/"), "/")
	if len(segs) > familySegment && strings.EqualFold(segs[familySegment], "account") {
		segs[familySegment] = "account"
	}
	h := sha256.New()
	method := r.Method
	if method == http.MethodPatch {
		method = http.MethodPut
	}
	h.Write([]byte(method + "\n/" + strings.Join(segs, "/") + "\n" + r.URL.Query().Encode() + "\n"))
	h.Write(canonicalBody)
	return hex.EncodeToString(h.Sum(nil))
}
