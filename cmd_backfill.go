package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/runner"
)

func backfillCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "-", Usage: "write the report to `FILE` (- for stdout)"},
		&cli.IntFlag{Name: "audit-batch-size", Value: audit.MaxBatch, Usage: "events per audit call (1 to 1000)"},
		&cli.IntFlag{Name: "audit-concurrency", Value: 4, Usage: "audit calls in flight at once"},
		&cli.BoolFlag{Name: "async", Usage: "use /v2/log_async: Pangea accepts the events and hashes them later; receipts are pending"},
		&cli.BoolFlag{Name: "resume", Usage: "finish an interrupted or crashed backfill of -o FILE: keep its audited lines, send the rest"},
		&cli.DurationFlag{Name: "grace", Value: 30 * time.Second, Usage: "after Ctrl-C, how long the calls in flight may take to finish"},
	}
	flags = append(flags, auditFlags()...)
	return &cli.Command{
		Name:      "backfill",
		Usage:     "record historical prompts (and answers) in the audit log, in bulk; no model calls",
		ArgsUsage: "FILE...",
		Description: "FILE is JSONL (or a YAML suite); - reads JSONL from stdin. Items may carry answer,\n" +
			"timestamp, actor and model besides prompt and a context. Input is streamed:\n" +
			"memory does not grow with its size.",
		Flags:        flags,
		OnUsageError: onUsageError,
		Action:       backfillAction,
	}
}

func backfillAction(c *cli.Context) error {
	paths := c.Args().Slice()
	if len(paths) == 0 {
		return usagef("backfill needs at least one file: tracebatch backfill FILE...")
	}
	size := c.Int("audit-batch-size")
	if size < 1 || size > audit.MaxBatch {
		return usagef("--audit-batch-size must be between 1 and %d (Pangea's limit)", audit.MaxBatch)
	}
	conc := c.Int("audit-concurrency")
	if conc < 1 {
		return usagef("--audit-concurrency must be at least 1")
	}
	format, err := eventFormat(c)
	if err != nil {
		return err
	}
	ac, suites, err := audited(c, conc, paths, format)
	if err != nil {
		return err
	}
	defer closeSuites(suites)
	out, err := openOutput(c, true)
	if err != nil {
		return err
	}
	b := &runner.Backfill{
		Suites:         suites,
		Log:            ac,
		Async:          c.Bool("async"),
		Format:         format,
		AuditResponses: c.Bool("audit-responses"),
		BatchSize:      size,
		Concurrency:    conc,
		Report:         out.report,
	}
	if out.Output != nil {
		b.Earlier = out.Prefix
	}
	start := time.Now()
	runErr := runWithSignals(c.Context, c.App.ErrWriter, b, c.Duration("grace"))
	s := b.Summary()
	kept := runErr == nil || errors.Is(runErr, runner.ErrInterrupted)
	if p := out.Prefix; out.Output != nil && p != nil {
		fmt.Fprintf(c.App.ErrWriter, "tracebatch: resumed %s: %d lines kept, %d items sent again\n", out.path, p.Kept, p.Retried)
	}
	if err := out.finish(kept, runErr == nil && s.Error == 0); err != nil && runErr == nil {
		runErr = err
	}
	s.WriteLine(c.App.ErrWriter, time.Since(start), out.path)
	return ending(c, "backfill", out, runErr, s, false)
}
