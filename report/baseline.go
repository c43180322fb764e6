package report

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Regression compares a record with the same item (suite, id, model,
// repeat) in a baseline report; run --baseline writes it into each line.
type Regression struct {
	// Baseline is the item's status in the baseline, or "new" when the
	// baseline does not have it.
	Baseline string `json:"baseline"`
	// AnswerChanged is set when the answer's words differ from the
	// baseline's (white space aside). Answers are not compared when either
	// record is an error.
	AnswerChanged bool `json:"answer_changed"`
	// Flipped lists the checks whose verdict changed, as
	// `icontains "password": pass→fail`.
	Flipped []string `json:"flipped,omitempty"`
	// Same is set by --baseline-check: whether a changed answer still says
	// the same thing.
	Same *bool `json:"same,omitempty"`
	// Score is the grader's score behind Same.
	Score *float64 `json:"score,omitempty"`
	// Reason is the grader's reason behind Same.
	Reason string `json:"reason,omitempty"`
}

// NotInBaseline is Regression.Baseline for an item the baseline does not have.
const NotInBaseline = "new"

// Baseline is a report held in memory to compare runs with, in compact
// form: per record its key, status, answer, check signatures and verdicts,
// latency and tokens, with suite, model, status and check strings shared
// between records. It needs about the size of the answers plus 150 bytes
// per record (plus 50 per check): some 100 MB for 100,000 records with
// 1 KB answers. Build it with ReadBaseline, ReadBaselineFile or Add; it
// is not safe for concurrent use.
type Baseline struct {
	name    string
	entries map[Key]baseEntry
	strs    map[string]string
}

// baseEntry is what a Baseline keeps of one record.
type baseEntry struct {
	order   int32 // position in the baseline
	line    int32 // line in the baseline file, 0 when not read from one
	latency int32 // -1 when the record was not timed
	status  string
	answer  string
	tokens  int64
	checks  []baseCheck
}

// baseCheck is a check's identity (type and exact value) and verdict.
type baseCheck struct {
	sig  string
	pass bool
}

// NewBaseline returns an empty baseline.
func NewBaseline() *Baseline {
	return &Baseline{entries: map[Key]baseEntry{}, strs: map[string]string{}}
}

// ReadBaseline reads a report into a Baseline. Read errors and records
// with the same key twice are errors naming the line.
func ReadBaseline(r io.Reader) (*Baseline, error) {
	return readBaseline("", r)
}

// ReadBaselineFile reads the report at path into a Baseline; errors name
// the file and line.
func ReadBaselineFile(path string) (*Baseline, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	return readBaseline(path, f)
}

func readBaseline(name string, r io.Reader) (*Baseline, error) {
	b := NewBaseline()
	b.name = name
	err := readRecords(name, r, func(rec *Record, line int) error {
		if prev, dup := b.entries[KeyOf(rec)]; dup {
			return &LineError{File: name, Line: line, Err: fmt.Errorf("%s is already on line %d", KeyOf(rec), prev.line)}
		}
		b.add(rec, line)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Answer returns the baseline's answer for an item, for a grader that
// judges whether a changed answer says the same thing (--baseline-check).
// Once the baseline is built it is safe to call from many goroutines.
func (b *Baseline) Answer(k Key) (string, bool) {
	e, ok := b.entries[k]
	return e.answer, ok
}

// Len is the number of records in the baseline.
func (b *Baseline) Len() int { return len(b.entries) }

// Add adds a record; a record with the key of one already added is an
// error.
func (b *Baseline) Add(r *Record) error {
	if _, dup := b.entries[KeyOf(r)]; dup {
		return fmt.Errorf("report: baseline has %s twice", KeyOf(r))
	}
	b.add(r, 0)
	return nil
}

func (b *Baseline) add(r *Record, line int) {
	k := KeyOf(r)
	k.Suite, k.Model = b.intern(k.Suite), b.intern(k.Model)
	e := b.entryOf(r)
	e.order, e.line = int32(len(b.entries)), int32(line)
	b.entries[k] = e
}

// entryOf keeps what comparisons need of a record.
func (b *Baseline) entryOf(r *Record) baseEntry {
	e := baseEntry{latency: -1, status: b.intern(r.Status), answer: r.Answer, tokens: tokensOf(r)}
	if timed(r) {
		e.latency = clampMS(r.LatencyMS)
	}
	if len(r.Checks) > 0 {
		e.checks = make([]baseCheck, len(r.Checks))
		for i := range r.Checks {
			e.checks[i] = baseCheck{sig: b.intern(checkSig(&r.Checks[i])), pass: r.Checks[i].Pass}
		}
	}
	return e
}

// intern returns a shared copy of s, so that the many records of a suite
// hold one copy of its name, model and checks.
func (b *Baseline) intern(s string) string {
	if b.strs == nil {
		return s
	}
	if v, ok := b.strs[s]; ok {
		return v
	}
	s = strings.Clone(s)
	b.strs[s] = s
	return s
}

// CompareRecord compares a record with the same item in a baseline; base
// is nil when the baseline does not have it (Baseline "new"). Checks are
// matched by position, type and value: a check the suite changed is not
// compared.
func CompareRecord(base, cur *Record) *Regression {
	if base == nil {
		return &Regression{Baseline: NotInBaseline}
	}
	var b Baseline
	e := b.entryOf(base)
	return regressionOf(&e, cur, flips(&e, cur))
}

// regressionOf builds the annotation of cur from its baseline entry.
func regressionOf(e *baseEntry, cur *Record, fs []Flip) *Regression {
	g := &Regression{Baseline: e.status, AnswerChanged: answerChanged(e, cur)}
	for _, f := range fs {
		g.Flipped = append(g.Flipped, f.String())
	}
	return g
}

// answerChanged reports whether the answer's words differ; answers are
// not compared when either record is an error (it has none).
func answerChanged(e *baseEntry, cur *Record) bool {
	if e.status == Error || cur.Status == Error {
		return false
	}
	return e.answer != cur.Answer && !slices.Equal(strings.Fields(e.answer), strings.Fields(cur.Answer))
}

// flips returns the checks of cur whose verdict differs from the check at
// the same position of the baseline, when that has the same type and
// value.
func flips(e *baseEntry, cur *Record) []Flip {
	var fs []Flip
	for i := range cur.Checks {
		c := &cur.Checks[i]
		if i >= len(e.checks) || e.checks[i].pass == c.Pass || e.checks[i].sig != checkSig(c) {
			continue
		}
		fs = append(fs, Flip{Check: checkLabel(c.Type, c.Value), Index: i, Before: e.checks[i].pass, After: c.Pass})
	}
	return fs
}

// Flip is a check whose verdict changed between the baseline and the
// current run.
type Flip struct {
	// Check names the check: `icontains "password"`.
	Check string
	// Index is its position among the item's checks.
	Index int
	// Before and After are its verdicts.
	Before, After bool
}

// String writes the flip as `icontains "password": pass→fail`.
func (f Flip) String() string {
	return f.Check + ": " + verdict(f.Before) + "→" + verdict(f.After)
}

func verdict(pass bool) string {
	if pass {
		return Pass
	}
	return Fail
}
