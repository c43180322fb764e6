package prompts

import (
	"math"
)

// paramRule checks one chat-completion parameter and returns the value to
// send, or ok false with what the value must be.
type paramRule func(v *node) (out any, ok bool)

// checkedParams are the parameters whose values are checked, with what a
// value must be.
var checkedParams = map[string]struct {
	rule paramRule
	want string
}{
	"temperature":           {numberIn(0, 2), "a number from 0 to 2"},
	"top_p":                 {numberIn(0, 1), "a number from 0 to 1"},
	"presence_penalty":      {numberIn(-2, 2), "a number from -2 to 2"},
	"frequency_penalty":     {numberIn(-2, 2), "a number from -2 to 2"},
	"max_tokens":            {wholeFrom(1), "a whole number of at least 1"},
	"max_completion_tokens": {wholeFrom(1), "a whole number of at least 1"},
	"seed":                  {wholeFrom(math.MinInt64), "a whole number"},
	"stop":                  {stopValue, "text or a list of texts"},
}

// refusedParams are parameters the tool sets itself, with why.
var refusedParams = map[string]string{
	"stream":         "tracebatch decides whether to stream; remove it",
	"stream_options": "tracebatch decides whether to stream; remove it",
	"n":              "tracebatch asks for one answer per item; remove it, or repeat the item with other ids",
	"messages":       "tracebatch builds the messages from system, context and prompt; remove it",
	"model":          "use the item's model field instead",
}

// passedParams are parameters of OpenAI's chat completions and of common
// compatible servers (vLLM, Ollama) that are sent as given. They are listed
// so that they are not mistaken for typos of the checked ones.
var passedParams = []string{
	"audio", "best_of", "chat_template_kwargs", "function_call", "functions",
	"guided_choice", "guided_grammar", "guided_json", "guided_regex",
	"ignore_eos", "include_stop_str_in_output", "length_penalty", "logit_bias",
	"logprobs", "metadata", "min_p", "min_tokens", "modalities",
	"parallel_tool_calls", "prediction", "prompt_cache_key", "reasoning_effort",
	"repetition_penalty", "response_format", "safety_identifier",
	"service_tier", "skip_special_tokens", "store", "tool_choice", "tools",
	"top_k", "top_logprobs", "use_beam_search", "user", "verbosity",
	"web_search_options",
}

// paramNames are the names an unknown parameter is compared with for a
// suggestion: the checked ones first, so they win ties.
var paramNames = append([]string{
	"temperature", "top_p", "max_tokens", "max_completion_tokens", "seed",
	"presence_penalty", "frequency_penalty", "stop",
	"stream", "stream_options", "n", "messages", "model",
}, passedParams...)

// readParams checks the params mapping of an item or of the defaults. A
// null value is kept as nil: it removes a default when the maps merge.
func (r *reader) readParams(f *field, c *collector) map[string]any {
	if f.val.kind != mapKind {
		c.at(f.val, "params must be %s of chat-completion parameters, not %s", describe(mapKind, r.jsonl), describe(f.val.kind, r.jsonl))
		return nil
	}
	out := make(map[string]any, len(f.val.fields))
	for i := range f.val.fields {
		p := &f.val.fields[i]
		if why, ok := refusedParams[p.key]; ok {
			c.atKey(p, "params cannot set %s: %s", p.key, why)
			continue
		}
		if p.val.kind == nullKind {
			out[p.key] = nil
			continue
		}
		if rule, ok := checkedParams[p.key]; ok {
			v, ok := rule.rule(p.val)
			if !ok {
				c.at(p.val, "params: %s must be %s", p.key, rule.want)
				continue
			}
			out[p.key] = v
			continue
		}
		if !isPassed(p.key) {
			if s := suggest(p.key, paramNames); s != "" {
				c.atKey(p, "unknown parameter %s; did you mean %q?", quote(p.key), s)
				continue
			}
		}
		out[p.key] = p.val.value()
	}
	return out
}

func isPassed(name string) bool {
	for _, p := range passedParams {
		if p == name {
			return true
		}
	}
	return false
}

// numberIn accepts a number from lo to hi and keeps it as read.
func numberIn(lo, hi float64) paramRule {
	return func(v *node) (any, bool) {
		if v.kind != numberKind {
			return nil, false
		}
		f := toFloat(v.num)
		return v.num, f >= lo && f <= hi // false for NaN too
	}
}

// wholeFrom accepts a whole number of at least lo, as an int64.
func wholeFrom(lo int64) paramRule {
	return func(v *node) (any, bool) {
		if v.kind != numberKind {
			return nil, false
		}
		i, ok := toInt(v.num)
		return i, ok && i >= lo
	}
}

// stopValue accepts text or a list of texts.
func stopValue(v *node) (any, bool) {
	switch v.kind {
	case stringKind:
		return v.str, true
	case listKind:
		out := make([]string, len(v.list))
		for i, e := range v.list {
			if e.kind != stringKind {
				return nil, false
			}
			out[i] = e.str
		}
		return out, true
	}
	return nil, false
}

// toFloat converts a number node's value to float64.
func toFloat(num any) float64 {
	switch n := num.(type) {
	case int64:
		return float64(n)
	case float64:
		return n
	}
	return math.NaN()
}

// toInt converts a number node's value to int64 when it is whole and fits.
func toInt(num any) (int64, bool) {
	switch n := num.(type) {
	case int64:
		return n, true
	case float64:
		if n == math.Trunc(n) && n >= -(1<<63) && n < 1<<63 {
			return int64(n), true
		}
	}
	return 0, false
}
