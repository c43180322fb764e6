package prompts

import (
	"errors"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tracebatch/tracebatch/checks"
)

// finish completes it (whose Index, Pos and Suite are set) from the draft
// d: the suite's defaults merged in, the context resolved, the system
// message rendered.
func (r *reader) finish(d *draft, it *Item, c *collector) {
	it.ID, _ = itemID(d, it.Index)
	it.Prompt = d.prompt
	defs := &draft{}
	if r.head != nil && r.head.defaults != nil {
		defs = r.head.defaults
	}

	switch {
	case d.ctxField != "":
		it.Context, _ = r.resolveContext(d, c)
	case r.head != nil:
		it.Context = r.head.defaultContext
	}
	switch {
	case r.head != nil && r.head.hasSystem:
		it.System = Render(r.head.system, it.Context)
	case it.Context != "":
		it.System = Render(DefaultSystem, it.Context)
	}

	it.Model = d.model
	if it.Model == "" {
		it.Model = defs.model
	}
	it.Params = mergeParams(defs.params, d.params)
	if n := len(defs.expect) + len(d.expect); n > 0 {
		it.Expect = make([]checks.Spec, 0, n)
		it.Expect = append(append(it.Expect, defs.expect...), d.expect...)
	}
	it.Tags = union(defs.tags, d.tags)
	it.Metadata = mergeMaps(defs.metadata, d.metadata)
	it.Answer = d.answer
	it.Timestamp = d.timestamp
	it.Actor = d.actor
	if it.Actor == "" {
		it.Actor = defs.actor
	}
}

// resolveContext returns the text of a draft's context. ok is false when
// it cannot be had; the problem is reported, here or where it lies (a named
// context's file).
func (r *reader) resolveContext(d *draft, c *collector) (text string, ok bool) {
	if !d.ctxOK {
		return "", false
	}
	switch d.ctxField {
	case "context_file":
		return r.readFile("context_file", d.ctxValue, d.ctxNode, c)
	case "context_ref":
		nc, found := r.head.contexts[d.ctxValue]
		if !found {
			names := r.head.contextNames()
			hint := didYouMean(d.ctxValue, names)
			switch {
			case hint != "":
			case len(names) == 0:
				hint = "; the suite defines no contexts: add them under contexts:"
			default:
				hint = "; the suite's contexts are " + list(names)
			}
			c.at(d.ctxNode, "unknown context %s%s", quote(d.ctxValue), hint)
			return "", false
		}
		return nc.text, nc.ok
	}
	return d.ctxValue, true
}

// readFile reads the context file path, named by the field name at n; a
// relative path is relative to the suite's folder.
func (r *reader) readFile(name, path string, n *node, c *collector) (string, bool) {
	full := path
	if !filepath.IsAbs(full) {
		full = filepath.Join(r.dir, full)
	}
	text, err := r.cache.read(full)
	if err != nil {
		hint := ""
		if errors.Is(err, fs.ErrNotExist) && !filepath.IsAbs(path) {
			if r.stdin {
				hint = "; the path is relative to the working directory"
			} else {
				hint = "; the path is relative to the suite file"
			}
		}
		c.at(n, "%s %s: %v%s", name, quote(path), err, hint)
		return "", false
	}
	return text, true
}

// mergeParams merges the defaults' params and the item's, the item's
// winning, and drops the parameters set to null. It returns nil when none
// are left.
func mergeParams(defs, own map[string]any) map[string]any {
	out := mergeMaps(defs, own)
	maps.DeleteFunc(out, func(_ string, v any) bool { return v == nil })
	if len(out) == 0 {
		return nil
	}
	return out
}

// mergeMaps returns a new map with the entries of defs and own, own's
// winning, or nil when both are empty.
func mergeMaps(defs, own map[string]any) map[string]any {
	if len(defs) == 0 && len(own) == 0 {
		return nil
	}
	if len(defs) == 0 {
		return own // read for this item alone: not shared
	}
	out := maps.Clone(defs)
	maps.Copy(out, own)
	return out
}

// union returns the tags of defs then those of own not already there.
func union(defs, own []string) []string {
	if len(defs) == 0 {
		return own
	}
	out := slices.Clone(defs)
	for _, t := range own {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// baseName is a suite's default name: the file's base name without its
// extension, "stdin" for standard input.
func baseName(file string) string {
	if file == "-" || file == "stdin" {
		return "stdin"
	}
	base := filepath.Base(file)
	return strings.TrimSuffix(base, filepath.Ext(base))
}
