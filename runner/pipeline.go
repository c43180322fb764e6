package runner

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"
)

// stages are the three stages of every run, over jobs of type J.
type stages[J any] struct {
	// feed hands out jobs in input order, taking a place in window for
	// each; it returns when the input ends, on Stop, or on ctx.
	feed func(ctx context.Context, jobs chan<- J, window chan struct{}) error
	// work does one job.
	work func(ctx context.Context, job J)
	// seq is a job's place in the order feed handed it out (0, 1, 2, …).
	seq func(J) int
	// arrived, when set, is told of each finished job as it arrives, and
	// whether it has to wait for an earlier one.
	arrived func(ctx context.Context, job J, waiting bool)
	// emit writes one finished job; jobs are emitted in seq order, each as
	// soon as all before it are.
	emit func(J) error
	// flush ends a run of emits: what became writable together is flushed
	// together.
	flush func() error
	// workers is the most jobs worked on at once; window the most handed
	// out and not yet written.
	workers, window int
	// stop is closed by Stop.
	stop <-chan struct{}
}

// run runs the stages as an errgroup pipeline: each stage owns the channel
// it writes and closes it, and all stop when ctx ends. An *InputError from
// feed ends the input but lets the jobs handed out finish and be written;
// run then returns it. After stop, run returns ErrInterrupted.
func (s stages[J]) run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	window := make(chan struct{}, s.window)
	jobs := make(chan J)
	done := make(chan J, s.workers)
	var inputErr error
	g.Go(func() error {
		defer close(jobs)
		err := s.feed(ctx, jobs, window)
		var ie *InputError
		if errors.As(err, &ie) {
			inputErr = err
			return nil
		}
		return err
	})
	g.Go(func() error {
		defer close(done)
		// A fixed pool: each worker takes jobs until they run out, so no
		// goroutine (and no fresh stack) is made per job.
		workers, ctx := errgroup.WithContext(ctx)
		workers.SetLimit(s.workers)
		for range s.workers {
			workers.Go(func() error {
				for j := range jobs {
					s.work(ctx, j)
					select {
					case done <- j:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				return nil
			})
		}
		return workers.Wait()
	})
	g.Go(func() error { return s.write(ctx, done, window) })
	switch err := g.Wait(); {
	case err != nil:
		return err
	case inputErr != nil:
		return inputErr
	}
	select {
	case <-s.stop:
		return ErrInterrupted
	default:
		return nil
	}
}

// write puts finished jobs back in order, emits each as soon as all before
// it are emitted, and frees their places in window, so that a slow job
// holds back at most the window's worth of finished ones in memory.
func (s stages[J]) write(ctx context.Context, done <-chan J, window <-chan struct{}) error {
	held := map[int]J{}
	next := 0
	for j := range done {
		held[s.seq(j)] = j
		if s.arrived != nil {
			s.arrived(ctx, j, s.seq(j) != next)
		}
		emitted := false
		for {
			h, ok := held[next]
			if !ok {
				break
			}
			delete(held, next)
			next++
			if err := s.emit(h); err != nil {
				return err
			}
			emitted = true
			<-window
		}
		if emitted {
			if err := s.flush(); err != nil {
				return err
			}
		}
	}
	if ctx.Err() != nil || len(held) == 0 {
		return nil
	}
	return fmt.Errorf("runner: %d finished jobs were never written", len(held))
}
