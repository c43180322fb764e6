package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestGitHubAnnotationsGolden(t *testing.T) {
	var b bytes.Buffer
	for _, r := range fixture() {
		if err := WriteGitHubAnnotations(&b, r); err != nil {
			t.Fatal(err)
		}
	}
	golden(t, "github-annotations.golden", b.Bytes())
	// One command per record that did not pass, each on one line.
	for _, l := range lines(b.String()) {
		if !strings.HasPrefix(l, "::error ") {
			t.Errorf("not a workflow command: %q", l)
		}
	}
	if n := len(lines(b.String())); n != 5 {
		t.Errorf("%d annotations, want 5", n)
	}
}

func TestGitHubAnnotationEscaping(t *testing.T) {
	r := mk(0, "s:1,2", "id%\r\nx", "m", Error, 0, 0, 0, "").failing("line 1\r\nline 2: 100% sure, really").at("dir,a/b:c.yaml", 7)
	var b bytes.Buffer
	if err := WriteGitHubAnnotations(&b, r); err != nil {
		t.Fatal(err)
	}
	want := "::error file=dir%2Ca/b%3Ac.yaml,line=7,title=s%3A1%2C2/id%25%0D%0Ax [m]::line 1%0D%0Aline 2: 100%25 sure, really\n"
	if b.String() != want {
		t.Errorf("\ngot  %q\nwant %q", b.String(), want)
	}
	// Without a file there is no file= or line=.
	r.File, r.Line = "", 0
	b.Reset()
	WriteGitHubAnnotations(&b, r)
	if !strings.HasPrefix(b.String(), "::error title=") {
		t.Errorf("%q", b.String())
	}
	// A record that passed writes nothing.
	b.Reset()
	WriteGitHubAnnotations(&b, mk(0, "s", "a", "m", Pass, 1, 1, 1, "x"))
	if b.Len() != 0 {
		t.Errorf("pass wrote %q", b.String())
	}
}

func TestGitHubSummaryGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteGitHubSummary(&b, summaryOf(fixture()), nil); err != nil {
		t.Fatal(err)
	}
	golden(t, "github-summary.golden.md", b.Bytes())

	base, cur := diffRuns(t)
	d, err := Compare(base, cur)
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := WriteGitHubSummary(&b, summaryOf(cur), &d); err != nil {
		t.Fatal(err)
	}
	golden(t, "github-summary-diff.golden.md", b.Bytes())

	b.Reset()
	if err := WriteGitHubSummary(&b, summaryOf(repeated()), nil); err != nil {
		t.Fatal(err)
	}
	golden(t, "github-summary-repeats.golden.md", b.Bytes())
}

func TestMarkdownEscaping(t *testing.T) {
	for in, want := range map[string]string{
		"plain text":             "plain text",
		"a|b":                    `a\|b`,
		"`code`":                 "\\`code\\`",
		"<script>&amp;</script>": "&lt;script&gt;&amp;amp;&lt;/script&gt;",
		`back\slash *bold* _it_`: `back\\slash \*bold\* \_it\_`,
		"[link](x) ![img](y)":    `\[link\](x) \!\[img\](y)`,
		"two\nlines\r\n# head":   `two lines \# head`,
		"~~strike~~":             `\~\~strike\~\~`,
	} {
		if got := mdEscape(in); got != want {
			t.Errorf("mdEscape(%q) = %q, want %q", in, got, want)
		}
	}
	// In the summary, a failure's text cannot break the table or open HTML.
	r := mk(0, "s|uite", "<b>id</b>", "m", Fail, 1, 1, 1, "x").with(fail("contains", "a|b", "not found in: </details><script>`x`"))
	var b bytes.Buffer
	WriteGitHubSummary(&b, summaryOf([]*Record{r}), nil)
	out := b.String()
	if strings.Contains(out, "<script>") || strings.Contains(out, "<b>") || strings.Count(out, "</details>") != 1 || strings.Contains(out, "s|uite") {
		t.Errorf("unescaped:\n%s", out)
	}
}

func TestGitHubSummaryCutsLongWordDiffs(t *testing.T) {
	var a, b []string
	for i := range 200 {
		a = append(a, fmt.Sprintf("w%d", i), "same", "same", "same", "same", "same", "same", "same")
		b = append(b, fmt.Sprintf("W%d", i), "same", "same", "same", "same", "same", "same", "same")
	}
	base := mk(0, "s", "a", "m", Pass, 1, 1, 1, strings.Join(a, " "))
	cur := mk(0, "s", "a", "m", Pass, 1, 1, 1, strings.Join(b, " "))
	d, err := Compare([]*Record{base}, []*Record{cur})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	WriteGitHubSummary(&out, summaryOf([]*Record{cur}), &d)
	if n := strings.Count(out.String(), "<del>"); n == 0 || n > maxSummarySpans/2 {
		t.Errorf("%d <del> in the summary", n)
	}
	if !strings.Contains(out.String(), "… (more changes in the report)") {
		t.Error("no mark of the cut")
	}
	// The text diff keeps every change.
	var text bytes.Buffer
	WriteDiff(&text, d, DiffOptions{})
	if n := strings.Count(text.String(), "[-"); n != 200 {
		t.Errorf("%d changes in the text diff", n)
	}
}

func TestGitHubSummaryOfDiffAlone(t *testing.T) {
	base, cur := diffRuns(t)
	d, err := Compare(base, cur)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteGitHubSummary(&b, Summary{}, &d); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "### tracebatch diff\n\n#### Compared with the baseline\n") || strings.Contains(out, "| suite |") {
		t.Errorf("%s", out)
	}
}
