package report

import (
	"bufio"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"strconv"
)

// Source is one report to merge: a name for messages and its lines.
type Source struct {
	// Name names the report in messages ("shard-2.jsonl:17: …"); when
	// empty, the report is called by its position ("report 3").
	Name string
	// R is the report's JSONL.
	R io.Reader
}

// Merge joins shard reports into one, written to w in Index order: a
// k-way merge of the sources, each of which must already be in Index
// order (as every report is). Each line is copied byte for byte as read —
// records are not decoded and encoded again, so nothing is lost — with
// "\n" line endings; blank lines and byte-order marks are left out.
//
// Each source is read as a stream, holding one line at a time. To find
// the same item (suite, id, model, repeat) twice, within or across
// sources, Merge also keeps 16 bytes per line (a 64-bit hash of the key
// and where it was), some 50 MB per million lines with the map's overhead.
//
// A source out of Index order, a line that is not a report record, an item
// found twice and two items with the same Index are errors naming the
// files and lines; the output is then incomplete.
func Merge(w io.Writer, srcs ...Source) error {
	if len(srcs) > 1<<16 {
		return fmt.Errorf("report: cannot merge more than %d reports at once", 1<<16)
	}
	m := &merger{srcs: srcs, seen: map[uint64]uint64{}, seed: maphash.MakeSeed()}
	for i, s := range srcs {
		m.readers = append(m.readers, newLineReader(s.Name, s.R))
		h, err := m.next(i, -1)
		if err != nil {
			return err
		}
		if h != nil {
			m.heads = append(m.heads, h)
		}
	}
	heap.Init(&m.heads)
	out := bufio.NewWriterSize(w, 64<<10)
	var last *mergeLine // the line written last, without its bytes
	for len(m.heads) > 0 {
		h := m.heads[0]
		if err := m.check(h, last); err != nil {
			return err
		}
		if _, err := out.Write(h.raw); err != nil {
			return fmt.Errorf("report: writing the merged report: %w", err)
		}
		if err := out.WriteByte('\n'); err != nil {
			return fmt.Errorf("report: writing the merged report: %w", err)
		}
		last = &mergeLine{src: h.src, line: h.line, index: h.index, key: h.key}
		nh, err := m.next(h.src, h.index)
		if err != nil {
			return err
		}
		if nh == nil {
			heap.Pop(&m.heads)
		} else {
			m.heads[0] = nh
			heap.Fix(&m.heads, 0)
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("report: writing the merged report: %w", err)
	}
	return nil
}

// MergeFiles merges the reports at paths as Merge does.
func MergeFiles(w io.Writer, paths ...string) error {
	srcs := make([]Source, len(paths))
	for i, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			for _, s := range srcs[:i] {
				s.R.(*os.File).Close()
			}
			return fmt.Errorf("report: %w", err)
		}
		srcs[i] = Source{Name: p, R: f}
	}
	defer func() {
		for _, s := range srcs {
			s.R.(*os.File).Close()
		}
	}()
	return Merge(w, srcs...)
}

// mergeLine is the line a source is at.
type mergeLine struct {
	src   int
	line  int
	index int
	key   Key
	raw   []byte // valid until the source's next line is read
}

type merger struct {
	srcs    []Source
	readers []*lineReader
	heads   mergeHeap
	seen    map[uint64]uint64 // key hash → source<<48 | line
	seed    maphash.Seed
}

// mergeFields are the fields Merge reads of a line.
type mergeFields struct {
	Index  *int   `json:"index"`
	ID     string `json:"id"`
	Suite  string `json:"suite"`
	Model  string `json:"model"`
	Repeat int    `json:"repeat"`
	Status string `json:"status"`
}

// next reads the next record line of source i, which must not have an
// Index below prev; nil at the end of the source.
func (m *merger) next(i, prev int) (*mergeLine, error) {
	lr := m.readers[i]
	for {
		raw, err := lr.next()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if isBlank(raw) {
			continue
		}
		var f mergeFields
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, lr.lineError(fmt.Errorf("not a report line: %w", err))
		}
		if f.ID == "" || f.Status == "" {
			return nil, lr.lineError(errors.New(`not a report line: it has no "id" or no "status"`))
		}
		if f.Index == nil {
			return nil, lr.lineError(errors.New(`the line has no "index" (was the report written by an older tracebatch?)`))
		}
		if *f.Index < prev {
			return nil, lr.lineError(fmt.Errorf("not in index order: index %d comes after index %d; merge takes reports as tracebatch wrote them", *f.Index, prev))
		}
		return &mergeLine{src: i, line: lr.line, index: *f.Index, key: Key{Suite: f.Suite, ID: f.ID, Model: f.Model, Repeat: f.Repeat}, raw: raw}, nil
	}
}

// check refuses a line whose item was seen before, or whose Index the
// line written before it (last) has too.
func (m *merger) check(h, last *mergeLine) error {
	var hh maphash.Hash
	hh.SetSeed(m.seed)
	for _, s := range []string{h.key.Suite, h.key.ID, h.key.Model, strconv.Itoa(h.key.Repeat)} {
		hh.WriteString(strconv.Itoa(len(s)))
		hh.WriteByte(':')
		hh.WriteString(s)
	}
	sum := hh.Sum64()
	if loc, dup := m.seen[sum]; dup {
		return fmt.Errorf("report: %s is in the reports twice: %s and %s", h.key, m.where(int(loc>>48), int(loc&(1<<48-1))), m.where(h.src, h.line))
	}
	m.seen[sum] = uint64(h.src)<<48 | uint64(h.line)
	if last != nil && last.index == h.index {
		return fmt.Errorf("report: index %d is on %s (%s) and on %s (%s): are these shards of the same run?",
			h.index, m.where(last.src, last.line), last.key, m.where(h.src, h.line), h.key)
	}
	return nil
}

// where names a line: "file:line".
func (m *merger) where(src, line int) string {
	name := m.srcs[src].Name
	if name == "" {
		name = "report " + strconv.Itoa(src+1)
	}
	return name + ":" + strconv.Itoa(line)
}

// mergeHeap orders the sources' current lines by Index, then by source.
type mergeHeap []*mergeLine

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	if h[i].index != h[j].index {
		return h[i].index < h[j].index
	}
	return h[i].src < h[j].src
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(*mergeLine)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
