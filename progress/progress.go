// Package progress shows how a run is going, on stderr: a bar redrawn in
// place when stderr is a terminal, a plain line every few seconds when it is
// not (CI logs), nothing when asked to be quiet. It only reads records; it
// never touches the run.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/tracebatch/tracebatch/report"
)

// Meter counts finished records and shows the count.
type Meter struct {
	w        io.Writer
	total    int
	terminal bool
	color    bool
	every    time.Duration
	now      func() time.Time

	mu                   sync.Mutex
	start                time.Time
	done, failed, errors int
	drawn                bool // a bar is on the terminal line

	stop chan struct{}
	wg   sync.WaitGroup
}

// Options configure a Meter.
type Options struct {
	// Total is how many records the run will write; 0 if unknown.
	Total int
	// Terminal draws a bar in place; otherwise a plain line is printed
	// every Every.
	Terminal bool
	// Color colours the failure counts (only on a terminal).
	Color bool
	// Every is the interval of plain lines (default 5s); the bar is
	// redrawn every 200ms.
	Every time.Duration
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// New makes a meter writing to w.
func New(w io.Writer, o Options) *Meter {
	if o.Every <= 0 {
		o.Every = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Meter{w: w, total: o.Total, terminal: o.Terminal, color: o.Color && o.Terminal, every: o.Every, now: o.Now, start: o.Now()}
}

// Add counts a written record. It is safe to call from any goroutine.
func (m *Meter) Add(r *report.Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.done++
	switch r.Status {
	case report.Fail:
		m.failed++
	case report.Error:
		m.errors++
	}
}

// Start shows the progress until Stop.
func (m *Meter) Start() {
	m.stop = make(chan struct{})
	interval := m.every
	if m.terminal {
		interval = 200 * time.Millisecond
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-t.C:
				m.Show()
			}
		}
	}()
}

// Stop stops showing progress and clears the bar, so the summary that
// follows starts on a clean line.
func (m *Meter) Stop() {
	if m.stop != nil {
		close(m.stop)
		m.wg.Wait()
		m.stop = nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.drawn {
		fmt.Fprint(m.w, "\r\x1b[K")
		m.drawn = false
	}
}

// Show writes the progress once: the bar in place on a terminal, a line
// otherwise.
func (m *Meter) Show() {
	m.mu.Lock()
	defer m.mu.Unlock()
	line := m.line()
	if m.terminal {
		fmt.Fprint(m.w, "\r\x1b[K"+line)
		m.drawn = true
		return
	}
	fmt.Fprintln(m.w, "progress: "+line)
}

// Line is what Show writes, without the terminal's control codes.
func (m *Meter) Line() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.line()
}

const barWidth = 24

func (m *Meter) line() string {
	elapsed := m.now().Sub(m.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(m.done) / elapsed.Seconds()
	}
	var parts []string
	if m.total > 0 {
		frac := min(float64(m.done)/float64(m.total), 1)
		count := fmt.Sprintf("%d/%d %3.0f%%", m.done, m.total, 100*frac)
		if m.terminal {
			filled := int(frac * barWidth)
			count = "[" + strings.Repeat("█", filled) + strings.Repeat("░", barWidth-filled) + "] " + count
		}
		parts = append(parts, count)
	} else {
		parts = append(parts, fmt.Sprintf("%d done", m.done))
	}
	parts = append(parts, fmt.Sprintf("%.1f/s", rate))
	if m.total > 0 && m.done < m.total {
		eta := "ETA --"
		if rate > 0 {
			eta = "ETA " + roundDuration(time.Duration(float64(m.total-m.done)/rate*float64(time.Second))).String()
		}
		parts = append(parts, eta)
	}
	failures := fmt.Sprintf("%d failed", m.failed)
	errs := fmt.Sprintf("%d error", m.errors)
	if m.color && m.failed > 0 {
		failures = "\x1b[31m" + failures + "\x1b[0m"
	}
	if m.color && m.errors > 0 {
		errs = "\x1b[33m" + errs + "\x1b[0m"
	}
	return strings.Join(parts, "  ") + "  " + failures + ", " + errs
}

// roundDuration keeps an ETA readable: seconds under an hour, minutes above.
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Hour {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}
