package egress

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Timeouts every transport from this package sets. A request's total time
// is bounded by its client's Timeout and its context.
const (
	ConnectTimeout        = 30 * time.Second
	TLSHandshakeTimeout   = 10 * time.Second
	ResponseHeaderTimeout = time.Minute
)

// BlockedError is a connection the guard refused.
type BlockedError struct {
	// Addr is the address dialled, IP and port.
	Addr string
	// Reason says which kind of address it is, for example "a loopback
	// address".
	Reason string
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("connection to %s refused: %s (with --restrict-egress or --untrusted only public addresses are reached)", e.Addr, e.Reason)
}

// blocked lists the IPv4 ranges refused besides those netip classifies,
// with why.
var blocked = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), `a "this network" address`},
	{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol assignment address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("::/96"), "an IPv4-compatible IPv6 address"},
	{netip.MustParsePrefix("100::/64"), "a discard-only address"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
}

// Embedded IPv4 addresses in IPv6 ones, checked as the IPv4 address.
var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// Check says why a connection to ip is refused, or "" when ip is a
// public unicast address.
func Check(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip):
			if r := Check(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})); r != "" {
				return r + " (in a NAT64 address)"
			}
		case sixTo4.Contains(ip):
			if r := Check(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})); r != "" {
				return r + " (in a 6to4 address)"
			}
		}
	}
	switch {
	case !ip.IsValid():
		return "not an IP address"
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsUnspecified():
		return "the unspecified address"
	case ip.IsLinkLocalUnicast():
		return "a link-local address (cloud metadata services listen there)"
	case ip.IsPrivate():
		return "a private address"
	case ip.IsMulticast():
		return "a multicast address"
	case ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "the broadcast address"
	}
	for _, b := range blocked {
		if b.prefix.Contains(ip) {
			return b.reason
		}
	}
	return ""
}

// Control is a net.Dialer Control function refusing every address Check
// refuses. address is the resolved "ip:port" the dialer connects to.
func Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &BlockedError{Addr: address, Reason: "not an IP address and port"}
	}
	if r := Check(ap.Addr()); r != "" {
		return &BlockedError{Addr: address, Reason: r}
	}
	return nil
}

// Dialer returns a dialer with the connect timeout, restricted to public
// addresses when restrict is set.
func Dialer(restrict bool) *net.Dialer {
	d := &net.Dialer{Timeout: ConnectTimeout, KeepAlive: 30 * time.Second}
	if restrict {
		d.Control = Control
	}
	return d
}

// Transport returns an HTTP transport with the package's timeouts. When
// restrict is set every connection goes through the guard, and no proxy
// from the environment is used: behind a proxy the guard would see only
// the proxy's address, not the one the request is for.
func Transport(restrict bool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := Dialer(restrict)
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	t.TLSHandshakeTimeout = TLSHandshakeTimeout
	t.ResponseHeaderTimeout = ResponseHeaderTimeout
	if restrict {
		t.Proxy = nil
	}
	return t
}
