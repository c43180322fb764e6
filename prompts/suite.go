package prompts

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Format is the syntax of a suite file.
type Format int

const (
	// YAML is a suite with a header and a prompts list, read whole.
	YAML Format = iota + 1
	// JSONL is one item per line, read as a stream.
	JSONL
)

// String returns "YAML" or "JSONL".
func (f Format) String() string {
	switch f {
	case YAML:
		return "YAML"
	case JSONL:
		return "JSONL"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// FormatOf returns the format Open reads path in, by its extension (in any
// case): YAML for .yaml and .yml, JSONL for .jsonl and .ndjson, and JSONL
// for "-", standard input. Any other path is an error that says which
// extensions there are.
func FormatOf(path string) (Format, error) {
	if path == "-" {
		return JSONL, nil
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return YAML, nil
	case ".jsonl", ".ndjson":
		return JSONL, nil
	}
	return 0, fmt.Errorf("%s: unknown suite format; name a suite .yaml or .yml (a YAML suite) or .jsonl or .ndjson (one JSON item per line), or pass - for JSONL on standard input", path)
}

// maxYAML is the largest YAML suite read, in bytes; larger suites belong in
// JSONL, which is read as a stream.
const maxYAML = 256 << 20

// errClosed is returned by Next after Close.
var errClosed = errors.New("suite is closed")

// Suite reads the items of one suite file in file order. A Suite is for
// one goroutine.
type Suite struct {
	name   string
	file   string
	closer io.Closer // the file Open opened, for JSONL
	closed bool

	yaml *yamlDoc // a YAML suite, read whole
	pos  int      // index of the next YAML item

	jsonl *jsonlSource
}

// Open opens the suite at path, choosing the format with FormatOf; "-"
// reads JSONL from standard input.
//
// The error is a plain error when the file cannot be read as a suite at
// all: it does not exist, is a directory, has an unknown extension, or
// cannot be read. It is Problems when a YAML suite has problems beyond its
// items: invalid YAML, a header field that is wrong, a named context or a
// defaults context that cannot be read, no prompts list. Then every problem
// of the file is listed, the items' included. Problems of single items
// come from Next, in both formats.
func Open(path string) (*Suite, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	if path == "-" {
		return OpenReader(path, os.Stdin, JSONL)
	}
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	s, err := OpenReader(path, f, format)
	if err != nil || format == YAML {
		f.Close()
		return s, err
	}
	s.closer = f
	return s, nil
}

// OpenReader is Open over any reader. name is the suite's path: it is the
// file of every Position, gives the suite's default name, and its folder is
// where context_file paths start. A name of "-" stands for standard input:
// positions then say "stdin" and context files are relative to the working
// directory. A YAML suite is read whole here; a JSONL suite is read as Next
// is called. OpenReader does not close r.
func OpenReader(name string, r io.Reader, format Format) (*Suite, error) {
	rd := &reader{}
	file := name
	if name == "-" {
		file, rd.stdin = "stdin", true
	} else {
		rd.dir = filepath.Dir(name)
	}
	s := &Suite{file: file, name: baseName(name)}
	switch format {
	case YAML:
		doc, err := readYAML(file, r, rd)
		if err != nil {
			return nil, err
		}
		if len(doc.fatal) > 0 {
			return nil, doc.all()
		}
		s.yaml, s.name = doc, doc.name
	case JSONL:
		rd.jsonl = true
		s.jsonl = newJSONLSource(file, s.name, r, rd)
	default:
		return nil, fmt.Errorf("open suite %s: unknown format %v", file, format)
	}
	return s, nil
}

// IDsChecked tells the suite that its ids are known to be unique (Validate
// found no duplicate): Next then stops keeping the ids it has read, so a
// JSONL suite of any length is read in constant memory. Call it before the
// first Next.
func (s *Suite) IDsChecked() {
	if s.jsonl != nil {
		s.jsonl.seen = nil
	}
}

// openFile opens a suite file that exists and is not a directory.
func openFile(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open suite: %w", err)
	}
	if info, err := f.Stat(); err != nil {
		f.Close()
		return nil, fmt.Errorf("open suite: %w", err)
	} else if info.IsDir() {
		f.Close()
		return nil, fmt.Errorf("open suite: %s is a directory; name a suite file", path)
	}
	return f, nil
}

// readYAML reads a YAML suite whole from r and loads it. The error is a
// read error, or Problems for a file too large.
func readYAML(file string, r io.Reader, rd *reader) (*yamlDoc, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxYAML+1))
	if err != nil {
		return nil, fmt.Errorf("read suite %s: %w", file, err)
	}
	if len(data) > maxYAML {
		return nil, Problems{{Pos: Position{File: file}, Msg: fmt.Sprintf("the file is larger than %d MiB; write a suite this large as JSONL, which is read as a stream", maxYAML>>20)}}
	}
	return loadYAML(file, data, rd), nil
}

// Name returns the suite's name: the YAML header's name, else the file's
// base name without its extension, "stdin" for standard input.
func (s *Suite) Name() string { return s.name }

// Model returns the YAML header's model: the suite's default, used when the
// run names none. "" for JSONL and for suites without one.
func (s *Suite) Model() string {
	if s.yaml != nil {
		return s.yaml.model
	}
	return ""
}

// File returns the suite's path as given to Open ("stdin" for -): the file
// of every Position in it.
func (s *Suite) File() string { return s.file }

// Next returns the next item, in file order, with everything resolved. At
// the end it returns io.EOF.
//
// When the item is invalid, the error is Problems, every problem of that
// item in file order, and the returned Item still carries the item's
// Index, Pos, Suite and ID (its own when it could be read, else its
// position); the next call goes on with the next item. An empty JSONL
// suite yields one Problems error before io.EOF. Duplicate ids are found
// as items come: the later item is the invalid one. Any other error (a read
// error of a JSONL stream) is final: Next returns it again.
func (s *Suite) Next() (Item, error) {
	if s.closed {
		return Item{}, fmt.Errorf("%s: %w", s.file, errClosed)
	}
	if s.jsonl != nil {
		return s.jsonl.next()
	}
	if s.pos >= len(s.yaml.entries) {
		return Item{}, io.EOF
	}
	e := s.yaml.entries[s.pos]
	s.pos++
	if len(e.ps) > 0 {
		return e.item, e.ps
	}
	return e.item, nil
}

// Close releases the file Open opened. Next fails after Close.
func (s *Suite) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}
