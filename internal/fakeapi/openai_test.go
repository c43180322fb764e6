package fakeapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

const testKey = "sk-test-key-0123456789"

// sdkClient returns an OpenAI SDK client for the fake, without retries.
func sdkClient(o *OpenAI, opts ...option.RequestOption) openai.Client {
	base := []option.RequestOption{
		option.WithBaseURL(o.BaseURL()),
		option.WithAPIKey(testKey),
		option.WithMaxRetries(0),
		option.WithHTTPClient(o.Client()),
	}
	return openai.NewClient(append(base, opts...)...)
}

// chatParams returns a chat request with a system and a user message.
func chatParams(system, prompt string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(system), openai.UserMessage(prompt)},
	}
}

func TestOpenAIChat(t *testing.T) {
	o := StartOpenAI(t, testKey)
	client := sdkClient(o)
	var resp *http.Response
	params := chatParams("Use this context: magic links.", "What are magic links?")
	params.Temperature = openai.Float(0.2)
	params.Seed = openai.Int(7)
	c, err := client.Chat.Completions.New(context.Background(), params, option.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultAnswer("Use this context: magic links.", "What are magic links?")
	if len(c.Choices) != 1 || c.Choices[0].Message.Content != want || c.Choices[0].FinishReason != "stop" || string(c.Choices[0].Message.Role) != "assistant" {
		t.Fatalf("completion %+v, want answer %q", c.Choices, want)
	}
	if !strings.HasPrefix(c.ID, "chatcmpl-") || c.Model != "gpt-4o-mini" || string(c.Object) != "chat.completion" || c.Created == 0 {
		t.Errorf("completion id %q model %q object %q created %d", c.ID, c.Model, c.Object, c.Created)
	}
	wantPrompt := int64(EstimateTokens("Use this context: magic links.") + EstimateTokens("What are magic links?"))
	if c.Usage.PromptTokens != wantPrompt || c.Usage.CompletionTokens != int64(EstimateTokens(want)) || c.Usage.TotalTokens != c.Usage.PromptTokens+c.Usage.CompletionTokens {
		t.Errorf("usage %+v", c.Usage)
	}
	for _, h := range []string{"x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests", "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("header %s missing", h)
		}
	}

	reqs := o.ChatRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d chat requests recorded", len(reqs))
	}
	r := reqs[0]
	if r.Model != "gpt-4o-mini" || r.Stream || r.Answer != want || r.Status != 200 || r.ID != c.ID || r.Prompt() != "What are magic links?" || r.System() != "Use this context: magic links." {
		t.Errorf("recorded %+v", r)
	}
	if len(r.Messages) != 2 || r.Messages[0].Role != "system" || r.Messages[1].Role != "user" {
		t.Errorf("messages %+v", r.Messages)
	}
	if string(r.Params["temperature"]) != "0.2" || string(r.Params["seed"]) != "7" {
		t.Errorf("params %v", r.Params)
	}
}

func TestOpenAIStream(t *testing.T) {
	o := StartOpenAI(t, testKey)
	client := sdkClient(o)
	params := chatParams("sys", "Explain magic links in a few words please")
	params.StreamOptions.IncludeUsage = openai.Bool(true)
	stream := client.Chat.Completions.NewStreaming(context.Background(), params)
	var acc openai.ChatCompletionAccumulator
	var content strings.Builder
	var deltas, usageChunks int
	var finish string
	for stream.Next() {
		ch := stream.Current()
		acc.AddChunk(ch)
		if string(ch.Object) != "chat.completion.chunk" {
			t.Errorf("object %q", ch.Object)
		}
		if len(ch.Choices) == 0 {
			usageChunks++
			continue
		}
		if ch.Choices[0].Delta.Content != "" {
			deltas++
			content.WriteString(ch.Choices[0].Delta.Content)
		}
		if ch.Choices[0].FinishReason != "" {
			finish = ch.Choices[0].FinishReason
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	want := DefaultAnswer("sys", "Explain magic links in a few words please")
	if content.String() != want || deltas < 3 || finish != "stop" || usageChunks != 1 {
		t.Errorf("streamed %q in %d deltas, finish %q, %d usage chunks; want %q", content.String(), deltas, finish, usageChunks, want)
	}
	if acc.Usage.TotalTokens == 0 || acc.Choices[0].Message.Content != want {
		t.Errorf("accumulated %+v", acc.ChatCompletion)
	}
	r := o.ChatRequests()[0]
	if !r.Stream || r.Answer != want || r.Status != 200 {
		t.Errorf("recorded %+v", r)
	}

	// Without include_usage there is no usage chunk.
	stream = client.Chat.Completions.NewStreaming(context.Background(), chatParams("sys", "hi there"))
	for stream.Next() {
		if len(stream.Current().Choices) == 0 {
			t.Errorf("usage chunk without include_usage")
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenAIRawStreamFraming(t *testing.T) {
	o := StartOpenAI(t, testKey)
	body := `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":[{"type":"text","text":"two "},{"type":"text","text":"parts"}]}]}`
	req, _ := http.NewRequest("POST", o.BaseURL()+"/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := o.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Errorf("content type %q", resp.Header.Get("Content-Type"))
	}
	events := strings.Split(strings.TrimSuffix(string(data), "\n\n"), "\n\n")
	if events[len(events)-1] != "data: [DONE]" {
		t.Errorf("last event %q", events[len(events)-1])
	}
	for _, e := range events {
		if !strings.HasPrefix(e, "data: ") {
			t.Errorf("event %q is not a data line", e)
		}
	}
	if got := o.ChatRequests()[0].Prompt(); got != "two parts" {
		t.Errorf("prompt from content parts %q", got)
	}
}

func TestOpenAIEmbeddings(t *testing.T) {
	o := StartOpenAI(t, testKey)
	client := sdkClient(o)
	inputs := []string{"Magic links are passwordless login links.", "Magic links are passwordless login links!", "The weather in Paris is rainy today."}
	res, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
		Model: "text-embedding-3-small",
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: inputs},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Data) != 3 || res.Model != "text-embedding-3-small" || res.Usage.PromptTokens == 0 {
		t.Fatalf("answer %+v", res)
	}
	for i, d := range res.Data {
		if d.Index != int64(i) || len(d.Embedding) != DefaultEmbeddingDims {
			t.Errorf("vector %d: index %d, %d dims", i, d.Index, len(d.Embedding))
		}
		if c := Cosine(d.Embedding, Embed(inputs[i], DefaultEmbeddingDims)); c < 0.999999 {
			t.Errorf("vector %d differs from Embed: cosine %v", i, c)
		}
	}
	if c := Cosine(res.Data[0].Embedding, res.Data[1].Embedding); c < 0.999 {
		t.Errorf("same words: cosine %v", c)
	}
	if c := Cosine(res.Data[0].Embedding, res.Data[2].Embedding); c > 0.6 {
		t.Errorf("unrelated texts: cosine %v", c)
	}
	if c := Cosine(Embed("magic links passwordless login", 64), Embed("magic links passwordless sign in", 64)); c < 0.6 {
		t.Errorf("similar texts: cosine %v", c)
	}

	// One string, base64 encoding, custom dimensions.
	res, err = client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
		Model:          "text-embedding-3-small",
		Input:          openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hello world")},
		EncodingFormat: openai.EmbeddingNewParamsEncodingFormatBase64,
		Dimensions:     openai.Int(16),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Data) != 1 || len(res.Data[0].Embedding) != 16 || Cosine(res.Data[0].Embedding, Embed("hello world", 16)) < 0.99999 {
		t.Errorf("base64 answer %+v", res.Data)
	}
	got := o.EmbeddingRequests()
	if len(got) != 2 || len(got[0].Inputs) != 3 || got[0].Inputs[2] != inputs[2] || got[1].Dimensions != 16 || got[1].Status != 200 {
		t.Errorf("recorded %+v", got)
	}
}

func TestOpenAIAuth(t *testing.T) {
	o := StartOpenAI(t, testKey)
	client := sdkClient(o, option.WithAPIKey("sk-wrong-secret"))
	_, err := client.Chat.Completions.New(context.Background(), chatParams("s", "p"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Code != "invalid_api_key" || apiErr.Type != "invalid_request_error" {
		t.Fatalf("error %v", err)
	}
	if strings.Contains(apiErr.RawJSON(), "wrong-secret") {
		t.Errorf("the error echoes the key: %s", apiErr.RawJSON())
	}
	if r := o.ChatRequests(); len(r) != 1 || r[0].Status != 401 || r[0].Answer != "" {
		t.Errorf("recorded %+v", r)
	}
}

func TestOpenAIValidation(t *testing.T) {
	o := StartOpenAI(t, testKey)
	for _, tt := range []struct{ path, body, param string }{
		{"/chat/completions", `{"model":"m","messages":[]}`, "messages"},
		{"/chat/completions", `{"messages":[{"role":"user","content":"x"}]}`, ""},
		{"/chat/completions", `not json`, ""},
		{"/embeddings", `{"model":"m","input":[1,2,3]}`, "input"},
		{"/embeddings", `{"model":"m","input":""}`, "input"},
	} {
		req, _ := http.NewRequest("POST", o.BaseURL()+tt.path, strings.NewReader(tt.body))
		req.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := o.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Error struct {
				Message string  `json:"message"`
				Type    string  `json:"type"`
				Param   *string `json:"param"`
			} `json:"error"`
		}
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		param := ""
		if e.Error.Param != nil {
			param = *e.Error.Param
		}
		if err != nil || resp.StatusCode != 400 || e.Error.Type != "invalid_request_error" || e.Error.Message == "" || param != tt.param {
			t.Errorf("%s %s: %d %+v (%v)", tt.path, tt.body, resp.StatusCode, e, err)
		}
	}
}

func TestOpenAICustomAnswerAndMaxTokens(t *testing.T) {
	o := StartOpenAI(t, testKey)
	o.SetAnswer(func(c ChatRequest) string {
		if strings.Contains(strings.ToLower(c.Prompt()), "magic link") {
			return "A magic link is a one-time login URL sent by email."
		}
		return "I don't know."
	})
	client := sdkClient(o)
	c, err := client.Chat.Completions.New(context.Background(), chatParams("", "What is the capital of France?"))
	if err != nil || c.Choices[0].Message.Content != "I don't know." {
		t.Fatalf("answer %v (%v)", c, err)
	}
	params := chatParams("", "Tell me about magic links")
	params.MaxTokens = openai.Int(3)
	c, err = client.Chat.Completions.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Choices[0].Message.Content; got != "A magic link" || c.Choices[0].FinishReason != "length" || c.Usage.CompletionTokens != 3 {
		t.Errorf("cut answer %q, finish %q, usage %+v", got, c.Choices[0].FinishReason, c.Usage)
	}
	o.SetAnswer(nil)
	c, err = client.Chat.Completions.New(context.Background(), chatParams("", "x"))
	if err != nil || c.Choices[0].Message.Content != DefaultAnswer("", "x") {
		t.Errorf("default not restored: %v (%v)", c, err)
	}
}

func TestOpenAIRateLimitHeaders(t *testing.T) {
	o := StartOpenAI(t, testKey)
	o.SetRateLimits(RateLimits{Requests: 3, Tokens: 1000, Window: time.Minute, Enforce: true})
	client := sdkClient(o)
	var remaining []string
	var tokens []int
	for range 3 {
		var resp *http.Response
		if _, err := client.Chat.Completions.New(context.Background(), chatParams("s", "a prompt"), option.WithResponseInto(&resp)); err != nil {
			t.Fatal(err)
		}
		remaining = append(remaining, resp.Header.Get("x-ratelimit-remaining-requests"))
		n, _ := strconv.Atoi(resp.Header.Get("x-ratelimit-remaining-tokens"))
		tokens = append(tokens, n)
		if reset, err := time.ParseDuration(resp.Header.Get("x-ratelimit-reset-requests")); err != nil || reset <= 0 || reset > time.Minute {
			t.Errorf("reset %q", resp.Header.Get("x-ratelimit-reset-requests"))
		}
	}
	if strings.Join(remaining, ",") != "2,1,0" || !(tokens[0] > tokens[1] && tokens[1] > tokens[2]) {
		t.Errorf("remaining requests %v, tokens %v", remaining, tokens)
	}
	_, err := client.Chat.Completions.New(context.Background(), chatParams("s", "a prompt"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Code != "rate_limit_exceeded" {
		t.Errorf("over budget: %v", err)
	}
	if r := o.ChatRequests(); r[3].Status != 429 || r[3].Answer != "" || r[3].Fault != NoFault {
		t.Errorf("recorded %+v", r[3])
	}
}

func TestOpenAIErrorFaults(t *testing.T) {
	o := StartOpenAI(t, testKey)
	params := DefaultFaultParams()
	params.RetryAfter429 = 6 * time.Minute
	params.RetryAfter503 = 2 * time.Second
	o.SetFaultParams(params)
	o.SetFaults(Sequence(Status429, Status500, Status503))
	client := sdkClient(o)
	for _, want := range []struct {
		status     int
		typ        string
		retryAfter string
	}{{429, "requests", "360"}, {500, "server_error", ""}, {503, "server_error", "2"}} {
		_, err := client.Chat.Completions.New(context.Background(), chatParams("s", "p"))
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != want.status || apiErr.Type != want.typ || apiErr.Message == "" {
			t.Fatalf("error %v, want %d", err, want.status)
		}
		h := apiErr.Response.Header
		if h.Get("Retry-After") != want.retryAfter || h.Get("x-ratelimit-limit-requests") == "" {
			t.Errorf("%d: Retry-After %q, headers %v", want.status, h.Get("Retry-After"), h)
		}
		if want.status == 429 && (h.Get("x-ratelimit-remaining-requests") != "0" || h.Get("x-ratelimit-reset-requests") != "6m0s" || h.Get("x-ratelimit-reset-tokens") != "6m0s") {
			t.Errorf("429 headers %v", h)
		}
	}
	for i, r := range o.ChatRequests() {
		if r.Answer != "" || r.Fault == NoFault {
			t.Errorf("request %d recorded %+v", i, r)
		}
	}
}

func TestOpenAIDeliveryFaults(t *testing.T) {
	o := StartOpenAI(t, testKey)
	client := sdkClient(o)
	ctx := context.Background()

	o.SetFaults(Always(Accepted202))
	var resp *http.Response
	c, err := client.Chat.Completions.New(ctx, chatParams("s", "p"), option.WithResponseInto(&resp))
	if err != nil || resp.StatusCode != 202 || len(c.Choices) != 0 {
		t.Errorf("Accepted202: status %d, %d choices, %v", resp.StatusCode, len(c.Choices), err)
	}

	o.SetFaults(Always(Malformed))
	if _, err := client.Chat.Completions.New(ctx, chatParams("s", "p")); err == nil {
		t.Errorf("Malformed: no error")
	}
	stream := client.Chat.Completions.NewStreaming(ctx, chatParams("s", "p"))
	for stream.Next() {
	}
	if stream.Err() == nil {
		t.Errorf("Malformed stream: no error")
	}

	o.SetFaults(Always(DropMidStream))
	if _, err := client.Chat.Completions.New(ctx, chatParams("s", "p")); err == nil {
		t.Errorf("DropMidStream: no error")
	}
	stream = client.Chat.Completions.NewStreaming(ctx, chatParams("s", "a longer prompt with many words"))
	var got strings.Builder
	var chunks int
	for stream.Next() {
		chunks++
		if ch := stream.Current(); len(ch.Choices) > 0 {
			got.WriteString(ch.Choices[0].Delta.Content)
		}
	}
	if stream.Err() == nil || chunks != DefaultFaultParams().StreamChunks || !strings.HasPrefix(DefaultAnswer("s", "a longer prompt with many words"), got.String()) {
		t.Errorf("DropMidStream stream: %d chunks, %q, error %v", chunks, got.String(), stream.Err())
	}

	o.SetFaults(Always(Drop))
	if _, err := client.Chat.Completions.New(ctx, chatParams("s", "p")); err == nil {
		t.Errorf("Drop: no error")
	}
	if _, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "e", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")}}); err == nil {
		t.Errorf("Drop embeddings: no error")
	}

	o.SetFaults(Always(Timeout))
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = client.Chat.Completions.New(tctx, chatParams("s", "p"))
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Timeout: %v", err)
	}

	fp := DefaultFaultParams()
	fp.SlowDelay = 60 * time.Millisecond
	o.SetFaultParams(fp)
	o.SetFaults(Always(Slow))
	start := time.Now()
	if _, err := client.Chat.Completions.New(ctx, chatParams("s", "p")); err != nil || time.Since(start) < 60*time.Millisecond {
		t.Errorf("Slow: %v after %v", err, time.Since(start))
	}

	var faults []string
	for _, r := range o.ChatRequests() {
		faults = append(faults, r.Fault.String()+":"+strconv.Itoa(r.Status))
	}
	want := "Accepted202:202 Malformed:200 Malformed:200 DropMidStream:200 DropMidStream:200 Drop:0 Timeout:0 Slow:200"
	if strings.Join(faults, " ") != want {
		t.Errorf("recorded %v\nwant     %v", faults, want)
	}
}

func TestOpenAIConcurrencyGauge(t *testing.T) {
	o := StartOpenAI(t, testKey)
	o.SetLatency(100*time.Millisecond, 0)
	const n = 6
	tr := &http.Transport{MaxIdleConnsPerHost: n}
	defer tr.CloseIdleConnections()
	client := sdkClient(o, option.WithHTTPClient(&http.Client{Transport: tr}))
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := client.Chat.Completions.New(context.Background(), chatParams("s", strconv.Itoa(i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	st := o.Stats()
	if st.MaxInFlight != n || st.InFlight != 0 || st.Requests != n || o.ChatCount() != n {
		t.Errorf("stats %+v, %d chats", st, o.ChatCount())
	}
	// Later rounds reuse the connections (a few more may be dialed while a
	// finished one is on its way back to the idle pool).
	o.SetLatency(0, 0)
	o.ResetMaxInFlight()
	const rounds = 5
	for range rounds {
		for i := range n {
			wg.Go(func() {
				if _, err := client.Chat.Completions.New(context.Background(), chatParams("s", strconv.Itoa(i))); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	if st2 := o.Stats(); st2.ConnsOpened > 2*n || st2.Requests != (rounds+1)*n || st2.MaxInFlight > n {
		t.Errorf("after %d requests: %+v", (rounds+1)*n, st2)
	}
	o.SetRetention(RetainCounts)
	if _, err := client.Chat.Completions.New(context.Background(), chatParams("s", "x")); err != nil {
		t.Fatal(err)
	}
	if len(o.ChatRequests()) != (rounds+1)*n || o.ChatCount() != (rounds+1)*n+1 {
		t.Errorf("RetainCounts: %d kept, %d counted", len(o.ChatRequests()), o.ChatCount())
	}
}

func TestOpenAIModelsAndUnknownPath(t *testing.T) {
	o := StartOpenAI(t, testKey)
	client := sdkClient(o)
	page, err := client.Models.List(context.Background())
	if err != nil || len(page.Data) == 0 {
		t.Fatalf("models: %v", err)
	}
	req, _ := http.NewRequest("POST", o.BaseURL()+"/nothing", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := o.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown path: %d", resp.StatusCode)
	}
}

func TestFaultPolicies(t *testing.T) {
	first := FailFirst(2, Status500)
	seq := Sequence(Status429, NoFault, Drop)
	var got []Fault
	for range 4 {
		got = append(got, first(Call{}), seq(Call{}))
	}
	if want := "[Status500 Status429 Status500 NoFault NoFault Drop NoFault NoFault]"; fmtFaults(got) != want {
		t.Errorf("got %v, want %v", got, want)
	}

	onLog := OnPaths(FailFirst(1, Status503), "/v2/log")
	if onLog(Call{Path: "/v1/schema"}) != NoFault || onLog(Call{Path: "/v2/log"}) != Status503 || onLog(Call{Path: "/v2/log"}) != NoFault {
		t.Errorf("OnPaths does not filter")
	}
	both := Combine(OnPaths(Always(Status429), "/a"), Always(Slow))
	if both(Call{Path: "/a"}) != Status429 || both(Call{Path: "/b"}) != Slow {
		t.Errorf("Combine")
	}

	draw := func(seed uint64) []Fault {
		p := FailRandom(seed, 0.3, Status429, Drop)
		var fs []Fault
		for range 200 {
			fs = append(fs, p(Call{}))
		}
		return fs
	}
	a, b := draw(42), draw(42)
	var failed int
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different faults at %d", i)
		}
		if a[i] != NoFault {
			failed++
			if a[i] != Status429 && a[i] != Drop {
				t.Fatalf("fault %v not in the mix", a[i])
			}
		}
	}
	if failed < 30 || failed > 90 {
		t.Errorf("%d of 200 failed with p=0.3", failed)
	}
	// Safe for concurrent use.
	p := FailRandom(1, 0.5)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if f := p(Call{}); f != NoFault && f != Status500 {
					t.Errorf("fault %v", f)
				}
			}
		})
	}
	wg.Wait()
	if Fault(200).String() != "Fault(200)" || Status429.String() != "Status429" {
		t.Errorf("String")
	}
}

// fmtFaults formats faults as fmt.Sprint does.
func fmtFaults(fs []Fault) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = f.String()
	}
	return "[" + strings.Join(s, " ") + "]"
}

func TestAnswerHelpers(t *testing.T) {
	if got := DefaultAnswer("sys", "What?"); !strings.HasPrefix(got, "Answer to: What? [") || len(got) != len("Answer to: What? [12345678]") {
		t.Errorf("DefaultAnswer %q", got)
	}
	if DefaultAnswer("a", "b") == DefaultAnswer("b", "b") {
		t.Errorf("the system message does not change the answer")
	}
	for _, s := range []string{"", "one", "two words", "a  b   c ", "Answer to: x [ab]"} {
		if strings.Join(streamPieces(s), "") != s {
			t.Errorf("pieces of %q do not join back", s)
		}
	}
	if EstimateTokens("") != 0 || EstimateTokens("abcd") != 1 || EstimateTokens("abcde") != 2 {
		t.Errorf("EstimateTokens")
	}
	if cut, ok := truncateTokens("héllo wörld", 1); !ok || cut != "hél" {
		t.Errorf("truncateTokens cut %q", cut)
	}
	if v := Embed("", 8); v[0] != 1 {
		t.Errorf("empty text embeds as %v", v)
	}
}
