package report

import (
	"fmt"
	"io"
	"strings"
)

// WriteGitHubAnnotations writes a GitHub Actions error annotation for a
// record that did not pass, and nothing for one that did:
//
//	::error file=testdata/magic-links.yaml,line=28,title=magic-links/token-lifetime [gpt-4o-mini]::regex "…" failed: not found in: …
//
// The message lists every failed check on its own line, or the error.
// Properties and message are escaped as the Actions runner requires (%,
// CR and LF in both; also : and , in properties), so the command is always
// one line. The runner reads workflow commands from stdout and stderr
// alike; GitHub shows only the first few annotations of each step.
func WriteGitHubAnnotations(w io.Writer, r *Record) error {
	var msg string
	switch r.Status {
	case Fail:
		failed := failedChecks(r)
		lines := make([]string, len(failed))
		for i, fc := range failed {
			lines[i] = checkProblem(fc, " failed: ")
		}
		if len(lines) == 0 {
			lines = []string{"failed"}
		}
		msg = strings.Join(lines, "\n")
	case Error:
		msg = clip(r.Error, 4000)
	default:
		return nil
	}
	var props []string
	if r.File != "" {
		props = append(props, "file="+escapeProperty(r.File))
		if r.Line > 0 {
			props = append(props, fmt.Sprintf("line=%d", r.Line))
		}
	}
	props = append(props, "title="+escapeProperty(KeyOf(r).String()))
	_, err := fmt.Fprintf(w, "::error %s::%s\n", strings.Join(props, ","), escapeData(msg))
	return err
}

// escapeData escapes a workflow command's message as actions/toolkit does.
var escapeData = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace

// escapeProperty escapes a workflow command's property value as
// actions/toolkit does.
var escapeProperty = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace

// maxSummaryItems is the most items each list of the step summary shows.
const maxSummaryItems = 50

// WriteGitHubSummary writes a Markdown account of a run for
// $GITHUB_STEP_SUMMARY: a heading with the counts, the per-(suite, model)
// table, the records that did not pass in a collapsible list, and, when d
// is not nil, how the run compares with the baseline. Text from records is
// escaped so it renders as written: Markdown punctuation and table pipes
// get a backslash, and <, > and & become entities. With an empty Summary
// and a Diff (tracebatch diff), it writes the comparison alone.
func WriteGitHubSummary(w io.Writer, s Summary, d *Diff) error {
	var b strings.Builder
	if s.Total() == 0 && d != nil {
		b.WriteString("### tracebatch diff\n\n")
		writeDiffMarkdown(&b, d)
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("### tracebatch: " + countsText(s) + "\n\n")
	rows, total := s.rows()
	if len(rows) > 0 {
		repeated, audited := s.t.repeated, total.audited > 0
		head := []string{"suite", "model", "pass", "fail", "error"}
		align := []string{":--", ":--", "--:", "--:", "--:"}
		if audited {
			head, align = append(head, "audited"), append(align, "--:")
		}
		if repeated {
			head, align = append(head, "pass rate", "flaky"), append(align, "--:", "--:")
		}
		head, align = append(head, "tokens", "p50", "p95"), append(align, "--:", "--:", "--:")
		b.WriteString("| " + strings.Join(head, " | ") + " |\n")
		b.WriteString("| " + strings.Join(align, " | ") + " |\n")
		if len(rows) > 1 {
			rows = append(rows, total)
		}
		for i, r := range rows {
			suite := mdEscape(r.suite)
			if i == len(rows)-1 && len(rows) > 1 {
				suite = "**total**"
			}
			cells := []string{suite, mdEscape(r.model), fmt.Sprint(r.pass), fmt.Sprint(r.fail), fmt.Sprint(r.errs)}
			if audited {
				cells = append(cells, fmt.Sprint(r.audited))
			}
			if repeated {
				cells = append(cells, passRate(r), fmt.Sprint(r.flaky))
			}
			cells = append(cells, thousands(r.tokens), latencyCell(r.p50), latencyCell(r.p95))
			b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		}
		b.WriteString("\n")
	}
	if s.t != nil && s.t.failed > 0 {
		fmt.Fprintf(&b, "<details><summary>%d %s did not pass</summary>\n\n", s.t.failed, plural(s.t.failed, "item", "items"))
		n := min(len(s.t.failures), maxSummaryItems)
		for _, f := range s.t.failures[:n] {
			label := "FAILED"
			if f.status == Error {
				label = "ERROR"
			}
			fmt.Fprintf(&b, "- **%s** %s: %s\n", label, mdEscape(f.key.String()), mdEscape(f.problem))
		}
		if more := s.t.failed - n; more > 0 {
			fmt.Fprintf(&b, "- and %s more (see the report)\n", thousands(int64(more)))
		}
		b.WriteString("\n</details>\n\n")
	}
	if d != nil {
		writeDiffMarkdown(&b, d)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// countsText is the heading's account: "12 passed, 1 failed, 1 error".
func countsText(s Summary) string {
	var parts []string
	if s.Pass > 0 || s.Total() == 0 {
		parts = append(parts, fmt.Sprintf("%d passed", s.Pass))
	}
	if s.Fail > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", s.Fail))
	}
	if s.Error > 0 {
		parts = append(parts, fmt.Sprintf("%d %s", s.Error, plural(s.Error, "error", "errors")))
	}
	if s.Audited > 0 {
		parts = append(parts, fmt.Sprintf("%d audited", s.Audited))
	}
	return strings.Join(parts, ", ")
}

// writeDiffMarkdown writes the comparison with the baseline.
func writeDiffMarkdown(b *strings.Builder, d *Diff) {
	b.WriteString("#### Compared with the baseline\n\n")
	b.WriteString(mdEscape(d.countsText()) + "  \n")
	b.WriteString(mdEscape(d.totalsText()) + "\n\n")
	var regressed, other []*Change
	for i := range d.Changes {
		if d.Changes[i].Regressed() {
			regressed = append(regressed, &d.Changes[i])
		} else {
			other = append(other, &d.Changes[i])
		}
	}
	list := func(title string, open bool, cs []*Change) {
		if len(cs) == 0 {
			return
		}
		attr := ""
		if open {
			attr = " open"
		}
		fmt.Fprintf(b, "<details%s><summary>%s (%d)</summary>\n\n", attr, title, len(cs))
		n := min(len(cs), maxSummaryItems)
		for _, c := range cs[:n] {
			fmt.Fprintf(b, "- **%s** %s", c.label(), mdEscape(c.Key.String()))
			if c.Before.Status != c.After.Status {
				fmt.Fprintf(b, ": %s → %s", c.Before.Status, c.After.Status)
			}
			b.WriteString("\n")
			for _, f := range c.Flips {
				fmt.Fprintf(b, "  - %s\n", mdEscape(f.String()))
			}
			if c.Answer != nil {
				fmt.Fprintf(b, "  - answer: %s\n", wordDiffMarkdown(c.Answer))
			}
		}
		if more := len(cs) - n; more > 0 {
			fmt.Fprintf(b, "- and %s more\n", thousands(int64(more)))
		}
		b.WriteString("\n</details>\n\n")
	}
	list("Regressions", true, regressed)
	list("Other changes", false, other)
	keys := func(title string, ks []Key) {
		if len(ks) == 0 {
			return
		}
		fmt.Fprintf(b, "<details><summary>%s (%d)</summary>\n\n", title, len(ks))
		n := min(len(ks), maxSummaryItems)
		for _, k := range ks[:n] {
			fmt.Fprintf(b, "- %s\n", mdEscape(k.String()))
		}
		if more := len(ks) - n; more > 0 {
			fmt.Fprintf(b, "- and %s more\n", thousands(int64(more)))
		}
		b.WriteString("\n</details>\n\n")
	}
	keys("Added", d.Added)
	keys("Removed", d.Removed)
}

// maxSummarySpans is the most spans of a word diff the step summary
// shows, which GitHub limits to 1 MiB.
const maxSummarySpans = 40

// wordDiffMarkdown renders a word diff with <del> and <ins>, cut after
// maxSummarySpans spans.
func wordDiffMarkdown(wd *WordDiff) string {
	if wd.TooLarge {
		return mdEscape(wd.String())
	}
	spans := wd.Spans
	cut := len(spans) > maxSummarySpans
	if cut {
		spans = spans[:maxSummarySpans]
	}
	parts := make([]string, len(spans), len(spans)+1)
	for i, sp := range spans {
		switch sp.Kind {
		case SpanRemoved:
			parts[i] = "<del>" + mdEscape(sp.Text) + "</del>"
		case SpanAdded:
			parts[i] = "<ins>" + mdEscape(sp.Text) + "</ins>"
		default:
			parts[i] = mdEscape(sp.Text)
		}
	}
	if cut {
		parts = append(parts, "… (more changes in the report)")
	}
	return strings.Join(parts, " ")
}

// mdEscape makes text render as written in GitHub Markdown, on one line
// and inside a table cell: punctuation Markdown acts on gets a backslash,
// and the characters HTML acts on become entities.
var mdEscape = func() func(string) string {
	r := strings.NewReplacer(
		`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
		"|", `\|`, "~", `\~`, "#", `\#`, "!", `\!`,
		"<", "&lt;", ">", "&gt;", "&", "&amp;",
	)
	return func(s string) string { return r.Replace(oneLine(s)) }
}()
