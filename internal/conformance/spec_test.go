// Package conformance holds tracebatch's conformance tests against Pangea's
// published Secure Audit Log API: Prism (@stoplight/prism-cli, pinned in the
// repository's package-lock.json) mocks the OpenAPI document and validates
// every request tracebatch sends.
//
// The published document (../shared/specs/pangea-audit.openapi.json from the
// repository root) describes the Standard schema's event. The AI Audit Log
// Schema variant, testdata/pangea-audit-ai.openapi.json, is generated from it
// by aiVariant; after the published document changes, regenerate it with
//
//	go test ./internal/conformance -run TestAIVariantIsCurrent -update
package conformance

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/pangea-audit-ai.openapi.json from the published spec")

const (
	// publishedSpecRel is Pangea's published OpenAPI document, relative to
	// the repository root.
	publishedSpecRel = "../shared/specs/pangea-audit.openapi.json"
	// aiSpecRel is the AI Audit Log Schema variant, relative to the
	// repository root.
	aiSpecRel = "testdata/pangea-audit-ai.openapi.json"
	// modulePath identifies the repository root by its go.mod.
	modulePath = "github.com/tracebatch/tracebatch"
)

// aiAuditEvent is the event of Pangea's AI Audit Log Schema, the config the
// input- and response-tracing examples (and tracebatch's default mode) log
// to. It replaces components.schemas.AuditEvent in the AI variant.
const aiAuditEvent = `{
  "type": "object",
  "required": ["event_type"],
  "description": "An event of the AI Audit Log Schema: an AI application's event of type <event_type>, with the model's input, output, tools and context, and who did it, when, where and with what result.",
  "additionalProperties": false,
  "properties": {
    "event_type": {"type": "string", "description": "The kind of AI event.", "maxLength": 64, "examples": ["inference:user_prompt", "inference:response"]},
    "event_input": {"type": "string", "description": "The input sent to the model, such as the prompt and its context.", "maxLength": 32766},
    "event_output": {"type": "string", "description": "The output the model returned.", "maxLength": 32766},
    "event_tools": {"type": "string", "description": "The tools or API the model was used through.", "maxLength": 128, "examples": ["OpenAI"]},
    "event_context": {"type": "string", "description": "Further context of the event."},
    "actor": {"type": "string", "description": "An identifier for _who_ the audit record is about.", "maxLength": 128},
    "timestamp": {"type": "string", "format": "date-time", "description": "An optional client-supplied timestamp."},
    "model": {"type": "string", "description": "The model involved.", "maxLength": 128},
    "source": {"type": "string", "description": "The source of a record.", "maxLength": 128},
    "target": {"type": "string", "description": "An identifier for what the audit record is about.", "maxLength": 128},
    "status": {"type": "string", "description": "The status or result of the event.", "maxLength": 32},
    "tenant_id": {"type": "string", "description": "An optional client-supplied tenant_id.", "maxLength": 128}
  }
}`

// aiVariant returns the published spec with components.schemas.AuditEvent
// replaced by aiAuditEvent. Every other byte of spec is kept as it is, so
// the variant differs from the published document in that one schema only.
func aiVariant(spec []byte) ([]byte, error) {
	start, end, err := valueSpan(spec, "components", "schemas", "AuditEvent")
	if err != nil {
		return nil, err
	}
	// Indent the new schema as the key that holds it is indented.
	lineStart := bytes.LastIndexByte(spec[:start], '\n') + 1
	prefix := spec[lineStart:start]
	prefix = prefix[:len(prefix)-len(bytes.TrimLeft(prefix, " \t"))]
	var compact, schema bytes.Buffer
	if err := json.Compact(&compact, []byte(aiAuditEvent)); err != nil {
		return nil, fmt.Errorf("aiAuditEvent: %w", err)
	}
	if err := json.Indent(&schema, compact.Bytes(), string(prefix), "  "); err != nil {
		return nil, fmt.Errorf("aiAuditEvent: %w", err)
	}
	out := make([]byte, 0, len(spec)+schema.Len())
	out = append(out, spec[:start]...)
	out = append(out, schema.Bytes()...)
	out = append(out, spec[end:]...)
	return out, nil
}

// valueSpan finds the value at the object path keys in the JSON document
// data and returns its byte range: data[start:end] is exactly its text.
func valueSpan(data []byte, keys ...string) (start, end int, err error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	for depth, key := range keys {
		where := strings.Join(keys[:depth], ".")
		if where == "" {
			where = "the document"
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			return 0, 0, fmt.Errorf("%s is not a JSON object", where)
		}
		for {
			if !dec.More() {
				return 0, 0, fmt.Errorf("%s has no %q", where, key)
			}
			tok, err := dec.Token()
			if err != nil {
				return 0, 0, fmt.Errorf("reading %s: %w", where, err)
			}
			if tok == key {
				break
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return 0, 0, fmt.Errorf("reading %s: %w", where, err)
			}
		}
	}
	// The decoder stands just after the last key: the value follows the
	// colon.
	start = int(dec.InputOffset())
	for start < len(data) && (data[start] == ':' || isSpace(data[start])) {
		start++
	}
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return 0, 0, fmt.Errorf("reading %s: %w", strings.Join(keys, "."), err)
	}
	end = start + len(raw)
	if end > len(data) || !bytes.Equal(data[start:end], raw) {
		return 0, 0, fmt.Errorf("could not locate the text of %s", strings.Join(keys, "."))
	}
	return start, end, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// repoRoot returns the repository root: the nearest directory above the
// test's working directory whose go.mod declares modulePath. It fails the
// test when there is none.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(data, []byte("module "+modulePath+"\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod of %s above the working directory", modulePath)
		}
		dir = parent
	}
}

// prismPath returns the pinned Prism that `npm ci` installs in the
// repository root, or "" when it is not installed.
func prismPath(t testing.TB) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), "node_modules", ".bin", "prism")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// publishedSpec returns the path of Pangea's published spec. When the file
// is missing, the test fails if Prism is installed (the conformance test
// is meant to run: CI must not pass without it) and is skipped otherwise.
func publishedSpec(t testing.TB) string {
	t.Helper()
	root := repoRoot(t)
	p := filepath.Clean(filepath.Join(root, filepath.FromSlash(publishedSpecRel)))
	_, err := os.Stat(p)
	switch {
	case err == nil:
		return p
	case prismPath(t) != "":
		t.Fatalf("Pangea's published Secure Audit Log spec is not at %s (%s from the repository root): %v; the conformance test needs it next to the repository", p, publishedSpecRel, err)
	default:
		t.Skipf("Pangea's published spec is not at %s and Prism is not installed: skipping the conformance checks", p)
	}
	return ""
}

// TestAIVariantIsCurrent checks that the committed AI variant is exactly
// what aiVariant makes of the published spec, and that it is the published
// spec with AuditEvent replaced and nothing else changed. With -update it
// rewrites the variant first.
func TestAIVariantIsCurrent(t *testing.T) {
	spec, err := os.ReadFile(publishedSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	want, err := aiVariant(spec)
	if err != nil {
		t.Fatalf("making the AI variant of %s: %v", publishedSpecRel, err)
	}
	path := filepath.Join(repoRoot(t), filepath.FromSlash(aiSpecRel))
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; generate it with: go test ./internal/conformance -run TestAIVariantIsCurrent -update", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not what the generator makes of %s (%s); regenerate it with: go test ./internal/conformance -run TestAIVariantIsCurrent -update", aiSpecRel, publishedSpecRel, firstDiff(got, want))
	}

	// The variant is the published spec with one schema replaced.
	var pub, variant map[string]any
	if err := json.Unmarshal(spec, &pub); err != nil {
		t.Fatalf("%s: %v", publishedSpecRel, err)
	}
	if err := json.Unmarshal(want, &variant); err != nil {
		t.Fatalf("the generated variant is not JSON: %v", err)
	}
	var ai map[string]any
	if err := json.Unmarshal([]byte(aiAuditEvent), &ai); err != nil {
		t.Fatal(err)
	}
	schemas := pub["components"].(map[string]any)["schemas"].(map[string]any)
	schemas["AuditEvent"] = ai
	if !reflect.DeepEqual(pub, variant) {
		t.Error("the variant differs from the published spec elsewhere than in components.schemas.AuditEvent")
	}
	props := ai["properties"].(map[string]any)
	for _, f := range []string{"event_type", "event_input", "event_output", "event_tools", "event_context", "actor", "timestamp", "model", "source", "target", "status", "tenant_id"} {
		if _, ok := props[f]; !ok {
			t.Errorf("the AI event schema has no %s", f)
		}
	}
	if len(props) != 12 || ai["additionalProperties"] != false || !reflect.DeepEqual(ai["required"], []any{"event_type"}) {
		t.Errorf("the AI event schema must have exactly the 12 AI fields, require event_type and forbid other fields")
	}
}

// firstDiff describes where a and b first differ.
func firstDiff(a, b []byte) string {
	line := 1
	for i := 0; i < min(len(a), len(b)); i++ {
		if a[i] != b[i] {
			return fmt.Sprintf("first difference on line %d", line)
		}
		if a[i] == '\n' {
			line++
		}
	}
	return fmt.Sprintf("lengths %d and %d, same up to line %d", len(a), len(b), line)
}
