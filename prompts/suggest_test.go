package prompts

import (
	"strings"
	"testing"
)

func TestSuggest(t *testing.T) {
	fields := itemFields
	tests := []struct{ word, want string }{
		{"promt", "prompt"}, {"prompts", "prompt"}, {"Prompt", "prompt"}, {"PROMPT", "prompt"},
		{"pormpt", "prompt"}, // a swap is one edit
		{"contxt", "context"}, {"context-file", "context_file"}, {"contextfile", "context_file"},
		{"tag", "tags"}, {"ids", "id"}, {"metdata", "metadata"},
		{"x", ""}, {"ab", ""}, {"question", ""}, {"temperature", ""}, {"", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.word, fields); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
	if got := suggest("tempreature", paramNames); got != "temperature" {
		t.Errorf("params: %q", got)
	}
	if got := suggest("icontain", checkTypes); got != "icontains" {
		t.Errorf("checks: %q", got)
	}
	if got := suggest("notcontains", checkTypes); got != "not-contains" {
		t.Errorf("checks: %q", got)
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"a", "", 1}, {"abc", "abc", 0}, {"abc", "acb", 1}, {"kitten", "sitting", 3},
		{"ca", "abc", 3}, // optimal string alignment, not full Damerau
		{"héllo", "hello", 1},
	}
	for _, tt := range tests {
		if got := editDistance([]rune(tt.a), []rune(tt.b), 100); got != tt.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
		if got := editDistance([]rune(tt.a), []rune(tt.b), 2); got != min(tt.d, 2) {
			t.Errorf("bounded editDistance(%q, %q) = %d", tt.a, tt.b, got)
		}
	}
}

func TestQuote(t *testing.T) {
	if got := quote("short"); got != `"short"` {
		t.Error(got)
	}
	long := strings.Repeat("é", 100)
	if got := quote(long); got != `"`+strings.Repeat("é", 60)+`"…` {
		t.Error(got)
	}
	if got := list([]string{"a", "b", "c"}); got != "a, b or c" {
		t.Error(got)
	}
}
