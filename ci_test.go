package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tracebatch/tracebatch/internal/fakeapi"
	"github.com/tracebatch/tracebatch/report"
)

// groundedAnswers is a model that answers the magic-links suite well, but
// for the token lifetime, which it gets wrong on purpose.
var groundedAnswers = map[string]string{
	"What are magic links?":                                                                      "Magic links let people sign in without a password: the app emails a single-use link to their inbox.",
	"How long should a magic link stay valid?":                                                   "They last a while.",
	"Can a magic link be used more than once?":                                                   "No. A magic link works only once.",
	"How should the server store magic-link tokens?":                                             "Store only a hash of the token.",
	"How random does the token in a magic link need to be?":                                      "At least 128 bits from a secure random generator.",
	"Which authentication factor does a magic link count as in MFA?":                             "It counts as something you have.",
	"Why can corporate email scanners break magic links, and what helps?":                        "Scanners may open the link and use up the single-use token; a confirmation page with a button helps.",
	"Is there a formal standard for magic links?":                                                "No, there is no formal standard.",
	"What does the security of magic links ultimately rest on?":                                  "On the email account: whoever can read the inbox can sign in.",
	"Name two risks of passwords that magic links remove.":                                       "There is nothing to reuse and nothing to guess.",
	"What will the weather be in Lisbon tomorrow?":                                               "I don't know; the context does not cover the weather.",
	"Which OAuth 2.0 grant type should a single-page app use?":                                   "I don't know; the context does not mention OAuth.",
	"Who invented the first magic link, and in what year?":                                       "I don't know who invented them.",
	`Does a <script> tag & an "ampersand" in my question change the answer about link lifetime?`: "No. Links still expire within minutes.",
}

func grounded(c fakeapi.ChatRequest) string {
	if a, ok := groundedAnswers[c.Prompt()]; ok {
		return a
	}
	return "unexpected prompt: " + c.Prompt()
}

func suitePath(name string) string { return filepath.Join(testDir, "testdata", name) }

// lineOf finds the line of "- id: <id>" in the YAML suite.
func lineOf(t *testing.T, id string) int {
	t.Helper()
	b, err := os.ReadFile(suitePath("magic-links.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) == "- id: "+id {
			return i + 1
		}
	}
	t.Fatalf("no item %s", id)
	return 0
}

func TestMagicLinksSuiteInCI(t *testing.T) {
	x := newTB(t)
	x.openai.SetAnswer(grounded)
	summary := filepath.Join(x.dir, "step-summary.md")
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	res := x.run("", "run", "-o", "report.jsonl", "--junit", "junit.xml", suitePath("magic-links.yaml"))
	if res.code != exitFailed {
		t.Fatalf("a failing check: exit %d, want %d\n%s", res.code, exitFailed, res.stderr)
	}
	recs := x.records("report.jsonl")
	var failed []string
	for _, r := range recs {
		if r.Status != report.Pass {
			failed = append(failed, r.ID+":"+r.Status)
		}
	}
	if len(recs) != 14 || !slices.Equal(failed, []string{"token-lifetime:fail"}) {
		t.Fatalf("%d lines; not passing: %v", len(recs), failed)
	}
	// The table, the failed item with its first failing check, the line.
	for _, want := range []string{"magic-links", "gpt-4o-mini", "token-lifetime", "regex", "13 pass, 1 fail, 0 error"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
		}
	}
	// One annotation, at the item's line in the YAML suite.
	want := fmt.Sprintf("::error file=%s,line=%d,", suitePath("magic-links.yaml"), lineOf(t, "token-lifetime"))
	if strings.Count(res.stderr, "::error ") != 1 || !strings.Contains(res.stderr, want) {
		t.Errorf("annotation: want %q in\n%s", want, res.stderr)
	}
	md, err := os.ReadFile(summary)
	if err != nil || !strings.Contains(string(md), "token-lifetime") || !strings.Contains(string(md), "|") {
		t.Errorf("step summary: %v\n%s", err, md)
	}
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	b, err := os.ReadFile(filepath.Join(x.dir, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, &suites); err != nil {
		t.Fatal(err)
	}
	if suites.Tests != 14 || suites.Failures != 1 || len(suites.Suites) != 1 || suites.Suites[0].Name != "magic-links" {
		t.Errorf("junit: %+v", suites)
	}
	for _, c := range suites.Suites[0].Cases {
		if (c.Failure != nil) != (c.Name == "token-lifetime") {
			t.Errorf("junit case %s: failure %v", c.Name, c.Failure != nil)
		}
	}
}

func TestSeveralModelsAndRepeats(t *testing.T) {
	x := newTB(t)
	suite := x.write("small.yaml", passingSuite)
	res := x.run("", "run", "-o", "r.jsonl", "--model", "model-a", "--model", "model-b", "--repeat", "3", suite)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	recs := x.records("r.jsonl")
	if len(recs) != 2*2*3 {
		t.Fatalf("%d lines, want 12", len(recs))
	}
	var keys []string
	for _, r := range recs {
		keys = append(keys, fmt.Sprintf("%s/%s/%d", r.ID, r.Model, r.Repeat))
	}
	if keys[0] != "one/model-a/1" || keys[3] != "one/model-b/1" || keys[6] != "two/model-a/1" || keys[11] != "two/model-b/3" {
		t.Errorf("order: %v", keys)
	}
	for _, m := range []string{"model-a", "model-b"} {
		if !strings.Contains(res.stderr, m) {
			t.Errorf("the summary does not show %s:\n%s", m, res.stderr)
		}
	}
	if x.pangea.EventCount() != 12 || x.openai.ChatCount() != 12 {
		t.Errorf("%d events, %d calls for 12 lines", x.pangea.EventCount(), x.openai.ChatCount())
	}
}

func TestShardsMergeBackToTheWholeRun(t *testing.T) {
	x := newTB(t)
	suite := suitePath("magic-links.jsonl")
	if res := x.run("", "run", "-q", "-o", "whole.jsonl", suite); res.code != exitFailed && res.code != 0 {
		t.Fatalf("whole run: exit %d: %s", res.code, res.stderr)
	}
	var shards []string
	total := 0
	for k := 1; k <= 3; k++ {
		name := fmt.Sprintf("shard-%d.jsonl", k)
		res := x.run("", "run", "-q", "--shard", fmt.Sprintf("%d/3", k), "-o", name, suite)
		if res.code == exitUsage || res.code == exitIncomplete {
			t.Fatalf("shard %d: exit %d: %s", k, res.code, res.stderr)
		}
		total += len(x.records(name))
		shards = append(shards, name)
	}
	if total != 14 {
		t.Fatalf("the shards hold %d lines together, want 14", total)
	}
	res := x.run("", append([]string{"merge", "-o", "merged.jsonl"}, shards...)...)
	if res.code != 0 {
		t.Fatalf("merge: exit %d: %s", res.code, res.stderr)
	}
	whole, merged := x.records("whole.jsonl"), x.records("merged.jsonl")
	for i := range whole {
		if whole[i].ID != merged[i].ID || whole[i].Index != merged[i].Index {
			t.Fatalf("line %d: %s vs %s", i+1, whole[i].ID, merged[i].ID)
		}
	}
	if res := x.run("", "merge", shards[0], shards[0]); res.code != exitUsage || !strings.Contains(res.stderr, shards[0]) {
		t.Errorf("a duplicate: exit %d: %s", res.code, res.stderr)
	}
}

func TestFilters(t *testing.T) {
	x := newTB(t)
	suite := suitePath("magic-links.yaml")
	res := x.run("", "run", "-q", "-o", "f.jsonl", "--filter-tag", "out-of-context", suite)
	if recs := x.records("f.jsonl"); len(recs) != 3 {
		t.Errorf("--filter-tag: %d lines (exit %d %s)", len(recs), res.code, res.stderr)
	}
	x.run("", "run", "-q", "-o", "g.jsonl", "--filter-id", "^token-", suite)
	if recs := x.records("g.jsonl"); len(recs) != 3 {
		t.Errorf("--filter-id: %d lines", len(recs))
	}
	if res := x.run("", "run", "--shard", "4/3", suite); res.code != exitUsage {
		t.Errorf("--shard 4/3: exit %d", res.code)
	}
}

func TestDiffAndBaseline(t *testing.T) {
	x := newTB(t)
	x.openai.SetAnswer(grounded)
	suite := suitePath("magic-links.yaml")
	x.run("", "run", "-q", "-o", "base.jsonl", suite)
	// Today the model answers the single-use question differently, and
	// forgets to say "once".
	groundedToday := func(c fakeapi.ChatRequest) string {
		if c.Prompt() == "Can a magic link be used more than once?" {
			return "No, each link can only be used a single time."
		}
		if c.Prompt() == "Is there a formal standard for magic links?" {
			return "No: there is no formal standard."
		}
		return grounded(c)
	}
	x.openai.SetAnswer(groundedToday)
	res := x.run("", "run", "-q", "-o", "today.jsonl", "--baseline", "base.jsonl", "--baseline-check", "similar:0.5", suite)
	if res.code != exitFailed || !strings.Contains(res.stderr, "single-use") {
		t.Fatalf("run --baseline: exit %d\n%s", res.code, res.stderr)
	}
	var single, standard *report.Record
	recs := x.records("today.jsonl")
	for i := range recs {
		switch recs[i].ID {
		case "single-use":
			single = &recs[i]
		case "standards":
			standard = &recs[i]
		}
	}
	if g := single.Regression; g == nil || !g.AnswerChanged || len(g.Flipped) == 0 || g.Score == nil {
		t.Errorf("single-use regression: %+v", g)
	}
	if g := standard.Regression; g == nil || !g.AnswerChanged || len(g.Flipped) != 0 || g.Same == nil || !*g.Same {
		t.Errorf("standards regression: %+v", g)
	}
	d := x.run("", "diff", "base.jsonl", "today.jsonl")
	if d.code != exitFailed || !strings.Contains(d.stdout, "single-use") || !strings.Contains(d.stdout, "pass→fail") {
		t.Errorf("diff: exit %d\n%s%s", d.code, d.stdout, d.stderr)
	}
	if d := x.run("", "diff", "base.jsonl", "base.jsonl"); d.code != 0 {
		t.Errorf("diff of a report with itself: exit %d", d.code)
	}
	// A wording change alone is not a regression, unless asked.
	x.openai.SetAnswer(func(c fakeapi.ChatRequest) string {
		if c.Prompt() == "Is there a formal standard for magic links?" {
			return "No: there is no formal standard."
		}
		return grounded(c)
	})
	x.run("", "run", "-q", "-o", "reworded.jsonl", suite)
	if d := x.run("", "diff", "base.jsonl", "reworded.jsonl"); d.code != 0 {
		t.Errorf("a reworded answer: exit %d\n%s", d.code, d.stdout)
	}
	if d := x.run("", "diff", "--fail-on", "changed", "base.jsonl", "reworded.jsonl"); d.code != exitFailed {
		t.Errorf("--fail-on changed: exit %d", d.code)
	}
	if d := x.run("", "diff", "base.jsonl", "missing.jsonl"); d.code != exitUsage {
		t.Errorf("a missing report: exit %d", d.code)
	}
}

func TestQuietKeepsOnlyTheLastLine(t *testing.T) {
	x := newTB(t)
	suite := x.write("small.yaml", passingSuite)
	res := x.run("", "run", "-q", "-o", "r.jsonl", suite)
	if res.code != 0 || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 || !strings.Contains(res.stderr, "2 pass") {
		t.Errorf("--quiet: exit %d\n%q", res.code, res.stderr)
	}
}

// TestModelFlagsWinOverTheSuitesModel: the YAML header's model is the
// suite's default; models named with --model replace it; an item's own
// model pins the item.
func TestModelFlagsWinOverTheSuitesModel(t *testing.T) {
	x := newTB(t)
	suite := x.write("m.yaml", `model: header-model
prompts:
  - {id: a, prompt: one}
  - {id: b, prompt: two, model: pinned}
`)
	x.run("", "run", "-q", "-o", "default.jsonl", suite)
	x.run("", "run", "-q", "-o", "flags.jsonl", "--model", "m1", "--model", "m2", suite)
	models := func(name string) string {
		var ms []string
		for _, r := range x.records(name) {
			ms = append(ms, r.ID+":"+r.Model)
		}
		return strings.Join(ms, " ")
	}
	if got := models("default.jsonl"); got != "a:header-model b:pinned" {
		t.Errorf("without --model: %s", got)
	}
	if got := models("flags.jsonl"); got != "a:m1 a:m2 b:pinned" {
		t.Errorf("with --model m1 --model m2: %s", got)
	}
}
