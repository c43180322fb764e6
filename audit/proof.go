package audit

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	"github.com/pangeacyber/pangea-go/pangea-sdk/v4/pangea/hash"
	sdk "github.com/pangeacyber/pangea-go/pangea-sdk/v4/service/audit"
)

// Proof is the verification of one receipt, made when proofs are asked for
// (--verify-proofs). Each check is "verified", "failed", or "unverified"
// when the answer did not carry what the check needs.
type Proof struct {
	// Hash: the hash is the SHA-256 of the envelope Pangea returned.
	Hash string `json:"hash"`
	// Event: the envelope holds exactly the event that was sent.
	Event string `json:"event"`
	// Signature: the envelope's signature verifies (signed runs only).
	Signature string `json:"signature,omitempty"`
	// Membership: the membership proof puts the hash in the unpublished
	// root.
	Membership string `json:"membership"`
	// Consistency: the consistency proof shows the new root extends a root
	// seen earlier in this run.
	Consistency string `json:"consistency"`
	// Root is the unpublished root the proofs refer to.
	Root string `json:"root,omitempty"`
}

// Verification outcomes.
const (
	Verified   = "verified"
	Failed     = "failed"
	Unverified = "unverified"
)

func outcome(v sdk.EventVerification) string {
	switch v {
	case sdk.Success:
		return Verified
	case sdk.Failed:
		return Failed
	}
	return Unverified
}

// proofChain carries the previous root of one answer from result to result.
type proofChain struct{ prev string }

// roots remembers the unpublished roots seen recently, so a consistency
// proof can be checked against a root from another concurrent call.
type roots struct {
	mu   sync.Mutex
	ring [256]string
	n    int
	seen map[string]bool
}

func (r *roots) add(root string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = make(map[string]bool, len(r.ring))
	}
	if r.seen[root] {
		return
	}
	slot := r.n % len(r.ring)
	delete(r.seen, r.ring[slot])
	r.ring[slot] = root
	r.seen[root] = true
	r.n++
}

func (r *roots) has(root string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[root]
}

// verify checks one verbose result against the event that was sent.
func (c *Client) verify(sent Event, r *sdk.LogResult, chain *proofChain) *Proof {
	p := &Proof{Hash: outcome(sdk.VerifyHash(r.RawEnvelope, r.Hash)), Event: Unverified, Membership: Unverified, Consistency: Unverified}
	if r.RawEnvelope != nil {
		p.Event = Failed
		if sameEvent(sent, r.RawEnvelope["event"]) {
			p.Event = Verified
		}
		if c.cfg.Signer != nil {
			var env sdk.EventEnvelope
			if b, err := json.Marshal(r.RawEnvelope); err == nil && json.Unmarshal(b, &env) == nil {
				p.Signature = outcome(env.VerifySignature())
			} else {
				p.Signature = Failed
			}
		}
	}
	if r.UnpublishedRootHash == nil {
		return p
	}
	root := *r.UnpublishedRootHash
	p.Root = root
	if r.MembershipProof != nil {
		p.Membership = Failed
		if v, err := sdk.VerifyMembershipProof(root, r.Hash, *r.MembershipProof); err == nil && v == sdk.Success {
			p.Membership = Verified
		}
	}
	if r.ConsistencyProof != nil {
		old, ok := consistentRoot(root, *r.ConsistencyProof)
		switch {
		case !ok:
			p.Consistency = Failed
		case chain.prev != "":
			// Results of one answer follow each other in the tree.
			if old == chain.prev {
				p.Consistency = Verified
			} else {
				p.Consistency = Failed
			}
		case c.roots.has(old):
			p.Consistency = Verified
		}
	}
	chain.prev = root
	c.roots.add(root)
	return p
}

// consistentRoot checks a consistency proof against the new root and returns
// the old root it proves the new one extends. This is the SDK's
// verifyConsistencyProof (unexported there), which also needs the old root.
func consistentRoot(newRoot string, proof []string) (string, bool) {
	newHash, err := hash.Decode(newRoot)
	if err != nil || len(proof) == 0 {
		return "", false
	}
	var old hash.Hash
	for i, item := range proof {
		node, membership, ok := strings.Cut(item, ",")
		if !ok {
			return "", false
		}
		_, raw, ok := strings.Cut(node, ":")
		if !ok {
			return "", false
		}
		h, err := hash.Decode(raw)
		if err != nil {
			return "", false
		}
		if v, err := sdk.VerifyMembershipProof(newRoot, raw, membership); err != nil || v != sdk.Success {
			return "", false
		}
		if i == 0 {
			old = h
		} else {
			old = hash.Pair(h).With(old)
		}
	}
	_ = newHash
	return old.String(), true
}

// sameEvent reports whether the envelope's event is the event that was sent.
func sameEvent(sent Event, got any) bool {
	b, err := json.Marshal(sent.wire())
	if err != nil {
		return false
	}
	var want map[string]any
	if json.Unmarshal(b, &want) != nil {
		return false
	}
	return reflect.DeepEqual(want, got)
}
