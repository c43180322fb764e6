package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

func junitOf(t *testing.T, recs []*Record) []byte {
	t.Helper()
	j := NewJUnit()
	for _, r := range recs {
		j.Add(r)
	}
	var b bytes.Buffer
	if err := j.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// parsed is the JUnit document as a CI system reads it.
type parsed struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Time     string   `xml:"time,attr"`
	Suites   []struct {
		Name      string `xml:"name,attr"`
		Tests     int    `xml:"tests,attr"`
		Failures  int    `xml:"failures,attr"`
		Errors    int    `xml:"errors,attr"`
		Time      string `xml:"time,attr"`
		Timestamp string `xml:"timestamp,attr"`
		Cases     []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Time      string `xml:"time,attr"`
			File      string `xml:"file,attr"`
			Line      int    `xml:"line,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
			} `xml:"error"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func parseJUnit(t *testing.T, doc []byte) parsed {
	t.Helper()
	var p parsed
	if err := xml.Unmarshal(doc, &p); err != nil {
		t.Fatalf("the JUnit XML does not parse: %v\n%s", err, doc)
	}
	// A strict token-by-token pass too: every token must be well formed.
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	for {
		_, err := d.Token()
		if err != nil {
			if err != io.EOF {
				t.Fatalf("token: %v", err)
			}
			break
		}
	}
	return p
}

func TestJUnitGolden(t *testing.T) {
	recs := fixture()
	golden(t, "junit-two-models.golden.xml", junitOf(t, recs))
	golden(t, "junit-one-model.golden.xml", junitOf(t, only(recs, "gpt-4o-mini")))
	golden(t, "junit-repeats.golden.xml", junitOf(t, repeated()))
}

func TestJUnitParsesBack(t *testing.T) {
	recs := fixture()
	p := parseJUnit(t, junitOf(t, recs))
	if p.Name != "tracebatch" || p.Tests != 12 || p.Failures != 4 || p.Errors != 1 {
		t.Errorf("totals: %+v", p)
	}
	if len(p.Suites) != 2 || p.Suites[0].Name != "magic-links" || p.Suites[1].Name != "passkeys" {
		t.Fatalf("suites: %+v", p.Suites)
	}
	ml := p.Suites[0]
	if ml.Tests != 8 || ml.Failures != 2 || ml.Errors != 1 || ml.Timestamp != "2026-12-04T19:40:00" {
		t.Errorf("magic-links: tests %d failures %d errors %d timestamp %s", ml.Tests, ml.Failures, ml.Errors, ml.Timestamp)
	}
	c := ml.Cases[1]
	if c.Name != "token-lifetime [gpt-4o-mini]" || c.Classname != "magic-links" || c.Time != "1.942" || c.File != "testdata/magic-links.yaml" || c.Line != 28 {
		t.Errorf("case: %+v", c)
	}
	if c.Failure == nil || c.Failure.Message != "2 of 3 checks failed" || c.Failure.Type != "checks" {
		t.Fatalf("failure: %+v", c.Failure)
	}
	if got := lines(c.Failure.Text); len(got) != 2 || got[0] != `regex "(?i)\bminutes\b": not found in: Links expire quickly, so use them soon after they arrive in your…` || got[1] != "max-length 40: 71 characters" {
		t.Errorf("failure text: %q", got)
	}
	e := ml.Cases[2]
	if e.Error == nil || e.Error.Type != "error" || !strings.Contains(e.Error.Message, "500 Internal Server Error") || e.Failure != nil {
		t.Errorf("error case: %+v", e)
	}

	// The answer with NUL, BEL, ESC, U+FFFE and "]]>" comes back as the
	// same text with the characters XML cannot hold replaced.
	ugly := p.Suites[1].Cases[1]
	want := xmlText(recs[5].Answer)
	if ugly.SystemOut != want || !strings.Contains(ugly.SystemOut, "]]> and\uFFFDnul\uFFFDbell") {
		t.Errorf("system-out %q, want %q", ugly.SystemOut, want)
	}
	if ugly.Name != "ugly|answer [gpt-4o-mini]" {
		t.Errorf("name %q", ugly.Name)
	}
}

func TestJUnitNames(t *testing.T) {
	p := parseJUnit(t, junitOf(t, only(fixture(), "gpt-4o-mini")))
	if n := p.Suites[0].Cases[0].Name; n != "what-are-magic-links" {
		t.Errorf("one model: name %q", n)
	}
	p = parseJUnit(t, junitOf(t, repeated()))
	var names []string
	for _, c := range p.Suites[0].Cases {
		names = append(names, c.Name)
	}
	if names[0] != "what-are-magic-links #1" || names[3] != "token-lifetime #2" {
		t.Errorf("repeat names %q", names)
	}
}

func TestJUnitHostileText(t *testing.T) {
	hostile := "a\x00b\x01c\x08d\x0be\x0cf\x1fg\x7fh\uFFFEi\uFFFFj\xff\xfek]]>l<m>&n\"o'p\r\nq\tr\U0001F600"
	r := mk(0, "suite\x00<&>\"", "id]]>\x01", "m\x02", Error, 0, 0, 0, "").failing(hostile).at("file\x03\".yaml", 3)
	r2 := mk(1, "suite\x00<&>\"", "id2", "m\x02", Fail, 10, 1, 1, hostile).with(fail("contains", hostile, hostile))
	doc := junitOf(t, []*Record{r, r2})
	if !utf8.Valid(doc) {
		t.Fatal("not UTF-8")
	}
	p := parseJUnit(t, doc)
	if p.Tests != 2 || p.Errors != 1 || p.Failures != 1 {
		t.Errorf("%+v", p)
	}
	out := p.Suites[0].Cases[1].SystemOut
	if !strings.Contains(out, "]]>l<m>&n\"o'p") || !strings.Contains(out, "\U0001F600") {
		t.Errorf("system-out lost text: %q", out)
	}
}

func TestJUnitCutsLongAnswers(t *testing.T) {
	long := strings.Repeat("é", MaxJUnitOutput+500)
	p := parseJUnit(t, junitOf(t, []*Record{mk(0, "s", "a", "m", Pass, 1, 1, 1, long)}))
	out := p.Suites[0].Cases[0].SystemOut
	if n := utf8.RuneCountInString(out); n > MaxJUnitOutput+60 || !strings.HasSuffix(out, "[cut: the answer has 2,500 characters]") {
		t.Errorf("%d characters, ends %q", n, out[len(out)-60:])
	}
}

func TestXMLText(t *testing.T) {
	for in, want := range map[string]string{
		"plain":         "plain",
		"tab\tnl\ncr\r": "tab\tnl\ncr\r",
		"a\x00b":        "a\uFFFDb",
		"\uFFFE\uFFFF":  "\uFFFD\uFFFD",
		"bad\xffutf8":   "bad\uFFFDutf8",
		"kept \uFFFD":   "kept \uFFFD",
		"\U0001F600":    "\U0001F600",
		"\ud7ff\ue000":  "\ud7ff\ue000",
	} {
		if got := xmlText(in); got != want {
			t.Errorf("xmlText(%q) = %q, want %q", in, got, want)
		}
	}
}
