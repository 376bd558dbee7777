package tfjs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const umdHead = `!function(e){module.exports=e()}(function(){return function e(a,n,i){}({1:[function(e,a,n){a.exports=`
const umdTail = `},{}]},{},[1])(1)});`

func TestMinJSToJSON(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, lit, want, err string
	}{
		{"object", `{a:1,"b c":[.5,-.25,1e-7,!0,!1,null],d:"x\"y\n"}`, `{"a":1,"b c":[0.5,-0.25,1e-07,true,false,null],"d":"x\"y\n"}`, ""},
		{"nested", `{k:{l:[[0,1],[2,3]]},s:'q'}`, `{"k":{"l":[[0,1],[2,3]]},"s":"q"}`, ""},
		{"string", `"AAEC"`, `"AAEC"`, ""},
		{"unterminated", `{a:"xx`, "", "unterminated string"},
		{"bad key", `{:1}`, "", "want an object key"},
		{"bad value", `{a:function(){}}`, "", "unexpected"},
	} {
		p := filepath.Join(dir, tc.name+".min.js")
		if err := os.WriteFile(p, []byte(umdHead+tc.lit+umdTail), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := MinJSToJSON(p)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), p) {
				t.Errorf("%s: err = %v, want %q naming the file", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if string(got) != tc.want || !json.Valid(got) {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
	p := filepath.Join(dir, "plain.js")
	os.WriteFile(p, []byte(`module.exports={a:1}`), 0o644)
	if _, err := MinJSToJSON(p); err == nil || !strings.Contains(err.Error(), "browserify") {
		t.Errorf("non-UMD file: err = %v", err)
	}
}

func TestReadWeightsDequantises(t *testing.T) {
	shards := map[string][]byte{
		"s1": {0, 10, 255},                   // uint8 weight a [3]
		"s2": {0x00, 0x00, 0x80, 0x3f, 1, 0}, // float32 1.0 for b, then uint16 1 for c
	}
	read := func(p string) ([]byte, error) { return shards[p], nil }
	groups := []ShardGroup{{Paths: []string{"s1", "s2"}, Weights: []ShardEntry{
		{Name: "a", Shape: []int{3}, DType: "float32", Quantization: map[string]any{"dtype": "uint8", "min": -1.0, "scale": 0.01}},
		{Name: "b", Shape: []int{}, DType: "float32"},
		{Name: "c", Shape: []int{1}, DType: "float32", Quantization: map[string]any{"dtype": "uint16", "min": 2.0, "scale": 0.5}},
	}}}
	w, err := ReadWeights(groups, read)
	if err != nil {
		t.Fatal(err)
	}
	const tol = 1e-6
	for _, tc := range []struct {
		name string
		want []float32
	}{{"a", []float32{-1, -0.9, 1.55}}, {"b", []float32{1}}, {"c", []float32{2.5}}} {
		got := w[tc.name].F32
		for i := range tc.want {
			if d := got[i] - tc.want[i]; d > tol || d < -tol {
				t.Errorf("%s[%d] = %g, want %g", tc.name, i, got[i], tc.want[i])
			}
		}
	}
	shards["s2"] = shards["s2"][:5]
	if _, err := ReadWeights(groups, read); err == nil || !strings.Contains(err.Error(), `"c"`) {
		t.Errorf("short shard: err = %v", err)
	}
	shards["s2"] = append(shards["s2"], 0, 9)
	if _, err := ReadWeights(groups, read); err == nil || !strings.Contains(err.Error(), "manifest uses") {
		t.Errorf("long shard: err = %v", err)
	}
}

func TestSamePadsAndOverlap(t *testing.T) {
	for _, tc := range []struct {
		in, k, s, d int
		want        [2]int
	}{
		{224, 3, 2, 1, [2]int{0, 1}}, // TF puts the odd pixel at the end
		{112, 3, 1, 1, [2]int{1, 1}},
		{7, 7, 7, 1, [2]int{0, 0}},
		{35, 3, 1, 2, [2]int{2, 2}},
		{17, 7, 1, 1, [2]int{3, 3}},
	} {
		if got := samePads(tc.in, tc.k, tc.s, tc.d); got != tc.want {
			t.Errorf("samePads(%d, k%d, s%d, d%d) = %v, want %v", tc.in, tc.k, tc.s, tc.d, got, tc.want)
		}
	}
	// 3x3 stride-1 "same" average pool on a 5-wide axis: 2 real inputs at
	// the edges, 3 inside.
	for i, want := range []int{2, 3, 3, 3, 2} {
		if got := overlap(i-1, 3, 5); got != want {
			t.Errorf("overlap(%d, 3, 5) = %d, want %d", i-1, got, want)
		}
	}
}
