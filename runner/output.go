package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tracebatch/tracebatch/report"
)

// Output is where a run's lines go when its report is a file: the report,
// and beside it the journal. A resumed run writes a new report beside the
// old one (REPORT.resume) and puts it in the old one's place when it ends,
// so the report is whole and in input order at every moment.
type Output struct {
	// Report receives the lines.
	Report *report.Writer
	// Journal keeps receipts and finished lines.
	Journal *Journal
	// Earlier is the run being resumed, or nil.
	Earlier *Earlier
	// Prefix is the backfill being resumed, or nil.
	Prefix *Prefix

	path, next string
}

// CreateOutput opens the report of a run at path and its journal. With
// resume, the earlier report and journal are read first and kept until the
// new report replaces them; without, both start empty.
func CreateOutput(path string, resume bool) (*Output, error) {
	o, err := create(path, resume, func(o *Output) (err error) {
		o.Earlier, err = LoadEarlier(path)
		return err
	})
	if err != nil {
		return nil, err
	}
	if o.Journal, err = OpenJournal(JournalPath(path), !resume); err != nil {
		o.Report.Close()
		o.closeEarlier()
		return nil, err
	}
	return o, nil
}

// CreateBackfillOutput opens the report of a backfill at path. A backfill
// keeps no journal: its report, written in input order, says what was done.
// With resume, the earlier report is read in step with the input.
func CreateBackfillOutput(path string, resume bool) (*Output, error) {
	return create(path, resume, func(o *Output) (err error) {
		o.Prefix, err = OpenPrefix(path)
		return err
	})
}

// create opens the report; when resuming, it first reads the earlier run
// with earlier, and writes the new report beside the old one.
func create(path string, resume bool, earlier func(*Output) error) (*Output, error) {
	o := &Output{path: path}
	target := path
	if resume {
		if err := earlier(o); err != nil {
			return nil, err
		}
		o.next = path + ".resume"
		target = o.next
	}
	var err error
	if o.Report, err = report.Create(target); err != nil {
		o.closeEarlier()
		return nil, err
	}
	return o, nil
}

// Path is the report's file.
func (o *Output) Path() string { return o.path }

// Finish closes the report and the journal. kept says whether the report
// now holds every line the run has (the run ended, or was stopped and wrote
// what it had): a resumed run's new report then replaces the old one. done
// says whether the run is over: every item has its line and none ended in
// error; the journal is then no longer needed and is removed.
func (o *Output) Finish(kept, done bool) error {
	err := o.Report.Close()
	if o.Journal != nil {
		if jerr := o.Journal.Close(); err == nil {
			err = jerr
		}
	}
	o.closeEarlier()
	if o.next != "" {
		if kept && err == nil {
			err = replace(o.next, o.path)
		} else {
			os.Remove(o.next)
		}
	}
	if err == nil && kept && done && o.Journal != nil {
		err = o.Journal.Remove()
	}
	return err
}

func (o *Output) closeEarlier() {
	if o.Earlier != nil {
		o.Earlier.Close()
	}
	if o.Prefix != nil {
		o.Prefix.Close()
	}
}

// replace renames from over to and syncs the directory, so that after a
// crash the report is either the old one or the new one, whole.
func replace(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	d, err := os.Open(filepath.Dir(to))
	if err != nil {
		return nil
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
