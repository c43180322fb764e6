package audit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Logger records events in bulk; *Client is one. Outcomes are one per event,
// in order.
type Logger interface {
	LogBulk(ctx context.Context, events []Event) []Outcome
}

// Batcher gathers the events of concurrent callers into bulk calls: a call
// leaves when it holds Size events or when Linger has passed since its first
// event, and at most Concurrency calls are in flight. Each caller blocks until
// its own event has an outcome, so a caller that holds a receipt knows its
// event was accepted.
type Batcher struct {
	log         Logger
	size        int
	linger      time.Duration
	concurrency int
	callers     int
	inFlight    atomic.Int64 // events sent and not yet answered

	in    chan pending
	slots chan struct{}
	done  chan struct{}
	wg    sync.WaitGroup

	// fatal is the first error that no later call can overcome (a bad
	// token); once set, events fail at once without a call.
	mu    sync.Mutex
	fatal error
}

type pending struct {
	ctx   context.Context
	event Event
	out   chan Outcome
}

// BatcherConfig tunes a Batcher; zero values take the defaults.
type BatcherConfig struct {
	// Size is the most events per call (default and maximum MaxBatch).
	Size int
	// Linger is how long a call waits for more events (default 10ms).
	Linger time.Duration
	// Concurrency is how many calls may be in flight (default 4).
	Concurrency int
	// Callers, when set, is the most callers that can be waiting at once
	// (the run's -j, each worker waiting for one event at a time). When
	// every one of them is waiting, no event can join the gathered ones,
	// so the call leaves at once instead of lingering.
	Callers int
}

// NewBatcher starts a batcher over log. Close it to stop it.
func NewBatcher(log Logger, cfg BatcherConfig) *Batcher {
	if cfg.Size <= 0 || cfg.Size > MaxBatch {
		cfg.Size = MaxBatch
	}
	if cfg.Linger <= 0 {
		cfg.Linger = 10 * time.Millisecond
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	b := &Batcher{
		log:         log,
		size:        cfg.Size,
		linger:      cfg.Linger,
		concurrency: cfg.Concurrency,
		callers:     cfg.Callers,
		in:          make(chan pending),
		slots:       make(chan struct{}, cfg.Concurrency),
		done:        make(chan struct{}),
	}
	b.wg.Add(1)
	go b.loop()
	return b
}

// ErrClosed is returned by Record after Close.
var ErrClosed = errors.New("audit batcher is closed")

// Record sends ev in the next bulk call and waits until Pangea has accepted
// it or refused it. If ctx ends first, Record returns ctx's error: the event
// may still be accepted, but the caller has no receipt and must treat it as
// not recorded.
func (b *Batcher) Record(ctx context.Context, ev Event) (Receipt, error) {
	if err := b.fatalErr(); err != nil {
		return Receipt{}, err
	}
	p := pending{ctx: ctx, event: ev, out: make(chan Outcome, 1)}
	select {
	case b.in <- p:
	case <-ctx.Done():
		return Receipt{}, ctx.Err()
	case <-b.done:
		return Receipt{}, ErrClosed
	}
	select {
	case o := <-p.out:
		return o.Receipt, o.Err
	case <-ctx.Done():
		return Receipt{}, ctx.Err()
	}
}

// Close sends what is gathered, waits for the calls in flight, and stops.
func (b *Batcher) Close() {
	select {
	case <-b.done:
		return
	default:
	}
	close(b.done)
	b.wg.Wait()
}

func (b *Batcher) loop() {
	defer b.wg.Done()
	var batch []pending
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		timer.Stop()
		b.slots <- struct{}{} // at most Concurrency calls in flight
		b.inFlight.Add(int64(len(batch)))
		b.wg.Add(1)
		go b.send(batch)
		batch = nil
	}
	for {
		select {
		case p := <-b.in:
			batch = append(batch, p)
			if len(batch) == 1 {
				timer.Reset(b.linger)
			}
			if len(batch) >= b.size || (b.callers > 0 && len(batch)+int(b.inFlight.Load()) >= b.callers) {
				flush()
			}
		case <-timer.C:
			flush()
		case <-b.done:
			flush()
			return
		}
	}
}

// send makes one bulk call for batch and hands out the outcomes. Events whose
// callers have gone away are left out before the call.
func (b *Batcher) send(batch []pending) {
	defer b.wg.Done()
	defer func() { <-b.slots }()
	defer b.inFlight.Add(-int64(len(batch)))
	live := batch[:0]
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.out <- Outcome{Err: err}
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	events := make([]Event, len(live))
	for i, p := range live {
		events[i] = p.event
	}
	// The call runs under a context of its own: a caller that gives up must
	// not cancel the others' events. It ends early only when every caller
	// has given up.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var left atomic.Int64
	left.Store(int64(len(live)))
	for _, p := range live {
		stop := context.AfterFunc(p.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
		defer stop()
	}
	outs := b.log.LogBulk(ctx, events)
	for i, p := range live {
		o := Outcome{Err: ErrNoReceipt}
		if i < len(outs) {
			o = outs[i]
		}
		if o.Err != nil {
			b.noteFatal(o.Err)
		}
		p.out <- o
	}
}

func (b *Batcher) noteFatal(err error) {
	var api *APIError
	if !errors.As(err, &api) || !api.Fatal() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fatal == nil {
		b.fatal = err
	}
}

func (b *Batcher) fatalErr() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.fatal
}
