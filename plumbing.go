package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/prompts"
	"github.com/tracebatch/tracebatch/report"
	"github.com/tracebatch/tracebatch/runner"
)

// audited readies the audit side of run and backfill: the client, the
// preflight against the config's schema, then the suites, validated and
// checked against the config in one pass, open to read. Nothing but the
// schema read is sent before it returns.
func audited(c *cli.Context, concurrency int, paths []string, format audit.Format) (*audit.Client, []*prompts.Suite, error) {
	acfg, err := auditConfig(c, concurrency)
	if err != nil {
		return nil, nil, err
	}
	ac, err := newAudit(acfg)
	if err != nil {
		return nil, nil, err
	}
	pf, err := preflight(c, ac, format)
	if err != nil {
		return nil, nil, err
	}
	if err := validateSuites(paths, pf); err != nil {
		return nil, nil, err
	}
	suites, err := openSuites(paths, c.App.Reader)
	if err != nil {
		return nil, nil, err
	}
	return ac, suites, nil
}

// output is the report of a run or a backfill: a file (resumable) or
// stdout.
type output struct {
	*runner.Output
	report *report.Writer
	path   string
}

// openOutput opens -o, resuming it with --resume: with a journal for a run,
// read in step with the input for a backfill.
func openOutput(c *cli.Context, backfill bool) (*output, error) {
	path := c.String("output")
	resume := c.Bool("resume")
	if path == "" || path == "-" {
		if resume {
			return nil, usagef("--resume needs the report in a file: -o FILE")
		}
		w, _ := report.Create("-")
		return &output{report: w, path: "-"}, nil
	}
	var o *runner.Output
	var err error
	if backfill {
		o, err = runner.CreateBackfillOutput(path, resume)
	} else {
		if _, serr := os.Stat(runner.JournalPath(path)); serr == nil && !resume {
			fmt.Fprintf(c.App.ErrWriter, "tracebatch: %s holds an unfinished run; starting it over (to finish it instead, add --resume)\n", path)
		}
		o, err = runner.CreateOutput(path, resume)
	}
	if err != nil {
		return nil, usageError{err}
	}
	if e := o.Earlier; e != nil {
		msg := fmt.Sprintf("resuming %s: %d lines kept, %d to retry", path, e.Kept, e.Errors)
		if e.Repaired {
			msg += "; a partial last line was dropped"
		}
		fmt.Fprintf(c.App.ErrWriter, "tracebatch: %s\n", msg)
	}
	return &output{Output: o, report: o.Report, path: path}, nil
}

// finish closes the report; see runner.Output.Finish.
func (o *output) finish(kept, done bool) error {
	if o.Output == nil {
		return o.report.Close()
	}
	return o.Output.Finish(kept, done)
}

// ending is what a run or backfill (what) returns for how it ended, after
// telling how to go on: the command that resumes after an interrupt, the one that
// retries after items ended in error. failed says a check failed or a
// regression was found.
func ending(c *cli.Context, what string, out *output, runErr error, s report.Summary, failed bool) error {
	switch {
	case errors.Is(runErr, runner.ErrInterrupted), errors.Is(runErr, context.Canceled):
		if out.Output != nil {
			fmt.Fprintf(c.App.ErrWriter, "tracebatch: to finish this %s: %s\n", what, resumeCommand(c))
		}
		return runner.ErrInterrupted
	case runErr != nil:
		return runErr
	case s.Error > 0:
		if out.Output != nil {
			fmt.Fprintf(c.App.ErrWriter, "tracebatch: to retry the items that ended in error: %s\n", resumeCommand(c))
		}
		return errIncomplete
	case failed:
		return errChecksFailed
	}
	return nil
}
