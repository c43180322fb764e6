package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// MaxLine is the longest report line Read and Merge accept, in bytes. A
// line holds one answer and its checks, never a context, so this is far
// more than a real record needs.
const MaxLine = 256 << 20

// keepBuffer is the largest line buffer kept between lines: a buffer grown
// for one long line is dropped after it, so the rest of the file does not
// hold its memory.
const keepBuffer = 1 << 20

// ErrTruncated is wrapped by the LineError of a last line that has no line
// ending and does not parse: a run was cut off while writing it. A resume
// can drop the line (truncate the file at LineError.Offset) and go on.
var ErrTruncated = errors.New("the last line is incomplete (the run was cut off while writing it)")

// LineError is a problem with one line of a report. Its message is
// "file:line: problem", or "line N: problem" for an unnamed stream.
type LineError struct {
	// File names the report; empty for a stream read with Read.
	File string
	// Line is the line's number, from 1.
	Line int
	// Offset is the byte offset of the line's start in the stream.
	Offset int64
	// Err is the problem.
	Err error
}

// Error writes "file:line: problem", or "line N: problem".
func (e *LineError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

// Unwrap returns the problem, so errors.Is finds ErrTruncated.
func (e *LineError) Unwrap() error { return e.Err }

// Read parses a JSONL report from r and calls fn with each record, in file
// order. Each call gets a new *Record that fn may keep. Only one line is in
// memory at a time, however long (up to MaxLine). Blank lines, CRLF line
// endings and byte-order marks at the start of a line are accepted.
//
// A line that is not a JSON object with an "id" and a "status" stops the
// read with a *LineError naming its line number ("line 17: not a report
// line: …"); an unfinished last line wraps ErrTruncated. An error returned
// by fn stops the read and is returned unchanged.
func Read(r io.Reader, fn func(*Record) error) error {
	return readRecords("", r, func(rec *Record, _ int) error { return fn(rec) })
}

// ReadFile reads the report at path as Read does; errors name the file
// ("report.jsonl:17: not a report line: …").
func ReadFile(path string, fn func(*Record) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	return readRecords(path, f, func(rec *Record, _ int) error { return fn(rec) })
}

// readRecords reads as Read does, and also tells fn each record's line.
func readRecords(name string, r io.Reader, fn func(rec *Record, line int) error) error {
	lr := newLineReader(name, r)
	for {
		line, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if isBlank(line) {
			continue
		}
		rec := new(Record)
		if err := parseRecord(line, rec); err != nil {
			return lr.lineError(err)
		}
		if err := fn(rec, lr.line); err != nil {
			return err
		}
	}
}

// parseRecord decodes one line, which must be a report record.
func parseRecord(line []byte, rec *Record) error {
	if err := json.Unmarshal(line, rec); err != nil {
		return fmt.Errorf("not a report line: %w", err)
	}
	if rec.ID == "" || rec.Status == "" {
		return errors.New(`not a report line: it has no "id" or no "status"`)
	}
	return nil
}

// lineReader reads a stream line by line with only the current line in
// memory, keeping count of line numbers and offsets for messages.
type lineReader struct {
	name   string
	r      *bufio.Reader
	buf    []byte
	line   int   // number of the line last returned
	offset int64 // offset of the line last returned
	next0  int64 // offset of the next line
	ended  bool  // the line last returned had no line ending
	err    error
}

func newLineReader(name string, r io.Reader) *lineReader {
	return &lineReader{name: name, r: bufio.NewReaderSize(r, 64<<10)}
}

var bom = []byte("\xef\xbb\xbf")

// next returns the next line without its line ending and without a
// byte-order mark at its start. The slice is valid until the next call. At
// the end of the stream it returns io.EOF; a read error or a line longer
// than MaxLine is returned then and on every later call.
func (lr *lineReader) next() ([]byte, error) {
	if lr.err != nil {
		return nil, lr.err
	}
	if cap(lr.buf) > keepBuffer {
		lr.buf = nil
	}
	lr.buf = lr.buf[:0]
	var line []byte
	n := 0
	for {
		chunk, err := lr.r.ReadSlice('\n')
		if n == 0 && err == nil {
			line = chunk // the whole line is in the reader's buffer
			n = len(chunk)
			break
		}
		n += len(chunk)
		if n > MaxLine+2 { // +2: the line ending is not part of the line
			lr.line++
			lr.offset = lr.next0
			lr.err = lr.lineError(fmt.Errorf("line longer than %d MiB", MaxLine>>20))
			return nil, lr.err
		}
		lr.buf = append(lr.buf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			lr.err = fmt.Errorf("report: reading %s: %w", lr.displayName(), err)
			return nil, lr.err
		}
		if n == 0 {
			lr.err = io.EOF
			return nil, io.EOF
		}
		line = lr.buf
		break
	}
	lr.line++
	lr.offset = lr.next0
	lr.next0 += int64(n)
	lr.ended = !bytes.HasSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	line = bytes.TrimPrefix(line, bom)
	return line, nil
}

// lineError wraps err with the position of the line last returned; a bad
// line at the very end without a line ending is reported as truncated.
func (lr *lineReader) lineError(err error) *LineError {
	if lr.ended && lr.err == nil {
		if _, perr := lr.r.Peek(1); perr == io.EOF {
			err = fmt.Errorf("%w: %w", ErrTruncated, err)
		}
	}
	return &LineError{File: lr.name, Line: lr.line, Offset: lr.offset, Err: err}
}

func (lr *lineReader) displayName() string {
	if lr.name == "" {
		return "report"
	}
	return lr.name
}

// isBlank reports whether a line holds only white space.
func isBlank(line []byte) bool {
	return len(bytes.TrimSpace(line)) == 0
}
