package report

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/checks"
)

// benchRecord is a report line of the size a run writes: a prompt, an
// answer, one check, a receipt, usage and timing.
func benchRecord() *Record {
	return &Record{
		Index:         1234,
		ID:            "q-0001234",
		Suite:         "run-10000",
		Model:         "gpt-4o-mini",
		Prompt:        "Question 1234: what about single fallback secret entropy token session retry?",
		ContextSHA256: strings.Repeat("2f", 32),
		Answer:        "Answer to: Question 1234: what about single fallback secret entropy token session retry? [3eed5d89]",
		Status:        Pass,
		Checks:        []checks.Result{{Type: "icontains", Value: "answer", Pass: true, Found: "»Answer« to: Question 1234: what about single fallb…"}},
		Audit:         Audit{Input: &audit.Receipt{Hash: strings.Repeat("6d", 32), RequestID: "prq_0dxd3cbpk3bmb1e4ik8i4wrsxv926e5v"}},
		Usage:         &Usage{PromptTokens: 146, CompletionTokens: 24},
		LatencyMS:     21,
		Attempts:      1,
		StartedAt:     Time{Time: time.Date(2026, 12, 4, 19, 40, 0, 123e6, time.UTC)},
		File:          "run-10000.jsonl",
		Line:          1235,
	}
}

// BenchmarkWriterBuffer encodes records into the report's buffer, flushing
// every 100 as the runner does when lines become writable together.
func BenchmarkWriterBuffer(b *testing.B) {
	w := NewWriter(io.Discard)
	r := benchRecord()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if err := w.Buffer(r); err != nil {
			b.Fatal(err)
		}
		if n++; n%100 == 0 {
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkWriterWrite writes and flushes every record on its own: the
// slowest case, one item finishing at a time.
func BenchmarkWriterWrite(b *testing.B) {
	w := NewWriter(io.Discard)
	r := benchRecord()
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
