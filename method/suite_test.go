package method

import (
	"strings"
	"testing"
)

// TestSuiteRegistry checks every method of this suite: registered with a
// full Info, Name() gives the canonical spec back (so rows name exactly what
// ran), and unknown or bad parameters are rejected.
func TestSuiteRegistry(t *testing.T) {
	infos := map[string]Info{}
	for _, in := range Infos() {
		infos[in.Name] = in
	}
	for _, tc := range []struct{ spec, canon string }{
		{"logconf", "logconf"},
		{"logconf:schedule=linear,coef=0.5", "logconf:coef=0.5,schedule=linear"},
		{"entropy", "entropy"},
		{"product:beta=1,alpha=2", "product:alpha=2,beta=1"},
		{"window:radius=0.2", "window:radius=0.2"},
		{"kl", "kl"},
		{"adaptconf:threshold=4", "adaptconf:threshold=4"},
		{"bootstrap:chain=glove", "bootstrap:chain=glove"},
		{"s2s", "s2s"},
		{"ensemble:seeds=3,encoders=bow+glove", "ensemble:encoders=bow+glove,seeds=3"},
	} {
		m := lvNew(t, tc.spec)
		if m.Name() != tc.canon {
			t.Errorf("New(%q).Name() = %q, want %q", tc.spec, m.Name(), tc.canon)
		}
		name, _, _ := strings.Cut(tc.canon, ":")
		in := infos[name]
		if in.Description == "" || in.Reference == "" || in.Params == "" || in.Adaptation == "" {
			t.Errorf("%s: incomplete Info %+v", name, in)
		}
	}
	for _, bad := range []string{
		"logconf:coef=2", "logconf:schedule=cosine", "logconf:warmup=1", "logconf:bogus=1",
		"product:alpha=-1", "window:radius=0.7", "window:radius=wide", "adaptconf:threshold=0",
		"bootstrap:folds=0", "bootstrap:chain=a++b", "s2s:rounds=-1", "ensemble:folds=1", "kl:x=1",
	} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
}
