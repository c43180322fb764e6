// Package retry holds the backoff schedule shared by the audit and model
// clients: exponential delays with full jitter, bounded, and the server's
// own Retry-After when it gives one.
package retry

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Policy says how often and how patiently a call is retried.
type Policy struct {
	// Retries is how many times a failed call is tried again (0: never).
	Retries int
	// Base is the first backoff; each retry doubles it, up to Max.
	Base time.Duration
	// Max caps a single wait, including one the server asks for.
	Max time.Duration
}

// Delay is the wait before retry number n (1 for the first retry): a random
// duration in [d/2, d] where d = Base·2^(n-1) capped at Max ("equal jitter",
// so waits never collapse to zero), or the server's retryAfter when that is
// longer, capped at Max.
func (p Policy) Delay(n int, retryAfter time.Duration) time.Duration {
	d := p.Base
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	if p.Max > 0 && d > p.Max {
		d = p.Max
	}
	if d > 0 {
		d = d/2 + rand.N(d/2+1)
	}
	if retryAfter > d {
		d = retryAfter
	}
	if p.Max > 0 && d > p.Max {
		d = p.Max
	}
	return d
}

// After reads how long a response asks the client to wait: retry-after-ms,
// Retry-After in seconds (fractions allowed) or as an HTTP date. It returns
// 0 when the response says nothing usable.
func After(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms < 1e9 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s > 0 && s < 1e6 {
			return time.Duration(s * float64(time.Second))
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Sleep waits for d or until ctx is done, whichever comes first, and returns
// ctx's error in the second case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
