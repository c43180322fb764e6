package fakeapi

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Schema is an audit schema: the fields an event may carry. It is what
// POST /v1/schema answers (Pangea's AuditSchema) and what the fake Pangea
// validates events against.
type Schema struct {
	// ClientSignable says events may carry a client signature.
	ClientSignable bool `json:"client_signable"`
	// SaveMalformed is "reject" (events that do not fit are refused), as in
	// every built-in schema; the fake always rejects.
	SaveMalformed string `json:"save_malformed,omitempty"`
	// TamperProofing says events are kept in a Merkle tree.
	TamperProofing bool `json:"tamper_proofing"`
	// Fields are the fields of an event.
	Fields []SchemaField `json:"fields"`
}

// SchemaField is one field of a Schema (Pangea's AuditSchemaField).
type SchemaField struct {
	// ID is the field's name in an event, such as "event_input".
	ID string `json:"id"`
	// Name is the field's display name.
	Name string `json:"name,omitempty"`
	// Type is "string", "string-unindexed", "text", "datetime", "integer"
	// or "boolean". String types require a JSON string; datetime requires
	// an RFC 3339 string.
	Type string `json:"type"`
	// Description describes the field.
	Description string `json:"description,omitempty"`
	// Required says every event must carry the field.
	Required bool `json:"required,omitempty"`
	// Size is the most UTF-8 characters a string field may hold; 0 means no
	// limit.
	Size int `json:"size,omitempty"`
	// Redact says the field goes through the redaction service.
	Redact bool `json:"redact,omitempty"`
	// UIDefaultVisible says the log viewer shows the field by default.
	UIDefaultVisible bool `json:"ui_default_visible,omitempty"`
}

// AISchema returns the "AI Audit Log Schema" that tracebatch logs to:
// event_type is required; event_input and event_output hold up to 32766
// characters; event_context has no size limit.
func AISchema() Schema {
	return Schema{
		SaveMalformed:  "reject",
		TamperProofing: true,
		Fields: []SchemaField{
			{ID: "timestamp", Name: "Timestamp", Type: "datetime", UIDefaultVisible: true},
			{ID: "actor", Name: "Actor", Type: "string", Size: 128, UIDefaultVisible: true},
			{ID: "event_type", Name: "Event Type", Type: "string", Size: 64, Required: true, UIDefaultVisible: true},
			{ID: "event_input", Name: "Event Input", Type: "string-unindexed", Size: 32766, UIDefaultVisible: true},
			{ID: "event_output", Name: "Event Output", Type: "string-unindexed", Size: 32766, UIDefaultVisible: true},
			{ID: "event_tools", Name: "Event Tools", Type: "string", Size: 128},
			{ID: "event_context", Name: "Event Context", Type: "string-unindexed"},
			{ID: "model", Name: "Model", Type: "string", Size: 128},
			{ID: "source", Name: "Source", Type: "string", Size: 128},
			{ID: "target", Name: "Target", Type: "string", Size: 128},
			{ID: "status", Name: "Status", Type: "string", Size: 32},
			{ID: "tenant_id", Name: "Tenant ID", Type: "string", Size: 128},
		},
	}
}

// StandardSchema returns Pangea's Standard schema (the AuditEvent of the
// API spec): message is required.
func StandardSchema() Schema {
	return Schema{
		SaveMalformed:  "reject",
		TamperProofing: true,
		Fields: []SchemaField{
			{ID: "timestamp", Name: "Timestamp", Type: "datetime", UIDefaultVisible: true},
			{ID: "actor", Name: "Actor", Type: "string", Size: 128, UIDefaultVisible: true},
			{ID: "action", Name: "Action", Type: "string", Size: 32, UIDefaultVisible: true},
			{ID: "message", Name: "Message", Type: "string", Size: 32766, Required: true, UIDefaultVisible: true},
			{ID: "new", Name: "New", Type: "string", Size: 32766},
			{ID: "old", Name: "Old", Type: "string", Size: 32766},
			{ID: "source", Name: "Source", Type: "string", Size: 128},
			{ID: "status", Name: "Status", Type: "string", Size: 32},
			{ID: "target", Name: "Target", Type: "string", Size: 128},
			{ID: "tenant_id", Name: "Tenant ID", Type: "string", Size: 128},
		},
	}
}

// ValidationError is one item of the errors of a Pangea 400 answer
// (pangea-validation-errors).
type ValidationError struct {
	// Code is Pangea's error code, such as "UnexpectedProperty".
	Code string `json:"code"`
	// Detail is a human readable description.
	Detail string `json:"detail"`
	// Source is the JSON pointer of the offending value in the request,
	// such as "/events/3/event/foo".
	Source string `json:"source"`
	// Path is the JSON pointer of the schema rule, when known.
	Path string `json:"path,omitempty"`
}

// Rejector picks events that the fake Pangea refuses although they fit the
// schema, to simulate an event that Pangea rejects. It returns the name of
// the offending field and true to refuse the event. It is called
// concurrently and must not modify the event.
type Rejector func(event map[string]any) (field string, reject bool)

// RejectContaining returns a Rejector that refuses every event whose string
// field contains substr, such as RejectContaining("event_input", "poison").
// The refusal names the field with the code "BadFormat".
func RejectContaining(field, substr string) Rejector {
	return func(event map[string]any) (string, bool) {
		s, ok := event[field].(string)
		return field, ok && strings.Contains(s, substr)
	}
}

// compiledSchema is a Schema ready for validation.
type compiledSchema struct {
	schema Schema
	byID   map[string]int
	answer json.RawMessage // the /v1/schema result
}

// compile prepares s for validation.
func compile(s Schema) (*compiledSchema, error) {
	s.Fields = slices.Clone(s.Fields)
	c := &compiledSchema{schema: s, byID: make(map[string]int, len(s.Fields))}
	for i, f := range s.Fields {
		if f.ID == "" {
			return nil, fmt.Errorf("fakeapi: schema field %d has no id", i)
		}
		if _, dup := c.byID[f.ID]; dup {
			return nil, fmt.Errorf("fakeapi: schema field %q defined twice", f.ID)
		}
		c.byID[f.ID] = i
	}
	answer, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("fakeapi: encoding schema: %w", err)
	}
	c.answer = answer
	return c, nil
}

// check returns the first error of event against the schema, or nil. The
// error's source is relative to the event, such as "/foo".
func (c *compiledSchema) check(event map[string]any) *ValidationError {
	for k := range event {
		if _, ok := c.byID[k]; !ok {
			return c.unexpected(event)
		}
	}
	for i := range c.schema.Fields {
		f := &c.schema.Fields[i]
		v, present := event[f.ID]
		if !present {
			if f.Required {
				return &ValidationError{Code: "FieldRequired", Detail: fmt.Sprintf("'%s' is a required property", f.ID), Source: "/" + escapePointer(f.ID)}
			}
			continue
		}
		if e := checkValue(f, v); e != nil {
			e.Source = "/" + escapePointer(f.ID)
			return e
		}
	}
	return nil
}

// unexpected returns the error for the first (in sorted order) key of event
// that the schema does not define.
func (c *compiledSchema) unexpected(event map[string]any) *ValidationError {
	var bad []string
	for k := range event {
		if _, ok := c.byID[k]; !ok {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	return &ValidationError{
		Code:   "UnexpectedProperty",
		Detail: fmt.Sprintf("Additional properties are not allowed ('%s' was unexpected)", bad[0]),
		Source: "/" + escapePointer(bad[0]),
	}
}

// checkValue checks the value of one field; the error's source is left for
// the caller to set.
func checkValue(f *SchemaField, v any) *ValidationError {
	switch f.Type {
	case "string", "string-unindexed", "text":
		s, ok := v.(string)
		if !ok {
			return &ValidationError{Code: "InvalidString", Detail: fmt.Sprintf("%s is not of type 'string'", describe(v))}
		}
		if f.Size > 0 && len(s) > f.Size && utf8.RuneCountInString(s) > f.Size {
			return &ValidationError{Code: "AboveMaxLength", Detail: fmt.Sprintf("string of %d characters is longer than %d", utf8.RuneCountInString(s), f.Size)}
		}
	case "datetime":
		s, ok := v.(string)
		if !ok {
			return &ValidationError{Code: "InvalidString", Detail: fmt.Sprintf("%s is not of type 'string'", describe(v))}
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return &ValidationError{Code: "BadFormatDateTime", Detail: fmt.Sprintf("%q is not a 'date-time'", s)}
		}
	case "integer":
		n, ok := v.(float64)
		if !ok || n != math.Trunc(n) {
			return &ValidationError{Code: "InvalidInteger", Detail: fmt.Sprintf("%s is not of type 'integer'", describe(v))}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return &ValidationError{Code: "InvalidBool", Detail: fmt.Sprintf("%s is not of type 'boolean'", describe(v))}
		}
	}
	return nil
}

// describe renders a JSON value briefly for an error detail.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case string:
		return strconv.Quote(v)
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// escapePointer escapes a key for a JSON pointer (RFC 6901).
func escapePointer(k string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
}
