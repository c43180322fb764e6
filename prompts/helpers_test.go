package prompts

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

func mkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// openString opens a suite held in a string, named name.
func openString(t *testing.T, name, src string, format Format) (*Suite, error) {
	t.Helper()
	return OpenReader(name, strings.NewReader(src), format)
}

// mustItems reads every item of a clean suite held in a string.
func mustItems(t *testing.T, name, src string, format Format) []Item {
	t.Helper()
	s, err := openString(t, name, src, format)
	if err != nil {
		t.Fatalf("OpenReader: %v", err)
	}
	var items []Item
	for {
		it, err := s.Next()
		if err == io.EOF {
			return items
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		items = append(items, it)
	}
}

// problemsOf returns the problems of a suite held in a string, as strings,
// from Open and every Next.
func problemsOf(t *testing.T, name, src string, format Format) []string {
	t.Helper()
	s, err := openString(t, name, src, format)
	var ps Problems
	if errors.As(err, &ps) {
		return problemStrings(ps)
	}
	if err != nil {
		t.Fatalf("OpenReader: %v", err)
	}
	var all Problems
	for {
		_, err := s.Next()
		if err == io.EOF {
			return problemStrings(all)
		}
		if errors.As(err, &ps) {
			all = append(all, ps...)
		} else if err != nil {
			t.Fatalf("Next: %v", err)
		}
	}
}
