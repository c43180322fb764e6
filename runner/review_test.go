package runner

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracebatch/tracebatch/internal/fakeapi"
	"github.com/tracebatch/tracebatch/prompts"
	"github.com/tracebatch/tracebatch/report"
)

// TestResumeRetriesAnErrorThatWaitedInTheJournal: a line that ended in
// error while it waited for a slower one was journaled before; a resume
// must run its item again, not copy the error back.
func TestResumeRetriesAnErrorThatWaitedInTheJournal(t *testing.T) {
	r := newRig(t)
	path := filepath.Join(t.TempDir(), "report.jsonl")
	const n = 12
	suite := suiteOf(n, plainItem)
	// Item 0 is slow, so item 3 finishes (in error) while waiting for it.
	r.openai.SetFaults(func(c fakeapi.Call) fakeapi.Fault {
		switch {
		case strings.HasPrefix(c.Prompt, "question 0 "):
			return fakeapi.Slow
		case strings.HasPrefix(c.Prompt, "question 3 "):
			return fakeapi.Status500
		}
		return fakeapi.NoFault
	})
	params := fakeapi.DefaultFaultParams()
	params.SlowDelay = 300 * time.Millisecond
	r.openai.SetFaultParams(params)
	if err := fileRun(t, r, suite, path, false, 0); err != nil {
		t.Fatal(err)
	}
	if recs := readReport(t, path); recs[3].Status != report.Error {
		t.Fatalf("item 3: %s", recs[3].Status)
	}
	r.openai.SetFaults(nil)
	if err := fileRun(t, r, suite, path, true, 0); err != nil {
		t.Fatal(err)
	}
	wholeAndOrdered(t, readReport(t, path), n)
}

// TestInterruptedBackfillResumeKeepsItsErrors: a resumed backfill that is
// interrupted keeps the earlier error lines it did not reach, so the next
// resume still lines up with the input.
func TestInterruptedBackfillResumeKeepsItsErrors(t *testing.T) {
	p := fakeapi.StartPangea(t, token)
	path := filepath.Join(t.TempDir(), "backfill.jsonl")
	const n = 600
	suite := suiteOf(n, historyItem)
	run := func(resume bool, stopAt int) error { return backfillFile(t, p, suite, path, 50, resume, stopAt) }
	// An outage: every item from 100 on fails.
	p.SetRejector(func(ev map[string]any) (string, bool) {
		in, _ := ev["event_input"].(string)
		return "event_input", !strings.Contains(in, "old question 0") && !strings.HasPrefix(in, `{"context":"ctx 0","prompt":"old question 1`)
	})
	if err := run(false, 0); err != nil {
		t.Fatal(err)
	}
	p.SetRejector(nil)
	if err := run(true, 120); err != ErrInterrupted {
		t.Fatalf("interrupted resume: %v", err)
	}
	if recs := readReport(t, path); len(recs) != n {
		t.Fatalf("the interrupted resume kept %d of %d lines", len(recs), n)
	}
	if err := run(true, 0); err != nil {
		t.Fatalf("the next resume: %v", err)
	}
	recs := readReport(t, path)
	wholeInOrder(t, recs, n)
	for _, rec := range recs {
		if rec.Status != report.Audited {
			t.Fatalf("%s: %s %s", rec.ID, rec.Status, rec.Error)
		}
	}
}

// TestStopWhileTheInputIsIdle: a suite on a pipe that sends nothing more
// must not keep Stop, or the end of ctx, from ending the run.
func TestStopWhileTheInputIsIdle(t *testing.T) {
	r := newRig(t)
	pr, pw := io.Pipe()
	defer pw.Close()
	go io.WriteString(pw, plainItem(0)+"\n")
	s, err := prompts.OpenReader("-", pr, prompts.JSONL)
	if err != nil {
		t.Fatal(err)
	}
	w := r.work(t, "", 2, func(w *Work) { w.Suites = []*prompts.Suite{s} })
	w.Progress = func(*report.Record) { w.Stop() }
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()
	select {
	case err := <-done:
		if err != ErrInterrupted {
			t.Fatalf("got %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Stop did not end a run waiting on its input")
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr2, pw2 := io.Pipe()
	defer pw2.Close()
	s2, _ := prompts.OpenReader("-", pr2, prompts.JSONL)
	w2 := r.work(t, "", 2, func(w *Work) { w.Suites = []*prompts.Suite{s2} })
	go func() { done <- w2.Run(ctx) }()
	cancel()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the end of ctx did not end a run waiting on its input")
	}
}

// TestCrashInAResumedRunLosesNoAnswer: a resumed run's new report is not in
// place until it ends, so its finished lines are journaled; a crash then
// costs no model call again.
func TestCrashInAResumedRunLosesNoAnswer(t *testing.T) {
	r := newRig(t)
	path := filepath.Join(t.TempDir(), "report.jsonl")
	const n = 60
	suite := suiteOf(n, plainItem)
	if err := fileRun(t, r, suite, path, false, 10); err != ErrInterrupted {
		t.Fatal(err)
	}
	// Resume, and crash half-way: the run is cut off and never finished.
	out, err := CreateOutput(path, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := r.work(t, suite, 4, func(w *Work) {
		w.Report, w.Journal, w.Earlier = out.Report, out.Journal, out.Earlier
		w.Progress = func(rec *report.Record) {
			if rec.Index == 40 {
				cancel()
			}
		}
	})
	w.Run(ctx)
	out.Report.Close()
	out.Journal.Close()
	out.Earlier.Close() // the crash: no Finish, no rename
	asked := r.openai.ChatCount()
	if err := fileRun(t, r, suite, path, true, 0); err != nil {
		t.Fatal(err)
	}
	wholeAndOrdered(t, readReport(t, path), n)
	if again := r.openai.ChatCount() - asked; again > n-40+4 {
		t.Errorf("the model was asked %d times after the crash; the %d lines finished before it were lost", again, 41)
	}
}
