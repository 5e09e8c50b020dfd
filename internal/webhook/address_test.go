package webhook

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// addressCases classifies addresses without dialling any of them.
var addressCases = []struct {
	addr      string
	forbidden bool
}{
	// Public IPv4.
	{"1.1.1.1", false},
	{"8.8.8.8", false},
	{"93.184.216.34", false},
	{"100.63.255.255", false}, // just below CGNAT
	{"100.128.0.0", false},    // just above CGNAT
	{"172.15.255.255", false}, // just below 172.16/12
	{"172.32.0.0", false},     // just above 172.16/12
	{"198.17.255.255", false}, // just below 198.18/15
	{"198.20.0.0", false},     // just above 198.18/15
	{"169.253.255.255", false},
	{"223.255.255.255", false},
	{"11.0.0.1", false},
	{"192.167.255.255", false},
	{"192.0.1.1", false},

	// Non-public IPv4.
	{"0.0.0.0", true},
	{"0.1.2.3", true},
	{"10.0.0.1", true},
	{"10.255.255.255", true},
	{"100.64.0.1", true},
	{"100.127.255.255", true},
	{"127.0.0.1", true},
	{"127.255.255.254", true},
	{"169.254.0.1", true},
	{"169.254.169.254", true},
	{"172.16.0.1", true},
	{"172.31.255.255", true},
	{"192.0.0.8", true},
	{"192.168.0.1", true},
	{"198.18.0.1", true},
	{"198.19.255.255", true},
	{"224.0.0.1", true},
	{"239.255.255.250", true},
	{"240.0.0.1", true},
	{"255.255.255.255", true},

	// Public IPv6.
	{"2606:4700:4700::1111", false},
	{"2001:4860:4860::8888", false},
	{"2a00:1450:4001:81c::200e", false},
	{"64:ff9b::808:808", false}, // NAT64 of 8.8.8.8
	{"::ffff:8.8.8.8", false},   // mapped public

	// Non-public IPv6.
	{"::", true},
	{"::1", true},
	{"::127.0.0.1", true}, // deprecated IPv4-compatible
	{"fc00::1", true},
	{"fd00:1234::5", true},
	{"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
	{"fe80::1", true},
	{"fe80::1%eth0", true},
	{"febf::1", true},
	{"fec0::1", true},
	{"ff02::1", true},
	{"ff05::1:3", true},
	{"64:ff9b:1::1", true},

	// IPv4-mapped and NAT64 forms of non-public IPv4.
	{"::ffff:127.0.0.1", true},
	{"::ffff:7f00:1", true},
	{"::ffff:10.0.0.1", true},
	{"::ffff:172.16.5.4", true},
	{"::ffff:192.168.1.1", true},
	{"::ffff:169.254.169.254", true},
	{"::ffff:100.64.0.1", true},
	{"::ffff:0.0.0.0", true},
	{"::ffff:198.18.0.1", true},
	{"::ffff:224.0.0.1", true},
	{"64:ff9b::7f00:1", true},
	{"64:ff9b::a9fe:a9fe", true},
	{"64:ff9b::10.0.0.1", true},
}

func TestForbiddenAddr(t *testing.T) {
	for _, tc := range addressCases {
		a, err := netip.ParseAddr(tc.addr)
		if err != nil {
			t.Fatalf("ParseAddr(%q): %v", tc.addr, err)
		}
		if got := forbiddenAddr(a); got != tc.forbidden {
			t.Errorf("forbiddenAddr(%s) = %v, want %v", tc.addr, got, tc.forbidden)
		}
	}
	if !forbiddenAddr(netip.Addr{}) {
		t.Error("the zero Addr is not forbidden")
	}
}

// TestDialerControl calls the secure dialer's Control with the address
// strings the net package would pass after resolution. Nothing is dialled.
func TestDialerControl(t *testing.T) {
	control := newDialer(false).Control
	if control == nil {
		t.Fatal("the secure dialer has no Control function")
	}
	for _, tc := range addressCases {
		a := netip.MustParseAddr(tc.addr)
		network := "tcp4"
		if a.Is6() {
			network = "tcp6"
		}
		address := netip.AddrPortFrom(a, 443).String()
		err := control(network, address, nil)
		if tc.forbidden {
			if !errors.Is(err, ErrForbiddenAddress) {
				t.Errorf("Control(%s, %s) = %v, want ErrForbiddenAddress", network, address, err)
			}
		} else if err != nil {
			t.Errorf("Control(%s, %s) = %v, want nil", network, address, err)
		}
	}
	for _, garbage := range []string{"", "example.com:443", "127.0.0.1", "[::1]", "1.2.3.4:http"} {
		if err := control("tcp", garbage, nil); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("Control(%q) = %v, want ErrForbiddenAddress (fail closed)", garbage, err)
		}
	}
	if newDialer(true).Control != nil {
		t.Error("the insecure dialer has a Control function")
	}
}

// countingServer starts an httptest server (TLS or plain) on 127.0.0.1
// that counts accepted connections and requests.
func countingServer(t *testing.T, tlsOn bool) (srv *httptest.Server, conns, reqs *atomic.Int64) {
	t.Helper()
	conns, reqs = new(atomic.Int64), new(atomic.Int64)
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	if tlsOn {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, conns, reqs
}

func TestSecureClientRefusesLoopback(t *testing.T) {
	srv, conns, reqs := countingServer(t, true)
	c := NewClient(false)
	defer c.CloseIdleConnections()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	// The literal IP, and the name localhost, which resolves to loopback:
	// both refused at dial time, before TLS or HTTP.
	for _, u := range []string{srv.URL + "/hook", "https://localhost:" + port + "/hook"} {
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader("{}"))
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("POST %s succeeded through the secure client", u)
		}
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("POST %s: %v, want ErrForbiddenAddress", u, err)
		}
		a := Deliver(context.Background(), c, u, testSecret, "subaccount.created", "evt_1", []byte("{}"), time.Now())
		if a.Error != "forbidden address" || a.StatusCode != 0 {
			t.Errorf("Deliver %s = %+v, want Error \"forbidden address\"", u, a)
		}
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("server accepted %d connections", n)
	}
	if n := reqs.Load(); n != 0 {
		t.Errorf("server saw %d requests", n)
	}
}

// TestSecureClientRefusesIPv6Loopback repeats the refusal on [::1] where
// the host has IPv6 loopback.
func TestSecureClientRefusesIPv6Loopback(t *testing.T) {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	c := NewClient(false)
	defer c.CloseIdleConnections()
	a := Deliver(context.Background(), c, srv.URL, testSecret, "e", "evt_1", nil, time.Now())
	if a.Error != "forbidden address" {
		t.Errorf("Deliver %s = %+v, want Error \"forbidden address\"", srv.URL, a)
	}
	if conns.Load() != 0 {
		t.Errorf("server accepted %d connections", conns.Load())
	}
}

func TestSecureClientRefusesPlainHTTP(t *testing.T) {
	srv, conns, reqs := countingServer(t, false)
	c := NewClient(false)
	defer c.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/hook", strings.NewReader("{}"))
	resp, err := c.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("plain http went through the secure client")
	}
	if !errors.Is(err, ErrInsecureScheme) {
		t.Errorf("POST http://…: %v, want ErrInsecureScheme", err)
	}
	a := Deliver(context.Background(), c, srv.URL+"/hook", testSecret, "e", "evt_1", []byte("{}"), time.Now())
	if a.Error != "insecure scheme" {
		t.Errorf("Deliver = %+v, want Error \"insecure scheme\"", a)
	}
	if conns.Load() != 0 || reqs.Load() != 0 {
		t.Errorf("server saw %d connections, %d requests; want none", conns.Load(), reqs.Load())
	}
}

func TestInsecureClientConnects(t *testing.T) {
	srv, conns, reqs := countingServer(t, false)
	c := NewClient(true)
	defer c.CloseIdleConnections()
	a := Deliver(context.Background(), c, srv.URL+"/hook", testSecret, "e", "evt_1", []byte("{}"), time.Now())
	if a.StatusCode != http.StatusNoContent || a.Error != "" {
		t.Fatalf("Deliver = %+v, want 204 and no error", a)
	}
	if conns.Load() != 1 || reqs.Load() != 1 {
		t.Errorf("server saw %d connections, %d requests; want 1, 1", conns.Load(), reqs.Load())
	}
}

// TestClientHasNoProxy checks the transport directly: the environment's
// proxy settings cannot be tested end to end on 127.0.0.1, which
// http.ProxyFromEnvironment always bypasses.
func TestClientHasNoProxy(t *testing.T) {
	for _, allow := range []bool{false, true} {
		c := NewClient(allow)
		var tr *http.Transport
		switch rt := c.Transport.(type) {
		case *http.Transport:
			tr = rt
		case httpsOnly:
			tr = rt.t
		default:
			t.Fatalf("NewClient(%v).Transport is %T", allow, c.Transport)
		}
		if tr.Proxy != nil {
			t.Errorf("NewClient(%v) uses a proxy function", allow)
		}
		if c.Timeout != 10*time.Second {
			t.Errorf("NewClient(%v).Timeout = %v, want 10s", allow, c.Timeout)
		}
		if _, secure := c.Transport.(httpsOnly); secure == allow {
			t.Errorf("NewClient(%v): https-only guard present = %v", allow, secure)
		}
	}
}
