package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestCanonicalMatchesPython checks Canonical against vectors that Python's
// json.dumps(ensure_ascii=False, allow_nan=False, separators=(",", ":"),
// sort_keys=True) produced (testdata/canonical_vectors.py).
func TestCanonicalMatchesPython(t *testing.T) {
	f, err := os.Open("testdata/canonical_vectors.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var vec struct {
			Name         string          `json:"name"`
			Input        json.RawMessage `json:"input"`
			CanonicalHex string          `json:"canonical_hex"`
		}
		if err := json.Unmarshal(sc.Bytes(), &vec); err != nil {
			t.Fatal(err)
		}
		want, err := hex.DecodeString(vec.CanonicalHex)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Canonical(decodeVector(t, vec.Input))
		if err != nil {
			t.Errorf("%s: %v", vec.Name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", vec.Name, got, want)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("only %d vectors read", n)
	}
}

// decodeVector decodes JSON into the Go values Canonical takes, keeping
// Python's distinction between integers and floats.
func decodeVector(t *testing.T, raw []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	var conv func(any) any
	conv = func(v any) any {
		switch v := v.(type) {
		case json.Number:
			if !strings.ContainsAny(v.String(), ".eE") {
				n, err := v.Int64()
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			f, err := v.Float64()
			if err != nil {
				t.Fatal(err)
			}
			return f
		case map[string]any:
			for k, e := range v {
				v[k] = conv(e)
			}
		case []any:
			for i, e := range v {
				v[i] = conv(e)
			}
		}
		return v
	}
	return conv(v)
}

func TestCanonicalRefuses(t *testing.T) {
	for name, v := range map[string]any{
		"invalid utf-8": map[string]any{"prompt": "a\xffb"},
		"nan":           map[string]any{"x": nanValue()},
		"unsupported":   struct{}{},
	} {
		if _, err := Canonical(v); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}

func BenchmarkCanonical(b *testing.B) {
	v := map[string]any{
		"context": strings.Repeat("Magic links are single-use <links> & \"tokens\".\n", 40),
		"prompt":  "What are magic links?",
	}
	b.ReportAllocs()
	buf := make([]byte, 0, 4096)
	for b.Loop() {
		var err error
		buf, err = AppendCanonical(buf[:0], v)
		if err != nil {
			b.Fatal(err)
		}
	}
}

// TestInputIsCanonical checks that Format.Input, which writes event_input
// directly, gives exactly Canonical's bytes, in both context modes.
func TestInputIsCanonical(t *testing.T) {
	for _, c := range []struct{ ctx, prompt string }{
		{"", ""},
		{"Magic <links> & \"tokens\"\u2028\x01", "What?\n\t\\"},
		{strings.Repeat("é", 300), "emoji \U0001F600"},
	} {
		ev, err := Format{}.Input(c.ctx, c.prompt, Meta{})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := Canonical(map[string]any{"context": c.ctx, "prompt": c.prompt})
		if ev.EventInput != string(want) {
			t.Errorf("full: got %s, want %s", ev.EventInput, want)
		}
		ev, _ = Format{Context: HashContext}.Input(c.ctx, c.prompt, Meta{})
		sum := sha256.Sum256([]byte(c.ctx))
		want, _ = Canonical(map[string]any{"context_sha256": hex.EncodeToString(sum[:]), "context_length": len(c.ctx), "prompt": c.prompt})
		if ev.EventInput != string(want) {
			t.Errorf("sha256: got %s, want %s", ev.EventInput, want)
		}
	}
	if _, err := (Format{}).Input("ok", "bad \xff", Meta{}); err == nil {
		t.Error("invalid UTF-8 accepted")
	}
}
