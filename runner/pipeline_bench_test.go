package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/internal/fakeapi"
	"github.com/tracebatch/tracebatch/llm"
	"github.com/tracebatch/tracebatch/prompts"
	"github.com/tracebatch/tracebatch/report"
)

// benchRunItem is a suite line like those of bench/gen: a question, a
// context of about 300 bytes, one check.
func benchRunItem(i int) string {
	return fmt.Sprintf(`{"id":"q-%07d","prompt":"Question %d: what about single fallback secret entropy token session retry?","context":"Context %d. %s","expect":[{"type":"icontains","value":"answer"}]}`,
		i, i, i%8, strings.Repeat("magic link sign in email inbox token expires ", 7))
}

// benchHistoryItem is a backfill line of about 1 KB, like bench/gen's.
func benchHistoryItem(i int) string {
	return fmt.Sprintf(`{"id":"h-%07d","prompt":"Question %d: %s?","context":"%s","answer":"%s","actor":"user-%d","timestamp":"2025-03-04T10:00:00Z","model":"gpt-4o-mini"}`,
		i, i, strings.Repeat("account random domain single ", 8), strings.Repeat("user single delivery session device ", 12), strings.Repeat("deep link fallback code ", 8), i%997)
}

// benchSuite opens text as a streamed JSONL suite.
func benchSuite(b *testing.B, text string) *prompts.Suite {
	b.Helper()
	s, err := prompts.OpenReader("bench.jsonl", strings.NewReader(text), prompts.JSONL)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// benchRecorder accepts every event at once.
type benchRecorder struct{}

func (benchRecorder) Record(context.Context, audit.Event) (audit.Receipt, error) {
	return audit.Receipt{Hash: strings.Repeat("ab", 32), RequestID: "prq_bench"}, nil
}

// benchCompleter answers every prompt at once.
type benchCompleter struct{}

func (benchCompleter) Complete(_ context.Context, req llm.Request) (llm.Answer, error) {
	return llm.Answer{Text: "Answer to: " + req.Prompt, Model: req.Model, Usage: llm.Usage{PromptTokens: 120, CompletionTokens: 24}, Attempts: 1, Latency: time.Millisecond}, nil
}

// benchLog accepts every bulk call at once.
type benchLog struct{}

func (benchLog) LogBulk(_ context.Context, events []audit.Event) []audit.Outcome {
	out := make([]audit.Outcome, len(events))
	for i := range out {
		out[i].Receipt = audit.Receipt{Hash: strings.Repeat("cd", 32), RequestID: "prq_bench"}
	}
	return out
}

func (l benchLog) LogBulkAsync(ctx context.Context, events []audit.Event) []audit.Outcome {
	return l.LogBulk(ctx, events)
}

// perItem reports the time and allocations of each of the items run in
// every iteration of b.
func perItem(b *testing.B, items int, before *runtime.MemStats) {
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	n := float64(b.N) * float64(items)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/item")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/item")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/item")
}

// BenchmarkWorkRun runs the whole pipeline — reading, event building,
// ordering, checks, report writing — with an audit and a model that answer
// at once: tracebatch's own cost per item, without HTTP.
func BenchmarkWorkRun(b *testing.B) {
	const items = 5000
	text := suiteOf(items, benchRunItem)
	for _, j := range []int{8, 100} {
		b.Run(fmt.Sprintf("j=%d", j), func(b *testing.B) {
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				w := &Work{
					Suites:      []*prompts.Suite{benchSuite(b, text)},
					Models:      []string{"gpt-4o-mini"},
					Concurrency: j,
					Audit:       benchRecorder{},
					Model:       benchCompleter{},
					Report:      report.NewWriter(io.Discard),
				}
				if err := w.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
				if s := w.Summary(); s.Pass != items {
					b.Fatalf("%d passed of %d", s.Pass, items)
				}
			}
			perItem(b, items, &before)
		})
	}
}

// BenchmarkBackfillRun runs a backfill of 1 KB items over a Pangea that
// accepts every call at once: reading, event building, batching and report
// writing, per item.
func BenchmarkBackfillRun(b *testing.B) {
	const items = 20000
	text := suiteOf(items, benchHistoryItem)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		bf := &Backfill{Suites: []*prompts.Suite{benchSuite(b, text)}, Log: benchLog{}, Concurrency: 4, Report: report.NewWriter(io.Discard)}
		if err := bf.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
		if s := bf.Summary(); s.Audited != items {
			b.Fatalf("%d audited of %d", s.Audited, items)
		}
	}
	perItem(b, items, &before)
}

// BenchmarkWorkRunHTTP runs the pipeline with the real clients — the audit
// client and batcher, the model client (openai-go) — over HTTP to the fakes
// at zero latency, with the CLI's defaults (10ms linger, 4 audit calls in
// flight) and -j 100. Profile it with
//
//	go test -run '^$' -bench WorkRunHTTP -cpuprofile cpu.pprof ./runner
//
// The fakes run in this process unless TRACEBATCH_BENCH_PANGEA_URL and
// TRACEBATCH_BENCH_OPENAI_URL name fakes outside it (bench/fakeserver, token
// pts_bench, key sk-bench), which keeps them out of the profile.
func BenchmarkWorkRunHTTP(b *testing.B) {
	const items, j = 2000, 100
	pangeaURL, openaiURL := os.Getenv("TRACEBATCH_BENCH_PANGEA_URL"), os.Getenv("TRACEBATCH_BENCH_OPENAI_URL")
	tok, apiKey := "pts_bench", "sk-bench"
	if pangeaURL == "" || openaiURL == "" {
		p := fakeapi.StartPangea(b, tok)
		p.SetRetention(fakeapi.RetainCounts)
		o := fakeapi.StartOpenAI(b, apiKey)
		o.SetRetention(fakeapi.RetainCounts)
		o.SetRateLimits(fakeapi.RateLimits{Requests: 1 << 30, Tokens: 1 << 40})
		pangeaURL, openaiURL = p.URL(), o.BaseURL()
	}
	ac, err := audit.NewClient(audit.Config{Domain: pangeaURL, Token: tok, Concurrency: 4})
	if err != nil {
		b.Fatal(err)
	}
	mc, err := llm.New(llm.Config{BaseURL: openaiURL, APIKey: apiKey, Concurrency: j})
	if err != nil {
		b.Fatal(err)
	}
	text := suiteOf(items, benchRunItem)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		bt := audit.NewBatcher(ac, audit.BatcherConfig{Concurrency: 4})
		w := &Work{
			Suites:      []*prompts.Suite{benchSuite(b, text)},
			Models:      []string{"gpt-4o-mini"},
			Concurrency: j,
			Audit:       bt,
			Model:       mc,
			Report:      report.NewWriter(io.Discard),
		}
		err := w.Run(context.Background())
		bt.Close()
		if err != nil {
			b.Fatal(err)
		}
		if s := w.Summary(); s.Pass != items {
			b.Fatalf("%d passed of %d (%d errors)", s.Pass, items, s.Error)
		}
	}
	perItem(b, items, &before)
}
