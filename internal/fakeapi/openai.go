package fakeapi

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	// maxOpenAIBody bounds the body of an OpenAI request.
	maxOpenAIBody = 64 << 20
	// maxEmbeddingInputs is the most inputs one embeddings request may carry.
	maxEmbeddingInputs = 2048
	// systemFingerprint is the system_fingerprint of every answer.
	systemFingerprint = "fp_fakeapi"
)

// OpenAI is a fake OpenAI-compatible API under the prefix /v1 (a client's
// base URL is BaseURL): POST /v1/chat/completions (plain and streamed),
// POST /v1/embeddings and GET /v1/models, with OpenAI's JSON shapes, error
// bodies and x-ratelimit-* headers. Its answers are deterministic: see
// DefaultAnswer, SetAnswer and Embed. It records what it receives; see
// ChatRequests and EmbeddingRequests.
type OpenAI struct {
	*Server

	key    string
	answer atomic.Pointer[AnswerFunc]
	rate   rateWindow

	mu         sync.Mutex // guards the fields below
	chats      []ChatRequest
	embeddings []EmbeddingRequest
	chatCount  int
	embedCount int
}

// NewOpenAI returns a fake OpenAI that accepts the API key key, answering
// with DefaultAnswer under DefaultRateLimits. It does not serve until Start,
// StartOn, or Handler mounted on a server. Close it when done.
func NewOpenAI(key string) *OpenAI {
	o := &OpenAI{key: key}
	o.Server = newServer(http.HandlerFunc(o.route))
	o.rate.set(DefaultRateLimits())
	return o
}

// StartOpenAI returns a started fake OpenAI that accepts the API key key and
// is closed when the test ends. The OpenAI SDK reaches it with
// option.WithBaseURL(o.BaseURL()) and option.WithAPIKey(key).
func StartOpenAI(t testing.TB, key string) *OpenAI {
	t.Helper()
	o := NewOpenAI(key)
	o.Start()
	t.Cleanup(o.Close)
	return o
}

// BaseURL returns the base URL of the API of a started fake: URL() + "/v1".
func (o *OpenAI) BaseURL() string {
	return o.URL() + "/v1"
}

// SetAnswer sets the function that computes answers; nil restores
// DefaultAnswer.
func (o *OpenAI) SetAnswer(f AnswerFunc) {
	if f == nil {
		o.answer.Store(nil)
		return
	}
	o.answer.Store(&f)
}

// SetRateLimits replaces the rate-limit budget and starts a new window. A
// zero Window means a minute.
func (o *OpenAI) SetRateLimits(l RateLimits) {
	o.rate.set(l)
}

// ChatRequests returns the chat requests received, in arrival order (empty
// under RetainCounts). A request still being answered has Status 0. The
// messages and params are shared with the fake: read them only.
func (o *OpenAI) ChatRequests() []ChatRequest {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.chats)
}

// EmbeddingRequests returns the embeddings requests received, in arrival
// order (empty under RetainCounts).
func (o *OpenAI) EmbeddingRequests() []EmbeddingRequest {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.embeddings)
}

// ChatCount returns the number of chat requests received (kept under any
// Retention).
func (o *OpenAI) ChatCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.chatCount
}

// EmbeddingCount returns the number of embeddings requests received (kept
// under any Retention).
func (o *OpenAI) EmbeddingCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.embedCount
}

// apiError is the body of an OpenAI error answer, inside {"error": ...}.
type apiError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
	status  int
}

// newAPIError returns an error with the given status; param and code are
// null when empty.
func newAPIError(status int, typ, message, param, code string) *apiError {
	e := &apiError{status: status, Type: typ, Message: message}
	if param != "" {
		e.Param = &param
	}
	if code != "" {
		e.Code = &code
	}
	return e
}

// invalidRequest returns a 400 invalid_request_error.
func invalidRequest(message, param, code string) *apiError {
	return newAPIError(http.StatusBadRequest, "invalid_request_error", message, param, code)
}

// route dispatches a request to its endpoint.
func (o *OpenAI) route(w http.ResponseWriter, r *http.Request) {
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOpenAIBody))
	w.Header().Set("x-request-id", randomID("req_", 32))
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/chat/completions":
		o.serveChat(w, r, body, readErr)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/embeddings":
		o.serveEmbeddings(w, r, body, readErr)
	case r.Method == http.MethodGet && r.URL.Path == "/v1/models":
		o.serveModels(w, r)
	default:
		o.rate.peek().write(w.Header())
		o.sendError(w, newAPIError(http.StatusNotFound, "invalid_request_error", fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path), "", ""))
	}
}

// authError returns the error for a request without the fake's key, or nil.
func (o *OpenAI) authError(r *http.Request) *apiError {
	auth := r.Header.Get("Authorization")
	switch {
	case auth == "Bearer "+o.key:
		return nil
	case auth == "":
		return newAPIError(http.StatusUnauthorized, "invalid_request_error", "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", "", "")
	default:
		// The key is not echoed, not even masked.
		return newAPIError(http.StatusUnauthorized, "invalid_request_error", "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.", "", "invalid_api_key")
	}
}

// serveChat handles POST /v1/chat/completions.
func (o *OpenAI) serveChat(w http.ResponseWriter, r *http.Request, body []byte, readErr error) {
	start := time.Now()
	var req ChatRequest
	var perr *apiError
	if readErr != nil {
		perr = invalidRequest(fmt.Sprintf("request body unreadable: %v", readErr), "", "")
	} else {
		req, perr = parseChat(body)
	}
	req.Time = start
	req.ID = randomID("chatcmpl-", 29)
	if aerr := o.authError(r); aerr != nil {
		req.Status = aerr.status
		o.addChat(req)
		o.rate.peek().write(w.Header())
		o.sendError(w, aerr)
		return
	}
	fault := o.decide(Call{Method: r.Method, Path: r.URL.Path, Model: req.Model, Stream: req.Stream, Prompt: req.Prompt()})
	req.Fault = fault
	idx := o.addChat(req)
	o.answerChat(w, r, &req, perr)
	o.finishChat(idx, req)
}

// answerChat answers a chat request and fills in req's Answer, FinishReason,
// Usage and Status.
func (o *OpenAI) answerChat(w http.ResponseWriter, r *http.Request, req *ChatRequest, perr *apiError) {
	fault := req.Fault
	if fault.rejectsEarly() {
		req.Status = o.failEarly(w, r, fault)
		return
	}
	if fault == Slow && !o.sleep(r.Context(), o.faultParams().SlowDelay) {
		return
	}
	if perr != nil {
		o.rate.peek().write(w.Header())
		req.Status = o.sendError(w, perr)
		return
	}
	if fault == Accepted202 {
		o.rate.peek().write(w.Header())
		req.Status = sendJSON(w, http.StatusAccepted, []byte("{}"), NoFault)
		return
	}

	answerFn := defaultAnswer
	if f := o.answer.Load(); f != nil {
		answerFn = *f
	}
	answer := answerFn(*req)
	finish := "stop"
	if limit, ok := maxTokens(req.Params); ok {
		if cut, cutShort := truncateTokens(answer, limit); cutShort {
			answer, finish = cut, "length"
		}
	}
	usage := Usage{CompletionTokens: EstimateTokens(answer)}
	for _, m := range req.Messages {
		usage.PromptTokens += EstimateTokens(m.Content)
	}
	usage.TotalTokens = usage.PromptTokens + usage.CompletionTokens

	st, ok := o.rate.spend(usage.TotalTokens)
	if !ok {
		req.Status = o.budgetSpent(w, st, req.Model)
		return
	}
	st.write(w.Header())
	req.Answer, req.FinishReason, req.Usage = answer, finish, usage
	if req.Stream {
		req.Status = o.stream(w, req, includeUsage(req.Params), fault)
		return
	}
	c := completion{
		ID:                req.ID,
		Object:            "chat.completion",
		Created:           req.Time.Unix(),
		Model:             req.Model,
		Choices:           []completionChoice{{Message: assistantMessage{Role: "assistant", Content: answer, Annotations: []any{}}, FinishReason: finish}},
		Usage:             newCompletionUsage(usage),
		ServiceTier:       "default",
		SystemFingerprint: systemFingerprint,
	}
	b, err := json.Marshal(c)
	if err != nil {
		req.Status = o.sendError(w, newAPIError(http.StatusInternalServerError, "server_error", "fakeapi: "+err.Error(), "", ""))
		return
	}
	req.Status = sendJSON(w, http.StatusOK, b, fault)
}

// stream sends a chat answer as server-sent events and returns the status.
func (o *OpenAI) stream(w http.ResponseWriter, req *ChatRequest, withUsage bool, fault Fault) int {
	pieces := streamPieces(req.Answer)
	base := chunk{ID: req.ID, Object: "chat.completion.chunk", Created: req.Time.Unix(), Model: req.Model, SystemFingerprint: systemFingerprint}
	var events [][]byte
	add := func(c chunk) {
		b, err := json.Marshal(c)
		if err != nil {
			panic(fmt.Sprintf("fakeapi: encoding a chunk: %v", err)) // plain structs always encode
		}
		events = append(events, b)
	}
	empty := ""
	first := base
	first.Choices = []chunkChoice{{Delta: delta{Role: "assistant", Content: &empty}}}
	add(first)
	for _, p := range pieces {
		c := base
		c.Choices = []chunkChoice{{Delta: delta{Content: &p}}}
		add(c)
	}
	finalIndex := len(events)
	last := base
	last.Choices = []chunkChoice{{FinishReason: &req.FinishReason}}
	add(last)
	if withUsage {
		c := base
		c.Choices = []chunkChoice{}
		u := newCompletionUsage(req.Usage)
		c.Usage = &u
		add(c)
	}

	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	write := func(data []byte) {
		var b bytes.Buffer
		b.Grow(len(data) + 8)
		b.WriteString("data: ")
		b.Write(data)
		b.WriteString("\n\n")
		_, _ = w.Write(b.Bytes())
		_ = rc.Flush()
	}
	switch fault {
	case DropMidStream:
		n := min(max(o.faultParams().StreamChunks, 0), finalIndex)
		for _, e := range events[:n] {
			write(e)
		}
		cut(w, true)
		return http.StatusOK
	case Malformed:
		write(events[0])
		write(events[1][:len(events[1])/2])
		write([]byte("[DONE]"))
		return http.StatusOK
	}
	for _, e := range events {
		write(e)
	}
	write([]byte("[DONE]"))
	return http.StatusOK
}

// serveEmbeddings handles POST /v1/embeddings.
func (o *OpenAI) serveEmbeddings(w http.ResponseWriter, r *http.Request, body []byte, readErr error) {
	start := time.Now()
	var req EmbeddingRequest
	var format string
	var perr *apiError
	if readErr != nil {
		perr = invalidRequest(fmt.Sprintf("request body unreadable: %v", readErr), "", "")
	} else {
		req, format, perr = parseEmbeddings(body)
	}
	req.Time = start
	if aerr := o.authError(r); aerr != nil {
		req.Status = aerr.status
		o.addEmbedding(req)
		o.rate.peek().write(w.Header())
		o.sendError(w, aerr)
		return
	}
	c := Call{Method: r.Method, Path: r.URL.Path, Model: req.Model}
	if len(req.Inputs) > 0 {
		c.Prompt = req.Inputs[0]
	}
	req.Fault = o.decide(c)
	idx := o.addEmbedding(req)
	req.Status = o.answerEmbeddings(w, r, &req, format, perr)
	o.finishEmbedding(idx, req.Status)
}

// answerEmbeddings answers an embeddings request and returns the status.
func (o *OpenAI) answerEmbeddings(w http.ResponseWriter, r *http.Request, req *EmbeddingRequest, format string, perr *apiError) int {
	fault := req.Fault
	if fault.rejectsEarly() {
		return o.failEarly(w, r, fault)
	}
	if fault == Slow && !o.sleep(r.Context(), o.faultParams().SlowDelay) {
		return 0
	}
	if perr != nil {
		o.rate.peek().write(w.Header())
		return o.sendError(w, perr)
	}
	if fault == Accepted202 {
		o.rate.peek().write(w.Header())
		return sendJSON(w, http.StatusAccepted, []byte("{}"), NoFault)
	}
	tokens := 0
	for _, in := range req.Inputs {
		tokens += EstimateTokens(in)
	}
	st, ok := o.rate.spend(tokens)
	if !ok {
		return o.budgetSpent(w, st, req.Model)
	}
	st.write(w.Header())
	res := embeddingList{Object: "list", Model: req.Model, Data: make([]embedding, len(req.Inputs))}
	res.Usage.PromptTokens, res.Usage.TotalTokens = tokens, tokens
	for i, in := range req.Inputs {
		v := Embed(in, req.Dimensions)
		res.Data[i] = embedding{Object: "embedding", Index: i, Embedding: v}
		if format == "base64" {
			res.Data[i].Embedding = encodeBase64Floats(v)
		}
	}
	b, err := json.Marshal(res)
	if err != nil {
		return o.sendError(w, newAPIError(http.StatusInternalServerError, "server_error", "fakeapi: "+err.Error(), "", ""))
	}
	return sendJSON(w, http.StatusOK, b, fault)
}

// serveModels handles GET /v1/models.
func (o *OpenAI) serveModels(w http.ResponseWriter, r *http.Request) {
	o.rate.peek().write(w.Header())
	if aerr := o.authError(r); aerr != nil {
		o.sendError(w, aerr)
		return
	}
	fault := o.decide(Call{Method: r.Method, Path: r.URL.Path})
	if fault.rejectsEarly() {
		o.failEarly(w, r, fault)
		return
	}
	if fault == Slow && !o.sleep(r.Context(), o.faultParams().SlowDelay) {
		return
	}
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	list := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list"}
	for _, id := range []string{"gpt-4o-mini", "gpt-4o", "text-embedding-3-small", "text-embedding-3-large"} {
		list.Data = append(list.Data, model{ID: id, Object: "model", Created: 1700000000, OwnedBy: "system"})
	}
	b, _ := json.Marshal(list) // plain structs always encode
	if fault == Accepted202 {
		b = []byte("{}")
		sendJSON(w, http.StatusAccepted, b, NoFault)
		return
	}
	sendJSON(w, http.StatusOK, b, fault)
}

// failEarly answers with an early fault and returns the status sent.
func (o *OpenAI) failEarly(w http.ResponseWriter, r *http.Request, fault Fault) int {
	params := o.faultParams()
	h := w.Header()
	switch fault {
	case Status429:
		h.Set("Retry-After", retryAfterSeconds(params.RetryAfter429))
		o.rate.peek().exhausted(h, params.RetryAfter429)
		msg := fmt.Sprintf("Rate limit reached for requests. Please try again in %s.", formatReset(params.RetryAfter429))
		return o.sendError(w, newAPIError(http.StatusTooManyRequests, "requests", msg, "", "rate_limit_exceeded"))
	case Status500:
		o.rate.peek().write(h)
		return o.sendError(w, newAPIError(http.StatusInternalServerError, "server_error", "The server had an error while processing your request. Sorry about that!", "", ""))
	case Status503:
		if params.RetryAfter503 > 0 {
			h.Set("Retry-After", retryAfterSeconds(params.RetryAfter503))
		}
		o.rate.peek().write(h)
		return o.sendError(w, newAPIError(http.StatusServiceUnavailable, "server_error", "The engine is currently overloaded, please try again later.", "", ""))
	case Drop:
		cut(w, false)
	case Timeout:
		o.hang(r.Context())
	}
	return 0
}

// budgetSpent answers 429 for an enforced budget that is spent.
func (o *OpenAI) budgetSpent(w http.ResponseWriter, st rateState, model string) int {
	h := w.Header()
	h.Set("Retry-After", retryAfterSeconds(st.reset))
	st.write(h)
	msg := fmt.Sprintf("Rate limit reached for %s: Limit %d requests and %d tokens per %s. Please try again in %s.",
		model, st.limits.Requests, st.limits.Tokens, st.limits.Window, formatReset(st.reset))
	return o.sendError(w, newAPIError(http.StatusTooManyRequests, "requests", msg, "", "rate_limit_exceeded"))
}

// sendError sends {"error": e} with e's status and returns the status.
func (o *OpenAI) sendError(w http.ResponseWriter, e *apiError) int {
	b, err := json.Marshal(struct {
		Error *apiError `json:"error"`
	}{e})
	if err != nil {
		b = []byte(`{"error":{"message":"fakeapi: encoding the error failed","type":"server_error","param":null,"code":null}}`)
	}
	return sendJSON(w, e.status, b, NoFault)
}

// addChat records a chat request and returns its index, or -1 when chat
// requests are not kept.
func (o *OpenAI) addChat(req ChatRequest) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.chatCount++
	if !o.keepAll() {
		return -1
	}
	o.chats = append(o.chats, req)
	return len(o.chats) - 1
}

// finishChat records the outcome of the chat request at idx.
func (o *OpenAI) finishChat(idx int, req ChatRequest) {
	if idx < 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	c := &o.chats[idx]
	c.Answer, c.FinishReason, c.Usage, c.Status = req.Answer, req.FinishReason, req.Usage, req.Status
}

// addEmbedding records an embeddings request and returns its index, or -1
// when they are not kept.
func (o *OpenAI) addEmbedding(req EmbeddingRequest) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.embedCount++
	if !o.keepAll() {
		return -1
	}
	o.embeddings = append(o.embeddings, req)
	return len(o.embeddings) - 1
}

// finishEmbedding records the status of the embeddings request at idx.
func (o *OpenAI) finishEmbedding(idx, status int) {
	if idx < 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.embeddings[idx].Status = status
}

// parseChat parses a chat completion request.
func parseChat(body []byte) (ChatRequest, *apiError) {
	var req ChatRequest
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return req, invalidRequest("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", "", "")
	}
	req.Params = make(map[string]json.RawMessage, len(fields))
	for k, v := range fields {
		if k != "model" && k != "messages" {
			req.Params[k] = v
		}
	}
	if raw, ok := fields["stream"]; ok && json.Unmarshal(raw, &req.Stream) != nil {
		return req, invalidRequest(fmt.Sprintf("Invalid type for 'stream': expected a boolean, but got %s instead.", raw), "stream", "invalid_type")
	}
	raw, ok := fields["model"]
	if !ok || json.Unmarshal(raw, &req.Model) != nil || req.Model == "" {
		return req, invalidRequest("you must provide a model parameter", "", "")
	}
	raw, ok = fields["messages"]
	if !ok {
		return req, invalidRequest("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
	}
	var msgs []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(raw, &msgs); err != nil {
		return req, invalidRequest(fmt.Sprintf("Invalid type for 'messages': expected an array of objects (%v).", err), "messages", "invalid_type")
	}
	if len(msgs) == 0 {
		return req, invalidRequest("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", "messages", "empty_array")
	}
	req.Messages = make([]Message, len(msgs))
	for i, m := range msgs {
		if m.Role == "" {
			return req, invalidRequest(fmt.Sprintf("Missing required parameter: 'messages[%d].role'.", i), fmt.Sprintf("messages[%d].role", i), "missing_required_parameter")
		}
		text, err := contentText(m.Content)
		if err != nil {
			return req, invalidRequest(fmt.Sprintf("Invalid 'messages[%d].content': %v.", i, err), fmt.Sprintf("messages[%d].content", i), "invalid_type")
		}
		req.Messages[i] = Message{Role: m.Role, Content: text}
	}
	return req, nil
}

// contentText returns the text of a message content: a string, null, or an
// array of parts whose text parts are joined.
func contentText(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", fmt.Errorf("expected a string or an array of content parts")
	}
	var b bytes.Buffer
	for _, p := range parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String(), nil
}

// maxTokens returns the completion token limit of a request, if any.
func maxTokens(params map[string]json.RawMessage) (int, bool) {
	for _, k := range []string{"max_completion_tokens", "max_tokens"} {
		var n int
		if raw, ok := params[k]; ok && json.Unmarshal(raw, &n) == nil && n > 0 {
			return n, true
		}
	}
	return 0, false
}

// includeUsage reports whether stream_options.include_usage is true.
func includeUsage(params map[string]json.RawMessage) bool {
	var opts struct {
		IncludeUsage bool `json:"include_usage"`
	}
	raw, ok := params["stream_options"]
	return ok && json.Unmarshal(raw, &opts) == nil && opts.IncludeUsage
}

// parseEmbeddings parses an embeddings request. It returns the request and
// the encoding format.
func parseEmbeddings(body []byte) (EmbeddingRequest, string, *apiError) {
	var req EmbeddingRequest
	var in struct {
		Model          string          `json:"model"`
		Input          json.RawMessage `json:"input"`
		Dimensions     *int            `json:"dimensions"`
		EncodingFormat string          `json:"encoding_format"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return req, "", invalidRequest("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", "", "")
	}
	req.Model = in.Model
	var one string
	switch {
	case len(in.Input) == 0 || string(in.Input) == "null":
		return req, "", invalidRequest("Missing required parameter: 'input'.", "input", "missing_required_parameter")
	case json.Unmarshal(in.Input, &one) == nil:
		req.Inputs = []string{one}
	case json.Unmarshal(in.Input, &req.Inputs) != nil:
		return req, "", invalidRequest("The fake supports only text input: a string or an array of strings.", "input", "invalid_type")
	}
	switch {
	case in.Model == "":
		return req, "", invalidRequest("you must provide a model parameter", "", "")
	case len(req.Inputs) == 0:
		return req, "", invalidRequest("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", "input", "")
	case len(req.Inputs) > maxEmbeddingInputs:
		return req, "", invalidRequest(fmt.Sprintf("Invalid 'input': maximum length %d, got %d.", maxEmbeddingInputs, len(req.Inputs)), "input", "")
	case slices.Contains(req.Inputs, ""):
		return req, "", invalidRequest("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", "input", "")
	}
	req.Dimensions = DefaultEmbeddingDims
	if in.Dimensions != nil {
		if *in.Dimensions <= 0 {
			return req, "", invalidRequest("Invalid 'dimensions': must be a positive integer.", "dimensions", "")
		}
		req.Dimensions = *in.Dimensions
	}
	switch in.EncodingFormat {
	case "", "float", "base64":
	default:
		return req, "", invalidRequest(fmt.Sprintf("Invalid value for 'encoding_format': %q.", in.EncodingFormat), "encoding_format", "")
	}
	return req, in.EncodingFormat, nil
}

// encodeBase64Floats encodes a vector as OpenAI's base64 format: little-endian
// float32 values.
func encodeBase64Floats(v []float64) string {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(f)))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// completion is a chat.completion object.
type completion struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"`
	Created           int64              `json:"created"`
	Model             string             `json:"model"`
	Choices           []completionChoice `json:"choices"`
	Usage             completionUsage    `json:"usage"`
	ServiceTier       string             `json:"service_tier"`
	SystemFingerprint string             `json:"system_fingerprint"`
}

// completionChoice is a choice of a chat.completion.
type completionChoice struct {
	Index        int              `json:"index"`
	Message      assistantMessage `json:"message"`
	Logprobs     *struct{}        `json:"logprobs"`
	FinishReason string           `json:"finish_reason"`
}

// assistantMessage is the message of a choice.
type assistantMessage struct {
	Role        string  `json:"role"`
	Content     string  `json:"content"`
	Refusal     *string `json:"refusal"`
	Annotations []any   `json:"annotations"`
}

// completionUsage is the usage object of an answer.
type completionUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
		AudioTokens  int `json:"audio_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens          int `json:"reasoning_tokens"`
		AudioTokens              int `json:"audio_tokens"`
		AcceptedPredictionTokens int `json:"accepted_prediction_tokens"`
		RejectedPredictionTokens int `json:"rejected_prediction_tokens"`
	} `json:"completion_tokens_details"`
}

// newCompletionUsage converts a Usage.
func newCompletionUsage(u Usage) completionUsage {
	return completionUsage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
}

// chunk is a chat.completion.chunk object.
type chunk struct {
	ID                string           `json:"id"`
	Object            string           `json:"object"`
	Created           int64            `json:"created"`
	Model             string           `json:"model"`
	SystemFingerprint string           `json:"system_fingerprint"`
	Choices           []chunkChoice    `json:"choices"`
	Usage             *completionUsage `json:"usage,omitempty"`
}

// chunkChoice is a choice of a chunk.
type chunkChoice struct {
	Index        int       `json:"index"`
	Delta        delta     `json:"delta"`
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason *string   `json:"finish_reason"`
}

// delta is the delta of a chunk choice.
type delta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

// embeddingList is the answer of /v1/embeddings.
type embeddingList struct {
	Object string      `json:"object"`
	Data   []embedding `json:"data"`
	Model  string      `json:"model"`
	Usage  struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

// embedding is one vector of an embeddings answer: []float64, or a base64
// string.
type embedding struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"`
}
