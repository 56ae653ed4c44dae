// Package egress guards the network connections that repository content
// drives (chart repositories, OCI registries): with the guard on, a
// connection is refused unless its address — checked after DNS
// resolution, as the dialer connects, so a name that resolves to an
// internal address is caught too — is a public unicast address. Loopback,
// private (RFC 1918, unique local), link-local (where cloud metadata
// services listen), carrier-grade NAT, multicast, unspecified and reserved
// addresses are refused, also when embedded in an IPv6 address
// (IPv4-mapped, NAT64, 6to4). The transports it returns also set the
// connect, TLS handshake and response header timeouts every fetch has.
package egress
