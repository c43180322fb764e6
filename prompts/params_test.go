package prompts

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParams(t *testing.T) {
	items := mustItems(t, "s.yaml", `
prompts:
  - prompt: x
    params:
      temperature: 2
      top_p: 0
      max_tokens: 1
      max_completion_tokens: 4096
      seed: -9223372036854775808
      presence_penalty: -2
      frequency_penalty: 2.0
      stop: END
      top_k: 5
      response_format: {type: json_object}
      custom_vendor_option: [1, 2]
`, YAML)
	want := map[string]any{
		"temperature": int64(2), "top_p": int64(0), "max_tokens": int64(1), "max_completion_tokens": int64(4096),
		"seed": int64(math.MinInt64), "presence_penalty": int64(-2), "frequency_penalty": 2.0, "stop": "END",
		"top_k": int64(5), "response_format": map[string]any{"type": "json_object"},
		"custom_vendor_option": []any{int64(1), int64(2)},
	}
	if !reflect.DeepEqual(items[0].Params, want) {
		t.Errorf("params:\n got %#v\nwant %#v", items[0].Params, want)
	}
}

func TestParamProblems(t *testing.T) {
	tests := []struct{ params, want string }{
		{"temperature: .nan", "params: temperature must be a number from 0 to 2"},
		{"temperature: .inf", "params: temperature must be a number from 0 to 2"},
		{"temperature: '1'", "params: temperature must be a number from 0 to 2"},
		{"max_tokens: 1e30", "params: max_tokens must be a whole number of at least 1"},
		{"max_tokens: 2.5", "params: max_tokens must be a whole number of at least 1"},
		{"seed: true", "params: seed must be a whole number"},
		{"stop: {a: b}", "params: stop must be text or a list of texts"},
		{"stream_options: {include_usage: true}", "params cannot set stream_options: tracebatch decides whether to stream; remove it"},
		{"max_token: 5", `unknown parameter "max_token"; did you mean "max_tokens"?`},
		{"frequencypenalty: 1", `unknown parameter "frequencypenalty"; did you mean "frequency_penalty"?`},
	}
	for _, tt := range tests {
		got := problemsOf(t, "s.yaml", "prompts:\n  - prompt: x\n    params: {"+tt.params+"}\n", YAML)
		if len(got) != 1 || !strings.HasSuffix(got[0], ": "+tt.want) {
			t.Errorf("%s: got %q, want %q", tt.params, got, tt.want)
		}
	}
	got := problemsOf(t, "s.yaml", "prompts:\n  - prompt: x\n    params: [temperature]\n", YAML)
	if !slices.Equal(got, []string{"s.yaml:3:13: params must be a mapping of chat-completion parameters, not a list"}) {
		t.Errorf("got %q", got)
	}
}

// TestPassedParamsAreNotTypos checks that no parameter sent as given would
// be taken for a typo of another.
func TestPassedParamsAreNotTypos(t *testing.T) {
	for _, p := range passedParams {
		got := problemsOf(t, "s.yaml", "prompts:\n  - prompt: x\n    params: {"+p+": 1}\n", YAML)
		if len(got) != 0 {
			t.Errorf("%s: %q", p, got)
		}
	}
}
