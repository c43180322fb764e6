package runner

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/prompts"
	"github.com/tracebatch/tracebatch/report"
)

// Earlier is what an earlier, unfinished run of the same report left: the
// finished lines of its report and its journal. A resumed run keeps the
// finished lines, takes finished records from the journal, reuses the
// receipts of accepted events, and runs only the rest.
type Earlier struct {
	report *os.File
	lines  map[Key]span
	// failed are the lines that ended in error: their items run again,
	// but an interrupted resumed run keeps them for the items it did not
	// reach.
	failed map[Key]span
	// receipts and records come from the journal.
	receipts map[Key]journalEntry
	records  map[Key][]byte

	// Kept counts the finished lines of the report; Errors the lines that
	// ended in error and will run again.
	Kept, Errors int
	// Repaired is set when the report ended in a partial line (a crash
	// mid-write), which is dropped.
	Repaired bool
}

// span is a finished report line: where it is, and what it was asked, so a
// line is kept only if the suite still asks the same.
type span struct {
	off   int64
	n     int
	asked [sha256.Size]byte
}

// LoadEarlier reads the report at reportPath and its journal. Lines with
// status error are not kept: their items run again. A line that is not JSON
// in the middle of the report is an error: resuming would guess.
func LoadEarlier(reportPath string) (*Earlier, error) {
	f, err := os.Open(reportPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("--resume: %s does not exist; run without --resume to start it", reportPath)
		}
		return nil, fmt.Errorf("--resume: %w", err)
	}
	e := &Earlier{report: f, lines: map[Key]span{}, failed: map[Key]span{}}
	r := bufio.NewReaderSize(f, 1<<16)
	var off int64
	for n := 1; ; n++ {
		line, rerr := r.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] != '\n' {
			e.Repaired = true // the last line was cut short
			break
		}
		if len(line) > 0 {
			var rec struct {
				Suite, ID, Model, Status, Prompt string
				Repeat                           int
				ContextSHA256                    string `json:"context_sha256"`
			}
			if err := json.Unmarshal(line, &rec); err != nil {
				f.Close()
				return nil, fmt.Errorf("--resume: %s:%d is not a report line (%v); cannot tell what was done", reportPath, n, err)
			}
			k := Key{Suite: rec.Suite, ID: rec.ID, Model: rec.Model, Repeat: rec.Repeat}
			sp := span{off: off, n: len(line), asked: asked(rec.Prompt, rec.ContextSHA256)}
			if rec.Status == report.Error {
				delete(e.lines, k)
				e.failed[k] = sp
			} else {
				e.lines[k] = sp
				delete(e.failed, k)
			}
			off += int64(len(line))
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			f.Close()
			return nil, fmt.Errorf("--resume: %w", rerr)
		}
	}
	e.Kept, e.Errors = len(e.lines), len(e.failed)
	e.receipts, e.records, err = readJournal(JournalPath(reportPath), func(k Key) bool { _, done := e.lines[k]; return !done })
	if err != nil {
		f.Close()
		return nil, err
	}
	return e, nil
}

// Close releases the earlier report.
func (e *Earlier) Close() error { return e.report.Close() }

// asked fingerprints what an item asks: its prompt and its context.
func asked(prompt, contextSHA256 string) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(prompt))
	h.Write([]byte{0})
	h.Write([]byte(contextSHA256))
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// finished returns the earlier line or journal record for key, if the item
// still asks what it asked then. With failed, a line that ended in error is
// returned too (for items an interrupted run did not reach).
func (e *Earlier) finished(k Key, it prompts.Item, failed bool) ([]byte, error) {
	a := asked(it.Prompt, contextSHA256(it.Context))
	if s, ok := e.lines[k]; ok && s.asked == a {
		return e.line(s)
	}
	if raw, ok := e.records[k]; ok {
		var rec struct {
			Prompt, Status string
			ContextSHA256  string `json:"context_sha256"`
		}
		if json.Unmarshal(raw, &rec) == nil && rec.Status != report.Error && asked(rec.Prompt, rec.ContextSHA256) == a {
			return raw, nil
		}
	}
	if s, ok := e.failed[k]; ok && failed && s.asked == a {
		return e.line(s)
	}
	return nil, nil
}

func (e *Earlier) line(s span) ([]byte, error) {
	line := make([]byte, s.n)
	if _, err := e.report.ReadAt(line, s.off); err != nil {
		return nil, fmt.Errorf("--resume: reading the earlier report: %w", err)
	}
	return bytes.TrimSuffix(line, []byte("\n")), nil
}

// receipt returns the receipt of an accepted event for key, if it was for
// this very event.
func (e *Earlier) receipt(k Key, eventSHA256 string) *audit.Receipt {
	if r, ok := e.receipts[k]; ok && r.EventSHA256 == eventSHA256 {
		return r.Receipt
	}
	return nil
}
