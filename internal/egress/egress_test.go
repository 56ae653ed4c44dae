package egress_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/fluxgate/fluxgate/internal/egress"
	"github.com/fluxgate/fluxgate/internal/testenv"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		ip     string
		reason string // "" for allowed; else a word of the reason
	}{
		{"127.0.0.1", "loopback"},
		{"127.200.0.9", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "this network"},
		{"::", "unspecified"},
		{"10.0.0.1", "private"},
		{"172.16.5.4", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"fd00:ec2::254", "private"},
		{"169.254.169.254", "link-local"},
		{"fe80::1", "link-local"},
		{"100.100.100.200", "carrier-grade NAT"},
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{"255.255.255.255", "broadcast"},
		{"240.0.0.1", "reserved"},
		{"198.18.0.1", "benchmarking"},
		{"64:ff9b::7f00:1", "NAT64"},
		{"64:ff9b::a9fe:a9fe", "link-local"},
		{"2002:7f00:1::", "6to4"},
		{"2002:c0a8:101::1", "private"},
		{"::7f00:1", "IPv4-compatible"},
		{"fec0::1", "site-local"},
		{"8.8.8.8", ""},
		{"172.32.0.1", ""},
		{"192.169.0.1", ""},
		{"2606:4700:4700::1111", ""},
		{"64:ff9b::808:808", ""},
		{"2002:808:808::1", ""},
	} {
		got := egress.Check(netip.MustParseAddr(tc.ip))
		if tc.reason == "" && got != "" {
			t.Errorf("Check(%s) = %q, want allowed", tc.ip, got)
		}
		if tc.reason != "" && !strings.Contains(got, tc.reason) {
			t.Errorf("Check(%s) = %q, want a reason with %q", tc.ip, got, tc.reason)
		}
	}
}

// TestRestrictedTransportRefusesLoopback fetches from a server on the
// loopback address: the unrestricted transport reaches it, the
// restricted one refuses before connecting, also through a name that
// resolves to it.
func TestRestrictedTransportRefusesLoopback(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()

	open := &http.Client{Transport: egress.Transport(false)}
	resp, err := open.Get(srv.URL)
	if err != nil {
		t.Fatalf("unrestricted: %v", err)
	}
	resp.Body.Close()
	if hits != 1 {
		t.Fatalf("unrestricted transport did not reach the server (%d hits)", hits)
	}

	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	restricted := &http.Client{Transport: egress.Transport(true)}
	for _, u := range []string{srv.URL, "http://localhost:" + port + "/"} {
		_, err := restricted.Get(u)
		var blocked *egress.BlockedError
		if !errors.As(err, &blocked) {
			t.Fatalf("restricted get %s: err = %v, want a BlockedError", u, err)
		}
		if !strings.Contains(blocked.Error(), "loopback") || !strings.Contains(blocked.Error(), port) {
			t.Errorf("error %q does not name the loopback address and port", blocked)
		}
	}
	if hits != 1 {
		t.Errorf("restricted transport reached the server (%d hits)", hits)
	}
}

// TestRestrictedTransportIgnoresProxy: a proxy from the environment
// would hide the destination from the guard, so the restricted
// transport does not use one.
func TestRestrictedTransportIgnoresProxy(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://203.0.113.1:3128")
	if egress.Transport(true).Proxy != nil {
		t.Error("restricted transport has a proxy function")
	}
	if egress.Transport(false).Proxy == nil {
		t.Error("unrestricted transport dropped the environment's proxy")
	}
}

// TestTarpitEndsWithTheContext: a request to a server that accepts the
// connection and never answers ends with the transport's header timeout
// or the caller's context, whichever comes first — here the context.
func TestTarpitEndsWithTheContext(t *testing.T) {
	addr := testenv.Tarpit(t)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	done := make(chan error, 1)
	go func() {
		resp, err := (&http.Client{Transport: egress.Transport(false)}).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the context's deadline", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("a request to a server that never answers outlived its context")
	}
}

func TestTransportTimeouts(t *testing.T) {
	tr := egress.Transport(false)
	if tr.TLSHandshakeTimeout != egress.TLSHandshakeTimeout || tr.ResponseHeaderTimeout != egress.ResponseHeaderTimeout {
		t.Errorf("timeouts: TLS %v, header %v", tr.TLSHandshakeTimeout, tr.ResponseHeaderTimeout)
	}
	if egress.Dialer(false).Timeout != egress.ConnectTimeout {
		t.Errorf("dialer timeout %v", egress.Dialer(false).Timeout)
	}
}
