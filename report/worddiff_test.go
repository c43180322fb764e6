package report

import (
	"fmt"
	"strings"
	"testing"
)

func TestDiffWords(t *testing.T) {
	words := func(prefix string, n int) string {
		ws := make([]string, n)
		for i := range ws {
			ws[i] = fmt.Sprintf("%s%d", prefix, i)
		}
		return strings.Join(ws, " ")
	}
	for _, c := range []struct {
		name, a, b, want string
	}{
		{"identical", "Magic links let you sign in.", "Magic links let you sign in.", ""},
		{"white space only", "Magic  links\nlet you\tsign in.", " Magic links let you sign in. ", ""},
		{"both empty", "", "", ""},
		{"insertion", "Magic links let you sign in.", "Magic links let you sign in quickly.", "Magic links let you sign [-in.-] {+in quickly.+}"},
		{"insertion in the middle", "a b c", "a b x c", "a b {+x+} c"},
		{"deletion", "a b x c", "a b c", "a b [-x-] c"},
		{"replacement", "links expire after 15 minutes", "links expire quickly", "links expire [-after 15 minutes-] {+quickly+}"},
		{"from nothing", "", "a b", "{+a b+}"},
		{"to nothing", "a b", "", "[-a b-]"},
		{"punctuation stays on its word", "Yes, it does.", "Yes it does.", "[-Yes,-] {+Yes+} it does."},
		{"short stretches kept", "a b c d e f x g", "a b c d e f y g", "a b c d e f [-x-] {+y+} g"},
		{
			"long stretches elided",
			"one two three four five six seven eight nine ten eleven twelve thirteen fourteen",
			"one two three four five SIX seven eight nine ten eleven twelve thirteen fourteen",
			"one two three four five [-six-] {+SIX+} seven eight nine …",
		},
		{
			"long beginning elided",
			words("w", 7) + " end.",
			words("w", 7) + " END.",
			"… w4 w5 w6 [-end.-] {+END.+}",
		},
		{
			"interior stretch elided",
			"x " + words("w", 10) + " y",
			"X " + words("w", 10) + " Y",
			"[-x-] {+X+} w0 w1 w2 … w7 w8 w9 [-y-] {+Y+}",
		},
		{
			"interior stretch of six kept",
			"x " + words("w", 6) + " y",
			"X " + words("w", 6) + " Y",
			"[-x-] {+X+} w0 w1 w2 w3 w4 w5 [-y-] {+Y+}",
		},
		{
			"long change cut",
			"start " + words("old", 50) + " end",
			"start " + words("new", 50) + " end",
			"start [-" + words("old", 20) + " … " + strings.TrimPrefix(words("old", 50), words("old", 30)+" ") + "-] {+" +
				words("new", 20) + " … " + strings.TrimPrefix(words("new", 50), words("new", 30)+" ") + "+} end",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := DiffWords(c.a, c.b)
			if got := d.String(); got != c.want {
				t.Errorf("\ngot  %q\nwant %q", got, c.want)
			}
			if d.Equal() != (c.want == "") {
				t.Errorf("Equal() = %v", d.Equal())
			}
		})
	}
}

func TestDiffWordsKeepsAllWords(t *testing.T) {
	// Without elision, removed+same words rebuild a and added+same words
	// rebuild b: the script is a real edit script.
	a := "the quick brown fox jumps over the lazy dog and runs away"
	b := "a quick red fox leaps over the dog and then runs far away"
	ops := lcsOps(strings.Fields(a), strings.Fields(b))
	var ra, rb []string
	same := 0
	for _, o := range ops {
		if o.kind != SpanAdded {
			ra = append(ra, o.word)
		}
		if o.kind != SpanRemoved {
			rb = append(rb, o.word)
		}
		if o.kind == SpanSame {
			same++
		}
	}
	if strings.Join(ra, " ") != a || strings.Join(rb, " ") != b {
		t.Errorf("script does not rebuild the texts:\n%q\n%q", ra, rb)
	}
	if want := lcsLen(strings.Fields(a), strings.Fields(b)); same != want {
		t.Errorf("kept %d words, the LCS has %d", same, want)
	}
}

// lcsLen is the textbook LCS length, to check lcsOps against.
func lcsLen(a, b []string) int {
	prev := make([]int, len(b)+1)
	for i := range a {
		cur := make([]int, len(b)+1)
		for j := range b {
			if a[i] == b[j] {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev = cur
	}
	return prev[len(b)]
}

func TestDiffWordsHugeFallsBack(t *testing.T) {
	// 2,100 × 2,100 different words: 4.41M comparisons, over the cap.
	a := strings.Repeat("alpha ", 2100)
	b := strings.Repeat("beta ", 2100)
	d := DiffWords(a, b)
	if !d.TooLarge || d.String() != "answer changed (2100 → 2100 words)" || d.Equal() {
		t.Errorf("%+v %q", d.TooLarge, d.String())
	}
	// Under the cap it diffs: 2,000 × 2,000 = 4M.
	if d := DiffWords(strings.Repeat("alpha ", 2000), strings.Repeat("beta ", 2000)); d.TooLarge {
		t.Error("4M comparisons fell back")
	}
	// A huge answer with a small change is not huge: the common beginning
	// and end are set aside before the cap applies.
	long := strings.Repeat("word ", 100_000)
	d = DiffWords(long+"old "+long, long+"new "+long)
	if d.TooLarge || d.String() != "… word word word [-old-] {+new+} word word word …" {
		t.Errorf("%q", d.String())
	}
	// A pure insertion into a huge text needs no table.
	d = DiffWords(long, long+strings.Repeat("more ", 100_000))
	if d.TooLarge || !strings.HasPrefix(d.String(), "… word word word {+more") {
		t.Errorf("%.80q", d.String())
	}
}
