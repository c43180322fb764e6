package prompts

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// maxAliasNodes bounds how many values aliases may expand to, so that a
// small file of nested aliases ("billion laughs") cannot exhaust memory.
const maxAliasNodes = 1_000_000

// yamlConv converts yaml.v3 nodes to nodes: it expands aliases and merge
// keys (<<), rejects duplicate keys and unsupported tags, and turns yaml.v3's
// positions into Positions.
type yamlConv struct {
	c      *collector
	pos    *yamlPositions
	active map[*yaml.Node]bool // anchored values being converted, to catch cycles
	// aliased counts the values built through aliases.
	aliased  int
	overflow bool
	// aliasAt is the outermost alias being expanded, where an expansion
	// that grows too large is reported.
	aliasAt *node
}

func (y *yamlConv) convert(n *yaml.Node, viaAlias bool) *node {
	line, col := y.pos.at(n.Line, n.Column)
	out := &node{line: line, col: col}
	if viaAlias {
		y.aliased++
		if y.aliased > maxAliasNodes {
			if !y.overflow {
				y.overflow = true
				y.c.at(y.aliasAt, "aliases expand to more than %d values; write the values out instead", maxAliasNodes)
			}
			return out
		}
	}
	if n.Anchor != "" && n.Kind != yaml.AliasNode {
		y.active[n] = true
		defer delete(y.active, n)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return out
		}
		return y.convert(n.Content[0], viaAlias)
	case yaml.AliasNode:
		if n.Alias == nil {
			y.c.at(out, "alias *%s names no anchor; define &%s before it", n.Value, n.Value)
			return out
		}
		if y.active[n.Alias] {
			y.c.at(out, "alias *%s is inside the value it names; a value cannot contain itself", n.Value)
			return out
		}
		if !viaAlias {
			y.aliasAt = out
		}
		v := y.convert(n.Alias, true)
		cp := *v
		cp.line, cp.col = line, col
		return &cp
	case yaml.ScalarNode:
		y.scalar(n, out)
	case yaml.SequenceNode:
		out.kind = listKind
		out.list = make([]*node, 0, len(n.Content))
		for _, e := range n.Content {
			out.list = append(out.list, y.convert(e, viaAlias))
		}
	case yaml.MappingNode:
		y.mapping(n, out, viaAlias)
	}
	return out
}

// scalar sets out to the value of a scalar by its resolved tag.
func (y *yamlConv) scalar(n *yaml.Node, out *node) {
	switch tag := n.ShortTag(); tag {
	case "!!null":
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			y.c.at(out, "%s is not true or false", quote(n.Value))
			return
		}
		out.kind, out.b = boolKind, b
	case "!!int":
		var v any
		if err := n.Decode(&v); err != nil {
			y.c.at(out, "%s is not a whole number that fits in 64 bits", quote(n.Value))
			return
		}
		out.kind = numberKind
		switch v := v.(type) {
		case int:
			out.num = int64(v)
		case int64:
			out.num = v
		case uint64:
			if v > math.MaxInt64 {
				out.num = float64(v)
			} else {
				out.num = int64(v)
			}
		case float64:
			out.num = v
		default:
			out.kind = nullKind
			y.c.at(out, "%s is not a whole number that fits in 64 bits", quote(n.Value))
		}
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			y.c.at(out, "%s is not a number", quote(n.Value))
			return
		}
		out.kind, out.num = numberKind, f
	case "!!str", "!!timestamp", "!":
		out.kind, out.str = stringKind, n.Value
	case "!!binary":
		y.c.at(out, "binary values (!!binary) are not supported; write text")
	default:
		y.c.at(out, "YAML tag %s is not supported; remove it", quote(tag))
		out.kind, out.str = stringKind, n.Value
	}
}

// mapping sets out to the mapping n, with merge keys applied: a key given in
// the mapping wins over a merged one, and an earlier merged mapping wins
// over a later one.
func (y *yamlConv) mapping(n *yaml.Node, out *node, viaAlias bool) {
	out.kind = mapKind
	idx := newKeyIndex(len(n.Content) / 2)
	var merges []*node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		kline, kcol := y.pos.at(k.Line, k.Column)
		key := k
		if key.Kind == yaml.AliasNode && key.Alias != nil {
			key = key.Alias
		}
		if key.Kind != yaml.ScalarNode {
			y.c.add(kline, kcol, "a key must be text, not %s", describe(y.kindOf(key), false))
			continue
		}
		if key.ShortTag() == "!!merge" {
			merges = append(merges, y.convert(v, viaAlias))
			continue
		}
		if first := idx.find(out.fields, key.Value); first >= 0 {
			f := out.fields[first]
			y.c.add(kline, kcol, "duplicate key %s (first at line %d); remove one of them", quote(key.Value), f.line)
			continue
		}
		idx.add(key.Value, len(out.fields))
		out.fields = append(out.fields, field{key: key.Value, line: kline, col: kcol, val: y.convert(v, viaAlias)})
	}
	for _, m := range merges {
		sources := []*node{m}
		if m.kind == listKind {
			sources = m.list
		}
		for _, s := range sources {
			if s.kind != mapKind {
				y.c.at(s, "<< merges a mapping or a list of mappings, not %s", describe(s.kind, false))
				continue
			}
			for _, f := range s.fields {
				if idx.find(out.fields, f.key) < 0 {
					idx.add(f.key, len(out.fields))
					out.fields = append(out.fields, f)
				}
			}
		}
	}
}

// kindOf is the kind a yaml.v3 node converts to, for messages.
func (y *yamlConv) kindOf(n *yaml.Node) kind {
	switch n.Kind {
	case yaml.SequenceNode:
		return listKind
	case yaml.MappingNode:
		return mapKind
	}
	return stringKind
}

// keyIndex finds keys among a mapping's fields: by scanning while the
// mapping is small, by a map when it is large.
type keyIndex struct{ m map[string]int }

func newKeyIndex(size int) keyIndex {
	if size > 32 {
		return keyIndex{m: make(map[string]int, size)}
	}
	return keyIndex{}
}

func (k keyIndex) find(fields []field, key string) int {
	if k.m != nil {
		if i, ok := k.m[key]; ok {
			return i
		}
		return -1
	}
	return slices.IndexFunc(fields, func(f field) bool { return f.key == key })
}

func (k keyIndex) add(key string, i int) {
	if k.m != nil {
		k.m[key] = i
	}
}

// yamlPositions turns yaml.v3's positions, which count lines at every YAML
// line break (CR, LF, CRLF, NEL, LS, PS) and columns in characters, into
// lines counted at LF and columns counted in bytes, as editors and the
// JSONL reader count them.
type yamlPositions struct {
	src   []byte
	yaml  []int // offset of the start of each YAML line
	lines []int // offset of the start of each LF line
}

func newYAMLPositions(src []byte) *yamlPositions {
	p := &yamlPositions{src: src, yaml: []int{0}, lines: []int{0}}
	for i := 0; i < len(src); {
		switch {
		case src[i] == '\n':
			i++
			p.yaml = append(p.yaml, i)
			p.lines = append(p.lines, i)
		case src[i] == '\r':
			if i+1 < len(src) && src[i+1] == '\n' {
				i += 2
				p.lines = append(p.lines, i)
			} else {
				i++
			}
			p.yaml = append(p.yaml, i)
		case src[i] == 0xC2 && i+1 < len(src) && src[i+1] == 0x85: // NEL
			i += 2
			p.yaml = append(p.yaml, i)
		case src[i] == 0xE2 && i+2 < len(src) && src[i+1] == 0x80 && (src[i+2] == 0xA8 || src[i+2] == 0xA9): // LS, PS
			i += 3
			p.yaml = append(p.yaml, i)
		default:
			i++
		}
	}
	return p
}

// at converts yaml.v3's 1-based line and column to a Position's.
func (p *yamlPositions) at(line, col int) (int, int) {
	if line < 1 {
		return 0, 0
	}
	return p.offsetPos(p.offset(line, col))
}

// offset is the byte offset of yaml.v3's line and column.
func (p *yamlPositions) offset(line, col int) int {
	off := p.yaml[min(line, len(p.yaml))-1]
	for k := 1; k < col && off < len(p.src); k++ {
		_, size := utf8.DecodeRune(p.src[off:])
		off += size
	}
	return off
}

// offsetPos converts a byte offset to a 1-based line and byte column.
func (p *yamlPositions) offsetPos(off int) (int, int) {
	i, found := slices.BinarySearch(p.lines, off)
	if !found {
		i--
	}
	return i + 1, off - p.lines[i] + 1
}

// yamlParserProblems are the messages of yaml.v3's parser (as opposed to its
// scanner); for them yaml.v3 reports the line counted from 0.
var yamlParserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// yamlHints say what usually causes yaml.v3's terse messages.
var yamlHints = map[string]string{
	"found unexpected end of stream":                 "a quoted text or a bracket is not closed",
	"mapping values are not allowed in this context": `put text that holds ": " in quotes`,
	"did not find expected key":                      "check the indentation",
	"did not find expected '-' indicator":            "check the indentation of the list",
	"did not find expected node content":             "a value is missing",
	"could not find expected ':'":                    "a key needs a colon after it, or a text on several lines needs quotes or |",
}

// syntaxProblem turns an error of yaml.v3 into a problem's position and
// message.
func (p *yamlPositions) syntaxProblem(err error) (line, col int, msg string) {
	msg = strings.TrimPrefix(err.Error(), "yaml: ")
	yline := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, text, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				yline, msg = n, text
			}
		}
	}
	if yamlParserProblems[msg] {
		yline++
	}
	if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		name = strings.TrimSuffix(name, "' referenced")
		msg = fmt.Sprintf("alias *%s names no anchor; define &%s before it", name, name)
		if i := strings.Index(string(p.src), "*"+name); i >= 0 {
			line, col = p.offsetPos(i)
			return line, col, msg
		}
	}
	line, _ = p.at(max(yline, 1), 1)
	col = 0
	if hint, ok := yamlHints[msg]; ok {
		msg += "; " + hint
	}
	// Point at a tab in the indentation, the usual cause of these errors.
	if strings.Contains(msg, "tab") || strings.Contains(msg, "cannot start any token") {
		start := p.lines[line-1]
		for i := start; i < len(p.src) && (p.src[i] == ' ' || p.src[i] == '\t'); i++ {
			if p.src[i] == '\t' {
				return line, i - start + 1, "invalid YAML: " + msg + "; indent with spaces, not tabs"
			}
		}
	}
	return line, col, "invalid YAML: " + msg
}

// yamlCharOK reports whether YAML allows the character r in a file.
func yamlCharOK(r rune) bool {
	switch {
	case r == 0x09, r == 0x0A, r == 0x0D:
	case r >= 0x20 && r <= 0x7E:
	case r == 0x85:
	case r >= 0xA0 && r <= 0xD7FF:
	case r >= 0xE000 && r <= 0xFFFD:
	case r >= 0x10000 && r <= 0x10FFFF:
	default:
		return false
	}
	return true
}
