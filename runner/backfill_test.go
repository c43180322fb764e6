package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/internal/fakeapi"
	"github.com/tracebatch/tracebatch/prompts"
	"github.com/tracebatch/tracebatch/report"
)

func historyItem(i int) string {
	return fmt.Sprintf(`{"id":"h-%06d","prompt":"old question %d <&>","context":"ctx %d","answer":"old answer %d","actor":"user-%d","timestamp":"2025-03-0%dT10:00:00Z","model":"gpt-4o"}`, i, i, i%3, i, i%11, 1+i%9)
}

func newBackfill(t *testing.T, p *fakeapi.Pangea, suite string, out *bytes.Buffer, mod func(*Backfill)) *Backfill {
	t.Helper()
	s, err := prompts.OpenReader("history.jsonl", strings.NewReader(suite), prompts.JSONL)
	if err != nil {
		t.Fatal(err)
	}
	ac, err := audit.NewClient(audit.Config{Domain: p.URL(), Token: token, Concurrency: 4, Retries: 3, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	b := &Backfill{Suites: []*prompts.Suite{s}, Log: ac, AuditResponses: true, Concurrency: 4, Report: report.NewWriter(out)}
	if mod != nil {
		mod(b)
	}
	return b
}

func parseRecords(t *testing.T, data string) []report.Record {
	t.Helper()
	r := &rig{}
	r.out.WriteString(data)
	return r.records(t)
}

func TestBackfillRecordsEveryItemInOrder(t *testing.T) {
	p := fakeapi.StartPangea(t, token)
	p.SetLatency(time.Millisecond, 3*time.Millisecond)
	const n = 5000
	var out bytes.Buffer
	b := newBackfill(t, p, suiteOf(n, historyItem), &out, nil)
	if err := b.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs := parseRecords(t, out.String())
	wholeInOrder(t, recs, n)
	byHash := p.EventsByHash()
	for i, rec := range recs {
		if rec.Status != report.Audited || rec.Audit.Input == nil || rec.Audit.Output == nil {
			t.Fatalf("%s: %+v", rec.ID, rec)
		}
		in, out := byHash[rec.Audit.Input.Hash], byHash[rec.Audit.Output.Hash]
		want, _ := audit.Format{}.Input(fmt.Sprintf("ctx %d", i%3), rec.Prompt, audit.Meta{})
		if in.Event["event_input"] != want.EventInput || in.Event["actor"] != fmt.Sprintf("user-%d", i%11) ||
			!strings.HasPrefix(in.Event["timestamp"].(string), fmt.Sprintf("2025-03-0%dT10:00:00.000000", 1+i%9)) {
			t.Fatalf("%s: input receipt is for %v", rec.ID, in.Event)
		}
		if out.Event["event_output"] != fmt.Sprintf("old answer %d", i) || out.Event["event_type"] != audit.TypeOutput {
			t.Fatalf("%s: output receipt is for %v", rec.ID, out.Event)
		}
	}
	if got := p.EventCount(); got != 2*n {
		t.Errorf("%d events accepted, want %d", got, 2*n)
	}
	if m := p.MaxBatch(); m != audit.MaxBatch {
		t.Errorf("largest call carried %d events, want full calls of %d", m, audit.MaxBatch)
	}
	if calls := len(p.Requests()); calls != 2*n/audit.MaxBatch {
		t.Errorf("%d calls for %d events", calls, 2*n)
	}
	if st := p.Stats(); st.ConnsOpened > 4+2 || st.MaxInFlight > 4 {
		t.Errorf("%d connections opened, %d calls at once, for an audit concurrency of 4", st.ConnsOpened, st.MaxInFlight)
	}
}

func TestBackfillAsyncReceiptsArePending(t *testing.T) {
	p := fakeapi.StartPangea(t, token)
	var out bytes.Buffer
	b := newBackfill(t, p, suiteOf(30, historyItem), &out, func(b *Backfill) { b.Async = true; b.AuditResponses = false })
	if err := b.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, rec := range parseRecords(t, out.String()) {
		r := rec.Audit.Input
		if rec.Status != report.Audited || r == nil || !r.Pending || r.Hash != "" || !strings.HasPrefix(r.RequestID, "prq_") {
			t.Fatalf("%s: %+v", rec.ID, r)
		}
	}
	for _, e := range p.Events() {
		if !e.Async {
			t.Fatal("an event went through /v2/log")
		}
	}
}

func TestBackfillIsolatesARejectedItem(t *testing.T) {
	p := fakeapi.StartPangea(t, token)
	p.SetRejector(fakeapi.RejectContaining("event_output", "old answer 77"))
	var out bytes.Buffer
	b := newBackfill(t, p, suiteOf(300, historyItem), &out, nil)
	if err := b.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs := parseRecords(t, out.String())
	for i, rec := range recs {
		switch {
		case i == 77 || i == 770:
			if rec.Status != report.Error || !strings.Contains(rec.Error, "event_output") || rec.Audit.Input == nil {
				t.Errorf("%s: %+v", rec.ID, rec)
			}
		case rec.Status != report.Audited:
			t.Errorf("%s: %s %s", rec.ID, rec.Status, rec.Error)
		}
	}
}

// backfillFile backfills suite into the report at path through an Output,
// as the CLI does, in batches of size, calling Stop once stopAt lines are
// written (0: never), and returns Run's error.
func backfillFile(t *testing.T, p *fakeapi.Pangea, suite, path string, size int, resume bool, stopAt int) error {
	t.Helper()
	out, err := CreateBackfillOutput(path, resume)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	b := newBackfill(t, p, suite, &buf, func(b *Backfill) {
		b.Report, b.Earlier, b.BatchSize = out.Report, out.Prefix, size
	})
	var once sync.Once
	written := 0
	b.Progress = func(*report.Record) {
		written++
		if stopAt > 0 && written >= stopAt {
			once.Do(b.Stop)
		}
	}
	err = b.Run(context.Background())
	if ferr := out.Finish(err == nil || err == ErrInterrupted, err == nil && b.Summary().Error == 0); ferr != nil {
		t.Fatal(ferr)
	}
	return err
}

func TestBackfillResumeKeepsWhatWasDone(t *testing.T) {
	p := fakeapi.StartPangea(t, token)
	p.SetLatency(2*time.Millisecond, 0)
	path := filepath.Join(t.TempDir(), "backfill.jsonl")
	const n = 3000
	suite := suiteOf(n, historyItem)
	run := func(resume bool, stopAt int) error { return backfillFile(t, p, suite, path, 100, resume, stopAt) }
	if err := run(false, 500); err != ErrInterrupted {
		t.Fatalf("first run: %v", err)
	}
	if err := run(true, 1500); err != ErrInterrupted {
		t.Fatalf("second run: %v", err)
	}
	if err := run(true, 0); err != nil {
		t.Fatalf("last run: %v", err)
	}
	recs := readReport(t, path)
	wholeInOrder(t, recs, n)
	if d := p.Duplicates(); len(d) > 0 {
		t.Errorf("%d events sent twice", len(d))
	}
	if p.EventCount() != 2*n {
		t.Errorf("%d events for %d items", p.EventCount(), n)
	}
}

func TestBackfillResumeRefusesAnotherInput(t *testing.T) {
	p := fakeapi.StartPangea(t, token)
	path := filepath.Join(t.TempDir(), "backfill.jsonl")
	out, _ := CreateBackfillOutput(path, false)
	var buf bytes.Buffer
	b := newBackfill(t, p, suiteOf(10, historyItem), &buf, func(b *Backfill) { b.Report = out.Report })
	if err := b.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	out.Finish(true, true)
	out, err := CreateBackfillOutput(path, true)
	if err != nil {
		t.Fatal(err)
	}
	b = newBackfill(t, p, suiteOf(10, func(i int) string { return historyItem(i + 1) }), &buf, func(b *Backfill) { b.Report, b.Earlier = out.Report, out.Prefix })
	err = b.Run(context.Background())
	out.Finish(false, false)
	if err == nil || !strings.Contains(err.Error(), "same input") {
		t.Fatalf("got %v", err)
	}
}

// TestBackfillMemoryStaysFlat streams 200,000 items of about 1 KB (some
// 190 MB of input) through a backfill and samples the live heap: it must
// stay far below the input. The audit log is a stub here, so that only
// tracebatch's memory is measured (the benchmark measures the whole process
// against the fake server).
func TestBackfillMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 190 MB")
	}
	const n = 200_000
	pad := strings.Repeat("x", 900)
	r, w := io.Pipe()
	go func() {
		for i := range n {
			fmt.Fprintf(w, `{"id":"m-%d","prompt":"q %d %s","context":"c"}`+"\n", i, i, pad)
		}
		w.Close()
	}()
	s, err := prompts.OpenReader("big.jsonl", r, prompts.JSONL)
	if err != nil {
		t.Fatal(err)
	}
	s.IDsChecked() // as for a file validated ahead
	var lines atomic.Int64
	b := &Backfill{Suites: []*prompts.Suite{s}, Log: stubLog{}, Concurrency: 4, Report: report.NewWriter(countingWriter{&lines})}
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
		}
	}()
	if err := b.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(stop)
	<-sampled
	if lines.Load() != n {
		t.Fatalf("%d lines", lines.Load())
	}
	t.Logf("peak live heap: %d MB for %d MB of input", peak.Load()>>20, n*1000>>20)
	if peak.Load() > 32<<20 {
		t.Errorf("live heap reached %d MB: memory grows with the input", peak.Load()>>20)
	}
}

// stubLog accepts every event at once.
type stubLog struct{}

func (stubLog) LogBulk(_ context.Context, events []audit.Event) []audit.Outcome {
	out := make([]audit.Outcome, len(events))
	for i := range out {
		out[i].Receipt = audit.Receipt{Hash: strings.Repeat("ab", 32), RequestID: "prq_stub"}
	}
	return out
}

func (s stubLog) LogBulkAsync(ctx context.Context, events []audit.Event) []audit.Outcome {
	return s.LogBulk(ctx, events)
}

type countingWriter struct{ n *atomic.Int64 }

func (w countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(bytes.Count(p, []byte("\n"))))
	return len(p), nil
}
