package fakeapi

import (
	"crypto/sha256"
	"encoding/hex"
	"math/bits"
	"slices"
)

// merkleTree is the append-only Merkle tree of Secure Audit Log: the shape
// of RFC 6962 without its leaf and node prefixes. A leaf is an event hash;
// MTH(D[n]) = sha256(MTH(D[0:k]) || MTH(D[k:n])) with k the largest power of
// two smaller than n.
//
// It keeps the hash of every complete aligned subtree, level by level, so
// that appending costs one hash on average and any node of any tree size is
// at most O(log n) hashes away.
type merkleTree struct {
	// levels[k] holds the hashes of the complete subtrees of 2^k leaves,
	// 32 bytes each, in leaf order.
	levels [][]byte
}

// size returns the number of leaves.
func (t *merkleTree) size() int {
	if len(t.levels) == 0 {
		return 0
	}
	return len(t.levels[0]) / sha256.Size
}

// node returns the hash of the complete subtree number i of level k.
func (t *merkleTree) node(k, i int) []byte {
	return t.levels[k][i*sha256.Size : (i+1)*sha256.Size]
}

// append adds a leaf.
func (t *merkleTree) append(leaf [sha256.Size]byte) {
	if len(t.levels) == 0 {
		t.levels = append(t.levels, nil)
	}
	t.levels[0] = append(t.levels[0], leaf[:]...)
	for k := 0; ; k++ {
		n := len(t.levels[k]) / sha256.Size
		if n%2 != 0 {
			return
		}
		h := pairHash(t.node(k, n-2), t.node(k, n-1))
		if k+1 == len(t.levels) {
			t.levels = append(t.levels, nil)
		}
		t.levels[k+1] = append(t.levels[k+1], h[:]...)
	}
}

// pairHash returns sha256(left || right).
func pairHash(left, right []byte) [sha256.Size]byte {
	var buf [2 * sha256.Size]byte
	copy(buf[:], left)
	copy(buf[sha256.Size:], right)
	return sha256.Sum256(buf[:])
}

// split returns the largest power of two smaller than n (n > 1).
func split(n int) int {
	return 1 << (bits.Len(uint(n-1)) - 1)
}

// treeView is the tree as it was at some size n. Every node of that tree is
// either a complete aligned subtree (stored in the merkleTree) or a node of
// the right spine, [lo, n); the view computes the spine once.
type treeView struct {
	t     *merkleTree
	n     int
	spine []spineNode // from the root down
}

// spineNode is a node [lo, n) of the right spine of a tree of size n.
type spineNode struct {
	lo   int
	hash [sha256.Size]byte
}

// view returns the tree of size n (1 <= n <= t.size()).
func (t *merkleTree) view(n int) *treeView {
	v := &treeView{t: t, n: n}
	lo := 0
	for !isComplete(lo, n) {
		v.spine = append(v.spine, spineNode{lo: lo})
		lo += split(n - lo)
	}
	// The spine ends in a complete subtree [lo, n); hash upwards.
	below := [sha256.Size]byte(v.complete(lo, n))
	for i := len(v.spine) - 1; i >= 0; i-- {
		s := &v.spine[i]
		k := split(n - s.lo)
		s.hash = pairHash(v.complete(s.lo, s.lo+k), below[:])
		below = s.hash
	}
	return v
}

// isComplete reports whether [lo, hi) is a complete aligned subtree.
func isComplete(lo, hi int) bool {
	w := hi - lo
	return w > 0 && w&(w-1) == 0 && lo%w == 0
}

// complete returns the hash of the complete aligned subtree [lo, hi).
func (v *treeView) complete(lo, hi int) []byte {
	k := bits.TrailingZeros(uint(hi - lo))
	return v.t.node(k, lo>>k)
}

// hash returns the hash of the node [lo, hi) of the tree.
func (v *treeView) hash(lo, hi int) []byte {
	if isComplete(lo, hi) {
		return v.complete(lo, hi)
	}
	for i := range v.spine {
		if v.spine[i].lo == lo && hi == v.n {
			return v.spine[i].hash[:]
		}
	}
	// Not a node of this tree; compute it the long way.
	k := split(hi - lo)
	h := pairHash(v.hash(lo, lo+k), v.hash(lo+k, hi))
	return h[:]
}

// root returns the root hash.
func (v *treeView) root() []byte {
	return v.hash(0, v.n)
}

// proofItem is one step of an audit path: a sibling hash, hashed on the left
// of the running hash when left is set.
type proofItem struct {
	left bool
	hash []byte
}

// path returns the audit path of the node [lo, lo+width) (a complete aligned
// subtree, width a power of two) to the root, from the node upwards.
func (v *treeView) path(lo, width int) []proofItem {
	var items []proofItem // from the root down
	a, b := 0, v.n
	for b-a > width {
		k := split(b - a)
		if lo < a+k {
			items = append(items, proofItem{left: false, hash: v.hash(a+k, b)})
			b = a + k
		} else {
			items = append(items, proofItem{left: true, hash: v.hash(a, a+k)})
			a += k
		}
	}
	slices.Reverse(items)
	return items
}

// appendProof appends items in the SDK's membership proof format:
// "l:<hex>,r:<hex>,...".
func appendProof(b []byte, items []proofItem) []byte {
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		if it.left {
			b = append(b, "l:"...)
		} else {
			b = append(b, "r:"...)
		}
		b = hex.AppendEncode(b, it.hash)
	}
	return b
}

// proofItemLen is the length of one formatted proof item and its comma.
const proofItemLen = 3 + 2*sha256.Size

// membershipProof returns the proof that leaf i is in the tree, in the SDK's
// format, or "" for a tree of one leaf (its proof is empty).
func (v *treeView) membershipProof(i int) string {
	items := v.path(i, 1)
	if len(items) == 0 {
		return ""
	}
	return string(appendProof(make([]byte, 0, len(items)*proofItemLen), items))
}

// consistencyProof returns the proof that this tree extends the tree of
// size m (0 < m < n), in the SDK's format: one item per complete subtree of
// the old tree, smallest first, "x:<subtree hash>,<its membership proof in
// this tree>". Folding the items (the first, then each next one hashed on the
// left) gives the old root.
func (v *treeView) consistencyProof(m int) []string {
	var subtrees [][2]int // [lo, width], largest first
	for lo := 0; lo < m; {
		w := 1 << (bits.Len(uint(m-lo)) - 1)
		subtrees = append(subtrees, [2]int{lo, w})
		lo += w
	}
	proof := make([]string, 0, len(subtrees))
	var b []byte
	for i := len(subtrees) - 1; i >= 0; i-- {
		lo, w := subtrees[i][0], subtrees[i][1]
		items := v.path(lo, w)
		b = append(b[:0], "x:"...)
		b = hex.AppendEncode(b, v.complete(lo, lo+w))
		b = append(b, ',')
		b = appendProof(b, items)
		proof = append(proof, string(b))
	}
	return proof
}
