package main

import (
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/tracebatch/tracebatch/report"
)

func mergeCommand() *cli.Command {
	return &cli.Command{
		Name:      "merge",
		Usage:     "join shard reports into one, in suite order; a duplicate item is an error",
		ArgsUsage: "REPORT...",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "-", Usage: "write the merged report to `FILE` (- for stdout)"},
		},
		OnUsageError: onUsageError,
		Action:       mergeAction,
	}
}

func mergeAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return usagef("merge needs the shard reports: tracebatch merge REPORT...")
	}
	path := c.String("output")
	if path == "" || path == "-" {
		if err := report.MergeFiles(c.App.Writer, c.Args().Slice()...); err != nil {
			return usageError{err}
		}
		return nil
	}
	err := writeFile(path, func(w io.Writer) error { return report.MergeFiles(w, c.Args().Slice()...) })
	if err != nil {
		os.Remove(path) // a partial merge is worse than none
		return usageError{err}
	}
	return nil
}
