package checks

import (
	"strings"
	"testing"
)

func spec(t *testing.T, typ string, value any) Spec {
	t.Helper()
	s := Spec{Type: typ, Value: value}
	if err := s.Compile(); err != nil {
		t.Fatalf("%s: %v", typ, err)
	}
	return s
}

func TestEvaluate(t *testing.T) {
	answer := Answer{Text: "Magic links are a passwordless way to sign in by email. They expire after 15 minutes.", LatencyMS: 420}
	cases := []struct {
		typ   string
		value any
		pass  bool
		found string
	}{
		{"contains", "passwordless", true, "»passwordless«"},
		{"contains", "Passwordless", false, "not found in"},
		{"not-contains", "password123", true, ""},
		{"icontains", "PASSWORDLESS", true, "»passwordless«"},
		{"not-icontains", "EMAIL", false, "»email«"},
		{"equals", "Magic links are a passwordless way to sign in by email. They expire after 15 minutes.", true, ""},
		{"not-equals", "no", true, ""},
		{"starts-with", "Magic", true, ""},
		{"not-starts-with", "Magic", false, ""},
		{"regex", `\b\d+ minutes\b`, true, "»15 minutes«"},
		{"not-regex", `(?i)as an ai`, true, ""},
		{"contains-any", []any{"sms", "email"}, true, `found "email"; missing "sms"`},
		{"contains-all", []any{"sms", "email"}, false, `missing "sms"`},
		{"not-contains-all", []any{"sms", "email"}, true, ""},
		{"is-json", nil, false, "not JSON"},
		{"max-length", 200, true, "85 characters"},
		{"max-length", 10, false, "85 characters"},
		{"max-latency-ms", 400, false, "420 ms"},
	}
	for _, c := range cases {
		s := spec(t, c.typ, c.value)
		r := Evaluate(s, answer)
		if r.Pass != c.pass {
			t.Errorf("%s %v: pass=%v, want %v (found %q)", c.typ, c.value, r.Pass, c.pass, r.Found)
		}
		if !strings.Contains(r.Found, c.found) {
			t.Errorf("%s %v: found %q, want it to contain %q", c.typ, c.value, r.Found, c.found)
		}
		if r.Type != c.typ {
			t.Errorf("result type %q", r.Type)
		}
	}
}

func TestIContainsMapsMatchBackThroughCaseFolding(t *testing.T) {
	s := spec(t, "icontains", "straße")
	r := Evaluate(s, Answer{Text: "İİİ Die STRASSE und die Straße."})
	if !r.Pass || !strings.Contains(r.Found, "»Straße«") {
		t.Errorf("got %+v", r)
	}
}

func TestExcerptIsShortAndFoldsWhiteSpace(t *testing.T) {
	long := strings.Repeat("word ", 200) + "needle" + strings.Repeat("\n word", 200)
	r := Evaluate(spec(t, "contains", "needle"), Answer{Text: long})
	if len(r.Found) > 140 || !strings.HasPrefix(r.Found, "…") || !strings.HasSuffix(r.Found, "…") || strings.Contains(r.Found, "\n") {
		t.Errorf("excerpt %q", r.Found)
	}
}

func TestCompileRefuses(t *testing.T) {
	cases := []struct {
		s   Spec
		err string
	}{
		{Spec{Type: "contain", Value: "x"}, `unknown check type "contain"`},
		{Spec{Type: "not-max-length", Value: 3}, "unknown check type"},
		{Spec{Type: "regex", Value: "(unclosed"}, "invalid regular expression"},
		{Spec{Type: "contains", Value: 3}, "needs a text value"},
		{Spec{Type: "contains", Value: ""}, "non-empty"},
		{Spec{Type: "contains-any", Value: []any{}}, "non-empty list"},
		{Spec{Type: "contains-any", Value: []any{"a", 2}}, "list of texts"},
		{Spec{Type: "max-length", Value: 1.5}, "whole number"},
		{Spec{Type: "max-length", Value: -1}, "whole number"},
		{Spec{Type: "is-json", Value: "x"}, "takes no value"},
		{Spec{Type: "similar", Value: "ref", Threshold: 1.5}, "between 0 and 1"},
		{Spec{Type: "contains", Value: "x", Threshold: 0.5}, "takes no threshold"},
	}
	for _, c := range cases {
		err := c.s.Compile()
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%+v: got %v, want %q", c.s, err, c.err)
		}
	}
}

func TestTypesListsNegations(t *testing.T) {
	ts := strings.Join(Types(), " ")
	for _, want := range []string{"not-regex", "max-latency-ms", "llm-rubric", "similar", "contains-any"} {
		if !strings.Contains(ts, want) {
			t.Errorf("Types() lacks %s", want)
		}
	}
	if strings.Contains(ts, "not-similar") || strings.Contains(ts, "not-max-length") {
		t.Errorf("Types() lists a negation that does not exist: %s", ts)
	}
}
