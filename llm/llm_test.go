package llm

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tracebatch/tracebatch/internal/fakeapi"
)

const testKey = "sk-test-key-never-printed-0123456789"

func newTestClient(t *testing.T, o *fakeapi.OpenAI, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: o.BaseURL(), APIKey: testKey, Retries: 4, Backoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var req = Request{Model: "gpt-4o-mini", System: "Context: <magic> & links", Prompt: "What are magic links?", Params: map[string]any{"temperature": 0, "seed": 7, "top_k": 40}}

func TestCompleteSendsExactlyTheRequest(t *testing.T) {
	o := fakeapi.StartOpenAI(t, testKey)
	c := newTestClient(t, o, nil)
	a, err := c.Complete(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if want := fakeapi.DefaultAnswer(req.System, req.Prompt); a.Text != want {
		t.Errorf("answer %q, want %q", a.Text, want)
	}
	if a.Attempts != 1 || a.Usage.PromptTokens == 0 || a.Usage.CompletionTokens == 0 || a.Model == "" {
		t.Errorf("answer metadata: %+v", a)
	}
	got := o.ChatRequests()
	if len(got) != 1 {
		t.Fatalf("%d requests", len(got))
	}
	r := got[0]
	if r.Model != req.Model || r.System() != req.System || r.Prompt() != req.Prompt || len(r.Messages) != 2 {
		t.Errorf("sent %+v", r)
	}
	for k, want := range map[string]string{"temperature": "0", "seed": "7", "top_k": "40"} {
		if string(r.Params[k]) != want {
			t.Errorf("param %s sent as %s, want %s", k, r.Params[k], want)
		}
	}
}

func TestCompleteWithoutSystemSendsOnlyThePrompt(t *testing.T) {
	o := fakeapi.StartOpenAI(t, testKey)
	c := newTestClient(t, o, nil)
	if _, err := c.Complete(context.Background(), Request{Model: "m", Prompt: "hi"}); err != nil {
		t.Fatal(err)
	}
	if msgs := o.ChatRequests()[0].Messages; len(msgs) != 1 || msgs[0].Role != "user" {
		t.Errorf("sent %+v", msgs)
	}
}

func TestCompleteRetriesWhatCanBeRetried(t *testing.T) {
	o := fakeapi.StartOpenAI(t, testKey)
	params := fakeapi.DefaultFaultParams()
	params.RetryAfter429 = 0
	params.SlowDelay = time.Second
	o.SetFaultParams(params)
	faults := []fakeapi.Fault{fakeapi.Status429, fakeapi.Status500, fakeapi.Status503, fakeapi.Accepted202, fakeapi.Drop, fakeapi.DropMidStream, fakeapi.Malformed, fakeapi.Timeout, fakeapi.Slow}
	o.SetFaults(fakeapi.Sequence(faults...))
	c := newTestClient(t, o, func(cfg *Config) { cfg.Retries = len(faults); cfg.Timeout = 300 * time.Millisecond })
	a, err := c.Complete(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if a.Attempts != len(faults)+1 {
		t.Errorf("%d attempts, want %d", a.Attempts, len(faults)+1)
	}
	if want := fakeapi.DefaultAnswer(req.System, req.Prompt); a.Text != want {
		t.Errorf("answer %q", a.Text)
	}
}

func TestCompleteHonoursRateLimitReset(t *testing.T) {
	o := fakeapi.StartOpenAI(t, testKey)
	o.SetRateLimits(fakeapi.RateLimits{Requests: 1, Tokens: 1 << 30, Window: time.Second, Enforce: true})
	c := newTestClient(t, o, func(cfg *Config) { cfg.MaxBackoff = 5 * time.Second })
	if _, err := c.Complete(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	a, err := c.Complete(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if a.Attempts < 2 {
		t.Fatalf("the second call within the window did not meet a 429: %d attempts", a.Attempts)
	}
	reqs := o.ChatRequests()
	last := reqs[len(reqs)-1]
	if gap := last.Time.Sub(reqs[0].Time); gap < 900*time.Millisecond {
		t.Errorf("retried into the same window: %v after the first call", gap)
	}
}

func TestCompleteGivesUpWithoutLeakingTheKey(t *testing.T) {
	o := fakeapi.StartOpenAI(t, testKey)
	o.SetFaults(fakeapi.Always(fakeapi.Status500))
	c := newTestClient(t, o, func(cfg *Config) { cfg.Retries = 2 })
	_, err := c.Complete(context.Background(), req)
	var e *Error
	if !errors.As(err, &e) || e.Attempts != 3 || e.Status != 500 {
		t.Fatalf("got %v, want an Error after 3 attempts with status 500", err)
	}
	if !strings.Contains(err.Error(), "3 attempts") || strings.Contains(err.Error(), testKey) {
		t.Errorf("message: %s", err)
	}
}

func TestBadKeyIsNotRetried(t *testing.T) {
	o := fakeapi.StartOpenAI(t, "sk-another-key")
	c := newTestClient(t, o, nil)
	_, err := c.Complete(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "OPENAI_API_KEY") || strings.Contains(err.Error(), testKey) {
		t.Fatalf("got %v", err)
	}
	if n := o.ChatCount(); n != 1 {
		t.Errorf("a 401 was retried: %d requests", n)
	}
}

func TestStreamDeliversTheAnswerInPieces(t *testing.T) {
	o := fakeapi.StartOpenAI(t, testKey)
	c := newTestClient(t, o, nil)
	var pieces []string
	a, err := c.Stream(context.Background(), req, func(s string) error {
		pieces = append(pieces, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := fakeapi.DefaultAnswer(req.System, req.Prompt)
	if strings.Join(pieces, "") != want || a.Text != want || len(pieces) < 2 {
		t.Errorf("pieces %q, answer %q", pieces, a.Text)
	}
	if a.Usage.CompletionTokens == 0 {
		t.Errorf("no usage from the stream: %+v", a.Usage)
	}
	if !o.ChatRequests()[0].Stream {
		t.Error("request was not streamed")
	}
}

func TestStreamIsRetriedOnlyBeforeItsFirstPiece(t *testing.T) {
	o := fakeapi.StartOpenAI(t, testKey)
	o.SetFaults(fakeapi.Sequence(fakeapi.Status503, fakeapi.DropMidStream))
	c := newTestClient(t, o, nil)
	var got strings.Builder
	_, err := c.Stream(context.Background(), req, func(s string) error {
		got.WriteString(s)
		return nil
	})
	if err == nil {
		t.Fatal("a stream cut after it began was retried silently")
	}
	if n := o.ChatCount(); n != 2 {
		t.Errorf("%d requests: want the 503 retried, the cut stream not", n)
	}
}

func TestPlaintextRefusedForRemoteHosts(t *testing.T) {
	if _, err := New(Config{BaseURL: "http://gpu-box:8000/v1", APIKey: testKey}); err == nil || !strings.Contains(err.Error(), "--insecure") {
		t.Fatalf("got %v", err)
	}
	if _, err := New(Config{BaseURL: "http://gpu-box:8000/v1", APIKey: testKey, Insecure: true}); err != nil {
		t.Fatal(err)
	}
}

func TestEncodeIsTheDryRunBody(t *testing.T) {
	body, err := req.encode()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	want, _ := json.Marshal(req.Body())
	var w map[string]any
	json.Unmarshal(want, &w)
	if !reflect.DeepEqual(got, w) {
		t.Errorf("sent %s\ndry run shows %s", body, want)
	}
	if !strings.Contains(string(body), "<magic> & links") {
		t.Errorf("text escaped on the wire: %s", body)
	}
}
