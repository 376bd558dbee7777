package encode

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/progress"
)

// DefaultBoWDim is the number of hash buckets of the "bow" encoder.
const DefaultBoWDim = 4096

// bowPrepVersion names the bag-of-words preprocessing (tokeniser, n-gram
// scheme, hash, weighting). Bump it whenever any of them changes, so that the
// fingerprint, and with it every cached feature file, changes too.
const bowPrepVersion = "bow-v1:lower+letterdigit+apos-join;uni+bi;fnv1a64+splitmix;signed;sublinear-tf;smooth-idf;l2"

// BoW is a hashed TF-IDF bag of words over unigrams and bigrams.
//
// Pipeline for one text: lowercase; tokens are maximal runs of Unicode letters,
// digits and combining marks, with an apostrophe between two letters dropped
// ("don't" -> "dont", so contractions stay one token); unigrams and adjacent
// bigrams are hashed (64-bit FNV-1a followed by a splitmix64 finaliser, because
// FNV's low bits mix poorly and the bucket comes from the low bits) into Dim
// buckets with a sign taken from the top hash bit, so colliding features cancel
// in expectation instead of biasing a bucket upwards. A feature's weight is
// sign * (1 + ln tf) * idf, and the row is L2-normalised.
//
// IDF is transductive: idf(f) = ln((1+N)/(1+df(f))) + 1 over the N texts
// passed to one Encode call. That is label-free (no labels are seen) and the
// feature cache is keyed by dataset content, so one dataset always gets one
// fixed IDF; it does mean the same text can get different features in two
// different Encode calls. Encode a whole dataset at once, then split.
//
// A text with no token (empty, only punctuation) gets an all-zero row, the
// only row whose norm is not 1.
type BoW struct {
	dim int
}

// NewBoW returns a bag-of-words encoder with dim hash buckets.
func NewBoW(dim int) (*BoW, error) {
	if dim <= 0 {
		return nil, fmt.Errorf("bow: dimension must be positive, got %d", dim)
	}
	return &BoW{dim: dim}, nil
}

// Name implements Encoder.
func (b *BoW) Name() string { return "bow" }

// Dim implements Encoder.
func (b *BoW) Dim() int { return b.dim }

// Fingerprint implements Encoder: the preprocessing version and the bucket
// count are all the output depends on besides the texts.
func (b *BoW) Fingerprint() string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s;dim=%d", bowPrepVersion, b.dim))
	return hex.EncodeToString(h[:])
}

// termCount is one hashed feature of one text and its count.
type termCount struct {
	key   uint64
	count int32
}

// Encode implements Encoder: [len(texts), Dim()].
func (b *BoW) Encode(ctx context.Context, texts []string, bar *progress.Bar) (data.Matrix, error) {
	// Pass 1: per-text sorted feature counts and document frequencies. Sorting
	// by key makes the float accumulation order, and so the output bits,
	// independent of map iteration order.
	docs := make([][]termCount, len(texts))
	df := make(map[uint64]int32)
	counts := make(map[uint64]int32)
	var toks []string
	for i, t := range texts {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return data.Matrix{}, fmt.Errorf("bow: %w", err)
			}
		}
		toks = bowTokens(t, toks[:0])
		clear(counts)
		for j, tok := range toks {
			counts[unigramKey(tok)]++
			if j > 0 {
				counts[bigramKey(toks[j-1], tok)]++
			}
		}
		d := make([]termCount, 0, len(counts))
		for k, c := range counts {
			d = append(d, termCount{k, c})
			df[k]++
		}
		slices.SortFunc(d, func(a, b termCount) int {
			switch {
			case a.key < b.key:
				return -1
			case a.key > b.key:
				return 1
			}
			return 0
		})
		docs[i] = d
		bar.Add(1)
	}

	// Pass 2: weights into signed buckets, then L2 normalisation.
	n := float64(len(texts))
	out := data.NewMatrix(len(texts), b.dim)
	acc := make([]float64, b.dim)
	for i, d := range docs {
		clear(acc)
		for _, tc := range d {
			idf := math.Log((1+n)/(1+float64(df[tc.key]))) + 1
			w := (1 + math.Log(float64(tc.count))) * idf
			if tc.key>>63 != 0 {
				w = -w
			}
			acc[tc.key%uint64(b.dim)] += w
		}
		var ss float64
		for _, v := range acc {
			ss += v * v
		}
		if ss == 0 {
			continue // no tokens, or every feature cancelled: zero row
		}
		inv := 1 / math.Sqrt(ss)
		row := out.Row(i)
		for j, v := range acc {
			row[j] = float32(v * inv)
		}
	}
	return out, nil
}

// bowTokens appends the lowercase tokens of s to dst: maximal runs of letters,
// digits and combining marks; an apostrophe (' or U+2019) between two letters
// is dropped so the word stays whole.
func bowTokens(s string, dst []string) []string {
	var buf []byte
	flush := func() {
		if len(buf) > 0 {
			dst = append(dst, string(buf))
			buf = buf[:0]
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			buf = utf8.AppendRune(buf, unicode.ToLower(r))
		case (r == '\'' || r == '\u2019') && len(buf) > 0:
			next, _ := utf8.DecodeRuneInString(s[i+size:])
			prev, _ := utf8.DecodeLastRune(buf)
			if !unicode.IsLetter(prev) || !unicode.IsLetter(next) {
				flush()
			}
		default:
			flush()
		}
		i += size
	}
	flush()
	return dst
}

const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func fnvAdd(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	return h
}

// mix64 is the splitmix64 finaliser: it spreads every input bit over the
// low bits that pick the bucket.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// unigramKey and bigramKey hash into disjoint domains: a bigram carries a
// 0x00 separator that no token contains.
func unigramKey(tok string) uint64 { return mix64(fnvAdd(fnvOffset64, tok)) }

func bigramKey(a, b string) uint64 {
	h := fnvAdd(fnvOffset64, a)
	h ^= 0
	h *= fnvPrime64
	return mix64(fnvAdd(h, b))
}
