package audit

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// benchContext is a context of the size the benchmarks' suites use.
var benchContext = strings.Repeat("Magic links are single-use sign-in links sent by email; they expire. ", 5)

// BenchmarkFormatInput builds the input event of one prompt: the canonical
// JSON of {context, prompt} and the event around it, as a run does for
// every item.
func BenchmarkFormatInput(b *testing.B) {
	for _, bc := range []struct {
		name string
		f    Format
	}{
		{"ai-full", Format{}},
		{"ai-sha256", Format{Context: HashContext}},
		{"standard", Format{Schema: StandardSchema}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			meta := Meta{Model: "gpt-4o-mini"}
			for b.Loop() {
				if _, err := bc.f.Input(benchContext, "What are magic links, and how long do they stay valid?", meta); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBulkBody encodes the request body of a full bulk call (1000
// events), per event.
func BenchmarkBulkBody(b *testing.B) {
	c, err := NewClient(Config{Domain: "http://127.0.0.1:1", Token: "pts_bench"})
	if err != nil {
		b.Fatal(err)
	}
	events := make([]Event, MaxBatch)
	idx := make([]int, MaxBatch)
	for i := range events {
		ev, err := Format{}.Input(benchContext, fmt.Sprintf("question %d", i), Meta{})
		if err != nil {
			b.Fatal(err)
		}
		events[i], idx[i] = ev, i
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.bulkBody(events, idx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*MaxBatch), "ns/event")
}

// benchLogger accepts every event at once, with a fixed receipt: the
// batcher's own cost is what is measured.
type benchLogger struct{ calls atomic.Int64 }

func (l *benchLogger) LogBulk(_ context.Context, events []Event) []Outcome {
	l.calls.Add(1)
	out := make([]Outcome, len(events))
	for i := range out {
		out[i].Receipt = Receipt{Hash: strings.Repeat("ab", 32), RequestID: "prq_bench"}
	}
	return out
}

// BenchmarkBatcherRecord has many callers record events at once through a
// Batcher over an in-memory Logger: the cost of gathering events into bulk
// calls and handing each caller its receipt, per event. Batches leave when
// full (Size is the number of callers), so the linger is not what is timed.
func BenchmarkBatcherRecord(b *testing.B) {
	for _, callers := range []int{8, 100} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			log := &benchLogger{}
			bt := NewBatcher(log, BatcherConfig{Size: callers, Linger: time.Millisecond, Concurrency: 4})
			defer bt.Close()
			ev, err := Format{}.Input(benchContext, "What are magic links?", Meta{})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			ctx := context.Background()
			// RunParallel starts parallelism × GOMAXPROCS goroutines.
			b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := bt.Record(ctx, ev); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/float64(max(log.calls.Load(), 1)), "events/call")
		})
	}
}
