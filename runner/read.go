package runner

import (
	"context"
	"io"

	"github.com/tracebatch/tracebatch/prompts"
)

// read is an item of a suite, or the problem that ended the reading.
type read struct {
	suite *prompts.Suite
	item  prompts.Item
	err   error
}

// readSuites reads the suites in order in a goroutine of its own, so that
// a feed waiting on a slow input (a pipe on stdin) still sees Stop and the
// end of ctx. The first problem is sent and ends the reading; the channel
// is closed at the end of the input or when ctx ends.
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

// next takes the next read. When stop closes, it sets *stopped and, if
// keepReading, goes on reading (a resumed run copies the rest of what it
// had); otherwise it ends there. ctx ends it either way. more is false at
// the end of the input or of the reading; err is ctx's error or the
// input's problem as an *InputError.
func next(ctx context.Context, reads <-chan read, stop <-chan struct{}, stopped *bool, keepReading bool) (r read, more bool, err error) {
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
