package prompts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"unicode/utf8"
)

// maxContextFile is the largest context file read, in bytes.
const maxContextFile = 256 << 20

// contextCacheBytes bounds the text the context cache keeps; past it the
// oldest files are dropped (and read again if an item names them later).
const contextCacheBytes = 64 << 20

// bom is the UTF-8 byte order mark, skipped at the start of files.
var bom = []byte{0xEF, 0xBB, 0xBF}

// contextCache reads context files once per path. It is used by one
// suite, from one goroutine.
type contextCache struct {
	entries map[string]contextEntry
	order   []string // paths in the order they were read, for eviction
	size    int
}

type contextEntry struct {
	text string
	err  error
}

// read returns the text of the file at path, from the cache when it was
// read before. The error says what is wrong with the file (without naming
// the field that refers to it).
func (c *contextCache) read(path string) (string, error) {
	path = filepath.Clean(path)
	if e, ok := c.entries[path]; ok {
		return e.text, e.err
	}
	text, err := readContextFile(path)
	if c.entries == nil {
		c.entries = make(map[string]contextEntry)
	}
	c.entries[path] = contextEntry{text, err}
	c.order = append(c.order, path)
	c.size += len(text) + len(path)
	for c.size > contextCacheBytes && len(c.order) > 1 {
		old := c.order[0]
		c.order = c.order[1:]
		c.size -= len(c.entries[old].text) + len(old)
		delete(c.entries, old)
	}
	return text, err
}

// readContextFile reads a context file as UTF-8 text, without a leading
// byte order mark.
func readContextFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", notExistError(path)
		}
		return "", err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", err
	}
	if info.IsDir() {
		return "", fmt.Errorf("%s is a directory; name a text file", path)
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	if info.Size() > maxContextFile {
		return "", fmt.Errorf("%s is larger than %d MiB", path, maxContextFile>>20)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxContextFile+1))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxContextFile {
		return "", fmt.Errorf("%s is larger than %d MiB", path, maxContextFile>>20)
	}
	skip := 0
	if bytes.HasPrefix(data, bom) {
		skip = len(bom)
	}
	if !utf8.Valid(data[skip:]) {
		return "", fmt.Errorf("%s is not valid UTF-8 (first bad byte at offset %d); save it as UTF-8", path, skip+invalidUTF8At(data[skip:]))
	}
	data = data[skip:]
	return string(data), nil
}

// invalidUTF8At returns the offset of the first byte of data that is not
// part of valid UTF-8, or -1.
func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		if data[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// notExistError is the error of a context file that does not exist; it
// names the path it looked at.
type notExistError string

func (e notExistError) Error() string { return string(e) + " does not exist" }

func (e notExistError) Unwrap() error { return fs.ErrNotExist }
