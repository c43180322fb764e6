package audit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tracebatch/tracebatch/internal/fakeapi"
)

func TestBatcherGivesEachCallerItsOwnReceipt(t *testing.T) {
	p := fakeapi.StartPangea(t, testToken)
	p.SetLatency(3*time.Millisecond, 3*time.Millisecond)
	c := newTestClient(t, p, nil)
	b := NewBatcher(c, BatcherConfig{Size: 50, Linger: 5 * time.Millisecond, Concurrency: 3})
	defer b.Close()
	const n = 600
	events := inputEvents(n, "batcher")
	outs := make([]Outcome, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, err := b.Record(context.Background(), events[i])
			outs[i] = Outcome{Receipt: r, Err: err}
		})
	}
	wg.Wait()
	if got := checkReceipts(t, p, events, outs); got != n {
		t.Fatalf("%d of %d callers got receipts", got, n)
	}
	if m := p.MaxBatch(); m > 50 {
		t.Errorf("a call carried %d events; the batch size is 50", m)
	}
	if calls := len(p.Requests()); calls > n/2 {
		t.Errorf("%d calls for %d events: not batching", calls, n)
	}
	if st := p.Stats(); st.MaxInFlight > 3 {
		t.Errorf("%d calls in flight; the limit is 3", st.MaxInFlight)
	}
}

func TestBatcherSendsALoneEventAfterTheLinger(t *testing.T) {
	p := fakeapi.StartPangea(t, testToken)
	c := newTestClient(t, p, nil)
	b := NewBatcher(c, BatcherConfig{Linger: 20 * time.Millisecond})
	defer b.Close()
	r, err := b.Record(context.Background(), inputEvents(1, "alone")[0])
	if err != nil || r.Hash == "" {
		t.Fatalf("receipt %+v, error %v", r, err)
	}
}

// countingLogger records how many events each call carried.
type countingLogger struct {
	calls  atomic.Int64
	events atomic.Int64
	block  chan struct{}
}

func (l *countingLogger) LogBulk(ctx context.Context, events []Event) []Outcome {
	l.calls.Add(1)
	l.events.Add(int64(len(events)))
	if l.block != nil {
		select {
		case <-l.block:
		case <-ctx.Done():
			out := make([]Outcome, len(events))
			for i := range out {
				out[i].Err = ctx.Err()
			}
			return out
		}
	}
	out := make([]Outcome, len(events))
	for i := range out {
		out[i].Receipt = Receipt{Hash: fmt.Sprintf("%064d", i), RequestID: "prq_x"}
	}
	return out
}

func TestBatcherCallerThatGivesUpGetsNoReceipt(t *testing.T) {
	l := &countingLogger{block: make(chan struct{})}
	b := NewBatcher(l, BatcherConfig{Linger: time.Millisecond})
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := b.Record(ctx, inputEvents(1, "gone")[0])
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	close(l.block)
}

func TestBatcherStopsCallingAfterAFatalError(t *testing.T) {
	p := fakeapi.StartPangea(t, "pts_other_token")
	c := newTestClient(t, p, nil)
	b := NewBatcher(c, BatcherConfig{Linger: time.Millisecond})
	defer b.Close()
	for i := range 5 {
		if _, err := b.Record(context.Background(), inputEvents(1, fmt.Sprint(i))[0]); err == nil {
			t.Fatal("a bad token gave a receipt")
		}
	}
	if got := len(p.Requests()); got != 1 {
		t.Errorf("%d calls after a 401, want 1", got)
	}
}

// TestBatcherLeavesAtOnceWhenEveryCallerWaits: with Callers set, a call
// that holds every caller's event does not linger.
func TestBatcherLeavesAtOnceWhenEveryCallerWaits(t *testing.T) {
	l := &countingLogger{}
	b := NewBatcher(l, BatcherConfig{Linger: time.Hour, Callers: 8})
	defer b.Close()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, err := b.Record(context.Background(), inputEvents(1, fmt.Sprint(i))[0]); err != nil {
				t.Error(err)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the call lingered although every caller was waiting")
	}
	if got := l.calls.Load(); got > 8 {
		t.Errorf("%d calls for 8 events", got)
	}
}
