package webhook

import (
	"context"
	"net/http"
	"time"

	sb "github.com/switchboard-voice/switchboard"
)

// Sender delivers outbox rows for the use cases (it implements app.Sender)
// with a client built by NewClient.
type Sender struct {
	Client *http.Client
}

// NewSender returns a Sender whose client refuses private targets unless
// allowInsecure (dev mode or SWITCHBOARD_WEBHOOK_ALLOW_INSECURE).
func NewSender(allowInsecure bool) *Sender { return &Sender{Client: NewClient(allowInsecure)} }

// Send makes one attempt and reports it in the domain's shape.
func (s *Sender) Send(ctx context.Context, url, secret, event, eventID string, body []byte, now time.Time) sb.DeliveryAttempt {
	a := Deliver(ctx, s.Client, url, secret, event, eventID, body, now)
	out := sb.DeliveryAttempt{At: a.At, DurationMS: a.DurationMS}
	if a.StatusCode != 0 {
		code := a.StatusCode
		out.StatusCode = &code
	}
	if a.Error != "" {
		msg := a.Error
		out.Error = &msg
	}
	return out
}
