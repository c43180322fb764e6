package report

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Diff is how a run compares with a baseline: the items whose status,
// checks or answer changed, the items only one of them has, and latency
// and token totals over the items both have.
type Diff struct {
	// Changes are the items in both reports whose status, check verdicts
	// or answer changed, in the current report's order.
	Changes []Change
	// Added are the items only the current report has, in its order.
	Added []Key
	// Removed are the items only the baseline has, in its order.
	Removed []Key
	// Compared counts the items both reports have.
	Compared int
	// Before and After total the compared items in the baseline and the
	// current report.
	Before, After Totals
}

// Totals sums up one side of the compared items.
type Totals struct {
	// MedianLatencyMS is the median latency of the records that got an
	// answer (nearest rank); -1 when there were none.
	MedianLatencyMS int64
	// Tokens adds up prompt and completion tokens.
	Tokens int64
}

// Outcome is one side of a changed item.
type Outcome struct {
	// Status is the record's status.
	Status string
	// LatencyMS is its latency; 0 when it got no answer.
	LatencyMS int64
	// Tokens adds up its prompt and completion tokens.
	Tokens int64
}

// Change is an item whose status, check verdicts or answer changed.
type Change struct {
	// Key names the item.
	Key Key
	// File and Line locate the item in the current run's suite.
	File string
	Line int
	// Before is the baseline's outcome, After the current one.
	Before, After Outcome
	// Answer is the word diff of the answers; nil when their words are the
	// same or either record is an error.
	Answer *WordDiff
	// Flips are the checks whose verdict changed.
	Flips []Flip
}

// Regressed reports whether the item got worse: it passed and now fails or
// errs, or one of its checks went from pass to fail.
func (c Change) Regressed() bool {
	if c.Before.Status == Pass && (c.After.Status == Fail || c.After.Status == Error) {
		return true
	}
	for _, f := range c.Flips {
		if f.Before && !f.After {
			return true
		}
	}
	return false
}

// Fixed reports whether the item got better without getting worse: it now
// passes, or a check went from fail to pass.
func (c Change) Fixed() bool {
	if c.Regressed() {
		return false
	}
	if c.Before.Status != Pass && c.After.Status == Pass {
		return true
	}
	for _, f := range c.Flips {
		if !f.Before && f.After {
			return true
		}
	}
	return false
}

// label is how a change is listed: REGRESSED, FIXED or CHANGED.
func (c Change) label() string {
	switch {
	case c.Regressed():
		return "REGRESSED"
	case c.Fixed():
		return "FIXED"
	}
	return "CHANGED"
}

// Regressed is the verdict of a regression check: true when an item that
// passed now fails or errs, or a check went from pass to fail; with
// failOnChanged, also when any answer changed. Added and removed items
// are not regressions.
func (d Diff) Regressed(failOnChanged bool) bool {
	for _, c := range d.Changes {
		if c.Regressed() || (failOnChanged && c.Answer != nil) {
			return true
		}
	}
	return false
}

// Differ compares the records of a run with a baseline one at a time, as
// the run writes them: Add returns each record's Regression, Diff the
// whole comparison. It keeps the keys of the records added, one latency
// per compared record and the changes; it is not safe for concurrent use.
type Differ struct {
	base          *Baseline
	seen          map[Key]int32 // current keys → line (0 when unknown)
	d             Diff
	before, after []int32
}

// NewDiffer returns a Differ comparing with base; a nil base is an empty
// one (every record is new).
func NewDiffer(base *Baseline) *Differ {
	if base == nil {
		base = NewBaseline()
	}
	return &Differ{base: base, seen: map[Key]int32{}}
}

// Add compares a record with the baseline, adds the outcome to the diff
// and returns the record's Regression. A record with the key of one added
// before is an error.
func (df *Differ) Add(r *Record) (*Regression, error) {
	return df.add(r, 0)
}

func (df *Differ) add(r *Record, line int) (*Regression, error) {
	k := KeyOf(r)
	if prev, dup := df.seen[k]; dup {
		if prev > 0 && line > 0 {
			return nil, fmt.Errorf("%s is already on line %d", k, prev)
		}
		return nil, fmt.Errorf("report: %s is in the report twice", k)
	}
	df.seen[k] = int32(line)
	e, ok := df.base.entries[k]
	if !ok {
		df.d.Added = append(df.d.Added, k)
		return &Regression{Baseline: NotInBaseline}, nil
	}
	df.d.Compared++
	if e.latency >= 0 {
		df.before = append(df.before, e.latency)
	}
	if timed(r) {
		df.after = append(df.after, clampMS(r.LatencyMS))
	}
	df.d.Before.Tokens += e.tokens
	df.d.After.Tokens += tokensOf(r)

	fs := flips(&e, r)
	g := regressionOf(&e, r, fs)
	if g.AnswerChanged || len(fs) > 0 || e.status != r.Status {
		c := Change{
			Key: k, File: r.File, Line: r.Line, Flips: fs,
			Before: Outcome{Status: e.status, LatencyMS: int64(e.latency), Tokens: e.tokens},
			After:  Outcome{Status: r.Status, LatencyMS: r.LatencyMS, Tokens: tokensOf(r)},
		}
		if e.latency < 0 {
			c.Before.LatencyMS = 0
		}
		if g.AnswerChanged {
			wd := DiffWords(e.answer, r.Answer)
			c.Answer = &wd
		}
		df.d.Changes = append(df.d.Changes, c)
	}
	return g, nil
}

// Diff returns the comparison of the records added so far; the baseline's
// records not added are Removed.
func (df *Differ) Diff() Diff {
	d := df.d
	d.Changes = slices.Clone(d.Changes)
	d.Added = slices.Clone(d.Added)
	type removed struct {
		order int32
		key   Key
	}
	var rs []removed
	for k, e := range df.base.entries {
		if _, ok := df.seen[k]; !ok {
			rs = append(rs, removed{e.order, k})
		}
	}
	slices.SortFunc(rs, func(a, b removed) int { return int(a.order - b.order) })
	d.Removed = nil
	for _, r := range rs {
		d.Removed = append(d.Removed, r.key)
	}
	slices.Sort(df.before)
	slices.Sort(df.after)
	d.Before.MedianLatencyMS = percentile(df.before, 50)
	d.After.MedianLatencyMS = percentile(df.after, 50)
	return d
}

// Compare compares the records of a run with those of a baseline. Two
// records with the same key on one side are an error.
func Compare(baseline, current []*Record) (Diff, error) {
	b := NewBaseline()
	for _, r := range baseline {
		if err := b.Add(r); err != nil {
			return Diff{}, err
		}
	}
	df := NewDiffer(b)
	for _, r := range current {
		if _, err := df.Add(r); err != nil {
			return Diff{}, err
		}
	}
	return df.Diff(), nil
}

// CompareFiles compares the report at current with the report at
// baseline, holding the baseline in memory (see Baseline) and reading the
// current report as a stream. Errors name the file and line.
func CompareFiles(baseline, current string) (Diff, error) {
	b, err := ReadBaselineFile(baseline)
	if err != nil {
		return Diff{}, err
	}
	f, err := os.Open(current)
	if err != nil {
		return Diff{}, fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	df := NewDiffer(b)
	err = readRecords(current, f, func(r *Record, line int) error {
		if _, err := df.add(r, line); err != nil {
			return &LineError{File: current, Line: line, Err: err}
		}
		return nil
	})
	if err != nil {
		return Diff{}, err
	}
	return df.Diff(), nil
}

// DiffOptions says how WriteDiff renders.
type DiffOptions struct {
	// Color marks labels and word changes with ANSI colours.
	Color bool
	// MaxItems is the most items listed in each group (regressed, fixed,
	// changed, added, removed); 0 lists all.
	MaxItems int
}

// WriteDiff writes a diff as text: the regressed items, then the fixed and
// the otherwise changed ones, each with its status change, flipped checks
// and answer word diff; the added and removed items; then a count and the
// latency and token totals. Word diffs show removed words as [-words-] and
// added ones as {+words+}, with long unchanged stretches as "…".
func WriteDiff(w io.Writer, d Diff, opts DiffOptions) error {
	var b strings.Builder
	c := opts.Color
	var groups [3][]*Change
	for i := range d.Changes {
		ch := &d.Changes[i]
		switch {
		case ch.Regressed():
			groups[0] = append(groups[0], ch)
		case ch.Fixed():
			groups[1] = append(groups[1], ch)
		default:
			groups[2] = append(groups[2], ch)
		}
	}
	limit := func(n int) int {
		if opts.MaxItems > 0 {
			return min(n, opts.MaxItems)
		}
		return n
	}
	more := func(n, shown int) {
		if n > shown {
			fmt.Fprintf(&b, "and %s more\n", thousands(int64(n-shown)))
		}
	}
	colors := [3]string{red, green, yellow}
	for gi, g := range groups {
		n := limit(len(g))
		for _, ch := range g[:n] {
			label := ch.label()
			fmt.Fprintf(&b, "%s%s  %s", paint(c, colors[gi], label), strings.Repeat(" ", 9-len(label)), oneLine(ch.Key.String()))
			if ch.Before.Status != ch.After.Status {
				fmt.Fprintf(&b, "  %s→%s", ch.Before.Status, ch.After.Status)
			}
			if m := itemMeasures(ch); m != "" {
				b.WriteString("  (" + m + ")")
			}
			b.WriteByte('\n')
			for _, f := range ch.Flips {
				b.WriteString("    " + f.String() + "\n")
			}
			if ch.Answer != nil {
				b.WriteString("    answer: " + wordDiffText(ch.Answer, c) + "\n")
			}
		}
		more(len(g), n)
	}
	for _, kl := range []struct {
		label string
		keys  []Key
	}{{"ADDED", d.Added}, {"REMOVED", d.Removed}} {
		n := limit(len(kl.keys))
		for _, k := range kl.keys[:n] {
			fmt.Fprintf(&b, "%s%s  %s\n", kl.label, strings.Repeat(" ", 9-len(kl.label)), oneLine(k.String()))
		}
		more(len(kl.keys), n)
	}
	if b.Len() > 0 {
		b.WriteByte('\n')
	}
	b.WriteString(d.countsText() + "\n")
	if t := d.totalsText(); t != "" {
		b.WriteString(t + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// itemMeasures writes an item's latency and tokens before and after when
// they changed: "latency 842ms→1.2s, tokens 508→530".
func itemMeasures(ch *Change) string {
	var parts []string
	if ch.Before.LatencyMS != ch.After.LatencyMS && timedStatus(ch.Before.Status) && timedStatus(ch.After.Status) {
		parts = append(parts, "latency "+formatMS(ch.Before.LatencyMS)+"→"+formatMS(ch.After.LatencyMS))
	}
	if ch.Before.Tokens != ch.After.Tokens {
		parts = append(parts, "tokens "+thousands(ch.Before.Tokens)+"→"+thousands(ch.After.Tokens))
	}
	return strings.Join(parts, ", ")
}

func timedStatus(s string) bool { return s == Pass || s == Fail }

// wordDiffText renders a word diff, colouring removed words red and added
// ones green when color is set.
// Control characters in the words become spaces: an answer cannot drive
// the terminal.
func wordDiffText(wd *WordDiff, color bool) string {
	if wd.TooLarge {
		return wd.String()
	}
	parts := make([]string, len(wd.Spans))
	for i, s := range wd.Spans {
		text := oneLine(s.Text)
		switch s.Kind {
		case SpanRemoved:
			parts[i] = paint(color, red, "[-"+text+"-]")
		case SpanAdded:
			parts[i] = paint(color, green, "{+"+text+"+}")
		default:
			parts[i] = text
		}
	}
	return strings.Join(parts, " ")
}

// countsText is the account of a diff: "compared 14 items: 1 regressed,
// 1 fixed, 2 changed; 1 added, 1 removed".
func (d Diff) countsText() string {
	var reg, fixed, changed int
	for _, c := range d.Changes {
		switch {
		case c.Regressed():
			reg++
		case c.Fixed():
			fixed++
		default:
			changed++
		}
	}
	s := fmt.Sprintf("compared %s %s", thousands(int64(d.Compared)), plural(d.Compared, "item", "items"))
	if len(d.Changes) == 0 {
		s += ": no changes"
	} else {
		s += fmt.Sprintf(": %d regressed, %d fixed, %d changed", reg, fixed, changed)
	}
	if len(d.Added) > 0 || len(d.Removed) > 0 {
		s += fmt.Sprintf("; %d added, %d removed", len(d.Added), len(d.Removed))
	}
	return s
}

// totalsText writes the latency and token totals with their change:
// "latency p50 842ms → 910ms (+8.1%); tokens 7,712 → 7,930 (+2.8%)".
func (d Diff) totalsText() string {
	var parts []string
	if d.Before.MedianLatencyMS >= 0 && d.After.MedianLatencyMS >= 0 {
		parts = append(parts, "latency p50 "+formatMS(d.Before.MedianLatencyMS)+" → "+formatMS(d.After.MedianLatencyMS)+
			withPercent(d.Before.MedianLatencyMS, d.After.MedianLatencyMS))
	}
	if d.Before.Tokens > 0 || d.After.Tokens > 0 {
		parts = append(parts, "tokens "+thousands(d.Before.Tokens)+" → "+thousands(d.After.Tokens)+
			withPercent(d.Before.Tokens, d.After.Tokens))
	}
	return strings.Join(parts, "; ")
}

func withPercent(before, after int64) string {
	if p := percentChange(before, after); p != "" {
		return " (" + p + ")"
	}
	return ""
}
