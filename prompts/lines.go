package prompts

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// maxLine is the longest JSONL line read, in bytes; a longer line is
// skipped and reported. A variable so tests can lower it.
var maxLine = 256 << 20

// keepBuffer is the largest line buffer kept between lines; a buffer grown
// past it for a long line is dropped after that line, so one long line does
// not hold its memory for the rest of the file.
const keepBuffer = 1 << 20

// lineReader reads a stream line by line, with no limit on line length
// below maxLine, and only the current line in memory.
type lineReader struct {
	r    *bufio.Reader
	buf  []byte
	line int // number of the line last returned
	err  error
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next line, without its line ending ("\n" or "\r\n") and
// without a UTF-8 byte order mark at its start (one at the start of every
// line is skipped, as files joined with cat have them). The slice is valid
// until the next call. tooLong reports a line longer than maxLine, whose
// bytes are skipped and not returned. At the end of the stream it returns
// io.EOF; a read error is returned then and on every later call.
func (lr *lineReader) next() (line []byte, tooLong bool, err error) {
	if lr.err != nil {
		return nil, false, lr.err
	}
	if cap(lr.buf) > keepBuffer {
		lr.buf = nil
	}
	lr.buf = lr.buf[:0]
	n := 0 // bytes of the line read so far
	for {
		chunk, err := lr.r.ReadSlice('\n')
		if n == 0 && err == nil {
			// The whole line is in the reader's buffer: use it in place.
			line = chunk
			break
		}
		n += len(chunk)
		if n > maxLine+2 { // +2: the line ending is not part of the line
			tooLong = true
			lr.buf = lr.buf[:0]
		} else {
			lr.buf = append(lr.buf, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			lr.err = err
			return nil, false, err
		}
		if err != nil && n == 0 {
			lr.err = io.EOF
			return nil, false, io.EOF
		}
		line = lr.buf
		break
	}
	lr.line++
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	line = bytes.TrimPrefix(line, bom)
	if len(line) > maxLine {
		tooLong = true
	}
	if tooLong {
		return nil, true, nil
	}
	return line, false, nil
}

// blank reports whether a line holds only white space.
func blank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
