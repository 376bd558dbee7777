package method

// The encoder ladders: the built-in frozen encoders of each input kind
// ordered by capacity, the "model size" axis of Burns et al.'s
// bootstrapping. Text: a hashed TF-IDF bag of words (no learned weights) <
// mean GloVe word vectors (a 100-d embedding table) < USE-lite (a 2-layer
// transformer sentence encoder). Images: raw pixels < MobileNetV2 (3.5M
// parameters) < MobileNetV2 width 1.4 (6.1M) < InceptionV3 at 139 px
// (23.8M, about 1.2 GFLOPs) < InceptionV3 at 299 px (about 5.7 GFLOPs).
// Encoders off the ladders (ONNX directories, a dataset's own features)
// are unranked: nothing is known about their strength.

// encoderLadders lists each kind's encoders, weakest first.
var encoderLadders = [][]string{
	{"bow", "glove", "use-lite"},
	{"pixels", "mobilenet-v2", "mobilenet-v2-mid", "inception-v3-139", "inception-v3"},
}

// ladderPosition is enc's ladder and its position on it; ok is false for
// an unranked encoder.
func ladderPosition(enc string) (ladder, pos int, ok bool) {
	for l, rungs := range encoderLadders {
		for p, e := range rungs {
			if e == enc {
				return l, p, true
			}
		}
	}
	return 0, 0, false
}

// EncoderWeaker reports whether encoder a lies below encoder b on a
// ladder; ranked is false when the ladders do not rank both on one ladder
// (then weaker is false too).
func EncoderWeaker(a, b string) (weaker, ranked bool) {
	la, pa, oka := ladderPosition(a)
	lb, pb, okb := ladderPosition(b)
	if !oka || !okb || la != lb {
		return false, false
	}
	return pa < pb, true
}

// IntermediateEncoders returns the encoders strictly between weak and
// strong on their ladder, weakest first: bow → use-lite has glove; glove →
// use-lite and bow → glove have none. Unranked encoders have none.
func IntermediateEncoders(weak, strong string) []string {
	lw, pw, okw := ladderPosition(weak)
	ls, ps, oks := ladderPosition(strong)
	if !okw || !oks || lw != ls || ps-pw < 2 {
		return nil
	}
	return append([]string(nil), encoderLadders[lw][pw+1:ps]...)
}

// LadderText describes the ladders for error messages and documentation.
func LadderText() string {
	out := ""
	for i, rungs := range encoderLadders {
		if i > 0 {
			out += "; "
		}
		for j, e := range rungs {
			if j > 0 {
				out += " < "
			}
			out += e
		}
	}
	return out
}
