package fakeapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"testing"
)

// naiveRoot computes MTH(D[lo:hi]) by the definition.
func naiveRoot(leaves [][sha256.Size]byte, lo, hi int) []byte {
	if hi-lo == 1 {
		return leaves[lo][:]
	}
	k := 1
	for k*2 < hi-lo {
		k *= 2
	}
	h := pairHash(naiveRoot(leaves, lo, lo+k), naiveRoot(leaves, lo+k, hi))
	return h[:]
}

// testLeaves returns n distinct leaves.
func testLeaves(n int) [][sha256.Size]byte {
	leaves := make([][sha256.Size]byte, n)
	for i := range leaves {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(i))
		leaves[i] = sha256.Sum256(b[:])
	}
	return leaves
}

func TestMerkleRootMatchesDefinition(t *testing.T) {
	leaves := testLeaves(130)
	var tree merkleTree
	for n := 1; n <= len(leaves); n++ {
		tree.append(leaves[n-1])
		if got, want := tree.view(n).root(), naiveRoot(leaves, 0, n); !bytes.Equal(got, want) {
			t.Fatalf("size %d: root %x, want %x", n, got, want)
		}
	}
	// Views of earlier sizes still give the roots of that time.
	for n := 1; n <= len(leaves); n++ {
		if got, want := tree.view(n).root(), naiveRoot(leaves, 0, n); !bytes.Equal(got, want) {
			t.Fatalf("view of size %d: root %x, want %x", n, got, want)
		}
	}
}

func TestMembershipProofsVerifyWithSDKCheck(t *testing.T) {
	leaves := testLeaves(70)
	var tree merkleTree
	for _, l := range leaves {
		tree.append(l)
	}
	if p := tree.view(1).membershipProof(0); p != "" {
		t.Fatalf("proof in a tree of one leaf = %q, want empty", p)
	}
	for n := 2; n <= len(leaves); n++ {
		v := tree.view(n)
		root := hex.EncodeToString(v.root())
		for i := range n {
			proof := v.membershipProof(i)
			ok, err := sdkVerifyMembershipProof(root, hex.EncodeToString(leaves[i][:]), proof)
			if err != nil || !ok {
				t.Fatalf("size %d leaf %d: proof %q does not verify (err %v)", n, i, proof, err)
			}
			// Another leaf does not verify with it.
			other := leaves[(i+1)%n]
			if ok, _ := sdkVerifyMembershipProof(root, hex.EncodeToString(other[:]), proof); ok {
				t.Fatalf("size %d leaf %d: proof verifies a different leaf", n, i)
			}
		}
	}
}

func TestConsistencyProofsVerifyWithSDKCheck(t *testing.T) {
	leaves := testLeaves(70)
	var tree merkleTree
	for _, l := range leaves {
		tree.append(l)
	}
	for n := 2; n <= len(leaves); n++ {
		v := tree.view(n)
		newRoot := hex.EncodeToString(v.root())
		for m := 1; m < n; m++ {
			oldRoot := hex.EncodeToString(naiveRoot(leaves, 0, m))
			proof := v.consistencyProof(m)
			ok, err := sdkVerifyConsistencyProof(oldRoot, newRoot, proof)
			if err != nil || !ok {
				t.Fatalf("%d -> %d: proof %q does not verify (err %v)", m, n, proof, err)
			}
			// A different old root is refused.
			wrong := hex.EncodeToString(naiveRoot(leaves, 1, m+1))
			if ok, _ := sdkVerifyConsistencyProof(wrong, newRoot, proof); ok {
				t.Fatalf("%d -> %d: proof verifies a wrong old root", m, n)
			}
		}
	}
}

func BenchmarkMerkleAppend(b *testing.B) {
	leaves := testLeaves(1024)
	var tree merkleTree
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tree.append(leaves[i%len(leaves)])
	}
}

func BenchmarkMerkleVerboseProofs(b *testing.B) {
	leaves := testLeaves(1 << 16)
	var tree merkleTree
	for _, l := range leaves {
		tree.append(l)
	}
	b.ReportAllocs()
	for b.Loop() {
		v := tree.view(tree.size())
		_ = v.root()
		_ = v.membershipProof(tree.size() - 1)
		_ = v.consistencyProof(tree.size() - 1)
	}
}
