package prompts

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
)

// checkPositions fails when a problem has no file, or a position outside
// data.
func checkPositions(t *testing.T, name string, data []byte, ps Problems) {
	t.Helper()
	lines := bytes.Split(data, []byte("\n"))
	for _, p := range ps {
		if p.Pos.File != name || p.Pos.Line < 0 || p.Pos.Col < 0 || p.Msg == "" {
			t.Fatalf("bad problem %#v", p)
		}
		if p.Pos.Line > len(lines) {
			t.Fatalf("%s: line %d of %d", p, p.Pos.Line, len(lines))
		}
		if p.Pos.Line > 0 && p.Pos.Col > len(lines[p.Pos.Line-1])+1 {
			t.Fatalf("%s: column past the end of the line %q", p, lines[p.Pos.Line-1])
		}
	}
}

// nextAll reads every item of s and returns the problems met, in order.
func nextAll(t *testing.T, s *Suite, limit int) Problems {
	t.Helper()
	var all Problems
	for range limit {
		it, err := s.Next()
		if err == io.EOF {
			return all
		}
		var ps Problems
		if !errors.As(err, &ps) {
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if it.Prompt == "" || it.ID == "" {
				t.Fatalf("valid item without prompt or id: %+v", it)
			}
			continue
		}
		if len(ps) == 0 {
			t.Fatal("empty Problems")
		}
		all = append(all, ps...)
	}
	t.Fatal("Next does not reach the end")
	return nil
}

// FuzzJSONL feeds arbitrary bytes to the JSONL reader. It checks that
// reading never panics and ends, that every problem points into the input,
// and that Validate's two-pass search finds exactly the problems Next finds.
func FuzzJSONL(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","prompt":"x","expect":[{"type":"regex","value":"a+"}],"params":{"temperature":0.1}}`,
		"{\"prompt\":\"a\"}\n\n{\"id\":\"#1\",\"prompt\":\"b\"}\r\n",
		"\xef\xbb\xbf{\"prompt\":\"bom\"}",
		`{"promt":"x"}`,
		"not json\n[1]\n{\"prompt\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.jsonl"
		s, err := OpenReader(name, bytes.NewReader(data), JSONL)
		if err != nil {
			t.Fatal(err)
		}
		viaNext := nextAll(t, s, len(data)+2)
		checkPositions(t, name, bytes.TrimPrefix(data, bom), viaNext)

		_, viaValidate, err := validateJSONL(name, bytes.NewReader(data), &reader{jsonl: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(problemStrings(viaNext), problemStrings(viaValidate)) {
			t.Fatalf("Next:\n%v\nValidate:\n%v", viaNext, viaValidate)
		}
	})
}

// FuzzYAML feeds arbitrary bytes to the YAML reader. It checks that
// reading never panics, that every problem points into the input, and that
// Open and Next meet the problems loadYAML lists.
func FuzzYAML(f *testing.F) {
	for _, s := range []string{
		"prompts:\n  - prompt: x\n",
		"name: n\ncontexts:\n  a: text\ndefaults:\n  context_ref: a\n  tags: [t]\nprompts:\n  - {id: a, prompt: q, expect: [{type: icontains, value: v}]}\n",
		"prompts:\n  - &a {prompt: x}\n  - <<: *a\n    id: b\n",
		"prompts: &x [*x]\n",
		"a: b: c\n",
		"prompts:\n\t- prompt: x\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.yaml"
		doc := loadYAML(name, data, &reader{})
		all := doc.all()
		checkPositions(t, name, bytes.TrimPrefix(data, bom), all)

		s, err := OpenReader(name, bytes.NewReader(data), YAML)
		var got Problems
		switch {
		case errors.As(err, &got):
		case err != nil:
			t.Fatal(err)
		default:
			// An item's problems can lie in an anchored value used by
			// several items: in file order, each once, they are all's.
			got = nextAll(t, s, len(doc.entries)+1)
			sortProblems(got)
			got = dedupe(got)
		}
		if !slices.Equal(problemStrings(got), problemStrings(all)) {
			t.Fatalf("Open+Next:\n%v\nloadYAML:\n%v", got, all)
		}
	})
}
