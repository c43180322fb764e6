package runner

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/tracebatch/tracebatch/report"
)

// Prefix reads the report of an unfinished backfill in step with its input.
// A backfill writes its lines in input order, so its report is a prefix of
// the input: resuming reads one line per item, keeps the line if the item
// was audited, sends the item again if it ended in error, and needs memory
// for one line only, however long the input.
type Prefix struct {
	f    *os.File
	r    *bufio.Reader
	path string
	n    int  // lines read
	end  bool // no more whole lines

	// Kept and Retried count the lines kept and the items sent again;
	// Repaired is set when the report ended in a partial line.
	Kept, Retried int
	Repaired      bool
}

// OpenPrefix opens the report of an unfinished backfill.
func OpenPrefix(path string) (*Prefix, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("--resume: %s does not exist; run without --resume to start it", path)
		}
		return nil, fmt.Errorf("--resume: %w", err)
	}
	return &Prefix{f: f, r: bufio.NewReaderSize(f, 1<<16), path: path}, nil
}

// Close releases the report.
func (p *Prefix) Close() error { return p.f.Close() }

// next returns the earlier line for key, and whether it ended in error (the
// item is then sent again, unless the backfill was stopped: its line is kept
// as it was); nil when the report has ended. A line for another item is an
// error: the input is not the one the report was made from.
func (p *Prefix) next(key Key) (line []byte, errored bool, err error) {
	if p.end {
		return nil, false, nil
	}
	line, err = p.r.ReadBytes('\n')
	if errors.Is(err, io.EOF) {
		p.end = true
		p.Repaired = len(line) > 0
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("--resume: %w", err)
	}
	p.n++
	var rec struct {
		Suite, ID, Model, Status string
		Repeat                   int
	}
	if err := json.Unmarshal(line, &rec); err != nil {
		return nil, false, fmt.Errorf("--resume: %s:%d is not a report line (%v); cannot tell what was done", p.path, p.n, err)
	}
	got := Key{Suite: rec.Suite, ID: rec.ID, Model: rec.Model, Repeat: rec.Repeat}
	if got != key {
		return nil, false, fmt.Errorf("--resume: %s:%d is for %s but the input's item there is %s; resume with the same input and flags", p.path, p.n, got, key)
	}
	if rec.Status == report.Error {
		p.Retried++
	} else {
		p.Kept++
	}
	return bytes.TrimSuffix(line, []byte("\n")), rec.Status == report.Error, nil
}
