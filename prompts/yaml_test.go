package prompts

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tracebatch/tracebatch/checks"
)

// TestYAMLSuiteResolved reads valid.yaml and checks every resolved field:
// named contexts from a file and literal, a literal and a file context with
// a byte order mark, the defaults merged in (expect concatenated defaults
// first, tags united, params and metadata merged with the item winning),
// the header's system template with {{ context }} rendered, the model
// fallback.
func TestYAMLSuiteResolved(t *testing.T) {
	s, err := Open(suitesDir + "valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Name() != "magic-links" || s.File() != suitesDir+"valid.yaml" {
		t.Errorf("Name %q File %q", s.Name(), s.File())
	}
	var items []Item
	for {
		it, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	if len(items) != 4 {
		t.Fatalf("%d items", len(items))
	}
	magic := "Magic links are passwordless sign-in links sent by email.\n"
	system := func(ctx string) string { return "Answer from this context only:\n" + ctx + "\n" }
	notAI := checks.Spec{Type: "not-icontains", Value: "as an AI"}

	a := items[0]
	want := Item{
		ID: "what-are-magic-links", Index: 0, Pos: Position{File: suitesDir + "valid.yaml", Line: 18, Col: 5},
		Suite: "magic-links", Prompt: "What are magic links?", Context: magic, System: system(magic),
		Params:   map[string]any{"temperature": 0.2, "max_tokens": int64(200)},
		Expect:   []checks.Spec{notAI, {Type: "icontains", Value: "passwordless"}},
		Tags:     []string{"smoke", "auth"},
		Metadata: map[string]any{"owner": "docs", "tier": int64(1)},
	}
	checkItem(t, a, want)

	b := items[1]
	want = Item{
		ID: "#2", Index: 1, Pos: Position{File: suitesDir + "valid.yaml", Line: 23, Col: 5},
		Suite: "magic-links", Prompt: "How long is a magic link valid?\n",
		Context: "Magic links are sign-in links.", System: system("Magic links are sign-in links."),
		Model:    "gpt-4o",
		Params:   map[string]any{"temperature": int64(0), "max_tokens": int64(200), "seed": int64(7), "stop": []string{"\n\n"}},
		Expect:   []checks.Spec{notAI},
		Tags:     []string{"smoke"},
		Metadata: map[string]any{"owner": "docs", "tier": int64(2)},
	}
	checkItem(t, b, want)

	c := items[2]
	if c.Context != "Literal context." || c.System != system("Literal context.") {
		t.Errorf("literal context: %q / %q", c.Context, c.System)
	}
	if len(c.Expect) != 3 || c.Expect[0].Type != "not-icontains" || c.Expect[1].Type != "max-length" || c.Expect[1].Value != 400 || c.Expect[2].Type != "regex" {
		t.Errorf("expect = %+v", c.Expect)
	}
	if r := checks.Evaluate(c.Expect[2], checks.Answer{Text: "YES"}); !r.Pass {
		t.Errorf("compiled regex does not match: %+v", r)
	}

	d := items[3]
	if d.Context != "Text after a byte order mark.\n" || d.Actor != "alice" {
		t.Errorf("file context with BOM: %q, actor %q", d.Context, d.Actor)
	}
}

// checkItem compares the fields of an item that a test sets.
func checkItem(t *testing.T, got, want Item) {
	t.Helper()
	// Compiled specs hold a regexp; compare what the suite states.
	strip := func(specs []checks.Spec) []checks.Spec {
		out := make([]checks.Spec, len(specs))
		for i, s := range specs {
			out[i] = checks.Spec{Type: s.Type, Value: s.Value, Threshold: s.Threshold}
		}
		return out
	}
	g, w := got, want
	g.Expect, w.Expect = strip(got.Expect), strip(want.Expect)
	if len(g.Expect) == 0 {
		g.Expect = nil
	}
	if len(w.Expect) == 0 {
		w.Expect = nil
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("item:\n got %#v\nwant %#v", g, w)
	}
}

func TestDefaultSystem(t *testing.T) {
	items := mustItems(t, "dir/s.yaml", `
prompts:
  - {prompt: With a context., context: "Some facts."}
  - {prompt: Without a context.}
`, YAML)
	if items[0].System != Render(DefaultSystem, "Some facts.") || !strings.Contains(items[0].System, "Context:\nSome facts.") {
		t.Errorf("System = %q", items[0].System)
	}
	if items[1].System != "" || items[1].Context != "" {
		t.Errorf("no context: System %q Context %q", items[1].System, items[1].Context)
	}
	if items[0].Suite != "s" {
		t.Errorf("Suite = %q, want the file's base name", items[0].Suite)
	}
}

func TestSystemTemplate(t *testing.T) {
	items := mustItems(t, "s.yaml", `
system: "Ctx: {{context}} / again: {{ context }} / other: {{ name }}"
prompts:
  - {prompt: A, context: X}
  - {prompt: B}
`, YAML)
	if want := "Ctx: X / again: X / other: {{ name }}"; items[0].System != want {
		t.Errorf("System = %q, want %q", items[0].System, want)
	}
	if want := "Ctx:  / again:  / other: {{ name }}"; items[1].System != want {
		t.Errorf("System without context = %q, want %q", items[1].System, want)
	}
	// An empty system template means no system message...
	items = mustItems(t, "s.yaml", "system: \"\"\nprompts:\n  - {prompt: A}\n", YAML)
	if items[0].System != "" {
		t.Errorf("empty template: System %q", items[0].System)
	}
	// ...which would drop a context: that is a problem of the suite.
	got := problemsOf(t, "s.yaml", "system: \"\"\nprompts:\n  - {prompt: A}\n  - {prompt: B, context: X}\n", YAML)
	want := []string{"s.yaml:1:9: system has no {{context}}, so the items' contexts (the first on line 4) would not reach the model; add {{context}} where the context belongs"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestDefaultsMerge checks each merge rule of defaults.
func TestDefaultsMerge(t *testing.T) {
	items := mustItems(t, "s.yaml", `
model: header-model
contexts:
  a: "Context A."
defaults:
  model: defaults-model
  context_ref: a
  params: {temperature: 1, seed: 3, top_p: 0.5}
  expect: [{type: contains, value: one}, {type: contains, value: two}]
  tags: [x, y]
  metadata: {k: d, only_d: 1}
  actor: bot
prompts:
  - prompt: Own everything.
    model: own-model
    context: Own context.
    params: {temperature: 0.5, top_p: null, max_tokens: 10}
    expect: [{type: contains, value: three}]
    tags: [y, z, z]
    metadata: {k: own}
    actor: human
  - prompt: Inherit everything.
  - prompt: Own empty context.
    context: ""
`, YAML)
	own, inherit, empty := items[0], items[1], items[2]
	if own.Model != "own-model" || inherit.Model != "defaults-model" {
		t.Errorf("model: %q %q", own.Model, inherit.Model)
	}
	if own.Context != "Own context." || inherit.Context != "Context A." || empty.Context != "" || empty.System != "" {
		t.Errorf("context: %q %q %q", own.Context, inherit.Context, empty.Context)
	}
	if want := map[string]any{"temperature": 0.5, "seed": int64(3), "max_tokens": int64(10)}; !reflect.DeepEqual(own.Params, want) {
		t.Errorf("params = %#v, want %#v (top_p: null removes the default)", own.Params, want)
	}
	if want := map[string]any{"temperature": int64(1), "seed": int64(3), "top_p": 0.5}; !reflect.DeepEqual(inherit.Params, want) {
		t.Errorf("inherited params = %#v", inherit.Params)
	}
	var values []any
	for _, e := range own.Expect {
		values = append(values, e.Value)
	}
	if !reflect.DeepEqual(values, []any{"one", "two", "three"}) {
		t.Errorf("expect order = %v, want defaults first", values)
	}
	if !slices.Equal(own.Tags, []string{"x", "y", "z"}) || !slices.Equal(inherit.Tags, []string{"x", "y"}) {
		t.Errorf("tags = %v / %v", own.Tags, inherit.Tags)
	}
	if want := map[string]any{"k": "own", "only_d": int64(1)}; !reflect.DeepEqual(own.Metadata, want) {
		t.Errorf("metadata = %#v", own.Metadata)
	}
	if own.Actor != "human" || inherit.Actor != "bot" {
		t.Errorf("actor: %q %q", own.Actor, inherit.Actor)
	}
	// Items do not share the maps and slices they were merged into.
	own.Params["x"] = 1
	own.Tags[0] = "changed"
	if _, ok := inherit.Params["x"]; ok || inherit.Tags[0] != "x" || items[2].Tags[0] != "x" {
		t.Error("items share merged params or tags")
	}
	// The header's model is the suite's default, not the item's own.
	items = mustItems(t, "s.yaml", "model: header-model\nprompts:\n  - {prompt: A}\n", YAML)
	if items[0].Model != "" {
		t.Errorf("header model became the item's: %q", items[0].Model)
	}
	s, err := OpenReader("s.yaml", strings.NewReader("model: header-model\nprompts:\n  - {prompt: A}\n"), YAML)
	if err != nil || s.Model() != "header-model" {
		t.Errorf("Suite.Model: %v %v", s, err)
	}
}

// TestContextFileRelative checks that context files are found relative to
// the suite, read once per path, and that a missing one names the path it
// looked for.
func TestContextFileRelative(t *testing.T) {
	dir := t.TempDir()
	mkdir(t, filepath.Join(dir, "suites", "ctx"))
	writeFile(t, filepath.Join(dir, "suites", "ctx", "a.md"), "A text.")
	writeFile(t, filepath.Join(dir, "shared.md"), "Shared.")
	suite := filepath.Join(dir, "suites", "s.yaml")
	writeFile(t, suite, `
contexts:
  shared: {file: ../shared.md}
prompts:
  - {prompt: one, context_file: ctx/a.md}
  - {prompt: two, context_file: ./ctx/../ctx/a.md}
  - {prompt: three, context_ref: shared}
  - {prompt: four, context_file: `+filepath.Join(dir, "shared.md")+`}
`)
	s, err := Open(suite)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A text.", "A text.", "Shared.", "Shared."}
	for i, w := range want {
		it, err := s.Next()
		if err != nil || it.Context != w {
			t.Errorf("item %d: context %q, err %v; want %q", i, it.Context, err, w)
		}
	}
	if got := len(s.yaml.entries); got != 4 {
		t.Fatal(got)
	}
}

func TestContextCacheReadsOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.md")
	writeFile(t, path, "first")
	var c contextCache
	if text, err := c.read(path); text != "first" || err != nil {
		t.Fatal(text, err)
	}
	writeFile(t, path, "second")
	if text, _ := c.read(filepath.Join(dir, ".", "c.md")); text != "first" {
		t.Errorf("the same path was read again: %q", text)
	}
	// Errors are kept too.
	missing := filepath.Join(dir, "missing.md")
	if _, err := c.read(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	writeFile(t, missing, "now here")
	if _, err := c.read(missing); err == nil {
		t.Error("the missing file was looked up again")
	}
}

func TestContextCacheBounded(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("x", contextCacheBytes/3)
	var c contextCache
	for i := range 5 {
		path := filepath.Join(dir, fmt.Sprintf("%d.md", i))
		writeFile(t, path, big)
		if _, err := c.read(path); err != nil {
			t.Fatal(err)
		}
		if c.size > contextCacheBytes {
			t.Fatalf("cache holds %d bytes", c.size)
		}
	}
	if len(c.entries) != 2 || len(c.order) != 2 {
		t.Errorf("cache keeps %d entries", len(c.entries))
	}
}

func TestYAMLPositions(t *testing.T) {
	// yaml.v3 counts columns in characters and lines at U+2028 too; the
	// problems count bytes and LF lines.
	src := "prompts:\n  - {context: \"é\u2028\", promt: x}\n"
	got := problemsOf(t, "p.yaml", src, YAML)
	want := []string{`p.yaml:2:24: unknown field "promt"; did you mean "prompt"?`}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if i := strings.Index(src, "promt"); i-strings.LastIndex(src[:i], "\n") != 24 {
		t.Fatal("the test's own column is wrong")
	}
}

func TestYAMLCRLFAndBOM(t *testing.T) {
	s, err := Open(suitesDir + "bom-crlf.yaml")
	if err != nil {
		t.Fatal(err)
	}
	one, err := s.Next()
	if err != nil {
		t.Fatal(err)
	}
	two, err := s.Next()
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "crlf" || one.Prompt != "First line\nsecond line\n" || one.Pos.Line != 3 || one.Pos.Col != 5 {
		t.Errorf("name %q, prompt %q at %v", s.Name(), one.Prompt, one.Pos)
	}
	if two.Context != "Magic links are passwordless sign-in links sent by email.\n" {
		t.Errorf("context %q", two.Context)
	}
}

func TestYAMLAliases(t *testing.T) {
	items := mustItems(t, suitesDir+"aliases.yaml", mustRead(t, suitesDir+"aliases.yaml"), YAML)
	base, merged, aliased := items[0], items[1], items[2]
	if merged.Prompt != base.Prompt || !reflect.DeepEqual(merged.Params, map[string]any{"temperature": int64(0)}) {
		t.Errorf("merge key: %+v", merged)
	}
	if !slices.Equal(merged.Tags, []string{"own"}) || merged.ID != "merged" {
		t.Errorf("explicit keys must win over merged ones: %v %q", merged.Tags, merged.ID)
	}
	if aliased.Prompt != "What are magic links?" {
		t.Errorf("alias: %q", aliased.Prompt)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestYAMLProblems covers YAML problems beyond those of testdata/suites.
func TestYAMLProblems(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"cycle", "prompts: &a\n  - *a\n", []string{
			"s.yaml:2:5: alias *a is inside the value it names; a value cannot contain itself",
			"s.yaml:2:5: an item must be a mapping with at least a prompt, like - prompt: What are magic links?, not null",
		}},
		{"billion laughs", laughs(), []string{
			"s.yaml:9:42: aliases expand to more than 1000000 values; write the values out instead",
		}},
		{"utf-16", "\xff\xfep\x00", []string{"s.yaml: the file is UTF-16; save it as UTF-8"}},
		{"invalid utf-8", "prompts:\n  - prompt: caf\xe9\n", []string{
			"s.yaml:2:16: invalid UTF-8 (byte 0xE9); save the file as UTF-8",
		}},
		{"control character", "prompts:\n  - prompt: bell\x07\n", []string{
			"s.yaml:2:17: character U+0007 is not allowed in YAML; remove it, or write it as an escape in a double-quoted string",
		}},
		{"scalar", "just text\n", []string{
			"s.yaml:1:1: a YAML suite must be a mapping with a prompts: list, not text; put the items under prompts:",
		}},
		{"null document", "~\n", []string{"s.yaml: the suite is empty; a YAML suite needs a prompts: list of items"}},
		{"prompts not a list", "prompts: {prompt: x}\n", []string{
			"s.yaml:1:10: prompts must be a list of items, not a mapping; start each item with -",
		}},
		{"prompts empty", "prompts: []\n", []string{"s.yaml:1:10: prompts is empty; add at least one item"}},
		{"prompts null", "name:\nprompts:\n", []string{"s.yaml:2:9: prompts is empty; add at least one item"}},
		{"item not a mapping", "prompts:\n  - What is it?\n", []string{
			"s.yaml:2:5: an item must be a mapping with at least a prompt, like - prompt: What are magic links?, not text",
		}},
		{"number prompt", "prompts:\n  - prompt: 42\n    id: yes\n", []string{
			"s.yaml:2:13: prompt must be text, not a number; put it in quotes",
		}},
		{"bool id", "prompts:\n  - prompt: x\n    id: true\n", []string{
			"s.yaml:3:9: id must be text, not true/false; put it in quotes",
		}},
		{"null prompt", "prompts:\n  - prompt:\n    id: a\n", []string{
			"s.yaml:2:12: prompt is empty; give the item a question to ask",
		}},
		{"defaults errors", "defaults: {id: x, answer: y}\nprompts:\n  - prompt: x\n", []string{
			"s.yaml:1:12: id cannot be set in defaults; set it on each item",
			"s.yaml:1:19: answer cannot be set in defaults; set it on each item",
		}},
		{"defaults not a mapping", "defaults: [a]\nprompts:\n  - prompt: x\n", []string{
			"s.yaml:1:11: defaults must be a mapping of item fields, not a list",
		}},
		{"defaults context file", "defaults: {context_file: nope.md}\nprompts:\n  - prompt: x\n  - prompt: y\n", []string{
			`s.yaml:1:26: context_file "nope.md": nope.md does not exist; the path is relative to the suite file`,
		}},
		{"contexts not a mapping", "contexts: [a]\nprompts:\n  - prompt: x\n", []string{
			"s.yaml:1:11: contexts must be a mapping of names to texts or {file: path}, not a list",
		}},
		{"ref without contexts", "prompts:\n  - {prompt: x, context_ref: a}\n", []string{
			`s.yaml:2:30: unknown context "a"; the suite defines no contexts: add them under contexts:`,
		}},
		{"empty fields", "name: ''\nmodel: ''\nprompts:\n  - {prompt: x, model: ' ', context_file: '', context_ref: ''}\n", []string{
			"s.yaml:1:7: name is empty; name the suite, or remove name to use the file's name",
			"s.yaml:2:8: model is empty; name a model, or remove model to use the run's",
			"s.yaml:4:24: model is empty; name a model, or remove model to use the suite's",
			"s.yaml:4:43: context_file is empty; name a file, or remove context_file",
			"s.yaml:4:47: context_file and context_ref are both set; an item takes at most one of context, context_file and context_ref",
		}},
		{"unknown header field", "prompt: x\nfoo: 1\n", []string{
			"s.yaml: the suite has no prompts; add a prompts: list of items",
			`s.yaml:1:1: unknown field "prompt"; did you mean "prompts"?`,
			`s.yaml:2:1: unknown field "foo"; the fields of a suite are name, model, system, contexts, defaults or prompts`,
		}},
		{"check shapes", "prompts:\n  - prompt: x\n    expect:\n      - icontains\n      - {type: 3}\n      - {type: similar, value: ref, threshold: high}\n      - {type: is-json, valu: x}\n", []string{
			"s.yaml:4:9: a check must be a mapping like {type: icontains, value: passwordless}, not text",
			"s.yaml:5:16: type must be text, not a number; put it in quotes",
			"s.yaml:6:48: threshold must be a number from 0 to 1, not text",
			`s.yaml:7:25: unknown field "valu"; did you mean "value"?`,
		}},
		{"expect not a list", "prompts:\n  - {prompt: x, expect: {type: equals}}\n", []string{
			"s.yaml:2:25: expect must be a list of checks, not a mapping",
		}},
		{"tags", "prompts:\n  - {prompt: x, tags: [a, 1, '', a]}\n", []string{
			"s.yaml:2:27: a tag must be text, not a number",
			"s.yaml:2:30: a tag is empty; remove it",
		}},
		{"metadata", "prompts:\n  - {prompt: x, metadata: text}\n", []string{
			"s.yaml:2:27: metadata must be a mapping, not text",
		}},
		{"tags and binary", "prompts:\n  - {prompt: x, answer: !!binary aGk=, actor: !custom y}\n", []string{
			"s.yaml:2:25: binary values (!!binary) are not supported; write text",
			`s.yaml:2:47: YAML tag "!custom" is not supported; remove it`,
		}},
		{"complex key", "prompts:\n  - {prompt: x, metadata: {[a]: 1}}\n", []string{
			"s.yaml:2:28: a key must be text, not a list",
		}},
		{"bad merge", "prompts:\n  - {prompt: x, <<: [1]}\n", []string{
			"s.yaml:2:22: << merges a mapping or a list of mappings, not a number",
		}},
		{"mapping value", "prompts:\n  - prompt: What: is this?\n", []string{
			`s.yaml:2: invalid YAML: mapping values are not allowed in this context; put text that holds ": " in quotes`,
		}},
		{"first line error", "a: b: c\n", []string{
			`s.yaml:1: invalid YAML: mapping values are not allowed in this context; put text that holds ": " in quotes`,
		}},
		{"parser error", "prompts:\n  - prompt: x\n  foo: 1\n", []string{
			"s.yaml:2: invalid YAML: did not find expected '-' indicator; check the indentation of the list",
		}},
		{"flow error", "prompts: [1, 2\nname: x\n", []string{
			"s.yaml:2: invalid YAML: did not find expected ',' or ']'",
		}},
		{"trailing empty document", "prompts:\n  - prompt: x\n---\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problemsOf(t, "s.yaml", tt.src, YAML)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// laughs is a small YAML suite whose aliases expand to 10^9 values.
func laughs() string {
	var b strings.Builder
	b.WriteString("prompts:\n  - prompt: x\n    metadata:\n")
	b.WriteString("      a: &a [x, x, x, x, x, x, x, x, x, x]\n")
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		fmt.Fprintf(&b, "      %s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n", name, name, prev, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = name
	}
	b.WriteString("      j: *i\n")
	return b.String()
}

// TestOpenReaderStdinName checks the names of a suite read from standard
// input.
func TestOpenReaderStdinName(t *testing.T) {
	s, err := OpenReader("-", strings.NewReader(`{"prompt":"x"}`), JSONL)
	if err != nil {
		t.Fatal(err)
	}
	it, err := s.Next()
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "stdin" || s.File() != "stdin" || it.Pos.String() != "stdin:1" || it.Suite != "stdin" {
		t.Errorf("Name %q File %q Pos %v", s.Name(), s.File(), it.Pos)
	}
	if _, err := OpenReader("x", strings.NewReader(""), Format(0)); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestNextAfterClose(t *testing.T) {
	s, err := Open(suitesDir + "valid.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); !errors.Is(err, errClosed) {
		t.Errorf("Next after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestTimestamp(t *testing.T) {
	items := mustItems(t, "s.yaml", "prompts:\n  - {prompt: x, timestamp: 2024-05-01T12:00:00Z}\n  - {prompt: y, timestamp: '2024-05-01T12:00:00.25+02:00'}\n", YAML)
	if !items[0].Timestamp.Equal(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("timestamp %v", items[0].Timestamp)
	}
	if !items[1].Timestamp.Equal(time.Date(2024, 5, 1, 10, 0, 0, 250e6, time.UTC)) {
		t.Errorf("timestamp %v", items[1].Timestamp)
	}
}

// TestMergedProblemsOnce checks that a problem in an anchored value that
// several items use is listed once by Open and Validate, while Next gives
// it to each item that uses the value.
func TestMergedProblemsOnce(t *testing.T) {
	src := "prompts:\n  - &a {prompt: x, promt: y}\n  - <<: *a\n    id: b\n"
	want := []string{`s.yaml:2:20: unknown field "promt"; did you mean "prompt"?`}
	if got := problemStrings(loadYAML("s.yaml", []byte(src), &reader{}).all()); !slices.Equal(got, want) {
		t.Errorf("all: %q", got)
	}
	if got := problemsOf(t, "s.yaml", src, YAML); len(got) != 2 || got[0] != want[0] || got[1] != want[0] {
		t.Errorf("Next: %q", got)
	}
}
