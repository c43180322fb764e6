// Package checks evaluates an answer against the expectations of a suite
// item: deterministic checks (equals, contains, regex, is-json, …) here, and
// model-graded ones (llm-rubric, similar) through a Grader.
package checks

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Spec is one expectation as a suite states it: a check type, optionally
// negated with a "not-" prefix, and its value.
type Spec struct {
	// Type is the check's name, such as "icontains" or "not-regex".
	Type string `json:"type"`
	// Value is what the check compares with: a string, a list of strings
	// (contains-any, contains-all) or a whole number (max-length,
	// max-latency-ms). is-json takes none.
	Value any `json:"value,omitempty"`
	// Threshold is the pass mark of a similar check (cosine, 0 to 1).
	Threshold float64 `json:"threshold,omitempty"`

	re *regexp.Regexp
}

// kind describes what a check type takes.
type kind struct {
	value     valueKind
	negatable bool
	graded    bool
}

type valueKind int

const (
	noValue valueKind = iota
	stringValue
	listValue
	intValue
)

var kinds = map[string]kind{
	"equals":         {value: stringValue, negatable: true},
	"contains":       {value: stringValue, negatable: true},
	"icontains":      {value: stringValue, negatable: true},
	"contains-any":   {value: listValue, negatable: true},
	"contains-all":   {value: listValue, negatable: true},
	"regex":          {value: stringValue, negatable: true},
	"starts-with":    {value: stringValue, negatable: true},
	"is-json":        {value: noValue, negatable: true},
	"max-length":     {value: intValue},
	"max-latency-ms": {value: intValue},
	"llm-rubric":     {value: stringValue, graded: true},
	"similar":        {value: stringValue, graded: true},
}

// Types returns every check type a suite may use, "not-" forms included,
// sorted: for error messages and suggestions.
func Types() []string {
	var ts []string
	for t, k := range kinds {
		ts = append(ts, t)
		if k.negatable {
			ts = append(ts, "not-"+t)
		}
	}
	slices.Sort(ts)
	return ts
}

// base splits "not-contains" into "contains" and true.
func base(typ string) (string, bool) {
	if b, ok := strings.CutPrefix(typ, "not-"); ok {
		return b, true
	}
	return typ, false
}

// Graded reports whether the check needs a model to decide (llm-rubric,
// similar).
func (s Spec) Graded() bool {
	b, _ := base(s.Type)
	return kinds[b].graded
}

// Compile checks that the spec is well formed, normalises its value
// (numbers to int, lists to []string) and compiles its regular expression.
// The error says what is wrong with the value, for a message that the
// caller prefixes with the position.
func (s *Spec) Compile() error {
	b, neg := base(s.Type)
	k, ok := kinds[b]
	if !ok || (neg && !k.negatable) {
		return fmt.Errorf("unknown check type %q", s.Type)
	}
	switch k.value {
	case noValue:
		if s.Value != nil {
			return fmt.Errorf("%s takes no value", s.Type)
		}
	case stringValue:
		str, ok := s.Value.(string)
		if !ok {
			return fmt.Errorf("%s needs a text value", s.Type)
		}
		if str == "" && b != "equals" {
			return fmt.Errorf("%s needs a non-empty value", s.Type)
		}
		if b == "regex" {
			re, err := regexp.Compile(str)
			if err != nil {
				return fmt.Errorf("%s: invalid regular expression: %v", s.Type, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			}
			s.re = re
		}
	case listValue:
		list, err := stringList(s.Value)
		if err != nil || len(list) == 0 {
			return fmt.Errorf("%s needs a non-empty list of texts", s.Type)
		}
		s.Value = list
	case intValue:
		n, ok := wholeNumber(s.Value)
		if !ok || n < 0 {
			return fmt.Errorf("%s needs a whole number of at least 0", s.Type)
		}
		s.Value = n
	}
	if b == "similar" {
		if s.Threshold == 0 {
			s.Threshold = DefaultSimilarThreshold
		}
		if s.Threshold < 0 || s.Threshold > 1 {
			return fmt.Errorf("similar: threshold must be between 0 and 1")
		}
	} else if s.Threshold != 0 {
		return fmt.Errorf("%s takes no threshold", s.Type)
	}
	return nil
}

// DefaultSimilarThreshold is the cosine a similar check needs when the suite
// does not say.
const DefaultSimilarThreshold = 0.8

func stringList(v any) ([]string, error) {
	switch v := v.(type) {
	case []string:
		return v, nil
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("item %d is not text", i+1)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("not a list")
}

func wholeNumber(v any) (int, bool) {
	switch v := v.(type) {
	case int:
		return v, true
	case int64:
		return int(v), true
	case float64:
		if v == float64(int(v)) {
			return int(v), true
		}
	case json.Number:
		n, err := v.Int64()
		return int(n), err == nil
	}
	return 0, false
}

// Answer is what the checks look at.
type Answer struct {
	// Text is the model's answer.
	Text string
	// LatencyMS is how long the model call took.
	LatencyMS int64
}

// Result is the outcome of one check, as the report records it.
type Result struct {
	// Type and Value repeat the spec, so a result reads on its own.
	Type  string `json:"type"`
	Value any    `json:"value,omitempty"`
	// Pass is the verdict.
	Pass bool `json:"pass"`
	// Score is the measured value of a scored check (cosine for similar).
	Score *float64 `json:"score,omitempty"`
	// Found says what was found: an excerpt around the match or the miss,
	// the length, the latency, or the grader's reason.
	Found string `json:"found,omitempty"`
	// Error is set when the check could not be decided (a grader failed).
	Error string `json:"error,omitempty"`
}

// Evaluate runs a deterministic check on an answer. Graded checks are
// decided by a Grader instead; Evaluate reports them as an error.
func Evaluate(s Spec, a Answer) Result {
	r := Result{Type: s.Type, Value: s.Value}
	b, neg := base(s.Type)
	var pass bool
	switch b {
	case "equals":
		want := s.Value.(string)
		pass = a.Text == want || strings.TrimSpace(a.Text) == strings.TrimSpace(want)
		r.Found = excerpt(a.Text, 0, 0)
	case "contains":
		i := strings.Index(a.Text, s.Value.(string))
		pass = i >= 0
		r.Found = around(a.Text, i, len(s.Value.(string)))
	case "icontains":
		i, n := indexFold(a.Text, s.Value.(string))
		pass = i >= 0
		r.Found = around(a.Text, i, n)
	case "starts-with":
		pass = strings.HasPrefix(strings.TrimLeft(a.Text, " \t\r\n"), s.Value.(string))
		r.Found = excerpt(a.Text, 0, 0)
	case "contains-any", "contains-all":
		var hit, miss []string
		first := -1
		for _, w := range s.Value.([]string) {
			if i := strings.Index(a.Text, w); i >= 0 {
				hit = append(hit, w)
				if first < 0 {
					first = i
				}
			} else {
				miss = append(miss, w)
			}
		}
		if b == "contains-any" {
			pass = len(hit) > 0
		} else {
			pass = len(miss) == 0
		}
		r.Found = listFound(hit, miss, a.Text, first)
	case "regex":
		loc := s.re.FindStringIndex(a.Text)
		pass = loc != nil
		if loc != nil {
			r.Found = around(a.Text, loc[0], loc[1]-loc[0])
		} else {
			r.Found = around(a.Text, -1, 0)
		}
	case "is-json":
		var v any
		err := json.Unmarshal([]byte(strings.TrimSpace(a.Text)), &v)
		pass = err == nil
		if err != nil {
			r.Found = "not JSON: " + err.Error()
		} else {
			r.Found = "valid JSON"
		}
	case "max-length":
		n := utf8.RuneCountInString(a.Text)
		pass = n <= s.Value.(int)
		r.Found = fmt.Sprintf("%d characters", n)
	case "max-latency-ms":
		pass = a.LatencyMS <= int64(s.Value.(int))
		r.Found = fmt.Sprintf("%d ms", a.LatencyMS)
	default:
		r.Error = s.Type + " needs a grader"
		return r
	}
	r.Pass = pass != neg
	return r
}

// indexFold finds sub in s ignoring case; it returns the byte offset and
// length of the match in s, or -1.
func indexFold(s, sub string) (int, int) {
	ls, lsub := strings.ToLower(s), strings.ToLower(sub)
	i := strings.Index(ls, lsub)
	if i < 0 {
		return -1, 0
	}
	if len(ls) == len(s) {
		return i, len(sub)
	}
	// Lower-casing changed byte lengths; map the match back rune by rune.
	runeStart := utf8.RuneCountInString(ls[:i])
	runeLen := utf8.RuneCountInString(lsub)
	start, n := 0, 0
	for off := range s {
		if n == runeStart {
			start = off
			break
		}
		n++
	}
	end := start
	for k := 0; k < runeLen && end < len(s); k++ {
		_, size := utf8.DecodeRuneInString(s[end:])
		end += size
	}
	return start, end - start
}

// excerptWidth is how many characters of context an excerpt keeps on each
// side of a match.
const excerptWidth = 40

// around returns a short excerpt of s around [i, i+n), or of its beginning
// when i < 0, with the match marked by »«.
func around(s string, i, n int) string {
	if i < 0 {
		return "not found in: " + excerpt(s, 0, 0)
	}
	return excerpt(s, i, n)
}

// excerpt cuts s to about excerptWidth characters each side of [i, i+n),
// marks the match with »« when n > 0, and folds white space.
func excerpt(s string, i, n int) string {
	lo := i
	for k := 0; k < excerptWidth && lo > 0; k++ {
		_, size := utf8.DecodeLastRuneInString(s[:lo])
		lo -= size
	}
	hi := i + n
	if n == 0 {
		hi = i
	}
	width := excerptWidth
	if n == 0 {
		width = 2 * excerptWidth
	}
	for k := 0; k < width && hi < len(s); k++ {
		_, size := utf8.DecodeRuneInString(s[hi:])
		hi += size
	}
	var b strings.Builder
	if lo > 0 {
		b.WriteString("…")
	}
	if n > 0 {
		b.WriteString(s[lo:i])
		b.WriteString("»")
		b.WriteString(s[i : i+n])
		b.WriteString("«")
		b.WriteString(s[i+n : hi])
	} else {
		b.WriteString(s[lo:hi])
	}
	if hi < len(s) {
		b.WriteString("…")
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func listFound(hit, miss []string, text string, first int) string {
	var parts []string
	if len(hit) > 0 {
		parts = append(parts, "found "+quoteList(hit))
	}
	if len(miss) > 0 {
		parts = append(parts, "missing "+quoteList(miss))
	}
	out := strings.Join(parts, "; ")
	if first >= 0 {
		return out + " in: " + excerpt(text, first, 0)
	}
	return out + " in: " + excerpt(text, 0, 0)
}

func quoteList(ws []string) string {
	q := make([]string, len(ws))
	for i, w := range ws {
		q[i] = fmt.Sprintf("%q", w)
	}
	return strings.Join(q, ", ")
}
