package runner

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tracebatch/tracebatch/internal/fakeapi"
	"github.com/tracebatch/tracebatch/llm"
)

var noLimits = llm.Limits{RemainingRequests: -1, RemainingTokens: -1}

func TestPacerShrinksOnPushBackAndGrowsBack(t *testing.T) {
	p := NewPacer(16, 0, 0)
	ctx := context.Background()
	call := func(throttled bool, limits llm.Limits) {
		if err := p.Wait(ctx, 10); err != nil {
			t.Fatal(err)
		}
		p.Done(10, llm.Usage{}, limits, throttled)
	}
	call(true, noLimits)
	if got := p.Limit(); got != 8 {
		t.Fatalf("after a 429 the limit is %v, want 8", got)
	}
	call(false, llm.Limits{RemainingRequests: 3, RemainingTokens: -1})
	if got := p.Limit(); got != 4 {
		t.Fatalf("with 3 requests left the limit is %v, want 4", got)
	}
	for range 200 {
		call(false, noLimits)
	}
	if got := p.Limit(); got != 16 {
		t.Fatalf("after 200 successes the limit is %v, want it back at 16", got)
	}
	if times, lowest := p.Backoffs(); times != 2 || lowest != 4 {
		t.Errorf("backoffs %d, lowest %d", times, lowest)
	}
}

func TestPacerHoldsCallsToTheLimit(t *testing.T) {
	p := NewPacer(3, 0, 0)
	var g gauge
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			if err := p.Wait(context.Background(), 1); err != nil {
				t.Error(err)
				return
			}
			g.enter()
			time.Sleep(time.Millisecond)
			g.leave()
			p.Done(1, llm.Usage{}, noLimits, false)
		})
	}
	wg.Wait()
	if m := g.max.Load(); m > 3 {
		t.Fatalf("%d calls at once under a limit of 3", m)
	}
}

func TestPacerHonoursRequestsPerMinute(t *testing.T) {
	// 600 a minute is 10 a second, 10 at once: 25 calls need 1.5s at least.
	p := NewPacer(50, 600, 0)
	start := time.Now()
	for range 25 {
		if err := p.Wait(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		p.Done(1, llm.Usage{}, noLimits, false)
	}
	if d := time.Since(start); d < 1400*time.Millisecond {
		t.Fatalf("25 calls at 600 rpm took %v", d)
	}
}

func TestPacerWaitStopsWithItsContext(t *testing.T) {
	p := NewPacer(1, 0, 0)
	if err := p.Wait(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := p.Wait(ctx, 1); err == nil {
		t.Fatal("a second call got in past a limit of 1")
	}
}

// TestRunAdaptsToTheModelsRateLimit runs against a fake that enforces a
// request budget: calls meet 429s, the pacer backs off, and every item still
// passes.
func TestRunAdaptsToTheModelsRateLimit(t *testing.T) {
	r := newRig(t)
	r.openai.SetRateLimits(fakeapi.RateLimits{Requests: 25, Tokens: 1 << 30, Window: 300 * time.Millisecond, Enforce: true})
	pacer := NewPacer(16, 0, 0)
	w := r.work(t, suiteOf(120, plainItem), 16, func(w *Work) {
		mc, err := llm.New(llm.Config{BaseURL: r.openai.BaseURL(), APIKey: key, Retries: 8, Backoff: 5 * time.Millisecond, MaxBackoff: time.Second, Pacer: pacer})
		if err != nil {
			t.Fatal(err)
		}
		w.Model = mc
	})
	if err := w.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs := r.records(t)
	for _, rec := range recs {
		if rec.Status != "pass" {
			t.Fatalf("%s: %s %s", rec.ID, rec.Status, rec.Error)
		}
	}
	if times, lowest := pacer.Backoffs(); times == 0 || lowest >= 16 {
		t.Errorf("the pacer never backed off (%d times, lowest %d)", times, lowest)
	}
}
