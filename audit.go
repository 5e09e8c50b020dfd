package switchboard

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Audit outcomes (CONTRACT §10.1).
const (
	OutcomeSuccess = "success"
	OutcomeDenied  = "denied"
	OutcomeFailed  = "failed"
)

// GenesisHash is the prev_hash of the first audit record.
var GenesisHash = strings.Repeat("0", 64)

// Change is the before/after pair of one changed key. Values are never
// secrets: passwords and tokens are recorded as changed without values.
type Change struct {
	Before any `json:"before"`
	After  any `json:"after"`
}

// AuditRecord is one append-only entry of the global, hash-chained audit
// log. ID, PrevHash and Hash are assigned by the store when appending.
type AuditRecord struct {
	ID         int64
	OccurredAt time.Time
	RequestID  string
	ActorType  string
	ActorID    string
	ActorRole  string
	TenantID   string // the main account's auth_id; "" for operator-only actions
	Action     string
	TargetType string
	TargetID   string
	Outcome    string
	StatusCode int
	SourceIP   string
	Changes    map[string]Change
	Reason     *string
	PrevHash   string
	Hash       string
}

// nullIfEmpty renders "" as JSON null.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Object is the record as the API shows it, without "hash" when
// withHash is false.
func (r *AuditRecord) Object(withHash bool) map[string]any {
	var changes any
	if len(r.Changes) > 0 {
		changes = r.Changes
	}
	var reason any
	if r.Reason != nil {
		reason = *r.Reason
	}
	m := map[string]any{
		"id": strconv.FormatInt(r.ID, 10), "occurred_at": FormatTime(r.OccurredAt), "request_id": nullIfEmpty(r.RequestID),
		"actor_type": r.ActorType, "actor_id": r.ActorID, "actor_role": nullIfEmpty(r.ActorRole),
		"tenant_id": nullIfEmpty(r.TenantID), "action": r.Action, "target_type": nullIfEmpty(r.TargetType),
		"target_id": nullIfEmpty(r.TargetID), "outcome": r.Outcome, "status_code": r.StatusCode,
		"source_ip": nullIfEmpty(r.SourceIP), "changes": changes, "reason": reason, "prev_hash": r.PrevHash,
	}
	if withHash {
		m["hash"] = r.Hash
	}
	return m
}

// CanonicalJSON encodes v with sorted keys and no insignificant white
// space, numbers as encoding/json writes them. A value that went through a
// JSON round trip (e.g. loaded from storage) encodes to the same bytes.
func CanonicalJSON(v any) ([]byte, error) {
	first, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(first))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	return json.Marshal(generic)
}

// ComputeHash returns hex SHA-256(prev_hash ‖ canonical JSON of the record
// without hash).
func (r *AuditRecord) ComputeHash() (string, error) {
	body, err := CanonicalJSON(r.Object(false))
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write([]byte(r.PrevHash))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil)), nil
}
