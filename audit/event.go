// Package audit records prompts and answers in Pangea Secure Audit Log:
// it builds the events (canonical JSON, as Pangea's own examples log them),
// sends them in bulk over one pooled connection set, follows 202s, retries
// what can be retried, isolates what Pangea rejects, and hands every caller
// the receipt of its own event.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Event is one Secure Audit Log event: the object sent as "event". Which
// fields are set depends on the schema (see Format); empty fields are not
// sent.
type Event struct {
	// The AI Audit Log Schema fields, as Pangea's input- and
	// response-tracing examples log them.
	EventType   string `json:"event_type,omitempty"`
	EventTools  string `json:"event_tools,omitempty"`
	EventInput  string `json:"event_input,omitempty"`
	EventOutput string `json:"event_output,omitempty"`

	// The Standard schema fields.
	Message string `json:"message,omitempty"`
	Action  string `json:"action,omitempty"`
	Source  string `json:"source,omitempty"`
	Target  string `json:"target,omitempty"`
	Status  string `json:"status,omitempty"`

	// Fields both schemas have: who and when (backfill).
	Actor     string `json:"actor,omitempty"`
	Timestamp string `json:"timestamp,omitempty"`
}

// wire returns the event as it goes on the wire: the event itself, except
// that an event of the Standard schema (one with an action) always carries
// message, which that schema requires, even when the text it records is
// empty (an empty answer). Encode wire(), not the event, wherever the JSON
// must be what Pangea receives: the request, its signature, proof checks.
func (e Event) wire() any {
	if e.Action == "" || e.Message != "" {
		return e
	}
	return struct {
		Event
		Message string `json:"message"` // hides Event.Message, omitempty
	}{Event: e}
}

// Fields calls yield with each non-empty field of the event, by name, as
// it is sent; it allocates nothing (the preflight calls it for every item).
func (e Event) Fields(yield func(name, value string) bool) {
	for _, f := range [...]struct{ name, value string }{
		{"event_type", e.EventType}, {"event_tools", e.EventTools}, {"event_input", e.EventInput},
		{"event_output", e.EventOutput}, {"message", e.Message}, {"action", e.Action},
		{"source", e.Source}, {"target", e.Target}, {"status", e.Status},
		{"actor", e.Actor}, {"timestamp", e.Timestamp},
	} {
		if f.value != "" && !yield(f.name, f.value) {
			return
		}
	}
}

// Event types, as Pangea's tracing examples name them.
const (
	TypeInput  = "inference:user_prompt"
	TypeOutput = "inference:response"
)

// Schema is the shape of the events: the AI Audit Log Schema's fields, or
// the Standard schema's.
type Schema int

const (
	// AISchema sends event_type, event_tools, event_input and event_output,
	// exactly as the original input-tracing example does.
	AISchema Schema = iota
	// StandardSchema maps the same information onto message, action,
	// source, target and status.
	StandardSchema
)

// ParseSchema reads "ai" or "standard".
func ParseSchema(s string) (Schema, error) {
	switch s {
	case "ai", "":
		return AISchema, nil
	case "standard":
		return StandardSchema, nil
	}
	return 0, fmt.Errorf("unknown audit schema %q: use ai or standard", s)
}

func (s Schema) String() string {
	if s == StandardSchema {
		return "standard"
	}
	return "ai"
}

// ContextMode says how a context is recorded in an input event.
type ContextMode int

const (
	// FullContext records the context's text.
	FullContext ContextMode = iota
	// HashContext records the context's SHA-256 and length instead, for
	// contexts larger than the audit field allows.
	HashContext
)

// ParseContextMode reads "full" or "sha256".
func ParseContextMode(s string) (ContextMode, error) {
	switch s {
	case "full", "":
		return FullContext, nil
	case "sha256":
		return HashContext, nil
	}
	return 0, fmt.Errorf("unknown audit context mode %q: use full or sha256", s)
}

// Format builds events. The zero Format builds what the original example
// logs: AI schema, full context, tools "OpenAI".
type Format struct {
	// Schema is the event shape.
	Schema Schema
	// Context says whether contexts are recorded whole or by hash.
	Context ContextMode
	// Tools names the model API in event_tools (AI) or source (Standard);
	// "" means "OpenAI", as in the original example.
	Tools string
}

// Meta is what an event may say besides the text: the model it went to, the
// item it belongs to, and for historical exchanges who and when.
type Meta struct {
	// Model is the model the text was sent to or came from (Standard schema:
	// the target).
	Model string
	// Actor is who sent the prompt, when known (backfill).
	Actor string
	// Time is when the exchange happened, when known (backfill); zero means
	// "now", which Pangea records itself.
	Time time.Time
}

func (f Format) tools() string {
	if f.Tools == "" {
		return "OpenAI"
	}
	return f.Tools
}

// Input builds the event that records a context and a prompt before they are
// sent. Under the AI schema it is exactly the original example's event:
//
//	{"event_type": "inference:user_prompt", "event_tools": "OpenAI",
//	 "event_input": "{\"context\":\"…\",\"prompt\":\"…\"}"}
//
// with event_input the canonical JSON of the context and prompt (see
// Canonical). With HashContext, event_input carries context_sha256 and
// context_length in place of the context. The error is for text that is not
// valid UTF-8.
func (f Format) Input(context, prompt string, m Meta) (Event, error) {
	// The canonical JSON of {"context": …, "prompt": …} (or its hashed
	// form), written directly: keys in sorted order, one allocation. The
	// test vectors check it against Canonical and Python.
	b := make([]byte, 0, len(context)+len(prompt)+64)
	var err error
	if f.Context == HashContext {
		sum := sha256.Sum256([]byte(context))
		b = append(b, `{"context_length":`...)
		b = strconv.AppendInt(b, int64(len(context)), 10)
		b = append(b, `,"context_sha256":"`...)
		b = hex.AppendEncode(b, sum[:])
		b = append(b, `","prompt":`...)
	} else {
		b = append(b, `{"context":`...)
		if b, err = appendString(b, context); err != nil {
			return Event{}, fmt.Errorf("audit input event: %w", err)
		}
		b = append(b, `,"prompt":`...)
	}
	if b, err = appendString(b, prompt); err != nil {
		return Event{}, fmt.Errorf("audit input event: %w", err)
	}
	b = append(b, '}')
	return f.event(TypeInput, string(b), "", m), nil
}

// Output builds the event that records an answer, as Pangea's
// response-tracing example does: event_type "inference:response" and the
// answer in event_output.
func (f Format) Output(answer string, m Meta) Event {
	return f.event(TypeOutput, "", answer, m)
}

func (f Format) event(typ, input, output string, m Meta) Event {
	e := Event{Actor: m.Actor}
	if !m.Time.IsZero() {
		e.Timestamp = m.Time.UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	if f.Schema == StandardSchema {
		e.Action = typ
		e.Source = f.tools()
		e.Target = m.Model
		e.Message = input
		if typ == TypeOutput {
			e.Message = output
			e.Status = "success"
		}
		return e
	}
	e.EventType = typ
	e.EventTools = f.tools()
	e.EventInput = input
	e.EventOutput = output
	return e
}
