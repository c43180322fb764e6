package report

import (
	"fmt"
	"io"
	"time"
)

// Summary counts the records of a run.
type Summary struct {
	// Pass, Fail, Error and Audited count records by status.
	Pass, Fail, Error, Audited int
	// PromptTokens and CompletionTokens add up the usage.
	PromptTokens, CompletionTokens int64
}

// Add counts one record.
func (s *Summary) Add(r *Record) {
	switch r.Status {
	case Pass:
		s.Pass++
	case Fail:
		s.Fail++
	case Error:
		s.Error++
	case Audited:
		s.Audited++
	}
	if r.Usage != nil {
		s.PromptTokens += r.Usage.PromptTokens
		s.CompletionTokens += r.Usage.CompletionTokens
	}
}

// Total is the number of records counted.
func (s Summary) Total() int { return s.Pass + s.Fail + s.Error + s.Audited }

// WriteLine writes the one-line account of a run: counts, tokens, wall
// time and where the report is.
func (s Summary) WriteLine(w io.Writer, wall time.Duration, path string) {
	where := path
	if where == "" || where == "-" {
		where = "stdout"
	}
	if s.Audited > 0 {
		fmt.Fprintf(w, "%d audited, %d error in %s; report: %s\n", s.Audited, s.Error, wall.Round(time.Millisecond), where)
		return
	}
	fmt.Fprintf(w, "%d pass, %d fail, %d error; %d tokens (%d prompt, %d completion) in %s; report: %s\n",
		s.Pass, s.Fail, s.Error, s.PromptTokens+s.CompletionTokens, s.PromptTokens, s.CompletionTokens,
		wall.Round(time.Millisecond), where)
}
