// Package prompts reads suites: YAML files with a header and a list of
// prompts, and JSONL files read as a stream, one item per line. It resolves
// contexts (literal, from a file relative to the suite, or by name), merges
// the YAML defaults, renders the system template, and reports every problem
// with its file, line and column.
package prompts

import (
	_ "embed"
	"fmt"
	"strings"
	"time"

	"github.com/tracebatch/tracebatch/checks"
)

// Item is one prompt of a suite, with everything resolved: its context is
// the text itself, its system message is rendered, and the suite's defaults
// are merged in.
type Item struct {
	// ID is unique within its suite; it defaults to the item's position,
	// "#1" for the first.
	ID string
	// Index is the item's 0-based position in its suite.
	Index int
	// Pos is where the item starts: the JSONL line, or the YAML list entry.
	Pos Position
	// Suite is the suite's name: the YAML header's name, else the file's
	// base name without its extension ("stdin" for -).
	Suite string

	// Prompt is the user message, never empty.
	Prompt string
	// Context is the context text ("" when the item has none).
	Context string
	// System is the rendered system message: the suite's system template, or
	// DefaultSystem when the item has a context, with {{context}} replaced by
	// Context. It is "" when there is neither a template nor a context.
	System string
	// Model is the item's own model (its model field, or the suite
	// defaults'): the item runs on it alone. "" means the run's models (see
	// Suite.Model for the suite header's).
	Model string
	// Params are extra chat-completion parameters (temperature, max_tokens,
	// seed, …), sent as given.
	Params map[string]any
	// Expect are the item's checks, the suite defaults' first, compiled.
	Expect []checks.Spec
	// Tags and Metadata are free labels, kept for filtering and the report.
	Tags     []string
	Metadata map[string]any

	// Answer, Timestamp and Actor describe a historical exchange (backfill).
	Answer    string
	Timestamp time.Time
	Actor     string
}

// Position is a place in a suite file; Line and Col count from 1, and Col
// counts bytes. A zero Line means the whole file.
type Position struct {
	File string
	Line int
	Col  int
}

func (p Position) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Problem is one thing wrong with a suite, at a position.
type Problem struct {
	Pos Position
	Msg string
}

func (p *Problem) Error() string { return p.Pos.String() + ": " + p.Msg }

// Problems is every problem found in one pass, in file order. As an error it
// prints one problem per line.
type Problems []*Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// DefaultSystem is the system template used for an item that has a context
// when its suite sets none. It keeps the model to the context, as the
// original input-tracing example did.
const DefaultSystem = `You are a careful, friendly assistant. Answer using only the facts in the
context below. If the context does not contain the answer, say that you
don't know rather than guessing.

Context:
{{context}}`

// MagicLinks is the built-in context of `tracebatch ask`: a few paragraphs on
// magic-link authentication.
//
//go:embed magic-links.md
var MagicLinks string

// Render replaces every {{context}} in the template with the context. Spaces
// inside the braces are allowed: {{ context }}.
func Render(template, context string) string {
	var b strings.Builder
	for {
		i := strings.Index(template, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(template[i:], "}}")
		if j < 0 {
			break
		}
		if strings.TrimSpace(template[i+2:i+j]) == "context" {
			b.WriteString(template[:i])
			b.WriteString(context)
		} else {
			b.WriteString(template[:i+j+2])
		}
		template = template[i+j+2:]
	}
	b.WriteString(template)
	return b.String()
}
