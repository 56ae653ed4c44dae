package forge

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry bounds the retries of transient failures: 5xx answers (but 501),
// 429, and 403 answers that are rate limits (a Retry-After header or a
// "secondary rate limit" message). Waits follow the server's Retry-After
// when it gives one, an exponential backoff with jitter otherwise, and
// never exceed Max. Other errors are returned at once.
type Retry struct {
	// Attempts is the number of tries in all; default 4.
	Attempts int
	// Initial is the first backoff, doubled after each retry; default 500ms.
	Initial time.Duration
	// Max caps every wait, Retry-After included; default 10s.
	Max time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 4
	}
	if r.Initial <= 0 {
		r.Initial = 500 * time.Millisecond
	}
	if r.Max <= 0 {
		r.Max = 10 * time.Second
	}
	return r
}

// classifier reports whether err is transient and how long the server asked
// to wait before the next try (0: use the backoff).
type classifier func(err error) (retry bool, wait time.Duration)

// do runs fn until it succeeds, fails with a permanent error, the attempts
// run out or ctx ends. fn gets the attempt number, starting at 1.
func (r Retry) do(ctx context.Context, transient classifier, fn func(attempt int) error) error {
	r = r.withDefaults()
	backoff := r.Initial
	for attempt := 1; ; attempt++ {
		err := fn(attempt)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		retry, wait := transient(err)
		if !retry {
			return err
		}
		if attempt >= r.Attempts {
			return fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		if wait <= 0 {
			// Full backoff plus up to 25% jitter, so parallel jobs spread out.
			wait = backoff + rand.N(backoff/4+1)
			backoff = min(2*backoff, r.Max)
		}
		wait = min(wait, r.Max)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (retry cancelled: %w)", err, ctx.Err())
		case <-t.C:
		}
	}
}

// transientStatus classifies an HTTP error answer.
func transientStatus(status int, header http.Header, message string) (bool, time.Duration) {
	wait := retryAfter(header)
	switch {
	case status == http.StatusTooManyRequests:
		return true, wait
	case status >= 500 && status <= 599 && status != http.StatusNotImplemented:
		return true, wait
	case status == http.StatusForbidden &&
		(header.Get("Retry-After") != "" || strings.Contains(strings.ToLower(message), "secondary rate limit")):
		return true, wait
	}
	return false, 0
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(s, 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// statusError is an HTTP error answer from a client that reports the status
// beside a plain error (the Gitea SDK).
type statusError struct {
	status int
	header http.Header
	err    error
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%d %s: %v", e.status, http.StatusText(e.status), e.err)
}

func (e *statusError) Unwrap() error { return e.err }
