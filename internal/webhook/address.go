package webhook

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// ErrForbiddenAddress is the cause of a connection the client refused
// because the resolved address is loopback, private, link-local, multicast,
// unspecified or otherwise not a public unicast address. Test for it with
// errors.Is.
var ErrForbiddenAddress = errors.New("webhook: forbidden address")

// forbiddenV4 lists the IPv4 ranges a webhook may not reach outside
// allowInsecure. Mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) IPv6
// forms are unwrapped and checked against the same list.
var forbiddenV4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network", includes the unspecified address
	netip.MustParsePrefix("10.0.0.0/8"),     // RFC 1918
	netip.MustParsePrefix("100.64.0.0/10"),  // shared address space (CGNAT)
	netip.MustParsePrefix("127.0.0.0/8"),    // loopback
	netip.MustParsePrefix("169.254.0.0/16"), // link-local, cloud metadata
	netip.MustParsePrefix("172.16.0.0/12"),  // RFC 1918
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("192.168.0.0/16"), // RFC 1918
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("224.0.0.0/4"),    // multicast
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, includes broadcast
}

// forbiddenV6 lists the native IPv6 ranges a webhook may not reach.
var forbiddenV6 = []netip.Prefix{
	netip.MustParsePrefix("::/96"),          // unspecified, loopback, deprecated IPv4-compatible
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use IPv4/IPv6 translation
	netip.MustParsePrefix("fc00::/7"),       // unique local (ULA)
	netip.MustParsePrefix("fe80::/10"),      // link-local
	netip.MustParsePrefix("fec0::/10"),      // deprecated site-local
	netip.MustParsePrefix("ff00::/8"),       // multicast
}

// nat64 is the well-known NAT64 prefix (RFC 6052): the last 32 bits are an
// IPv4 address that a translator on the path would connect to.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// forbiddenAddr reports whether a is an address a webhook may not reach
// outside allowInsecure. An invalid address is forbidden.
func forbiddenAddr(a netip.Addr) bool {
	if !a.IsValid() {
		return true
	}
	a = a.WithZone("")
	if nat64.Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte(b[12:]))
	}
	a = a.Unmap()
	list := forbiddenV6
	if a.Is4() {
		list = forbiddenV4
	}
	for _, p := range list {
		if p.Contains(a) {
			return true
		}
	}
	// The stdlib predicates as a second opinion, should a range above be
	// mistyped.
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() ||
		a.IsMulticast() || a.IsUnspecified()
}

// refuseForbidden is the net.Dialer Control function of a client built
// without allowInsecure. It runs after name resolution, once per connection
// attempt, with the literal IP and port about to be connected to, so it
// sees every address a name resolves to (DNS rebinding included). An
// address it cannot parse is refused.
func refuseForbidden(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unparsable address %q on %s", ErrForbiddenAddress, address, network)
	}
	if forbiddenAddr(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
	}
	return nil
}
