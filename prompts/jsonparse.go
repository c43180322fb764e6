package prompts

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// maxJSONDepth is how deeply arrays and objects may nest in a line; it is
// encoding/json's limit, so both parsers agree on what is valid.
const maxJSONDepth = 10000

// jsonParser parses one line of JSON into nodes that know their byte column.
// encoding/json keeps no positions, hence this parser; it accepts exactly
// what encoding/json accepts (checked by FuzzJSONValue) and leaves the
// wording of syntax errors to encoding/json.
type jsonParser struct {
	data  []byte
	pos   int
	line  int
	depth int
	c     *collector // duplicate keys and out-of-range numbers
	*jsonScratch
}

// jsonScratch is memory a parser reuses from line to line: stacks on which
// the fields and elements of open objects and arrays are gathered before
// they are copied out at their exact size.
type jsonScratch struct {
	fields []field
	elems  []*node
	nodes  []node // nodes are handed out from this chunk
}

// newNode returns a node for the value at the current position. Nodes are
// allocated in chunks, none of which is ever handed out twice.
func (p *jsonParser) newNode() *node {
	if len(p.nodes) == 0 {
		// Nodes come in slabs; an item line needs about a dozen.
		p.nodes = make([]node, 16)
	}
	n := &p.nodes[0]
	p.nodes = p.nodes[1:]
	n.line, n.col = p.line, p.pos+1
	return n
}

// errJSONSyntax marks a syntax error; syntaxProblem words it.
var errJSONSyntax = errors.New("invalid JSON")

// parseJSONLine parses data, one line of the file numbered line, as a
// single JSON value. Problems that do not stop parsing (duplicate keys,
// numbers out of range) go to c. On a syntax error it returns the column and
// message of a problem instead.
//
// scratch, which may be nil, is memory to reuse from an earlier call.
func parseJSONLine(data []byte, line int, c *collector, scratch *jsonScratch) (n *node, col int, msg string) {
	if scratch == nil {
		scratch = new(jsonScratch)
	}
	// Keep no more than a few thousand entries' worth after a large line.
	if cap(scratch.fields) > 4096 {
		scratch.fields = nil
	}
	if cap(scratch.elems) > 4096 {
		scratch.elems = nil
	}
	p := jsonParser{data: data, line: line, c: c, jsonScratch: scratch}
	n, err := p.value()
	if err == nil {
		p.skipSpace()
		if p.pos < len(p.data) {
			err = errJSONSyntax
		}
	}
	if err != nil {
		col, msg := syntaxProblem(data, p.pos)
		return nil, col, msg
	}
	return n, 0, ""
}

// syntaxProblem describes the syntax error in data with encoding/json's
// words and column. at is where this parser stopped, used only if
// encoding/json should disagree.
func syntaxProblem(data []byte, at int) (int, string) {
	var v any
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return max(int(se.Offset), 1), "line is not valid JSON: " + se.Error()
	}
	return at + 1, "line is not valid JSON"
}

func (p *jsonParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) value() (*node, error) {
	p.skipSpace()
	if p.pos >= len(p.data) {
		return nil, errJSONSyntax
	}
	n := p.newNode()
	switch c := p.data[p.pos]; {
	case c == '{':
		return n, p.object(n)
	case c == '[':
		return n, p.array(n)
	case c == '"':
		s, err := p.string()
		n.kind, n.str = stringKind, s
		return n, err
	case c == 't':
		n.kind, n.b = boolKind, true
		return n, p.literal("true")
	case c == 'f':
		n.kind = boolKind
		return n, p.literal("false")
	case c == 'n':
		return n, p.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return n, p.number(n)
	}
	return nil, errJSONSyntax
}

func (p *jsonParser) literal(word string) error {
	if len(p.data)-p.pos < len(word) || string(p.data[p.pos:p.pos+len(word)]) != word {
		return errJSONSyntax
	}
	p.pos += len(word)
	return nil
}

func (p *jsonParser) enter() error {
	p.depth++
	if p.depth > maxJSONDepth {
		return errJSONSyntax
	}
	return nil
}

func (p *jsonParser) object(n *node) error {
	n.kind = mapKind
	if err := p.enter(); err != nil {
		return err
	}
	p.pos++ // {
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		p.depth--
		return nil
	}
	base := len(p.fields)
	defer func() { p.fields = p.fields[:base] }()
	var seen map[string]int // key → index in p.fields, for large objects
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return errJSONSyntax
		}
		f := field{line: p.line, col: p.pos + 1}
		key, err := p.string()
		if err != nil {
			return err
		}
		f.key = key
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return errJSONSyntax
		}
		p.pos++
		if f.val, err = p.value(); err != nil {
			return err
		}
		open := p.fields[base:]
		first := -1
		if seen == nil && len(open) < 32 {
			for i := range open {
				if open[i].key == key {
					first = i
					break
				}
			}
		} else {
			if seen == nil {
				seen = make(map[string]int, 2*len(open))
				for i, g := range open {
					seen[g.key] = i
				}
			}
			if i, ok := seen[key]; ok {
				first = i
			}
		}
		if first >= 0 {
			p.c.add(f.line, f.col, "duplicate key %s (first at column %d); remove one of them", quote(key), open[first].col)
		} else {
			if seen != nil {
				seen[key] = len(open)
			}
			p.fields = append(p.fields, f)
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return errJSONSyntax
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			p.depth--
			n.fields = slices.Clone(p.fields[base:])
			return nil
		default:
			return errJSONSyntax
		}
	}
}

func (p *jsonParser) array(n *node) error {
	n.kind = listKind
	if err := p.enter(); err != nil {
		return err
	}
	p.pos++ // [
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		p.depth--
		return nil
	}
	base := len(p.elems)
	defer func() { p.elems = p.elems[:base] }()
	for {
		e, err := p.value()
		if err != nil {
			return err
		}
		p.elems = append(p.elems, e)
		p.skipSpace()
		if p.pos >= len(p.data) {
			return errJSONSyntax
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			p.depth--
			n.list = slices.Clone(p.elems[base:])
			return nil
		default:
			return errJSONSyntax
		}
	}
}

// string reads a string token and returns its text, escapes decoded.
func (p *jsonParser) string() (string, error) {
	start := p.pos + 1
	p.pos++
	escaped := false
	for p.pos < len(p.data) {
		// Skip a run of ordinary bytes at once, eight at a time while no
		// byte of the word needs a look: most of a prompt is one run.
		for p.pos+8 <= len(p.data) && plainWord(binary.LittleEndian.Uint64(p.data[p.pos:])) {
			p.pos += 8
		}
		for p.pos < len(p.data) && plainByte[p.data[p.pos]] {
			p.pos++
		}
		if p.pos >= len(p.data) {
			break
		}
		c := p.data[p.pos]
		switch {
		case c == '"':
			raw := p.data[start:p.pos]
			p.pos++
			if !escaped {
				return string(raw), nil
			}
			return unescape(raw), nil
		case c == '\\':
			escaped = true
			if p.pos+1 >= len(p.data) {
				return "", errJSONSyntax
			}
			switch p.data[p.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.pos += 2
			case 'u':
				if hex4(p.data[p.pos+2:]) < 0 {
					return "", errJSONSyntax
				}
				p.pos += 6
			default:
				return "", errJSONSyntax
			}
		default: // c < 0x20
			return "", errJSONSyntax
		}
	}
	return "", errJSONSyntax
}

// plainWord reports whether none of the eight bytes of x is a control
// character, a quote or a backslash (the bit tricks of "Bit Twiddling
// Hacks": a byte below n, a zero byte).
func plainWord(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	below := (x - 0x20*ones) & ^x & highs
	quote := x ^ '"'*ones
	slash := x ^ '\\'*ones
	return below|((quote-ones)&^quote&highs)|((slash-ones)&^slash&highs) == 0
}

// plainByte marks the bytes a JSON string holds as they are: all but
// control characters, the quote and the backslash.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// hex4 decodes the four hex digits at the start of b, or returns -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// unescape decodes the escapes of a string token's content, already checked
// by string, the way encoding/json does: a \u escape of a lone surrogate
// becomes U+FFFD, and so does invalid UTF-8.
func unescape(raw []byte) string {
	b := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			if c < utf8.RuneSelf {
				b = append(b, c)
				i++
				continue
			}
			r, size := utf8.DecodeRune(raw[i:])
			b = utf8.AppendRune(b, r)
			i += size
			continue
		}
		switch raw[i+1] {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := hex4(raw[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+1 < len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if dec := utf16.DecodeRune(r, hex4(raw[i+2:])); dec != unicode.ReplacementChar {
						b = utf8.AppendRune(b, dec)
						i += 6
						continue
					}
				}
				r = unicode.ReplacementChar
			}
			b = utf8.AppendRune(b, r)
			continue
		default: // '"', '\\', '/'
			b = append(b, raw[i+1])
		}
		i += 2
	}
	return string(b)
}

// number reads a number token into n: an int64 when it is a whole number
// that fits, else a float64.
func (p *jsonParser) number(n *node) error {
	start := p.pos
	d := p.data
	if d[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(d) && d[p.pos] == '0':
		p.pos++
	case p.pos < len(d) && '1' <= d[p.pos] && d[p.pos] <= '9':
		p.digits()
	default:
		return errJSONSyntax
	}
	integer := true
	if p.pos < len(d) && d[p.pos] == '.' {
		integer = false
		p.pos++
		if p.digits() == 0 {
			return errJSONSyntax
		}
	}
	if p.pos < len(d) && (d[p.pos] == 'e' || d[p.pos] == 'E') {
		integer = false
		p.pos++
		if p.pos < len(d) && (d[p.pos] == '+' || d[p.pos] == '-') {
			p.pos++
		}
		if p.digits() == 0 {
			return errJSONSyntax
		}
	}
	text := string(d[start:p.pos])
	n.kind = numberKind
	if integer {
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			n.num = i
			return nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		p.c.add(n.line, n.col, "number %s is too large", quote(text))
		f = 0
	}
	n.num = f
	return nil
}

// digits skips a run of decimal digits and returns how many there were.
func (p *jsonParser) digits() int {
	start := p.pos
	for p.pos < len(p.data) && '0' <= p.data[p.pos] && p.data[p.pos] <= '9' {
		p.pos++
	}
	return p.pos - start
}
