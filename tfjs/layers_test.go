package tfjs

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/superalign/superalign/assets"
)

// nsfwjsModel fetches (once, into the shared cache) the nsfwjs package and
// returns the directory of one of its models.
func nsfwjsModel(t *testing.T, name string) string {
	t.Helper()
	dir, err := assets.Ensure(context.Background(), "nsfwjs", nil)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "dist", "models", name)
}

func TestLoadLayersModelMobileNetV2(t *testing.T) {
	m, err := LoadLayersModel(nsfwjsModel(t, "mobilenet_v2"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.InputShape, []int{224, 224, 3}) || m.Input != "input_1" || m.Output != "dense_3" {
		t.Errorf("input %v %q, output %q", m.InputShape, m.Input, m.Output)
	}
	k, err := m.weight("Conv1", "kernel", 3, 3, 3, 32)
	if err != nil {
		t.Fatal(err)
	}
	// Dequantised values lie on the grid min + q*scale, q in 0..255.
	const mn, sc = -.87334511607301, .006666756611244351
	lo, hi := k.F32[0], k.F32[0]
	for _, v := range k.F32 {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo < mn-1e-6 || hi > mn+255*sc+1e-6 {
		t.Errorf("Conv1/kernel in [%g, %g], want within [%g, %g]", lo, hi, mn, mn+255*sc)
	}
	n := 0
	for _, w := range m.Weights {
		n += w.Size()
	}
	if n < 2_000_000 || n > 3_500_000 {
		t.Errorf("%d weights, want about 2.6M", n)
	}
}
