// Package runner is the pipeline of a run: it reads items in order, keeps
// at most -j of them in flight, audits each prompt and waits for the receipt
// before the model sees it, judges the answer, and writes the report in
// input order as soon as each line's predecessors are done.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

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

// Sink receives the report's records in input order; *report.Writer is one.
type Sink interface {
	Buffer(r *report.Record) error
	Flush() error
}

// Work is one run of suites: where the items come from, where they go, and
// how many are in flight.
type Work struct {
	// Suites are run in order, each item in file order.
	Suites []*prompts.Suite
	// Models are the models an item runs on when it names none of its own.
	Models []string
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

	stopOnce sync.Once
	stop     chan struct{}
	summary  report.Summary
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

// job is one (item, model) on its way through the pipeline.
type job struct {
	seq   int
	item  prompts.Item
	model string
	rec   *report.Record
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

// Run runs every item and writes the report. It returns nil when every item
// has a line; ErrInterrupted after Stop; an *InputError when a streamed
// suite turned out invalid; ctx's error when ctx ended (the items in flight
// are abandoned and not written); or the report's write error.
func (w *Work) Run(ctx context.Context) error {
	w.Init()
	g, ctx := errgroup.WithContext(ctx)
	// window bounds the jobs started but not yet written, so a slow item
	// holds back at most this many finished ones in memory.
	window := make(chan struct{}, 4*w.Concurrency+16)
	jobs := make(chan *job)
	done := make(chan *job, w.Concurrency)
	var inputErr error

	g.Go(func() error {
		defer close(jobs)
		err := w.feed(ctx, jobs, window)
		var ie *InputError
		if errors.As(err, &ie) {
			inputErr = err
			return nil
		}
		return err
	})
	g.Go(func() error {
		defer close(done)
		workers, ctx := errgroup.WithContext(ctx)
		workers.SetLimit(w.Concurrency)
		for j := range jobs {
			workers.Go(func() error {
				w.do(ctx, j)
				select {
				case done <- j:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
		}
		return workers.Wait()
	})
	g.Go(func() error { return w.write(ctx, done, window) })

	err := g.Wait()
	switch {
	case err != nil:
		return err
	case inputErr != nil:
		return inputErr
	}
	select {
	case <-w.stop:
		return ErrInterrupted
	default:
		return nil
	}
}

// feed reads the suites and hands out one job per (item, model), in order,
// waiting for room in the window. It stops early on Stop or when ctx ends.
func (w *Work) feed(ctx context.Context, jobs chan<- *job, window chan struct{}) error {
	seq := 0
	for _, s := range w.Suites {
		for {
			it, err := s.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return &InputError{Err: err}
			}
			models := w.Models
			if it.Model != "" {
				models = []string{it.Model}
			}
			for _, m := range models {
				select {
				case window <- struct{}{}:
				case <-w.stop:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
				select {
				case jobs <- &job{seq: seq, item: it, model: m}:
					seq++
				case <-w.stop:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
	}
	return nil
}

// write puts finished jobs in input order and writes each as soon as all
// before it are written; records that become writable together are flushed
// together.
func (w *Work) write(ctx context.Context, done <-chan *job, window <-chan struct{}) error {
	held := map[int]*job{}
	next := 0
	for j := range done {
		held[j.seq] = j
		wrote := false
		for {
			h, ok := held[next]
			if !ok {
				break
			}
			delete(held, next)
			next++
			if err := w.Report.Buffer(h.rec); err != nil {
				return err
			}
			wrote = true
			w.summary.Add(h.rec)
			if w.Progress != nil {
				w.Progress(h.rec)
			}
			<-window
		}
		if wrote {
			if err := w.Report.Flush(); err != nil {
				return err
			}
		}
	}
	if ctx.Err() != nil || len(held) == 0 {
		return nil
	}
	return fmt.Errorf("runner: %d finished items were never written", len(held))
}

// do runs one job: audit, then ask, then judge. It always leaves a record.
func (w *Work) do(ctx context.Context, j *job) {
	it := j.item
	r := &report.Record{
		Index:         j.seq,
		ID:            it.ID,
		Suite:         it.Suite,
		Model:         j.model,
		Prompt:        it.Prompt,
		ContextSHA256: contextSHA256(it.Context),
		StartedAt:     report.Time{Time: time.Now()},
		Tags:          it.Tags,
		Metadata:      it.Metadata,
		File:          it.Pos.File,
		Line:          it.Pos.Line,
	}
	j.rec = r
	meta := audit.Meta{Model: j.model}
	ev, err := w.Format.Input(it.Context, it.Prompt, meta)
	if err != nil {
		r.Status, r.Error = report.Error, err.Error()
		return
	}
	receipt, err := w.Audit.Record(ctx, ev)
	if err != nil {
		r.Status = report.Error
		r.Error = fmt.Sprintf("audit: %v; the prompt was not sent to the model", err)
		return
	}
	r.Audit.Input = &receipt

	ans, err := w.Model.Complete(ctx, llm.Request{Model: j.model, System: it.System, Prompt: it.Prompt, Params: it.Params})
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
	judge(r, it, ans)
}
