package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracebatch/tracebatch/checks"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (go test ./report -update rewrites it):\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// t0 is when the fixture run started.
var t0 = time.Date(2026, 12, 4, 19, 40, 0, 123e6, time.UTC)

// mk makes a record; checks are added with with.
func mk(index int, suite, id, model, status string, latency, prompt, completion int64, answer string) *Record {
	r := &Record{
		Index: index, ID: id, Suite: suite, Model: model, Status: status,
		Prompt: "prompt of " + id, Answer: answer, LatencyMS: latency, Attempts: 1,
		StartedAt: Time{t0.Add(time.Duration(index) * time.Second)},
	}
	if status != Error {
		r.Usage = &Usage{PromptTokens: prompt, CompletionTokens: completion}
	} else {
		r.LatencyMS = 0
		r.Answer = ""
		r.Attempts = 5
	}
	return r
}

func (r *Record) at(file string, line int) *Record { r.File, r.Line = file, line; return r }

func (r *Record) with(cs ...checks.Result) *Record { r.Checks = cs; return r }

func (r *Record) failing(err string) *Record { r.Error = err; return r }

func pass(typ string, value any, found string) checks.Result {
	return checks.Result{Type: typ, Value: value, Pass: true, Found: found}
}

func fail(typ string, value any, found string) checks.Result {
	return checks.Result{Type: typ, Value: value, Pass: false, Found: found}
}

const (
	ml = "testdata/magic-links.yaml"
	pk = "testdata/passkeys.jsonl"
)

// fixture is a run of two suites on two models, with a failure, an error
// and an answer full of characters that XML, Markdown and terminals care
// about.
func fixture() []*Record {
	const (
		mini  = "gpt-4o-mini"
		mini2 = "gpt-4.1-mini"
	)
	answerML := "Magic links let you sign in without a password: the site emails you a single-use link, and opening it signs you in."
	answerTL := "Links expire quickly, so use them soon after they arrive in your inbox."
	answerW := "I don't know: the context only covers magic-link sign-in."
	ugly := "Use <script>alert(1)</script> & `code` | pipes ]]> and\x00nul\x07bell \x1b[31mred\x1b[0m \uFFFE end"
	icPassword := func(ok bool) checks.Result {
		if ok {
			return pass("icontains", "password", "…sign in without a »password«: the site…")
		}
		return fail("icontains", "password", "not found in: Links expire quickly…")
	}
	var recs []*Record
	idx := 0
	add := func(r *Record) {
		r.Index, r.StartedAt = idx, Time{t0.Add(time.Duration(idx) * time.Second)}
		idx++
		recs = append(recs, r)
	}
	for _, m := range []string{mini, mini2} {
		lat := map[string]int64{mini: 842, mini2: 610}[m]
		add(mk(0, "magic-links", "what-are-magic-links", m, Pass, lat, 412, 96, answerML).at(ml, 12).
			with(icPassword(true), pass("contains-any", []string{"email", "inbox"}, `found "email" in: Magic links let you…`)))
		add(mk(0, "magic-links", "token-lifetime", m, Fail, lat+1100, 405, 40, answerTL).at(ml, 28).
			with(fail("regex", `(?i)\bminutes\b`, "not found in: Links expire quickly, so use them soon after they arrive in your…"),
				pass("icontains", "expire", "Links »expire« quickly…"), fail("max-length", 40, "71 characters")))
		if m == mini {
			add(mk(0, "magic-links", "out-of-context-oauth", m, Error, 0, 0, 0, "").at(ml, 35).
				failing("model: model API answered 500 Internal Server Error (gave up after 5 attempts)"))
		} else {
			add(mk(0, "magic-links", "out-of-context-oauth", m, Pass, 390, 380, 12, answerW).at(ml, 35).
				with(pass("regex", "(?i)(don't|do not|cannot) know", "»I don't know«: the context…")))
		}
		add(mk(0, "magic-links", "weather", m, Pass, lat-200, 300, 14, answerW).at(ml, 41).
			with(pass("regex", "(?i)(don't|do not|cannot) know", "»I don't know«: the context…")))
		add(mk(0, "passkeys", "sync", m, Pass, lat+50, 520, 80, "Passkeys sync through your platform's password manager.").at(pk, 1).
			with(pass("icontains", "sync", "Passkeys »sync« through…")))
		add(mk(0, "passkeys", "ugly|answer", m, Fail, lat+9, 100, 30, ugly).at(pk, 2).
			with(fail("not-contains", "<script>", "…Use »<script>«alert(1)</script> & `code` | pipes ]]>…"),
				checks.Result{Type: "llm-rubric", Value: "says | nothing `odd`", Error: "grader: model API answered 429"}))
	}
	return recs
}

// only keeps the records of one model.
func only(recs []*Record, model string) []*Record {
	var out []*Record
	for _, r := range recs {
		if r.Model == model {
			out = append(out, r)
		}
	}
	return out
}

// jsonl encodes records as a report.
func jsonl(t *testing.T, recs []*Record) []byte {
	t.Helper()
	var b bytes.Buffer
	w := NewWriter(&b)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// roundTrip returns the records as a report would give them back.
func roundTrip(t *testing.T, recs []*Record) []*Record {
	t.Helper()
	var out []*Record
	if err := Read(bytes.NewReader(jsonl(t, recs)), func(r *Record) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// clone deep-copies a record (check values keep their Go types).
func clone(r *Record) *Record {
	c := *r
	c.Checks = append([]checks.Result(nil), r.Checks...)
	if r.Usage != nil {
		u := *r.Usage
		c.Usage = &u
	}
	return &c
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }
