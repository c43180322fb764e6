// Command tracebatch runs suites of prompts against an OpenAI-compatible
// model and records every context and prompt in Pangea Secure Audit Log
// before it is sent, writing answers and audit IDs to a JSONL report.
//
// This file is the router: it builds the commands and maps what they return
// to exit codes. Each command lives in its own file.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/joho/godotenv"
	"github.com/urfave/cli/v2"

	"github.com/tracebatch/tracebatch/prompts"
	"github.com/tracebatch/tracebatch/runner"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// the module version is used.
var version = ""

// Exit codes, as DESIGN.md and the README list them.
const (
	exitOK          = 0
	exitFailed      = 1   // a check failed or a regression was found
	exitUsage       = 2   // usage or input error: nothing was sent
	exitIncomplete  = 3   // some item could not complete
	exitInterrupted = 130 // interrupted: report flushed, resumable
)

// errChecksFailed and errIncomplete are how a command says its work ended
// with failed checks, or with items that could not complete; the command
// has already told the user the details.
var (
	errChecksFailed = errors.New("some checks failed")
	errIncomplete   = errors.New("some items could not complete")
)

// usageError is a mistake in the command line or the input: nothing was
// sent.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func main() {
	tuneGC()
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

// tuneGC trades a little memory for much less collecting: a run allocates
// a lot of short-lived garbage (requests, answers, report lines) while its
// live heap stays small. The collector runs at GOGC 400, and a soft limit
// of 56 MiB keeps the heap small anyway (the benchmark: a 1,000,000-item
// backfill peaks under 100 MB of RSS, a run's CPU an item halves).
// GOGC and GOMEMLIMIT in the environment win; for very large contexts or
// -j in the thousands, raise GOMEMLIMIT.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(56 << 20)
	}
}

// run is main with its inputs and outputs passed in, for tests.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if err := loadDotEnv(); err != nil {
		fmt.Fprintf(stderr, "tracebatch: %v\n", err)
		return exitUsage
	}
	app := newApp(stdin, stdout, stderr)
	app.Metadata = map[string]any{"args": args}
	err := app.RunContext(context.Background(), args)
	var problems prompts.Problems
	var input *runner.InputError
	switch {
	case errors.As(err, &input):
		fmt.Fprintf(stderr, "%v\nstopped at that line; the items before it are in the report\n", input.Err)
	case errors.As(err, &problems):
		fmt.Fprintf(stderr, "%v\n%d %s; nothing was sent\n", problems, len(problems), plural(len(problems), "problem", "problems"))
	case err != nil && !errors.Is(err, errChecksFailed) && !errors.Is(err, errIncomplete) && !errors.Is(err, runner.ErrInterrupted):
		fmt.Fprintf(stderr, "tracebatch: %v\n", err)
	}
	return exitCode(err)
}

// exitCode is the one policy of this file: which error means which code.
func exitCode(err error) int {
	var usage usageError
	var problems prompts.Problems
	var problem *prompts.Problem
	var input *runner.InputError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, runner.ErrInterrupted), errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &usage), errors.As(err, &problems), errors.As(err, &problem), errors.As(err, &input):
		return exitUsage
	case errors.Is(err, errChecksFailed):
		return exitFailed
	}
	return exitIncomplete
}

// loadDotEnv reads .env from the working directory, as the original example
// did (values in .env win over the environment). A missing file is fine.
func loadDotEnv() error {
	if _, err := os.Stat(".env"); err != nil {
		return nil
	}
	if err := godotenv.Overload(".env"); err != nil {
		return fmt.Errorf(".env: %v; fix the file or remove it", err)
	}
	return nil
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:  "tracebatch",
		Usage: "run prompt suites against a model, auditing every prompt in Pangea Secure Audit Log first",
		Description: "Every context and prompt is recorded in Secure Audit Log and accepted before it is\n" +
			"sent to the model. Reports are JSONL on stdout or -o FILE; progress and\n" +
			"diagnostics go to stderr.\n\n" +
			"Exit codes: 0 all passed, 1 a check failed, 2 usage or input error (nothing was\n" +
			"sent), 3 some item could not complete, 130 interrupted.",
		Version:         versionString(),
		Reader:          stdin,
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Suggest:         true,
		ExitErrHandler:  func(*cli.Context, error) {},
		OnUsageError:    onUsageError,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("unknown command %q: the commands are run, ask, backfill, validate, diff and merge (see --help)", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		Commands: []*cli.Command{
			runCommand(),
			askCommand(),
			backfillCommand(),
			validateCommand(),
			diffCommand(),
			mergeCommand(),
		},
	}
}

func onUsageError(_ *cli.Context, err error, _ bool) error {
	return usageError{fmt.Errorf("%v (see --help)", err)}
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
