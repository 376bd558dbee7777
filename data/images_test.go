package data

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/superalign/superalign/internal/testenv"
)

func TestReadIDX(t *testing.T) {
	ok := []byte{0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6}
	x, err := ReadIDX(bytes.NewReader(ok))
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Dims) != 2 || x.Dims[0] != 2 || x.Dims[1] != 3 || !bytes.Equal(x.Data, ok[12:]) {
		t.Errorf("ReadIDX = %+v", x)
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"magic", []byte{1, 0, 8, 1, 0, 0, 0, 1, 7}, "magic"},
		{"type", []byte{0, 0, 0x0d, 1, 0, 0, 0, 1, 7}, "element type"},
		{"rank", []byte{0, 0, 8, 0}, "rank 0"},
		{"short payload", []byte{0, 0, 8, 1, 0, 0, 0, 3, 7}, "want 3 bytes"},
		{"short header", []byte{0, 0, 8}, "idx header"},
		{"huge", []byte{0, 0, 8, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "exceed"},
	} {
		if _, err := ReadIDX(bytes.NewReader(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestLoadMNISTFamily reads the real packages: 60k+10k pooled, 28x28x1,
// 10 balanced-ish classes, pixels in [0,1], and a hash that sees pixels.
func TestLoadMNISTFamily(t *testing.T) {
	testenv.NeedsAssets(t, "Fashion-MNIST and MNIST")
	for _, tc := range []struct {
		name       string
		firstLabel int // label of the first official training image
		counts0    int // examples of class 0 over train+test
	}{
		{"fashion-mnist", 9, 7000},
		{"mnist", 5, 6903},
	} {
		d, err := Load(context.Background(), tc.name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Examples) != 70000 || d.K() != 10 || d.ImageShape != [3]int{28, 28, 1} || !d.IsImage() {
			t.Fatalf("%s: %d examples, K %d, shape %v", tc.name, len(d.Examples), d.K(), d.ImageShape)
		}
		if d.Examples[0].Label != tc.firstLabel || d.ClassCounts()[0] != tc.counts0 {
			t.Errorf("%s: first label %d, class-0 count %d", tc.name, d.Examples[0].Label, d.ClassCounts()[0])
		}
		if d.Examples[60000].Line != 1 || d.Examples[69999].Line != 10000 {
			t.Errorf("%s: test records lines %d..%d", tc.name, d.Examples[60000].Line, d.Examples[69999].Line)
		}
		px, err := d.Pixels([]int{0, 69999})
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := float32(1), float32(0)
		for _, v := range px {
			lo, hi = min(lo, v), max(hi, v)
		}
		if len(px) != 2*784 || lo != 0 || hi != 1 {
			t.Errorf("%s: %d pixels in [%g, %g]", tc.name, len(px), lo, hi)
		}
		// A copy with one pixel changed must hash differently; the hash
		// must not depend on the memo's shared storage either.
		small := &Dataset{Classes: d.Classes, ImageShape: d.ImageShape, Examples: append([]Example(nil), d.Examples[:50]...)}
		h0 := small.ContentHash()
		f := append([]float32(nil), small.Examples[7].Features...)
		f[400] += 1.0 / 255
		small.Examples[7].Features = f
		if small.ContentHash() == h0 {
			t.Errorf("%s: ContentHash ignores pixels", tc.name)
		}
	}
}
