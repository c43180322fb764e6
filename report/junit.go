package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// JUnit collects records into a JUnit XML report, the format CI systems
// (GitHub, GitLab, Jenkins, Buildkite) show test results from: one
// <testsuite> per suite, one <testcase> per record. Create it with
// NewJUnit, Add every record, then Write once.
//
// It keeps per record its name, timing, failure text and at most
// MaxJUnitOutput characters of its answer. It is not safe for concurrent
// use.
type JUnit struct {
	suites []*junitSuite
	byName map[string]*junitSuite
	models map[string]bool
}

// MaxJUnitOutput is the most characters of an answer a <system-out> holds;
// a longer answer is cut and says how long it was.
const MaxJUnitOutput = 2000

// The XML shapes, in the form of the JUnit schema that CI systems read.
type (
	junitSuites struct {
		XMLName  xml.Name      `xml:"testsuites"`
		Name     string        `xml:"name,attr"`
		Tests    int           `xml:"tests,attr"`
		Failures int           `xml:"failures,attr"`
		Errors   int           `xml:"errors,attr"`
		Time     string        `xml:"time,attr"`
		Suites   []*junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name      string       `xml:"name,attr"`
		Tests     int          `xml:"tests,attr"`
		Failures  int          `xml:"failures,attr"`
		Errors    int          `xml:"errors,attr"`
		Time      string       `xml:"time,attr"`
		Timestamp string       `xml:"timestamp,attr,omitempty"`
		Cases     []*junitCase `xml:"testcase"`

		ms int64 // latency sum
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		File      string        `xml:"file,attr,omitempty"`
		Line      int           `xml:"line,attr,omitempty"`
		Failure   *junitProblem `xml:"failure,omitempty"`
		Error     *junitProblem `xml:"error,omitempty"`
		SystemOut string        `xml:"system-out,omitempty"`

		key Key // the name is made at Write, once the models are known
	}
	junitProblem struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
)

// NewJUnit returns an empty JUnit report.
func NewJUnit() *JUnit {
	return &JUnit{byName: map[string]*junitSuite{}, models: map[string]bool{}}
}

// Add adds a record as a test case of its suite: a failure listing every
// failed check when it failed, an error with the reason when it could not
// complete, and its answer as system-out.
func (j *JUnit) Add(r *Record) {
	s := j.byName[r.Suite]
	if s == nil {
		s = &junitSuite{Name: xmlText(r.Suite)}
		if !r.StartedAt.IsZero() {
			// The JUnit schema's timestamp has no zone; it is UTC.
			s.Timestamp = r.StartedAt.UTC().Format("2006-01-02T15:04:05")
		}
		j.byName[r.Suite] = s
		j.suites = append(j.suites, s)
	}
	j.models[r.Model] = true
	c := &junitCase{
		Classname: xmlText(r.Suite),
		Time:      seconds(r.LatencyMS),
		File:      xmlText(r.File),
		Line:      r.Line,
		SystemOut: xmlText(truncateOutput(r.Answer)),
		key:       KeyOf(r),
	}
	switch r.Status {
	case Fail:
		failed := failedChecks(r)
		lines := make([]string, len(failed))
		for i, fc := range failed {
			lines[i] = checkProblem(fc, ": ")
		}
		c.Failure = &junitProblem{
			Message: fmt.Sprintf("%d of %d %s failed", len(failed), len(r.Checks), plural(len(r.Checks), "check", "checks")),
			Type:    "checks",
			Text:    xmlText(strings.Join(lines, "\n")),
		}
		s.Failures++
	case Error:
		c.Error = &junitProblem{Message: xmlText(clip(oneLine(r.Error), maxProblem)), Type: "error", Text: xmlText(r.Error)}
		s.Errors++
	}
	s.Tests++
	s.ms += r.LatencyMS
	s.Cases = append(s.Cases, c)
}

// Write writes the report as XML 1.0. The document always parses: text
// from records is valid UTF-8 with characters XML does not allow (control
// characters other than tab, newline and carriage return; U+FFFE, U+FFFF)
// replaced by U+FFFD. A test case is named by its id, with " [model]" when
// the records came from more than one model and " #repeat" for repeats;
// times are in seconds.
func (j *JUnit) Write(w io.Writer) error {
	doc := junitSuites{Name: "tracebatch", Suites: j.suites}
	var ms int64
	for _, s := range j.suites {
		for _, c := range s.Cases {
			k := c.key
			if len(j.models) < 2 {
				k.Model = ""
			}
			c.Name = xmlText(strings.TrimPrefix(k.String(), k.Suite+"/"))
		}
		s.Time = seconds(s.ms)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		ms += s.ms
	}
	doc.Time = seconds(ms)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("report: writing JUnit XML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("report: writing JUnit XML: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// seconds writes milliseconds as seconds with three decimals.
func seconds(ms int64) string {
	return strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)
}

// truncateOutput cuts an answer to MaxJUnitOutput characters.
func truncateOutput(s string) string {
	n := utf8.RuneCountInString(s)
	if n <= MaxJUnitOutput {
		return s
	}
	return clip(s, MaxJUnitOutput) + fmt.Sprintf(" [cut: the answer has %s characters]", thousands(int64(n)))
}

// xmlText returns s as text XML 1.0 can hold: invalid UTF-8 and characters
// outside XML's Char production become U+FFFD.
func xmlText(s string) string {
	ok := func(r rune) bool {
		return r == '\t' || r == '\n' || r == '\r' ||
			(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
	}
	clean := true
	for i, r := range s {
		if !ok(r) || (r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD")) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if !ok(r) || (r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD")) {
			r = '\uFFFD'
		}
		b.WriteRune(r)
	}
	return b.String()
}
