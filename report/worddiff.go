package report

import (
	"fmt"
	"strings"
)

// SpanKind says what a span of a word diff is.
type SpanKind int

// Kinds of spans.
const (
	// SpanSame words are in both texts.
	SpanSame SpanKind = iota
	// SpanRemoved words are only in the first text.
	SpanRemoved
	// SpanAdded words are only in the second text.
	SpanAdded
	// SpanElided stands for unchanged words left out ("…").
	SpanElided
)

// Span is a run of words of one kind, joined by single spaces.
type Span struct {
	// Kind says whether the words are unchanged, removed, added or elided.
	Kind SpanKind
	// Text is the words, joined by single spaces ("…" when elided).
	Text string
}

// WordDiff is a compact word-level difference between two texts.
type WordDiff struct {
	// Spans are the differences in order, with unchanged stretches longer
	// than diffContext*2 words cut to the words next to a change. Empty
	// when the texts have the same words, or when TooLarge.
	Spans []Span
	// Before and After count the words of the two texts.
	Before, After int
	// TooLarge is set when the texts were too long (and too different) to
	// compare word by word.
	TooLarge bool
}

// Words are what the diff compares: runs of non-space characters, with
// punctuation attached ("links." is one word). A changed comma then shows
// as its word replaced, which reads better than a lone "," and keeps the
// word count (and the cost of the diff) low; differences in white space
// alone are not differences.
const (
	// diffContext is how many unchanged words are kept on each side of a
	// change.
	diffContext = 3
	// maxDiffCells bounds the work of a diff: when the words that differ
	// (after the common beginning and end are set aside) would need more
	// than this many comparisons, the diff only counts words. The table it
	// needs then holds at most 2 bytes per comparison (8 MB).
	maxDiffCells = 4_000_000
	// maxChangeWords is the most words a removed or added span shows; a
	// longer one keeps its first and last maxChangeWords/2 words around "…".
	maxChangeWords = 40
)

// Equal reports whether the texts had the same words.
func (d WordDiff) Equal() bool { return !d.TooLarge && len(d.Spans) == 0 }

// String renders the diff as text: removed words as [-words-], added words
// as {+words+}, elided stretches as "…"; or "answer changed (N → M words)"
// when TooLarge. It is empty when the texts had the same words.
func (d WordDiff) String() string {
	if d.TooLarge {
		return fmt.Sprintf("answer changed (%d → %d words)", d.Before, d.After)
	}
	parts := make([]string, len(d.Spans))
	for i, s := range d.Spans {
		switch s.Kind {
		case SpanRemoved:
			parts[i] = "[-" + s.Text + "-]"
		case SpanAdded:
			parts[i] = "{+" + s.Text + "+}"
		default:
			parts[i] = s.Text
		}
	}
	return strings.Join(parts, " ")
}

// DiffWords compares two texts word by word (see Words) with a longest
// common subsequence, after setting aside their common beginning and end.
// Its work and memory are bounded by maxDiffCells whatever the texts.
func DiffWords(a, b string) WordDiff {
	wa, wb := strings.Fields(a), strings.Fields(b)
	d := WordDiff{Before: len(wa), After: len(wb)}
	pre := 0
	for pre < len(wa) && pre < len(wb) && wa[pre] == wb[pre] {
		pre++
	}
	suf := 0
	for suf < len(wa)-pre && suf < len(wb)-pre && wa[len(wa)-1-suf] == wb[len(wb)-1-suf] {
		suf++
	}
	if pre == len(wa) && pre == len(wb) {
		return d
	}
	ma, mb := wa[pre:len(wa)-suf], wb[pre:len(wb)-suf]
	if len(ma) > 0 && len(mb) > 0 && len(ma)*len(mb) > maxDiffCells {
		d.TooLarge = true
		return d
	}
	// The middle starts and ends with a change (the common beginning and
	// end are as long as can be), so its unchanged stretches are all
	// between changes.
	if pre > 0 {
		d.Spans = sameSpans(wa[:pre], true, false)
	}
	d.Spans = append(d.Spans, compact(lcsOps(ma, mb))...)
	if suf > 0 {
		d.Spans = append(d.Spans, sameSpans(wa[len(wa)-suf:], false, true)...)
	}
	return d
}

// op is one word of an edit script.
type op struct {
	kind SpanKind
	word string
}

// lcsOps returns an edit script from a to b that keeps a longest common
// subsequence, deletions before insertions within a change. The caller
// bounds len(a)*len(b), so the lengths it stores fit in 16 bits (the
// shorter side is at most √maxDiffCells words).
func lcsOps(a, b []string) []op {
	n, m := len(a), len(b)
	var ops []op
	if n == 0 || m == 0 {
		for _, w := range a {
			ops = append(ops, op{SpanRemoved, w})
		}
		for _, w := range b {
			ops = append(ops, op{SpanAdded, w})
		}
		return ops
	}
	// l[i*(m+1)+j] is the length of an LCS of a[i:] and b[j:].
	l := make([]uint16, (n+1)*(m+1))
	at := func(i, j int) uint16 { return l[i*(m+1)+j] }
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			switch {
			case a[i] == b[j]:
				l[i*(m+1)+j] = at(i+1, j+1) + 1
			case at(i+1, j) >= at(i, j+1):
				l[i*(m+1)+j] = at(i+1, j)
			default:
				l[i*(m+1)+j] = at(i, j+1)
			}
		}
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			ops = append(ops, op{SpanSame, a[i]})
			i++
			j++
		case at(i+1, j) >= at(i, j+1):
			ops = append(ops, op{SpanRemoved, a[i]})
			i++
		default:
			ops = append(ops, op{SpanAdded, b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		ops = append(ops, op{SpanRemoved, a[i]})
	}
	for ; j < m; j++ {
		ops = append(ops, op{SpanAdded, b[j]})
	}
	return ops
}

// compact groups an edit script that starts and ends with a change into
// spans: within each change removed words come before added ones;
// unchanged stretches are cut to diffContext words next to each change;
// long changes are cut too.
func compact(ops []op) []Span {
	var spans []Span
	for i := 0; i < len(ops); {
		k := ops[i].kind
		if k == SpanSame {
			j := i
			for j < len(ops) && ops[j].kind == SpanSame {
				j++
			}
			spans = append(spans, sameSpans(words(ops[i:j]), false, false)...)
			i = j
			continue
		}
		// A change: every removed and added word up to the next same word.
		var rem, add []string
		j := i
		for j < len(ops) && ops[j].kind != SpanSame {
			if ops[j].kind == SpanRemoved {
				rem = append(rem, ops[j].word)
			} else {
				add = append(add, ops[j].word)
			}
			j++
		}
		if len(rem) > 0 {
			spans = append(spans, Span{SpanRemoved, cutWords(rem)})
		}
		if len(add) > 0 {
			spans = append(spans, Span{SpanAdded, cutWords(add)})
		}
		i = j
	}
	return spans
}

// sameSpans renders an unchanged stretch: whole when short, else the
// diffContext words next to each change around an elision.
func sameSpans(ws []string, first, last bool) []Span {
	switch {
	case first:
		if len(ws) > 2*diffContext {
			return []Span{{SpanElided, "…"}, {SpanSame, strings.Join(ws[len(ws)-diffContext:], " ")}}
		}
	case last:
		if len(ws) > 2*diffContext {
			return []Span{{SpanSame, strings.Join(ws[:diffContext], " ")}, {SpanElided, "…"}}
		}
	default:
		if len(ws) > 2*diffContext {
			return []Span{
				{SpanSame, strings.Join(ws[:diffContext], " ")},
				{SpanElided, "…"},
				{SpanSame, strings.Join(ws[len(ws)-diffContext:], " ")},
			}
		}
	}
	return []Span{{SpanSame, strings.Join(ws, " ")}}
}

func words(ops []op) []string {
	ws := make([]string, len(ops))
	for i, o := range ops {
		ws[i] = o.word
	}
	return ws
}

// cutWords joins the words of a change, keeping the first and last
// maxChangeWords/2 of a longer one around "…".
func cutWords(ws []string) string {
	if len(ws) <= maxChangeWords {
		return strings.Join(ws, " ")
	}
	h := maxChangeWords / 2
	return strings.Join(ws[:h], " ") + " … " + strings.Join(ws[len(ws)-h:], " ")
}
