package prompts

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// suggest returns the candidate that word is most likely a typo of: the
// closest one by edit distance (adjacent transpositions count as one edit,
// case is ignored), when that distance is at most 2 and at most half the
// length of word. Ties go to the earlier candidate. It returns "" when no
// candidate is close enough.
func suggest(word string, candidates []string) string {
	w := []rune(strings.ToLower(word))
	limit := min(2, len(w)/2)
	best, bestD := "", limit+1
	for _, c := range candidates {
		if d := editDistance(w, []rune(strings.ToLower(c)), bestD); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of adjacent runes each
// count one. It stops early and returns bound when the distance is at least
// bound.
func editDistance(a, b []rune, bound int) int {
	if d := len(a) - len(b); d >= bound || -d >= bound {
		return bound
	}
	// Three rows: two back (for swaps), previous, current.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin >= bound {
			return bound
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], bound)
}

// didYouMean is suggest as the end of a message: `; did you mean "x"?`, or
// "" when nothing is close.
func didYouMean(word string, candidates []string) string {
	if s := suggest(word, candidates); s != "" {
		return fmt.Sprintf("; did you mean %q?", s)
	}
	return ""
}

// maxQuoted is how many characters of a user's value a message repeats.
const maxQuoted = 60

// quote is %q of a value from the suite, cut to maxQuoted characters so
// that a message stays short whatever the input holds.
func quote(s string) string {
	if utf8.RuneCountInString(s) <= maxQuoted {
		return fmt.Sprintf("%q", s)
	}
	n := 0
	for i := range s {
		if n == maxQuoted {
			return fmt.Sprintf("%q…", s[:i])
		}
		n++
	}
	return fmt.Sprintf("%q", s)
}

// list joins names for a message: "a, b or c".
func list(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
