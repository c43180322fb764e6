package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// ConfigSchema is the schema of an audit config: the fields its events may
// carry (Pangea's AuditSchema).
type ConfigSchema struct {
	Fields []SchemaField `json:"fields"`
}

// SchemaField is one field of a config's schema.
type SchemaField struct {
	// ID is the field's name in an event.
	ID string `json:"id"`
	// Type is string, string-unindexed, text, datetime, …
	Type string `json:"type"`
	// Required says every event must carry it.
	Required bool `json:"required,omitempty"`
	// Size is the most characters a string may hold; 0 means no limit.
	Size int `json:"size,omitempty"`
}

// ErrSchemaUnreadable is returned by Schema when the config's schema cannot
// be read (a token without that permission): preflight is then skipped.
var ErrSchemaUnreadable = errors.New("the audit config's schema cannot be read")

// Schema asks Pangea for the config's schema (POST /v1/schema).
func (c *Client) Schema(ctx context.Context) (*ConfigSchema, error) {
	body := []byte(`{}`)
	if c.cfg.ConfigID != "" {
		body, _ = json.Marshal(map[string]string{"config_id": c.cfg.ConfigID}) // strings always encode
	}
	res, err := c.call(ctx, http.MethodPost, "v1/schema", body, true)
	var api *APIError
	if errors.As(err, &api) && (api.HTTPStatus == http.StatusForbidden || api.HTTPStatus == http.StatusNotFound) {
		return nil, fmt.Errorf("%w: %v", ErrSchemaUnreadable, err)
	}
	if err != nil {
		return nil, err
	}
	var s ConfigSchema
	if err := json.Unmarshal(res.Result, &s); err != nil || len(s.Fields) == 0 {
		return nil, fmt.Errorf("%w: the answer (request_id %s) holds no fields", ErrSchemaUnreadable, res.RequestID)
	}
	return &s, nil
}

func (s *ConfigSchema) field(id string) (SchemaField, bool) {
	for _, f := range s.Fields {
		if f.ID == id {
			return f, true
		}
	}
	return SchemaField{}, false
}

// Fit checks that events with the given fields can be logged to this
// config: every field exists and every required field is there. Its error
// says what to change, e.g. to use --audit-schema standard.
func (s *ConfigSchema) Fit(fields []string) error {
	var missing, unknown []string
	for _, f := range fields {
		if _, ok := s.field(f); !ok {
			unknown = append(unknown, f)
		}
	}
	for _, f := range s.Fields {
		if f.Required && !slices.Contains(fields, f.ID) {
			missing = append(missing, f.ID)
		}
	}
	if len(unknown) == 0 && len(missing) == 0 {
		return nil
	}
	_, hasMessage := s.field("message")
	_, hasType := s.field("event_type")
	switch {
	case slices.Contains(unknown, "event_type") && hasMessage && !hasType:
		return errors.New("this config uses the Standard schema: use --audit-schema standard, or an AI Audit Log Schema config (--audit-config-id)")
	case slices.Contains(unknown, "message") && hasType && !hasMessage:
		return errors.New("this config uses the AI Audit Log Schema: use --audit-schema ai (the default)")
	}
	var parts []string
	if len(unknown) > 0 {
		parts = append(parts, fmt.Sprintf("it has no field %s", quoted(unknown)))
	}
	if len(missing) > 0 {
		parts = append(parts, fmt.Sprintf("it requires %s, which tracebatch does not send", quoted(missing)))
	}
	ids := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		ids[i] = f.ID
	}
	return fmt.Errorf("the audit config does not fit tracebatch's events: %s (its fields: %s); choose another config with --audit-config-id", strings.Join(parts, "; "), strings.Join(ids, ", "))
}

// FieldProblem is an event value the config would refuse.
type FieldProblem struct {
	// Field is the event field.
	Field string
	// Msg says what is wrong.
	Msg string
}

// Check checks one event against the config: every field exists, and no
// value is longer than its field allows.
func (s *ConfigSchema) Check(ev Event) []FieldProblem {
	var out []FieldProblem
	for name, v := range ev.Fields {
		f, ok := s.field(name)
		switch {
		case !ok:
			out = append(out, FieldProblem{name, fmt.Sprintf("the audit config has no field %q", name)})
		case f.Size > 0:
			if n := utf8.RuneCountInString(v); n > f.Size {
				out = append(out, FieldProblem{name, fmt.Sprintf("%s would be %d characters; the audit config allows %d", name, n, f.Size)})
			}
		}
	}
	slices.SortFunc(out, func(a, b FieldProblem) int { return strings.Compare(a.Field, b.Field) })
	return out
}

// FieldNames lists the fields the format's events always carry: those of
// input events, and of output events when outputs is set.
func (f Format) FieldNames(outputs bool) []string {
	var names []string
	add := func(ev Event) {
		for k := range ev.Fields {
			if !slices.Contains(names, k) {
				names = append(names, k)
			}
		}
	}
	in, _ := f.Input("c", "p", Meta{Model: "m"})
	add(in)
	if outputs {
		add(f.Output("a", Meta{Model: "m"}))
	}
	slices.Sort(names)
	return names
}

func quoted(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
