package report

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// Summary counts the records of a run, overall and per (suite, model), for
// the one-line account (WriteLine), the end-of-run table (WriteTable) and
// the GitHub step summary (WriteGitHubSummary).
//
// The zero Summary is ready to use. It keeps per record only its latency
// (4 bytes) and, when the run repeats items, one entry per item to tell
// flaky ones; of the records that did not pass it keeps the first
// keptFailures. A copy of a Summary shares its groups with the original:
// copy it only to read it once counting is done. It is not safe for
// concurrent use.
type Summary struct {
	// Pass, Fail, Error and Audited count records by status.
	Pass, Fail, Error, Audited int
	// PromptTokens and CompletionTokens add up the usage.
	PromptTokens, CompletionTokens int64

	t *tally
}

// keptFailures is how many of the records that did not pass a Summary
// keeps for listing; it counts the rest.
const keptFailures = 100

// tally is what a Summary keeps beyond its totals.
type tally struct {
	groups   map[groupKey]*group
	models   map[string]int // model → order of first appearance
	repeated bool
	items    map[Key]uint8 // item (Repeat 0) → seenPass|seenFail, when repeated
	failures []failure     // the first keptFailures records that did not pass
	failed   int           // records that did not pass (fail or error)
}

type groupKey struct{ suite, model string }

// group is the tally of one (suite, model).
type group struct {
	suite, model              string
	pass, fail, errs, audited int
	tokens                    int64
	latencies                 []int32 // latency_ms of the records that got an answer
}

const (
	seenPass uint8 = 1 << iota
	seenFail
)

// failure is one record that did not pass, as listed.
type failure struct {
	key     Key
	status  string
	problem string // the error, or the first failing check and what it found
	file    string
	line    int
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

	if s.t == nil {
		s.t = &tally{groups: map[groupKey]*group{}, models: map[string]int{}}
	}
	t := s.t
	gk := groupKey{r.Suite, r.Model}
	g := t.groups[gk]
	if g == nil {
		g = &group{suite: r.Suite, model: r.Model}
		t.groups[gk] = g
		if _, ok := t.models[r.Model]; !ok {
			t.models[r.Model] = len(t.models)
		}
	}
	switch r.Status {
	case Pass:
		g.pass++
	case Fail:
		g.fail++
	case Error:
		g.errs++
	case Audited:
		g.audited++
	}
	g.tokens += tokensOf(r)
	if timed(r) {
		g.latencies = append(g.latencies, clampMS(r.LatencyMS))
	}
	if r.Repeat > 0 {
		if t.items == nil {
			t.items = map[Key]uint8{}
		}
		t.repeated = true
		k := Key{Suite: r.Suite, ID: r.ID, Model: r.Model}
		switch r.Status {
		case Pass:
			t.items[k] |= seenPass
		case Fail:
			t.items[k] |= seenFail
		}
	}
	if r.Status == Fail || r.Status == Error {
		t.failed++
		if len(t.failures) < keptFailures {
			t.failures = append(t.failures, failure{key: KeyOf(r), status: r.Status, problem: firstProblem(r), file: r.File, line: r.Line})
		}
	}
}

func clampMS(ms int64) int32 {
	switch {
	case ms < 0:
		return 0
	case ms > 1<<31-1:
		return 1<<31 - 1
	}
	return int32(ms)
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

// row is one line of the summary table: a (suite, model), or the total.
type row struct {
	suite, model              string
	pass, fail, errs, audited int
	flaky                     int
	tokens                    int64
	p50, p95                  int64 // -1 when no record was timed
}

// runs is the number of records that ran to a verdict or an error.
func (r row) runs() int { return r.pass + r.fail + r.errs }

// rows returns the table's rows, by suite name and then by the order in
// which models first appeared, and the total over all of them.
func (s Summary) rows() (rows []row, total row) {
	total = row{suite: "total", p50: -1, p95: -1}
	if s.t == nil {
		return nil, total
	}
	t := s.t
	flaky := map[groupKey]int{}
	for k, seen := range t.items {
		if seen == seenPass|seenFail {
			flaky[groupKey{k.Suite, k.Model}]++
		}
	}
	groups := make([]*group, 0, len(t.groups))
	for _, g := range t.groups {
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(a, b *group) int {
		if a.suite != b.suite {
			if a.suite < b.suite {
				return -1
			}
			return 1
		}
		return t.models[a.model] - t.models[b.model]
	})
	var all []int32
	for _, g := range groups {
		slices.Sort(g.latencies)
		r := row{
			suite: g.suite, model: g.model,
			pass: g.pass, fail: g.fail, errs: g.errs, audited: g.audited,
			flaky:  flaky[groupKey{g.suite, g.model}],
			tokens: g.tokens,
			p50:    percentile(g.latencies, 50),
			p95:    percentile(g.latencies, 95),
		}
		rows = append(rows, r)
		total.pass += r.pass
		total.fail += r.fail
		total.errs += r.errs
		total.audited += r.audited
		total.flaky += r.flaky
		total.tokens += r.tokens
		all = append(all, g.latencies...)
	}
	slices.Sort(all)
	total.p50, total.p95 = percentile(all, 50), percentile(all, 95)
	return rows, total
}

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted values by
// the nearest-rank method: the smallest value such that at least p% of the
// values are at or below it. It is exact (one of the values), computed in
// integers; -1 when there are none.
func percentile(sorted []int32, p int) int64 {
	n := len(sorted)
	if n == 0 {
		return -1
	}
	rank := (p*n + 99) / 100 // ⌈p·n/100⌉
	if rank < 1 {
		rank = 1
	}
	if rank > n {
		rank = n
	}
	return int64(sorted[rank-1])
}
