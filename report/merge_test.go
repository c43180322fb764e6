package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// line is a report line with odd but valid formatting that re-encoding
// would change: key order, spaces, escapes, an unknown field.
func line(index int, id string) string {
	return fmt.Sprintf(`{ "status":"pass", "id":%q, "suite":"s", "index":%d, "answer":"caf\u00e9 <b> \/ %d", "x-extra":[1, 2.50] }`, id, index, index)
}

func merge(t *testing.T, srcs ...Source) (string, error) {
	t.Helper()
	var b bytes.Buffer
	err := Merge(&b, srcs...)
	return b.String(), err
}

func src(name string, ls ...string) Source {
	return Source{Name: name, R: strings.NewReader(strings.Join(ls, "\n") + "\n")}
}

func TestMergeOrdersAndKeepsBytes(t *testing.T) {
	// Shards 0/3, 1/3 and 2/3 of 10 items, one of them empty of items at
	// the end, with blank lines and CRLF.
	var shards [3][]string
	for i := range 10 {
		shards[i%3] = append(shards[i%3], line(i, fmt.Sprintf("item-%d", i)))
	}
	shards[1] = append(shards[1], "", "  ")
	out, err := merge(t,
		src("a.jsonl", shards[0]...),
		Source{Name: "b.jsonl", R: strings.NewReader(strings.Join(shards[1], "\r\n"))},
		src("c.jsonl", shards[2]...),
		src("empty.jsonl"),
	)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := range 10 {
		want.WriteString(line(i, fmt.Sprintf("item-%d", i)) + "\n")
	}
	if out != want.String() {
		t.Errorf("got\n%s\nwant\n%s", out, want.String())
	}
}

func TestMergeLosslessOnRealReports(t *testing.T) {
	recs := fixture()
	var a, b []*Record
	for _, r := range recs {
		if r.Index%2 == 0 {
			a = append(a, r)
		} else {
			b = append(b, r)
		}
	}
	out, err := merge(t, Source{"a", bytes.NewReader(jsonl(t, a))}, Source{"b", bytes.NewReader(jsonl(t, b))})
	if err != nil {
		t.Fatal(err)
	}
	if out != string(jsonl(t, recs)) {
		t.Error("merging the halves of a report does not give the report back")
	}
}

func TestMergeSameIndexTies(t *testing.T) {
	// One shard alone merges to itself; an index equal to the previous one
	// in the same shard, with another key, is refused.
	out, err := merge(t, src("a.jsonl", line(0, "x"), line(5, "y")))
	if err != nil || out != line(0, "x")+"\n"+line(5, "y")+"\n" {
		t.Errorf("%q %v", out, err)
	}
	_, err = merge(t, src("a.jsonl", line(0, "x")), src("b.jsonl", line(1, "y"), line(1, "z")))
	if err == nil || err.Error() != "report: index 1 is on b.jsonl:1 (s/y) and on b.jsonl:2 (s/z): are these shards of the same run?" {
		t.Errorf("%v", err)
	}
}

func TestMergeErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		srcs []Source
		want string
	}{
		{
			"duplicate across inputs",
			[]Source{src("a.jsonl", line(0, "x"), line(2, "dup")), src("b.jsonl", line(1, "y"), line(3, "z"), line(7, "dup"))},
			"report: s/dup is in the reports twice: a.jsonl:2 and b.jsonl:3",
		},
		{
			"duplicate with the same index",
			[]Source{src("a.jsonl", line(0, "x"), line(4, "dup")), src("b.jsonl", line(4, "dup"))},
			"report: s/dup is in the reports twice: a.jsonl:2 and b.jsonl:1",
		},
		{
			"duplicate within an input",
			[]Source{src("a.jsonl", line(0, "dup"), line(1, "x"), line(2, "dup"))},
			"report: s/dup is in the reports twice: a.jsonl:1 and a.jsonl:3",
		},
		{
			"duplicate repeat and model told apart",
			[]Source{src("a.jsonl",
				`{"index":0,"id":"x","suite":"s","model":"m1","repeat":1,"status":"pass"}`,
				`{"index":1,"id":"x","suite":"s","model":"m1","repeat":2,"status":"pass"}`,
				`{"index":2,"id":"x","suite":"s","model":"m2","repeat":1,"status":"pass"}`,
				`{"index":3,"id":"x","suite":"s","model":"m1","repeat":2,"status":"pass"}`)},
			"report: s/x [m1] #2 is in the reports twice: a.jsonl:2 and a.jsonl:4",
		},
		{
			"unsorted",
			[]Source{src("a.jsonl", line(0, "a")), src("b.jsonl", line(1, "b"), line(5, "c"), "", line(3, "d"))},
			"b.jsonl:4: not in index order: index 3 comes after index 5; merge takes reports as tracebatch wrote them",
		},
		{
			"not a report",
			[]Source{src("a.jsonl", line(0, "a"), "{nope")},
			"a.jsonl:2: not a report line: ",
		},
		{
			"no index",
			[]Source{src("old.jsonl", `{"id":"a","status":"pass"}`)},
			`old.jsonl:1: the line has no "index" (was the report written by an older tracebatch?)`,
		},
		{
			"unnamed sources",
			[]Source{{R: strings.NewReader(line(0, "a") + "\n")}, {R: strings.NewReader(line(1, "a") + "\n")}},
			"report: s/a is in the reports twice: report 1:1 and report 2:1",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := merge(t, c.srcs...)
			if err == nil || !(err.Error() == c.want || strings.HasSuffix(c.want, ": ") && strings.HasPrefix(err.Error(), c.want)) {
				t.Errorf("got  %v\nwant %s", err, c.want)
			}
		})
	}
}

func TestMergeFiles(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for k := range 3 {
		var b strings.Builder
		for i := k; i < 300; i += 3 {
			b.WriteString(line(i, fmt.Sprintf("item-%03d", i)) + "\n")
		}
		p := filepath.Join(dir, fmt.Sprintf("shard-%d.jsonl", k))
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	var out bytes.Buffer
	if err := MergeFiles(&out, paths...); err != nil {
		t.Fatal(err)
	}
	got := lines(out.String())
	if len(got) != 300 || got[0] != line(0, "item-000") || got[299] != line(299, "item-299") {
		t.Errorf("%d lines", len(got))
	}
	// The merged report reads back in order.
	i := 0
	err := Read(&out, func(r *Record) error {
		if r.Index != i {
			return fmt.Errorf("index %d at %d", r.Index, i)
		}
		i++
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	if err := MergeFiles(&out, filepath.Join(dir, "missing.jsonl")); err == nil {
		t.Error("a missing file merged")
	}
}
