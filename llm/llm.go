// Package llm is the chat client: it sends a system message and a prompt to
// an OpenAI-compatible chat-completions endpoint, whole or streamed, and
// retries what can be retried. It knows nothing of audits or suites; callers
// audit before they call.
package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/tracebatch/tracebatch/internal/endpoint"
	"github.com/tracebatch/tracebatch/internal/retry"
)

// DefaultBaseURL is OpenAI's API.
const DefaultBaseURL = "https://api.openai.com/v1"

// Config says how to reach the model and how patiently.
type Config struct {
	// BaseURL is the API's base, such as http://localhost:11434/v1 for
	// Ollama; "" means OpenAI.
	BaseURL string
	// APIKey is sent as a bearer token and never appears in errors.
	APIKey string
	// Insecure allows plaintext http:// to a host that is not loopback.
	Insecure bool
	// Timeout bounds one attempt (default 60s).
	Timeout time.Duration
	// Retries bounds the retries of an attempt that failed with 429, 5xx,
	// a timeout, a dropped connection or an unreadable answer.
	Retries int
	// Backoff is the first retry's wait (doubling, with jitter, up to
	// MaxBackoff).
	Backoff, MaxBackoff time.Duration
	// Concurrency sizes the connection pool (default 8).
	Concurrency int
	// Pacer, when set, is asked before and told after every attempt (rate
	// limits, adaptive concurrency).
	Pacer Pacer
	// Transport replaces the pooled transport (tests).
	Transport http.RoundTripper
}

// Pacer paces attempts: Wait blocks until an attempt estimated at tokens may
// start; Done reports how it went.
type Pacer interface {
	Wait(ctx context.Context, tokens int) error
	Done(estimated int, usage Usage, limits Limits, throttled bool)
}

// Client sends chat completions. It is safe for concurrent use.
type Client struct {
	cfg Config
	oa  openai.Client
	key string
}

// New checks the configuration and builds a client. The SDK's own retries
// are off: Client retries itself, so that it can count attempts and honour
// the rate-limit headers.
func New(cfg Config) (*Client, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("llm: no API key")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 60 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	u, err := endpoint.Parse("--openai-base-url", cfg.BaseURL, cfg.Insecure)
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(u.String(), "/") + "/"
	rt := cfg.Transport
	if rt == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Keep a connection for every call in flight: the default caps
		// idle connections at 100 in all, which makes -j above 100 reopen
		// connections all the time.
		t.MaxIdleConns = 0
		t.MaxIdleConnsPerHost = cfg.Concurrency + 2
		rt = t
	}
	oa := openai.NewClient(
		option.WithBaseURL(base),
		option.WithAPIKey(cfg.APIKey),
		option.WithHTTPClient(&http.Client{Transport: rt, CheckRedirect: endpoint.NoRedirects}),
		option.WithMaxRetries(0),
	)
	return &Client{cfg: cfg, oa: oa, key: cfg.APIKey}, nil
}

// Request is one chat completion to make.
type Request struct {
	// Model names the model.
	Model string
	// System is the system message; "" sends none.
	System string
	// Prompt is the user message.
	Prompt string
	// Params are further body fields (temperature, max_tokens, seed, …),
	// sent as given.
	Params map[string]any
}

// Body is the JSON body the request is sent as, for --dry-run.
func (r Request) Body() map[string]any {
	var msgs []map[string]string
	if r.System != "" {
		msgs = append(msgs, map[string]string{"role": "system", "content": r.System})
	}
	msgs = append(msgs, map[string]string{"role": "user", "content": r.Prompt})
	body := map[string]any{"model": r.Model, "messages": msgs}
	for k, v := range r.Params {
		body[k] = v
	}
	return body
}

// Usage counts tokens.
type Usage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
}

// Limits are the rate-limit headers of the last answer; -1 when absent.
type Limits struct {
	RemainingRequests, RemainingTokens int64
	ResetRequests, ResetTokens         time.Duration
}

// Answer is a completed chat.
type Answer struct {
	// Text is the assistant's message.
	Text string
	// Model is the model that answered, as the server names it.
	Model string
	// Usage is the token count the server reported.
	Usage Usage
	// Attempts counts the requests sent, retries included.
	Attempts int
	// Latency is the duration of the attempt that succeeded.
	Latency time.Duration
}

// Error is a failed call after its retries. Its message never carries the
// API key.
type Error struct {
	// Status is the HTTP status of the last attempt (0: no answer).
	Status int
	// Attempts counts the requests sent.
	Attempts int
	msg      string
}

func (e *Error) Error() string { return e.msg }

// Estimate guesses the tokens a request will use before it is sent: about
// four bytes a token for the messages, plus max_tokens if set. The pacer
// corrects it with the real usage afterwards.
func (r Request) Estimate() int {
	n := (len(r.System)+len(r.Prompt))/4 + 8
	for _, k := range []string{"max_tokens", "max_completion_tokens"} {
		switch v := r.Params[k].(type) {
		case int:
			n += v
		case int64:
			n += int(v)
		case float64:
			n += int(v)
		}
	}
	return n
}

// Complete sends req and returns the whole answer, retrying as Config says.
func (c *Client) Complete(ctx context.Context, req Request) (Answer, error) {
	return c.do(ctx, req, nil)
}

// Stream sends req and calls onDelta with each piece of the answer as it
// arrives. A failed attempt is retried only while nothing has been passed to
// onDelta yet; after that, the error is returned.
func (c *Client) Stream(ctx context.Context, req Request, onDelta func(string) error) (Answer, error) {
	if onDelta == nil {
		onDelta = func(string) error { return nil }
	}
	return c.do(ctx, req, onDelta)
}

func (c *Client) do(ctx context.Context, req Request, onDelta func(string) error) (Answer, error) {
	var a Answer
	attempts, err := c.retry(ctx, req.Estimate(), func(ctx context.Context) (Usage, attemptResult) {
		var res attemptResult
		start := time.Now()
		if onDelta == nil {
			a, res = c.complete(ctx, req)
		} else {
			a, res = c.stream(ctx, req, onDelta)
		}
		a.Latency = time.Since(start)
		return a.Usage, res
	})
	a.Attempts = attempts
	return a, err
}

// retry makes attempts until one succeeds, one fails for good, or the
// retries are spent, pacing each attempt. It returns the attempts made.
func (c *Client) retry(ctx context.Context, estimate int, attempt func(context.Context) (Usage, attemptResult)) (int, error) {
	policy := retry.Policy{Retries: c.cfg.Retries, Base: c.cfg.Backoff, Max: c.cfg.MaxBackoff}
	for n := 1; ; n++ {
		if c.cfg.Pacer != nil {
			if err := c.cfg.Pacer.Wait(ctx, estimate); err != nil {
				return n - 1, err
			}
		}
		usage, res := attempt(ctx)
		if c.cfg.Pacer != nil {
			c.cfg.Pacer.Done(estimate, usage, res.limits, res.status == http.StatusTooManyRequests)
		}
		if res.err == nil {
			return n, nil
		}
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		if !res.retryable || n > policy.Retries || res.streamed {
			msg := res.err.Error()
			if n > 1 {
				msg = fmt.Sprintf("%s (gave up after %d attempts)", msg, n)
			}
			return n, &Error{Status: res.status, Attempts: n, msg: msg}
		}
		if err := retry.Sleep(ctx, policy.Delay(n, res.wait)); err != nil {
			return n, err
		}
	}
}

// Embed returns the embedding of each input with model, retrying as
// Config says.
func (c *Client) Embed(ctx context.Context, model string, inputs []string) ([][]float64, error) {
	var out [][]float64
	est := 0
	for _, in := range inputs {
		est += len(in)/4 + 1
	}
	_, err := c.retry(ctx, est, func(ctx context.Context) (Usage, attemptResult) {
		ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
		var raw *http.Response
		resp, err := c.oa.Embeddings.New(ctx, openai.EmbeddingNewParams{
			Model:          model,
			Input:          openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: inputs},
			EncodingFormat: openai.EmbeddingNewParamsEncodingFormatFloat,
		}, option.WithResponseInto(&raw))
		res := attemptResult{limits: limitsOf(raw)}
		if err != nil {
			c.classify(err, &res)
			return Usage{}, res
		}
		if len(resp.Data) != len(inputs) {
			res.err = fmt.Errorf("model API answered %d embeddings for %d inputs", len(resp.Data), len(inputs))
			res.retryable = true
			return Usage{}, res
		}
		out = make([][]float64, len(inputs))
		for _, d := range resp.Data {
			if d.Index < 0 || int(d.Index) >= len(out) || len(d.Embedding) == 0 {
				res.err = errors.New("model API answered an embedding out of place")
				res.retryable = true
				return Usage{}, res
			}
			out[d.Index] = d.Embedding
		}
		return Usage{PromptTokens: resp.Usage.PromptTokens}, res
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// attemptResult is how one attempt went.
type attemptResult struct {
	err       error
	status    int
	retryable bool
	wait      time.Duration
	limits    Limits
	streamed  bool // some of the answer was passed on already
}

func (c *Client) params(req Request) (openai.ChatCompletionNewParams, []option.RequestOption) {
	p := openai.ChatCompletionNewParams{Model: req.Model}
	if req.System != "" {
		p.Messages = append(p.Messages, openai.SystemMessage(req.System))
	}
	p.Messages = append(p.Messages, openai.UserMessage(req.Prompt))
	var opts []option.RequestOption
	for k, v := range req.Params {
		opts = append(opts, option.WithJSONSet(k, v))
	}
	return p, opts
}

func (c *Client) complete(ctx context.Context, req Request) (Answer, attemptResult) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	body, err := req.encode()
	if err != nil {
		return Answer{}, attemptResult{err: err}
	}
	// The SDK's generic Post keeps its base URL, auth, headers and error
	// handling; the body and the answer are encoded and decoded here with
	// encoding/json, which costs a fraction of the SDK's reflection-based
	// codec on the hot path (see bench/README.md).
	var raw *http.Response
	var data []byte
	err = c.oa.Post(ctx, "chat/completions", body, &data, option.WithResponseInto(&raw))
	res := attemptResult{limits: limitsOf(raw)}
	if raw != nil {
		res.status = raw.StatusCode
	}
	if err != nil {
		c.classify(err, &res)
		return Answer{}, res
	}
	if res.status != http.StatusOK {
		res.err = fmt.Errorf("model API answered %d instead of 200", res.status)
		res.retryable = true
		return Answer{}, res
	}
	var cc completion
	if err := json.Unmarshal(data, &cc); err != nil {
		res.err = fmt.Errorf("model API answered something that is not a chat completion: %v", err)
		res.retryable = true
		return Answer{}, res
	}
	if len(cc.Choices) == 0 {
		res.err = errors.New("model API answered without choices")
		res.retryable = true
		return Answer{}, res
	}
	a := Answer{
		Text:  cc.Choices[0].Message.Content,
		Model: cc.Model,
		Usage: Usage{PromptTokens: cc.Usage.PromptTokens, CompletionTokens: cc.Usage.CompletionTokens},
	}
	return a, res
}

// completion is the part of a chat completion tracebatch reads.
type completion struct {
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
	} `json:"choices"`
	Usage Usage `json:"usage"`
}

// encode writes the request's JSON body: model, messages, then the params
// in key order.
func (r Request) encode() ([]byte, error) {
	type message struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	msgs := make([]message, 0, 2)
	if r.System != "" {
		msgs = append(msgs, message{"system", r.System})
	}
	msgs = append(msgs, message{"user", r.Prompt})
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	value := func(v any) error {
		if err := enc.Encode(v); err != nil {
			return err
		}
		b.Truncate(b.Len() - 1) // Encode ends each value with a newline
		return nil
	}
	b.WriteString(`{"model":`)
	if err := value(r.Model); err != nil {
		return nil, err
	}
	b.WriteString(`,"messages":`)
	if err := value(msgs); err != nil {
		return nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(r.Params)) {
		b.WriteByte(',')
		if err := value(k); err != nil {
			return nil, err
		}
		b.WriteByte(':')
		if err := value(r.Params[k]); err != nil {
			return nil, fmt.Errorf("param %s: %w", k, err)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (c *Client) stream(ctx context.Context, req Request, onDelta func(string) error) (Answer, attemptResult) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	p, opts := c.params(req)
	p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	var raw *http.Response
	opts = append(opts, option.WithResponseInto(&raw))
	s := c.oa.Chat.Completions.NewStreaming(ctx, p, opts...)
	defer s.Close()
	var a Answer
	var text strings.Builder
	res := attemptResult{}
	for s.Next() {
		chunk := s.Current()
		if chunk.Model != "" {
			a.Model = chunk.Model
		}
		if chunk.Usage.PromptTokens > 0 || chunk.Usage.CompletionTokens > 0 {
			a.Usage = Usage{PromptTokens: chunk.Usage.PromptTokens, CompletionTokens: chunk.Usage.CompletionTokens}
		}
		for _, ch := range chunk.Choices {
			if ch.Index != 0 || ch.Delta.Content == "" {
				continue
			}
			text.WriteString(ch.Delta.Content)
			res.streamed = true
			if err := onDelta(ch.Delta.Content); err != nil {
				res.err = err
				return a, res
			}
		}
	}
	res.limits = limitsOf(raw)
	if raw != nil {
		res.status = raw.StatusCode
	}
	if err := s.Err(); err != nil {
		c.classify(err, &res)
		return a, res
	}
	if res.status != http.StatusOK {
		res.err = fmt.Errorf("model API answered %d instead of a stream", res.status)
		res.retryable = true
		return a, res
	}
	a.Text = text.String()
	return a, res
}

// classify turns an SDK or transport error into a message without secrets,
// and decides whether it is worth a retry.
func (c *Client) classify(err error, res *attemptResult) {
	var apiErr *openai.Error
	switch {
	case errors.As(err, &apiErr):
		res.status = apiErr.StatusCode
		res.limits = limitsOf(apiErr.Response)
		if apiErr.Response != nil {
			res.wait = max(retry.After(apiErr.Response.Header, time.Now()), resetWait(res.limits))
		}
		res.retryable = res.status == http.StatusTooManyRequests || res.status == http.StatusRequestTimeout ||
			res.status == http.StatusConflict || res.status >= 500
		switch res.status {
		case http.StatusUnauthorized:
			res.err = errors.New("model API rejected the key (401): check --openai-api-key or OPENAI_API_KEY")
		case http.StatusForbidden:
			res.err = errors.New("model API refused access (403): the key may lack access to this model or region")
		default:
			msg := fmt.Sprintf("model API answered %d %s", res.status, http.StatusText(res.status))
			if m := strings.TrimSpace(apiErr.Message); m != "" {
				msg += ": " + c.redact(m)
			}
			res.err = errors.New(msg)
		}
	case errors.Is(err, context.DeadlineExceeded):
		res.err = fmt.Errorf("model API did not answer within %v", c.cfg.Timeout)
		res.retryable = true
	case errors.Is(err, context.Canceled):
		res.err = err
	default:
		// Everything else is the transport (reset, EOF, refused) or an
		// unreadable body: worth another try.
		res.retryable = true
		res.err = fmt.Errorf("model API call failed: %s", c.redact(scrubURL(err)))
	}
}

// redact removes the API key from text a server or library produced.
func (c *Client) redact(s string) string {
	if c.key != "" {
		s = strings.ReplaceAll(s, c.key, "[redacted]")
	}
	return s
}

// scrubURL drops the request URL that net/http puts in its errors.
func scrubURL(err error) string {
	var ue interface{ Unwrap() error }
	msg := err.Error()
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil && strings.HasPrefix(msg, "Post ") {
			return inner.Error()
		}
	}
	return msg
}

// limitsOf reads OpenAI's x-ratelimit-* headers.
func limitsOf(r *http.Response) Limits {
	l := Limits{RemainingRequests: -1, RemainingTokens: -1}
	if r == nil {
		return l
	}
	h := r.Header
	if v, err := strconv.ParseInt(h.Get("X-Ratelimit-Remaining-Requests"), 10, 64); err == nil {
		l.RemainingRequests = v
	}
	if v, err := strconv.ParseInt(h.Get("X-Ratelimit-Remaining-Tokens"), 10, 64); err == nil {
		l.RemainingTokens = v
	}
	l.ResetRequests = parseReset(h.Get("X-Ratelimit-Reset-Requests"))
	l.ResetTokens = parseReset(h.Get("X-Ratelimit-Reset-Tokens"))
	return l
}

// resetWait is how long a 429's rate-limit headers say to wait: until the
// exhausted budget resets.
func resetWait(l Limits) time.Duration {
	var d time.Duration
	if l.RemainingRequests == 0 {
		d = l.ResetRequests
	}
	if l.RemainingTokens == 0 && l.ResetTokens > d {
		d = l.ResetTokens
	}
	return d
}

// parseReset reads OpenAI's reset durations: "1s", "6m0s", "20ms", "1h2m3.5s".
func parseReset(v string) time.Duration {
	if v == "" {
		return 0
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	return 0
}
