package prompts

import (
	"fmt"
	"slices"
)

// kind is the type of a parsed value.
type kind uint8

const (
	nullKind kind = iota
	boolKind
	numberKind
	stringKind
	listKind
	mapKind
)

// node is a value read from a suite in either format, with the position
// where it starts. Both readers build nodes, so that the fields of an item
// are checked by one piece of code.
type node struct {
	kind      kind
	line, col int
	str       string // stringKind
	num       any    // numberKind: int64 or float64
	b         bool   // boolKind
	list      []*node
	fields    []field // mapKind, in file order, without duplicate keys
}

// field is one key of a mapping and its value.
type field struct {
	key       string
	line, col int // of the key
	val       *node
}

// get returns the value of key in a mapping node, or nil.
func (n *node) get(key string) *field {
	for i := range n.fields {
		if n.fields[i].key == key {
			return &n.fields[i]
		}
	}
	return nil
}

// describe names a kind for a message, in the vocabulary of the format.
func describe(k kind, jsonl bool) string {
	switch k {
	case nullKind:
		return "null"
	case boolKind:
		return "true/false"
	case numberKind:
		return "a number"
	case stringKind:
		return "text"
	case listKind:
		if jsonl {
			return "an array"
		}
		return "a list"
	}
	if jsonl {
		return "an object"
	}
	return "a mapping"
}

// value converts a node to plain Go values: nil, bool, int64, float64,
// string, []any and map[string]any.
func (n *node) value() any {
	switch n.kind {
	case boolKind:
		return n.b
	case numberKind:
		return n.num
	case stringKind:
		return n.str
	case listKind:
		out := make([]any, len(n.list))
		for i, e := range n.list {
			out[i] = e.value()
		}
		return out
	case mapKind:
		out := make(map[string]any, len(n.fields))
		for _, f := range n.fields {
			out[f.key] = f.val.value()
		}
		return out
	}
	return nil
}

// collector gathers the problems of one file.
type collector struct {
	file string
	ps   Problems
}

// add records a problem at line and col of the file.
func (c *collector) add(line, col int, format string, args ...any) {
	c.ps = append(c.ps, &Problem{Pos: Position{File: c.file, Line: line, Col: col}, Msg: fmt.Sprintf(format, args...)})
}

// at records a problem at a node.
func (c *collector) at(n *node, format string, args ...any) {
	c.add(n.line, n.col, format, args...)
}

// atKey records a problem at a field's key.
func (c *collector) atKey(f *field, format string, args ...any) {
	c.add(f.line, f.col, format, args...)
}

// dedupe drops the repeats of a problem at the same place with the same
// message, which YAML aliases and merge keys produce: every item that uses
// an anchored value meets that value's problems. The first of each is kept.
func dedupe(ps Problems) Problems {
	seen := make(map[Problem]bool, len(ps))
	return slices.DeleteFunc(ps, func(p *Problem) bool {
		if seen[*p] {
			return true
		}
		seen[*p] = true
		return false
	})
}

// sortProblems puts problems in file order: whole-file problems first, then
// by line and column, keeping the order of problems at the same place.
func sortProblems(ps Problems) {
	slices.SortStableFunc(ps, func(a, b *Problem) int {
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line - b.Pos.Line
		}
		return a.Pos.Col - b.Pos.Col
	})
}
