package webhook

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"time"
)

// Timeout bounds one delivery attempt from dial to the last byte read
// (CONTRACT §10.2).
const Timeout = 10 * time.Second

// ErrInsecureScheme is the cause of a request the client refused because
// its URL is not https and the client was built without allowInsecure.
var ErrInsecureScheme = errors.New("webhook: insecure scheme")

// NewClient returns the HTTP client for webhook deliveries: a 10 s overall
// timeout, redirects returned rather than followed, no proxy (the
// environment's HTTP_PROXY is ignored), keep-alives on, transparent
// compression off. Unless allowInsecure (dev mode or
// SWITCHBOARD_WEBHOOK_ALLOW_INSECURE), it refuses non-https URLs
// (ErrInsecureScheme) and connections to non-public addresses, checked on
// the resolved address at dial time (ErrForbiddenAddress).
//
// Build one client and share it between deliveries: it is safe for
// concurrent use and pools connections.
func NewClient(allowInsecure bool) *http.Client {
	return newClient(allowInsecure, Timeout)
}

// newClient is NewClient with the overall timeout as a parameter, so tests
// can exercise a timeout without waiting 10 s.
func newClient(allowInsecure bool, timeout time.Duration) *http.Client {
	t := &http.Transport{
		Proxy:                  nil,
		DialContext:            newDialer(allowInsecure).DialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    4,
		MaxResponseHeaderBytes: 64 << 10,
		DisableCompression:     true,
	}
	var rt http.RoundTripper = t
	if !allowInsecure {
		rt = httpsOnly{t}
	}
	return &http.Client{
		Transport: rt,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// newDialer returns the dialer of the delivery client; without
// allowInsecure its Control refuses non-public addresses.
func newDialer(allowInsecure bool) *net.Dialer {
	d := &net.Dialer{Timeout: Timeout, KeepAlive: 30 * time.Second}
	if !allowInsecure {
		d.Control = refuseForbidden
	}
	return d
}

// httpsOnly refuses any request whose URL is not https before it reaches
// the transport, so nothing is dialled for it.
type httpsOnly struct{ t *http.Transport }

func (h httpsOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL == nil || r.URL.Scheme != "https" {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, ErrInsecureScheme
	}
	return h.t.RoundTrip(r)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport.
func (h httpsOnly) CloseIdleConnections() { h.t.CloseIdleConnections() }
