package runner

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tracebatch/tracebatch/llm"
)

// Pacer keeps model calls within the model's limits. It holds the calls to
// --rpm requests and --tpm tokens a minute (a call's tokens are estimated
// before it is sent and corrected by the usage it reports), and it adapts
// how many calls may be in flight: when the server answers 429 or reports
// few requests left, the limit halves; each success then grows it back, by
// about one call per round of calls, up to -j. It implements llm.Pacer.
type Pacer struct {
	requests, tokens *rate.Limiter // nil: no limit

	mu       sync.Mutex
	limit    float64 // calls allowed in flight; at least 1, at most max
	max      int
	inFlight int
	freed    chan struct{} // closed when a call ends or the limit grows
	lowest   int           // the smallest limit reached, for the summary
	shrunk   int           // how many times the limit shrank
}

// NewPacer paces at most limit calls in flight; rpm and tpm of 0 mean no
// limit.
func NewPacer(limit, rpm, tpm int) *Pacer {
	p := &Pacer{limit: float64(limit), max: limit, freed: make(chan struct{}), lowest: limit}
	if rpm > 0 {
		// A second's worth at once: providers enforce per-minute limits
		// over shorter spans too.
		p.requests = rate.NewLimiter(rate.Limit(float64(rpm)/60), max(1, rpm/60))
	}
	if tpm > 0 {
		p.tokens = rate.NewLimiter(rate.Limit(float64(tpm)/60), max(1, tpm/6))
	}
	return p
}

// Wait blocks until a call estimated at tokens may start: there is room
// under the adaptive limit and under the rates.
func (p *Pacer) Wait(ctx context.Context, tokens int) error {
	for {
		p.mu.Lock()
		if p.inFlight < int(p.limit) {
			p.inFlight++
			p.mu.Unlock()
			break
		}
		freed := p.freed
		p.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var err error
	if p.requests != nil {
		err = p.requests.Wait(ctx)
	}
	if err == nil && p.tokens != nil {
		err = p.tokens.WaitN(ctx, min(max(tokens, 1), p.tokens.Burst()))
	}
	if err != nil {
		p.release(0)
	}
	return err
}

// Done ends a call: it frees its place, charges the tokens the estimate
// missed, and adapts the limit to how the server answered.
func (p *Pacer) Done(estimated int, usage llm.Usage, limits llm.Limits, throttled bool) {
	if p.tokens != nil {
		if extra := int(usage.PromptTokens+usage.CompletionTokens) - estimated; extra > 0 {
			p.tokens.ReserveN(time.Now(), min(extra, p.tokens.Burst()))
		}
	}
	delta := 1 / max(p.Limit(), 1) // additive increase: +1 per round of calls
	if throttled || (limits.RemainingRequests >= 0 && limits.RemainingRequests < int64(p.max)) {
		delta = -p.Limit() / 2 // multiplicative decrease
	}
	p.release(delta)
}

func (p *Pacer) release(delta float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inFlight--
	before := int(p.limit)
	p.limit = min(max(p.limit+delta, 1), float64(p.max))
	if int(p.limit) < before {
		p.shrunk++
		p.lowest = min(p.lowest, int(p.limit))
	}
	close(p.freed)
	p.freed = make(chan struct{})
}

// Limit is the number of calls now allowed in flight.
func (p *Pacer) Limit() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.limit
}

// Backoffs reports how often the limit shrank and the lowest it went.
func (p *Pacer) Backoffs() (times, lowest int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.shrunk, p.lowest
}
