package webhook

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// received is what a test receiver saw of one delivery.
type received struct {
	method, path, query string
	header              http.Header
	body                []byte
	signatureOK         bool
}

// receiver starts a plain-http server on 127.0.0.1 that verifies the
// signature with Verify, reports each request on the returned channel and
// answers with status.
func receiver(t *testing.T, status int) (*httptest.Server, <-chan received) {
	t.Helper()
	ch := make(chan received, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ch <- received{
			method: r.Method, path: r.URL.Path, query: r.URL.RawQuery,
			header: r.Header.Clone(), body: body,
			signatureOK: Verify(testSecret, body, r.Header.Get("X-Vobiz-Signature")),
		}
		w.WriteHeader(status)
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

func TestDeliverSuccess(t *testing.T) {
	srv, ch := receiver(t, http.StatusOK)
	c := NewClient(true)
	defer c.CloseIdleConnections()
	body := []byte(`{"event":"subaccount.disabled","event_id":"evt_0193a7c4-5d2e-7f10-9b1c-3e4f5a6b7c8d","data":{}}`)
	now := time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.FixedZone("IST", 5*3600+1800))

	a := Deliver(context.Background(), c, srv.URL+"/hooks/vobiz?tenant=7", testSecret,
		"subaccount.disabled", "evt_0193a7c4-5d2e-7f10-9b1c-3e4f5a6b7c8d", body, now)

	if a.StatusCode != 200 || a.Error != "" || !a.Succeeded() {
		t.Fatalf("Deliver = %+v, want 200 with no error", a)
	}
	if want := now.UTC().Truncate(time.Microsecond); !a.At.Equal(want) || a.At.Location() != time.UTC {
		t.Errorf("At = %v, want %v (UTC, microseconds)", a.At, want)
	}
	if a.DurationMS < 0 || a.DurationMS > 10_000 {
		t.Errorf("DurationMS = %d", a.DurationMS)
	}
	r := <-ch
	if !r.signatureOK {
		t.Errorf("receiver could not verify X-Vobiz-Signature %q", r.header.Get("X-Vobiz-Signature"))
	}
	if r.method != http.MethodPost || r.path != "/hooks/vobiz" || r.query != "tenant=7" {
		t.Errorf("request = %s %s?%s", r.method, r.path, r.query)
	}
	if string(r.body) != string(body) {
		t.Errorf("body = %s, want %s", r.body, body)
	}
	for name, want := range map[string]string{
		"Content-Type":      "application/json",
		"X-Vobiz-Signature": Sign(testSecret, body),
		"X-Vobiz-Event":     "subaccount.disabled",
		"X-Vobiz-Event-Id":  "evt_0193a7c4-5d2e-7f10-9b1c-3e4f5a6b7c8d",
		"User-Agent":        "switchboard-webhooks/1",
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
}

func TestDeliverStatuses(t *testing.T) {
	for _, tc := range []struct {
		status int
		errStr string
	}{
		{200, ""}, {201, ""}, {202, ""}, {204, ""}, {299, ""},
		{400, "status 400"}, {404, "status 404"}, {410, "status 410"},
		{500, "status 500"}, {503, "status 503"},
	} {
		srv, ch := receiver(t, tc.status)
		c := NewClient(true)
		a := Deliver(context.Background(), c, srv.URL, testSecret, "e", "evt_1", []byte("{}"), time.Now())
		c.CloseIdleConnections()
		if a.StatusCode != tc.status || a.Error != tc.errStr || a.Succeeded() != (tc.errStr == "") {
			t.Errorf("receiver %d: Deliver = %+v, want StatusCode %d, Error %q", tc.status, a, tc.status, tc.errStr)
		}
		if r := <-ch; !r.signatureOK {
			t.Errorf("receiver %d: signature did not verify", tc.status)
		}
	}
}

func TestDeliverDoesNotFollowRedirects(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		target, targetReqs := receiver(t, http.StatusOK)
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/stolen", status)
		}))
		c := NewClient(true)
		a := Deliver(context.Background(), c, redirector.URL, testSecret, "e", "evt_1", []byte("{}"), time.Now())
		c.CloseIdleConnections()
		redirector.Close()
		if a.StatusCode != status || a.Error != "status "+strconv.Itoa(status) || a.Succeeded() {
			t.Errorf("redirect %d: Deliver = %+v, want a failed attempt with status %d", status, a, status)
		}
		select {
		case r := <-targetReqs:
			t.Errorf("redirect %d was followed: target got %s %s", status, r.method, r.path)
		default:
		}
	}
}

// countingTransport wraps the real transport and counts the response body
// bytes its caller reads.
type countingTransport struct {
	rt     http.RoundTripper
	read   atomic.Int64
	closed atomic.Bool
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(r)
	if err == nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, t: c}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	t *countingTransport
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.t.read.Add(int64(n))
	return n, err
}

func (b *countingBody) Close() error {
	b.t.closed.Store(true)
	return b.ReadCloser.Close()
}

// hangingServer answers only when the client gives up or the test ends,
// so no test waits on a sleep.
func hangingServer(t *testing.T) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: lets Close finish
	return srv
}

func TestDeliverTimeout(t *testing.T) {
	srv := hangingServer(t)

	t.Run("context deadline", func(t *testing.T) {
		c := NewClient(true)
		defer c.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		a := Deliver(ctx, c, srv.URL+"/slow?token=hunter2", testSecret, "e", "evt_1", []byte("{}"), time.Now())
		if a.Error != "timeout" || a.StatusCode != 0 {
			t.Fatalf("Deliver = %+v, want Error \"timeout\"", a)
		}
		if a.DurationMS < 150 || a.DurationMS > 5000 {
			t.Errorf("DurationMS = %d, want about 200", a.DurationMS)
		}
	})

	t.Run("client timeout", func(t *testing.T) {
		c := newClient(true, 200*time.Millisecond)
		defer c.CloseIdleConnections()
		a := Deliver(context.Background(), c, srv.URL+"/slow", testSecret, "e", "evt_1", []byte("{}"), time.Now())
		if a.Error != "timeout" || a.StatusCode != 0 {
			t.Fatalf("Deliver = %+v, want Error \"timeout\"", a)
		}
	})

	t.Run("canceled", func(t *testing.T) {
		c := NewClient(true)
		defer c.CloseIdleConnections()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		a := Deliver(ctx, c, srv.URL, testSecret, "e", "evt_1", []byte("{}"), time.Now())
		if a.Error != "canceled" {
			t.Fatalf("Deliver = %+v, want Error \"canceled\"", a)
		}
	})
}

func TestDeliverReadsAtMostTheCap(t *testing.T) {
	const offered = 256 << 20 // far more than socket buffers can hold
	written := make(chan int64, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusOK)
		chunk := make([]byte, 32<<10)
		var n int64
		for n < offered {
			m, err := w.Write(chunk)
			n += int64(m)
			if err != nil {
				break
			}
		}
		written <- n
	}))
	t.Cleanup(srv.Close)
	c := NewClient(true)
	defer c.CloseIdleConnections()
	// Count what Deliver reads from the real transport's response body.
	counted := &countingTransport{rt: c.Transport}
	c.Transport = counted

	a := Deliver(context.Background(), c, srv.URL, testSecret, "e", "evt_1", []byte("{}"), time.Now())
	if a.StatusCode != 200 || a.Error != "" {
		t.Fatalf("Deliver = %+v, want 200", a)
	}
	if n := counted.read.Load(); n != responseLimit {
		t.Errorf("Deliver read %d bytes of the response, want exactly the %d-byte cap", n, responseLimit)
	}
	if !counted.closed.Load() {
		t.Error("Deliver did not close the response body")
	}
	select {
	case n := <-written:
		if n >= offered {
			t.Errorf("the receiver wrote all %d bytes: the client read the whole body", n)
		}
		t.Logf("receiver managed to write %d bytes before the client hung up", n)
	case <-time.After(10 * time.Second):
		t.Fatal("the receiver is still writing: the client did not close the connection")
	}
}

func TestDeliverErrorsAreShortAndHideTheURL(t *testing.T) {
	// A port with nothing listening: bind, note it, close.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + l.Addr().String() + "/hook?token=hunter2"
	l.Close()

	var phrases []string
	defer func() {
		for _, p := range phrases {
			if strings.Contains(p, "hunter2") || strings.Contains(p, "127.0.0.1") || len(p) > 40 {
				t.Errorf("Error %q leaks the URL or is not short", p)
			}
		}
	}()
	c := NewClient(true)
	defer c.CloseIdleConnections()
	a := Deliver(context.Background(), c, closedURL, testSecret, "e", "evt_1", []byte("{}"), time.Now())
	phrases = append(phrases, a.Error)
	if a.Error != "connection refused" || a.StatusCode != 0 {
		t.Errorf("closed port: Deliver = %+v, want Error \"connection refused\"", a)
	}

	a = Deliver(context.Background(), c, "http://127.0.0.1:1/%zz?token=hunter2", testSecret, "e", "evt_1", nil, time.Now())
	phrases = append(phrases, a.Error)
	if a.Error != "invalid url" {
		t.Errorf("malformed URL: Deliver = %+v, want Error \"invalid url\"", a)
	}

	// A TLS receiver whose certificate the client does not trust.
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failure is expected
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	a = Deliver(context.Background(), c, tlsSrv.URL+"/?token=hunter2", testSecret, "e", "evt_1", nil, time.Now())
	phrases = append(phrases, a.Error)
	if a.Error != "tls certificate invalid" {
		t.Errorf("untrusted certificate: Deliver = %+v, want Error \"tls certificate invalid\"", a)
	}

	// A receiver that hangs up without answering.
	var hijacked atomic.Int64
	rude := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			hijacked.Add(1)
			conn.Close()
		}
	}))
	defer rude.Close()
	a = Deliver(context.Background(), c, rude.URL+"/?token=hunter2", testSecret, "e", "evt_1", nil, time.Now())
	phrases = append(phrases, a.Error)
	if a.Error != "connection closed" || hijacked.Load() == 0 {
		t.Errorf("hang-up: Deliver = %+v, want Error \"connection closed\"", a)
	}
}

func TestErrorPhrase(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{ErrForbiddenAddress, "forbidden address"},
		{errors.Join(errors.New("dial"), ErrForbiddenAddress), "forbidden address"},
		{ErrInsecureScheme, "insecure scheme"},
		{context.DeadlineExceeded, "timeout"},
		{context.Canceled, "canceled"},
		{&net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}, "host not found"},
		{&net.DNSError{Err: "server misbehaving", Name: "x.invalid"}, "dns lookup failed"},
		{io.ErrUnexpectedEOF, "connection closed"},
		{errors.New("something odd at https://example.com/?token=hunter2"), "request failed"},
	} {
		if got := errorPhrase(tc.err); got != tc.want {
			t.Errorf("errorPhrase(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
