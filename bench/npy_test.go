package bench

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestNPYRoundTrip(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		dims []int
	}{{"matrix", []int{3, 4}}, {"vector", []int{5}}, {"empty", []int{0, 2}}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := size(tc.dims)
			f := make([]float32, n)
			ints := make([]int32, n)
			for i := range f {
				f[i] = float32(i) * 0.5
				ints[i] = int32(i - 2)
			}
			fp, ip := filepath.Join(dir, tc.name+"_f.npy"), filepath.Join(dir, tc.name+"_i.npy")
			if err := WriteNPYFloat32(fp, f, tc.dims...); err != nil {
				t.Fatal(err)
			}
			if err := WriteNPYInt32(ip, ints, tc.dims...); err != nil {
				t.Fatal(err)
			}
			raw, _ := os.ReadFile(fp)
			if hdr := 10 + int(raw[8]) + int(raw[9])<<8; hdr%64 != 0 {
				t.Errorf("header ends at byte %d, not 64-aligned", hdr)
			}
			gotF, dims, err := ReadNPYFloat32(fp)
			if err != nil || !slices.Equal(dims, tc.dims) || !slices.Equal(gotF, f) {
				t.Errorf("float32: %v %v %v", gotF, dims, err)
			}
			gotI, dims, err := ReadNPYInt(ip)
			if err != nil || !slices.Equal(dims, tc.dims) || len(gotI) != n {
				t.Fatalf("int: %v %v %v", gotI, dims, err)
			}
			for i := range gotI {
				if gotI[i] != int(ints[i]) {
					t.Fatalf("int element %d = %d, want %d", i, gotI[i], ints[i])
				}
			}
			if _, _, err := ReadNPYInt(fp); err == nil {
				t.Error("ReadNPYInt accepted a float32 file")
			}
		})
	}
}
