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
	// Value is the example's value channel (issue 15): 1 + the class its
	// output must be (a constraint such as "this mail must never be
	// filtered": value = ham), or 0 for no constraint. The zero Example has
	// none, so datasets without a value channel need no code.
	Value int
	Line  int // 1-based line (or record) in the source file, for error messages
}

// ValueClass returns the class e's output must be, if e carries a value
// constraint.
func (e Example) ValueClass() (int, bool) { return e.Value - 1, e.Value > 0 }

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

// HasValue reports whether any example carries a value constraint: the
// dataset has a value channel.
func (d *Dataset) HasValue() bool {
	for _, e := range d.Examples {
		if e.Value > 0 {
			return true
		}
	}
	return false
}

// Values returns the value channel of the given examples, in order: the
// class each must be output as, or -1 for no constraint.
func (d *Dataset) Values(idx []int) []int {
	out := make([]int, len(idx))
	for k, i := range idx {
		out[k] = d.Examples[i].Value - 1
	}
	return out
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
