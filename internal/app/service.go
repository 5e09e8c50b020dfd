package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/password"
)

// Config holds the settings the use cases need.
type Config struct {
	// Dev enables the dev helpers (CONTRACT §3.5).
	Dev bool
	// ValidateWebhookURL checks a webhook target (scheme, host, private
	// addresses outside dev mode); nil accepts any URL.
	ValidateWebhookURL func(raw string) error
	// Metrics receives counters of background work; nil counts nothing.
	Metrics MetricsSink
	// Sender delivers webhooks; nil leaves deliveries in the outbox.
	Sender Sender
}

// MetricsSink receives the counters the use cases produce.
type MetricsSink interface {
	WebhookDelivery(outcome string)
}

type metricsOrNone struct{ sink MetricsSink }

func (m metricsOrNone) deliveries(outcome string) {
	if m.sink != nil {
		m.sink.WebhookDelivery(outcome)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// Service is the set of use cases. It is safe for concurrent use.
type Service struct {
	store   Store
	clock   *Clock
	key     []byte
	cfg     Config
	log     *slog.Logger
	logins  *loginLimiter
	metrics metricsOrNone
}

// New returns a Service over store, signing and hashing with the 32-byte
// server key.
func New(store Store, clock *Clock, key []byte, cfg Config, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, clock: clock, key: key, cfg: cfg, log: log, logins: newLoginLimiter(),
		metrics: metricsOrNone{cfg.Metrics}}
}

// Clock returns the service clock.
func (s *Service) Clock() *Clock { return s.clock }

// Store returns the underlying store (for readiness checks).
func (s *Service) Store() Store { return s.store }

// Dev reports whether dev mode is on.
func (s *Service) Dev() bool { return s.cfg.Dev }

// settingServerKey is the settings row holding a generated server key.
const settingServerKey = "server_key"

// LoadServerKey returns the 32-byte server key: from envHex (64 hex
// characters) when set, in which case nothing is stored; otherwise from the
// settings table, generating and storing a random key on first use.
func LoadServerKey(ctx context.Context, store Store, envHex string) ([]byte, error) {
	if envHex != "" {
		key, err := hex.DecodeString(envHex)
		if err != nil || len(key) != 32 {
			return nil, sb.Errorf(sb.EValidation, "SWITCHBOARD_SECRET_KEY must be 64 hex characters (32 bytes)")
		}
		return key, nil
	}
	var key []byte
	err := store.Update(ctx, func(tx Tx) error {
		if err := serialize(ctx, tx, settingServerKey); err != nil {
			return err
		}
		v, ok, err := tx.GetSetting(ctx, settingServerKey)
		if err != nil {
			return err
		}
		if ok {
			key, err = hex.DecodeString(v)
			if err != nil || len(key) != 32 {
				return fmt.Errorf("settings row %q is corrupt", settingServerKey)
			}
			return nil
		}
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return err
		}
		return tx.PutSetting(ctx, settingServerKey, hex.EncodeToString(key))
	})
	return key, err
}

// hashPassword validates nothing; callers validate length first.
func hashPassword(pw string) (string, error) {
	h, err := password.Hash(pw)
	if err != nil {
		return "", sb.Internal(err)
	}
	return h, nil
}

// serialize makes concurrent transactions that call it with the same name
// run one after the other, on every engine: the upsert of one settings row
// takes that row's lock until commit. On PostgreSQL (read committed) the
// statements after it see what the earlier transaction committed.
func serialize(ctx context.Context, tx Tx, name string) error {
	return tx.PutSetting(ctx, "lock:"+name, "1")
}
