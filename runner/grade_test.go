package runner

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/internal/fakeapi"
	"github.com/tracebatch/tracebatch/llm"
	"github.com/tracebatch/tracebatch/report"
)

// withGrader gives the work a grader that uses the same fakes.
func withGrader(t *testing.T, r *rig) func(*Work) {
	return func(w *Work) {
		mc, err := llm.New(llm.Config{BaseURL: r.openai.BaseURL(), APIKey: key, Retries: 1, Backoff: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		w.Grader = &Grader{Audit: w.Audit, Model: mc, Embedder: mc, GraderModel: "grader-model", EmbeddingModel: "text-embedding-3-small"}
	}
}

// gradingAnswers answers prompts "The token is single-use." and grades a
// rubric as passed when the answer mentions the rubric's first word.
func gradingAnswers(c fakeapi.ChatRequest) string {
	if c.System() == graderSystem {
		rubric, answer, _ := strings.Cut(strings.TrimPrefix(c.Prompt(), "Rubric:\n"), "\n\nAnswer:\n")
		word := strings.Fields(rubric)[0]
		if strings.Contains(strings.ToLower(answer), strings.ToLower(word)) {
			return `Verdict: {"pass": true, "reason": "it mentions ` + word + `"}`
		}
		return `{"pass": false, "reason": "no ` + word + `"}`
	}
	return "The token is single-use."
}

func TestModelGradedChecks(t *testing.T) {
	r := newRig(t)
	r.openai.SetAnswer(gradingAnswers)
	suite := `{"id":"rubric-pass","prompt":"p1","expect":[{"type":"llm-rubric","value":"token must be mentioned"}]}
{"id":"rubric-fail","prompt":"p2","expect":[{"type":"llm-rubric","value":"password must be mentioned"}]}
{"id":"similar-pass","prompt":"p3","expect":[{"type":"similar","value":"The token is single-use.","threshold":0.9}]}
{"id":"similar-fail","prompt":"p4","expect":[{"type":"similar","value":"Passkeys sync between devices through a cloud account.","threshold":0.9}]}
`
	if err := r.work(t, suite, 2, withGrader(t, r)).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs := r.records(t)
	want := []string{report.Pass, report.Fail, report.Pass, report.Fail}
	for i, rec := range recs {
		if rec.Status != want[i] {
			t.Errorf("%s: %s, want %s (%+v)", rec.ID, rec.Status, want[i], rec.Checks)
		}
	}
	if c := recs[0].Checks[0]; c.Found != "it mentions token" {
		t.Errorf("rubric reason: %+v", c)
	}
	if c := recs[2].Checks[0]; c.Score == nil || *c.Score < 0.999 || !strings.Contains(c.Found, "cosine") {
		t.Errorf("similar result: %+v", c)
	}
	// The reference text is embedded once for all items that use it, and
	// every embedded text was audited first.
	accepted := map[string]bool{}
	for _, e := range r.pangea.Events() {
		accepted[e.Event["event_input"].(string)] = true
	}
	for _, req := range r.openai.EmbeddingRequests() {
		for _, in := range req.Inputs {
			ev, _ := audit.Format{}.Input("", in, audit.Meta{})
			if !accepted[ev.EventInput] {
				t.Errorf("embedding input %q was not audited", in)
			}
		}
	}
	for _, c := range r.openai.ChatRequests() {
		ev, _ := audit.Format{}.Input(c.System(), c.Prompt(), audit.Meta{})
		if c.System() == graderSystem && !accepted[ev.EventInput] {
			t.Errorf("grader prompt %q was not audited", c.Prompt())
		}
	}
}

func TestGraderIsFailClosed(t *testing.T) {
	r := newRig(t)
	r.openai.SetAnswer(gradingAnswers)
	r.pangea.SetRejector(func(ev map[string]any) (string, bool) {
		in, _ := ev["event_input"].(string)
		return "event_input", strings.Contains(in, "Rubric:") || strings.Contains(in, "EMBED-ME")
	})
	suite := `{"id":"rubric","prompt":"p1","expect":[{"type":"llm-rubric","value":"token must be mentioned"}]}
{"id":"similar","prompt":"p2","expect":[{"type":"similar","value":"EMBED-ME reference"}]}
`
	if err := r.work(t, suite, 2, withGrader(t, r)).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, rec := range r.records(t) {
		if rec.Status != report.Error || !strings.Contains(rec.Checks[0].Error, "audit of the grader's input") || !strings.Contains(rec.Checks[0].Error, "not sent") {
			t.Errorf("%s: %s %+v", rec.ID, rec.Status, rec.Checks)
		}
	}
	for _, c := range r.openai.ChatRequests() {
		if c.System() == graderSystem {
			t.Fatal("a grader prompt whose audit was refused reached the model")
		}
	}
	for _, e := range r.openai.EmbeddingRequests() {
		for _, in := range e.Inputs {
			if strings.Contains(in, "EMBED-ME") {
				t.Fatal("an embedding input whose audit was refused reached the model")
			}
		}
	}
}

func TestGraderWithoutModelLeavesChecksUndecided(t *testing.T) {
	r := newRig(t)
	if err := r.work(t, `{"prompt":"p","expect":[{"type":"similar","value":"x"}]}`+"\n", 1, nil).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec := r.records(t)[0]
	if rec.Status != report.Error || !strings.Contains(rec.Error, "needs a grader") {
		t.Errorf("%+v", rec)
	}
}

func TestVerdictParsing(t *testing.T) {
	for text, want := range map[string]bool{`{"pass": true, "reason": "ok"}`: true, "Sure.\n```json\n{\"pass\":false,\"reason\":\"no\"}\n```": false} {
		got, _, err := verdict(text)
		if err != nil || got != want {
			t.Errorf("%q: %v %v", text, got, err)
		}
	}
	for _, text := range []string{"yes", `{"reason":"no pass field"}`, "{not json}"} {
		if _, _, err := verdict(text); err == nil {
			t.Errorf("%q: no error", text)
		}
	}
}
