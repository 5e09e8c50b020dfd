package webhook

import (
	"strings"
	"testing"
)

func TestValidateURL(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", MaxURLLength-len("https://example.com/"))
	tests := []struct {
		url string
		// secureOK and insecureOK: accepted with allowInsecure false / true.
		secureOK, insecureOK bool
	}{
		{"https://example.com/hooks", true, true},
		{"https://example.com", true, true},
		{"https://example.com:8443/a?b=c#frag", true, true},
		{"HTTPS://Example.COM/x", true, true},
		{"https://hooks.example.co.in/vobiz/events?token=abc", true, true},
		{"https://93.184.216.34/hook", true, true},
		{"https://[2606:2800:220:1:248:1893:25c8:1946]/hook", true, true},
		{long, true, true},
		{long + "a", false, false},

		// Scheme.
		{"http://example.com/hook", false, true},
		{"ftp://example.com/hook", false, false},
		{"ws://example.com/hook", false, false},
		{"javascript:alert(1)", false, false},
		{"//example.com/hook", false, false},
		{"/hook", false, false},
		{"example.com/hook", false, false},
		{"https:example.com", false, false},
		{"", false, false},
		{"https://exa mple.com/", false, false},
		{"https://example.com/a b", false, false},
		{"https://example.com/\n", false, false},

		// Host and user information.
		{"https:///hook", false, false},
		{"https://:443/hook", false, false},
		{"https://user@example.com/hook", false, false},
		{"https://user:s3cr3tpw@example.com/hook", false, false},
		{"https://:s3cr3tpw@example.com/hook", false, false},
		{"https://example.com:0/", false, false},
		{"https://example.com:65536/", false, false},
		{"https://example.com:https/", false, false},

		// Non-public literal IPs and localhost: only with allowInsecure.
		{"https://127.0.0.1/hook", false, true},
		{"https://127.0.0.1:8443/hook", false, true},
		{"http://127.0.0.1:8080/hook", false, true},
		{"https://10.1.2.3/", false, true},
		{"https://172.16.0.1/", false, true},
		{"https://192.168.1.1/", false, true},
		{"https://169.254.169.254/latest/meta-data/", false, true},
		{"https://100.64.0.1/", false, true},
		{"https://0.0.0.0/", false, true},
		{"https://224.0.0.1/", false, true},
		{"https://198.18.0.1/", false, true},
		{"https://[::1]/", false, true},
		{"https://[::]/", false, true},
		{"https://[fc00::1]/", false, true},
		{"https://[fd12:3456::1]/", false, true},
		{"https://[fe80::1%25eth0]/", false, true},
		{"https://[ff02::1]/", false, true},
		{"https://[::ffff:127.0.0.1]/", false, true},
		{"https://[::ffff:10.0.0.1]/", false, true},
		{"https://[64:ff9b::a9fe:a9fe]/", false, true},
		{"https://localhost/hook", false, true},
		{"https://LOCALHOST:8443/hook", false, true},
		{"https://localhost./hook", false, true},
		{"https://api.localhost/hook", false, true},
		{"https://localhost.example.com/hook", true, true},

		// Non-canonical IPv4 spellings are never accepted.
		{"https://127.1/", false, false},
		{"https://2130706433/", false, false},
		{"https://0x7f000001/", false, false},
		{"https://0177.0.0.1/", false, false},
		{"https://1.2.3.4.5/", false, false},
		{"https://example.123/", false, false},
	}
	for _, tc := range tests {
		for _, allow := range []bool{false, true} {
			want := tc.secureOK
			if allow {
				want = tc.insecureOK
			}
			err := ValidateURL(tc.url, allow)
			if (err == nil) != want {
				t.Errorf("ValidateURL(%.60q, allowInsecure=%v) = %v; want ok=%v", tc.url, allow, err, want)
			}
			if err != nil && (err.Error() == "" || strings.Contains(err.Error(), "s3cr3tpw")) {
				t.Errorf("ValidateURL(%.60q): unhelpful or leaking message %q", tc.url, err)
			}
		}
	}
}
