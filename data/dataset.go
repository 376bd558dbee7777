package data

// Example is one labelled row of a dataset. Exactly one of Text, Features or
// Image is the input; Label is a class index into Dataset.Classes.
type Example struct {
	Text     string
	Features []float32
	Image    string // path of a PNG/JPEG file (image datasets)
	Label    int
	// Pair is set on a preference example (prefs.go): Label is then 1 when
	// side A is preferred, and Text is the pair as one string (for hashes
	// and displays; encoders read the sides).
	Pair *Pair
	Line int // 1-based line (or record) in the source file, for error messages
}

// Dataset is a labelled, in-memory dataset.
type Dataset struct {
	Name     string   // registry name ("sentiment") or file base name
	Source   string   // where it was read from (file path or package dir)
	Classes  []string // class names; Label indexes this slice; len >= 2
	Examples []Example
	// ImageShape is [H, W, C] when Examples hold in-memory images as
	// Features (flattened H×W×C, values in [0,1]; see images.go), else zero.
	ImageShape [3]int
}

// K returns the number of classes.
func (d *Dataset) K() int { return len(d.Classes) }

// Texts returns the Text of the given examples, in order.
func (d *Dataset) Texts(idx []int) []string {
	out := make([]string, len(idx))
	for k, i := range idx {
		out[k] = d.Examples[i].Text
	}
	return out
}

// Labels returns the gold labels of the given examples, in order.
func (d *Dataset) Labels(idx []int) []int {
	out := make([]int, len(idx))
	for k, i := range idx {
		out[k] = d.Examples[i].Label
	}
	return out
}
