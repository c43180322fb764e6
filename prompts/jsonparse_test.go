package prompts

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// stdValue decodes data with encoding/json the way the JSONL reader should:
// integers as int64, other numbers as float64. ok is false when data is not
// valid JSON or holds a number out of range.
func stdValue(data []byte) (v any, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if !json.Valid(data) {
		return nil, false
	}
	return normalize(v)
}

func normalize(v any) (any, bool) {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, true
		}
		f, err := v.Float64()
		return f, err == nil
	case []any:
		for i, e := range v {
			n, ok := normalize(e)
			if !ok {
				return nil, false
			}
			v[i] = n
		}
	case map[string]any:
		for k, e := range v {
			n, ok := normalize(e)
			if !ok {
				return nil, false
			}
			v[k] = n
		}
	}
	return v, true
}

// compareWithStd checks that parseJSONLine accepts exactly what
// encoding/json accepts and decodes the same values. Lines with duplicate
// keys or numbers out of range parse but are problems; their values are
// not compared.
func compareWithStd(t *testing.T, data []byte) {
	t.Helper()
	if !utf8.Valid(data) || bytes.ContainsAny(data, "\n") {
		return // the reader rejects these before parsing
	}
	c := &collector{file: "f"}
	n, col, msg := parseJSONLine(data, 1, c, nil)
	valid := json.Valid(data)
	if (n != nil) != valid {
		t.Fatalf("%q: parsed %v (%d: %s), json.Valid %v", data, n != nil, col, msg, valid)
	}
	if n == nil {
		if !strings.HasPrefix(msg, "line is not valid JSON: ") || col < 1 || col > len(data)+1 {
			t.Fatalf("%q: problem at %d: %s", data, col, msg)
		}
		return
	}
	if len(c.ps) > 0 {
		return
	}
	want, ok := stdValue(data)
	if !ok {
		t.Fatalf("%q: encoding/json cannot decode what parsed cleanly", data)
	}
	if got := n.value(); !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %#v\nwant %#v", data, got, want)
	}
}

func TestJSONParserMatchesStd(t *testing.T) {
	for _, s := range []string{
		`{}`, `[]`, ` { } `, `{"a":1}`, `{"a":[1,2,{"b":null}],"c":true,"d":false}`,
		`"text"`, `""`, `0`, `-0`, `-1`, `1.5`, `1e3`, `1E+3`, `1e-3`, `-0.0e0`,
		`9223372036854775807`, `9223372036854775808`, `-9223372036854775808`, `-9223372036854775809`, `1e308`,
		`"\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t"`, `"\ud83d"`, `"\ude00\ud83d"`, `"\ud83dx"`, `"\ud83d\u0041"`,
		`"é☃😀"`, "\"a\tb\"", "\"a\x01b\"", `"\x"`, `"\u12"`, `"\u12G4"`, `"unterminated`, `"\`,
		`{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":1 "b":2}`, `[1,]`, `[,1]`, `[1 2]`, `{"a":}`,
		`01`, `1.`, `.5`, `-`, `+1`, `1e`, `1e+`, `0x10`, `NaN`, `Infinity`, `tru`, `nul`, `falsey`,
		`{} {}`, `{}x`, `1 2`, ``, ` `, "\r{}\r", "\t[]", `[[[]]]`, `{"a":{"b":{"c":{}}}}`,
		`{"k":"v","k":"w"}`, `1e400`, `-1e400`,
	} {
		compareWithStd(t, []byte(s))
	}
}

// FuzzJSONValue checks the position-keeping JSON parser against
// encoding/json on arbitrary input: the same inputs are valid, and valid
// inputs decode to the same values.
func FuzzJSONValue(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x\u00e9",null,true]}`, `"\ud800"`, `[1,]`, `-0.0e-0`, `{"a":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		compareWithStd(t, data)
	})
}

// TestPlainWordMatchesPlainByte checks the eight-at-a-time test against the
// byte table over every byte value in every position.
func TestPlainWordMatchesPlainByte(t *testing.T) {
	base := []byte("abcdefgh")
	for pos := range 8 {
		for c := range 256 {
			w := bytes.Clone(base)
			w[pos] = byte(c)
			want := true
			for _, b := range w {
				want = want && plainByte[b]
			}
			if got := plainWord(binary.LittleEndian.Uint64(w)); got != want {
				t.Fatalf("byte %#x at %d: plainWord %v, plainByte %v", c, pos, got, want)
			}
		}
	}
}
