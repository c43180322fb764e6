package runner

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tracebatch/tracebatch/prompts"
)

// Selection picks the items a run takes: by id, by tag, and by shard. The
// zero Selection takes every item.
type Selection struct {
	// ID, when set, keeps the items whose id it matches.
	ID *regexp.Regexp
	// Tags, when set, keeps the items that have at least one of them.
	Tags []string
	// Shard and Shards, when Shards > 0, keep shard Shard (1-based) of
	// Shards; see ShardOf.
	Shard, Shards int
}

// Has reports whether the selection takes the item.
func (s Selection) Has(it prompts.Item) bool {
	if s.ID != nil && !s.ID.MatchString(it.ID) {
		return false
	}
	if len(s.Tags) > 0 && !slices.ContainsFunc(s.Tags, func(t string) bool { return slices.Contains(it.Tags, t) }) {
		return false
	}
	return s.Shards == 0 || ShardOf(it.Suite, it.ID, s.Shards) == s.Shard
}

// Empty reports whether the selection takes every item.
func (s Selection) Empty() bool { return s.ID == nil && len(s.Tags) == 0 && s.Shards == 0 }

// ShardOf is the shard (1 to shards) an item belongs to: the first 8 bytes
// of the SHA-256 of its suite name and id, modulo shards. It depends on
// nothing else, so an item lands in the same shard whatever else the suite
// holds, on every machine and in every version; every model and repeat of
// an item lands with it.
func ShardOf(suite, id string, shards int) int {
	sum := sha256.Sum256([]byte(suite + "\x00" + id))
	return int(binary.BigEndian.Uint64(sum[:8])%uint64(shards)) + 1
}

// ParseShard reads "K/N": shard K of N, 1 ≤ K ≤ N.
func ParseShard(s string) (k, n int, err error) {
	ks, ns, ok := strings.Cut(s, "/")
	k, kerr := strconv.Atoi(ks)
	n, nerr := strconv.Atoi(ns)
	if !ok || kerr != nil || nerr != nil || n < 1 || k < 1 || k > n {
		return 0, 0, fmt.Errorf("--shard %q: write K/N with 1 ≤ K ≤ N, such as 2/4 (CI matrix index + 1 / matrix size)", s)
	}
	return k, n, nil
}
