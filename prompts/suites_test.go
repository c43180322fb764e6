package prompts

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// suitesDir holds the suites the tests read; problems are compared without
// this prefix.
const suitesDir = "../testdata/suites/"

// problemStrings renders problems as "file:line:col: message" with the
// suites folder cut out.
func problemStrings(ps Problems) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = strings.ReplaceAll(p.Error(), suitesDir, "")
	}
	return out
}

// TestValidateSuites checks the exact problems Validate reports for each
// suite of testdata/suites.
func TestValidateSuites(t *testing.T) {
	listed := "an item's fields are id, prompt, context, context_file, context_ref, model, params, expect, tags, metadata, answer, timestamp or actor"
	tests := []struct {
		file string
		n    int
		want []string
	}{
		{"valid.yaml", 4, nil},
		{"valid.jsonl", 3, nil},
		{"aliases.yaml", 3, nil},
		{"bom-crlf.yaml", 2, nil},
		{"bom-crlf.jsonl", 2, nil},
		{"empty.yaml", 0, []string{
			"empty.yaml: the suite is empty; a YAML suite needs a prompts: list of items",
		}},
		{"empty.jsonl", 0, []string{
			`empty.jsonl: the suite is empty; a JSONL suite has one item per line, like {"prompt": "What are magic links?"}`,
		}},
		{"blank.jsonl", 0, []string{
			`blank.jsonl: the suite is empty; a JSONL suite has one item per line, like {"prompt": "What are magic links?"}`,
		}},
		{"not-a-mapping.yaml", 0, []string{
			"not-a-mapping.yaml:1:1: a YAML suite must be a mapping with a prompts: list, not a list; put the items under prompts:",
		}},
		{"no-prompts.yaml", 0, []string{
			"no-prompts.yaml: the suite has no prompts; add a prompts: list of items",
		}},
		{"syntax.yaml", 0, []string{
			"syntax.yaml:3: invalid YAML: found unexpected end of stream; a quoted text or a bracket is not closed",
		}},
		{"tabs.yaml", 0, []string{
			"tabs.yaml:3:1: invalid YAML: found character that cannot start any token; indent with spaces, not tabs",
		}},
		{"two-docs.yaml", 0, []string{
			"two-docs.yaml:3: a second YAML document starts here; a suite is one document, so remove the --- line or split the file",
		}},
		{"unknown-alias.yaml", 0, []string{
			"unknown-alias.yaml:3:13: alias *question names no anchor; define &question before it",
		}},
		{"duplicate-keys.yaml", 1, []string{
			`duplicate-keys.yaml:3:5: duplicate key "prompt" (first at line 2); remove one of them`,
		}},
		{"missing-prompt.yaml", 3, []string{
			"missing-prompt.yaml:4:5: item has no prompt; give the item a question to ask",
			"missing-prompt.yaml:7:13: prompt is empty; give the item a question to ask",
		}},
		{"typo.yaml", 1, []string{
			`typo.yaml:3:5: unknown field "promt"; did you mean "prompt"?`,
		}},
		{"unknown-check.yaml", 1, []string{
			`unknown-check.yaml:4:16: unknown check type "icontain"; did you mean "icontains"?`,
			`unknown-check.yaml:5:16: unknown check type "sentiment"; the check types are contains, contains-all, contains-any, equals, icontains, is-json, llm-rubric, max-latency-ms, max-length, not-contains, not-contains-all, not-contains-any, not-equals, not-icontains, not-is-json, not-regex, not-starts-with, regex, similar or starts-with`,
			"unknown-check.yaml:6:9: check has no type; add one, such as icontains, regex or max-length",
		}},
		{"bad-regex.yaml", 1, []string{
			"bad-regex.yaml:5:16: regex: invalid regular expression: missing closing ): `(unclosed`",
			"bad-regex.yaml:7:16: max-length needs a whole number of at least 0",
			"bad-regex.yaml:10:20: similar: threshold must be between 0 and 1",
		}},
		{"duplicate-ids.yaml", 5, []string{
			`duplicate-ids.yaml:6:9: duplicate id "same" (first used on line 2); give each item its own id`,
			`duplicate-ids.yaml:9:9: duplicate id "#4" (first used on line 8); give each item its own id`,
		}},
		{"context-missing.yaml", 1, []string{
			`context-missing.yaml:3:19: context_file "ctx/missing.md": ctx/missing.md does not exist; the path is relative to the suite file`,
		}},
		{"context-dir.yaml", 1, []string{
			`context-dir.yaml:3:19: context_file "ctx/folder": ctx/folder is a directory; name a text file`,
		}},
		{"context-utf8.yaml", 1, []string{
			`context-utf8.yaml:3:19: context_file "ctx/latin1.md": ctx/latin1.md is not valid UTF-8 (first bad byte at offset 3); save it as UTF-8`,
		}},
		{"context-both.yaml", 2, []string{
			"context-both.yaml:6:5: context and context_file are both set; an item takes at most one of context, context_file and context_ref",
			`context-both.yaml:8:18: unknown context "magci"; did you mean "magic"?`,
		}},
		{"bad-params.yaml", 1, []string{
			"bad-params.yaml:4:20: params: temperature must be a number from 0 to 2",
			"bad-params.yaml:5:14: params: top_p must be a number from 0 to 1",
			"bad-params.yaml:6:19: params: max_tokens must be a whole number of at least 1",
			"bad-params.yaml:7:13: params: seed must be a whole number",
			"bad-params.yaml:8:25: params: presence_penalty must be a number from -2 to 2",
			"bad-params.yaml:9:13: params: stop must be text or a list of texts",
			"bad-params.yaml:10:7: params cannot set stream: tracebatch decides whether to stream; remove it",
			"bad-params.yaml:11:7: params cannot set n: tracebatch asks for one answer per item; remove it, or repeat the item with other ids",
			"bad-params.yaml:12:7: params cannot set messages: tracebatch builds the messages from system, context and prompt; remove it",
			"bad-params.yaml:13:7: params cannot set model: use the item's model field instead",
			`bad-params.yaml:14:7: unknown parameter "tempreature"; did you mean "temperature"?`,
		}},
		{"many-errors.yaml", 4, []string{
			`many-errors.yaml:2:1: unknown field "modle"; did you mean "model"?`,
			`many-errors.yaml:5:5: unknown field "promt"; did you mean "prompt"?`,
			`many-errors.yaml:6:9: duplicate id "a" (first used on line 4); give each item its own id`,
			"many-errors.yaml:9:30: regex: invalid regular expression: invalid character class range: `z-a`",
			"many-errors.yaml:10:13: prompt is empty; give the item a question to ask",
			"many-errors.yaml:11:11: tags must be a list of texts, not text",
			`many-errors.yaml:13:16: timestamp "yesterday" is not an RFC 3339 date and time; write it like 2024-05-01T12:00:00Z`,
			"many-errors.yaml:14:27: params: temperature must be a number from 0 to 2",
		}},
		{"header-errors.yaml", 1, []string{
			`header-errors.yaml:2:1: unknown field "sytem"; did you mean "system"?`,
			`header-errors.yaml:4:18: file "ctx/missing.md": ctx/missing.md does not exist; the path is relative to the suite file`,
			`header-errors.yaml:5:8: context "odd" has no file; write {file: path}, or give the text itself`,
			`header-errors.yaml:5:9: unknown field "path"; a context is text or {file: path}`,
			`header-errors.yaml:6:11: context "number" must be text or {file: path}, not a number`,
			"header-errors.yaml:8:3: prompt cannot be set in defaults; set it on each item",
			`header-errors.yaml:10:3: unknown field "tagz"; did you mean "tags"?`,
			`header-errors.yaml:13:18: unknown context "nope"; the suite's contexts are broken, number or odd`,
		}},
		{"system-no-context.yaml", 2, []string{
			"system-no-context.yaml:1:9: system has {{contxt}}; did you mean {{context}}?",
			"system-no-context.yaml:1:9: system has no {{context}}, so the items' contexts (the first on line 4) would not reach the model; add {{context}} where the context belongs",
		}},
		{"not-json.jsonl", 5, []string{
			"not-json.jsonl:2:30: line is not valid JSON: invalid character '}' looking for beginning of object key string",
			"not-json.jsonl:3:1: line is not valid JSON: invalid character 'h' looking for beginning of value",
			"not-json.jsonl:4:25: line is not valid JSON: unexpected end of JSON input",
			"not-json.jsonl:5:28: line is not valid JSON: invalid character '{' after top-level value",
		}},
		{"not-object.jsonl", 4, []string{
			`not-object.jsonl:1:1: line is an array, not an object; write each item as one object like {"prompt": "What are magic links?"}`,
			`not-object.jsonl:2:1: line is text, not an object; write each item as one object like {"prompt": "What are magic links?"}`,
			`not-object.jsonl:3:1: line is a number, not an object; write each item as one object like {"prompt": "What are magic links?"}`,
			`not-object.jsonl:4:1: line is null, not an object; write each item as one object like {"prompt": "What are magic links?"}`,
		}},
		{"invalid-utf8.jsonl", 3, []string{
			"invalid-utf8.jsonl:2:16: invalid UTF-8 (byte 0xE9); save the file as UTF-8",
			"invalid-utf8.jsonl:3:25: invalid UTF-8 (byte 0xFF); save the file as UTF-8",
		}},
		{"duplicate-ids.jsonl", 6, []string{
			`duplicate-ids.jsonl:4:8: duplicate id "a" (first used on line 1); give each item its own id`,
			`duplicate-ids.jsonl:6:8: duplicate id "#4" (first used on line 5); give each item its own id`,
			`duplicate-ids.jsonl:7:8: duplicate id "a" (first used on line 1); give each item its own id`,
		}},
		{"typo.jsonl", 2, []string{
			`typo.jsonl:1:13: unknown field "promt"; did you mean "prompt"?`,
			`typo.jsonl:2:2: unknown field "Prompt"; did you mean "prompt"?`,
			`typo.jsonl:2:29: unknown field "contxt"; did you mean "context"?`,
			`typo.jsonl:2:53: unknown field "weird"; ` + listed,
		}},
		{"types.jsonl", 5, []string{
			"types.jsonl:1:8: id must be text, not a number; put it in quotes",
			"types.jsonl:1:21: prompt must be text, not an array",
			"types.jsonl:1:46: tags must be an array of texts, not text",
			"types.jsonl:1:65: expect must be an array of checks, not an object",
			"types.jsonl:1:100: metadata must be an object, not an array",
			"types.jsonl:1:114: params must be an object of chat-completion parameters, not text",
			`types.jsonl:1:134: timestamp must be an RFC 3339 date and time in text, like "2024-05-01T12:00:00Z", not a number`,
			`types.jsonl:2:25: duplicate key "prompt" (first at column 2); remove one of them`,
			"types.jsonl:2:70: params: temperature must be a number from 0 to 2",
			"types.jsonl:2:91: params: max_tokens must be a whole number of at least 1",
			`types.jsonl:2:104: number "1e400" is too large`,
			"types.jsonl:3:42: context_ref names a context of a YAML suite's header, and a JSONL file has none; use context or context_file",
			"types.jsonl:4:12: prompt is empty; give the item a question to ask",
			"types.jsonl:5:8: id is empty; name the item, or remove id to use its position",
		}},
	}
	seen := make(map[string]bool)
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			n, ps, err := Validate(suitesDir + tt.file)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			got := problemStrings(ps)
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(tt.want, "\n      "))
			}
			if n != tt.n {
				t.Errorf("n = %d, want %d", n, tt.n)
			}
			if len(tt.want) == 0 && ps != nil {
				t.Errorf("clean suite: problems = %#v, want nil", ps)
			}
		})
	}
	// Every suite in the folder is in the table.
	files, err := filepath.Glob(suitesDir + "*.*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s is not in the table", f)
		}
	}
}

// TestOpenNextMatchesValidate proves that a caller that opens a suite and
// reads it with Next meets exactly the problems Validate lists: through
// Open for a YAML suite whose header is wrong, else through Next, item by
// item, with the reader going on after each invalid item.
func TestOpenNextMatchesValidate(t *testing.T) {
	files, err := filepath.Glob(suitesDir + "*.*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			n, want, err := Validate(f)
			if err != nil {
				t.Fatal(err)
			}
			got, items := readAll(t, f)
			if !slices.Equal(problemStrings(got), problemStrings(want)) {
				t.Errorf("Open+Next:\n%s\nValidate:\n%s", strings.Join(problemStrings(got), "\n"), strings.Join(problemStrings(want), "\n"))
			}
			if items != 0 && items != n {
				t.Errorf("Next gave %d items, Validate counted %d", items, n)
			}
		})
	}
}

// readAll opens a suite and reads it to the end, returning every problem
// met and the number of items Next returned.
func readAll(t *testing.T, path string) (Problems, int) {
	t.Helper()
	s, err := Open(path)
	var ps Problems
	if errors.As(err, &ps) {
		return ps, 0
	}
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	var all Problems
	items := 0
	for {
		it, err := s.Next()
		if err == io.EOF {
			break
		}
		if errors.As(err, &ps) {
			all = append(all, ps...)
			if ps[0].Pos.Line == 0 && it.Pos.File == "" {
				continue // the empty JSONL suite: no item
			}
		} else if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if it.Index != items {
			t.Errorf("item %d has Index %d", items, it.Index)
		}
		if it.Suite != s.Name() || it.Pos.File != s.File() || it.ID == "" {
			t.Errorf("item %d: Suite %q Pos %v ID %q", items, it.Suite, it.Pos, it.ID)
		}
		items++
	}
	return all, items
}

// TestOpenErrors checks the errors for paths that are no suite at all.
func TestOpenErrors(t *testing.T) {
	tests := []struct {
		path, want string
	}{
		{suitesDir + "nope.yaml", "open suite: open " + suitesDir + "nope.yaml: no such file or directory"},
		{suitesDir + "nope.jsonl", "open suite: open " + suitesDir + "nope.jsonl: no such file or directory"},
		{suitesDir + "ctx/magic-links.md", suitesDir + "ctx/magic-links.md: unknown suite format; name a suite .yaml or .yml (a YAML suite) or .jsonl or .ndjson (one JSON item per line), or pass - for JSONL on standard input"},
	}
	for _, tt := range tests {
		if _, err := Open(tt.path); err == nil || err.Error() != tt.want {
			t.Errorf("Open(%q) = %v, want %s", tt.path, err, tt.want)
		}
		if _, _, err := Validate(tt.path); err == nil || err.Error() != tt.want {
			t.Errorf("Validate(%q) = %v, want %s", tt.path, err, tt.want)
		}
	}
	dir := filepath.Join(t.TempDir(), "dir.yaml")
	mkdir(t, dir)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "dir.yaml is a directory") {
		t.Errorf("Open(directory) = %v", err)
	}
	if _, _, err := Validate(dir); err == nil || !strings.Contains(err.Error(), "dir.yaml is a directory") {
		t.Errorf("Validate(directory) = %v", err)
	}
}

func TestFormatOf(t *testing.T) {
	for path, want := range map[string]Format{
		"a.yaml": YAML, "a.YML": YAML, "dir.d/a.yml": YAML,
		"a.jsonl": JSONL, "a.NDJSON": JSONL, "-": JSONL,
	} {
		if got, err := FormatOf(path); err != nil || got != want {
			t.Errorf("FormatOf(%q) = %v, %v; want %v", path, got, err, want)
		}
	}
	for _, path := range []string{"a.json", "a", "a.yaml.bak", "a.txt"} {
		if _, err := FormatOf(path); err == nil {
			t.Errorf("FormatOf(%q) succeeded", path)
		}
	}
	if YAML.String() != "YAML" || JSONL.String() != "JSONL" || Format(9).String() != "Format(9)" {
		t.Error("Format.String")
	}
}

// TestValidateEachSeesTheValidItems checks that ValidateEach hands over
// every valid item, and only those, in both formats.
func TestValidateEachSeesTheValidItems(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"e.jsonl": `{"id":"a","prompt":"one"}` + "\n" + `{"id":"b","promt":"typo"}` + "\n" + `{"id":"c","prompt":"three"}` + "\n",
		"e.yaml":  "prompts:\n  - {id: a, prompt: one}\n  - {id: b, promt: typo}\n  - {id: c, prompt: three}\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		var ids []string
		n, ps, err := ValidateEach(path, func(it Item) { ids = append(ids, it.ID) })
		if err != nil || n != 3 || len(ps) != 1 || strings.Join(ids, ",") != "a,c" {
			t.Errorf("%s: n=%d problems=%v err=%v ids=%v", name, n, ps, err, ids)
		}
	}
}
