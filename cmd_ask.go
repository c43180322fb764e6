package main

import (
	"fmt"
	"os"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/llm"
	"github.com/tracebatch/tracebatch/prompts"
)

func askCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: flagModel, Value: "gpt-4o-mini", Usage: "model to ask"},
		&cli.StringFlag{Name: "context-file", Usage: "answer from the text in `FILE` instead of the built-in magic-links context"},
	}
	flags = append(flags, auditFlags()...)
	flags = append(flags, modelFlags()...)
	return &cli.Command{
		Name:      "ask",
		Usage:     "audit one prompt and its context, then stream the answer (the original example)",
		ArgsUsage: "PROMPT",
		Description: "Without --context-file the context is a built-in text on magic-link\n" +
			"authentication; questions outside it should get an \"I don't know\".",
		Flags:        flags,
		OnUsageError: onUsageError,
		Action:       askAction,
	}
}

func askAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("ask takes one prompt: tracebatch ask \"What are magic links?\"")
	}
	prompt := c.Args().First()
	if !utf8.ValidString(prompt) {
		return usagef("the prompt is not valid UTF-8")
	}
	context := prompts.MagicLinks
	if path := c.String("context-file"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return usagef("--context-file: %v", err)
		}
		if !utf8.Valid(b) {
			return usagef("--context-file %s is not valid UTF-8; save it as UTF-8", path)
		}
		context = string(b)
	}
	format, err := eventFormat(c)
	if err != nil {
		return err
	}
	model := c.String(flagModel)
	input, err := format.Input(context, prompt, audit.Meta{Model: model})
	if err != nil {
		return usageError{err}
	}
	acfg, err := auditConfig(c, 1)
	if err != nil {
		return err
	}
	mcfg, err := modelConfig(c, 1)
	if err != nil {
		return err
	}
	ac, err := newAudit(acfg)
	if err != nil {
		return err
	}
	mc, err := newModel(mcfg)
	if err != nil {
		return err
	}

	pf, err := preflight(c, ac, format)
	if err != nil {
		return err
	}
	if pf != nil {
		if ps := pf.Check(prompts.Item{Prompt: prompt, Context: context, Model: model, Pos: prompts.Position{File: "the prompt"}}); len(ps) > 0 {
			return ps
		}
	}

	// Audit first: the model sees nothing that was not accepted.
	receipt, err := recordOne(c, ac, input)
	if err != nil {
		return fmt.Errorf("audit: %w; the prompt was not sent", err)
	}
	fmt.Fprintf(c.App.ErrWriter, "audited: hash %s (request_id %s)\n", receipt.Hash, receipt.RequestID)

	out := c.App.Writer
	ans, err := mc.Stream(c.Context, llm.Request{Model: model, System: prompts.Render(prompts.DefaultSystem, context), Prompt: prompt},
		func(delta string) error {
			_, err := fmt.Fprint(out, delta)
			return err
		})
	fmt.Fprintln(out)
	if err != nil {
		return fmt.Errorf("model: %w", err)
	}
	if c.Bool("audit-responses") {
		receipt, err := recordOne(c, ac, format.Output(ans.Text, audit.Meta{Model: model}))
		if err != nil {
			return fmt.Errorf("audit of the answer: %w", err)
		}
		fmt.Fprintf(c.App.ErrWriter, "answer audited: hash %s (request_id %s)\n", receipt.Hash, receipt.RequestID)
	}
	return nil
}

// recordOne records a single event and returns its receipt.
func recordOne(c *cli.Context, ac *audit.Client, ev audit.Event) (audit.Receipt, error) {
	o := ac.LogBulk(c.Context, []audit.Event{ev})[0]
	return o.Receipt, o.Err
}
