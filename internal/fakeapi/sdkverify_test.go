package fakeapi

// This file re-implements, line for line, the proof and hash checks of the
// Pangea Go SDK v4.4.0 (service/audit/verify.go, pangea/hash/hash.go and
// internal/pangeautil.CanonicalizeStruct). The SDK itself cannot be imported
// here: its packages need github.com/rs/zerolog,
// github.com/hashicorp/go-retryablehttp and golang.org/x/crypto, which are
// not in go.sum, and this package must not change go.mod.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// sdkHash is hash.Hash.
type sdkHash []byte

// sdkPair is hash.Pair(p).With(h).
func sdkPair(p, h sdkHash) sdkHash {
	b := sha256.Sum256(append(append([]byte{}, p...), h...))
	return b[:]
}

// sdkProofItem is audit.proofItem.
type sdkProofItem struct {
	left bool
	hash sdkHash
}

// sdkRootProofItem is audit.rootProofItem.
type sdkRootProofItem struct {
	hash  sdkHash
	proof []sdkProofItem
}

// sdkVerifyHash is audit.VerifyHash: true when h is the SHA-256 of the
// canonicalized envelope.
func sdkVerifyHash(envelope map[string]any, h string) bool {
	canon, err := sdkCanonicalize(envelope)
	if err != nil {
		return false
	}
	sum := sha256.Sum256(canon)
	return h == hex.EncodeToString(sum[:])
}

// sdkCanonicalize is pangeautil.CanonicalizeStruct.
func sdkCanonicalize(v any) ([]byte, error) {
	var m map[string]any
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	_ = json.Unmarshal(b, &m)
	return json.Marshal(m)
}

// sdkHashFromHashProof is audit.hashFromHashProof.
func sdkHashFromHashProof(proof string) (string, sdkHash, error) {
	label, raw, ok := strings.Cut(proof, ":")
	if !ok {
		return "", nil, fmt.Errorf("audit: invalid format: expected `:` in: %v", proof)
	}
	h, err := hex.DecodeString(raw)
	if err != nil {
		return "", nil, fmt.Errorf("audit: invalid hash in hash proof: %w", err)
	}
	return label, h, nil
}

// sdkDecodeProof is audit.decodeProof.
func sdkDecodeProof(s string) ([]sdkProofItem, error) {
	items := strings.Split(s, ",")
	p := make([]sdkProofItem, 0, len(items))
	for _, item := range items {
		side, h, err := sdkHashFromHashProof(item)
		if err != nil {
			return nil, err
		}
		switch side {
		case "l":
			p = append(p, sdkProofItem{left: true, hash: h})
		case "r":
			p = append(p, sdkProofItem{hash: h})
		default:
			return nil, fmt.Errorf("audit: inconsistent proof item with no side declaration: %v", item)
		}
	}
	return p, nil
}

// sdkVerifyLogProof is audit.verifyLogProof.
func sdkVerifyLogProof(target, root sdkHash, p []sdkProofItem) bool {
	h := target
	for _, it := range p {
		if it.left {
			h = sdkPair(it.hash, h)
		} else {
			h = sdkPair(h, it.hash)
		}
	}
	return bytes.Equal(root, h)
}

// sdkVerifyMembershipProof is audit.VerifyMembershipProof.
func sdkVerifyMembershipProof(rootHex, hashHex, proof string) (bool, error) {
	target, err := hex.DecodeString(hashHex)
	if err != nil {
		return false, err
	}
	root, err := hex.DecodeString(rootHex)
	if err != nil {
		return false, err
	}
	p, err := sdkDecodeProof(proof)
	if err != nil {
		return false, err
	}
	return sdkVerifyLogProof(target, root, p), nil
}

// sdkDecodeRootProof is audit.decodeRootProof.
func sdkDecodeRootProof(raw []string) ([]sdkRootProofItem, error) {
	proof := make([]sdkRootProofItem, 0, len(raw))
	for _, item := range raw {
		root, membership, ok := strings.Cut(item, ",")
		if !ok {
			return nil, fmt.Errorf("audit: invalid format: expected `,` in: %v", item)
		}
		_, h, err := sdkHashFromHashProof(root)
		if err != nil {
			return nil, err
		}
		p, err := sdkDecodeProof(membership)
		if err != nil {
			return nil, err
		}
		proof = append(proof, sdkRootProofItem{hash: h, proof: p})
	}
	return proof, nil
}

// sdkVerifyConsistencyProof is audit.verifyConsistencyProof.
func sdkVerifyConsistencyProof(oldRootHex, newRootHex string, consistency []string) (bool, error) {
	oldRoot, err := hex.DecodeString(oldRootHex)
	if err != nil {
		return false, err
	}
	newRoot, err := hex.DecodeString(newRootHex)
	if err != nil {
		return false, err
	}
	proof, err := sdkDecodeRootProof(consistency)
	if err != nil {
		return false, err
	}
	if len(proof) == 0 {
		return false, fmt.Errorf("audit: consistency proof is empty")
	}
	root := proof[0].hash
	for i := 1; i < len(proof); i++ {
		root = sdkPair(proof[i].hash, root)
	}
	if !bytes.Equal(root, oldRoot) {
		return false, nil
	}
	for _, it := range proof {
		if !sdkVerifyLogProof(it.hash, newRoot, it.proof) {
			return false, nil
		}
	}
	return true, nil
}
