package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tracebatch/tracebatch/report"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func feed(m *Meter, pass, fail, errs int) {
	for range pass {
		m.Add(&report.Record{Status: report.Pass})
	}
	for range fail {
		m.Add(&report.Record{Status: report.Fail})
	}
	for range errs {
		m.Add(&report.Record{Status: report.Error})
	}
}

func TestTerminalBar(t *testing.T) {
	c := &clock{time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	var out bytes.Buffer
	m := New(&out, Options{Total: 200, Terminal: true, Now: c.now})
	c.t = c.t.Add(10 * time.Second)
	feed(m, 45, 3, 2)
	m.Show()
	want := "\r\x1b[K[██████░░░░░░░░░░░░░░░░░░] 50/200  25%  5.0/s  ETA 30s  3 failed, 2 error"
	if out.String() != want {
		t.Errorf("got  %q\nwant %q", out.String(), want)
	}
	m.Stop()
	if !strings.HasSuffix(out.String(), "\r\x1b[K") {
		t.Error("Stop did not clear the bar")
	}
}

func TestColorOnlyOnATerminal(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	m := New(&bytes.Buffer{}, Options{Total: 10, Terminal: true, Color: true, Now: c.now})
	feed(m, 1, 1, 1)
	if l := m.Line(); !strings.Contains(l, "\x1b[31m1 failed\x1b[0m") || !strings.Contains(l, "\x1b[33m1 error\x1b[0m") {
		t.Errorf("no colour: %q", l)
	}
	plain := New(&bytes.Buffer{}, Options{Total: 10, Terminal: false, Color: true, Now: c.now})
	feed(plain, 1, 1, 1)
	if strings.Contains(plain.Line(), "\x1b[") {
		t.Errorf("colour in a log: %q", plain.Line())
	}
}

func TestPlainLines(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	var out bytes.Buffer
	m := New(&out, Options{Total: 4000, Now: c.now})
	c.t = c.t.Add(2 * time.Minute)
	feed(m, 1190, 8, 2)
	m.Show()
	want := "progress: 1200/4000  30%  10.0/s  ETA 4m40s  8 failed, 2 error\n"
	if out.String() != want {
		t.Errorf("got  %q\nwant %q", out.String(), want)
	}
	m.Stop()
	if strings.Contains(out.String(), "\x1b") {
		t.Error("control codes in a log")
	}
}

func TestUnknownTotal(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	m := New(&bytes.Buffer{}, Options{Now: c.now})
	c.t = c.t.Add(4 * time.Second)
	feed(m, 10, 0, 0)
	if got, want := m.Line(), "10 done  2.5/s  0 failed, 0 error"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTickerPrintsEveryInterval(t *testing.T) {
	var out syncBuffer
	m := New(&out, Options{Total: 10, Every: 10 * time.Millisecond})
	m.Start()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(out.String(), "progress: ") < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	m.Stop()
	if n := strings.Count(out.String(), "progress: "); n < 3 {
		t.Errorf("%d lines: the meter does not print on its own", n)
	}
	after := out.String()
	time.Sleep(30 * time.Millisecond)
	if out.String() != after {
		t.Error("the meter printed after Stop")
	}
}
