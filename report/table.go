package report

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

// TableOptions says how WriteTable renders.
type TableOptions struct {
	// Color marks counts and labels with ANSI colours: pass green, fail
	// red, error yellow. See ColorEnabled.
	Color bool
	// MaxFailures is how many records that did not pass are listed under
	// the table (at most 100 are kept); 0 means 20, a negative number none.
	MaxFailures int
}

// DefaultMaxFailures is how many records that did not pass WriteTable
// lists when TableOptions.MaxFailures is 0.
const DefaultMaxFailures = 20

// ColorEnabled reports whether output to a stream should be coloured:
// false when NO_COLOR is set to a non-empty value (https://no-color.org),
// when TERM is "dumb", or when the stream is not a terminal.
func ColorEnabled(isTerminal bool) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal
}

// ANSI colours.
const (
	green  = "\x1b[32m"
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	reset  = "\x1b[0m"
)

// paint wraps s in colour c when on is set and c is not empty.
func paint(on bool, c, s string) string {
	if !on || c == "" {
		return s
	}
	return c + s + reset
}

// WriteTable writes the end-of-run table: one row per (suite, model), by
// suite name and then by the order in which models first appeared, with
// counts, tokens and the p50 and p95 latencies of the records that got an
// answer; a total row when there is more than one; a pass rate and a count
// of flaky items (both passed and failed across repeats) when the run
// repeated items; then the records that did not pass, each with its error
// or its first failing check. It writes nothing when no record was added.
func (s Summary) WriteTable(w io.Writer, opts TableOptions) error {
	rows, total := s.rows()
	if len(rows) == 0 {
		return nil
	}
	repeated := s.t.repeated
	audited := total.audited > 0
	if len(rows) > 1 {
		rows = append(rows, total)
	}

	// Columns: header, left gap, right-aligned, the cell of a row and its
	// colour.
	type column struct {
		head  string
		gap   int
		right bool
		cell  func(r row) string
		color func(r row) string
	}
	count := func(n int) string { return strconv.Itoa(n) }
	nonzero := func(n int, c string) string {
		if n == 0 {
			return ""
		}
		return c
	}
	cols := []column{
		{head: "suite", cell: func(r row) string { return oneLine(r.suite) }},
		{head: "model", gap: 3, cell: func(r row) string { return oneLine(r.model) }},
		{head: "pass", gap: 2, right: true, cell: func(r row) string { return count(r.pass) }, color: func(r row) string { return nonzero(r.pass, green) }},
		{head: "fail", gap: 2, right: true, cell: func(r row) string { return count(r.fail) }, color: func(r row) string { return nonzero(r.fail, red) }},
		{head: "error", gap: 2, right: true, cell: func(r row) string { return count(r.errs) }, color: func(r row) string { return nonzero(r.errs, yellow) }},
	}
	if audited {
		cols = append(cols, column{head: "audited", gap: 2, right: true, cell: func(r row) string { return count(r.audited) }})
	}
	if repeated {
		cols = append(cols,
			column{head: "pass rate", gap: 2, right: true, cell: func(r row) string { return passRate(r) }},
			column{head: "flaky", gap: 2, right: true, cell: func(r row) string { return count(r.flaky) }, color: func(r row) string { return nonzero(r.flaky, yellow) }},
		)
	}
	cols = append(cols,
		column{head: "tokens", gap: 2, right: true, cell: func(r row) string { return thousands(r.tokens) }},
		column{head: "p50", gap: 3, cell: func(r row) string { return latencyCell(r.p50) }},
		column{head: "p95", gap: 3, cell: func(r row) string { return latencyCell(r.p95) }},
	)

	cells := make([][]string, len(rows))
	width := make([]int, len(cols))
	for i, c := range cols {
		width[i] = utf8.RuneCountInString(c.head)
	}
	for j, r := range rows {
		cells[j] = make([]string, len(cols))
		for i, c := range cols {
			cells[j][i] = c.cell(r)
			width[i] = max(width[i], utf8.RuneCountInString(cells[j][i]))
		}
	}
	var b strings.Builder
	line := func(texts []string, colors []string) {
		var l strings.Builder
		for i, c := range cols {
			if i > 0 {
				l.WriteString(strings.Repeat(" ", c.gap))
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(texts[i]))
			text := paint(opts.Color, colors[i], texts[i])
			if c.right {
				l.WriteString(pad + text)
			} else {
				l.WriteString(text + pad)
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " "))
		b.WriteByte('\n')
	}
	heads := make([]string, len(cols))
	for i, c := range cols {
		heads[i] = c.head
	}
	line(heads, make([]string, len(cols)))
	for j, r := range rows {
		colors := make([]string, len(cols))
		for i, c := range cols {
			if c.color != nil {
				colors[i] = c.color(r)
			}
		}
		line(cells[j], colors)
	}

	limit := opts.MaxFailures
	if limit == 0 {
		limit = DefaultMaxFailures
	}
	limit = max(min(limit, len(s.t.failures)), 0)
	if s.t.failed > 0 && opts.MaxFailures >= 0 {
		b.WriteByte('\n')
		for _, f := range s.t.failures[:limit] {
			label, c := "FAILED", red
			if f.status == Error {
				label, c = "ERROR", yellow
			}
			fmt.Fprintf(&b, "%s%s  %s  %s\n", paint(opts.Color, c, label), strings.Repeat(" ", 6-len(label)), oneLine(f.key.String()), f.problem)
		}
		if more := s.t.failed - limit; more > 0 {
			fmt.Fprintf(&b, "and %s more (see the report)\n", thousands(int64(more)))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// passRate is passes / runs as a percentage with one decimal, or "-".
func passRate(r row) string {
	if r.runs() == 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(r.pass)*100/float64(r.runs()), 'f', 1, 64) + "%"
}

// latencyCell writes a percentile, or "-" when nothing was timed.
func latencyCell(ms int64) string {
	if ms < 0 {
		return "-"
	}
	return formatMS(ms)
}
