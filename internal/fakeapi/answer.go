package fakeapi

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// AnswerFunc computes the fake model's answer to a chat request. The
// request's Answer, FinishReason, Usage and Status are not yet set. It is
// called concurrently.
type AnswerFunc func(ChatRequest) string

// DefaultAnswer is the fake model's answer when no AnswerFunc is set:
// "Answer to: <prompt> [<h>]", where prompt is the last user message, system
// the system and developer messages joined with newlines (ChatRequest.Prompt
// and ChatRequest.System), and h the first 8 hex digits of
// sha256(system + prompt). A test recomputes any answer with it.
func DefaultAnswer(system, prompt string) string {
	sum := sha256.Sum256([]byte(system + prompt))
	return "Answer to: " + prompt + " [" + hex.EncodeToString(sum[:4]) + "]"
}

// defaultAnswer is the AnswerFunc used when none is set.
func defaultAnswer(c ChatRequest) string {
	return DefaultAnswer(c.System(), c.Prompt())
}

// EstimateTokens returns the fake's token count of text: ceil(len(text)/4),
// len in bytes.
func EstimateTokens(text string) int {
	return (len(text) + 3) / 4
}

// truncateTokens cuts text to at most tokens tokens (4 bytes each), at a
// rune boundary, and reports whether it cut.
func truncateTokens(text string, tokens int) (string, bool) {
	if tokens < 0 || EstimateTokens(text) <= tokens {
		return text, false
	}
	n := tokens * 4
	for n > 0 && !utf8.RuneStart(text[n]) {
		n--
	}
	return text[:n], true
}

// streamPieces splits an answer into the contents of its stream deltas:
// one word each, with the space that follows it, so joining the pieces gives
// the answer back.
func streamPieces(answer string) []string {
	var pieces []string
	for len(answer) > 0 {
		i := strings.IndexByte(answer, ' ')
		if i < 0 {
			pieces = append(pieces, answer)
			break
		}
		// Take the word and the spaces that follow it.
		j := i
		for j < len(answer) && answer[j] == ' ' {
			j++
		}
		pieces = append(pieces, answer[:j])
		answer = answer[j:]
	}
	return pieces
}

// DefaultEmbeddingDims is the size of the fake's embedding vectors when a
// request does not ask for dimensions.
const DefaultEmbeddingDims = 64

// Embed returns the fake's embedding of text in dims dimensions: a hashed
// bag of lowercased words (each word adds ±1 to the coordinate its FNV-1a
// hash picks), normalized to length 1. Identical texts have cosine 1, texts
// that share most words a high cosine. A text without words embeds as the
// first unit vector.
func Embed(text string, dims int) []float64 {
	if dims <= 0 {
		dims = DefaultEmbeddingDims
	}
	v := make([]float64, dims)
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	for _, w := range words {
		h := fnv.New64a()
		h.Write([]byte(w))
		x := h.Sum64()
		i := int(x % uint64(dims))
		if x>>63 == 1 {
			v[i]--
		} else {
			v[i]++
		}
	}
	var norm float64
	for _, c := range v {
		norm += c * c
	}
	if norm == 0 {
		v[0] = 1
		return v
	}
	norm = math.Sqrt(norm)
	for i := range v {
		v[i] /= norm
	}
	return v
}

// Cosine returns the cosine similarity of two vectors of the same length.
func Cosine(a, b []float64) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}
