package runner

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/tracebatch/tracebatch/prompts"
)

// TestShardsAreDisjointCompleteAndStable checks over random ids that every
// item is in exactly one shard and that the shards together are the suite
// and are balanced. Stability comes from ShardOf depending on the suite
// name and id alone; the pinned value below holds it across versions.
func TestShardsAreDisjointCompleteAndStable(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 7))
	for _, shards := range []int{1, 2, 3, 7, 16} {
		ids := make([]string, 2000)
		for i := range ids {
			ids[i] = fmt.Sprintf("id-%x-%d", rng.Uint64(), i)
		}
		counts := make([]int, shards+1)
		for _, id := range ids {
			in := 0
			for k := 1; k <= shards; k++ {
				if (Selection{Shard: k, Shards: shards}).Has(prompts.Item{Suite: "s", ID: id}) {
					in++
					counts[k]++
				}
			}
			if in != 1 {
				t.Fatalf("%d shards: %s is in %d shards", shards, id, in)
			}
		}
		for k := 1; k <= shards; k++ {
			if want := len(ids) / shards; counts[k] < want/2 {
				t.Errorf("%d shards: shard %d got %d items, want about %d", shards, k, counts[k], want)
			}
		}
	}
	// A pinned value: the function must never change.
	if got := ShardOf("magic-links", "what-are-magic-links", 4); got != pinnedShard {
		t.Errorf("ShardOf changed: got %d, pinned %d", got, pinnedShard)
	}
}

// pinnedShard is ShardOf("magic-links", "what-are-magic-links", 4) as first
// computed: if it changes, every CI shard matrix reshuffles.
const pinnedShard = 2

func TestSelectionFilters(t *testing.T) {
	it := prompts.Item{Suite: "s", ID: "login-42", Tags: []string{"auth", "slow"}}
	cases := []struct {
		sel  Selection
		want bool
	}{
		{Selection{}, true},
		{Selection{ID: regexp.MustCompile(`^login-`)}, true},
		{Selection{ID: regexp.MustCompile(`^signup`)}, false},
		{Selection{Tags: []string{"auth"}}, true},
		{Selection{Tags: []string{"fast", "slow"}}, true},
		{Selection{Tags: []string{"fast"}}, false},
	}
	for _, c := range cases {
		if got := c.sel.Has(it); got != c.want {
			t.Errorf("%+v: %v", c.sel, got)
		}
	}
}

func TestParseShard(t *testing.T) {
	for s, want := range map[string][2]int{"1/1": {1, 1}, "2/4": {2, 4}} {
		k, n, err := ParseShard(s)
		if err != nil || k != want[0] || n != want[1] {
			t.Errorf("%s: %d %d %v", s, k, n, err)
		}
	}
	for _, s := range []string{"0/4", "5/4", "2", "a/b", "1/0", "-1/2"} {
		if _, _, err := ParseShard(s); err == nil {
			t.Errorf("%s: no error", s)
		}
	}
}
