package fakeapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// MaxBulkEvents is the most events one /v2/log or /v2/log_async call may
// carry; Pangea answers 400 AboveMaxItems beyond it.
const MaxBulkEvents = 1000

const (
	// maxPangeaBody bounds the body of a Pangea request.
	maxPangeaBody = 256 << 20

	// acceptedTTLMinutes is the ttl_mins of an accepted request.
	acceptedTTLMinutes = 60

	// rootSearchDepth bounds how far back /v1/log looks for prev_root.
	rootSearchDepth = 1024

	pangeaTimeLayout   = "2006-01-02T15:04:05.000Z07:00"
	receivedAtLayout   = "2006-01-02T15:04:05.000000Z"
	validationSummary  = "There was %d error(s) in the given payload. Please check the errors field for more details"
	maxSignatureLength = 256
)

// Pangea is a fake Pangea Secure Audit Log service. It serves POST /v1/log,
// /v2/log, /v2/log_async and /v1/schema and GET /request/{request_id} with
// Pangea's wire format: the response envelope, validation against the
// configured schema (AISchema by default), event hashes over the canonical
// envelope, and a Merkle tree with membership and consistency proofs in the
// Go SDK's format. It records what it accepts; see Events, Requests and
// AcceptCounts.
type Pangea struct {
	*Server

	token           string
	schema          atomic.Pointer[compiledSchema]
	schemaForbidden atomic.Bool
	rejector        atomic.Pointer[Rejector]
	pendingPolls    atomic.Int64

	mu       sync.Mutex // guards the fields below
	tree     merkleTree
	events   []AuditEvent
	accepts  map[string]int // canonical event -> times accepted
	accepted int
	maxBatch int
	requests []AuditRequest
	pending  map[string]*pendingResult
}

// pendingResult is the stored answer of an accepted (202) request.
type pendingResult struct {
	body      []byte // the complete 200 response
	pollsLeft int64
	retries   int
}

// NewPangea returns a fake Pangea that accepts the bearer token token. It
// does not serve until Start, StartOn, or Handler mounted on a server.
// Close it when done.
func NewPangea(token string) *Pangea {
	p := &Pangea{
		token:   token,
		accepts: make(map[string]int),
		pending: make(map[string]*pendingResult),
	}
	p.Server = newServer(http.HandlerFunc(p.route))
	if err := p.SetSchema(AISchema()); err != nil {
		panic(err) // the built-in schema is valid
	}
	return p
}

// StartPangea returns a started fake Pangea that accepts the bearer token
// token and is closed when the test ends. The Go SDK reaches it with
// Config{Domain: p.URL(), Token: token}.
func StartPangea(t testing.TB, token string) *Pangea {
	t.Helper()
	p := NewPangea(token)
	p.Start()
	t.Cleanup(p.Close)
	return p
}

// SetSchema sets the schema that events are validated against and that
// /v1/schema answers. It fails if two fields share an ID or one has none.
func (p *Pangea) SetSchema(s Schema) error {
	c, err := compile(s)
	if err != nil {
		return err
	}
	p.schema.Store(c)
	return nil
}

// SetSchemaForbidden makes /v1/schema answer 403 "Forbidden", as Pangea
// does when the token lacks the permission to read the configuration.
func (p *Pangea) SetSchemaForbidden(forbidden bool) {
	p.schemaForbidden.Store(forbidden)
}

// SetRejector installs r to refuse chosen events (see Rejector); nil
// removes it.
func (p *Pangea) SetRejector(r Rejector) {
	if r == nil {
		p.rejector.Store(nil)
		return
	}
	p.rejector.Store(&r)
}

// SetPendingPolls sets how many times GET /request/{request_id} answers 202
// for an accepted request (Accepted202 or /v2/log_async) before it answers
// 200 with the result. The default, 0, answers the first poll with the
// result. It applies to requests accepted afterwards.
func (p *Pangea) SetPendingPolls(n int) {
	p.pendingPolls.Store(int64(n))
}

// Events returns the accepted events in acceptance order (empty under
// RetainCounts). The event maps are shared with the fake: read them only.
func (p *Pangea) Events() []AuditEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.events)
}

// EventsByHash returns the accepted events by hash.
func (p *Pangea) EventsByHash() map[string]AuditEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := make(map[string]AuditEvent, len(p.events))
	for _, e := range p.events {
		m[e.Hash] = e
	}
	return m
}

// AcceptCounts returns how many times each distinct event was accepted,
// keyed by its canonical JSON (AuditEvent.Canonical). "Each event accepted
// exactly once" means every count is 1.
func (p *Pangea) AcceptCounts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.accepts)
}

// Duplicates returns the events accepted more than once, by canonical JSON,
// with their counts; it is empty when every event was accepted once.
func (p *Pangea) Duplicates() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := make(map[string]int)
	for k, n := range p.accepts {
		if n > 1 {
			d[k] = n
		}
	}
	return d
}

// TimesAccepted returns how many times event was accepted. event is any
// value that encodes to the event's JSON object (a map or a struct); it is
// compared in canonical form. It returns 0 for a value that does not encode
// to a JSON object.
func (p *Pangea) TimesAccepted(event any) int {
	canon, err := Canonical(event)
	if err != nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepts[string(canon)]
}

// EventCount returns the number of events accepted (kept under any
// Retention).
func (p *Pangea) EventCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// MaxBatch returns the largest number of events one log call carried, valid
// or not (kept under any Retention).
func (p *Pangea) MaxBatch() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxBatch
}

// Requests returns the requests received, in arrival order (empty under
// RetainCounts). A request still being handled has Status 0.
func (p *Pangea) Requests() []AuditRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.requests)
}

// TreeSize returns the number of leaves of the Merkle tree: the number of
// events accepted.
func (p *Pangea) TreeSize() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tree.size()
}

// Root returns the current unpublished root (64 hex), or "" while the tree
// is empty.
func (p *Pangea) Root() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tree.size() == 0 {
		return ""
	}
	return hex.EncodeToString(p.tree.view(p.tree.size()).root())
}

// Canonical returns the canonical JSON of an event, the way the Pangea Go
// SDK canonicalizes (VerifyHash): v is encoded to JSON, decoded into a
// map[string]any and encoded again, so keys are sorted. v must encode to a
// JSON object.
func Canonical(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("fakeapi: encoding event: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("fakeapi: event is not a JSON object: %w", err)
	}
	b, err = json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("fakeapi: encoding event: %w", err)
	}
	return b, nil
}

// envelope is Pangea's response envelope (pangea-response).
type envelope struct {
	RequestID    string `json:"request_id"`
	RequestTime  string `json:"request_time"`
	ResponseTime string `json:"response_time"`
	Status       string `json:"status"`
	Summary      string `json:"summary"`
	Result       any    `json:"result"`
}

// acceptedResult is the result of a 202 answer (AcceptedResponseResult).
type acceptedResult struct {
	TTLMins      int    `json:"ttl_mins"`
	RetryCounter int    `json:"retry_counter"`
	Location     string `json:"location"`
}

// logResult is one result of a log call (AuditLogResponse).
type logResult struct {
	Envelope         json.RawMessage `json:"envelope,omitempty"`
	Hash             string          `json:"hash"`
	UnpublishedRoot  string          `json:"unpublished_root,omitempty"`
	MembershipProof  string          `json:"membership_proof,omitempty"`
	ConsistencyProof []string        `json:"consistency_proof,omitempty"`
}

// bulkResult is the result of /v2/log.
type bulkResult struct {
	Results []logResult `json:"results"`
}

// validationResult is the result of a 400 answer.
type validationResult struct {
	Errors []ValidationError `json:"errors"`
}

// endpoint identifies a Pangea POST endpoint.
type endpoint int

const (
	logV1 endpoint = iota
	logV2
	logAsync
	schemaV1
)

// route dispatches a request to its endpoint.
func (p *Pangea) route(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case r.Method == http.MethodPost && path == "/v1/log":
		p.servePost(w, r, logV1)
	case r.Method == http.MethodPost && path == "/v2/log":
		p.servePost(w, r, logV2)
	case r.Method == http.MethodPost && path == "/v2/log_async":
		p.servePost(w, r, logAsync)
	case r.Method == http.MethodPost && path == "/v1/schema":
		p.servePost(w, r, schemaV1)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/request/") && len(path) > len("/request/"):
		p.servePoll(w, r, strings.TrimPrefix(path, "/request/"))
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxPangeaBody))
		start := time.Now()
		rid := randomID("prq_", 32)
		p.addRequest(AuditRequest{Method: r.Method, Path: path, RequestID: rid, Status: http.StatusNotFound, Time: start})
		p.reply(w, http.StatusNotFound, p.envelope(rid, start, "NotFound", fmt.Sprintf("Not found: %s %s", r.Method, path), nil), NoFault)
	}
}

// logCall is a parsed log request.
type logCall struct {
	configID string
	verbose  bool
	prevRoot string
	events   int // events sent, valid or not
	items    []logItem
}

// logItem is one event of a log request.
type logItem struct {
	index     int // position in the request; -1 for /v1/log
	event     map[string]any
	signature *string
	publicKey *string
	err       *ValidationError // structural error of the item
}

// servePost handles the POST endpoints.
func (p *Pangea) servePost(w http.ResponseWriter, r *http.Request, ep endpoint) {
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPangeaBody))
	start := time.Now()
	rid := randomID("prq_", 32)
	rec := AuditRequest{Method: r.Method, Path: r.URL.Path, RequestID: rid, Time: start}
	if !p.authorized(r) {
		rec.Status = http.StatusUnauthorized
		p.addRequest(rec)
		p.reply(w, http.StatusUnauthorized, p.envelope(rid, start, "Unauthorized", "Not authorized to access this resource", nil), NoFault)
		return
	}

	var call logCall
	var errs []ValidationError
	switch {
	case readErr != nil:
		errs = []ValidationError{{Code: "IsTooBig", Detail: fmt.Sprintf("request body unreadable: %v", readErr), Source: "/"}}
	case ep == logV1:
		call, errs = parseSingle(body)
	case ep == logV2 || ep == logAsync:
		call, errs = parseBulk(body)
	default:
		call, errs = parseSchemaRequest(body)
	}
	rec.Events, rec.ConfigID, rec.Verbose = call.events, call.configID, call.verbose

	c := Call{Method: r.Method, Path: r.URL.Path}
	if len(call.items) > 0 {
		c.Events = make([]map[string]any, len(call.items))
		for i, it := range call.items {
			c.Events[i] = it.event
		}
	}
	fault := p.decide(c)
	rec.Fault = fault
	idx := p.addRequest(rec)

	status, accepted := p.answerPost(w, r, ep, rid, start, call, errs, fault)
	p.finishRequest(idx, status, accepted)
}

// answerPost does the work of a POST and answers it. It returns the status
// sent (0 for none) and the number of events accepted.
func (p *Pangea) answerPost(w http.ResponseWriter, r *http.Request, ep endpoint, rid string, start time.Time, call logCall, errs []ValidationError, fault Fault) (int, int) {
	if fault.rejectsEarly() {
		return p.failEarly(w, r, rid, start, fault), 0
	}
	if fault == Slow && !p.sleep(r.Context(), p.faultParams().SlowDelay) {
		return 0, 0
	}
	if len(errs) == 0 && ep != schemaV1 {
		errs = p.validate(call.items)
	}
	if len(errs) > 0 {
		return p.reply(w, http.StatusBadRequest, p.envelope(rid, start, "ValidationError", fmt.Sprintf(validationSummary, len(errs)), validationResult{Errors: errs}), NoFault), 0
	}

	var result any
	var summary string
	accepted := 0
	switch ep {
	case schemaV1:
		if p.schemaForbidden.Load() {
			return p.reply(w, http.StatusForbidden, p.envelope(rid, start, "Forbidden", "Token does not have permission to access this resource", nil), fault), 0
		}
		result, summary = p.schema.Load().answer, "Schema retrieved"
	case logV1:
		res := p.accept(call, rid, false, false)
		result, summary, accepted = res[0], "Logged 1 record(s)", 1
	default:
		items := call.items
		if fault == ShortResults {
			items = items[:len(items)-1]
		}
		res := p.accept(logCall{verbose: call.verbose, items: items}, rid, ep == logAsync, true)
		result, summary, accepted = bulkResult{Results: res}, fmt.Sprintf("Logged %d record(s)", len(res)), len(res)
	}

	final := p.envelope(rid, start, "Success", summary, result)
	if ep != logAsync && fault != Accepted202 {
		return p.reply(w, http.StatusOK, final, fault), accepted
	}
	body, err := json.Marshal(final)
	if err != nil {
		return p.internalError(w, rid, start, err), accepted
	}
	p.mu.Lock()
	p.pending[rid] = &pendingResult{body: body, pollsLeft: p.pendingPolls.Load()}
	p.mu.Unlock()
	return p.reply(w, http.StatusAccepted, p.acceptedEnvelope(rid, start, 0), fault), accepted
}

// servePoll handles GET /request/{id}.
func (p *Pangea) servePoll(w http.ResponseWriter, r *http.Request, id string) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxPangeaBody))
	start := time.Now()
	rec := AuditRequest{Method: r.Method, Path: r.URL.Path, RequestID: id, Time: start}
	if !p.authorized(r) {
		rec.Status = http.StatusUnauthorized
		p.addRequest(rec)
		p.reply(w, http.StatusUnauthorized, p.envelope(id, start, "Unauthorized", "Not authorized to access this resource", nil), NoFault)
		return
	}
	fault := p.decide(Call{Method: r.Method, Path: r.URL.Path})
	rec.Fault = fault
	idx := p.addRequest(rec)
	status := p.answerPoll(w, r, id, start, fault)
	p.finishRequest(idx, status, 0)
}

// answerPoll answers a poll and returns the status sent.
func (p *Pangea) answerPoll(w http.ResponseWriter, r *http.Request, id string, start time.Time, fault Fault) int {
	if fault.rejectsEarly() {
		return p.failEarly(w, r, id, start, fault)
	}
	if fault == Slow && !p.sleep(r.Context(), p.faultParams().SlowDelay) {
		return 0
	}
	p.mu.Lock()
	pr := p.pending[id]
	var body []byte
	retries := 0
	if pr != nil {
		if fault == Accepted202 || pr.pollsLeft > 0 {
			if fault != Accepted202 {
				pr.pollsLeft--
			}
			pr.retries++
			retries = pr.retries
		} else {
			body = pr.body
			if !p.keepAll() {
				delete(p.pending, id)
			}
		}
	}
	p.mu.Unlock()
	switch {
	case pr == nil:
		return p.reply(w, http.StatusNotFound, p.envelope(id, start, "NotFound", "Request "+id+" not found or expired", nil), fault)
	case body == nil:
		return p.reply(w, http.StatusAccepted, p.acceptedEnvelope(id, start, retries), fault)
	default:
		return sendJSON(w, http.StatusOK, body, fault)
	}
}

// failEarly answers with an early fault and returns the status sent.
func (p *Pangea) failEarly(w http.ResponseWriter, r *http.Request, rid string, start time.Time, fault Fault) int {
	params := p.faultParams()
	switch fault {
	case Status429:
		w.Header().Set("Retry-After", retryAfterSeconds(params.RetryAfter429))
		return p.reply(w, http.StatusTooManyRequests, p.envelope(rid, start, "TooManyRequests", "Too many requests, please try again later", nil), NoFault)
	case Status500:
		return p.reply(w, http.StatusInternalServerError, p.envelope(rid, start, "InternalError", "An internal error occurred, please try again", nil), NoFault)
	case Status503:
		if params.RetryAfter503 > 0 {
			w.Header().Set("Retry-After", retryAfterSeconds(params.RetryAfter503))
		}
		return p.reply(w, http.StatusServiceUnavailable, p.envelope(rid, start, "ServiceUnavailable", "Service temporarily unavailable, please try again later", nil), NoFault)
	case Drop:
		cut(w, false)
	case Timeout:
		p.hang(r.Context())
	}
	return 0
}

// internalError answers 500 for a failure of the fake itself.
func (p *Pangea) internalError(w http.ResponseWriter, rid string, start time.Time, err error) int {
	return p.reply(w, http.StatusInternalServerError, p.envelope(rid, start, "InternalError", "fakeapi: "+err.Error(), nil), NoFault)
}

// authorized reports whether r carries the fake's token.
func (p *Pangea) authorized(r *http.Request) bool {
	return r.Header.Get("Authorization") == "Bearer "+p.token
}

// envelope returns a response envelope.
func (p *Pangea) envelope(rid string, start time.Time, status, summary string, result any) envelope {
	return envelope{
		RequestID:    rid,
		RequestTime:  start.UTC().Format(pangeaTimeLayout),
		ResponseTime: time.Now().UTC().Format(pangeaTimeLayout),
		Status:       status,
		Summary:      summary,
		Result:       result,
	}
}

// acceptedEnvelope returns the envelope of a 202 answer.
func (p *Pangea) acceptedEnvelope(rid string, start time.Time, retries int) envelope {
	return p.envelope(rid, start, "Accepted", "Your request is in progress. Use the request_id to poll for its result",
		acceptedResult{TTLMins: acceptedTTLMinutes, RetryCounter: retries, Location: "/request/" + rid})
}

// reply encodes env and sends it with status, applying the delivery fault.
// It returns the status sent.
func (p *Pangea) reply(w http.ResponseWriter, status int, env envelope, fault Fault) int {
	body, err := json.Marshal(env)
	if err != nil {
		body = []byte(`{"status":"InternalError","summary":"fakeapi: encoding the response failed"}`)
		status = http.StatusInternalServerError
	}
	return sendJSON(w, status, body, fault)
}

// sendJSON sends a JSON body with status, applying the delivery fault:
// Malformed sends the first half of the body, DropMidStream sends the
// headers and the first half of the body, then closes the connection. It
// returns the status sent.
func sendJSON(w http.ResponseWriter, status int, body []byte, fault Fault) int {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	switch fault {
	case Malformed:
		body = body[:len(body)/2]
	case DropMidStream:
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body[:len(body)/2])
		cut(w, true)
		return status
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status
}

// addRequest records a request and returns its index, or -1 when requests
// are not kept.
func (p *Pangea) addRequest(rec AuditRequest) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.maxBatch = max(p.maxBatch, rec.Events)
	if !p.keepAll() {
		return -1
	}
	p.requests = append(p.requests, rec)
	return len(p.requests) - 1
}

// finishRequest records the outcome of the request at idx.
func (p *Pangea) finishRequest(idx, status, accepted int) {
	if idx < 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests[idx].Status = status
	p.requests[idx].Accepted = accepted
}

// validate checks the events against the schema and the rejector. It
// returns one error per bad event.
func (p *Pangea) validate(items []logItem) []ValidationError {
	schema := p.schema.Load()
	var reject Rejector
	if r := p.rejector.Load(); r != nil {
		reject = *r
	}
	var errs []ValidationError
	for _, it := range items {
		if it.err != nil {
			errs = append(errs, *it.err)
			continue
		}
		if e := schema.check(it.event); e != nil {
			errs = append(errs, *e.under(itemPointer(it.index) + "/event"))
			continue
		}
		if reject != nil {
			if field, bad := reject(it.event); bad {
				errs = append(errs, ValidationError{Code: "BadFormat", Detail: fmt.Sprintf("'%s' was rejected", field), Source: itemPointer(it.index) + "/event/" + escapePointer(field)})
			}
		}
	}
	return errs
}

// accept accepts the events of call: it hashes them, adds them to the
// Merkle tree and records them. It returns one result per event, verbose
// ones when call.verbose is set. For /v1/log (bulk false) the consistency
// proof starts from call.prevRoot when it is a recent root.
func (p *Pangea) accept(call logCall, rid string, async, bulk bool) []logResult {
	now := time.Now().UTC().Truncate(time.Microsecond)
	receivedAt, _ := json.Marshal(now.Format(receivedAtLayout)) // a string always encodes
	keep := p.keepAll()
	type prepared struct {
		canon string // kept events only
		hash  [sha256.Size]byte
	}
	prep := make([]prepared, len(call.items))
	results := make([]logResult, len(call.items))
	hasher := sha256.New()
	var buf bytes.Buffer
	for i, it := range call.items {
		canon, err := json.Marshal(it.event)
		if err != nil {
			// A decoded JSON object always encodes.
			panic(fmt.Sprintf("fakeapi: encoding a decoded event: %v", err))
		}
		buf.Reset()
		writeEnvelope(&buf, canon, it.signature, it.publicKey, receivedAt)
		hasher.Reset()
		hasher.Write(buf.Bytes())
		hasher.Sum(prep[i].hash[:0])
		results[i].Hash = hex.EncodeToString(prep[i].hash[:])
		if keep {
			prep[i].canon = string(canon)
		}
		if call.verbose {
			results[i].Envelope = bytes.Clone(buf.Bytes())
		}
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	for i, it := range call.items {
		p.tree.append(prep[i].hash)
		n := p.tree.size()
		if call.verbose {
			res := &results[i]
			v := p.tree.view(n)
			res.UnpublishedRoot = hex.EncodeToString(v.root())
			res.MembershipProof = v.membershipProof(n - 1)
			if from := p.consistencyBase(n, call.prevRoot, bulk); from > 0 {
				res.ConsistencyProof = v.consistencyProof(from)
			}
		}
		p.accepted++
		if keep {
			p.accepts[prep[i].canon]++
			ev := AuditEvent{Event: it.event, Canonical: prep[i].canon, Hash: results[i].Hash, Index: n - 1, RequestID: rid, Async: async, ReceivedAt: now}
			if it.signature != nil {
				ev.Signature = *it.signature
			}
			if it.publicKey != nil {
				ev.PublicKey = *it.publicKey
			}
			p.events = append(p.events, ev)
		}
	}
	return results
}

// consistencyBase returns the tree size a consistency proof for the tree of
// size n starts from: the size whose root is prevRoot when that is a recent
// root (/v1/log), else n-1. Zero means no proof.
func (p *Pangea) consistencyBase(n int, prevRoot string, bulk bool) int {
	if bulk || prevRoot == "" {
		return n - 1
	}
	want, err := hex.DecodeString(prevRoot)
	if err != nil {
		return n - 1
	}
	for m := n - 1; m >= 1 && m >= n-rootSearchDepth; m-- {
		if bytes.Equal(p.tree.view(m).root(), want) {
			return m
		}
	}
	return n - 1
}

// writeEnvelope writes the canonical envelope of an event: the JSON that Go's
// json.Marshal writes for the map {"event", "public_key", "received_at",
// "signature"} (keys sorted, absent optional keys left out). receivedAt is
// already JSON-encoded.
func writeEnvelope(buf *bytes.Buffer, canonEvent []byte, signature, publicKey *string, receivedAt []byte) {
	buf.WriteString(`{"event":`)
	buf.Write(canonEvent)
	if publicKey != nil {
		buf.WriteString(`,"public_key":`)
		writeJSONString(buf, *publicKey)
	}
	buf.WriteString(`,"received_at":`)
	buf.Write(receivedAt)
	if signature != nil {
		buf.WriteString(`,"signature":`)
		writeJSONString(buf, *signature)
	}
	buf.WriteByte('}')
}

// writeJSONString writes s as json.Marshal encodes a string.
func writeJSONString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // a string always encodes
	buf.Write(b)
}

// parseBulk parses a /v2/log or /v2/log_async body. Well-formed bodies take
// one decoding pass; others are parsed again, piece by piece, to name their
// errors.
func parseBulk(body []byte) (logCall, []ValidationError) {
	var call logCall
	var fast struct {
		ConfigID any      `json:"config_id"`
		Verbose  any      `json:"verbose"`
		Events   []itemIn `json:"events"`
	}
	var in []itemIn
	var raw []json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if dec.Decode(&fast) == nil && fast.Events != nil && len(bytes.TrimSpace(body[dec.InputOffset():])) == 0 {
		in = fast.Events
	} else {
		var slow struct {
			ConfigID any             `json:"config_id"`
			Verbose  any             `json:"verbose"`
			Events   json.RawMessage `json:"events"`
		}
		if err := json.Unmarshal(body, &slow); err != nil {
			return call, []ValidationError{badJSON(err)}
		}
		fast.ConfigID, fast.Verbose = slow.ConfigID, slow.Verbose
		switch {
		case len(slow.Events) == 0 || string(slow.Events) == "null":
			raw = nil
		case json.Unmarshal(slow.Events, &raw) != nil:
			return call, []ValidationError{{Code: "InvalidArray", Detail: "'events' is not of type 'array'", Source: "/events"}}
		case raw == nil:
			raw = []json.RawMessage{}
		}
	}

	var errs []ValidationError
	var e *ValidationError
	if call.configID, e = optString(fast.ConfigID); e != nil {
		errs = append(errs, e.at("/config_id"))
	}
	if call.verbose, e = optBool(fast.Verbose); e != nil {
		errs = append(errs, e.at("/verbose"))
	}
	switch {
	case in != nil:
		call.events = len(in)
	case raw != nil:
		call.events = len(raw)
	default:
		return call, append(errs, ValidationError{Code: "FieldRequired", Detail: "'events' is a required property", Source: "/events"})
	}
	switch {
	case call.events == 0:
		return call, append(errs, ValidationError{Code: "BelowMinItems", Detail: "[] should be non-empty", Source: "/events"})
	case call.events > MaxBulkEvents:
		return call, append(errs, ValidationError{Code: "AboveMaxItems", Detail: fmt.Sprintf("%d events is more than the maximum of %d", call.events, MaxBulkEvents), Source: "/events"})
	}
	call.items = make([]logItem, call.events)
	for i := range call.items {
		var item itemIn
		if in != nil {
			item = in[i]
		} else if e := decodeItem(raw[i]); e != nil {
			call.items[i] = logItem{index: i, err: e.under(itemPointer(i))}
			continue
		} else if err := json.Unmarshal(raw[i], &item); err != nil {
			call.items[i] = logItem{index: i, err: &ValidationError{Code: "InvalidObject", Detail: "event item is not of type 'object'", Source: itemPointer(i)}}
			continue
		}
		call.items[i] = checkItem(item, i)
	}
	return call, errs
}

// itemIn is an event of a log request.
type itemIn struct {
	Event     any `json:"event"`
	Signature any `json:"signature"`
	PublicKey any `json:"public_key"`
}

// itemPointer returns the JSON pointer of item i of a log request: the
// request itself ("") for /v1/log (i < 0).
func itemPointer(i int) string {
	if i < 0 {
		return ""
	}
	return "/events/" + strconv.Itoa(i)
}

// at returns e with the source set.
func (e *ValidationError) at(source string) ValidationError {
	v := *e
	v.Source = source
	return v
}

// under returns e with its source (relative) put under prefix.
func (e *ValidationError) under(prefix string) *ValidationError {
	v := *e
	v.Source = prefix + v.Source
	return &v
}

// decodeItem reports an event item that is not an object or has an
// unexpected property; sources are relative to the item.
func decodeItem(raw json.RawMessage) *ValidationError {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return &ValidationError{Code: "InvalidObject", Detail: "event item is not of type 'object'"}
	}
	var extra []string
	for k := range fields {
		switch k {
		case "event", "signature", "public_key":
		default:
			extra = append(extra, k)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	slices.Sort(extra)
	return &ValidationError{Code: "UnexpectedProperty", Detail: fmt.Sprintf("Additional properties are not allowed ('%s' was unexpected)", extra[0]), Source: "/" + escapePointer(extra[0])}
}

// checkItem checks the types of the fields of item i (-1 for /v1/log).
func checkItem(item itemIn, i int) logItem {
	it := logItem{index: i}
	switch ev := item.Event.(type) {
	case nil:
		it.err = &ValidationError{Code: "FieldRequired", Detail: "'event' is a required property", Source: itemPointer(i) + "/event"}
		return it
	case map[string]any:
		it.event = ev
	default:
		it.err = &ValidationError{Code: "InvalidObject", Detail: describe(ev) + " is not of type 'object'", Source: itemPointer(i) + "/event"}
		return it
	}
	var e *ValidationError
	if it.signature, e = optSigString(item.Signature); e != nil {
		it.err = e.under(itemPointer(i) + "/signature")
		return it
	}
	if it.publicKey, e = optSigString(item.PublicKey); e != nil {
		it.err = e.under(itemPointer(i) + "/public_key")
	}
	return it
}

// parseSingle parses a /v1/log body (AuditLogRequest, which allows no other
// properties).
func parseSingle(body []byte) (logCall, []ValidationError) {
	var call logCall
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return call, []ValidationError{badJSON(err)}
	}
	var in struct {
		itemIn
		ConfigID any `json:"config_id"`
		Verbose  any `json:"verbose"`
		PrevRoot any `json:"prev_root"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return call, []ValidationError{badJSON(err)}
	}
	var errs []ValidationError
	var extra []string
	for k := range fields {
		switch k {
		case "event", "signature", "public_key", "config_id", "verbose", "prev_root":
		default:
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		errs = append(errs, ValidationError{Code: "UnexpectedProperty", Detail: fmt.Sprintf("Additional properties are not allowed ('%s' was unexpected)", k), Source: "/" + escapePointer(k)})
	}
	var e *ValidationError
	if call.configID, e = optString(in.ConfigID); e != nil {
		errs = append(errs, e.at("/config_id"))
	}
	if call.verbose, e = optBool(in.Verbose); e != nil {
		errs = append(errs, e.at("/verbose"))
	}
	if call.prevRoot, e = optString(in.PrevRoot); e != nil {
		errs = append(errs, e.at("/prev_root"))
	}
	if in.Event != nil {
		call.events = 1
	}
	it := checkItem(in.itemIn, -1)
	if it.err != nil {
		return call, append(errs, *it.err)
	}
	call.items = []logItem{it}
	return call, errs
}

// parseSchemaRequest parses a /v1/schema body.
func parseSchemaRequest(body []byte) (logCall, []ValidationError) {
	var call logCall
	if len(bytes.TrimSpace(body)) == 0 {
		return call, nil
	}
	var in struct {
		ConfigID any `json:"config_id"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return call, []ValidationError{badJSON(err)}
	}
	var e *ValidationError
	if call.configID, e = optString(in.ConfigID); e != nil {
		return call, []ValidationError{e.at("/config_id")}
	}
	return call, nil
}

// badJSON is the error of a body that is not a JSON object.
func badJSON(err error) ValidationError {
	var se *json.SyntaxError
	detail := "request body is not a JSON object"
	if errors.As(err, &se) {
		detail = fmt.Sprintf("request body is not valid JSON: %v", err)
	}
	return ValidationError{Code: "InvalidObject", Detail: detail, Source: "/"}
}

// optString checks an optional string property; the error's source is
// left for the caller to set.
func optString(v any) (string, *ValidationError) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		return "", &ValidationError{Code: "InvalidString", Detail: describe(v) + " is not of type 'string'"}
	}
}

// optBool checks an optional boolean property; the error's source is left
// for the caller to set.
func optBool(v any) (bool, *ValidationError) {
	switch v := v.(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	default:
		return false, &ValidationError{Code: "InvalidBool", Detail: describe(v) + " is not of type 'boolean'"}
	}
}

// optSigString checks an optional signature or public key; the error's
// source is left for the caller to set.
func optSigString(v any) (*string, *ValidationError) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		if len(v) > maxSignatureLength {
			return nil, &ValidationError{Code: "AboveMaxLength", Detail: fmt.Sprintf("string of %d characters is longer than %d", len(v), maxSignatureLength)}
		}
		return &v, nil
	default:
		return nil, &ValidationError{Code: "InvalidString", Detail: describe(v) + " is not of type 'string'"}
	}
}
