package report

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tracebatch/tracebatch/checks"
)

// diffRuns returns a baseline (as read back from JSONL, so check values
// are decoded JSON) and a current run of the fixture, on gpt-4o-mini,
// with one item of each kind of change.
func diffRuns(t *testing.T) (base, cur []*Record) {
	t.Helper()
	run := only(fixture(), "gpt-4o-mini")
	// In the baseline, out-of-context-oauth passed and token-lifetime
	// failed only its regex.
	baseRun := make([]*Record, len(run))
	for i, r := range run {
		baseRun[i] = clone(r)
	}
	oauth := mk(2, "magic-links", "out-of-context-oauth", "gpt-4o-mini", Pass, 700, 380, 12, "I don't know.").at(ml, 35).
		with(pass("regex", "(?i)(don't|do not|cannot) know", "»I don't know«."))
	baseRun[2] = oauth
	baseRun[1].Checks[2] = pass("max-length", 40, "38 characters")
	baseRun[1].Answer = "Links expire after 15 minutes; request a new one."
	removed := mk(6, "passkeys", "retired", "gpt-4o-mini", Pass, 500, 100, 10, "Gone.").at(pk, 3)
	baseRun = append(baseRun, removed)
	base = roundTrip(t, baseRun)

	cur = make([]*Record, len(run))
	for i, r := range run {
		cur[i] = clone(r)
	}
	// Changed wording, same verdicts.
	cur[0].Answer = "Magic links let you sign in without a password: the site emails you a one-time link, and opening it signs you in."
	cur[0].LatencyMS = 1020
	// weather regressed: its check flipped and its answer changed.
	cur[3].Status = Fail
	cur[3].Answer = "Tomorrow will be sunny in Lisbon."
	cur[3].Checks = []checks.Result{fail("regex", "(?i)(don't|do not|cannot) know", "not found in: Tomorrow will be sunny in Lisbon.")}
	// token-lifetime fixed: its regex now passes.
	cur[1].Status = Pass
	cur[1].Answer = "Links expire after 15 minutes."
	cur[1].Checks = []checks.Result{
		pass("regex", `(?i)\bminutes\b`, "…after 15 »minutes«."),
		pass("icontains", "expire", "Links »expire« after…"),
		pass("max-length", 40, "30 characters"),
	}
	// A new item.
	added := mk(6, "magic-links", "revocation", "gpt-4o-mini", Pass, 800, 400, 50, "You can revoke a link.").at(ml, 50)
	cur = append(cur[:4], append([]*Record{added}, cur[4:]...)...)
	return base, cur
}

func TestDiffGolden(t *testing.T) {
	base, cur := diffRuns(t)
	d, err := Compare(base, cur)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteDiff(&b, d, DiffOptions{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "diff.golden", b.Bytes())
	b.Reset()
	if err := WriteDiff(&b, d, DiffOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	golden(t, "diff-color.golden", b.Bytes())
}

func TestCompare(t *testing.T) {
	base, cur := diffRuns(t)
	d, err := Compare(base, cur)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Change{}
	for _, c := range d.Changes {
		byID[c.Key.ID] = c
	}
	if d.Compared != 6 || len(d.Changes) != 4 {
		t.Errorf("compared %d, %d changes: %+v", d.Compared, len(d.Changes), d.Changes)
	}
	if c := byID["what-are-magic-links"]; c.Regressed() || c.Fixed() || c.Answer == nil || len(c.Flips) != 0 ||
		c.Answer.String() != "… emails you a [-single-use-] {+one-time+} link, and opening …" {
		t.Errorf("changed wording: %+v %q", c, c.Answer)
	}
	if c := byID["weather"]; !c.Regressed() || len(c.Flips) != 1 || c.Flips[0].String() != `regex "(?i)(don't|do not|cannot) know": pass→fail` {
		t.Errorf("weather: %+v", c)
	}
	if c := byID["token-lifetime"]; !c.Fixed() || c.Regressed() || len(c.Flips) != 1 || c.Flips[0].Index != 0 {
		// max-length passed in the baseline too; icontains never changed.
		t.Errorf("token-lifetime: %+v", c)
	}
	if c := byID["out-of-context-oauth"]; !c.Regressed() || c.Answer != nil || c.Before.Status != Pass || c.After.Status != Error {
		t.Errorf("oauth: %+v", c)
	}
	if c, listed := byID["ugly|answer"]; listed {
		// Same answer, same verdicts (its llm-rubric check was undecided in
		// both): not a change.
		t.Errorf("ugly: %+v", c)
	}
	if k := d.Added; len(k) != 1 || k[0].ID != "revocation" {
		t.Errorf("added %v", k)
	}
	if k := d.Removed; len(k) != 1 || k[0].String() != "passkeys/retired [gpt-4o-mini]" {
		t.Errorf("removed %v", k)
	}
	if !d.Regressed(false) || !d.Regressed(true) {
		t.Error("not regressed")
	}
}

func TestRegressed(t *testing.T) {
	flip := func(before, after bool) Flip { return Flip{Check: "contains \"x\"", Before: before, After: after} }
	answer := &WordDiff{Spans: []Span{{SpanAdded, "x"}}}
	for _, c := range []struct {
		name          string
		change        Change
		plain, strict bool
	}{
		{"pass to fail", Change{Before: Outcome{Status: Pass}, After: Outcome{Status: Fail}}, true, true},
		{"pass to error", Change{Before: Outcome{Status: Pass}, After: Outcome{Status: Error}}, true, true},
		{"fail to error", Change{Before: Outcome{Status: Fail}, After: Outcome{Status: Error}}, false, false},
		{"error to fail", Change{Before: Outcome{Status: Error}, After: Outcome{Status: Fail}}, false, false},
		{"fail to pass", Change{Before: Outcome{Status: Fail}, After: Outcome{Status: Pass}, Flips: []Flip{flip(false, true)}}, false, false},
		{"check pass to fail, still failing", Change{Before: Outcome{Status: Fail}, After: Outcome{Status: Fail}, Flips: []Flip{flip(false, true), flip(true, false)}}, true, true},
		{"answer changed only", Change{Before: Outcome{Status: Pass}, After: Outcome{Status: Pass}, Answer: answer}, false, true},
		{"answer changed and fixed", Change{Before: Outcome{Status: Fail}, After: Outcome{Status: Pass}, Answer: answer}, false, true},
	} {
		d := Diff{Changes: []Change{c.change}}
		if got := d.Regressed(false); got != c.plain {
			t.Errorf("%s: Regressed(false) = %v", c.name, got)
		}
		if got := d.Regressed(true); got != c.strict {
			t.Errorf("%s: Regressed(true) = %v", c.name, got)
		}
	}
	if (Diff{Added: []Key{{ID: "a"}}, Removed: []Key{{ID: "b"}}}).Regressed(true) {
		t.Error("added and removed items are not regressions")
	}
	if (Diff{}).Regressed(true) {
		t.Error("an empty diff regressed")
	}
}

func TestCompareRecord(t *testing.T) {
	base := mk(0, "s", "a", "m", Pass, 100, 1, 1, "The answer is yes.").with(
		pass("icontains", "password", "…"), pass("contains-any", []string{"email", "inbox"}, "…"), fail("max-length", 10, "18 characters"))
	decoded := roundTrip(t, []*Record{base})[0]
	same := clone(base)
	changed := clone(base)
	changed.Answer = "The answer is no."
	changed.Checks[0].Pass = false
	changed.Checks[2].Pass = true
	changed.Status = Fail
	respaced := clone(base)
	respaced.Answer = "The answer\n is  yes."
	edited := clone(base) // the suite changed the check's value: not compared
	edited.Checks[0] = fail("icontains", "passwords", "…")
	errored := mk(0, "s", "a", "m", Error, 0, 0, 0, "").failing("model: 500")
	for _, c := range []struct {
		name      string
		base, cur *Record
		want      string
	}{
		{"new", nil, same, `{"baseline":"new","answer_changed":false}`},
		{"same", base, same, `{"baseline":"pass","answer_changed":false}`},
		{"same, baseline read from JSON", decoded, same, `{"baseline":"pass","answer_changed":false}`},
		{"white space only", base, respaced, `{"baseline":"pass","answer_changed":false}`},
		{"changed", decoded, changed, `{"baseline":"pass","answer_changed":true,"flipped":["icontains \"password\": pass→fail","max-length 10: fail→pass"]}`},
		{"check edited", base, edited, `{"baseline":"pass","answer_changed":false}`},
		{"now an error", base, errored, `{"baseline":"pass","answer_changed":false}`},
		{"was an error", errored, same, `{"baseline":"error","answer_changed":false}`},
	} {
		if got := mustJSON(t, CompareRecord(c.base, c.cur)); got != c.want {
			t.Errorf("%s:\ngot  %s\nwant %s", c.name, got, c.want)
		}
	}
}

func TestRegressionInReportLine(t *testing.T) {
	r := mk(0, "s", "a", "m", Pass, 100, 1, 1, "x")
	r.Regression = &Regression{Baseline: Fail, AnswerChanged: true, Flipped: []string{`contains "x": fail→pass`}}
	line := string(jsonl(t, []*Record{r}))
	if !strings.HasSuffix(line, `"regression":{"baseline":"fail","answer_changed":true,"flipped":["contains \"x\": fail→pass"]}}`+"\n") {
		t.Errorf("the regression is not the last field: %s", line)
	}
	back := roundTrip(t, []*Record{r})[0]
	if back.Regression == nil || !back.Regression.AnswerChanged {
		t.Errorf("did not read back: %+v", back.Regression)
	}
	r.Regression = nil
	if strings.Contains(string(jsonl(t, []*Record{r})), "regression") {
		t.Error("an empty regression was written")
	}
}

func TestDifferInline(t *testing.T) {
	// run --baseline: each record gets its Regression as it is written;
	// the Diff at the end gives the verdict.
	base, cur := diffRuns(t)
	b, err := ReadBaseline(bytes.NewReader(jsonl(t, base)))
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 7 {
		t.Errorf("baseline has %d records", b.Len())
	}
	if a, ok := b.Answer(KeyOf(cur[1])); !ok || a != "Links expire after 15 minutes; request a new one." {
		t.Errorf("Answer: %q %v", a, ok)
	}
	if _, ok := b.Answer(KeyOf(cur[4])); ok {
		t.Error("Answer of a new item")
	}
	df := NewDiffer(b)
	var got []string
	for _, r := range cur {
		g, err := df.Add(r)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.ID+" "+g.Baseline)
	}
	want := []string{"what-are-magic-links pass", "token-lifetime fail", "out-of-context-oauth pass", "weather pass", "revocation new", "sync pass", "ugly|answer fail"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q", got)
	}
	if _, err := df.Add(cur[0]); err == nil {
		t.Error("the same item twice was accepted")
	}
	d := df.Diff()
	if !d.Regressed(false) || len(d.Removed) != 1 || d.Before.Tokens == 0 {
		t.Errorf("%+v", d)
	}
}

func TestCompareFiles(t *testing.T) {
	dir := t.TempDir()
	base, cur := diffRuns(t)
	bp, cp := filepath.Join(dir, "base.jsonl"), filepath.Join(dir, "cur.jsonl")
	write := func(p string, data []byte) {
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(bp, jsonl(t, base))
	write(cp, jsonl(t, cur))
	d, err := CompareFiles(bp, cp)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Compare(base, cur)
	var got1, got2 bytes.Buffer
	WriteDiff(&got1, d, DiffOptions{})
	WriteDiff(&got2, want, DiffOptions{})
	if got1.String() != got2.String() {
		t.Errorf("files and records disagree:\n%s\n%s", got1.String(), got2.String())
	}

	// A duplicate names both lines.
	dup := append(jsonl(t, cur), jsonl(t, cur[:1])...)
	write(cp, dup)
	_, err = CompareFiles(bp, cp)
	var le *LineError
	if !errors.As(err, &le) || le.Line != 8 || !strings.Contains(err.Error(), cp+":8: magic-links/what-are-magic-links [gpt-4o-mini] is already on line 1") {
		t.Errorf("duplicate: %v", err)
	}
	write(bp, append(jsonl(t, base), jsonl(t, base[2:3])...))
	_, err = CompareFiles(bp, cp)
	if err == nil || !strings.Contains(err.Error(), bp+":8: magic-links/out-of-context-oauth [gpt-4o-mini] is already on line 3") {
		t.Errorf("duplicate in the baseline: %v", err)
	}
	write(bp, []byte("{\"id\":\"a\",\"status\":\"pass\"}\nnot json\n"))
	if _, err = CompareFiles(bp, cp); err == nil || !strings.HasPrefix(err.Error(), bp+":2: not a report line") {
		t.Errorf("bad baseline: %v", err)
	}
}

func TestDiffTotals(t *testing.T) {
	base := []*Record{
		mk(0, "s", "a", "m", Pass, 100, 10, 10, "x"),
		mk(1, "s", "b", "m", Pass, 300, 10, 10, "y"),
		mk(2, "s", "c", "m", Pass, 200, 10, 10, "z"),
	}
	cur := []*Record{
		mk(0, "s", "a", "m", Pass, 150, 10, 20, "x"),
		mk(1, "s", "b", "m", Pass, 330, 10, 20, "y"),
		mk(2, "s", "c", "m", Error, 0, 0, 0, ""),
		mk(3, "s", "d", "m", Pass, 9000, 1000, 1000, "new"), // added: not in the totals
	}
	d, err := Compare(base, cur)
	if err != nil {
		t.Fatal(err)
	}
	if d.Before != (Totals{MedianLatencyMS: 200, Tokens: 60}) || d.After != (Totals{MedianLatencyMS: 150, Tokens: 60}) {
		t.Errorf("before %+v after %+v", d.Before, d.After)
	}
	if got := d.totalsText(); got != "latency p50 200ms → 150ms (-25.0%); tokens 60 → 60 (+0.0%)" {
		t.Errorf("%q", got)
	}
}
