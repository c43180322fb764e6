package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/tracebatch/tracebatch/checks"
	"github.com/tracebatch/tracebatch/llm"
	"github.com/tracebatch/tracebatch/prompts"
	"github.com/tracebatch/tracebatch/report"
)

// judge runs the item's checks on the answer and sets the record's status:
// pass when every check passed, fail when one failed, error when one could
// not be decided. Graded checks go to the grader.
func (w *Work) judge(ctx context.Context, r *report.Record, it prompts.Item, ans llm.Answer) {
	r.Status = report.Pass
	a := checks.Answer{Text: ans.Text, LatencyMS: ans.Latency.Milliseconds()}
	for _, spec := range it.Expect {
		var res checks.Result
		if spec.Graded() {
			res = w.Grader.grade(ctx, spec, ans.Text)
		} else {
			res = checks.Evaluate(spec, a)
		}
		r.Checks = append(r.Checks, res)
		switch {
		case res.Error != "":
			r.Status = report.Error
			if r.Error == "" {
				r.Error = "check " + res.Type + ": " + res.Error
			}
		case !res.Pass && r.Status == report.Pass:
			r.Status = report.Fail
		}
	}
}

// contextSHA256 identifies a context in the report without repeating it.
func contextSHA256(context string) string {
	if context == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(context))
	return hex.EncodeToString(sum[:])
}
