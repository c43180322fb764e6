package runner

import (
	"context"
	"fmt"
	"io"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/prompts"
)

// SchemaReader reads the audit config's schema; *audit.Client is one.
type SchemaReader interface {
	Schema(ctx context.Context) (*audit.ConfigSchema, error)
}

// Preflight checks, before anything is sent, that the audit config can take
// the events a run would send: the config's schema is read, the shape of the
// events is checked against it, then every item's events against the
// fields' sizes. It returns the config's refusal as an error, and the items
// that would be refused as Problems, each at the item's position. When the
// schema cannot be read it returns audit.ErrSchemaUnreadable, and the caller
// goes on without the check. suites are read to the end.
func Preflight(ctx context.Context, sr SchemaReader, suites []*prompts.Suite, format audit.Format, outputs bool) error {
	schema, err := sr.Schema(ctx)
	if err != nil {
		return err
	}
	if err := schema.Fit(format.FieldNames(outputs)); err != nil {
		return err
	}
	var problems prompts.Problems
	for _, s := range suites {
		for {
			it, err := s.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				continue // validation reports it
			}
			meta := audit.Meta{Model: it.Model, Actor: it.Actor, Time: it.Timestamp}
			ev, err := format.Input(it.Context, it.Prompt, meta)
			if err != nil {
				problems = append(problems, &prompts.Problem{Pos: it.Pos, Msg: err.Error()})
				continue
			}
			for _, p := range schema.Check(ev) {
				msg := p.Msg
				if (p.Field == "event_input" || p.Field == "message") && it.Context != "" && format.Context == audit.FullContext {
					msg += "; record the context by its hash instead with --audit-context sha256"
				}
				problems = append(problems, &prompts.Problem{Pos: it.Pos, Msg: "audit preflight: " + msg})
			}
			if outputs && it.Answer != "" {
				for _, p := range schema.Check(format.Output(it.Answer, meta)) {
					problems = append(problems, &prompts.Problem{Pos: it.Pos, Msg: "audit preflight (answer): " + p.Msg})
				}
			}
			if len(problems) >= prompts.MaxProblems {
				problems = append(problems, &prompts.Problem{Pos: prompts.Position{File: s.File()}, Msg: fmt.Sprintf("stopped after %d problems", len(problems))})
				return problems
			}
		}
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}
