package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/checks"
	"github.com/tracebatch/tracebatch/llm"
)

// Embedder embeds texts; *llm.Client is one.
type Embedder interface {
	Embed(ctx context.Context, model string, inputs []string) ([][]float64, error)
}

// Grader decides the model-graded checks: llm-rubric asks a grader model
// whether an answer meets a rubric, similar compares embeddings. Every text
// it sends is audited first, like any prompt: a grader input whose event is
// not accepted is never sent, and the check is undecided.
type Grader struct {
	// Audit records the grader's inputs before they are sent.
	Audit Recorder
	// Model answers the rubric prompts; Embedder embeds texts.
	Model    Completer
	Embedder Embedder
	// Format builds the audit events.
	Format audit.Format
	// GraderModel and EmbeddingModel name the models.
	GraderModel, EmbeddingModel string

	mu   sync.Mutex
	refs map[string]*embedding // reference texts, embedded once
}

type embedding struct {
	once sync.Once
	vec  []float64
	err  error
}

// graderSystem instructs the grader model.
const graderSystem = `You grade an answer against a rubric. Decide whether the answer satisfies
the rubric. Reply with one JSON object and nothing else:
{"pass": true or false, "reason": "one short sentence"}`

// Rubric asks the grader model whether answer meets rubric, and returns its
// verdict and reason.
func (g *Grader) Rubric(ctx context.Context, rubric, answer string) (bool, string, error) {
	prompt := "Rubric:\n" + rubric + "\n\nAnswer:\n" + answer
	if err := g.record(ctx, graderSystem, prompt, g.GraderModel); err != nil {
		return false, "", err
	}
	a, err := g.Model.Complete(ctx, llm.Request{Model: g.GraderModel, System: graderSystem, Prompt: prompt, Params: map[string]any{"temperature": 0}})
	if err != nil {
		return false, "", fmt.Errorf("grader: %w", err)
	}
	return verdict(a.Text)
}

// verdict reads the grader's JSON answer, tolerating text around it.
func verdict(text string) (bool, string, error) {
	i, j := strings.Index(text, "{"), strings.LastIndex(text, "}")
	if i < 0 || j < i {
		return false, "", fmt.Errorf("grader gave no verdict: %q", clip(text, 120))
	}
	var v struct {
		Pass   *bool  `json:"pass"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal([]byte(text[i:j+1]), &v); err != nil || v.Pass == nil {
		return false, "", fmt.Errorf("grader gave no verdict: %q", clip(text, 120))
	}
	return *v.Pass, v.Reason, nil
}

// maxRefs bounds the reference embeddings kept: a suite whose items each
// have their own reference must not grow memory with the suite.
const maxRefs = 256

// Similarity is the cosine of the embeddings of reference and answer. A
// reference several items share is embedded once (when cacheRef is set and
// fewer than maxRefs are kept).
func (g *Grader) Similarity(ctx context.Context, reference, answer string, cacheRef bool) (float64, error) {
	var refVec []float64
	if cacheRef {
		g.mu.Lock()
		if g.refs == nil {
			g.refs = map[string]*embedding{}
		}
		ref, ok := g.refs[reference]
		if !ok && len(g.refs) < maxRefs {
			ref = &embedding{}
			g.refs[reference] = ref
		}
		g.mu.Unlock()
		if ref != nil {
			ref.once.Do(func() { ref.vec, ref.err = g.embed(ctx, reference) })
			if ref.err != nil {
				return 0, ref.err
			}
			refVec = ref.vec
		}
	}
	if refVec == nil {
		var err error
		if refVec, err = g.embed(ctx, reference); err != nil {
			return 0, err
		}
	}
	vec, err := g.embed(ctx, answer)
	if err != nil {
		return 0, err
	}
	return cosine(refVec, vec)
}

func (g *Grader) embed(ctx context.Context, text string) ([]float64, error) {
	if err := g.record(ctx, "", text, g.EmbeddingModel); err != nil {
		return nil, err
	}
	vecs, err := g.Embedder.Embed(ctx, g.EmbeddingModel, []string{text})
	if err != nil {
		return nil, fmt.Errorf("embedding: %w", err)
	}
	return vecs[0], nil
}

// record audits a grader input and waits for the receipt.
func (g *Grader) record(ctx context.Context, context, prompt, model string) error {
	ev, err := g.Format.Input(context, prompt, audit.Meta{Model: model})
	if err != nil {
		return err
	}
	if _, err := g.Audit.Record(ctx, ev); err != nil {
		return fmt.Errorf("audit of the grader's input: %v; it was not sent", err)
	}
	return nil
}

func cosine(a, b []float64) (float64, error) {
	if len(a) != len(b) || len(a) == 0 {
		return 0, errors.New("embeddings of different sizes")
	}
	var dot, na, nb float64
	for i := range a {
		dot += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	if na == 0 || nb == 0 {
		return 0, nil
	}
	return dot / math.Sqrt(na*nb), nil
}

// grade decides a graded check.
func (g *Grader) grade(ctx context.Context, s checks.Spec, answer string) checks.Result {
	r := checks.Result{Type: s.Type, Value: s.Value}
	if g == nil {
		r.Error = s.Type + " needs a grader model"
		return r
	}
	switch s.Type {
	case "llm-rubric":
		pass, reason, err := g.Rubric(ctx, s.Value.(string), answer)
		if err != nil {
			r.Error = err.Error()
			return r
		}
		r.Pass, r.Found = pass, reason
	case "similar":
		score, err := g.Similarity(ctx, s.Value.(string), answer, true)
		if err != nil {
			r.Error = err.Error()
			return r
		}
		score = math.Round(score*1e4) / 1e4
		r.Pass, r.Score = score >= s.Threshold, &score
		r.Found = fmt.Sprintf("cosine %.4f (threshold %.2f)", score, s.Threshold)
	}
	return r
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
