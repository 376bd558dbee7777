package method

import (
	"slices"
	"strings"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/student"
)

// TestConcatInputsImages: a fine-tuned image student's gold rows append
// to its train_strong images (pixels or paths), never to an empty
// feature matrix; images of another shape, or images with features, are
// refused.
func TestConcatInputsImages(t *testing.T) {
	a := student.Inputs{Images: encode.ImageBatch{Pixels: []float32{1, 2, 3, 4}, Shape: [4]int{1, 2, 2, 1}}}
	b := student.Inputs{Images: encode.ImageBatch{Pixels: []float32{5, 6, 7, 8, 9, 10, 11, 12}, Shape: [4]int{2, 2, 2, 1}}}
	got, err := concatInputs(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != 3 || got.Images.Shape != [4]int{3, 2, 2, 1} || !slices.Equal(got.Images.Pixels, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}) {
		t.Errorf("pixels: %+v", got.Images)
	}
	p, err := concatInputs(student.Inputs{Images: encode.ImageBatch{Paths: []string{"a.png"}}}, student.Inputs{Images: encode.ImageBatch{Paths: []string{"b.png"}}})
	if err != nil || !slices.Equal(p.Images.Paths, []string{"a.png", "b.png"}) {
		t.Errorf("paths: %+v, %v", p.Images, err)
	}
	other := student.Inputs{Images: encode.ImageBatch{Pixels: make([]float32, 12), Shape: [4]int{1, 2, 2, 3}}}
	for _, tc := range []student.Inputs{other, {Features: data.NewMatrix(1, 4)}} {
		if _, err := concatInputs(a, tc); err == nil || !strings.Contains(err.Error(), "differ") {
			t.Errorf("concat with %+v: %v, want a refusal", tc, err)
		}
	}
}
