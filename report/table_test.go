package report

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func summaryOf(recs []*Record) Summary {
	var s Summary
	for _, r := range recs {
		s.Add(r)
	}
	return s
}

func table(t *testing.T, recs []*Record, opts TableOptions) []byte {
	t.Helper()
	var b bytes.Buffer
	s := summaryOf(recs)
	if err := s.WriteTable(&b, opts); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// repeated is a run of two items repeated three times: one always passes,
// one is flaky.
func repeated() []*Record {
	var recs []*Record
	for rep := 1; rep <= 3; rep++ {
		a := mk(len(recs), "magic-links", "what-are-magic-links", "gpt-4o-mini", Pass, int64(800+rep*10), 400, 90, "Magic links let you sign in without a password.")
		a.Repeat = rep
		st := Pass
		if rep == 2 {
			st = Fail
		}
		b := mk(len(recs)+1, "magic-links", "token-lifetime", "gpt-4o-mini", st, int64(1000+rep*100), 400, 40, "Links expire after 15 minutes.")
		b.Repeat = rep
		if st == Fail {
			b.with(fail("regex", `(?i)\bminutes\b`, "not found in: Links expire soon."))
		}
		recs = append(recs, a, b)
	}
	return recs
}

func TestTableGolden(t *testing.T) {
	recs := fixture()
	golden(t, "table-one-model.golden", table(t, only(recs, "gpt-4o-mini"), TableOptions{}))
	golden(t, "table-two-models.golden", table(t, recs, TableOptions{}))
	golden(t, "table-repeats.golden", table(t, repeated(), TableOptions{}))
	golden(t, "table-color.golden", table(t, only(recs, "gpt-4o-mini"), TableOptions{Color: true}))
}

func TestTableShapes(t *testing.T) {
	recs := fixture()
	plain := string(table(t, recs, TableOptions{}))
	if strings.Contains(plain, "\x1b[") {
		t.Error("colour without Color")
	}
	// Rows by suite, models in order of first appearance, and a total.
	var firsts []string
	for _, l := range lines(plain)[1:] {
		if l == "" {
			break
		}
		firsts = append(firsts, strings.Join(strings.Fields(l)[:2], " "))
	}
	want := []string{"magic-links gpt-4o-mini", "magic-links gpt-4.1-mini", "passkeys gpt-4o-mini", "passkeys gpt-4.1-mini", "total 7"}
	if !slices.Equal(firsts, want) {
		t.Errorf("rows %q, want %q", firsts, want)
	}
	// One model, one row: no total.
	if strings.Contains(string(table(t, only(recs, "gpt-4o-mini")[:2], TableOptions{})), "total") {
		t.Error("a total row for a single row")
	}
	// The list of failures is capped.
	var many []*Record
	for i := range 30 {
		many = append(many, mk(i, "s", fmt.Sprintf("item-%02d", i), "m", Fail, 100, 1, 1, "x").with(fail("contains", "y", "not found in: x")))
	}
	out := string(table(t, many, TableOptions{}))
	if strings.Count(out, "FAILED") != DefaultMaxFailures || !strings.Contains(out, "and 10 more") {
		t.Errorf("cap: %s", out)
	}
	if out := string(table(t, many, TableOptions{MaxFailures: -1})); strings.Contains(out, "FAILED") {
		t.Errorf("MaxFailures -1 listed failures: %s", out)
	}
	// Text from records cannot drive the terminal.
	esc := mk(0, "s", "id\x1b[2J", "m", Error, 0, 0, 0, "").failing("model: \x1b]0;title\x07 boom\nsecond line")
	if out := string(table(t, []*Record{esc}, TableOptions{})); strings.ContainsAny(out, "\x1b\x07") || strings.Count(out, "\n") != 4 {
		t.Errorf("control characters got through: %q", out)
	}
	// Nothing added, nothing written.
	if out := table(t, nil, TableOptions{}); len(out) != 0 {
		t.Errorf("empty summary wrote %q", out)
	}
}

func TestWriteLineKept(t *testing.T) {
	s := summaryOf(only(fixture(), "gpt-4o-mini"))
	var b bytes.Buffer
	s.WriteLine(&b, 3412*time.Millisecond, "report.jsonl")
	want := "3 pass, 2 fail, 1 error; 1997 tokens (1737 prompt, 260 completion) in 3.412s; report: report.jsonl\n"
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
	if s.Total() != 6 || s.Fail != 2 || s.Error != 1 {
		t.Errorf("counts %+v", s)
	}
}

func TestColorEnabled(t *testing.T) {
	for _, c := range []struct {
		noColor, term string
		tty, want     bool
	}{
		{"", "xterm", true, true},
		{"", "xterm", false, false},
		{"1", "xterm", true, false},
		{"0", "xterm", true, false}, // any non-empty value
		{"", "dumb", true, false},
	} {
		t.Setenv("NO_COLOR", c.noColor)
		t.Setenv("TERM", c.term)
		if got := ColorEnabled(c.tty); got != c.want {
			t.Errorf("NO_COLOR=%q TERM=%q tty=%v: %v", c.noColor, c.term, c.tty, got)
		}
	}
}

func TestPercentile(t *testing.T) {
	seq := func(n int) []int32 {
		s := make([]int32, n)
		for i := range s {
			s[i] = int32(i + 1)
		}
		return s
	}
	for _, c := range []struct {
		values   []int32
		p50, p95 int64
	}{
		{nil, -1, -1},
		{[]int32{7}, 7, 7},
		{[]int32{1, 2}, 1, 2},
		{[]int32{1, 2, 3}, 2, 3},
		{seq(10), 5, 10},
		{seq(20), 10, 19},
		{seq(100), 50, 95},
		{seq(101), 51, 96},
		{seq(1000), 500, 950},
	} {
		if got := percentile(c.values, 50); got != c.p50 {
			t.Errorf("p50 of %d values: %d, want %d", len(c.values), got, c.p50)
		}
		if got := percentile(c.values, 95); got != c.p95 {
			t.Errorf("p95 of %d values: %d, want %d", len(c.values), got, c.p95)
		}
	}
	// Against the definition, on random data: the smallest value with at
	// least p% of the values at or below it.
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		n := 1 + r.IntN(3000)
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(r.IntN(5000))
		}
		slices.Sort(v)
		for _, p := range []int{50, 95} {
			got := percentile(v, p)
			var want int64 = -1
			for _, x := range v {
				atOrBelow, _ := slices.BinarySearch(v, x+1)
				if atOrBelow*100 >= p*n {
					want = int64(x)
					break
				}
			}
			if got != want {
				t.Fatalf("p%d of %d values: %d, want %d", p, n, got, want)
			}
		}
	}
}

func TestSummaryLatenciesOnlyForAnswers(t *testing.T) {
	// Errors have no answer; their latency must not pull p50 down.
	recs := []*Record{
		mk(0, "s", "a", "m", Pass, 1000, 1, 1, "x"),
		mk(1, "s", "b", "m", Error, 0, 0, 0, ""),
		mk(2, "s", "c", "m", Error, 0, 0, 0, ""),
	}
	rows, _ := summaryOf(recs).rows()
	if rows[0].p50 != 1000 || rows[0].p95 != 1000 {
		t.Errorf("p50 %d p95 %d", rows[0].p50, rows[0].p95)
	}
}
