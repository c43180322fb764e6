package runner

import (
	"context"
	"io"
	"slices"

	"github.com/tracebatch/tracebatch/prompts"
)

// read is an item of a suite, or the problem that ended the reading.
type read struct {
	suite *prompts.Suite
	item  prompts.Item
	err   error
}

// source hands out the items of the suites in order. Files are read in
// place; a suite on standard input, which can wait for its writer as long
// as it likes, is read in a goroutine of its own, so that a feed waiting on
// it still sees Stop and the end of ctx.
type source struct {
	suites []*prompts.Suite
	reads  <-chan read // set when a suite reads stdin
	done   bool
}

func newSource(ctx context.Context, suites []*prompts.Suite) *source {
	s := &source{suites: suites}
	if slices.ContainsFunc(suites, func(s *prompts.Suite) bool { return s.File() == "stdin" }) {
		s.reads = readSuites(ctx, suites)
	}
	return s
}

// next takes the next item. When stop closes, it sets *stopped and, if
// keepReading, goes on (a resumed run copies the rest of what it had);
// otherwise it ends there. ctx ends it either way. more is false at the end
// of the input or of the reading; err is ctx's error or the input's problem
// as an *InputError.
func (s *source) next(ctx context.Context, stop <-chan struct{}, stopped *bool, keepReading bool) (r read, more bool, err error) {
	if !*stopped {
		select {
		case <-stop:
			*stopped = true
		default:
		}
	}
	if *stopped && !keepReading {
		return r, false, nil
	}
	if s.reads != nil {
		return nextRead(ctx, s.reads, stop, stopped, keepReading)
	}
	for !s.done && len(s.suites) > 0 {
		if err := ctx.Err(); err != nil {
			return r, false, err
		}
		it, err := s.suites[0].Next()
		switch {
		case err == io.EOF:
			s.suites = s.suites[1:]
			continue
		case err != nil:
			s.done = true
			return r, false, &InputError{Err: err}
		}
		return read{suite: s.suites[0], item: it}, true, nil
	}
	return r, false, nil
}

// readSuites reads the suites in order in a goroutine of its own. The first
// problem is sent and ends the reading; the channel is closed at the end of
// the input or when ctx ends.
func readSuites(ctx context.Context, suites []*prompts.Suite) <-chan read {
	out := make(chan read, 16)
	go func() {
		defer close(out)
		for _, s := range suites {
			for {
				it, err := s.Next()
				if err == io.EOF {
					break
				}
				select {
				case out <- read{suite: s, item: it, err: err}:
				case <-ctx.Done():
					return
				}
				if err != nil {
					return
				}
			}
		}
	}()
	return out
}

// nextRead is source.next over the reading goroutine.
func nextRead(ctx context.Context, reads <-chan read, stop <-chan struct{}, stopped *bool, keepReading bool) (r read, more bool, err error) {
	for {
		var ok bool
		if *stopped {
			select {
			case r, ok = <-reads:
			case <-ctx.Done():
				return r, false, ctx.Err()
			}
		} else {
			select {
			case r, ok = <-reads:
			case <-stop:
				*stopped = true
				if !keepReading {
					return r, false, nil
				}
				continue
			case <-ctx.Done():
				return r, false, ctx.Err()
			}
		}
		if !ok {
			return r, false, nil
		}
		if r.err != nil {
			return r, false, &InputError{Err: r.err}
		}
		return r, true, nil
	}
}
