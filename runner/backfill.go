package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/prompts"
	"github.com/tracebatch/tracebatch/report"
)

// BulkLogger records events in bulk, one outcome per event, in order;
// *audit.Client is one.
type BulkLogger interface {
	LogBulk(ctx context.Context, events []audit.Event) []audit.Outcome
	LogBulkAsync(ctx context.Context, events []audit.Event) []audit.Outcome
}

// Backfill records historical exchanges in the audit log, in bulk and in
// input order, without calling any model. Memory holds a few batches, not
// the input: batches are filled as the input streams, at most Concurrency
// calls are in flight, and at most twice that many batches wait for their
// turn in the report.
type Backfill struct {
	// Suites are read in order.
	Suites []*prompts.Suite
	// Log makes the bulk calls.
	Log BulkLogger
	// Async uses /v2/log_async: Pangea accepts the events and hashes them
	// later, so receipts are pending and carry the request ID.
	Async bool
	// Format builds the events.
	Format audit.Format
	// AuditResponses records each item's historical answer as an output
	// event too.
	AuditResponses bool
	// BatchSize is the most events per call (at most audit.MaxBatch).
	BatchSize int
	// Concurrency is the most calls in flight.
	Concurrency int
	// Report receives one line per item, in input order.
	Report Sink
	// Progress, when set, is called with each record as it is written.
	Progress func(*report.Record)
	// Earlier, when set, is the report of the unfinished backfill being
	// resumed: its audited lines are kept, its errors sent again.
	Earlier *Prefix

	stopOnce sync.Once
	stop     chan struct{}
	summary  report.Summary
}

// batch is a run of consecutive items and the events they send together.
type batch struct {
	seq    int
	items  []bfItem
	events []audit.Event
	outs   []audit.Outcome
}

// bfItem is one item of a batch: the report line it will become, and which
// of the batch's events are its own (-1: none).
type bfItem struct {
	rec     *report.Record
	in, out int
	raw     []byte // a line kept from the earlier report
}

// Stop asks a running Run to read no further; the calls in flight finish
// and are written. When resuming, the earlier report's remaining lines are
// still copied, so none is lost.
func (b *Backfill) Stop() {
	b.init()
	b.stopOnce.Do(func() { close(b.stop) })
}

func (b *Backfill) init() {
	if b.stop == nil {
		b.stop = make(chan struct{})
	}
	if b.BatchSize <= 0 || b.BatchSize > audit.MaxBatch {
		b.BatchSize = audit.MaxBatch
	}
	if b.Concurrency <= 0 {
		b.Concurrency = 4
	}
}

// Summary counts the records written.
func (b *Backfill) Summary() report.Summary { return b.summary }

// Run records every item and writes the report. Its errors are those of
// Work.Run.
func (b *Backfill) Run(ctx context.Context) error {
	b.init()
	return stages[*batch]{
		feed: b.feed, work: b.send,
		seq:  func(bt *batch) int { return bt.seq },
		emit: b.emit, flush: b.Report.Flush,
		workers: b.Concurrency, window: 2 * b.Concurrency,
		stop: b.stop,
	}.run(ctx)
}

// feed fills batches from the input, in order.
func (b *Backfill) feed(ctx context.Context, out chan<- *batch, window chan struct{}) error {
	cur := &batch{}
	seq, index := 0, 0
	flush := func() error {
		if len(cur.items) == 0 {
			return nil
		}
		select {
		case window <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		cur.seq = seq
		select {
		case out <- cur:
		case <-ctx.Done():
			return ctx.Err()
		}
		seq++
		cur = &batch{}
		return nil
	}
	stopped := false
	src := newSource(ctx, b.Suites)
	for {
		r, more, err := src.next(ctx, b.stop, &stopped, b.Earlier != nil)
		if err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				if ferr := flush(); ferr != nil {
					return ferr
				}
			}
			return err
		}
		if !more {
			return flush()
		}
		it := r.item
		key := Key{Suite: it.Suite, ID: it.ID, Model: it.Model}
		bi := bfItem{in: -1, out: -1}
		if b.Earlier != nil {
			var errored bool
			if bi.raw, errored, err = b.Earlier.next(key); err != nil {
				return err
			}
			switch {
			case stopped && bi.raw == nil:
				// Stopped, and the earlier report has nothing further:
				// what it had is all copied.
				return flush()
			case errored && !stopped:
				bi.raw = nil // an item that ended in error is sent again
			}
		}
		index++
		if bi.raw == nil {
			evs, err := b.events(it)
			if err != nil {
				return &InputError{Err: fmt.Errorf("%s: %w", it.Pos, err)}
			}
			if len(cur.events)+len(evs) > b.BatchSize {
				if err := flush(); err != nil {
					return err
				}
			}
			bi.in = len(cur.events)
			if len(evs) > 1 {
				bi.out = bi.in + 1
			}
			cur.events = append(cur.events, evs...)
			bi.rec = b.record(it, index-1)
		}
		cur.items = append(cur.items, bi)
		if len(cur.items) >= audit.MaxBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// events builds an item's input event, and its output event when answers
// are recorded and it has one.
func (b *Backfill) events(it prompts.Item) ([]audit.Event, error) {
	meta := audit.Meta{Model: it.Model, Actor: it.Actor, Time: it.Timestamp}
	in, err := b.Format.Input(it.Context, it.Prompt, meta)
	if err != nil {
		return nil, err
	}
	if b.AuditResponses && it.Answer != "" {
		return []audit.Event{in, b.Format.Output(it.Answer, meta)}, nil
	}
	return []audit.Event{in}, nil
}

func (b *Backfill) record(it prompts.Item, index int) *report.Record {
	return &report.Record{
		Index:         index,
		ID:            it.ID,
		Suite:         it.Suite,
		Model:         it.Model,
		Prompt:        it.Prompt,
		ContextSHA256: contextSHA256(it.Context),
		Tags:          it.Tags,
		Metadata:      it.Metadata,
		File:          it.Pos.File,
		Line:          it.Pos.Line,
	}
}

// send makes the batch's call and turns its outcomes into records.
func (b *Backfill) send(ctx context.Context, bt *batch) {
	started := report.Time{Time: time.Now()}
	if len(bt.events) > 0 {
		if b.Async {
			bt.outs = b.Log.LogBulkAsync(ctx, bt.events)
		} else {
			bt.outs = b.Log.LogBulk(ctx, bt.events)
		}
	}
	for i := range bt.items {
		bi := &bt.items[i]
		if bi.raw != nil {
			bi.rec = &report.Record{}
			if err := json.Unmarshal(bi.raw, bi.rec); err != nil {
				bi.rec.Status = report.Error
			}
			continue
		}
		r := bi.rec
		r.StartedAt = started
		in := bt.outs[bi.in]
		if in.Err != nil {
			r.Status, r.Error = report.Error, "audit: "+in.Err.Error()
			continue
		}
		r.Audit.Input = &in.Receipt
		r.Status = report.Audited
		if bi.out >= 0 {
			out := bt.outs[bi.out]
			if out.Err != nil {
				r.Status, r.Error = report.Error, "audit of the answer: "+out.Err.Error()
				continue
			}
			r.Audit.Output = &out.Receipt
		}
	}
	bt.events, bt.outs = nil, nil
}

// emit writes the lines of one batch, in input order.
func (b *Backfill) emit(bt *batch) error {
	for _, bi := range bt.items {
		var err error
		if bi.raw != nil {
			err = b.Report.Raw(bi.raw)
		} else {
			err = b.Report.Buffer(bi.rec)
		}
		if err != nil {
			return err
		}
		b.summary.Add(bi.rec)
		if b.Progress != nil {
			b.Progress(bi.rec)
		}
	}
	return nil
}
