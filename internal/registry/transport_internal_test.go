package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		header string
		want   time.Duration
	}{
		{name: "absent", header: "", want: 0},
		{name: "seconds", header: "2", want: 2 * time.Second},
		{name: "seconds with spaces", header: " 7 ", want: 7 * time.Second},
		{name: "zero seconds", header: "0", want: 0},
		{name: "negative seconds", header: "-3", want: 0},
		{name: "seconds beyond the cap", header: "86400", want: time.Minute},
		{name: "huge seconds", header: "99999999999999999999", want: 0},
		{name: "HTTP date", header: now.Add(30 * time.Second).Format(http.TimeFormat), want: 30 * time.Second},
		{name: "HTTP date beyond the cap", header: now.Add(time.Hour).Format(http.TimeFormat), want: time.Minute},
		{name: "HTTP date in the past", header: now.Add(-time.Hour).Format(http.TimeFormat), want: 0},
		{name: "garbage", header: "soon", want: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := retryAfter(tc.header, now); got != tc.want {
				t.Errorf("retryAfter(%q) = %v, want %v", tc.header, got, tc.want)
			}
		})
	}
}

func TestRetryableStatus(t *testing.T) {
	for _, tc := range []struct {
		code int
		want bool
	}{
		{code: 200, want: false},
		{code: 401, want: false},
		{code: 403, want: false},
		{code: 404, want: false},
		{code: 408, want: true},
		{code: 429, want: true},
		{code: 500, want: true},
		{code: 501, want: false},
		{code: 502, want: true},
		{code: 503, want: true},
		{code: 504, want: true},
		{code: 505, want: false},
		{code: 522, want: true},
	} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			if got := retryableStatus(tc.code); got != tc.want {
				t.Errorf("retryableStatus(%d) = %v, want %v", tc.code, got, tc.want)
			}
		})
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestTransientNetError(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{name: "EOF", err: fmt.Errorf("read: %w", io.EOF), want: true},
		{name: "unexpected EOF", err: io.ErrUnexpectedEOF, want: true},
		{name: "connection reset", err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}, want: true},
		{name: "broken pipe", err: &net.OpError{Op: "write", Err: syscall.EPIPE}, want: true},
		{name: "timeout", err: &net.OpError{Op: "dial", Err: timeoutError{}}, want: true},
		{name: "temporary DNS failure", err: &net.DNSError{Err: "server misbehaving", IsTemporary: true}, want: true},
		{name: "unknown host", err: &net.DNSError{Err: "no such host", IsNotFound: true}, want: false},
		{name: "connection refused", err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, want: false},
		{name: "context cancelled", err: context.Canceled, want: false},
		{name: "context deadline", err: fmt.Errorf("get: %w", context.DeadlineExceeded), want: false},
		{name: "TLS trouble", err: errors.New("http: server gave HTTP response to HTTPS client"), want: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := transientNetError(tc.err); got != tc.want {
				t.Errorf("transientNetError(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
