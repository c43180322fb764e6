package main

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/tracebatch/tracebatch/progress"
	"github.com/tracebatch/tracebatch/prompts"
	"github.com/tracebatch/tracebatch/report"
	"github.com/tracebatch/tracebatch/runner"
)

// show is what a run tells people while and after it runs: progress and the
// summary table on stderr, GitHub annotations and step summary in Actions,
// and the JUnit file. It only reads records.
type show struct {
	stderr      io.Writer
	quiet       bool
	color       bool
	meter       *progress.Meter
	junit       *report.JUnit
	junitPath   string
	github      bool
	annotations int
}

// maxAnnotations caps the ::error lines of a run: GitHub shows only the
// first few of a step, and a thousand failures would drown the log.
const maxAnnotations = 50

// newShow reads --quiet, --junit and the environment (GITHUB_ACTIONS,
// NO_COLOR, whether stderr is a terminal). total counts the lines to come,
// for the progress bar; it is called only if a bar is shown.
func newShow(c *cli.Context, total func() int) (*show, error) {
	s := &show{stderr: c.App.ErrWriter, quiet: c.Bool("quiet"), github: os.Getenv("GITHUB_ACTIONS") == "true"}
	terminal := false
	if f, ok := s.stderr.(*os.File); ok {
		terminal = term.IsTerminal(int(f.Fd()))
	}
	s.color = report.ColorEnabled(terminal)
	if path := c.String("junit"); path != "" {
		s.junit, s.junitPath = report.NewJUnit(), path
	}
	if !s.quiet {
		s.meter = progress.New(s.stderr, progress.Options{Total: total(), Terminal: terminal, Color: s.color})
	}
	return s, nil
}

func (s *show) start() {
	if s.meter != nil {
		s.meter.Start()
	}
}

func (s *show) stop() {
	if s.meter != nil {
		s.meter.Stop()
	}
}

// add takes each record as it is written.
func (s *show) add(r *report.Record) {
	if s.meter != nil {
		s.meter.Add(r)
	}
	if s.junit != nil {
		s.junit.Add(r)
	}
	if s.github && (r.Status == report.Fail || r.Status == report.Error) {
		s.annotations++
		if s.annotations <= maxAnnotations {
			report.WriteGitHubAnnotations(s.stderr, r)
		}
	}
}

// finish writes the summary table, the one-line summary, the regression
// report, the JUnit file and the GitHub step summary.
func (s *show) finish(sum report.Summary, diff *report.Diff, wall time.Duration, path string) error {
	if !s.quiet {
		sum.WriteTable(s.stderr, report.TableOptions{Color: s.color})
	}
	if diff != nil {
		report.WriteDiff(s.stderr, *diff, report.DiffOptions{Color: s.color, MaxItems: 20})
	}
	sum.WriteLine(s.stderr, wall, path)
	if s.annotations > maxAnnotations {
		fmt.Fprintf(s.stderr, "(%d more failures not annotated; see the report)\n", s.annotations-maxAnnotations)
	}
	var firstErr error
	if s.junit != nil {
		if err := writeFile(s.junitPath, s.junit.Write); err != nil {
			firstErr = fmt.Errorf("--junit: %w", err)
		}
	}
	if s.github {
		if err := githubSummary(func(w io.Writer) error { return report.WriteGitHubSummary(w, sum, diff) }); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// writeFile writes a file a run produces, mode 0600: it holds prompts and
// answers.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// githubSummary appends Markdown to $GITHUB_STEP_SUMMARY, when Actions set
// it.
func githubSummary(write func(io.Writer) error) error {
	path := os.Getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
	}
	return f.Close()
}

// selection reads --filter-id, --filter-tag and --shard.
func selection(c *cli.Context) (runner.Selection, error) {
	var sel runner.Selection
	if p := c.String("filter-id"); p != "" {
		re, err := regexp.Compile(p)
		if err != nil {
			return sel, usagef("--filter-id: %v", err)
		}
		sel.ID = re
	}
	sel.Tags = c.StringSlice("filter-tag")
	if sh := c.String("shard"); sh != "" {
		k, n, err := runner.ParseShard(sh)
		if err != nil {
			return sel, usageError{err}
		}
		sel.Shard, sel.Shards = k, n
	}
	return sel, nil
}

// baseline is what --baseline, --baseline-check and --fail-on ask for.
type baseline struct {
	base          *report.Baseline
	check         string
	threshold     float64
	failOnChanged bool
}

func baselineOptions(c *cli.Context) (baseline, error) {
	var b baseline
	switch c.String("fail-on") {
	case "regression":
	case "changed":
		b.failOnChanged = true
	default:
		return b, usagef("--fail-on takes regression or changed")
	}
	check := c.String("baseline-check")
	path := c.String("baseline")
	if path == "" {
		if check != "" {
			return b, usagef("--baseline-check needs --baseline REPORT")
		}
		return b, nil
	}
	switch name, arg, _ := strings.Cut(check, ":"); name {
	case "":
	case "similar":
		b.check, b.threshold = "similar", 0.85
		if arg != "" {
			t, err := strconv.ParseFloat(arg, 64)
			if err != nil || t < 0 || t > 1 {
				return b, usagef("--baseline-check similar:T takes a threshold from 0 to 1, such as similar:0.85")
			}
			b.threshold = t
		}
	case "llm-rubric":
		b.check = "llm-rubric"
	default:
		return b, usagef("--baseline-check takes similar[:threshold] or llm-rubric")
	}
	base, err := report.ReadBaselineFile(path)
	if err != nil {
		return b, usagef("--baseline: %v", err)
	}
	b.base = base
	return b, nil
}

// countLines counts the lines a run of the suites at paths will write, for
// the progress bar; 0 when it cannot know (stdin).
func countLines(paths []string, models []string, suiteModels bool, repeat int, sel runner.Selection) int {
	n := 0
	for _, p := range paths {
		if p == "-" {
			return 0
		}
		s, err := prompts.Open(p)
		if err != nil {
			return 0
		}
		s.IDsChecked()
		for {
			it, err := s.Next()
			if err != nil {
				break
			}
			if !sel.Has(it) {
				continue
			}
			n += repeat * len(runner.ModelsOf(it, s, models, suiteModels))
		}
		s.Close()
	}
	return n
}
