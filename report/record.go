// Package report is the model of a run's results — one Record per (item,
// model) — with the JSONL writer and reader, and the converters that turn
// records into summaries and other formats.
package report

import (
	"time"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/checks"
)

// Statuses of a record.
const (
	// Pass: the answer passed every check.
	Pass = "pass"
	// Fail: the answer failed at least one check.
	Fail = "fail"
	// Error: the item could not complete; Error says why.
	Error = "error"
	// Audited: the item was recorded in the audit log (backfill).
	Audited = "audited"
)

// Record is one report line: what was asked, what came back, how it was
// audited and judged.
type Record struct {
	// Index is the line's position in the whole run (0-based), counting
	// every (item, model, repeat) of every suite given, before any filter
	// or shard: shard reports merge back by it.
	Index int `json:"index"`
	// ID is the item's id within its suite.
	ID string `json:"id"`
	// Suite is the suite's name.
	Suite string `json:"suite"`
	// Model is the model the prompt went to.
	Model string `json:"model,omitempty"`
	// Repeat numbers the runs of an item from 1 when --repeat asks for
	// more than one; 0 otherwise.
	Repeat int `json:"repeat,omitempty"`
	// Prompt is the user message as sent.
	Prompt string `json:"prompt"`
	// ContextSHA256 identifies the context that was sent (hex); empty when
	// there was none.
	ContextSHA256 string `json:"context_sha256,omitempty"`
	// Answer is the model's answer.
	Answer string `json:"answer,omitempty"`
	// Status is pass, fail, error or audited.
	Status string `json:"status"`
	// Error says why an item has status error.
	Error string `json:"error,omitempty"`
	// Checks are the results of the item's checks, in suite order.
	Checks []checks.Result `json:"checks,omitempty"`
	// Audit holds the receipts of the audit events.
	Audit Audit `json:"audit"`
	// Usage counts the tokens of the model call.
	Usage *Usage `json:"usage,omitempty"`
	// LatencyMS is the duration of the successful model call.
	LatencyMS int64 `json:"latency_ms"`
	// Attempts counts the model calls made, retries included.
	Attempts int `json:"attempts"`
	// StartedAt is when the item started.
	StartedAt Time `json:"started_at"`
	// Tags and Metadata are the item's labels.
	Tags     []string       `json:"tags,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
	// File and Line locate the item in its suite.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// Regression compares the record with the same item of a baseline
	// report (run --baseline); nil otherwise.
	Regression *Regression `json:"regression,omitempty"`
}

// Audit holds the receipts of an item's audit events.
type Audit struct {
	// Input is the receipt of the event that recorded the context and
	// prompt before they were sent.
	Input *audit.Receipt `json:"input,omitempty"`
	// Output is the receipt of the event that recorded the answer
	// (--audit-responses).
	Output *audit.Receipt `json:"output,omitempty"`
}

// Usage counts tokens.
type Usage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
}

// Time is a time written as RFC 3339 UTC with milliseconds:
// 2026-12-04T19:40:00.123Z.
type Time struct{ time.Time }

// TimeFormat is the layout of Time.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// MarshalJSON writes the time in TimeFormat, UTC.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte(`""`), nil
	}
	b := make([]byte, 0, len(TimeFormat)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, TimeFormat)
	return append(b, '"'), nil
}

// UnmarshalJSON reads any RFC 3339 time, or "".
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == `""` || string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	return t.Time.UnmarshalJSON(b)
}
