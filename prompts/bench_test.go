package prompts

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkJSONLNext reads a generated file of 100,000 items with Next and
// reports items per second.
func BenchmarkJSONLNext(b *testing.B) {
	const n = 100_000
	path := filepath.Join(b.TempDir(), "bench.jsonl")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range n {
		fmt.Fprintf(w, `{"id":"item-%d","prompt":"What is the answer to question %d?\nPlease be brief.","context":"Magic links are passwordless sign-in links.","params":{"temperature":0.2,"max_tokens":200},"expect":[{"type":"icontains","value":"link"},{"type":"max-length","value":400}],"tags":["smoke"],"metadata":{"source":"bench","n":%d}}`+"\n", i, i, i)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	info, _ := os.Stat(path)
	b.SetBytes(info.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		items := 0
		for {
			_, err := s.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			items++
		}
		s.Close()
		if items != n {
			b.Fatalf("%d items", items)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "items/s")
}
