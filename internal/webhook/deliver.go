package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// responseLimit is how much of a receiver's response body is read (and
// discarded) so the connection can be reused; the rest is dropped with the
// connection.
const responseLimit = 64 << 10

// userAgent identifies switchboard's deliveries to receivers.
const userAgent = "switchboard-webhooks/1"

// Attempt is the record of one delivery attempt, as listed in the delivery
// log (CONTRACT §10.2: at, status_code, error, duration_ms).
type Attempt struct {
	// At is when the attempt started, from the caller's clock, UTC,
	// truncated to microseconds.
	At time.Time
	// StatusCode is the receiver's HTTP status, 0 when none was received.
	StatusCode int
	// Error is "" for a 2xx, otherwise a short fixed phrase safe to show to
	// the account owner ("status 500", "timeout", "connection refused",
	// "forbidden address", …). It never contains the URL.
	Error string
	// DurationMS is the wall time the attempt took, in milliseconds.
	DurationMS int64
}

// Succeeded reports whether the receiver answered with a 2xx status.
func (a Attempt) Succeeded() bool { return a.StatusCode >= 200 && a.StatusCode <= 299 }

// Deliver makes one delivery attempt: it POSTs body to url with the
// signature and event headers of CONTRACT §10.2, reads at most 64 KiB of
// the response and discards it. Any 2xx is success. c must come from
// NewClient; ctx may shorten (never lengthen) its 10 s timeout. now is the
// caller's clock reading for Attempt.At; the duration is measured on the
// process's monotonic clock. Deliver does not retry: the caller records the
// Attempt and asks switchboard.NextDeliveryAttempt when to call again.
func Deliver(ctx context.Context, c *http.Client, url, secret, event, eventID string, body []byte, now time.Time) Attempt {
	a := Attempt{At: now.UTC().Truncate(time.Microsecond)}
	start := time.Now()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		a.Error = "invalid url"
		a.DurationMS = time.Since(start).Milliseconds()
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("X-Vobiz-Signature", Sign(secret, body))
	req.Header.Set("X-Vobiz-Event", event)
	req.Header.Set("X-Vobiz-Event-Id", eventID)

	resp, err := c.Do(req)
	if err != nil {
		a.Error = errorPhrase(err)
		a.DurationMS = time.Since(start).Milliseconds()
		return a
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, responseLimit))
	resp.Body.Close()
	a.StatusCode = resp.StatusCode
	if !a.Succeeded() {
		a.Error = "status " + strconv.Itoa(resp.StatusCode)
	}
	a.DurationMS = time.Since(start).Milliseconds()
	return a
}

// errorPhrase turns a client error into a short phrase without the URL
// (a *url.Error's message quotes the whole URL, query string included).
func errorPhrase(err error) string {
	var (
		dnsErr  *net.DNSError
		netErr  net.Error
		certErr *tls.CertificateVerificationError
		unkAuth x509.UnknownAuthorityError
		badHost x509.HostnameError
		badCert x509.CertificateInvalidError
		recErr  tls.RecordHeaderError
		alert   tls.AlertError
	)
	switch {
	case errors.Is(err, ErrForbiddenAddress):
		return "forbidden address"
	case errors.Is(err, ErrInsecureScheme):
		return "insecure scheme"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return "host not found"
		}
		if dnsErr.IsTimeout {
			return "timeout"
		}
		return "dns lookup failed"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable"
	case errors.As(err, &certErr), errors.As(err, &unkAuth), errors.As(err, &badHost), errors.As(err, &badCert):
		return "tls certificate invalid"
	case errors.As(err, &recErr), errors.As(err, &alert):
		return "tls handshake failed"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	default:
		return "request failed"
	}
}
