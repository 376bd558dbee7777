package student

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/superalign/superalign/encode"
)

// Head kinds.
const (
	HeadLinear = "linear" // logits = x·W + b: multinomial logistic regression.
	HeadMLP    = "mlp"    // logits = relu(x·W1 + b1)·W2 + b2: one hidden layer.
)

// fineTunedSuffix marks a fine-tuned encoder in a spec: the encoder's name
// (or its prefix before the first colon) with "-ft" appended, so use-lite-ft
// is USE-lite fine-tuned and onnx-ft:DIR is onnx:DIR fine-tuned. A further
// "-topN" trains only the top N transformer layers (use-lite-ft-top1).
const (
	fineTunedSuffix = "-ft"
	topLayersInfix  = "-top"
)

// Spec names a student: an encoder, a head, and whether the encoder's own
// weights are trained too. Written ENC[:HEAD] for a probe on the frozen
// encoder ("glove", "glove:mlp", "onnx:DIR:linear") and with "-ft" after
// the encoder's first word for a fine-tuned one ("use-lite-ft",
// "onnx-ft:DIR", "onnx-cls-ft:DIR").
type Spec struct {
	// Encoder is the frozen encoder's name as package encode resolves it
	// ("glove", "use-lite", "onnx:DIR", "features").
	Encoder string
	// Head is HeadLinear or HeadMLP.
	Head string
	// FineTune trains the encoder's weights end to end with the head.
	FineTune bool
	// TopLayers, when positive, fine-tunes only the encoder's top
	// TopLayers transformer layers (and what follows them); the layers
	// below are frozen and their output is computed once per text.
	TopLayers int
}

// Parse parses ENC[:HEAD] with the fine-tuned forms above. The encoder part
// may itself contain colons (onnx:DIR), so only a known head name after
// the last colon is taken as the head. It is the one parser of model names
// in the project: weak and strong students, method rungs and members.
func Parse(s string) (Spec, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Spec{}, fmt.Errorf("empty model name (want ENC[:HEAD], e.g. glove:linear)")
	}
	sp := Spec{Encoder: s, Head: HeadLinear}
	if i := strings.LastIndex(s, ":"); i >= 0 {
		switch head := s[i+1:]; head {
		case HeadLinear, HeadMLP:
			if i == 0 {
				return Spec{}, fmt.Errorf("%q: missing encoder before ':'", s)
			}
			sp.Encoder, sp.Head = s[:i], head
		}
	}
	first, rest, hasArg := strings.Cut(sp.Encoder, ":")
	if i := strings.LastIndex(first, fineTunedSuffix+topLayersInfix); i > 0 {
		n, err := strconv.Atoi(first[i+len(fineTunedSuffix+topLayersInfix):])
		if err != nil || n < 1 {
			return Spec{}, fmt.Errorf("%q: -top takes a positive number of layers (use-lite-ft-top1)", s)
		}
		sp.TopLayers, first = n, first[:i+len(fineTunedSuffix)]
	}
	if base, ok := strings.CutSuffix(first, fineTunedSuffix); ok && base != "" {
		sp.FineTune = true
		sp.Encoder = base
		if hasArg {
			sp.Encoder += ":" + rest
		}
	}
	if sp.FineTune && sp.Head != HeadLinear {
		return Spec{}, fmt.Errorf("%q: a fine-tuned encoder trains a linear head on its pooled output; drop :%s", s, sp.Head)
	}
	if err := encode.Known(sp.Encoder); err != nil {
		return Spec{}, fmt.Errorf("%q: %w", s, err)
	}
	return sp, nil
}

// MustParse is Parse for specs known to be valid (tests, constants).
func MustParse(s string) Spec {
	sp, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return sp
}

// Name is the spec's encoder part as written: "use-lite", "use-lite-ft",
// "use-lite-ft-top1", "onnx-ft:DIR".
func (s Spec) Name() string {
	if !s.FineTune {
		return s.Encoder
	}
	first, rest, hasArg := strings.Cut(s.Encoder, ":")
	first += fineTunedSuffix
	if s.TopLayers > 0 {
		first += topLayersInfix + strconv.Itoa(s.TopLayers)
	}
	if hasArg {
		return first + ":" + rest
	}
	return first
}

// String is the canonical ENC:HEAD form ("glove:linear", "use-lite-ft:linear").
func (s Spec) String() string { return s.Name() + ":" + s.Head }
