// Package runner is the pipeline of a run: it reads items in order, keeps
// at most -j of them in flight, audits each prompt and waits for the receipt
// before the model sees it, judges the answer, and writes the report in
// input order as soon as each line's predecessors are done.
package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/llm"
	"github.com/tracebatch/tracebatch/prompts"
	"github.com/tracebatch/tracebatch/report"
)

// Recorder records an audit event and returns its receipt once Secure Audit
// Log has accepted it; *audit.Batcher is one.
type Recorder interface {
	Record(ctx context.Context, ev audit.Event) (audit.Receipt, error)
}

// Completer answers a prompt; *llm.Client is one.
type Completer interface {
	Complete(ctx context.Context, req llm.Request) (llm.Answer, error)
}

// Sink receives the report's lines in input order; *report.Writer is one.
type Sink interface {
	// Buffer writes a record; Raw writes a line kept from an earlier run.
	Buffer(r *report.Record) error
	Raw(line []byte) error
	Flush() error
}

// Work is one run of suites: where the items come from, where they go, and
// how many are in flight.
type Work struct {
	// Suites are run in order, each item in file order.
	Suites []*prompts.Suite
	// Models are the models an item runs on when it names none of its own.
	Models []string
	// SuiteModels lets a suite that names a model (its YAML header) run on
	// it instead of Models: set it when Models are a default, not the
	// user's choice.
	SuiteModels bool
	// Concurrency is the most items in flight at once (-j).
	Concurrency int
	// Audit records the events; nothing reaches Model before Audit has
	// returned a receipt for it.
	Audit Recorder
	// Model answers the prompts.
	Model Completer
	// Format builds the audit events.
	Format audit.Format
	// AuditResponses records every answer as an output event too.
	AuditResponses bool
	// Report receives one record per (item, model), in input order.
	Report Sink
	// Progress, when set, is called with each record as it is written.
	Progress func(*report.Record)
	// Repeat runs every (item, model) this many times; 0 means once.
	Repeat int
	// Select, when set, keeps only the items it accepts (filters, shards).
	Select func(prompts.Item) bool
	// Journal, when set, keeps every receipt (on disk before the prompt is
	// sent) and every finished line, so an unfinished run can be resumed.
	Journal *Journal
	// Earlier, when set, is the unfinished run being resumed: its finished
	// lines are kept, its receipts reused.
	Earlier *Earlier
	// Grader decides llm-rubric and similar checks; without one they are
	// undecided (status error).
	Grader *Grader
	// Baseline, when set, is an earlier report: each line gets a regression
	// field saying how it differs from the same item's line there.
	Baseline *report.Baseline
	// SameCheck, when set ("similar" or "llm-rubric"), asks the Grader
	// whether a changed answer still says what the baseline's said;
	// SameThreshold is the cosine "similar" needs.
	SameCheck     string
	SameThreshold float64

	stopOnce sync.Once
	stop     chan struct{}
	summary  report.Summary
	differ   *report.Differ
}

// ErrInterrupted is returned by Run after Stop: the items in flight were
// finished and written, the rest were not started.
var ErrInterrupted = errors.New("interrupted")

// InputError is a problem with the input found while the run was going
// (a suite read from a stream cannot be validated ahead). The items before
// it were run and written.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// ModelsOf is the models an item runs on: its own model if it names one;
// else its suite's, when suiteModels is set and the suite names one; else
// models.
func ModelsOf(it prompts.Item, s *prompts.Suite, models []string, suiteModels bool) []string {
	switch {
	case it.Model != "":
		return []string{it.Model}
	case suiteModels && s.Model() != "":
		return []string{s.Model()}
	}
	return models
}

// job is one (item, model, repeat) on its way through the pipeline.
type job struct {
	// pos orders the jobs handed out (0, 1, 2, …); index is the line's
	// place in the whole run, before selection.
	pos, index int
	key        Key
	item       prompts.Item
	// raw is a line kept from an earlier run; the job just passes it on.
	raw []byte
	rec *report.Record
}

// Init prepares the work; Run calls it.
func (w *Work) Init() {
	if w.Concurrency <= 0 {
		w.Concurrency = 8
	}
	if w.stop == nil {
		w.stop = make(chan struct{})
	}
}

// Stop asks a running Run to start no new item; the items in flight finish
// and are written. It may be called from any goroutine, more than once.
func (w *Work) Stop() {
	w.Init()
	w.stopOnce.Do(func() { close(w.stop) })
}

// Summary counts the records written so far.
func (w *Work) Summary() report.Summary { return w.summary }

// Diff compares the lines written with the Baseline.
func (w *Work) Diff() report.Diff {
	if w.differ == nil {
		return report.Diff{}
	}
	return w.differ.Diff()
}

// Run runs every item and writes the report. It returns nil when every item
// has a line; ErrInterrupted after Stop; an *InputError when a streamed
// suite turned out invalid; ctx's error when ctx ended (the items in flight
// are abandoned and not written); or the report's write error.
func (w *Work) Run(ctx context.Context) error {
	w.Init()
	if w.Baseline != nil {
		w.differ = report.NewDiffer(w.Baseline)
	}
	return stages[*job]{
		feed: w.feed, work: w.do,
		seq:     func(j *job) int { return j.pos },
		arrived: w.journalWaiting, emit: w.emit, flush: w.Report.Flush,
		workers: w.Concurrency,
		// A slow item holds back at most this many finished ones in memory.
		window: 4*w.Concurrency + 16,
		stop:   w.stop,
	}.run(ctx)
}

// feed reads the suites and hands out one job per (item, model, repeat), in
// order, waiting for room in the window. After Stop it hands out only lines
// kept from an earlier run, so an interrupted resumed run loses none of them;
// a fresh run stops at once.
func (w *Work) feed(ctx context.Context, jobs chan<- *job, window chan struct{}) error {
	repeats := max(w.Repeat, 1)
	index, pos := 0, 0
	stopped := false
	src := newSource(ctx, w.Suites)
	for {
		r, more, err := src.next(ctx, w.stop, &stopped, w.Earlier != nil)
		if err != nil || !more {
			return err
		}
		it := r.item
		for _, m := range ModelsOf(it, r.suite, w.Models, w.SuiteModels) {
			for rep := 1; rep <= repeats; rep++ {
				j := &job{index: index, item: it, key: Key{Suite: it.Suite, ID: it.ID, Model: m}}
				index++
				if repeats > 1 {
					j.key.Repeat = rep
				}
				if w.Select != nil && !w.Select(it) {
					continue
				}
				if !stopped {
					select {
					case <-w.stop:
						stopped = true
					default:
					}
				}
				if stopped && w.Earlier == nil {
					return nil
				}
				if w.Earlier != nil {
					if j.raw, err = w.Earlier.finished(j.key, it, stopped); err != nil {
						return err
					}
				}
				if stopped && j.raw == nil {
					continue
				}
				select {
				case window <- struct{}{}:
				case <-ctx.Done():
					return ctx.Err()
				}
				j.pos = pos
				select {
				case jobs <- j:
					pos++
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
	}
}

// journalWaiting keeps in the journal a finished line that must wait for
// the lines before it, so a crash does not lose an answer paid for; and
// every line of a resumed run, whose new report is not in place until the
// run ends. A line that ended in error is not kept: a resume runs its item
// again.
func (w *Work) journalWaiting(ctx context.Context, j *job, waiting bool) {
	if w.Journal != nil && j.raw == nil && j.rec.Status != report.Error && ctx.Err() == nil && (waiting || w.Earlier != nil) {
		w.Journal.Record(j.key, j.rec)
	}
}

// emit writes one line of the report, in input order.
func (w *Work) emit(j *job) error {
	var err error
	if j.raw != nil {
		if w.differ != nil {
			w.differ.Add(j.rec) // the kept line keeps its own field
		}
		err = w.Report.Raw(j.raw)
	} else {
		w.regression(j.rec)
		err = w.Report.Buffer(j.rec)
	}
	if err != nil {
		return err
	}
	w.summary.Add(j.rec)
	if w.Progress != nil {
		w.Progress(j.rec)
	}
	return nil
}

// do runs one job: audit, then ask, then judge. It always leaves a record.
func (w *Work) do(ctx context.Context, j *job) {
	if j.raw != nil {
		j.rec = &report.Record{}
		if err := json.Unmarshal(j.raw, j.rec); err != nil {
			// LoadEarlier parsed it already; this cannot happen.
			j.rec.Status = report.Error
		}
		return
	}
	it := j.item
	r := &report.Record{
		Index:         j.index,
		ID:            it.ID,
		Suite:         it.Suite,
		Model:         j.key.Model,
		Repeat:        j.key.Repeat,
		Prompt:        it.Prompt,
		ContextSHA256: contextSHA256(it.Context),
		StartedAt:     report.Time{Time: time.Now()},
		Tags:          it.Tags,
		Metadata:      it.Metadata,
		File:          it.Pos.File,
		Line:          it.Pos.Line,
	}
	j.rec = r
	meta := audit.Meta{Model: j.key.Model}
	ev, err := w.Format.Input(it.Context, it.Prompt, meta)
	if err != nil {
		r.Status, r.Error = report.Error, err.Error()
		return
	}
	if err := w.audit(ctx, j.key, ev, r); err != nil {
		r.Status = report.Error
		r.Error = fmt.Sprintf("audit: %v; the prompt was not sent to the model", err)
		return
	}

	ans, err := w.Model.Complete(ctx, llm.Request{Model: j.key.Model, System: it.System, Prompt: it.Prompt, Params: it.Params})
	r.Attempts = ans.Attempts
	if err != nil {
		r.Status, r.Error = report.Error, "model: "+err.Error()
		return
	}
	r.Answer = ans.Text
	r.LatencyMS = ans.Latency.Milliseconds()
	r.Usage = &report.Usage{PromptTokens: ans.Usage.PromptTokens, CompletionTokens: ans.Usage.CompletionTokens}

	if w.AuditResponses {
		receipt, err := w.Audit.Record(ctx, w.Format.Output(ans.Text, meta))
		if err != nil {
			r.Status = report.Error
			r.Error = fmt.Sprintf("audit of the answer: %v", err)
			return
		}
		r.Audit.Output = &receipt
	}
	w.judge(ctx, r, it, ans)
	w.same(ctx, j.key, r)
}

// audit records the input event and puts its receipt in the record; with a
// journal, the receipt is on disk before audit returns. A receipt the
// earlier run holds for this very event is reused instead: the event is not
// sent again.
func (w *Work) audit(ctx context.Context, key Key, ev audit.Event, r *report.Record) error {
	var sum string
	if w.Journal != nil || w.Earlier != nil {
		sum = eventSHA256(ev)
	}
	if w.Earlier != nil {
		if rc := w.Earlier.receipt(key, sum); rc != nil {
			r.Audit.Input = rc
			return nil
		}
	}
	if w.Journal != nil {
		if err := w.Journal.Err(); err != nil {
			return fmt.Errorf("the journal cannot be written, so the event was not sent (free the disk and resume): %w", err)
		}
	}
	receipt, err := w.Audit.Record(ctx, ev)
	if err != nil {
		return err
	}
	if w.Journal != nil {
		if err := w.Journal.Receipt(ctx, key, sum, receipt); err != nil {
			return fmt.Errorf("accepted (hash %s) but not journaled: %w", receipt.Hash, err)
		}
	}
	r.Audit.Input = &receipt
	return nil
}
