package runner

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/report"
)

// Key names one line of a run: an item of a suite on a model, and which
// repeat.
type Key = report.Key

// journalEntry is one line of the journal: a receipt, or a finished record.
type journalEntry struct {
	Key Key `json:"key"`
	// EventSHA256 identifies the event a receipt is for, so a receipt is
	// reused only for the very same event.
	EventSHA256 string         `json:"event_sha256,omitempty"`
	Receipt     *audit.Receipt `json:"receipt,omitempty"`
	// Record is a finished line, kept until the report has it.
	Record json.RawMessage `json:"record,omitempty"`
}

// Journal is the write-ahead log beside a report (REPORT.journal). The
// receipt of every accepted input event is written and synced to disk before
// its prompt goes to the model, and every finished line that has to wait for
// its turn in the report is written there while it waits. A resumed run reads it, so that no
// accepted event is sent again and no finished answer is asked for again.
// Writes from many workers are grouped: one write and one sync serve all the
// receipts that arrived meanwhile.
type Journal struct {
	path string
	f    *os.File
	in   chan journalWrite
	wg   sync.WaitGroup

	mu  sync.Mutex
	err error // the first write error; later writes fail with it
}

type journalWrite struct {
	line []byte
	sync bool
	done chan error // nil: nobody waits
}

// JournalPath is where the journal of a report lives.
func JournalPath(reportPath string) string { return reportPath + ".journal" }

// OpenJournal opens the journal at path for appending, creating it with
// mode 0600 (it holds prompts' receipts and answers). With fresh, an earlier
// journal is discarded.
func OpenJournal(path string, fresh bool) (*Journal, error) {
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if fresh {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j := &Journal{path: path, f: f, in: make(chan journalWrite, 256)}
	j.wg.Add(1)
	go j.loop()
	return j, nil
}

// Path is the journal's file.
func (j *Journal) Path() string { return j.path }

// Receipt records that the event identified by eventSHA256 was accepted for
// key, and returns once that is on disk.
func (j *Journal) Receipt(ctx context.Context, key Key, eventSHA256 string, r audit.Receipt) error {
	line, err := json.Marshal(journalEntry{Key: key, EventSHA256: eventSHA256, Receipt: &r})
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	done := make(chan error, 1)
	select {
	case j.in <- journalWrite{line: line, sync: true, done: done}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Record keeps a finished line until the report has it. It does not wait:
// losing it costs only a repeated model call.
func (j *Journal) Record(key Key, rec *report.Record) {
	// The line is a journalEntry with Key and Record, put together by hand
	// so the record is encoded once (json.RawMessage would be re-read).
	k, err := json.Marshal(key)
	if err != nil {
		j.fail(fmt.Errorf("journal: %w", err))
		return
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		j.fail(fmt.Errorf("journal: %w", err))
		return
	}
	line := make([]byte, 0, len(k)+len(raw)+len(`{"key":,"record":}`))
	line = append(line, `{"key":`...)
	line = append(line, k...)
	line = append(line, `,"record":`...)
	line = append(line, raw...)
	line = append(line, '}')
	j.in <- journalWrite{line: line}
}

// Err is the journal's first write error: once it has failed, nothing
// more should be sent, as its receipt could not be kept.
func (j *Journal) Err() error { return j.firstErr() }

// Close writes what is queued, syncs, and closes the file.
func (j *Journal) Close() error {
	close(j.in)
	j.wg.Wait()
	err := j.f.Sync()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	if werr := j.firstErr(); werr != nil {
		return werr
	}
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// Remove deletes the journal: the report it served is complete.
func (j *Journal) Remove() error {
	if err := os.Remove(j.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// loop owns the file: it takes every write queued, writes them together,
// syncs once if any asked for it, and answers them all.
func (j *Journal) loop() {
	defer j.wg.Done()
	var buf bytes.Buffer
	var batch []journalWrite
	for w := range j.in {
		batch = append(batch[:0], w)
	drain:
		for len(batch) < 4096 {
			select {
			case w, ok := <-j.in:
				if !ok {
					break drain
				}
				batch = append(batch, w)
			default:
				break drain
			}
		}
		buf.Reset()
		sync := false
		for _, w := range batch {
			buf.Write(w.line)
			buf.WriteByte('\n')
			sync = sync || w.sync
		}
		err := j.firstErr()
		if err == nil {
			if _, werr := j.f.Write(buf.Bytes()); werr != nil {
				err = fmt.Errorf("journal: %w", werr)
			} else if sync {
				if serr := j.f.Sync(); serr != nil {
					err = fmt.Errorf("journal: %w", serr)
				}
			}
			if err != nil {
				j.fail(err)
			}
		}
		for _, w := range batch {
			if w.done != nil {
				w.done <- err
			}
		}
	}
}

func (j *Journal) fail(err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err == nil {
		j.err = err
	}
}

func (j *Journal) firstErr() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// eventSHA256 identifies an event: the SHA-256 of its fields, each
// length-prefixed so that no two events share an encoding.
func eventSHA256(ev audit.Event) string {
	h := sha256.New()
	var n [8]byte
	for _, f := range [...]string{ev.EventType, ev.EventTools, ev.EventInput, ev.EventOutput, ev.Message,
		ev.Action, ev.Source, ev.Target, ev.Status, ev.Actor, ev.Timestamp} {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		io.WriteString(h, f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readJournal reads the journal at path, keeping for each key that keep
// accepts its last receipt and last record; a partial last line (a crash
// mid-write) is ignored. A missing journal is empty.
func readJournal(path string, keep func(Key) bool) (map[Key]journalEntry, map[Key][]byte, error) {
	receipts := map[Key]journalEntry{}
	records := map[Key][]byte{}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return receipts, records, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			var e journalEntry
			if jerr := json.Unmarshal(line, &e); jerr != nil {
				return nil, nil, fmt.Errorf("journal %s:%d is damaged (%v); remove it to resume without it, at the cost of auditing some prompts again", path, n, jerr)
			}
			switch {
			case !keep(e.Key):
				// The report has its line: nothing to reuse.
			case e.Receipt != nil:
				receipts[e.Key] = journalEntry{EventSHA256: e.EventSHA256, Receipt: e.Receipt}
			case e.Record != nil:
				records[e.Key] = bytes.Clone(e.Record)
			}
		}
		if errors.Is(err, io.EOF) {
			break // a partial last line is dropped
		}
		if err != nil {
			return nil, nil, fmt.Errorf("journal: %w", err)
		}
	}
	return receipts, records, nil
}
