package fakeapi

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Fault is a failure that a fake injects into one request. The zero value,
// NoFault, answers normally.
//
// What each fault does to the recording of Pangea events: Status429,
// Status500, Status503, Drop and Timeout reject the call before any event is
// accepted; Accepted202, Malformed and DropMidStream accept the events (the
// server did the work, only the answer is delayed or lost); ShortResults
// accepts only the events it answers for; Slow accepts the events after its
// delay unless the client has gone away by then.
type Fault uint8

const (
	// NoFault answers normally.
	NoFault Fault = iota
	// Status429 answers 429 with a Retry-After header (FaultParams.RetryAfter429).
	// Pangea's status is "TooManyRequests"; OpenAI's answer also carries
	// x-ratelimit-remaining-* of 0 and x-ratelimit-reset-* equal to the wait.
	Status429
	// Status500 answers 500 with the service's error body.
	Status500
	// Status503 answers 503 with the service's error body and, when
	// FaultParams.RetryAfter503 is set, a Retry-After header.
	Status503
	// Accepted202 answers 202. Pangea: the call is accepted and its result
	// is served by GET /request/{request_id} after Pangea.SetPendingPolls
	// polls. OpenAI: 202 with the body {}, which a client must treat as an
	// unexpected answer.
	Accepted202
	// Slow waits FaultParams.SlowDelay, then answers normally.
	Slow
	// Timeout never answers: the handler waits until the client goes away or
	// the fake is closed, and sends nothing.
	Timeout
	// Drop closes the connection without sending a response.
	Drop
	// DropMidStream sends part of the answer, then closes the connection: a
	// streamed chat answer is cut after FaultParams.StreamChunks events, any
	// other answer after its headers and half of its body.
	DropMidStream
	// Malformed answers 200 (Pangea /v2/log_async: 202) with a truncated,
	// unparsable JSON body; a streamed chat answer gets an event whose data is
	// truncated JSON.
	Malformed
	// ShortResults (Pangea /v2/log and /v2/log_async) accepts and answers for
	// every event of the call but the last one: the answer lists fewer
	// results than events, and the event without a result is not recorded.
	// On other endpoints it answers normally.
	ShortResults
)

var faultNames = [...]string{
	NoFault:       "NoFault",
	Status429:     "Status429",
	Status500:     "Status500",
	Status503:     "Status503",
	Accepted202:   "Accepted202",
	Slow:          "Slow",
	Timeout:       "Timeout",
	Drop:          "Drop",
	DropMidStream: "DropMidStream",
	Malformed:     "Malformed",
	ShortResults:  "ShortResults",
}

// String returns the fault's constant name, such as "Status429".
func (f Fault) String() string {
	if int(f) < len(faultNames) {
		return faultNames[f]
	}
	return fmt.Sprintf("Fault(%d)", uint8(f))
}

// rejectsEarly reports whether the fault answers before any work is done.
func (f Fault) rejectsEarly() bool {
	switch f {
	case Status429, Status500, Status503, Drop, Timeout:
		return true
	}
	return false
}

// FaultParams are the parameters of the faults. The fakes start with
// DefaultFaultParams; Server.SetFaultParams replaces them.
type FaultParams struct {
	// RetryAfter429 is sent as Retry-After with Status429, in whole seconds
	// rounded up (zero sends "0").
	RetryAfter429 time.Duration
	// RetryAfter503 is sent as Retry-After with Status503, in whole seconds
	// rounded up; zero sends no Retry-After.
	RetryAfter503 time.Duration
	// SlowDelay is how long Slow waits before answering.
	SlowDelay time.Duration
	// StreamChunks is how many server-sent events DropMidStream sends before
	// it closes a streamed answer. The cut always happens before the final
	// chunk, so a stream never looks complete.
	StreamChunks int
}

// DefaultFaultParams returns the parameters the fakes start with:
// Retry-After 1s on 429, none on 503, a 1s Slow delay, and 2 streamed events
// before DropMidStream cuts a stream.
func DefaultFaultParams() FaultParams {
	return FaultParams{RetryAfter429: time.Second, SlowDelay: time.Second, StreamChunks: 2}
}

// Call describes a request to the fault policy. It is built after the body
// is read and parsed, before the fake does any work for it; fields the fake
// could not parse are zero.
type Call struct {
	// Method and Path are the request's method and URL path, such as
	// "POST" and "/v2/log" or "/v1/chat/completions".
	Method, Path string
	// Seq is the 1-based arrival order of this call among those the fake
	// asked its policy about.
	Seq int64
	// Events are the events of a Pangea log call, as received. The policy
	// must not modify them.
	Events []map[string]any
	// Model is the model an OpenAI request names.
	Model string
	// Stream reports whether an OpenAI chat request asked for a stream.
	Stream bool
	// Prompt is the last user message of an OpenAI chat request, or the
	// first input of an embeddings request.
	Prompt string
}

// FaultPolicy chooses the fault of each call. It is called concurrently and
// must be safe for that; the policies of this package are.
type FaultPolicy func(Call) Fault

// Always returns a policy that gives every call the fault f.
func Always(f Fault) FaultPolicy {
	return func(Call) Fault { return f }
}

// FailFirst returns a policy that gives the first n calls it sees the fault
// f, and answers the others normally.
func FailFirst(n int, f Fault) FaultPolicy {
	var seen atomic.Int64
	return func(Call) Fault {
		if seen.Add(1) <= int64(n) {
			return f
		}
		return NoFault
	}
}

// Sequence returns a policy that gives the i-th call it sees faults[i] and
// answers every call after the list normally.
func Sequence(faults ...Fault) FaultPolicy {
	faults = slices.Clone(faults)
	var seen atomic.Int64
	return func(Call) Fault {
		if i := seen.Add(1) - 1; i < int64(len(faults)) {
			return faults[i]
		}
		return NoFault
	}
}

// FailRandom returns a policy that fails a fraction p of the calls with a
// fault drawn uniformly from mix, using a math/rand/v2 PCG generator seeded
// with seed. Given the same order of calls, the same seed gives the same
// faults. An empty mix means Status500.
func FailRandom(seed uint64, p float64, mix ...Fault) FaultPolicy {
	if len(mix) == 0 {
		mix = []Fault{Status500}
	} else {
		mix = slices.Clone(mix)
	}
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return func(Call) Fault {
		mu.Lock()
		defer mu.Unlock()
		if rng.Float64() >= p {
			return NoFault
		}
		return mix[rng.IntN(len(mix))]
	}
}

// OnPaths returns a policy that consults policy only for calls to one of
// paths (exact URL paths such as "/v2/log") and answers all other calls
// normally. Calls to other paths do not advance policy's counters.
func OnPaths(policy FaultPolicy, paths ...string) FaultPolicy {
	paths = slices.Clone(paths)
	return func(c Call) Fault {
		if slices.Contains(paths, c.Path) {
			return policy(c)
		}
		return NoFault
	}
}

// Combine returns a policy that consults policies in order and gives the
// call the first fault other than NoFault; the policies after it are not
// consulted for that call.
func Combine(policies ...FaultPolicy) FaultPolicy {
	policies = slices.Clone(policies)
	return func(c Call) Fault {
		for _, p := range policies {
			if f := p(c); f != NoFault {
				return f
			}
		}
		return NoFault
	}
}

// retryAfterSeconds formats d as a Retry-After value: whole seconds,
// rounded up.
func retryAfterSeconds(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return fmt.Sprint(int64((d + time.Second - 1) / time.Second))
}
