package runner

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tracebatch/tracebatch/report"
)

// same decides, for a line whose answer changed from the baseline's,
// whether it still says the same thing (SameCheck). It runs in the worker,
// where model calls belong; regression completes the field in input order.
func (w *Work) same(ctx context.Context, key Key, r *report.Record) {
	if w.Baseline == nil || w.SameCheck == "" || r.Status == report.Error {
		return
	}
	old, ok := w.Baseline.Answer(key)
	if !ok || slices.Equal(strings.Fields(old), strings.Fields(r.Answer)) {
		return
	}
	g := &report.Regression{}
	switch w.SameCheck {
	case "similar":
		score, err := w.Grader.Similarity(ctx, old, r.Answer, false)
		if err != nil {
			g.Reason = "baseline check: " + err.Error()
			break
		}
		same := score >= w.SameThreshold
		g.Same, g.Score = &same, &score
		g.Reason = fmt.Sprintf("cosine %.4f with the baseline's answer (threshold %.2f)", score, w.SameThreshold)
	case "llm-rubric":
		same, reason, err := w.Grader.Rubric(ctx, "says the same thing, in substance, as this earlier answer:\n"+old, r.Answer)
		if err != nil {
			g.Reason = "baseline check: " + err.Error()
			break
		}
		g.Same, g.Reason = &same, reason
	}
	r.Regression = g
}

// regression compares a record with the baseline, in input order, and
// fills its regression field, keeping what same decided.
func (w *Work) regression(r *report.Record) {
	if w.differ == nil {
		return
	}
	pre := r.Regression
	g, err := w.differ.Add(r)
	if err != nil {
		return // a key twice: cannot happen within one run
	}
	if pre != nil {
		g.Same, g.Score, g.Reason = pre.Same, pre.Score, pre.Reason
	}
	r.Regression = g
}
