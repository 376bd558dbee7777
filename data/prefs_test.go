package data

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// Small preference files in each supported form, written by the test.
const (
	hhFile = `{"chosen":"\n\nHuman: How do I boil an egg?\n\nAssistant: Put it in boiling water for nine minutes.","rejected":"\n\nHuman: How do I boil an egg?\n\nAssistant: Eggs are overrated."}
{"chosen":"\n\nHuman: Name a colour.\n\nAssistant: Blue.","rejected":"\n\nHuman: Name a colour.\n\nAssistant: I will not."}
{"chosen":"\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Bye\n\nAssistant: Goodbye, take care.","rejected":"\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Bye\n\nAssistant: Whatever."}
`
	ufFile = `{"prompt":"Add 2 and 3.","chosen":[{"role":"user","content":"Add 2 and 3."},{"role":"assistant","content":"5"}],"rejected":[{"role":"user","content":"Add 2 and 3."},{"role":"assistant","content":"6"}],"score_chosen":9.0,"score_rejected":2.0}
{"prompt":"Capital of France?","chosen":[{"role":"user","content":"Capital of France?"},{"role":"assistant","content":"Paris."}],"rejected":[{"role":"user","content":"Capital of France?"},{"role":"assistant","content":"Lyon."}]}
`
	plainCSV = "context,a,b,preferred,strength\nq1,good answer,bad answer,a,0.9\nq2,meh,great,B,\nq3,x,y,a,1\n"
)

func TestLoadPairsFormats(t *testing.T) {
	for _, tc := range []struct {
		name, file, content string
		n                   int
		ctx0, pref0         string // context and preferred response of the first pair
	}{
		{"hh-rlhf", "hh.jsonl", hhFile, 3, "Human: How do I boil an egg?", "Put it in boiling water for nine minutes."},
		{"ultrafeedback", "uf.jsonl", ufFile, 2, "Add 2 and 3.", "5"},
		{"plain csv", "p.csv", plainCSV, 3, "q1", "good answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := LoadFile(write(t, tc.file, tc.content))
			if err != nil {
				t.Fatal(err)
			}
			if !d.IsPairwise() || len(d.Examples) != tc.n || d.K() != 2 || d.Classes[PairA] != "A" {
				t.Fatalf("got pairwise=%v n=%d classes=%q", d.IsPairwise(), len(d.Examples), d.Classes)
			}
			p, y := d.Examples[0].Pair, d.Examples[0].Label
			preferred := p.B
			if y == PairA {
				preferred = p.A
			}
			if p.Context != tc.ctx0 || preferred != tc.pref0 {
				t.Errorf("first pair: context %q preferred %q, want %q, %q", p.Context, preferred, tc.ctx0, tc.pref0)
			}
		})
	}
	d, err := LoadFile(write(t, "p.csv", plainCSV))
	if err != nil {
		t.Fatal(err)
	}
	if s := d.Examples[0].Pair.Strength; s != 0.9 {
		t.Errorf("strength %v, want 0.9", s)
	}
	// "B" preferred on line 3: after the position coin the preferred
	// response is still "great".
	p := d.Examples[1].Pair
	if got := map[bool]string{true: p.A, false: p.B}[d.Examples[1].Label == PairA]; got != "great" {
		t.Errorf("line 3 preferred %q, want great", got)
	}
}

func TestLoadPairsParquet(t *testing.T) {
	type row struct {
		Context   string `parquet:"context"`
		A         string `parquet:"a"`
		B         string `parquet:"b"`
		Preferred string `parquet:"preferred"`
	}
	p := filepath.Join(t.TempDir(), "p.parquet")
	if err := parquet.WriteFile(p, []row{{"c", "yes", "no", "a"}, {"c", "up", "down", "b"}}); err != nil {
		t.Fatal(err)
	}
	d, err := LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Examples) != 2 || !d.IsPairwise() {
		t.Fatalf("got %d examples", len(d.Examples))
	}
	bad := filepath.Join(t.TempDir(), "bad.parquet")
	if err := parquet.WriteFile(bad, []row{{"c", "yes", "no", "a"}, {"c", "same", "same", "b"}}); err != nil {
		t.Fatal(err)
	}
	var ie *InputError
	if _, err := LoadFile(bad); !errors.As(err, &ie) || ie.Line != 2 || !strings.Contains(ie.Reason, "identical sides") {
		t.Errorf("got %v, want row 2 identical sides", err)
	}
}

func TestLoadPairsErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file, content string
		line                int
		reason              string
	}{
		{"hh missing rejected", "a.jsonl", `{"chosen":"\n\nHuman: q\n\nAssistant: a","rejected":"\n\nHuman: q\n\nAssistant: b"}` + "\n" + `{"chosen":"\n\nHuman: q\n\nAssistant: a"}`, 2, `missing side: "rejected"`},
		{"hh identical", "a.jsonl", `{"chosen":"\n\nHuman: q\n\nAssistant: a","rejected":"\n\nHuman: q\n\nAssistant: a"}`, 1, "identical sides"},
		{"hh other conversation", "a.jsonl", `{"chosen":"\n\nHuman: q\n\nAssistant: a","rejected":"\n\nHuman: r\n\nAssistant: b"}`, 1, "different conversations"},
		{"uf no assistant", "a.jsonl", `{"prompt":"p","chosen":[{"role":"user","content":"p"}],"rejected":[{"role":"user","content":"p"},{"role":"assistant","content":"x"}]}`, 1, `missing side: "chosen"`},
		{"plain unknown preference", "a.csv", "a,b,preferred\nx,y,a\nx,z,c\n", 3, `unknown preference value c`},
		{"plain missing preference", "a.jsonl", `{"a":"x","b":"y"}`, 1, `missing column "preferred"`},
		{"plain identical", "a.csv", "a,b,preferred\nx,x,a\n", 2, "identical sides"},
		{"plain missing side", "a.csv", "a,b,preferred\nx,,a\n", 2, `missing side: "b"`},
		{"plain bad strength", "a.jsonl", `{"a":"x","b":"y","preferred":"a","strength":0.2}`, 1, "not a probability"},
		{"one pair", "a.csv", "a,b,preferred\nx,y,a\n", 2, "one pair"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := write(t, tc.file, tc.content)
			_, err := LoadFile(path)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("got %v, want an *InputError", err)
			}
			if ie.Line != tc.line || !strings.Contains(ie.Reason, tc.reason) || !strings.HasPrefix(err.Error(), path+":") {
				t.Errorf("got %q (line %d), want line %d with %q", err, ie.Line, tc.line, tc.reason)
			}
		})
	}
}

// The position coin: over many pairs the preferred side is on A about half
// the time, and swapping a pair's sides flips its label's meaning.
func TestPairPositionBalanced(t *testing.T) {
	var b strings.Builder
	b.WriteString("a,b,preferred\n")
	for i := 0; i < 400; i++ {
		b.WriteString("good " + strings.Repeat("x", i%7+1) + ",bad " + strings.Repeat("y", i%5+1) + ",a\n")
	}
	d, err := LoadFile(write(t, "p.csv", b.String()))
	if err != nil {
		t.Fatal(err)
	}
	c := d.ClassCounts()
	if c[PairA] < 160 || c[PairA] > 240 {
		t.Errorf("A preferred in %d of 400 pairs: the position coin is off", c[PairA])
	}
	for _, e := range d.Examples {
		pref := e.Pair.B
		if e.Label == PairA {
			pref = e.Pair.A
		}
		if !strings.HasPrefix(pref, "good") {
			t.Fatalf("preferred %q is not the file's preferred side", pref)
		}
	}
}

// The built-in preference task on the real package: 1500 pairs, both sides
// from one site, the positive sentence preferred, positions near even.
func TestReviewPairsBuiltin(t *testing.T) {
	d, err := LoadBuiltin(t.Context(), "review-pairs", nil)
	if err != nil {
		t.Skipf("sentiment package not available: %v", err)
	}
	if len(d.Examples) != 1500 || !d.IsPairwise() {
		t.Fatalf("%d examples, pairwise %v", len(d.Examples), d.IsPairwise())
	}
	c := d.ClassCounts()
	if c[PairA] < 690 || c[PairA] > 810 {
		t.Errorf("A preferred in %d of 1500", c[PairA])
	}
	if d.ContentHash() == "" || d.Examples[0].Pair.A == d.Examples[0].Pair.B {
		t.Error("bad pair")
	}
}
