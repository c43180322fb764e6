package prompts

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tracebatch/tracebatch/checks"
)

// itemFields are the fields of an item, in the order messages list them.
var itemFields = []string{"id", "prompt", "context", "context_file", "context_ref", "model", "params", "expect", "tags", "metadata", "answer", "timestamp", "actor"}

// defaultsFields are the item fields a YAML suite's defaults may set.
var defaultsFields = []string{"context", "context_file", "context_ref", "model", "params", "expect", "tags", "metadata", "actor"}

// checkFields are the fields of a check.
var checkFields = []string{"type", "value", "threshold"}

// checkTypes are the check types checks.Spec.Compile knows.
var checkTypes = checks.Types()

// draft is an item, or a YAML suite's defaults, as the file states it: each
// field read and checked on its own. finish merges the defaults into it and
// resolves its context.
type draft struct {
	id     string
	idNode *node // nil when the file gives no usable id
	badID  bool  // the file gives an id that is not usable
	prompt string

	ctxField string // "context", "context_file", "context_ref" or ""
	ctxValue string // the text, path or name
	ctxNode  *node
	ctxOK    bool // ctxValue is usable

	model     string
	params    map[string]any
	expect    []checks.Spec
	tags      []string
	metadata  map[string]any
	answer    string
	timestamp time.Time
	actor     string
}

// reader holds what the items of one suite share: the format, the folder
// context files are relative to, the context cache, and for YAML the
// header.
type reader struct {
	jsonl bool
	stdin bool   // context files are relative to the working directory
	dir   string // folder context files are relative to
	cache contextCache
	head  *header // nil for JSONL
}

// header is what a YAML suite's header gives its items.
type header struct {
	model     string
	system    string
	hasSystem bool
	contexts  map[string]*namedContext
	defaults  *draft // nil when there are none
	// defaultContext is the defaults' context, resolved once.
	defaultContext string
}

// namedContext is one entry of a YAML suite's contexts.
type namedContext struct {
	text string
	ok   bool // false when the entry has a problem, already reported
}

// describeFields names the fields a mapping may have, for a message about
// an unknown one.
var describeFields = map[string]string{
	"item":     "an item's fields are " + list(itemFields),
	"defaults": "defaults may set " + list(defaultsFields),
	"check":    "a check's fields are " + list(checkFields),
}

// unknownField reports a field that is not one of allowed. where names the
// mapping: "item", "defaults", "check" or "suite".
// It returns the field suggested instead, if any.
func (r *reader) unknownField(f *field, allowed []string, where string, c *collector) string {
	if where == "defaults" && slices.Contains(itemFields, f.key) {
		c.atKey(f, "%s cannot be set in defaults; set it on each item", f.key)
		return ""
	}
	s := suggest(f.key, allowed)
	hint := ""
	if s != "" {
		hint = fmt.Sprintf("; did you mean %q?", s)
	} else {
		if d, ok := describeFields[where]; ok {
			hint = "; " + d
		} else {
			hint = "; the fields of a suite are " + list(allowed)
		}
	}
	c.atKey(f, "unknown field %s%s", quote(f.key), hint)
	return s
}

// text returns a field's value when it is text, and reports it otherwise.
func (r *reader) text(f *field, c *collector) (string, bool) {
	if f.val.kind == stringKind {
		return f.val.str, true
	}
	hint := ""
	if f.val.kind == numberKind || f.val.kind == boolKind {
		hint = "; put it in quotes"
	}
	c.at(f.val, "%s must be text, not %s%s", f.key, describe(f.val.kind, r.jsonl), hint)
	return "", false
}

// readDraft reads the fields of an item (allowed is itemFields) or of the
// defaults (allowed is defaultsFields) from the mapping n. A null value
// counts as absent, except for prompt, which must be there.
func (r *reader) readDraft(n *node, allowed []string, where string, c *collector) *draft {
	d := &draft{}
	misspeltPrompt := false
	for i := range n.fields {
		f := &n.fields[i]
		if !slices.Contains(allowed, f.key) {
			if r.unknownField(f, allowed, where, c) == "prompt" {
				misspeltPrompt = true
			}
			continue
		}
		if f.val.kind == nullKind {
			continue
		}
		switch f.key {
		case "id":
			s, ok := r.text(f, c)
			switch {
			case !ok:
				d.badID = true
			case strings.TrimSpace(s) == "":
				c.at(f.val, "id is empty; name the item, or remove id to use its position")
				d.badID = true
			default:
				d.id, d.idNode = s, f.val
			}
		case "prompt":
			if s, ok := r.text(f, c); ok {
				if strings.TrimSpace(s) == "" {
					c.at(f.val, "prompt is empty; give the item a question to ask")
				}
				d.prompt = s
			}
		case "context", "context_file", "context_ref":
			r.readContextField(d, f, c)
		case "model":
			if s, ok := r.text(f, c); ok {
				if strings.TrimSpace(s) == "" {
					c.at(f.val, "model is empty; name a model, or remove model to use the suite's")
				}
				d.model = s
			}
		case "params":
			d.params = r.readParams(f, c)
		case "expect":
			d.expect = r.readExpect(f, c)
		case "tags":
			d.tags = r.readTags(f, c)
		case "metadata":
			if f.val.kind != mapKind {
				c.at(f.val, "metadata must be %s, not %s", describe(mapKind, r.jsonl), describe(f.val.kind, r.jsonl))
			} else {
				d.metadata = f.val.value().(map[string]any)
			}
		case "answer":
			d.answer, _ = r.text(f, c)
		case "timestamp":
			if f.val.kind != stringKind {
				c.at(f.val, "timestamp must be an RFC 3339 date and time in text, like \"2024-05-01T12:00:00Z\", not %s", describe(f.val.kind, r.jsonl))
			} else if s, ok := r.text(f, c); ok {
				t, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					c.at(f.val, "timestamp %s is not an RFC 3339 date and time; write it like 2024-05-01T12:00:00Z", quote(s))
				}
				d.timestamp = t
			}
		case "actor":
			d.actor, _ = r.text(f, c)
		}
	}
	if where == "item" {
		switch f := n.get("prompt"); {
		case f == nil:
			if !misspeltPrompt {
				c.at(n, "item has no prompt; give the item a question to ask")
			}
		case f.val.kind == nullKind:
			c.at(f.val, "prompt is empty; give the item a question to ask")
		}
	}
	return d
}

// readContextField reads context, context_file or context_ref.
func (r *reader) readContextField(d *draft, f *field, c *collector) {
	if d.ctxField != "" {
		c.atKey(f, "%s and %s are both set; an item takes at most one of context, context_file and context_ref", d.ctxField, f.key)
		return
	}
	s, ok := r.text(f, c)
	d.ctxField, d.ctxValue, d.ctxNode, d.ctxOK = f.key, s, f.val, ok
	if !ok {
		return
	}
	switch {
	case f.key == "context_file" && strings.TrimSpace(s) == "":
		c.at(f.val, "context_file is empty; name a file, or remove context_file")
		d.ctxOK = false
	case f.key == "context_ref" && r.head == nil:
		c.atKey(f, "context_ref names a context of a YAML suite's header, and a JSONL file has none; use context or context_file")
		d.ctxOK = false
	case f.key == "context_ref" && strings.TrimSpace(s) == "":
		c.at(f.val, "context_ref is empty; name one of the suite's contexts, or remove context_ref")
		d.ctxOK = false
	}
}

// readTags reads a list of texts, dropping repeats.
func (r *reader) readTags(f *field, c *collector) []string {
	if f.val.kind != listKind {
		c.at(f.val, "tags must be %s of texts, not %s", describe(listKind, r.jsonl), describe(f.val.kind, r.jsonl))
		return nil
	}
	var tags []string
	for _, e := range f.val.list {
		switch {
		case e.kind != stringKind:
			c.at(e, "a tag must be text, not %s", describe(e.kind, r.jsonl))
		case strings.TrimSpace(e.str) == "":
			c.at(e, "a tag is empty; remove it")
		case !slices.Contains(tags, e.str):
			tags = append(tags, e.str)
		}
	}
	return tags
}

// readExpect reads and compiles a list of checks.
func (r *reader) readExpect(f *field, c *collector) []checks.Spec {
	if f.val.kind != listKind {
		c.at(f.val, "expect must be %s of checks, not %s", describe(listKind, r.jsonl), describe(f.val.kind, r.jsonl))
		return nil
	}
	var specs []checks.Spec
	for _, e := range f.val.list {
		if spec, ok := r.readCheck(e, c); ok {
			specs = append(specs, spec)
		}
	}
	return specs
}

// readCheck reads one check and compiles it.
func (r *reader) readCheck(e *node, c *collector) (checks.Spec, bool) {
	var spec checks.Spec
	if e.kind != mapKind {
		example := "{type: icontains, value: passwordless}"
		if r.jsonl {
			example = `{"type": "icontains", "value": "passwordless"}`
		}
		c.at(e, "a check must be %s like %s, not %s", describe(mapKind, r.jsonl), example, describe(e.kind, r.jsonl))
		return spec, false
	}
	var typeNode, valueNode, thresholdNode *node
	ok := true
	for i := range e.fields {
		g := &e.fields[i]
		switch g.key {
		case "type":
			if s, good := r.text(g, c); good {
				spec.Type, typeNode = s, g.val
			} else {
				ok = false
			}
		case "value":
			spec.Value, valueNode = g.val.value(), g.val
		case "threshold":
			switch g.val.kind {
			case numberKind:
				spec.Threshold, thresholdNode = toFloat(g.val.num), g.val
			case nullKind:
			default:
				c.at(g.val, "threshold must be a number from 0 to 1, not %s", describe(g.val.kind, r.jsonl))
				ok = false
			}
		default:
			r.unknownField(g, checkFields, "check", c)
			ok = false
		}
	}
	if typeNode == nil {
		if ok {
			c.at(e, "check has no type; add one, such as icontains, regex or max-length")
		}
		return spec, false
	}
	if !slices.Contains(checkTypes, spec.Type) {
		hint := didYouMean(spec.Type, checkTypes)
		if hint == "" {
			hint = "; the check types are " + list(checkTypes)
		}
		c.at(typeNode, "unknown check type %s%s", quote(spec.Type), hint)
		return spec, false
	}
	if err := spec.Compile(); err != nil {
		at := e
		switch {
		case thresholdNode != nil && strings.Contains(err.Error(), "threshold"):
			at = thresholdNode
		case valueNode != nil:
			at = valueNode
		}
		c.at(at, "%v", err)
		return spec, false
	}
	return spec, ok
}

// itemID is the id of the item at index: its own, or its position. ok is
// false when the item states an id that is not usable; such an item is
// reported already and takes no part in the search for duplicates.
func itemID(d *draft, index int) (id string, ok bool) {
	if d.idNode != nil {
		return d.id, true
	}
	return fmt.Sprintf("#%d", index+1), !d.badID
}
