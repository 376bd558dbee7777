package data

// Pairwise preference data (issue 17). A preference example is a pair of
// responses to one context and which of the two a judge preferred. It is
// stored as a two-class example so that every layer below (balance,
// split, weak model, ceiling, methods, eval) works on it unchanged: class
// 1 ("A") means side A is preferred, class 0 ("B") side B. A reward model
// r scores each side, and P(A ≻ B) = σ(r(A) − r(B)) is the probability of
// class 1 (student package: the pairwise students).
//
// Files say which response was chosen, so the chosen one would always be
// side A; the loaders put it on side A or B by a fixed-seed coin per pair,
// so that position carries no signal, and the default undersampling then
// makes the A/B mix exactly even.

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
)

// PairClasses are a preference dataset's classes: label 1 is "A preferred".
var PairClasses = []string{"B", "A"}

// PairA is the class of a pair whose side A is preferred.
const PairA = 1

// Pair is a preference example's context and its two responses.
type Pair struct {
	Context string
	A, B    string
	// Strength is the probability that the preferred response is
	// preferred, in [0.5, 1], when the data states one; 0 when it does
	// not. It is kept and reported; gold labels are the hard preference.
	Strength float64
	// Topic groups pairs for best-of-n beyond their context (review-pairs:
	// the site); "" means the context is the topic.
	Topic string
	// Graded says GradeA and GradeB are point-wise gold grades of the two
	// responses (review-pairs: the human sentiment label; UltraFeedback:
	// score_chosen and score_rejected), comparable across pairs of one
	// topic. Only graded pairs enter best-of-n, whose gold best needs a
	// grade per response.
	Graded         bool
	GradeA, GradeB float64
}

// Key is the pair's best-of-n group: its topic, or else its context.
func (p *Pair) Key() string {
	if p.Topic != "" {
		return "topic:" + p.Topic
	}
	return "context:" + p.Context
}

// Side returns the text an encoder reads for side 0 (A) or 1 (B): the
// context, a blank line, and the response (the response alone without a
// context). Both sides share the context, so a bag-of-words difference
// cancels it and an encoder sees the response in its context.
func (p *Pair) Side(side int) string {
	r := p.A
	if side == 1 {
		r = p.B
	}
	if p.Context == "" {
		return r
	}
	return p.Context + "\n\n" + r
}

// Swapped returns the pair with its sides exchanged (the label flips).
func (p Pair) Swapped() Pair {
	p.A, p.B = p.B, p.A
	p.GradeA, p.GradeB = p.GradeB, p.GradeA
	return p
}

// IsPairwise reports whether d holds preference pairs.
func (d *Dataset) IsPairwise() bool { return len(d.Examples) > 0 && d.Examples[0].Pair != nil }

// PairTexts returns the texts of side A and side B of the given examples.
func (d *Dataset) PairTexts(idx []int) (a, b []string) {
	a, b = make([]string, len(idx)), make([]string, len(idx))
	for k, i := range idx {
		p := d.Examples[i].Pair
		a[k], b[k] = p.Side(0), p.Side(1)
	}
	return a, b
}

// Preference file formats, told apart by their columns.
const (
	FormatHH           = "hh-rlhf"        // chosen, rejected: whole transcripts
	FormatUltraFeedbck = "ultrafeedback"  // prompt, chosen, rejected: message lists (or strings)
	FormatPlainPairs   = "pairs"          // [context], a, b, preferred, [strength]
	pairCoinSeed       = 0x5eed_0017_0001 // the position coin's fixed seed
)

// pairFormat names the preference format of a file with these columns, or
// "" for a classification file.
func pairFormat(has func(string) bool) string {
	switch {
	case has("chosen") && has("prompt"):
		return FormatUltraFeedbck
	case has("chosen") || has("rejected"):
		return FormatHH
	case has("preferred") || (has("a") && has("b")):
		return FormatPlainPairs
	}
	return ""
}

// hhAssistant is the turn marker of an HH-RLHF transcript.
const hhAssistant = "\n\nAssistant:"

// splitTranscript splits an HH-RLHF transcript before its last assistant
// turn: the conversation so far and the final response.
func splitTranscript(t string) (ctx, resp string) {
	i := strings.LastIndex(t, hhAssistant)
	if i < 0 {
		return "", strings.TrimSpace(t)
	}
	return strings.TrimSpace(t[:i]), strings.TrimSpace(t[i+len(hhAssistant):])
}

// pairBuilder turns rows of any format into preference examples.
type pairBuilder struct {
	file     string
	format   string
	examples []Example
	coin     *rand.Rand
}

func (b *pairBuilder) errf(line int, format string, args ...any) error {
	return &InputError{File: b.file, Line: line, Reason: fmt.Sprintf(format, args...)}
}

// str reads a string column; missing or null is "".
func (b *pairBuilder) str(line int, row map[string]any, col string) (string, error) {
	v, ok := row[col]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", b.errf(line, "column %q must be a string, got %s", col, jsonType(v))
	}
	return s, nil
}

// lastAssistant reads an UltraFeedback side: a string, or a message list
// whose last "assistant" message is the response.
func (b *pairBuilder) lastAssistant(line int, row map[string]any, col string) (string, error) {
	v, ok := row[col]
	if !ok || v == nil {
		return "", nil
	}
	switch t := v.(type) {
	case string:
		return t, nil
	case []any:
		for i := len(t) - 1; i >= 0; i-- {
			m, ok := t[i].(map[string]any)
			if !ok {
				return "", b.errf(line, "column %q: message %d is %s, want an object with \"role\" and \"content\"", col, i+1, jsonType(t[i]))
			}
			if m["role"] == "assistant" {
				c, ok := m["content"].(string)
				if !ok {
					return "", b.errf(line, "column %q: message %d has no string \"content\"", col, i+1)
				}
				return c, nil
			}
		}
		return "", nil
	}
	return "", b.errf(line, "column %q must be a message list or a string, got %s", col, jsonType(v))
}

// add reads one row of the builder's format.
func (b *pairBuilder) add(line int, row map[string]any) error {
	var p Pair
	var aPreferred bool
	var err error
	switch b.format {
	case FormatHH:
		c, err1 := b.str(line, row, "chosen")
		r, err2 := b.str(line, row, "rejected")
		if err = errors.Join(err1, err2); err != nil {
			return err
		}
		cc, cr := splitTranscript(c)
		rc, rr := splitTranscript(r)
		if err := b.sides(line, cr, rr, "chosen", "rejected"); err != nil {
			return err
		}
		if cc != rc {
			return b.errf(line, "chosen and rejected continue different conversations (their turns before the last \"Assistant:\" differ): a pair answers one context")
		}
		p, aPreferred = Pair{Context: cc, A: cr, B: rr}, true
	case FormatUltraFeedbck:
		prompt, err := b.str(line, row, "prompt")
		if err != nil {
			return err
		}
		c, err1 := b.lastAssistant(line, row, "chosen")
		r, err2 := b.lastAssistant(line, row, "rejected")
		if err = errors.Join(err1, err2); err != nil {
			return err
		}
		if err := b.sides(line, strings.TrimSpace(c), strings.TrimSpace(r), "chosen", "rejected"); err != nil {
			return err
		}
		p, aPreferred = Pair{Context: strings.TrimSpace(prompt), A: strings.TrimSpace(c), B: strings.TrimSpace(r)}, true
		sc, okc := row["score_chosen"]
		sr, okr := row["score_rejected"]
		if okc && okr && sc != nil && sr != nil {
			gc, err1 := strconv.ParseFloat(fmt.Sprint(sc), 64)
			gr, err2 := strconv.ParseFloat(fmt.Sprint(sr), 64)
			if err1 != nil || err2 != nil || math.IsNaN(gc) || math.IsNaN(gr) || math.IsInf(gc, 0) || math.IsInf(gr, 0) {
				return b.errf(line, "score_chosen %v and score_rejected %v must be finite numbers", clip(fmt.Sprint(sc), 20), clip(fmt.Sprint(sr), 20))
			}
			if gc < gr {
				return b.errf(line, "score_chosen %v is below score_rejected %v: the chosen response must not score lower", gc, gr)
			}
			p.Graded, p.GradeA, p.GradeB = true, gc, gr
		}
	case FormatPlainPairs:
		ctx, err0 := b.str(line, row, "context")
		a, err1 := b.str(line, row, "a")
		bb, err2 := b.str(line, row, "b")
		if err = errors.Join(err0, err1, err2); err != nil {
			return err
		}
		a, bb = strings.TrimSpace(a), strings.TrimSpace(bb)
		if err := b.sides(line, a, bb, "a", "b"); err != nil {
			return err
		}
		pv, ok := row["preferred"]
		if !ok || pv == nil {
			return b.errf(line, "missing column \"preferred\": say which side is preferred, \"a\" or \"b\"")
		}
		ps, _ := pv.(string)
		switch strings.ToLower(strings.TrimSpace(ps)) {
		case "a":
			aPreferred = true
		case "b":
		default:
			return b.errf(line, "unknown preference value %s: \"preferred\" must be \"a\" or \"b\"", clip(fmt.Sprint(pv), 40))
		}
		p = Pair{Context: strings.TrimSpace(ctx), A: a, B: bb}
		if sv, ok := row["strength"]; ok && sv != nil {
			s, err := toStrength(sv)
			if err != nil {
				return b.errf(line, "%v", err)
			}
			p.Strength = s
		}
	}
	// The position coin: the preferred side lands on A or B at random.
	if b.coin.IntN(2) == 1 {
		p, aPreferred = p.Swapped(), !aPreferred
	}
	label := 0
	if aPreferred {
		label = PairA
	}
	b.examples = append(b.examples, Example{Pair: &p, Text: pairText(p), Label: label, Line: line})
	return nil
}

// sides checks the two responses: both present, not the same.
func (b *pairBuilder) sides(line int, x, y, nx, ny string) error {
	switch {
	case x == "" && y == "":
		return b.errf(line, "missing side: %q and %q are both empty or absent", nx, ny)
	case x == "":
		return b.errf(line, "missing side: %q is empty or absent", nx)
	case y == "":
		return b.errf(line, "missing side: %q is empty or absent", ny)
	case x == y:
		return b.errf(line, "identical sides: %q and %q are the same response, so neither can be preferred", nx, ny)
	}
	return nil
}

// toStrength reads a preference strength: a probability in [0.5, 1].
func toStrength(v any) (float64, error) {
	var f float64
	var err error
	switch t := v.(type) {
	case float64:
		f = t
	case string:
		f, err = strconv.ParseFloat(strings.TrimSpace(t), 64)
	default:
		f, err = strconv.ParseFloat(fmt.Sprint(t), 64)
	}
	if err != nil || math.IsNaN(f) || f < 0.5 || f > 1 {
		return 0, fmt.Errorf("strength %v is not a probability in [0.5, 1] (how sure the judge is of the preferred side)", clip(fmt.Sprint(v), 40))
	}
	return f, nil
}

// pairText is a pair as one string, for content hashes and displays.
func pairText(p Pair) string {
	return "context: " + p.Context + "\nA: " + p.A + "\nB: " + p.B
}

// loadPairs reads a preference file of the given format.
func loadPairs(path, format string, rows func(add func(line int, row map[string]any) error) error) (*Dataset, error) {
	b := &pairBuilder{file: path, format: format, coin: rand.New(rand.NewPCG(pairCoinSeed, 17))}
	if err := rows(b.add); err != nil {
		return nil, err
	}
	if len(b.examples) == 0 {
		return nil, &InputError{File: path, Line: 1, Reason: "empty file: no pairs"}
	}
	if len(b.examples) < 2 {
		return nil, &InputError{File: path, Line: b.examples[0].Line, Reason: "one pair: a preference task needs pairs of both positions"}
	}
	d := &Dataset{Classes: append([]string(nil), PairClasses...), Examples: b.examples,
		Name: strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), Source: path}
	return d, nil
}

// sniffPairFormat reads a file's column names (JSONL: the first object's
// keys; CSV: the header; Parquet: the schema) and returns its preference
// format, or "" for a classification file or one it cannot read (the
// classification reader then reports the problem).
func sniffPairFormat(path string) string {
	cols := map[string]bool{}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		f, err := os.Open(path)
		if err != nil {
			return ""
		}
		defer f.Close()
		br := skipBOM(f)
		var line []byte
		buf := make([]byte, 1)
		for {
			// Read up to the first non-empty line.
			n, err := br.Read(buf)
			if n == 1 {
				if buf[0] == '\n' {
					if len(strings.TrimSpace(string(line))) > 0 {
						break
					}
					line = line[:0]
					continue
				}
				line = append(line, buf[0])
				if len(line) > 64<<20 {
					return ""
				}
			}
			if err != nil {
				break
			}
		}
		row, err := parseJSONLine([]byte(strings.TrimSpace(string(line))))
		if err != nil {
			return ""
		}
		for k := range row {
			cols[k] = true
		}
	case ".csv":
		f, err := os.Open(path)
		if err != nil {
			return ""
		}
		defer f.Close()
		h, err := csv.NewReader(skipBOM(f)).Read()
		if err != nil {
			return ""
		}
		for _, c := range h {
			cols[strings.TrimSpace(c)] = true
		}
	case ".parquet":
		f, err := os.Open(path)
		if err != nil {
			return ""
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return ""
		}
		pf, err := parquet.OpenFile(f, st.Size())
		if err != nil {
			return ""
		}
		for _, fl := range pf.Schema().Fields() {
			cols[fl.Name()] = true
		}
	}
	if cols["text"] || cols["features"] || cols["image"] || cols["label"] {
		return ""
	}
	return pairFormat(func(c string) bool { return cols[c] })
}

// LoadPairs reads a preference file: JSONL, CSV or Parquet in the
// HH-RLHF form (chosen, rejected transcripts), the UltraFeedback-binarized
// form (prompt, chosen, rejected message lists; JSONL) or the plain form
// (context, a, b, preferred "a"|"b", optional strength). Every problem is
// an *InputError naming the file, line and reason.
func LoadPairs(path string) (*Dataset, error) {
	format := sniffPairFormat(path)
	if format == "" {
		return nil, &InputError{File: path, Line: 1, Reason: "not a preference file: want columns chosen and rejected (HH-RLHF), prompt, chosen and rejected (UltraFeedback), or a, b and preferred"}
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		return loadPairs(path, format, func(add func(int, map[string]any) error) error { return pairJSONL(path, add) })
	case ".csv":
		return loadPairs(path, format, func(add func(int, map[string]any) error) error { return pairCSV(path, add) })
	}
	return loadPairs(path, format, func(add func(int, map[string]any) error) error { return pairParquet(path, add) })
}

func pairJSONL(path string, add func(int, map[string]any) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("data: open %s: %w", path, err)
	}
	defer f.Close()
	// The classification reader's line loop, with this row handler.
	b := &builder{file: path}
	return readJSONLRows(skipBOM(f), b, add)
}

func pairCSV(path string, add func(int, map[string]any) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("data: open %s: %w", path, err)
	}
	defer f.Close()
	cr := csv.NewReader(skipBOM(f))
	header, err := cr.Read()
	if err != nil {
		return csvError(path, err)
	}
	header = append([]string(nil), header...)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvError(path, err)
		}
		line, _ := cr.FieldPos(0)
		row := map[string]any{}
		for i, v := range rec {
			if !utf8.ValidString(v) {
				return &InputError{File: path, Line: line, Reason: fmt.Sprintf("column %q: %s", header[i], invalidUTF8([]byte(v), "field"))}
			}
			if strings.TrimSpace(v) != "" {
				row[strings.TrimSpace(header[i])] = v
			}
		}
		if err := add(line, row); err != nil {
			return err
		}
	}
}

// parquetPair is the row of a Parquet preference file: string columns
// only (UltraFeedback's message lists go through JSONL).
type parquetPair struct {
	Context   *string  `parquet:"context,optional"`
	A         *string  `parquet:"a,optional"`
	B         *string  `parquet:"b,optional"`
	Preferred *string  `parquet:"preferred,optional"`
	Strength  *float64 `parquet:"strength,optional"`
	Prompt    *string  `parquet:"prompt,optional"`
	Chosen    *string  `parquet:"chosen,optional"`
	Rejected  *string  `parquet:"rejected,optional"`
}

func pairParquet(path string, add func(int, map[string]any) error) error {
	rows, err := parquet.ReadFile[parquetPair](path)
	if err != nil {
		return &InputError{File: path, Line: 0, Reason: "invalid Parquet preference file (string columns context, a, b, preferred, prompt, chosen, rejected; number strength): " + err.Error(), Err: err}
	}
	for i, r := range rows {
		row := map[string]any{}
		for col, v := range map[string]*string{"context": r.Context, "a": r.A, "b": r.B, "preferred": r.Preferred, "prompt": r.Prompt, "chosen": r.Chosen, "rejected": r.Rejected} {
			if v != nil {
				if !utf8.ValidString(*v) {
					return &InputError{File: path, Line: i + 1, Reason: fmt.Sprintf("column %q: %s", col, invalidUTF8([]byte(*v), "value"))}
				}
				row[col] = *v
			}
		}
		if r.Strength != nil {
			row["strength"] = *r.Strength
		}
		if err := add(i+1, row); err != nil {
			return err
		}
	}
	return nil
}

// Tasks a --data entry can be (CheckTask).
const (
	TaskClassification = "classification"
	TaskPreference     = "preference"
)

// EntryTask says whether a --data entry (a built-in name or a file) is a
// preference task or a classification task, without loading it.
func EntryTask(entry string) string {
	for _, b := range builtins {
		if b.info.Name == entry {
			if b.info.Pairwise {
				return TaskPreference
			}
			return TaskClassification
		}
	}
	if sniffPairFormat(entry) != "" {
		return TaskPreference
	}
	return TaskClassification
}

// CheckTask fails when an entry is not of the task asked for ("" asks
// for nothing).
func CheckTask(entries []string, task string) error {
	if task == "" {
		return nil
	}
	for _, e := range entries {
		if got := EntryTask(e); got != task {
			hint := "a preference file has columns chosen and rejected (HH-RLHF), prompt, chosen and rejected (UltraFeedback), or a, b and preferred"
			if task == TaskClassification {
				hint = "a classification file has a text (or features, image) column and a label column"
			}
			return fmt.Errorf("data: --task %s but %s is a %s task (%s)", task, e, got, hint)
		}
	}
	return nil
}
