package encode

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"unicode/utf16"

	"golang.org/x/text/unicode/norm"
)

// USETokenizer is the SentencePiece unigram tokenizer of Universal Sentence
// Encoder lite, reproducing the JavaScript tokenizer of
// @energetic-ai/embeddings@0.2.0 (itself the TF.js models' tokenizer) id for
// id, quirks included:
//
//   - text is NFKC-normalised, not lowercased; a non-empty text gets a
//     leading "▁" and every space becomes "▁";
//   - pieces are matched on code points through a trie of vocabulary entries
//     6.. (0 is the unknown piece "�", 1..5 are reserved);
//   - a position no piece starts at yields a one-symbol unknown piece with
//     score 0 (higher than any real piece's negative score);
//   - the lattice is scanned by end position, then start position ascending;
//     an end whose best is still exactly 0 takes any candidate, ties go to
//     the later candidate (score >= best);
//   - the back-trace steps back by the UTF-16 length of the chosen piece's
//     vocabulary string (the JavaScript string length);
//   - runs of unknown ids collapse to one.
type USETokenizer struct {
	pieces []string  // vocabulary strings by id
	u16len []int     // UTF-16 length of each piece
	root   *trieNode // pieces 6.. by code point
}

// useReservedPieces is the number of leading vocabulary entries (unknown,
// <s>, </s>, 3 extra ids) kept out of the trie.
const useReservedPieces = 6

type trieNode struct {
	children map[rune]*trieNode
	end      bool
	length   int // code points in the piece ending here
	score    float64
	id       int
}

// LoadUSETokenizer reads vocab.json: a JSON array of [piece, score] pairs.
func LoadUSETokenizer(path string) (*USETokenizer, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("use-lite tokenizer: %w", err)
	}
	var entries [][2]any
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("use-lite tokenizer: %s: %w", path, err)
	}
	pieces := make([]string, len(entries))
	scores := make([]float64, len(entries))
	for i, e := range entries {
		s, ok1 := e[0].(string)
		// A few entries (":" among them) have a null score; JavaScript's
		// null + x == x makes that a score of 0, and so does this.
		f, ok2 := e[1].(float64)
		if e[1] == nil {
			f, ok2 = 0, true
		}
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("use-lite tokenizer: %s: entry %d is %v, want [string, number or null]", path, i, e)
		}
		pieces[i], scores[i] = s, f
	}
	return NewUSETokenizer(pieces, scores)
}

// NewUSETokenizer builds a tokenizer from pieces and their log-probability
// scores, indexed by token id.
func NewUSETokenizer(pieces []string, scores []float64) (*USETokenizer, error) {
	if len(pieces) != len(scores) {
		return nil, fmt.Errorf("use-lite tokenizer: %d pieces but %d scores", len(pieces), len(scores))
	}
	if len(pieces) <= useReservedPieces {
		return nil, fmt.Errorf("use-lite tokenizer: vocabulary has %d entries, want more than %d", len(pieces), useReservedPieces)
	}
	t := &USETokenizer{pieces: pieces, u16len: make([]int, len(pieces)), root: &trieNode{children: map[rune]*trieNode{}}}
	for i, p := range pieces {
		t.u16len[i] = len(utf16.Encode([]rune(p)))
		if i < useReservedPieces || p == "" {
			continue
		}
		n := t.root
		rs := []rune(p)
		for _, r := range rs {
			c := n.children[r]
			if c == nil {
				c = &trieNode{children: map[rune]*trieNode{}}
				n.children[r] = c
			}
			n = c
		}
		n.end, n.length, n.score, n.id = true, len(rs), scores[i], i
	}
	return t, nil
}

// VocabSize is the number of vocabulary entries.
func (t *USETokenizer) VocabSize() int { return len(t.pieces) }

// Piece returns the vocabulary string of id.
func (t *USETokenizer) Piece(id int) string { return t.pieces[id] }

type lattice struct {
	start, length int
	score         float64
	id            int
}

// Encode returns the token ids of text; an empty text gives none.
func (t *USETokenizer) Encode(text string) []int32 {
	text = norm.NFKC.String(text)
	if text == "" {
		return nil
	}
	syms := []rune("▁" + strings.ReplaceAll(text, " ", "▁"))
	n := len(syms)
	// ends[e] lists the candidate pieces ending at e, by start ascending:
	// the order in which the JavaScript for-in visits integer keys.
	ends := make([][]lattice, n+1)
	for i := range n {
		found := false
		node := t.root.children[syms[i]]
		for j := i; node != nil; {
			if node.end {
				ends[i+node.length] = append(ends[i+node.length], lattice{i, node.length, node.score, node.id})
				found = true
			}
			j++
			if j >= n {
				break
			}
			node = node.children[syms[j]]
		}
		if !found {
			ends[i+1] = append(ends[i+1], lattice{i, 1, 0, 0})
		}
	}
	for e := range ends {
		sortByStart(ends[e])
	}
	best := make([]float64, n+1)
	words := make([]int, n+1)
	for e := 0; e <= n; e++ {
		for _, c := range ends[e] {
			s := c.score + best[e-c.length]
			if best[e] == 0 || s >= best[e] {
				best[e], words[e] = s, c.id
			}
		}
	}
	var rev []int32
	for it := n; it > 0; it -= t.u16len[words[it]] {
		rev = append(rev, int32(words[it]))
	}
	out := make([]int32, 0, len(rev))
	prevUnk := false
	for _, id := range rev {
		if !(prevUnk && id == 0) {
			out = append(out, id)
		}
		prevUnk = id == 0
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// sortByStart orders candidates by start position, keeping the insertion
// order of equal starts (insertion sort: the lists are short).
func sortByStart(c []lattice) {
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && c[j-1].start > c[j].start; j-- {
			c[j-1], c[j] = c[j], c[j-1]
		}
	}
}
