package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// Writer writes records as JSONL, one line per record, flushed as soon as it
// is written: the file is valid JSONL at every moment. It is not safe for
// concurrent use; the runner writes from one goroutine.
type Writer struct {
	w    *bufio.Writer
	f    *os.File // nil for a writer that does not own its file
	path string
	buf  bytes.Buffer
	enc  *json.Encoder
}

// Create opens path for writing, truncating it, with mode 0600: reports hold
// prompts and answers. "-" or "" writes to stdout.
func Create(path string) (*Writer, error) {
	if path == "" || path == "-" {
		return NewWriter(os.Stdout), nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	w := NewWriter(f)
	w.f, w.path = f, path
	return w, nil
}

// Append opens path for adding lines after those already there (resume).
func Append(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	w := NewWriter(f)
	w.f, w.path = f, path
	return w, nil
}

// NewWriter writes to w.
func NewWriter(w io.Writer) *Writer {
	rw := &Writer{w: bufio.NewWriterSize(w, 64<<10), path: "-"}
	rw.enc = json.NewEncoder(&rw.buf)
	rw.enc.SetEscapeHTML(false)
	return rw
}

// Path is the file written, "-" for stdout.
func (w *Writer) Path() string { return w.path }

// Write writes one record as one line and flushes it.
func (w *Writer) Write(r *Record) error {
	if err := w.Buffer(r); err != nil {
		return err
	}
	return w.Flush()
}

// Buffer writes one record without flushing; Flush sends what is buffered.
// The runner buffers the records that become writable together and flushes
// once.
func (w *Writer) Buffer(r *Record) error {
	w.buf.Reset()
	if err := w.enc.Encode(r); err != nil {
		return fmt.Errorf("report: encoding %s: %w", r.ID, err)
	}
	return w.line(w.buf.Bytes())
}

// line buffers one whole line (with its newline). A line never reaches the
// file in pieces: if it does not fit in what is left of the buffer, the
// buffer is flushed first, and a line longer than the buffer is written in
// one call of its own.
func (w *Writer) line(b []byte) error {
	if len(b) > w.w.Available() && w.w.Buffered() > 0 {
		if err := w.w.Flush(); err != nil {
			return fmt.Errorf("report: writing %s: %w", w.path, err)
		}
	}
	if _, err := w.w.Write(b); err != nil {
		return fmt.Errorf("report: writing %s: %w", w.path, err)
	}
	return nil
}

// Raw writes a line that is already a record (copied from an earlier
// report), without flushing.
func (w *Writer) Raw(line []byte) error {
	w.buf.Reset()
	w.buf.Write(line)
	w.buf.WriteByte('\n')
	return w.line(w.buf.Bytes())
}

// Flush writes what is buffered.
func (w *Writer) Flush() error {
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("report: writing %s: %w", w.path, err)
	}
	return nil
}

// Close flushes and, for a file it opened, syncs and closes it.
func (w *Writer) Close() error {
	err := w.Flush()
	if w.f != nil {
		if serr := w.f.Sync(); err == nil && serr != nil {
			err = fmt.Errorf("report: %w", serr)
		}
		if cerr := w.f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("report: %w", cerr)
		}
	}
	return err
}
