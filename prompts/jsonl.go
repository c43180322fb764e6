package prompts

import (
	"fmt"
	"hash/maphash"
	"io"
	"unicode/utf8"
)

// jsonlSource reads the items of a JSONL suite, one line at a time.
type jsonlSource struct {
	file  string
	suite string
	lines *lineReader
	r     *reader
	items int // items read so far

	// seen maps the hash of every id read to the line of its item, to
	// report duplicates as they come. It is nil when the caller finds
	// duplicates another way (Validate), and then ids, when set, is called
	// with each id's hash and line instead.
	seen map[uint64]int
	ids  func(hash uint64)
	seed maphash.Seed

	reportedEmpty bool
	scratch       jsonScratch
}

func newJSONLSource(file, suite string, in io.Reader, r *reader) *jsonlSource {
	return &jsonlSource{
		file:  file,
		suite: suite,
		lines: newLineReader(in),
		r:     r,
		seen:  make(map[uint64]int),
		seed:  maphash.MakeSeed(),
	}
}

// next returns the next item. Its error is Problems when the item is
// invalid, io.EOF at the end, or a read error.
func (s *jsonlSource) next() (Item, error) {
	for {
		line, tooLong, err := s.lines.next()
		if err == io.EOF {
			if s.items == 0 && !s.reportedEmpty {
				s.reportedEmpty = true
				return Item{}, Problems{{Pos: Position{File: s.file}, Msg: "the suite is empty; a JSONL suite has one item per line, like {\"prompt\": \"What are magic links?\"}"}}
			}
			return Item{}, io.EOF
		}
		if err != nil {
			return Item{}, fmt.Errorf("read %s: %w", s.file, err)
		}
		if !tooLong && blank(line) {
			continue
		}
		s.items++
		return s.item(line, tooLong)
	}
}

// item reads the item on the current line.
func (s *jsonlSource) item(line []byte, tooLong bool) (Item, error) {
	num := s.lines.line
	index := s.items - 1
	it := Item{Index: index, Pos: Position{File: s.file, Line: num}, Suite: s.suite, ID: fmt.Sprintf("#%d", index+1)}
	c := &collector{file: s.file}
	d, ok := s.parse(line, tooLong, num, c)
	if ok {
		s.r.finish(d, &it, c)
		if id, ok := itemID(d, index); ok {
			h := maphash.String(s.seed, id)
			switch {
			case s.seen != nil:
				if first, dup := s.seen[h]; dup {
					s.duplicate(c, d, num, id, first)
				} else {
					s.seen[h] = num
				}
			case s.ids != nil:
				s.ids(h)
			}
		}
	}
	if len(c.ps) > 0 {
		sortProblems(c.ps)
		return it, c.ps
	}
	return it, nil
}

// parse reads the line numbered num into a draft. ok is false when the
// line holds no item to speak of (not JSON, not an object, too long).
func (s *jsonlSource) parse(line []byte, tooLong bool, num int, c *collector) (d *draft, ok bool) {
	if tooLong {
		c.add(num, 0, "line is longer than %s; shorten the item, or move its context to a context_file", byteSize(maxLine))
		return nil, false
	}
	if !utf8.Valid(line) {
		i := invalidUTF8At(line)
		c.add(num, i+1, "invalid UTF-8 (byte 0x%02X); save the file as UTF-8", line[i])
		return nil, false
	}
	n, col, msg := parseJSONLine(line, num, c, &s.scratch)
	if n == nil {
		c.add(num, col, "%s", msg)
		return nil, false
	}
	if n.kind != mapKind {
		c.at(n, "line is %s, not an object; write each item as one object like {\"prompt\": \"What are magic links?\"}", describe(n.kind, true))
		return nil, false
	}
	return s.r.readDraft(n, itemFields, "item", c), true
}

// byteSize writes a size for a message: "256 MiB", or bytes when smaller
// than a MiB.
func byteSize(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// duplicate reports the item on line num, whose id was first used on line
// first.
func (s *jsonlSource) duplicate(c *collector, d *draft, num int, id string, first int) {
	col := 0
	if d.idNode != nil {
		col = d.idNode.col
	}
	c.add(num, col, "duplicate id %s (first used on line %d); give each item its own id", quote(id), first)
}
