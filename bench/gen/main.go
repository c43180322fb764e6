// Command gen writes the inputs of the benchmarks: JSONL suites of N items,
// deterministic for a given N, and a promptfoo config that sends the very
// same chat requests.
//
//	gen -kind run -n 10000 -o out/run-10000.jsonl
//	gen -kind run -n 2000 -o out/pf/suite.jsonl -promptfoo out/pf -base-url http://127.0.0.1:41002/v1 -j 100
//	gen -kind backfill -n 1000000 -o out/history-1000000.jsonl
//
// A run item is a question of about 80 bytes with one of eight contexts of
// about 300 bytes and one check (icontains "answer", which the fake model's
// "Answer to: …" passes). A backfill item is about 1 KB: a question, a
// context, the historical answer, an actor, a timestamp and a model.
//
// With -promptfoo DIR, gen also writes DIR/promptfooconfig.yaml,
// DIR/prompt.json and DIR/tests.jsonl: the same items as promptfoo tests,
// with tracebatch's default system message (prompts.DefaultSystem, the
// context in place of {{context}}) and the prompt as the user message, the
// same model, and an icontains assertion.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/tracebatch/tracebatch/prompts"
)

// words is the vocabulary of the generated text.
var words = strings.Fields(`magic link sign in email inbox token expires minutes single use
device browser session cookie passwordless account security phishing domain redirect
verify click user server secret random entropy hash store database audit log request
response rate limit retry delivery spam filter mobile app deep link fallback code`)

// rng is a small deterministic generator (xorshift), so a suite is the same
// for the same N on every machine.
type rng uint64

func (r *rng) next() uint64 {
	x := uint64(*r)
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	*r = rng(x)
	return x
}

// text returns about n bytes of words drawn from r.
func text(r *rng, n int) string {
	var b strings.Builder
	b.Grow(n + 16)
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[r.next()%uint64(len(words))])
	}
	return b.String()
}

// contexts are the eight contexts of run items.
func contexts() []string {
	cs := make([]string, 8)
	for i := range cs {
		r := rng(1000 + i)
		cs[i] = fmt.Sprintf("Context %d. ", i) + text(&r, 300) + "."
	}
	return cs
}

// runItem is one item of a run suite.
type runItem struct {
	ID      string  `json:"id"`
	Prompt  string  `json:"prompt"`
	Context string  `json:"context"`
	Expect  []check `json:"expect"`
}

type check struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// backfillItem is one historical exchange.
type backfillItem struct {
	ID        string `json:"id"`
	Prompt    string `json:"prompt"`
	Context   string `json:"context"`
	Answer    string `json:"answer"`
	Actor     string `json:"actor"`
	Timestamp string `json:"timestamp"`
	Model     string `json:"model"`
}

func runItemAt(i int, cs []string) runItem {
	r := rng(uint64(i)*2654435761 + 1)
	return runItem{
		ID:      fmt.Sprintf("q-%07d", i),
		Prompt:  fmt.Sprintf("Question %d: what about %s?", i, text(&r, 50)),
		Context: cs[i%len(cs)],
		Expect:  []check{{Type: "icontains", Value: "answer"}},
	}
}

func backfillItemAt(i int) backfillItem {
	r := rng(uint64(i)*2654435761 + 7)
	return backfillItem{
		ID:        fmt.Sprintf("h-%07d", i),
		Prompt:    fmt.Sprintf("Question %d: %s?", i, text(&r, 240)),
		Context:   text(&r, 420) + ".",
		Answer:    text(&r, 200) + ".",
		Actor:     fmt.Sprintf("user-%d", i%997),
		Timestamp: fmt.Sprintf("2025-%02d-%02dT%02d:%02d:%02dZ", 1+i%12, 1+i%28, i%24, i%60, (i/60)%60),
		Model:     "gpt-4o-mini",
	}
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("gen: ")
	kind := flag.String("kind", "run", "run (prompt suite) or backfill (historical exchanges, about 1 KB each)")
	n := flag.Int("n", 1000, "number of items")
	out := flag.String("o", "", "the JSONL file to write (required)")
	pfDir := flag.String("promptfoo", "", "also write a promptfoo config for the same prompts into this folder (run only)")
	baseURL := flag.String("base-url", "http://127.0.0.1:8080/v1", "the OpenAI base URL promptfoo is pointed at")
	model := flag.String("model", "gpt-4o-mini", "the model named in the requests")
	flag.Parse()
	if *out == "" || *n < 0 {
		log.Fatal("usage: gen -kind run|backfill -n N -o FILE [-promptfoo DIR -base-url URL]")
	}
	if *kind != "run" && *kind != "backfill" {
		log.Fatalf("-kind: want run or backfill, got %q", *kind)
	}
	if *pfDir != "" && *kind != "run" {
		log.Fatal("-promptfoo goes with -kind run")
	}

	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		log.Fatal(err)
	}
	cs := contexts()
	err := writeJSONL(*out, *n, func(i int) any {
		if *kind == "backfill" {
			return backfillItemAt(i)
		}
		return runItemAt(i, cs)
	})
	if err != nil {
		log.Fatal(err)
	}
	if *pfDir != "" {
		if err := writePromptfoo(*pfDir, *n, cs, *baseURL, *model); err != nil {
			log.Fatal(err)
		}
	}
}

// writeJSONL writes n lines, item(i) for i in [0, n), to path.
func writeJSONL(path string, n int, item func(int) any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range n {
		if err := enc.Encode(item(i)); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// pfTest is one promptfoo test case.
type pfTest struct {
	Description string            `json:"description"`
	Vars        map[string]string `json:"vars"`
	Assert      []check           `json:"assert"`
}

// writePromptfoo writes the promptfoo config, prompt and tests of the run
// suite of n items into dir.
func writePromptfoo(dir string, n int, cs []string, baseURL, model string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// The same messages tracebatch sends: its default system message with
	// the context in place of {{context}} (promptfoo's Nunjucks templates
	// use the same syntax), then the prompt.
	prompt, err := json.MarshalIndent([]map[string]string{
		{"role": "system", "content": prompts.DefaultSystem},
		{"role": "user", "content": "{{prompt}}"},
	}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "prompt.json"), append(prompt, '\n'), 0o644); err != nil {
		return err
	}
	err = writeJSONL(filepath.Join(dir, "tests.jsonl"), n, func(i int) any {
		it := runItemAt(i, cs)
		return pfTest{Description: it.ID, Vars: map[string]string{"prompt": it.Prompt, "context": it.Context}, Assert: it.Expect}
	})
	if err != nil {
		return err
	}
	config := fmt.Sprintf(`# Generated by bench/gen: the same %d prompts as the tracebatch suite,
# sent to the same fake OpenAI endpoint.
description: tracebatch bench, %d prompts
prompts:
  - file://prompt.json
providers:
  - id: openai:chat:%s
    config:
      apiBaseUrl: %s
      apiKey: sk-bench
tests: file://tests.jsonl
`, n, n, model, baseURL)
	return os.WriteFile(filepath.Join(dir, "promptfooconfig.yaml"), []byte(config), 0o644)
}
