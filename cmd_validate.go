package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/tracebatch/tracebatch/prompts"
)

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:         "validate",
		Usage:        "check suite files offline; every problem is printed as file:line:col: message",
		ArgsUsage:    "SUITE...",
		OnUsageError: onUsageError,
		Action:       validateAction,
	}
}

func validateAction(c *cli.Context) error {
	paths := c.Args().Slice()
	if len(paths) == 0 {
		return usagef("validate needs at least one suite: tracebatch validate SUITE...")
	}
	var all prompts.Problems
	items := 0
	for _, p := range paths {
		n, ps, err := prompts.Validate(p)
		if err != nil {
			return usageError{err}
		}
		items += n
		all = append(all, ps...)
	}
	if len(all) > 0 {
		return all
	}
	fmt.Fprintf(c.App.Writer, "%d %s, %d items: no problems\n", len(paths), plural(len(paths), "suite", "suites"), items)
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
