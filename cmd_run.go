package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/llm"
	"github.com/tracebatch/tracebatch/prompts"
	"github.com/tracebatch/tracebatch/report"
	"github.com/tracebatch/tracebatch/runner"
)

func runCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "-", Usage: "write the report to `FILE` (- for stdout)"},
		&cli.IntFlag{Name: "concurrency", Aliases: []string{"j"}, Value: 8, Usage: "items in flight at once"},
		&cli.StringSliceFlag{Name: flagModel, Value: cli.NewStringSlice("gpt-4o-mini"), Usage: "model to ask (an item's own model wins)"},
		&cli.BoolFlag{Name: "dry-run", Usage: "print the audit event and chat request of every item as JSONL; send nothing, need no keys"},
		&cli.IntFlag{Name: "audit-batch-size", Value: audit.MaxBatch, Usage: "most events per audit call (1 to 1000)"},
		&cli.IntFlag{Name: "audit-concurrency", Value: 4, Usage: "audit calls in flight at once"},
		&cli.DurationFlag{Name: "audit-linger", Value: 10 * time.Millisecond, Usage: "how long an audit call waits for more events"},
		&cli.DurationFlag{Name: "grace", Value: 30 * time.Second, Usage: "after Ctrl-C, how long the items in flight may take to finish"},
		&cli.IntFlag{Name: "rpm", Usage: "most model requests a minute (0: no limit)"},
		&cli.IntFlag{Name: "tpm", Usage: "most model tokens a minute, estimated before each call and corrected after (0: no limit)"},
		&cli.BoolFlag{Name: "resume", Usage: "finish an interrupted or crashed run of -o FILE: keep its finished lines, reuse its audit receipts, run the rest"},
		&cli.StringFlag{Name: "filter-id", Usage: "run only the items whose id matches `REGEX`"},
		&cli.StringSliceFlag{Name: "filter-tag", Usage: "run only the items with this `TAG` (repeat for any of several)"},
		&cli.StringFlag{Name: "shard", Usage: "run shard `K/N` of the items, stable by id (for CI matrices)"},
		&cli.IntFlag{Name: "repeat", Value: 1, Usage: "run every item `N` times; the summary gives pass rates"},
		&cli.StringFlag{Name: "grader-model", Usage: "model that grades llm-rubric checks (default: the first --model)"},
		&cli.StringFlag{Name: "embedding-model", Value: "text-embedding-3-small", Usage: "model that embeds texts for similar checks"},
		&cli.StringFlag{Name: "junit", Usage: "write a JUnit XML report to `FILE`"},
		&cli.StringFlag{Name: "baseline", Usage: "compare every answer with the same item's in the earlier report `REPORT`"},
		&cli.StringFlag{Name: "baseline-check", Usage: "decide whether a changed answer still says the same: similar:0.85 or llm-rubric"},
		&cli.StringFlag{Name: "fail-on", Value: "regression", Usage: "with --baseline: exit 1 on a regression (a check went from pass to fail), or on any changed answer"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress and no summary table on stderr"},
	}
	flags = append(flags, auditFlags()...)
	flags = append(flags, modelFlags()...)
	return &cli.Command{
		Name:      "run",
		Usage:     "audit and ask every prompt of the suites; check the answers; write the report",
		ArgsUsage: "SUITE...",
		Description: "SUITE is a YAML suite (.yaml, .yml) or a JSONL file (.jsonl, .ndjson); - reads JSONL\n" +
			"from stdin. Every suite is validated before anything is sent.",
		Flags:        flags,
		OnUsageError: onUsageError,
		Action:       runAction,
	}
}

func runAction(c *cli.Context) error {
	paths := c.Args().Slice()
	if len(paths) == 0 {
		return usagef("run needs at least one suite: tracebatch run SUITE...")
	}
	j := c.Int("concurrency")
	if j < 1 {
		return usagef("--concurrency must be at least 1")
	}
	if c.Int("audit-concurrency") < 1 {
		return usagef("--audit-concurrency must be at least 1")
	}
	size := c.Int("audit-batch-size")
	if size < 1 || size > audit.MaxBatch {
		return usagef("--audit-batch-size must be between 1 and %d (Pangea's limit)", audit.MaxBatch)
	}
	format, err := eventFormat(c)
	if err != nil {
		return err
	}
	sel, err := selection(c)
	if err != nil {
		return err
	}
	if c.Int("repeat") < 1 {
		return usagef("--repeat must be at least 1")
	}
	baseline, err := baselineOptions(c)
	if err != nil {
		return err
	}
	models := c.StringSlice(flagModel)
	suiteModels := !c.IsSet(flagModel) // --model not given: a suite's own model wins
	if c.Bool("dry-run") {
		if err := validateSuites(paths, nil); err != nil {
			return err
		}
		suites, err := openSuites(paths, c.App.Reader)
		if err != nil {
			return err
		}
		defer closeSuites(suites)
		return dryRun(c.App.Writer, suites, models, suiteModels, format, sel)
	}

	mcfg, err := modelConfig(c, j)
	if err != nil {
		return err
	}
	if c.Int("rpm") < 0 || c.Int("tpm") < 0 {
		return usagef("--rpm and --tpm must be 0 (no limit) or more")
	}
	pacer := runner.NewPacer(j, c.Int("rpm"), c.Int("tpm"))
	mcfg.Pacer = pacer
	mc, err := newModel(mcfg)
	if err != nil {
		return err
	}
	conc := c.Int("audit-concurrency")
	ac, suites, err := audited(c, conc, paths, format)
	if err != nil {
		return err
	}
	defer closeSuites(suites)
	out, err := openOutput(c, false)
	if err != nil {
		return err
	}
	batcher := audit.NewBatcher(ac, audit.BatcherConfig{Size: size, Linger: c.Duration("audit-linger"), Concurrency: conc, Callers: j})

	graderModel := c.String("grader-model")
	if graderModel == "" {
		graderModel = models[0]
	}
	w := &runner.Work{
		Suites:         suites,
		Models:         models,
		SuiteModels:    suiteModels,
		Concurrency:    j,
		Audit:          batcher,
		Model:          mc,
		Format:         format,
		AuditResponses: c.Bool("audit-responses"),
		Report:         out.report,
		Repeat:         c.Int("repeat"),
		Grader: &runner.Grader{Audit: batcher, Model: mc, Embedder: mc, Format: format,
			GraderModel: graderModel, EmbeddingModel: c.String("embedding-model")},
		Baseline:      baseline.base,
		SameCheck:     baseline.check,
		SameThreshold: baseline.threshold,
	}
	if !sel.Empty() {
		w.Select = sel.Has
	}
	if out.Output != nil {
		w.Journal, w.Earlier = out.Journal, out.Earlier
	}
	show, err := newShow(c, func() int { return countLines(paths, models, suiteModels, w.Repeat, sel) })
	if err != nil {
		return err
	}
	w.Progress = show.add
	start := time.Now()
	show.start()
	runErr := runWithSignals(c.Context, c.App.ErrWriter, w, c.Duration("grace"))
	show.stop()
	batcher.Close()
	s := w.Summary()
	kept := runErr == nil || errors.Is(runErr, runner.ErrInterrupted)
	if err := out.finish(kept, runErr == nil && s.Error == 0); err != nil && runErr == nil {
		runErr = err
	}
	var diff *report.Diff
	if baseline.base != nil {
		d := w.Diff()
		diff = &d
	}
	if err := show.finish(s, diff, time.Since(start), out.path); err != nil && runErr == nil {
		runErr = err
	}
	if times, lowest := pacer.Backoffs(); times > 0 {
		fmt.Fprintf(c.App.ErrWriter, "the model pushed back %d times; calls in flight went down to %d of %d\n", times, lowest, j)
	}
	regressed := diff != nil && diff.Regressed(baseline.failOnChanged)
	return ending(c, "run", out, runErr, s, s.Fail > 0 || regressed)
}

// resumeCommand is the command line that finishes this run. Secrets given
// as flags are left out (and the user told to give them again): the line is
// printed.
func resumeCommand(c *cli.Context) string {
	args, _ := c.App.Metadata["args"].([]string)
	parts := []string{"tracebatch"}
	resume, dropped := false, false
	for i := 1; i < len(args); i++ {
		a := args[i]
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && (name == flagAuditToken || name == flagOpenAIKey) {
			dropped = true
			if !hasValue {
				i++ // the value is the next argument
			}
			continue
		}
		resume = resume || a == "--resume"
		parts = append(parts, shellQuote(a))
	}
	if !resume && len(parts) > 1 {
		parts = append(parts[:2], append([]string{"--resume"}, parts[2:]...)...)
	}
	cmd := strings.Join(parts, " ")
	if dropped {
		cmd += "  (with your --" + flagAuditToken + " / --" + flagOpenAIKey + " again, or set them in the environment)"
	}
	return cmd
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// stoppable is a run that can be asked to stop: runner.Work and
// runner.Backfill.
type stoppable interface {
	Run(ctx context.Context) error
	Stop()
}

// runWithSignals runs w; the first SIGINT or SIGTERM stops handing out items
// and lets those in flight finish within grace; a second one, or the end of
// grace, abandons them.
func runWithSignals(ctx context.Context, stderr io.Writer, w stoppable, grace time.Duration) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-sig:
		case <-finished:
			return
		}
		fmt.Fprintf(stderr, "tracebatch: interrupted; finishing the items in flight (up to %v; interrupt again to abandon them)\n", grace)
		w.Stop()
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-sig:
		case <-t.C:
		case <-finished:
			return
		}
		cancel()
	}()
	return w.Run(ctx)
}

// validateSuites checks every suite read from a file before anything is
// sent, and with pf every item against the audit config, in one pass; stdin
// is checked as it streams. It returns every problem, file by file in
// command-line order, each file's in line order.
func validateSuites(paths []string, pf *runner.Preflight) error {
	var all prompts.Problems
	for _, p := range paths {
		if p == "-" {
			continue
		}
		var checked prompts.Problems
		var each func(prompts.Item)
		if pf != nil {
			each = func(it prompts.Item) {
				if len(checked) < prompts.MaxProblems {
					checked = append(checked, pf.Check(it)...)
				}
			}
		}
		_, ps, err := prompts.ValidateEach(p, each)
		if err != nil {
			return usageError{err}
		}
		ps = append(ps, checked...)
		slices.SortStableFunc(ps, func(a, b *prompts.Problem) int {
			return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
		})
		all = append(all, ps...)
	}
	if len(all) > 0 {
		return all
	}
	return nil
}

// openSuites opens the suites in order, after validateSuites; "-" reads
// JSONL from stdin.
func openSuites(paths []string, stdin io.Reader) ([]*prompts.Suite, error) {
	var suites []*prompts.Suite
	for _, p := range paths {
		var s *prompts.Suite
		var err error
		if p == "-" {
			s, err = prompts.OpenReader("-", stdin, prompts.JSONL)
		} else if s, err = prompts.Open(p); err == nil {
			s.IDsChecked() // validateSuites read it whole already
		}
		if err != nil {
			closeSuites(suites)
			return nil, usageError{err}
		}
		// Report lines, receipts and shards are keyed by suite name and
		// item id: two suites of one name would mix them up.
		for _, o := range suites {
			if o.Name() == s.Name() {
				closeSuites(append(suites, s))
				return nil, usagef("%s and %s are both named %q: give one a name: in its YAML header, or rename the file", o.File(), s.File(), s.Name())
			}
		}
		suites = append(suites, s)
	}
	return suites, nil
}

func closeSuites(suites []*prompts.Suite) {
	for _, s := range suites {
		s.Close()
	}
}

// dryRunLine is what --dry-run prints for one (item, model): the event
// that would be recorded first, and the chat request that would follow.
type dryRunLine struct {
	ID          string         `json:"id"`
	Suite       string         `json:"suite"`
	Model       string         `json:"model"`
	AuditEvent  audit.Event    `json:"audit_event"`
	ChatRequest map[string]any `json:"chat_request"`
}

// dryRun prints what a run would send, one JSON object per (item, model).
func dryRun(stdout io.Writer, suites []*prompts.Suite, models []string, suiteModels bool, format audit.Format, sel runner.Selection) error {
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for _, s := range suites {
		for {
			it, err := s.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err // a Problems: nothing was sent
			}
			if !sel.Has(it) {
				continue
			}
			for _, m := range runner.ModelsOf(it, s, models, suiteModels) {
				ev, err := format.Input(it.Context, it.Prompt, audit.Meta{Model: m})
				if err != nil {
					return &runner.InputError{Err: fmt.Errorf("%s: %w", it.Pos, err)}
				}
				req := llm.Request{Model: m, System: it.System, Prompt: it.Prompt, Params: it.Params}
				line := dryRunLine{ID: it.ID, Suite: it.Suite, Model: m, AuditEvent: ev, ChatRequest: req.Body()}
				if err := enc.Encode(line); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
