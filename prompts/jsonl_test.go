package prompts

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestJSONLItems reads valid.jsonl and checks each field: numbers keep
// integers as int64 and fractions as float64, escapes are decoded, blank
// lines count for line numbers but not for default ids, a context file is
// relative to the suite.
func TestJSONLItems(t *testing.T) {
	s, err := Open(suitesDir + "valid.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var items []Item
	for {
		it, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	if len(items) != 3 || s.Name() != "valid" {
		t.Fatalf("%d items, name %q", len(items), s.Name())
	}
	first := items[0]
	if first.ID != "what-are-magic-links" || first.Pos.String() != suitesDir+"valid.jsonl:1" ||
		first.Context != "Magic links are passwordless sign-in links sent by email.\n" ||
		first.System != Render(DefaultSystem, first.Context) || len(first.Expect) != 2 || first.Expect[1].Value != 400 {
		t.Errorf("first: %+v", first)
	}
	second := items[1]
	if second.ID != "#2" || second.Index != 1 || second.Pos.Line != 3 {
		t.Errorf("second: id %q index %d line %d", second.ID, second.Index, second.Pos.Line)
	}
	if want := map[string]any{"temperature": 0.5, "max_tokens": int64(100), "seed": int64(42), "top_k": int64(40)}; !reflect.DeepEqual(second.Params, want) {
		t.Errorf("params = %#v", second.Params)
	}
	if want := map[string]any{"n": int64(3), "f": 1.5, "nested": map[string]any{"x": []any{int64(1), "two"}}}; !reflect.DeepEqual(second.Metadata, want) {
		t.Errorf("metadata = %#v", second.Metadata)
	}
	if !slices.Equal(second.Tags, []string{"a", "b"}) || second.Context != "Magic links expire." {
		t.Errorf("tags %v context %q", second.Tags, second.Context)
	}
	third := items[2]
	if third.Prompt != "Historical \u2603 prompt\nwith escapes" || third.Answer != "An answer." || third.Actor != "alice" || third.Model != "gpt-4o" {
		t.Errorf("third: %+v", third)
	}
	if !third.Timestamp.Equal(time.Date(2024, 5, 1, 10, 0, 0, 500e6, time.UTC)) {
		t.Errorf("timestamp %v", third.Timestamp)
	}
	if third.System != "" || third.Context != "" {
		t.Errorf("no context, yet System %q", third.System)
	}
}

// TestJSONLJoinedFiles reads files joined with cat, each with a byte order
// mark.
func TestJSONLJoinedFiles(t *testing.T) {
	items := mustItems(t, "x.jsonl", "\xef\xbb\xbf{\"prompt\":\"a\"}\r\n\xef\xbb\xbf{\"prompt\":\"b\"}\r\n", JSONL)
	if len(items) != 2 || items[1].Prompt != "b" {
		t.Errorf("%+v", items)
	}
}

func TestJSONLBOMAndCRLF(t *testing.T) {
	s, err := Open(suitesDir + "bom-crlf.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	one, err1 := s.Next()
	two, err2 := s.Next()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if one.ID != "one" || one.Prompt != "First?" || two.ID != "two" || two.Pos.Line != 3 || !strings.HasPrefix(two.Context, "Magic links") {
		t.Errorf("%+v\n%+v", one, two)
	}
	if _, err := s.Next(); err != io.EOF {
		t.Errorf("end: %v", err)
	}
}

// TestJSONLLongLine reads a 10 MB prompt and checks it arrives whole.
func TestJSONLLongLine(t *testing.T) {
	testLongLine(t, 10<<20)
}

// TestJSONLVeryLongLine reads a 64 MiB prompt.
func TestJSONLVeryLongLine(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB line")
	}
	testLongLine(t, 64<<20)
}

func testLongLine(t *testing.T, size int) {
	path := filepath.Join(t.TempDir(), "long.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, `{"id":"short","prompt":"before"}`)
	w.WriteString(`{"id":"long","prompt":"`)
	chunk := strings.Repeat("abcdefghi\\n", 1024) // escapes decoded along the way
	for n := 0; n < size; n += len(chunk) {
		w.WriteString(chunk)
	}
	w.WriteString("\"}\n")
	fmt.Fprintln(w, `{"id":"after","prompt":"after"}`)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ids []string
	for {
		it, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, it.ID)
		if it.ID == "long" {
			reps := (size + len(chunk) - 1) / len(chunk) * 1024
			if len(it.Prompt) != reps*10 || !strings.HasPrefix(it.Prompt, "abcdefghi\nabc") || strings.Contains(it.Prompt, `\`) {
				t.Errorf("long prompt: %d bytes, want %d", len(it.Prompt), reps*10)
			}
		}
	}
	if !slices.Equal(ids, []string{"short", "long", "after"}) {
		t.Errorf("ids %v", ids)
	}
}

// TestJSONLLineLimit lowers the line limit and checks that a longer line
// is a problem of its own while the lines around it are read.
func TestJSONLLineLimit(t *testing.T) {
	defer func(old int) { maxLine = old }(maxLine)
	maxLine = 100
	long := `{"prompt":"` + strings.Repeat("x", 200) + `"}`
	exact := `{"prompt":"` + strings.Repeat("y", 100-13) + `"}`
	src := `{"prompt":"a"}` + "\n" + long + "\r\n" + exact + "\r\n" + long
	got := problemsOf(t, "x.jsonl", src, JSONL)
	want := []string{
		"x.jsonl:2: line is longer than 100 bytes; shorten the item, or move its context to a context_file",
		"x.jsonl:4: line is longer than 100 bytes; shorten the item, or move its context to a context_file",
	}
	if len(exact) != 100 || !slices.Equal(got, want) {
		t.Errorf("got %q", got)
	}
	items := 0
	s, _ := openString(t, "x.jsonl", src, JSONL)
	for {
		it, err := s.Next()
		if err == io.EOF {
			break
		}
		if it.Index != items {
			t.Errorf("index %d, want %d", it.Index, items)
		}
		items++
	}
	if items != 4 {
		t.Errorf("%d items", items)
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// itemsReader generates n JSONL items without holding them.
type itemsReader struct {
	n, i int
	buf  []byte
}

func (g *itemsReader) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		if g.i == g.n {
			return 0, io.EOF
		}
		g.i++
		g.buf = fmt.Appendf(g.buf[:0], `{"id":"item-%d","prompt":"Question number %d?","params":{"temperature":0.5},"tags":["t"]}`+"\n", g.i, g.i)
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

// TestJSONLStreams proves that JSONL is read as a stream: over 200,000
// items, the reader never reads more than its 64 KiB buffer past the item
// it returns, its line buffer stays small, and the heap stays far below
// the size of the input.
func TestJSONLStreams(t *testing.T) {
	const n = 200_000
	lineLen := func(i int) int64 {
		return int64(len(fmt.Sprintf(`{"id":"item-%d","prompt":"Question number %d?","params":{"temperature":0.5},"tags":["t"]}`+"\n", i, i)))
	}
	in := &countingReader{r: &itemsReader{n: n}}
	s, err := OpenReader("gen.jsonl", in, JSONL)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var end int64 // offset of the end of the current item
	for i := 1; ; i++ {
		it, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		end += lineLen(i)
		if ahead := in.n - end; ahead > 64<<10 {
			t.Fatalf("item %d: read %d bytes past it", i, ahead)
		}
		if it.ID != fmt.Sprintf("item-%d", i) {
			t.Fatalf("item %d has id %q", i, it.ID)
		}
		if cap(s.jsonl.lines.buf) > keepBuffer {
			t.Fatalf("line buffer grew to %d", cap(s.jsonl.lines.buf))
		}
	}
	if in.n != end || end < 15<<20 {
		t.Fatalf("read %d bytes of %d", in.n, end)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// The duplicate-id map holds ~20 bytes per item (4 MB); the input is
	// over 15 MB.
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 12<<20 {
		t.Errorf("heap grew by %d bytes over %d items", grown, n)
	}
}

// TestJSONLDuplicatesLarge hides one duplicate among 100,000 items and
// checks that Validate (two passes over a file) and Next (a map over a
// stream) both report the right lines.
func TestJSONLDuplicatesLarge(t *testing.T) {
	const n = 100_000
	path := filepath.Join(t.TempDir(), "big.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("id-%d", i)
		if i == 87_654 {
			id = "id-1234"
		}
		fmt.Fprintf(w, `{"id":%q,"prompt":"p"}`+"\n", id)
	}
	w.Flush()
	f.Close()

	want := []string{path + `:87654:7: duplicate id "id-1234" (first used on line 1234); give each item its own id`}
	count, ps, err := Validate(path)
	if err != nil || count != n {
		t.Fatalf("Validate: %d items, %v", count, err)
	}
	if got := problemStrings(ps); !slices.Equal(got, want) {
		t.Errorf("Validate: %q", got)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := problemsOf(t, path, string(data), JSONL)
	if !slices.Equal(got, want) {
		t.Errorf("Next: %q", got)
	}
}

// failingReader returns some data, then an error.
type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestJSONLReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	s, err := OpenReader("x.jsonl", &failingReader{data: "{\"prompt\":\"a\"}\n{\"pro", err: boom}, JSONL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.Next(); !errors.Is(err, boom) || !strings.Contains(err.Error(), "read x.jsonl") {
			t.Errorf("Next = %v, want the read error", err)
		}
	}
}

// TestValidateLimit checks that Validate lists MaxProblems problems and
// counts the others.
func TestValidateLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.jsonl")
	writeFile(t, path, strings.Repeat("not json\n", 3*MaxProblems))
	n, ps, err := Validate(path)
	if err != nil || n != 3*MaxProblems {
		t.Fatal(n, err)
	}
	if len(ps) != MaxProblems+1 || ps[MaxProblems-1].Pos.Line != MaxProblems {
		t.Fatalf("%d problems", len(ps))
	}
	if last := ps[MaxProblems].Error(); last != path+": 2000 more problems not listed; fix the ones above first" {
		t.Errorf("last: %s", last)
	}
}

// TestJSONLMore covers JSONL problems beyond those of testdata/suites.
func TestJSONLMore(t *testing.T) {
	many := make([]string, 40)
	for i := range many {
		many[i] = fmt.Sprintf(`"k%d":%d`, i, i)
	}
	bigObject := `{"prompt":"x","metadata":{` + strings.Join(many, ",") + `,"k7":0}}`
	tests := []struct {
		name, src string
		want      []string
	}{
		{"duplicate key in a large object", bigObject, []string{
			`x.jsonl:1:` + fmt.Sprint(strings.LastIndex(bigObject, `"k7"`)+1) + `: duplicate key "k7" (first at column ` + fmt.Sprint(strings.Index(bigObject, `"k7"`)+1) + `); remove one of them`,
		}},
		{"nested too deep", `{"prompt":"x","metadata":{"a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}}`, []string{
			"x.jsonl:1:10029: line is not valid JSON: invalid character '[' exceeded max depth",
		}},
		{"nested deep enough", `{"prompt":"x","metadata":{"a":` + strings.Repeat("[", 9998) + strings.Repeat("]", 9998) + `}}`, nil},
		{"lone surrogate", `{"prompt":"\ud800 ok"}`, nil},
		{"null fields", `{"prompt":"x","id":null,"model":null,"params":null,"expect":null,"tags":null,"metadata":null,"answer":null,"timestamp":null,"actor":null,"context":null}`, nil},
		{"null prompt", `{"prompt":null}`, []string{"x.jsonl:1:11: prompt is empty; give the item a question to ask"}},
		{"long values are cut in messages", `{"prompt":"x","` + strings.Repeat("k", 500) + `":1}`, []string{
			`x.jsonl:1:15: unknown field "` + strings.Repeat("k", 60) + `"…; ` + describeFields["item"],
		}},
		{"check value types", `{"prompt":"x","expect":[{"type":"max-length","value":1.5},{"type":"contains-any","value":["a",1]},{"type":"is-json","value":"x"},{"type":"icontains"}]}`, []string{
			"x.jsonl:1:54: max-length needs a whole number of at least 0",
			"x.jsonl:1:90: contains-any needs a non-empty list of texts",
			`x.jsonl:1:125: is-json takes no value`,
			`x.jsonl:1:130: icontains needs a text value`,
		}},
		{"params in JSON", `{"prompt":"x","params":{"max_tokens":100.0,"seed":-1,"stop":"END","frequency_penalty":-2,"user":"u","top_a":1}}`, []string{
			`x.jsonl:1:101: unknown parameter "top_a"; did you mean "top_p"?`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problemsOf(t, "x.jsonl", tt.src, JSONL)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	items := mustItems(t, "x.jsonl", `{"prompt":"x","params":{"max_tokens":100.0,"seed":-1,"stop":["a","b"],"top_p":1}}`, JSONL)
	if want := map[string]any{"max_tokens": int64(100), "seed": int64(-1), "stop": []string{"a", "b"}, "top_p": int64(1)}; !reflect.DeepEqual(items[0].Params, want) {
		t.Errorf("params %#v", items[0].Params)
	}
}

// TestInvalidItemKeepsID checks what Next returns with the problems of an
// item: its index, position and id, so a caller can report it.
func TestInvalidItemKeepsID(t *testing.T) {
	s, _ := openString(t, "x.jsonl", `{"id":"a","prompt":""}`+"\n"+`oops`+"\n"+`{"prompt":"ok"}`, JSONL)
	it, err := s.Next()
	if !errors.As(err, new(Problems)) || it.ID != "a" || it.Index != 0 || it.Pos.Line != 1 || it.Suite != "x" {
		t.Errorf("%+v %v", it, err)
	}
	it, err = s.Next()
	if !errors.As(err, new(Problems)) || it.ID != "#2" || it.Index != 1 || it.Pos.Line != 2 {
		t.Errorf("%+v %v", it, err)
	}
	it, err = s.Next()
	if err != nil || it.ID != "#3" {
		t.Errorf("%+v %v", it, err)
	}
}

// withStdin runs f with standard input reading content.
func withStdin(t *testing.T, content string, f func()) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stdin")
	writeFile(t, path, content)
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	old := os.Stdin
	os.Stdin = in
	defer func() { os.Stdin = old }()
	f()
}

// TestStdin reads "-": JSONL from standard input, with context files
// relative to the working directory and duplicates found in one pass.
func TestStdin(t *testing.T) {
	src := `{"id":"a","prompt":"p","context_file":"../testdata/suites/ctx/magic-links.md"}` + "\n" +
		`{"id":"a","prompt":"q","context_file":"ctx/magic-links.md"}` + "\n"
	want := []string{
		`stdin:2:7: duplicate id "a" (first used on line 1); give each item its own id`,
		`stdin:2:39: context_file "ctx/magic-links.md": ctx/magic-links.md does not exist; the path is relative to the working directory`,
	}
	withStdin(t, src, func() {
		n, ps, err := Validate("-")
		if err != nil || n != 2 {
			t.Fatal(n, err)
		}
		slices.SortFunc(ps, func(a, b *Problem) int { return a.Pos.Col - b.Pos.Col })
		if got := problemStrings(ps); !slices.Equal(got, want) {
			t.Errorf("Validate: %q", got)
		}
	})
	withStdin(t, src, func() {
		s, err := Open("-")
		if err != nil {
			t.Fatal(err)
		}
		it, err := s.Next()
		if err != nil || !strings.HasPrefix(it.Context, "Magic links") || s.Name() != "stdin" {
			t.Errorf("%+v %v", it, err)
		}
		if _, err := s.Next(); err == nil {
			t.Error("duplicate not found")
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stdin.Stat(); err != nil {
			t.Errorf("Close closed standard input: %v", err)
		}
	})
}

func TestByteSize(t *testing.T) {
	if byteSize(256<<20) != "256 MiB" || byteSize(100) != "100 bytes" || byteSize(3<<19) != "1572864 bytes" {
		t.Error(byteSize(256<<20), byteSize(100))
	}
}
