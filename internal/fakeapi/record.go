package fakeapi

import (
	"encoding/json"
	"math/rand/v2"
	"time"
)

// AuditEvent is an event the fake Pangea accepted.
type AuditEvent struct {
	// Event is the event object as received (JSON numbers are float64).
	Event map[string]any
	// Canonical is the event's canonical JSON (keys sorted, as Go's
	// json.Marshal writes a map): two events are identical when their
	// Canonical forms are.
	Canonical string
	// Hash is the hash Pangea returned for the event (64 hex): the SHA-256
	// of its canonical envelope.
	Hash string
	// Index is the event's leaf index in the Merkle tree.
	Index int
	// RequestID is the request_id of the call that carried the event.
	RequestID string
	// Signature and PublicKey are the client signature and its key, or ""
	// when the call did not send them.
	Signature, PublicKey string
	// Async reports that the event came through /v2/log_async.
	Async bool
	// ReceivedAt is the envelope's received_at.
	ReceivedAt time.Time
}

// AuditRequest is a request the fake Pangea received.
type AuditRequest struct {
	// Method and Path are the request's method and URL path.
	Method, Path string
	// RequestID is the request_id of the answer; for GET /request/{id} it
	// is the polled ID.
	RequestID string
	// Status is the HTTP status code sent, or 0 when no response was sent
	// (Drop, Timeout, or the client went away first).
	Status int
	// Events is the number of events the request carried, valid or not.
	Events int
	// Accepted is the number of those events the fake accepted.
	Accepted int
	// ConfigID is the config_id sent, or "".
	ConfigID string
	// Verbose is the verbose flag sent.
	Verbose bool
	// Fault is the fault the policy chose for the request.
	Fault Fault
	// Time is when the request arrived (after latency).
	Time time.Time
}

// Message is one message of a chat request.
type Message struct {
	// Role is "system", "developer", "user", "assistant" or "tool".
	Role string
	// Content is the message text; the text parts of a multi-part content
	// are joined without separator.
	Content string
}

// ChatRequest is a chat completion request the fake OpenAI received.
type ChatRequest struct {
	// ID is the chat completion ID the fake gave the answer ("chatcmpl-...").
	ID string
	// Model is the requested model.
	Model string
	// Messages are the messages sent.
	Messages []Message
	// Params are every other top-level field of the request body (stream,
	// temperature, max_tokens, seed, ...) as raw JSON.
	Params map[string]json.RawMessage
	// Stream reports whether the request asked for a stream.
	Stream bool
	// Answer is the text the fake answered, in full even when a fault cut
	// its delivery; "" when the request got no answer (an error status, or
	// a fault that answers before the model).
	Answer string
	// FinishReason is "stop", or "length" when max_tokens cut the answer.
	FinishReason string
	// Usage is the token usage the fake reported.
	Usage Usage
	// Status is the HTTP status code sent, or 0 when no response was sent.
	Status int
	// Fault is the fault the policy chose for the request.
	Fault Fault
	// Time is when the request arrived (after latency).
	Time time.Time
}

// Prompt returns the content of the last user message, or "".
func (c ChatRequest) Prompt() string {
	for i := len(c.Messages) - 1; i >= 0; i-- {
		if c.Messages[i].Role == "user" {
			return c.Messages[i].Content
		}
	}
	return ""
}

// System returns the contents of the system and developer messages, joined
// with newlines.
func (c ChatRequest) System() string {
	var s string
	n := 0
	for _, m := range c.Messages {
		if m.Role == "system" || m.Role == "developer" {
			if n > 0 {
				s += "\n"
			}
			s += m.Content
			n++
		}
	}
	return s
}

// Usage is the token usage of an answer, as EstimateTokens counts.
type Usage struct {
	// PromptTokens is the sum of the estimates of the messages' contents.
	PromptTokens int
	// CompletionTokens is the estimate of the answer.
	CompletionTokens int
	// TotalTokens is PromptTokens + CompletionTokens.
	TotalTokens int
}

// EmbeddingRequest is an embeddings request the fake OpenAI received.
type EmbeddingRequest struct {
	// Model is the requested model.
	Model string
	// Inputs are the texts to embed.
	Inputs []string
	// Dimensions is the vector size answered.
	Dimensions int
	// Status is the HTTP status code sent, or 0 when no response was sent.
	Status int
	// Fault is the fault the policy chose for the request.
	Fault Fault
	// Time is when the request arrived (after latency).
	Time time.Time
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomID returns prefix followed by n random lowercase letters and digits.
func randomID(prefix string, n int) string {
	b := make([]byte, len(prefix)+n)
	copy(b, prefix)
	for i := len(prefix); i < len(b); i++ {
		b[i] = idAlphabet[rand.IntN(len(idAlphabet))]
	}
	return string(b)
}
