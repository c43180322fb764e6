package report

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readAll(t *testing.T, data string) ([]*Record, error) {
	t.Helper()
	var recs []*Record
	err := Read(strings.NewReader(data), func(r *Record) error { recs = append(recs, r); return nil })
	return recs, err
}

func TestReadRoundTrip(t *testing.T) {
	recs := fixture()
	back := roundTrip(t, recs)
	if len(back) != len(recs) {
		t.Fatalf("%d records back of %d", len(back), len(recs))
	}
	for i := range recs {
		if got, want := mustJSON(t, back[i]), mustJSON(t, recs[i]); got != want {
			t.Errorf("record %d:\ngot  %s\nwant %s", i, got, want)
		}
	}
	// Each call gets its own record.
	if back[0] == back[1] {
		t.Error("records are reused")
	}
}

func TestReadLines(t *testing.T) {
	ok := `{"id":"a","status":"pass"}`
	recs, err := readAll(t, "\xef\xbb\xbf"+ok+"\r\n\n   \n"+ok+"\n\xef\xbb\xbf"+ok) // BOM, CRLF, blank lines, no final newline
	if err != nil || len(recs) != 3 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
}

func TestReadErrorsNameTheLine(t *testing.T) {
	ok := `{"id":"a","status":"pass"}`
	for _, c := range []struct {
		name, data string
		line       int
		msg        string // the message, or its beginning when it ends in ": "
		truncated  bool
	}{
		{"not json", ok + "\n" + ok + "\nnot json\n" + ok + "\n", 3, "line 3: not a report line: ", false},
		{"blank lines count", "\n\n" + ok + "\n{\"id\":1}\n", 4, "line 4: not a report line: ", false},
		{"not a record", ok + "\n" + `{"hello":"world"}` + "\n", 2, `line 2: not a report line: it has no "id" or no "status"`, false},
		{"an array", "[1,2]\n", 1, "line 1: not a report line: ", false},
		{"cut off", ok + "\n" + `{"id":"b","sta`, 2, "line 2: " + ErrTruncated.Error() + ": not a report line: ", true},
		{"bad last line with its newline", ok + "\n" + `{"id":"b","sta` + "\n", 2, "line 2: not a report line: ", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := readAll(t, c.data)
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("error %v is not a *LineError", err)
			}
			if le.Line != c.line || !(err.Error() == c.msg || strings.HasSuffix(c.msg, ": ") && strings.HasPrefix(err.Error(), c.msg)) {
				t.Errorf("got  %q (line %d)\nwant %q", err, le.Line, c.msg)
			}
			if errors.Is(err, ErrTruncated) != c.truncated {
				t.Errorf("ErrTruncated: %v", errors.Is(err, ErrTruncated))
			}
			if c.truncated && le.Offset != int64(len(ok)+1) {
				t.Errorf("offset %d, want %d", le.Offset, len(ok)+1)
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.jsonl")
	data := append(jsonl(t, fixture()[:3]), []byte("{oops\n")...)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := ReadFile(path, func(*Record) error { n++; return nil })
	if n != 3 || err == nil || !strings.HasPrefix(err.Error(), path+":4: not a report line: ") {
		t.Errorf("%d records, %v", n, err)
	}
	if err := ReadFile(filepath.Join(t.TempDir(), "missing.jsonl"), func(*Record) error { return nil }); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestReadStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := Read(bytes.NewReader(jsonl(t, fixture())), func(*Record) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("%d calls, %v", n, err)
	}
}

func TestReadLongLines(t *testing.T) {
	// A 5 MB answer, then a short line: both come back whole.
	big := mk(0, "s", "big", "m", Pass, 1, 1, 1, strings.Repeat("long answer ", 5<<20/12))
	small := mk(1, "s", "small", "m", Pass, 1, 1, 1, "short")
	recs, err := readAll(t, string(jsonl(t, []*Record{big, small, big})))
	if err != nil || len(recs) != 3 || recs[0].Answer != big.Answer || recs[1].Answer != "short" || recs[2].Answer != big.Answer {
		t.Fatalf("%d records, %v", len(recs), err)
	}
}

func TestReadErrorOfTheStream(t *testing.T) {
	boom := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader(`{"id":"a","status":"pass"}`+"\n"), &failing{boom})
	n := 0
	err := Read(r, func(*Record) error { n++; return nil })
	if n != 1 || !errors.Is(err, boom) {
		t.Errorf("%d records, %v", n, err)
	}
}

type failing struct{ err error }

func (f *failing) Read([]byte) (int, error) { return 0, f.err }
