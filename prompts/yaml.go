package prompts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// headerFields are the fields of a YAML suite.
var headerFields = []string{"name", "model", "system", "contexts", "defaults", "prompts"}

// yamlDoc is a YAML suite read whole: its items, each with its problems,
// and the problems of the rest of the file, which concern every item.
type yamlDoc struct {
	name    string
	model   string // the header's model
	entries []yamlEntry
	fatal   Problems // problems outside the items: the suite cannot be used
}

type yamlEntry struct {
	item Item
	ps   Problems
}

// all returns every problem of the suite, in file order, each once.
func (d *yamlDoc) all() Problems {
	ps := slices.Clone(d.fatal)
	for _, e := range d.entries {
		ps = append(ps, e.ps...)
	}
	sortProblems(ps)
	return dedupe(ps)
}

// loadYAML reads a YAML suite named file (its path, for positions and for
// context files) from data.
func loadYAML(file string, data []byte, r *reader) (doc *yamlDoc) {
	doc = &yamlDoc{name: baseName(file)}
	c := &collector{file: file}
	defer func() {
		doc.fatal = c.ps
		sortProblems(doc.fatal)
	}()

	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		c.add(0, 0, "the file is UTF-16; save it as UTF-8")
		return doc
	}
	data = bytes.TrimPrefix(data, bom)
	pos := newYAMLPositions(data)
	if !checkYAMLText(data, pos, c) {
		return doc
	}
	root, ok := parseYAML(data, pos, c)
	if !ok {
		return doc
	}
	conv := &yamlConv{c: c, pos: pos, active: make(map[*yaml.Node]bool)}
	top := conv.convert(root, false)
	if top.kind == nullKind {
		c.add(0, 0, "the suite is empty; a YAML suite needs a prompts: list of items")
		return doc
	}
	if top.kind != mapKind {
		c.at(top, "a YAML suite must be a mapping with a prompts: list, not %s; put the items under prompts:", describe(top.kind, false))
		return doc
	}
	r.head = &header{contexts: make(map[string]*namedContext)}
	items := readHeader(top, doc, r, c)
	doc.model = r.head.model
	if items == nil {
		return doc
	}
	ids := make(map[string]int, len(items.list))
	firstContext := 0 // line of the first item with a context
	for i, e := range items.list {
		ic := &collector{file: file}
		it := Item{Index: i, Pos: Position{File: file, Line: e.line, Col: e.col}, Suite: doc.name, ID: fmt.Sprintf("#%d", i+1)}
		if e.kind != mapKind {
			ic.at(e, "an item must be a mapping with at least a prompt, like - prompt: What are magic links?, not %s", describe(e.kind, false))
		} else {
			d := r.readDraft(e, itemFields, "item", ic)
			r.finish(d, &it, ic)
			if id, ok := itemID(d, i); ok {
				at := e
				if d.idNode != nil {
					at = d.idNode
				}
				if first, dup := ids[id]; dup {
					ic.at(at, "duplicate id %s (first used on line %d); give each item its own id", quote(id), first)
				} else {
					ids[id] = at.line
				}
			}
			if it.Context != "" && firstContext == 0 {
				firstContext = e.line
			}
		}
		sortProblems(ic.ps)
		doc.entries = append(doc.entries, yamlEntry{item: it, ps: ic.ps})
	}
	checkSystem(top, r.head, firstContext, c)
	return doc
}

// checkYAMLText reports invalid UTF-8 and characters YAML does not allow,
// with their positions (yaml.v3 reports neither with a position).
func checkYAMLText(data []byte, pos *yamlPositions, c *collector) bool {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			line, col := pos.offsetPos(i)
			c.add(line, col, "invalid UTF-8 (byte 0x%02X); save the file as UTF-8", data[i])
			return false
		case !yamlCharOK(r):
			line, col := pos.offsetPos(i)
			c.add(line, col, "character %U is not allowed in YAML; remove it, or write it as an escape in a double-quoted string", r)
			return false
		}
		i += size
	}
	return true
}

// parseYAML parses the single document of data.
func parseYAML(data []byte, pos *yamlPositions, c *collector) (root *yaml.Node, ok bool) {
	defer func() {
		// yaml.v3 panics on some malformed input; report it as a problem.
		if v := recover(); v != nil {
			c.add(0, 0, "invalid YAML: the parser failed: %v", v)
			root, ok = nil, false
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	root = new(yaml.Node)
	if err := dec.Decode(root); err != nil {
		if errors.Is(err, io.EOF) {
			return root, true // empty: reported by the caller
		}
		line, col, msg := pos.syntaxProblem(err)
		c.add(line, col, "%s", msg)
		return nil, false
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		line, col, msg := pos.syntaxProblem(err)
		c.add(line, col, "%s", msg)
		return nil, false
	case len(next.Content) > 0 && !(next.Content[0].Kind == yaml.ScalarNode && next.Content[0].ShortTag() == "!!null"):
		line, _ := pos.at(next.Line, next.Column)
		c.add(line, 0, "a second YAML document starts here; a suite is one document, so remove the --- line or split the file")
		return nil, false
	}
	return root, true
}

// readHeader reads the header fields of the mapping top into r.head and
// returns the prompts list, or nil when it is missing or unusable.
func readHeader(top *node, doc *yamlDoc, r *reader, c *collector) *node {
	h := r.head
	var contexts, defaults, items *node
	for i := range top.fields {
		f := &top.fields[i]
		switch f.key {
		case "name":
			if f.val.kind == nullKind {
				continue
			}
			if s, ok := r.text(f, c); ok {
				if strings.TrimSpace(s) == "" {
					c.at(f.val, "name is empty; name the suite, or remove name to use the file's name")
				} else {
					doc.name = s
				}
			}
		case "model":
			if f.val.kind == nullKind {
				continue
			}
			if s, ok := r.text(f, c); ok {
				if strings.TrimSpace(s) == "" {
					c.at(f.val, "model is empty; name a model, or remove model to use the run's")
				}
				h.model = s
			}
		case "system":
			if f.val.kind == nullKind {
				continue
			}
			if s, ok := r.text(f, c); ok {
				h.system, h.hasSystem = s, true
			}
		case "contexts":
			contexts = f.val
		case "defaults":
			defaults = f.val
		case "prompts":
			items = f.val
		default:
			r.unknownField(f, headerFields, "suite", c)
		}
	}
	if contexts != nil {
		readContexts(contexts, r, c)
	}
	if defaults != nil && defaults.kind != nullKind {
		if defaults.kind != mapKind {
			c.at(defaults, "defaults must be a mapping of item fields, not %s", describe(defaults.kind, false))
		} else {
			d := r.readDraft(defaults, defaultsFields, "defaults", c)
			h.defaults = d
			if d.ctxField != "" {
				h.defaultContext, _ = r.resolveContext(d, c)
			}
		}
	}
	switch {
	case items == nil:
		c.add(0, 0, "the suite has no prompts; add a prompts: list of items")
		return nil
	case items.kind == nullKind, items.kind == listKind && len(items.list) == 0:
		c.at(items, "prompts is empty; add at least one item")
		return nil
	case items.kind != listKind:
		c.at(items, "prompts must be a list of items, not %s; start each item with -", describe(items.kind, false))
		return nil
	}
	return items
}

// readContexts reads the named contexts: text, or {file: path}.
func readContexts(n *node, r *reader, c *collector) {
	if n.kind == nullKind {
		return
	}
	if n.kind != mapKind {
		c.at(n, "contexts must be a mapping of names to texts or {file: path}, not %s", describe(n.kind, false))
		return
	}
	for i := range n.fields {
		f := &n.fields[i]
		nc := &namedContext{}
		r.head.contexts[f.key] = nc
		switch f.val.kind {
		case stringKind:
			nc.text, nc.ok = f.val.str, true
		case mapKind:
			var file *field
			for j := range f.val.fields {
				g := &f.val.fields[j]
				if g.key == "file" {
					file = g
				} else {
					c.atKey(g, "unknown field %s%s", quote(g.key), orElse(didYouMean(g.key, []string{"file"}), "; a context is text or {file: path}"))
				}
			}
			if file == nil {
				c.at(f.val, "context %s has no file; write {file: path}, or give the text itself", quote(f.key))
				continue
			}
			if path, ok := r.text(file, c); ok {
				if strings.TrimSpace(path) == "" {
					c.at(file.val, "file is empty; name a file")
					continue
				}
				nc.text, nc.ok = r.readFile("file", path, file.val, c)
			}
		default:
			c.at(f.val, "context %s must be text or {file: path}, not %s", quote(f.key), describe(f.val.kind, false))
		}
	}
}

// checkSystem reports a system template that would drop the items'
// contexts, or that has a misspelt placeholder.
func checkSystem(top *node, h *header, firstContext int, c *collector) {
	if !h.hasSystem {
		return
	}
	at := top.get("system").val
	tmpl := h.system
	for {
		i := strings.Index(tmpl, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(tmpl[i:], "}}")
		if j < 0 {
			break
		}
		inner := strings.TrimSpace(tmpl[i+2 : i+j])
		if inner != "context" && suggest(inner, []string{"context"}) != "" {
			c.at(at, "system has {{%s}}; did you mean {{context}}?", inner)
		}
		tmpl = tmpl[i+j+2:]
	}
	if firstContext > 0 && Render(h.system, "x") == Render(h.system, "") {
		c.at(at, "system has no {{context}}, so the items' contexts (the first on line %d) would not reach the model; add {{context}} where the context belongs", firstContext)
	}
}

// contextNames lists the suite's contexts, sorted, for messages.
func (h *header) contextNames() []string {
	return slices.Sorted(maps.Keys(h.contexts))
}

func orElse(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
