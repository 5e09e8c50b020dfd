package switchboard

import (
	"encoding/json"
	"time"
)

// Lifecycle event names (CONTRACT §10.3).
const (
	EventSubAccountCreated  = "subaccount.created"
	EventSubAccountUpdated  = "subaccount.updated"
	EventSubAccountDisabled = "subaccount.disabled"
	EventSubAccountEnabled  = "subaccount.enabled"
	EventSubAccountDeleted  = "subaccount.deleted"
	EventCredentialRotated  = "credential.rotated"
)

// EventNames lists every event an account webhook may subscribe to.
var EventNames = []string{
	EventSubAccountCreated, EventSubAccountUpdated, EventSubAccountDisabled, EventSubAccountEnabled,
	EventSubAccountDeleted, EventCredentialRotated,
	"number.assigned", "number.unassigned", "balance.low",
	"kyc.initiated", "kyc.submitted", "kyc.completed", "kyc.failed", "kyc.session_expired", "kyc.session_revoked",
}

// ValidEventName reports whether name is a known event or "*".
func ValidEventName(name string) bool {
	if name == "*" {
		return true
	}
	for _, n := range EventNames {
		if n == name {
			return true
		}
	}
	return false
}

// Event is one lifecycle event of a tenant, as sent to its webhook.
type Event struct {
	ID            string // evt_<uuid>
	Type          string
	Timestamp     time.Time
	AccountAuthID string // the main account
	Data          any
}

// NewEvent creates an event with a fresh id.
func NewEvent(typ, mainAuthID string, now time.Time, data any) Event {
	return Event{ID: "evt_" + NewUUID(), Type: typ, Timestamp: now, AccountAuthID: mainAuthID, Data: data}
}

// Payload is the JSON envelope delivered to the webhook.
func (e Event) Payload() ([]byte, error) {
	return json.Marshal(struct {
		Event         string `json:"event"`
		EventID       string `json:"event_id"`
		Timestamp     string `json:"timestamp"`
		AccountAuthID string `json:"account_auth_id"`
		Data          any    `json:"data"`
	}{e.Type, e.ID, FormatTime(e.Timestamp), e.AccountAuthID, e.Data})
}

// WebhookEndpoint is a main account's webhook configuration.
type WebhookEndpoint struct {
	URL    *string
	Events []string
}

// Subscribed reports whether the endpoint wants event.
func (w WebhookEndpoint) Subscribed(event string) bool {
	if w.URL == nil {
		return false
	}
	for _, e := range w.Events {
		if e == "*" || e == event {
			return true
		}
	}
	return false
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
)

// DeliveryAttempt is one try of a delivery.
type DeliveryAttempt struct {
	At         time.Time `json:"-"`
	StatusCode *int      `json:"status_code"`
	Error      *string   `json:"error"`
	DurationMS int64     `json:"duration_ms"`
}

// Delivery is one event on its way to one URL, kept in the durable outbox.
type Delivery struct {
	ID            string // dlv_<uuid>
	TenantID      int64  // the main account's numeric id
	EventID       string
	Event         string
	URL           string
	Payload       []byte
	Status        string
	Attempts      []DeliveryAttempt
	NextAttemptAt *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// IdempotencyRecord is a claimed Idempotency-Key (CONTRACT §0.9). Status 0
// means the first request is still executing.
type IdempotencyRecord struct {
	Principal   string
	Key         string
	Fingerprint string
	Status      int
	// Body is the stored response body; encrypted with the server key when
	// Encrypted (responses that carry a secret).
	Body      []byte
	Encrypted bool
	CreatedAt time.Time
	ExpiresAt time.Time
}

// IdempotencyTTL is how long a key is remembered.
const IdempotencyTTL = 24 * time.Hour

// DeliverySchedule is the wait before each retry of a webhook delivery
// (CONTRACT §10.2): after attempt 1 wait 1 min, … after attempt 7 wait
// 24 h; attempt 8 is the last.
var DeliverySchedule = []time.Duration{
	time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// MaxDeliveryAttempts is the number of attempts before a delivery fails.
const MaxDeliveryAttempts = 8

// NextDeliveryAttempt returns when to try again after attemptsMade failed
// attempts, the last at last; ok is false when no attempt is left.
// With no attempt made yet it is due at last.
func NextDeliveryAttempt(attemptsMade int, last time.Time) (next time.Time, ok bool) {
	switch {
	case attemptsMade <= 0:
		return last, true
	case attemptsMade >= MaxDeliveryAttempts:
		return time.Time{}, false
	}
	return last.Add(DeliverySchedule[attemptsMade-1]), true
}
