package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

const (
	// initialBackoff is the first wait without a Retry-After; it doubles
	// after each retry, up to maxBackoff.
	initialBackoff = 500 * time.Millisecond
	maxBackoff     = 30 * time.Second
	// maxRetryAfter caps the wait a registry may ask for with Retry-After.
	maxRetryAfter = 60 * time.Second
	// maxErrorBody bounds how much of a failed answer is read for the error.
	maxErrorBody = 64 << 10
)

// retryTransport retries idempotent requests that failed transiently: see
// retryableStatus and transientNetError. It sits beneath
// go-containerregistry's auth transport, so every HTTP exchange (ping, token,
// manifest, tag page) is retried on its own.
type retryTransport struct {
	inner   http.RoundTripper
	retries int
	sleep   func(ctx context.Context, d time.Duration) error
	now     func() time.Time
}

var _ http.RoundTripper = (*retryTransport)(nil)

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.retries <= 0 || !replayable(req) {
		return t.inner.RoundTrip(req)
	}
	ctx := req.Context()
	backoff := initialBackoff
	for attempt := 1; ; attempt++ {
		resp, err := t.inner.RoundTrip(req)
		var wait time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil || !transientNetError(err) {
				return nil, err
			}
			if attempt > t.retries {
				return nil, &retryError{attempts: attempt, err: err}
			}
		case retryableStatus(resp.StatusCode):
			if attempt > t.retries {
				return nil, exhausted(resp, attempt)
			}
			wait = retryAfter(resp.Header.Get("Retry-After"), t.now())
			// Drain and close the answer so its connection (and its slot
			// in the per-host limit) is free while we wait.
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
			resp.Body.Close()
			err = fmt.Errorf("status %s", resp.Status)
		default:
			return resp, nil
		}
		if wait <= 0 {
			// The backoff plus up to half again as jitter, so that parallel
			// jobs hitting the same limit spread out.
			wait = backoff + rand.N(backoff/2+1)
			backoff = min(2*backoff, maxBackoff)
		}
		if serr := t.sleep(ctx, wait); serr != nil {
			return nil, fmt.Errorf("wait to retry after %v: %w", err, serr)
		}
	}
}

// replayable reports whether req may be sent again: GET and HEAD without a
// body.
func replayable(req *http.Request) bool {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return false
	}
	return req.Body == nil || req.Body == http.NoBody
}

// retryableStatus reports whether an answer with this status is worth
// another try: request timeout, rate limit, and server errors other than
// "not implemented" and "HTTP version not supported".
func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests:
		return true
	case http.StatusNotImplemented, http.StatusHTTPVersionNotSupported:
		return false
	}
	return code >= 500 && code <= 599
}

// transientNetError reports whether a transport error is likely to pass:
// connections reset or closed under us, timeouts, temporary DNS failures.
// TLS and certificate errors, refused connections and unknown hosts are not.
func transientNetError(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsTemporary || dnsErr.IsTimeout
	}
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

// retryAfter parses a Retry-After header, in seconds or as an HTTP date,
// into a wait capped at maxRetryAfter; 0 when absent or unparsable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = at.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// retryError is returned when the retries ran out. It unwraps to the last
// failure: the network error, or a *transport.Error built from the last
// answer.
type retryError struct {
	attempts int
	status   string // of the last answer; "" for a network error
	detail   string // what the registry said in the last answer
	err      error
}

func (e *retryError) Error() string {
	if e.status == "" {
		return fmt.Sprintf("gave up after %d attempts: %v", e.attempts, e.err)
	}
	msg := fmt.Sprintf("gave up after %d attempts, last status %s", e.attempts, e.status)
	if e.detail != "" {
		msg += ": " + e.detail
	}
	return msg
}

func (e *retryError) Unwrap() error { return e.err }

// exhausted reads and closes the last answer and turns it into a retryError.
func exhausted(resp *http.Response, attempts int) error {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body = io.NopCloser(bytes.NewReader(body))
	err := transport.CheckError(resp)
	detail := ""
	var terr *transport.Error
	if errors.As(err, &terr) && len(terr.Errors) > 0 {
		parts := make([]string, 0, len(terr.Errors))
		for _, d := range terr.Errors {
			parts = append(parts, d.String())
		}
		detail = strings.Join(parts, "; ")
	} else {
		detail = oneLine(string(body), 200)
	}
	return &retryError{attempts: attempts, status: resp.Status, detail: detail, err: err}
}

// oneLine squeezes s onto one line of at most n bytes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}

// limitTransport lets at most n requests be in flight to one host at a
// time. A request holds its slot until its answer's body is closed or read
// to the end, so a slot is not given away while the registry still sends.
type limitTransport struct {
	inner http.RoundTripper
	n     int

	mu    sync.Mutex
	hosts map[string]chan struct{}
}

var _ http.RoundTripper = (*limitTransport)(nil)

func (t *limitTransport) slots(host string) chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.hosts[host]
	if !ok {
		if t.hosts == nil {
			t.hosts = map[string]chan struct{}{}
		}
		s = make(chan struct{}, t.n)
		t.hosts[host] = s
	}
	return s
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	slots := t.slots(req.URL.Host)
	select {
	case slots <- struct{}{}:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	release := sync.OnceFunc(func() { <-slots })
	resp, err := t.inner.RoundTrip(req)
	if err != nil {
		release()
		return nil, err
	}
	if req.Method == http.MethodHead || resp.Body == nil || resp.Body == http.NoBody {
		release()
		return resp, nil
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// releasingBody frees a limitTransport slot when the body is closed or fully
// read.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.release()
	}
	return n, err
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

// sleepContext waits for d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
