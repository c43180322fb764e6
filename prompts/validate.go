package prompts

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"unicode/utf8"
)

// MaxProblems is how many problems Validate lists. Past it, Validate counts
// the others and ends the list with one problem that says how many more
// there are, so that a file that is wrong on every one of its million lines
// does not fill memory with messages.
const MaxProblems = 1000

// Validate reads the whole suite at path ("-" for JSONL on standard input)
// and returns the number of items in it, valid or not, and every problem
// in it, in file order (nil when the suite is clean; see MaxProblems).
//
// err is for a file that cannot be read as a suite at all, as for Open:
// it does not exist ("open suite: open x.yaml: no such file or directory"),
// is a directory, has an unknown extension, or a read fails. Everything
// wrong with the contents is a Problem.
//
// A JSONL file is read twice when some ids may repeat: once to check every
// item and keep an 8-byte hash of each id, and again to find the lines of
// the ids whose hashes repeat. Memory grows by those 8 bytes per item, not
// with the size of the items. Standard input, which cannot be read twice,
// keeps a map of hashes instead, as Next does.
func Validate(path string) (n int, ps Problems, err error) {
	return ValidateEach(path, nil)
}

// ValidateEach is Validate, and calls each, when it is not nil, with every
// valid item as it goes, so that a caller can check the items further in
// the same pass (the audit preflight does).
func ValidateEach(path string, each func(Item)) (n int, ps Problems, err error) {
	format, err := FormatOf(path)
	if err != nil {
		return 0, nil, err
	}
	if path == "-" {
		s, err := OpenReader(path, os.Stdin, JSONL)
		if err != nil {
			return 0, nil, err
		}
		return validateSuite(s, each)
	}
	f, err := openFile(path)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	rd := &reader{dir: filepath.Dir(path)}
	if format == YAML {
		doc, err := readYAML(path, f, rd)
		var tooLarge Problems
		if errors.As(err, &tooLarge) {
			return 0, tooLarge, nil
		}
		if err != nil {
			return 0, nil, err
		}
		var l limiter
		l.add(doc.all())
		if each != nil && len(doc.fatal) == 0 {
			for _, e := range doc.entries {
				if len(e.ps) == 0 {
					each(e.item)
				}
			}
		}
		return len(doc.entries), l.result(path), nil
	}
	rd.jsonl = true
	return validateJSONL(path, f, rd, each)
}

// validateSuite reads every item of the JSONL suite s with Next.
func validateSuite(s *Suite, each func(Item)) (int, Problems, error) {
	var l limiter
	for {
		it, err := s.Next()
		if err == io.EOF {
			return s.jsonl.items, l.result(s.File()), nil
		}
		var ps Problems
		if !errors.As(err, &ps) && err != nil {
			return s.jsonl.items, nil, err
		}
		if err == nil && each != nil {
			each(it)
		}
		l.add(ps)
	}
}

// validateJSONL validates the JSONL file f at path, finding duplicate ids
// with a second pass.
func validateJSONL(path string, f io.ReadSeeker, rd *reader, each func(Item)) (int, Problems, error) {
	src := newJSONLSource(path, baseName(path), f, rd)
	var hashes []uint64
	src.seen = nil
	src.ids = func(h uint64) { hashes = append(hashes, h) }
	var l limiter
	for {
		it, err := src.next()
		if err == io.EOF {
			break
		}
		var ps Problems
		if !errors.As(err, &ps) && err != nil {
			return src.items, nil, err
		}
		if err == nil && each != nil {
			each(it)
		}
		l.add(ps)
	}
	slices.Sort(hashes)
	repeated := make(map[uint64]bool)
	for i := 1; i < len(hashes); i++ {
		if hashes[i] == hashes[i-1] {
			repeated[hashes[i]] = true
		}
	}
	hashes = nil
	if len(repeated) > 0 {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return src.items, nil, fmt.Errorf("read %s again: %w", path, err)
		}
		if err := src.findDuplicates(f, repeated, &l); err != nil {
			return src.items, nil, err
		}
	}
	return src.items, l.result(path), nil
}

// findDuplicates reads the file again from in and reports each item whose
// id an earlier item has, for the ids whose hashes are in repeated.
func (s *jsonlSource) findDuplicates(in io.Reader, repeated map[uint64]bool, l *limiter) error {
	lines := newLineReader(in)
	first := make(map[string]int)
	discard := &collector{file: s.file}
	items := 0
	for {
		line, tooLong, err := lines.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s again: %w", s.file, err)
		}
		if !tooLong && blank(line) {
			continue
		}
		items++
		if tooLong || !utf8.Valid(line) {
			continue
		}
		discard.ps = discard.ps[:0]
		n, _, _ := parseJSONLine(line, lines.line, discard, &s.scratch)
		if n == nil || n.kind != mapKind {
			continue
		}
		d := s.r.readDraft(n, itemFields, "item", discard)
		id, ok := itemID(d, items-1)
		if !ok || !repeated[maphash.String(s.seed, id)] {
			continue
		}
		if line, dup := first[id]; dup {
			c := &collector{file: s.file}
			s.duplicate(c, d, lines.line, id, line)
			l.add(c.ps)
		} else {
			first[id] = lines.line
		}
	}
}

// limiter keeps the first MaxProblems problems in file order and counts
// the rest.
type limiter struct {
	ps      Problems
	dropped int
}

func (l *limiter) add(ps Problems) {
	l.ps = append(l.ps, ps...)
	if len(l.ps) > 2*MaxProblems {
		l.trim()
	}
}

func (l *limiter) trim() {
	sortProblems(l.ps)
	l.ps = dedupe(l.ps)
	if len(l.ps) > MaxProblems {
		l.dropped += len(l.ps) - MaxProblems
		clear(l.ps[MaxProblems:])
		l.ps = l.ps[:MaxProblems]
	}
}

// result returns the problems kept, in file order, and a last one counting
// those dropped; nil when there are none.
func (l *limiter) result(file string) Problems {
	l.trim()
	if l.dropped > 0 {
		l.ps = append(l.ps, &Problem{Pos: Position{File: file}, Msg: fmt.Sprintf("%d more problems not listed; fix the ones above first", l.dropped)})
	}
	if len(l.ps) == 0 {
		return nil
	}
	return l.ps
}
