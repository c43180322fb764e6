package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	sdk "github.com/pangeacyber/pangea-go/pangea-sdk/v4/service/audit"
)

// MaxBatch is the most events one /v2/log call may carry (Pangea's limit).
const MaxBatch = 1000

// Receipt proves that Secure Audit Log accepted an event.
type Receipt struct {
	// Hash is the event's hash as Pangea computed it (64 hex): the audit ID.
	// It is empty only for a pending receipt.
	Hash string `json:"hash,omitempty"`
	// RequestID identifies the call that carried the event.
	RequestID string `json:"request_id"`
	// Pending is set for an event accepted by /v2/log_async and not yet
	// hashed: RequestID is the handle to look it up.
	Pending bool `json:"pending,omitempty"`
	// Proof holds the verification of the receipt when proofs were asked
	// for (Config.Verbose), else nil.
	Proof *Proof `json:"proof,omitempty"`
}

// Outcome is what became of one event of a bulk call: a receipt, or the
// reason there is none.
type Outcome struct {
	Receipt Receipt
	Err     error
}

// RejectedError is Pangea's refusal of one event; the other events of its
// call are unaffected.
type RejectedError struct {
	// Fields are the validation errors that name this event.
	Fields []FieldError
	// RequestID is the call that was refused.
	RequestID string
}

func (e *RejectedError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		field := f.Source
		if _, rest, ok := strings.Cut(strings.TrimPrefix(f.Source, "/events/"), "/"); ok {
			field = strings.TrimPrefix(rest, "event/")
		}
		parts[i] = fmt.Sprintf("field %s: %s: %s", field, f.Code, strings.TrimSuffix(f.Detail, "."))
	}
	msg := "Pangea rejected the event: " + strings.Join(parts, "; ")
	if e.RequestID != "" {
		msg += " (request_id " + e.RequestID + ")"
	}
	return msg
}

// ErrNoReceipt is the error of an event that Pangea's answer did not cover:
// the answer listed fewer results than events sent. No receipt is made up.
var ErrNoReceipt = errors.New("the answer from Pangea has no result for this event")

// LogBulk records events with /v2/log, at most MaxBatch per call, and returns
// one outcome per event, in order. An event gets a receipt only if Pangea's
// answer has a result for it with a valid hash. An event that Pangea rejects
// gets its RejectedError and the others are sent again without it.
func (c *Client) LogBulk(ctx context.Context, events []Event) []Outcome {
	return c.logBulk(ctx, "v2/log", events)
}

// LogBulkAsync records events with /v2/log_async: Pangea accepts them and
// hashes them later, so each receipt is Pending and carries only the
// request ID.
func (c *Client) LogBulkAsync(ctx context.Context, events []Event) []Outcome {
	return c.logBulk(ctx, "v2/log_async", events)
}

func (c *Client) logBulk(ctx context.Context, path string, events []Event) []Outcome {
	out := make([]Outcome, len(events))
	for start := 0; start < len(events); start += MaxBatch {
		end := min(start+MaxBatch, len(events))
		idx := make([]int, end-start)
		for i := range idx {
			idx[i] = start + i
		}
		c.send(ctx, path, events, idx, out)
	}
	return out
}

// send records events[idx...] in one call and fills their outcomes. A 400
// that names events fails those and sends the rest again; one that names
// none is narrowed down by halving the batch.
func (c *Client) send(ctx context.Context, path string, events []Event, idx []int, out []Outcome) {
	body, err := c.bulkBody(events, idx)
	if err != nil {
		for _, i := range idx {
			out[i].Err = err
		}
		return
	}
	async := path == "v2/log_async"
	res, err := c.call(ctx, http.MethodPost, path, body, !async)
	var api *APIError
	if errors.As(err, &api) && api.HTTPStatus == http.StatusBadRequest && !api.Fatal() {
		bad := map[int][]FieldError{}
		attributed := len(api.Fields) > 0
		for _, f := range api.Fields {
			n, ok := eventIndex(f.Source)
			if !ok || n >= len(idx) {
				attributed = false
				break
			}
			bad[n] = append(bad[n], f)
		}
		switch {
		case attributed:
			var rest []int
			for n, i := range idx {
				if fs, ok := bad[n]; ok {
					out[i].Err = &RejectedError{Fields: fs, RequestID: api.RequestID}
				} else {
					rest = append(rest, i)
				}
			}
			if len(rest) > 0 {
				c.send(ctx, path, events, rest, out)
			}
			return
		case len(idx) > 1:
			half := len(idx) / 2
			c.send(ctx, path, events, idx[:half], out)
			c.send(ctx, path, events, idx[half:], out)
			return
		}
	}
	if err != nil {
		for _, i := range idx {
			out[i].Err = err
		}
		return
	}
	if async {
		for _, i := range idx {
			out[i].Receipt = Receipt{RequestID: res.RequestID, Pending: true}
		}
		return
	}
	var result sdk.LogBulkResult
	if err := json.Unmarshal(res.Result, &result); err != nil {
		err = fmt.Errorf("the answer from Pangea (request_id %s) has unreadable results: %w", res.RequestID, err)
		for _, i := range idx {
			out[i].Err = err
		}
		return
	}
	var chain proofChain
	for n, i := range idx {
		if n >= len(result.Results) {
			out[i].Err = fmt.Errorf("%w (request_id %s: %d results for %d events)", ErrNoReceipt, res.RequestID, len(result.Results), len(idx))
			continue
		}
		r := &result.Results[n]
		if !validHash(r.Hash) {
			out[i].Err = fmt.Errorf("the answer from Pangea (request_id %s) has no valid hash for this event (got %q)", res.RequestID, truncate(r.Hash, 80))
			continue
		}
		out[i].Receipt = Receipt{Hash: r.Hash, RequestID: res.RequestID}
		if c.cfg.Verbose {
			out[i].Receipt.Proof = c.verify(events[i], r, &chain)
		}
	}
}

// bulkBody encodes the request for events[idx...], signing each event when
// a signer is configured.
func (c *Client) bulkBody(events []Event, idx []int) ([]byte, error) {
	req := sdk.LogBulkRequest{Events: make([]*sdk.LogEvent, len(idx)), Verbose: c.cfg.Verbose}
	req.ConfigID = c.cfg.ConfigID
	for n, i := range idx {
		le := &sdk.LogEvent{Event: events[i].wire()}
		if c.cfg.Signer != nil {
			if err := c.cfg.Signer.sign(le); err != nil {
				return nil, fmt.Errorf("signing event: %w", err)
			}
		}
		req.Events[n] = le
	}
	body, err := json.Marshal(&req)
	if err != nil {
		return nil, fmt.Errorf("encoding events: %w", err)
	}
	return body, nil
}

// eventIndex reads N from a JSON pointer /events/N/….
func eventIndex(source string) (int, bool) {
	rest, ok := strings.CutPrefix(source, "/events/")
	if !ok {
		return 0, false
	}
	num, _, _ := strings.Cut(rest, "/")
	n, err := strconv.Atoi(num)
	return n, err == nil && n >= 0
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
