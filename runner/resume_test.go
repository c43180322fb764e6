package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/internal/fakeapi"
	"github.com/tracebatch/tracebatch/llm"
	"github.com/tracebatch/tracebatch/prompts"
	"github.com/tracebatch/tracebatch/report"
)

// fileRun runs the suite into the report at path through an Output, as the
// CLI does, and returns Run's error. stopAfter > 0 calls Stop once that many
// lines have been written.
func fileRun(t *testing.T, r *rig, suite, path string, resume bool, stopAfter int) error {
	t.Helper()
	out, err := CreateOutput(path, resume)
	if err != nil {
		t.Fatal(err)
	}
	w := r.work(t, suite, 4, func(w *Work) {
		w.Report = out.Report
		w.Journal, w.Earlier = out.Journal, out.Earlier
	})
	var once sync.Once
	written := 0
	w.Progress = func(*report.Record) {
		written++
		if stopAfter > 0 && written >= stopAfter {
			once.Do(w.Stop)
		}
	}
	runErr := w.Run(context.Background())
	kept := runErr == nil || runErr == ErrInterrupted
	if err := out.Finish(kept, runErr == nil && w.Summary().Error == 0); err != nil {
		t.Fatal(err)
	}
	return runErr
}

func readReport(t *testing.T, path string) []report.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []report.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec report.Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

// wholeAndOrdered checks the report has every item once, in order, passed.
func wholeAndOrdered(t *testing.T, recs []report.Record, n int) {
	t.Helper()
	if len(recs) != n {
		t.Fatalf("%d lines, want %d", len(recs), n)
	}
	for i, rec := range recs {
		if rec.ID != fmt.Sprintf("item-%04d", i) || rec.Index != i {
			t.Fatalf("line %d is %s (index %d)", i+1, rec.ID, rec.Index)
		}
		if rec.Status != report.Pass {
			t.Fatalf("%s: %s %s", rec.ID, rec.Status, rec.Error)
		}
	}
}

// acceptedOnce checks every event the fake accepted was accepted once.
func acceptedOnce(t *testing.T, p *fakeapi.Pangea, n int) {
	t.Helper()
	if d := p.Duplicates(); len(d) > 0 {
		t.Fatalf("%d events accepted more than once", len(d))
	}
	if got := p.EventCount(); got != n {
		t.Fatalf("%d events accepted, want %d", got, n)
	}
}

func TestResumeAfterStopsFinishesWithoutRepeating(t *testing.T) {
	r := newRig(t)
	r.openai.SetLatency(5*time.Millisecond, 5*time.Millisecond)
	path := filepath.Join(t.TempDir(), "report.jsonl")
	const n = 120
	suite := suiteOf(n, plainItem)
	if err := fileRun(t, r, suite, path, false, 15); err != ErrInterrupted {
		t.Fatalf("first run: %v", err)
	}
	first := len(readReport(t, path))
	if first < 15 || first >= n {
		t.Fatalf("first run wrote %d lines", first)
	}
	if _, err := os.Stat(JournalPath(path)); err != nil {
		t.Fatal("an interrupted run left no journal")
	}
	// An interrupted resumed run keeps what it had and what it added.
	if err := fileRun(t, r, suite, path, true, 40); err != ErrInterrupted {
		t.Fatalf("second run: %v", err)
	}
	second := readReport(t, path)
	if len(second) < 40 || len(second) <= first {
		t.Fatalf("the interrupted resume kept %d lines; it had %d and added more", len(second), first)
	}
	for i, rec := range second {
		if rec.ID != fmt.Sprintf("item-%04d", i) {
			t.Fatalf("line %d is %s: not in order", i+1, rec.ID)
		}
	}
	if err := fileRun(t, r, suite, path, true, 0); err != nil {
		t.Fatalf("final run: %v", err)
	}
	wholeAndOrdered(t, readReport(t, path), n)
	acceptedOnce(t, r.pangea, n)
	if got := r.openai.ChatCount(); got != n {
		t.Errorf("the model was asked %d times for %d items", got, n)
	}
	if _, err := os.Stat(JournalPath(path)); !os.IsNotExist(err) {
		t.Error("a finished run left its journal")
	}
	if _, err := os.Stat(path + ".resume"); !os.IsNotExist(err) {
		t.Error("a finished run left its working copy")
	}
}

func TestResumeReusesReceiptsOfItemsThatFailed(t *testing.T) {
	r := newRig(t)
	path := filepath.Join(t.TempDir(), "report.jsonl")
	const n = 30
	suite := suiteOf(n, plainItem)
	r.openai.SetFaults(func(c fakeapi.Call) fakeapi.Fault {
		if strings.HasPrefix(c.Prompt, "question 7 ") || strings.HasPrefix(c.Prompt, "question 21 ") {
			return fakeapi.Status500
		}
		return fakeapi.NoFault
	})
	if err := fileRun(t, r, suite, path, false, 0); err != nil {
		t.Fatal(err)
	}
	recs := readReport(t, path)
	if recs[7].Status != report.Error || recs[7].Audit.Input == nil {
		t.Fatalf("item 7: %+v", recs[7])
	}
	hash7 := recs[7].Audit.Input.Hash
	r.openai.SetFaults(nil)
	if err := fileRun(t, r, suite, path, true, 0); err != nil {
		t.Fatal(err)
	}
	recs = readReport(t, path)
	wholeAndOrdered(t, recs, n)
	acceptedOnce(t, r.pangea, n)
	if recs[7].Audit.Input.Hash != hash7 {
		t.Errorf("item 7 got a new receipt %s; the first run's %s was accepted already", recs[7].Audit.Input.Hash, hash7)
	}
}

func TestResumeRepairsACrashedReport(t *testing.T) {
	r := newRig(t)
	path := filepath.Join(t.TempDir(), "report.jsonl")
	const n = 40
	suite := suiteOf(n, plainItem)
	// A crash: the run is cut off mid-flight, and its last line half
	// written.
	out, err := CreateOutput(path, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := r.work(t, suite, 4, func(w *Work) {
		w.Report, w.Journal = out.Report, out.Journal
		w.Progress = func(rec *report.Record) {
			if rec.Index == 9 {
				cancel()
			}
		}
	})
	if err := w.Run(ctx); err == nil {
		t.Fatal("the cut-off run finished")
	}
	out.Report.Close()
	out.Journal.Close()
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"index":10,"id":"item-0010","suite":"suite","sta`)
	f.Close()

	e, err := LoadEarlier(path)
	if err != nil {
		t.Fatal(err)
	}
	if !e.Repaired || e.Kept < 10 {
		t.Fatalf("earlier run: kept %d, repaired %v", e.Kept, e.Repaired)
	}
	e.Close()
	before := r.pangea.EventCount()
	if err := fileRun(t, r, suite, path, true, 0); err != nil {
		t.Fatal(err)
	}
	wholeAndOrdered(t, readReport(t, path), n)
	// Only events in flight at the cut may have been sent twice.
	if dup := len(r.pangea.Duplicates()); dup > 4 {
		t.Errorf("%d events sent twice; only those in flight at the cut may be", dup)
	}
	if r.pangea.EventCount() < before {
		t.Fatal("events lost")
	}
}

func TestResumeRunsAgainWhatTheSuiteChanged(t *testing.T) {
	r := newRig(t)
	path := filepath.Join(t.TempDir(), "report.jsonl")
	suite := suiteOf(10, plainItem)
	if err := fileRun(t, r, suite, path, false, 0); err != nil {
		t.Fatal(err)
	}
	// A failed run leaves its journal; edit item 3 and resume.
	os.WriteFile(JournalPath(path), nil, 0o600)
	changed := strings.Replace(suite, "question 3 ", "question three ", 1)
	if err := fileRun(t, r, changed, path, true, 0); err != nil {
		t.Fatal(err)
	}
	recs := readReport(t, path)
	if !strings.HasPrefix(recs[3].Prompt, "question three") {
		t.Fatalf("item 3 kept its old answer to an old prompt: %q", recs[3].Prompt)
	}
	if r.openai.ChatCount() != 11 {
		t.Errorf("%d model calls; want 10 and the changed one", r.openai.ChatCount())
	}
}

func TestResumeNeedsAReport(t *testing.T) {
	_, err := CreateOutput(filepath.Join(t.TempDir(), "none.jsonl"), true)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("got %v", err)
	}
}

func TestJournalHoldsReceiptsBeforeTheModelIsAsked(t *testing.T) {
	r := newRig(t)
	path := filepath.Join(t.TempDir(), "report.jsonl")
	out, err := CreateOutput(path, false)
	if err != nil {
		t.Fatal(err)
	}
	var checked int
	var mu sync.Mutex
	w := r.work(t, suiteOf(20, plainItem), 4, func(w *Work) {
		w.Report, w.Journal = out.Report, out.Journal
		w.Model = checkJournal{w.Model, func(req llm.Request) {
			receipts, _, err := readJournal(JournalPath(path), func(Key) bool { return true })
			if err != nil {
				t.Error(err)
				return
			}
			var id int
			fmt.Sscanf(req.Prompt, "question %d", &id)
			k := Key{Suite: "suite", ID: fmt.Sprintf("item-%04d", id), Model: "gpt-4o-mini"}
			ev, _ := audit.Format{}.Input(req.System[len(prompts.DefaultSystem)-len("{{context}}"):], req.Prompt, audit.Meta{Model: "gpt-4o-mini"})
			if e, ok := receipts[k]; !ok || e.EventSHA256 != eventSHA256(ev) {
				t.Errorf("%s reached the model before its receipt was on disk", k)
			}
			mu.Lock()
			checked++
			mu.Unlock()
		}}
	})
	if err := w.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if checked != 20 {
		t.Fatalf("checked %d calls", checked)
	}
	for _, f := range []string{path, JournalPath(path)} {
		info, err := os.Stat(f)
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", f, info.Mode(), err)
		}
	}
	out.Finish(true, true)
}

type checkJournal struct {
	Completer
	before func(llm.Request)
}

func (c checkJournal) Complete(ctx context.Context, req llm.Request) (llm.Answer, error) {
	c.before(req)
	return c.Completer.Complete(ctx, req)
}
