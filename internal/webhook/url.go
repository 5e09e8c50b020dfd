package webhook

import (
	"errors"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// MaxURLLength is the longest webhook URL accepted, in bytes.
const MaxURLLength = 2048

// ValidateURL checks a webhook URL when it is stored (the account webhook of
// CONTRACT §10.2 and a KYC session's webhook_url of §5.7). It must be an
// absolute https URL (http too when allowInsecure) of at most 2048 bytes
// with a host and no user information. Without allowInsecure a literal IP
// that is not public, and the host localhost, are rejected here to give an
// early, friendly error; names that resolve to such addresses are only
// caught when a delivery dials them (see NewClient), which is the real
// guard. The error is plain, with a message fit for the API client; the
// caller wraps it as a validation error.
func ValidateURL(raw string, allowInsecure bool) error {
	if raw == "" {
		return errors.New("url is required")
	}
	if len(raw) > MaxURLLength {
		return errors.New("url must be at most " + strconv.Itoa(MaxURLLength) + " characters")
	}
	if strings.ContainsAny(raw, " \t\r\n") {
		return errors.New("url must not contain whitespace")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("url is not a valid URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowInsecure:
	case u.Scheme == "http":
		return errors.New("url must use https")
	case allowInsecure:
		return errors.New("url must be an absolute http or https URL")
	default:
		return errors.New("url must be an absolute https URL")
	}
	if u.Opaque != "" {
		return errors.New("url must be an absolute URL of the form https://host/path")
	}
	if u.User != nil {
		return errors.New("url must not contain a user name or password")
	}
	host := u.Hostname()
	if host == "" {
		return errors.New("url must have a host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return errors.New("url has an invalid port")
		}
	}
	addr, err := netip.ParseAddr(host)
	isIP := err == nil
	if !isIP && looksNumeric(host) {
		// A host whose last label is a number is read as an IPv4 address by
		// browsers and some resolvers ("127.1", "0x7f000001"); accept only the
		// canonical dotted quad.
		return errors.New("url host is not a valid IP address or host name")
	}
	if allowInsecure {
		return nil
	}
	if isIP && forbiddenAddr(addr) {
		return errors.New("url must not point to a loopback, private, link-local, multicast or otherwise non-public address")
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return errors.New("url must not point to localhost")
	}
	return nil
}

// looksNumeric reports whether the last label of host is a decimal number
// or a 0x hex number, the WHATWG rule for "this host is an IPv4 address".
func looksNumeric(host string) bool {
	host = strings.TrimSuffix(host, ".")
	label := host[strings.LastIndexByte(host, '.')+1:]
	if label == "" {
		return false
	}
	if l := strings.ToLower(label); strings.HasPrefix(l, "0x") {
		label = l[2:]
		for _, c := range label {
			if !strings.ContainsRune("0123456789abcdef", c) {
				return false
			}
		}
		return true
	}
	for _, c := range label {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
