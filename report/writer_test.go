package report

import (
	"bytes"
	"strings"
	"testing"
)

// chunks records every write the Writer makes to the file.
type chunks struct{ writes [][]byte }

func (c *chunks) Write(p []byte) (int, error) {
	c.writes = append(c.writes, bytes.Clone(p))
	return len(p), nil
}

// TestWriterNeverSplitsALine checks that every write to the file ends at a
// line's end, whatever the sizes of the lines, so a reader of the file
// never sees half a line.
func TestWriterNeverSplitsALine(t *testing.T) {
	var c chunks
	w := NewWriter(&c)
	for i, n := range []int{100, 70_000, 10, 40_000, 40_000, 200_000, 5} {
		r := &Record{ID: strings.Repeat("x", 3), Answer: strings.Repeat("a", n), Index: i}
		if err := w.Buffer(r); err != nil {
			t.Fatal(err)
		}
		if err := w.Raw([]byte(`{"id":"raw"}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := 0
	for i, b := range c.writes {
		if len(b) == 0 || b[len(b)-1] != '\n' {
			t.Fatalf("write %d (%d bytes) ends inside a line", i, len(b))
		}
		lines += bytes.Count(b, []byte("\n"))
	}
	if lines != 14 {
		t.Errorf("%d lines written, want 14", lines)
	}
}
