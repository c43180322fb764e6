package main

import (
	"io"
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/tracebatch/tracebatch/report"
)

func diffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "compare two reports: changed answers, flipped checks, added and removed items, latency and tokens",
		ArgsUsage: "BASELINE CURRENT",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "fail-on", Value: "regression", Usage: "exit 1 on a regression (a check went from pass to fail), or on any changed answer"},
		},
		OnUsageError: onUsageError,
		Action:       diffAction,
	}
}

func diffAction(c *cli.Context) error {
	if c.NArg() != 2 {
		return usagef("diff takes two reports: tracebatch diff BASELINE CURRENT")
	}
	failOnChanged := false
	switch c.String("fail-on") {
	case "regression":
	case "changed":
		failOnChanged = true
	default:
		return usagef("--fail-on takes regression or changed")
	}
	d, err := report.CompareFiles(c.Args().Get(0), c.Args().Get(1))
	if err != nil {
		return usageError{err}
	}
	color := false
	if f, ok := c.App.Writer.(*os.File); ok {
		color = report.ColorEnabled(term.IsTerminal(int(f.Fd())))
	}
	if err := report.WriteDiff(c.App.Writer, d, report.DiffOptions{Color: color}); err != nil {
		return err
	}
	if os.Getenv("GITHUB_ACTIONS") == "true" {
		if err := githubSummary(func(w io.Writer) error { return report.WriteGitHubSummary(w, report.Summary{}, &d) }); err != nil {
			return err
		}
	}
	if d.Regressed(failOnChanged) {
		return errChecksFailed
	}
	return nil
}
