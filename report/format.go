package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tracebatch/tracebatch/checks"
)

// This file holds the small text helpers the converters share: how a
// record, a check and a number are named for people.

// Key identifies a record within a run: the same (suite, id, model, repeat)
// names the same line in a baseline, a shard or a resumed report.
type Key struct {
	// Suite, ID and Model are the record's.
	Suite string `json:"suite"`
	ID    string `json:"id"`
	Model string `json:"model,omitempty"`
	// Repeat numbers the runs of a repeated item from 1; 0 otherwise.
	Repeat int `json:"repeat,omitempty"`
}

// KeyOf returns the key of a record.
func KeyOf(r *Record) Key {
	return Key{Suite: r.Suite, ID: r.ID, Model: r.Model, Repeat: r.Repeat}
}

// String names the key for people: "suite/id [model] #repeat", leaving out
// the model when empty and the repeat when 0.
func (k Key) String() string {
	var b strings.Builder
	b.WriteString(k.Suite)
	b.WriteByte('/')
	b.WriteString(k.ID)
	if k.Model != "" {
		b.WriteString(" [")
		b.WriteString(k.Model)
		b.WriteByte(']')
	}
	if k.Repeat > 0 {
		b.WriteString(" #")
		b.WriteString(strconv.Itoa(k.Repeat))
	}
	return b.String()
}

// maxValueLabel is the most characters of a check's value shown in a label.
const maxValueLabel = 60

// checkLabel names a check for people: its type and value, as in
// `regex "(?i)\bminutes\b"` or `contains-any ["email","inbox"]`. Text is
// shown as written (no escaping), on one line, clipped.
func checkLabel(typ string, value any) string {
	switch v := value.(type) {
	case nil:
		return typ
	case string:
		return typ + ` "` + clip(oneLine(v), maxValueLabel) + `"`
	}
	return typ + " " + clip(oneLine(jsonText(value)), maxValueLabel)
}

// checkSig identifies a check by type and exact value, for matching the
// checks of two runs of an item.
func checkSig(c *checks.Result) string {
	return c.Type + "\x00" + jsonText(c.Value)
}

// jsonText is the compact JSON of v, without HTML escaping. Numbers decoded
// from a report (float64) and numbers from a suite (int) give the same text.
func jsonText(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// failedChecks returns the checks of r that did not pass.
func failedChecks(r *Record) []*checks.Result {
	var out []*checks.Result
	for i := range r.Checks {
		if !r.Checks[i].Pass {
			out = append(out, &r.Checks[i])
		}
	}
	return out
}

// checkProblem says what a failed check found, after its label and sep:
// `regex "x": not found in: …`, or the reason it could not be decided.
func checkProblem(c *checks.Result, sep string) string {
	label := checkLabel(c.Type, c.Value)
	switch {
	case c.Error != "":
		return label + sep + "could not be decided: " + oneLine(c.Error)
	case c.Found != "":
		return label + sep + oneLine(c.Found)
	}
	return label + sep + "failed"
}

// firstProblem says why a record did not pass: its error, or what its first
// failing check found. It is empty for a record that passed.
func firstProblem(r *Record) string {
	switch r.Status {
	case Error:
		return clip(oneLine(r.Error), maxProblem)
	case Fail:
		if fc := failedChecks(r); len(fc) > 0 {
			return clip(checkProblem(fc[0], ": "), maxProblem)
		}
		return "failed"
	}
	return ""
}

// maxProblem is the most characters of a problem shown on one line.
const maxProblem = 300

// oneLine puts s on one line: when s holds line breaks or other control
// characters, every run of white space and control characters becomes one
// space.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return isControl(r) || unicode.IsSpace(r) }), " ")
}

func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029
}

// clip cuts s to at most n characters, marking a cut with "…".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, k := 0, 0
	for i = range s {
		if k == n-1 {
			break
		}
		k++
	}
	return s[:i] + "…"
}

// thousands writes n with commas between groups of three digits: 7,712.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// formatMS writes a latency for people: 842ms, 1.9s, 12.3s, 2m05s.
func formatMS(ms int64) string {
	switch {
	case ms < 1000:
		return strconv.FormatInt(ms, 10) + "ms"
	case ms < 60_000:
		return strconv.FormatFloat(float64(ms)/1000, 'f', 1, 64) + "s"
	}
	s := (ms + 500) / 1000
	return fmt.Sprintf("%dm%02ds", s/60, s%60)
}

// percentChange writes the change from before to after as a signed
// percentage with one decimal ("+4.3%", "-10.0%"), or "" when before is 0.
func percentChange(before, after int64) string {
	if before == 0 {
		return ""
	}
	p := float64(after-before) / float64(before) * 100
	if p >= 0 {
		return "+" + strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

// tokensOf adds up the usage of a record.
func tokensOf(r *Record) int64 {
	if r.Usage == nil {
		return 0
	}
	return r.Usage.PromptTokens + r.Usage.CompletionTokens
}

// timed reports whether a record's latency measures a model call that
// answered: records in error have none worth counting.
func timed(r *Record) bool {
	return r.Status == Pass || r.Status == Fail
}

// plural picks the singular or plural form for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
