package fakeapi

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// RateLimits is the budget the fake OpenAI reports in its x-ratelimit-*
// headers: Requests requests and Tokens tokens per Window. Each answered
// request spends one request and its total tokens (prompt and completion,
// as EstimateTokens counts them).
type RateLimits struct {
	// Requests is the request budget of a window.
	Requests int
	// Tokens is the token budget of a window.
	Tokens int
	// Window is the budget period; the budget refills at its end.
	Window time.Duration
	// Enforce makes a request that finds the budget spent get a 429
	// rate_limit_exceeded answer (with Retry-After until the refill)
	// instead of an answer.
	Enforce bool
}

// DefaultRateLimits returns the budget the fake OpenAI starts with: 5000
// requests and 4,000,000 tokens a minute, not enforced.
func DefaultRateLimits() RateLimits {
	return RateLimits{Requests: 5000, Tokens: 4_000_000, Window: time.Minute}
}

// rateWindow tracks the spending of a RateLimits budget in fixed windows.
type rateWindow struct {
	mu     sync.Mutex
	limits RateLimits
	start  time.Time
	reqs   int
	tokens int
}

// rateState is the budget as a response reports it.
type rateState struct {
	limits          RateLimits
	remainingReqs   int
	remainingTokens int
	reset           time.Duration
}

// set replaces the budget and starts a new window.
func (rw *rateWindow) set(l RateLimits) {
	if l.Window <= 0 {
		l.Window = time.Minute
	}
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.limits = l
	rw.start = time.Time{}
	rw.reqs, rw.tokens = 0, 0
}

// roll starts a new window when the current one is over. rw.mu is held.
func (rw *rateWindow) roll(now time.Time) {
	if rw.start.IsZero() || now.Sub(rw.start) >= rw.limits.Window {
		rw.start = now
		rw.reqs, rw.tokens = 0, 0
	}
}

// stateLocked returns the current state. rw.mu is held.
func (rw *rateWindow) stateLocked(now time.Time) rateState {
	return rateState{
		limits:          rw.limits,
		remainingReqs:   max(0, rw.limits.Requests-rw.reqs),
		remainingTokens: max(0, rw.limits.Tokens-rw.tokens),
		reset:           rw.start.Add(rw.limits.Window).Sub(now),
	}
}

// peek returns the current state without spending.
func (rw *rateWindow) peek() rateState {
	now := time.Now()
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.roll(now)
	return rw.stateLocked(now)
}

// spend spends one request and tokens tokens. When the budget is enforced
// and already spent, it spends nothing and reports false.
func (rw *rateWindow) spend(tokens int) (rateState, bool) {
	now := time.Now()
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.roll(now)
	if rw.limits.Enforce && (rw.reqs >= rw.limits.Requests || rw.tokens >= rw.limits.Tokens) {
		return rw.stateLocked(now), false
	}
	rw.reqs++
	rw.tokens += tokens
	return rw.stateLocked(now), true
}

// write sets the x-ratelimit-* headers.
func (st rateState) write(h http.Header) {
	h.Set("x-ratelimit-limit-requests", strconv.Itoa(st.limits.Requests))
	h.Set("x-ratelimit-limit-tokens", strconv.Itoa(st.limits.Tokens))
	h.Set("x-ratelimit-remaining-requests", strconv.Itoa(st.remainingReqs))
	h.Set("x-ratelimit-remaining-tokens", strconv.Itoa(st.remainingTokens))
	reset := formatReset(st.reset)
	h.Set("x-ratelimit-reset-requests", reset)
	h.Set("x-ratelimit-reset-tokens", reset)
}

// exhausted sets the headers of a spent budget that refills after d.
func (st rateState) exhausted(h http.Header, d time.Duration) {
	st.remainingReqs, st.remainingTokens, st.reset = 0, 0, d
	st.write(h)
}

// formatReset formats a reset delay as OpenAI does: "1s", "6m0s", "20ms".
func formatReset(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	return d.Round(time.Millisecond).String()
}
