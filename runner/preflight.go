package runner

import (
	"context"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/prompts"
)

// SchemaReader reads the audit config's schema; *audit.Client is one.
type SchemaReader interface {
	Schema(ctx context.Context) (*audit.ConfigSchema, error)
}

// Preflight checks, before anything is sent, that the audit config can take
// the events a run would send. NewPreflight checks the shape of the events
// against the config's schema; Check then checks each item's events against
// the fields' sizes, during the pass that validates the suites.
type Preflight struct {
	schema  *audit.ConfigSchema
	format  audit.Format
	outputs bool
}

// NewPreflight reads the config's schema and checks that events of this
// format (with output events when outputs is set) fit it. It returns the
// config's refusal as an error that says what to change, or
// audit.ErrSchemaUnreadable when the schema cannot be read: the caller then
// goes on without the check.
func NewPreflight(ctx context.Context, sr SchemaReader, format audit.Format, outputs bool) (*Preflight, error) {
	schema, err := sr.Schema(ctx)
	if err != nil {
		return nil, err
	}
	if err := schema.Fit(format.FieldNames(outputs)); err != nil {
		return nil, err
	}
	return &Preflight{schema: schema, format: format, outputs: outputs}, nil
}

// Check returns the problems the config would have with the item's events,
// at the item's position: a field it lacks, a value too long (with the
// advice to record a large context by its hash).
func (p *Preflight) Check(it prompts.Item) prompts.Problems {
	var problems prompts.Problems
	meta := audit.Meta{Model: it.Model, Actor: it.Actor, Time: it.Timestamp}
	ev, err := p.format.Input(it.Context, it.Prompt, meta)
	if err != nil {
		return prompts.Problems{{Pos: it.Pos, Msg: err.Error()}}
	}
	for _, fp := range p.schema.Check(ev) {
		msg := fp.Msg
		if (fp.Field == "event_input" || fp.Field == "message") && it.Context != "" && p.format.Context == audit.FullContext {
			msg += "; record the context by its hash instead with --audit-context sha256"
		}
		problems = append(problems, &prompts.Problem{Pos: it.Pos, Msg: "audit preflight: " + msg})
	}
	if p.outputs && it.Answer != "" {
		for _, fp := range p.schema.Check(p.format.Output(it.Answer, meta)) {
			problems = append(problems, &prompts.Problem{Pos: it.Pos, Msg: "audit preflight (answer): " + fp.Msg})
		}
	}
	return problems
}
