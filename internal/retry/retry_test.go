package retry

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestDelayGrowsWithJitterAndCap(t *testing.T) {
	p := Policy{Retries: 10, Base: 100 * time.Millisecond, Max: time.Second}
	for n := 1; n <= 8; n++ {
		want := p.Base << (n - 1)
		if want > p.Max {
			want = p.Max
		}
		for range 200 {
			d := p.Delay(n, 0)
			if d < want/2 || d > want {
				t.Fatalf("retry %d: delay %v outside [%v, %v]", n, d, want/2, want)
			}
		}
	}
}

func TestDelayHonoursRetryAfterUpToMax(t *testing.T) {
	p := Policy{Base: 10 * time.Millisecond, Max: 5 * time.Second}
	if d := p.Delay(1, 2*time.Second); d != 2*time.Second {
		t.Errorf("Retry-After 2s: got %v", d)
	}
	if d := p.Delay(1, time.Hour); d != 5*time.Second {
		t.Errorf("Retry-After 1h: got %v, want the 5s cap", d)
	}
}

func TestAfter(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{"Retry-After": {"3"}}, 3 * time.Second},
		{http.Header{"Retry-After": {"0.25"}}, 250 * time.Millisecond},
		{http.Header{"Retry-After-Ms": {"120"}, "Retry-After": {"9"}}, 120 * time.Millisecond},
		{http.Header{"Retry-After": {now.Add(4 * time.Second).Format(http.TimeFormat)}}, 4 * time.Second},
		{http.Header{"Retry-After": {now.Add(-time.Hour).Format(http.TimeFormat)}}, 0},
		{http.Header{"Retry-After": {"soon"}}, 0},
		{http.Header{"Retry-After": {"-1"}}, 0},
		{http.Header{}, 0},
	}
	for _, c := range cases {
		if got := After(c.h, now); got != c.want {
			t.Errorf("%v: got %v, want %v", c.h, got, c.want)
		}
	}
}

func TestSleepStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}
